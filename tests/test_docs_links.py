"""A reader who follows a link in the README or under docs/ lands on a file (and heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _headings(page: Path) -> set[str]:
    """GitHub's anchors: lower case, punctuation but hyphens and underscores dropped, spaces to hyphens."""
    text = _CODE_BLOCK.sub("", page.read_text(encoding="utf-8"))
    titles = (line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#"))
    return {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}


def _broken_links(page: Path, root: Path = ROOT) -> list[str]:
    text = _CODE_SPAN.sub("", _CODE_BLOCK.sub("", page.read_text(encoding="utf-8")))
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page.resolve()
        name = page.relative_to(root).as_posix()
        if not file.is_relative_to(root.resolve()) or not file.exists():
            broken.append(f"{name}: {target} (no such file in the repository)")
        elif anchor and file.suffix == ".md" and anchor not in _headings(file):
            broken.append(f"{name}: {target} (no such heading)")
    return broken


def test_every_link_in_the_readme_and_docs_opens_a_file_of_the_repository() -> None:
    assert [page for page in PAGES if page.name != "README.md"], "docs/ has no pages"
    assert [broken for page in PAGES for broken in _broken_links(page)] == []


def test_a_link_to_a_missing_file_a_missing_heading_or_outside_the_repository_is_reported(tmp_path: Path) -> None:
    (tmp_path / "outside.md").write_text("# Outside\n", encoding="utf-8")
    (tmp_path / "repo").mkdir()
    page = tmp_path / "repo" / "guide.md"
    page.write_text(
        "# Guide\n\n[gone](nowhere.md) [here](#guide) [bad](#no-such-heading) [out](../outside.md)\n"
        "`[code](not-a-link.md)` [web](https://example.com)\n",
        encoding="utf-8",
    )
    assert _broken_links(page, tmp_path / "repo") == [
        "guide.md: nowhere.md (no such file in the repository)",
        "guide.md: #no-such-heading (no such heading)",
        "guide.md: ../outside.md (no such file in the repository)",
    ]


# `path/file.py` `Name.function` (or `function`) as the architecture's walk writes each step
_STEP = re.compile(r"`([\w/]+\.py)` `([\w.]+)`")


def stale_steps(page: Path, root: Path = ROOT) -> list[str]:
    """The walk's `file` `function` pairs whose file no longer defines that function (or class)."""
    stale = []
    for path, dotted in _STEP.findall(page.read_text(encoding="utf-8")):
        file = root / path
        names = (
            set(re.findall(r"^\s*(?:async def|def|class) (\w+)", file.read_text(encoding="utf-8"), re.M))
            if file.is_file()
            else set()
        )
        missing = [part for part in dotted.split(".") if part not in names]
        if missing:
            stale.append(f"{path} {dotted}")
    return stale


def test_the_walk_of_one_message_names_functions_that_exist() -> None:
    """docs/architecture.md follows a message file by file: a renamed function makes it lie."""
    assert stale_steps(ROOT / "docs" / "architecture.md") == []


def test_a_renamed_step_is_named(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "worker.py").write_text("class Worker:\n    async def _drain(self): ...\n")
    page = tmp_path / "walk.md"
    page.write_text("| 9 | `bot/worker.py` `Worker._drain` | … |\n| 10 | `bot/worker.py` `Worker._answer` | … |\n")
    assert stale_steps(page, tmp_path) == ["bot/worker.py Worker._answer"]
