"""The packages import one way: config ← handlers ← sarah_model ← bot / training ← sarah_cli.

The test doubles (sarah_testing) stand alone; the benchmark may use everything but the tests.

A newcomer can then read the code from the bottom up, and the bot never drags in the training pipeline
(or the other way round). Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]

MAY_IMPORT: dict[str, frozenset[str]] = {
    "config": frozenset(),
    "handlers": frozenset({"config"}),
    "sarah_model": frozenset({"handlers", "config"}),
    "bot": frozenset({"sarah_model", "handlers", "config"}),
    "training": frozenset({"sarah_model", "handlers", "config"}),
    "sarah_cli": frozenset({"bot", "training", "sarah_model", "handlers", "config"}),
    "sarah_testing": frozenset(),
    "bench": frozenset({"sarah_testing", "bot", "training", "sarah_model", "handlers", "config"}),
    "tests": frozenset({"bench", "sarah_testing", "sarah_cli", "bot", "training", "sarah_model", "handlers", "config"}),
}


def imported_packages(source: str) -> set[str]:
    """The top-level names a module imports (absolute imports only: the project uses no relative ones)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def back_imports(root: Path) -> list[str]:
    """One line per import that breaks the one-way rule, as `file imports package`."""
    broken = []
    for layer, allowed in MAY_IMPORT.items():
        for path in sorted((root / layer).rglob("*.py")):
            others = imported_packages(path.read_text(encoding="utf-8")) & MAY_IMPORT.keys()
            for package in sorted(others - allowed - {layer}):
                broken.append(f"{path.relative_to(root)} imports {package}")
    return broken


def test_every_package_imports_only_the_layers_below_it() -> None:
    assert back_imports(ROOT) == []


def test_a_back_import_added_anywhere_is_named(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "pipeline.py").write_text("def f():\n    from bot.runtime import Sarah\n")
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "doctor.py").write_text("import training.cli\nfrom handlers import pipeline\n")
    assert back_imports(tmp_path) == ["handlers/pipeline.py imports bot", "bot/doctor.py imports training"]
