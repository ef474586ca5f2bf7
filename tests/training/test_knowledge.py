"""The shipped knowledge base parses into passages the eval set and training data can rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from sarah_model.knowledge import load_knowledge_base

AREAS = {
    "Hub",
    "Thermostat",
    "Locks",
    "Cameras",
    "Lights",
    "Motion Sensors",
    "App",
    "Plans and Billing",
    "Warranty and Returns",
    "Privacy",
    "Accounts and Security",
    "Zen Jargon",
    "About ZenNest",
}


def test_shipped_file_covers_every_area_with_unique_non_empty_passages() -> None:
    passages = load_knowledge_base()
    assert {p.area for p in passages} == AREAS
    assert all(p.text and p.title for p in passages)
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids))
    assert "thermostat/error-codes" in ids


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    kb = tmp_path / "kb.md"
    kb.write_text("# Hub\n\n## Setup\none\n\n## Setup\ntwo\n", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        load_knowledge_base(kb)
