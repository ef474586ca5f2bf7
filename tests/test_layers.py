"""The packages import one way: config ← handlers ← sarah_model ← bot / training ← sarah_cli.

The test doubles (sarah_testing) stand alone; the benchmark may use everything but the tests. A test
module takes its helpers from sarah_testing or a conftest (its folder's or the top one), never from
another module under tests/: each test module can be read, moved or deleted on its own.

A newcomer can then read the code from the bottom up, and the bot never drags in the training pipeline
(or the other way round). Inside a package, no two modules import each other, even through others: each
can be read before the modules that use it. Every import counts, including those inside functions and
those for type checking only.
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


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(source: str, modules: set[str]) -> set[str]:
    """The modules of `modules` a module imports; `from a import b` imports the module a.b when there is one."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                for alias in node.names
            )
    return names & modules


def import_cycles(root: Path, packages: list[str]) -> list[list[str]]:
    """Each group of modules that import one another (directly or through others), sorted."""
    paths = {module_name(root, path): path for package in packages for path in sorted((root / package).rglob("*.py"))}
    imports = {
        name: project_imports(path.read_text(encoding="utf-8"), set(paths)) - {name} for name, path in paths.items()
    }

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for imported in imports[todo.pop()] - seen:
                seen.add(imported)
                todo.append(imported)
        return seen

    reach = {name: reachable(name) for name in imports}
    cycles = {
        tuple(sorted(other for other in reach[name] if name in reach[other])) for name in imports if name in reach[name]
    }
    return sorted(list(cycle) for cycle in cycles)


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


def test_no_modules_import_each_other() -> None:
    assert import_cycles(ROOT, [layer for layer in MAY_IMPORT if layer != "tests"]) == []


def test_a_cycle_through_a_function_or_type_checking_import_is_named(tmp_path: Path) -> None:
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "evaluate.py").write_text("def report():\n    from training import report\n")
    (tmp_path / "training" / "report.py").write_text(
        "import typing\nif typing.TYPE_CHECKING:\n    import training.sides\n"
    )
    (tmp_path / "training" / "sides.py").write_text("from training.evaluate import Side\n")
    (tmp_path / "training" / "cli.py").write_text("from training.evaluate import report\n")
    assert import_cycles(tmp_path, ["training"]) == [["training.evaluate", "training.report", "training.sides"]]


def helpers_imported_across_tests(root: Path) -> list[str]:
    """One line per import of a test module (tests/**/test_*.py) that reaches a module under tests/ other
    than its own folder's conftest or tests/conftest.py, as `file imports module`."""
    paths = {module_name(root, path): path for path in sorted((root / "tests").rglob("*.py"))}
    broken = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        own_conftest = module_name(root, path.with_name("conftest.py"))
        allowed = {"tests.conftest", own_conftest}
        for imported in sorted(project_imports(path.read_text(encoding="utf-8"), set(paths)) - allowed):
            broken.append(f"{path.relative_to(root)} imports {imported}")
    return broken


def test_test_modules_take_helpers_only_from_sarah_testing_or_a_conftest() -> None:
    assert helpers_imported_across_tests(ROOT) == []


def test_a_test_module_importing_another_or_a_helper_under_tests_is_named(tmp_path: Path) -> None:
    for folder in ("tests/bot", "tests/faults"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "conftest.py").write_text("")
    (tmp_path / "tests" / "faults" / "conftest.py").write_text("from tests.faults.runner import Row\n")
    (tmp_path / "tests" / "faults" / "runner.py").write_text("")
    (tmp_path / "tests" / "faults" / "test_ok.py").write_text(
        "from sarah_testing.fault_traffic import Ledger\nfrom tests.conftest import StartSarah\n"
        "from tests.faults.conftest import Row\n"
    )
    (tmp_path / "tests" / "faults" / "test_rows.py").write_text("from tests.faults import runner\n")
    (tmp_path / "tests" / "bot" / "test_door.py").write_text(
        "import tests.faults.test_ok\nfrom tests.faults.conftest import Row\n"
    )
    assert helpers_imported_across_tests(tmp_path) == [
        "tests/bot/test_door.py imports tests.faults.conftest",
        "tests/bot/test_door.py imports tests.faults.test_ok",
        "tests/faults/test_rows.py imports tests.faults.runner",
    ]


def test_the_bot_reaches_redis_keys_only_through_the_stores() -> None:
    """Every read and write of a key is in handlers/store/, beside the schema: the bot names no key."""
    naming = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if project_imports(path.read_text(encoding="utf-8"), {"handlers.store.keys"})
    ]
    assert naming == []


# Inside bot/, the floors: operations (metrics, health, alarms) serve Slack's side, and both serve the
# process that runs them; the command line sits on top. A floor imports only the floors below it.
BOT_FLOORS: dict[str, int] = {
    "bot.ops": 1,
    "bot.slack": 2,
    "bot.worker": 3,
    "bot.parts": 4,
    "bot.runtime": 5,
    "bot.cli": 6,
}


def bot_floor_breaks(root: Path) -> list[str]:
    """One line per import in bot/ that reaches a floor above (or beside) its own, as `file imports module`."""

    def floor(module: str) -> int | None:
        return next(
            (n for prefix, n in BOT_FLOORS.items() if module == prefix or module.startswith(prefix + ".")), None
        )

    paths = {module_name(root, path): path for path in sorted((root / "bot").rglob("*.py"))}
    broken = []
    for name, path in paths.items():
        own = floor(name)
        if own is None:
            continue
        for imported in sorted(project_imports(path.read_text(encoding="utf-8"), set(paths))):
            other = floor(imported)
            if other is not None and other > own:
                broken.append(f"{path.relative_to(root)} imports {imported}")
    return broken


def test_the_bots_floors_import_only_downwards() -> None:
    assert bot_floor_breaks(ROOT) == []


def test_an_operations_module_importing_slack_is_named(tmp_path: Path) -> None:
    (tmp_path / "bot" / "ops").mkdir(parents=True)
    (tmp_path / "bot" / "slack").mkdir()
    (tmp_path / "bot" / "slack" / "text.py").write_text("from bot.ops import metrics\n")
    (tmp_path / "bot" / "ops" / "metrics.py").write_text("")
    (tmp_path / "bot" / "ops" / "digest.py").write_text("from bot.slack.text import plain_mrkdwn\n")
    assert bot_floor_breaks(tmp_path) == ["bot/ops/digest.py imports bot.slack.text"]


def long_functions(root: Path, package: str, limit: int = 50) -> list[str]:
    """Functions of `package` longer than `limit` lines, as `file:function (lines)`."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root)}:{node.name} ({lines})")
    return found


def test_every_function_of_the_pipeline_and_its_stores_fits_on_a_screen() -> None:
    """handlers/ is where a message's fate is decided: each step stays short enough to read whole."""
    assert long_functions(ROOT, "handlers") == []


def test_a_long_function_is_named(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(50))
    (tmp_path / "handlers" / "pipeline.py").write_text(f"def short():\n    pass\n\n\ndef _answer():\n{body}")
    assert long_functions(tmp_path, "handlers") == ["handlers/pipeline.py:_answer (51)"]
