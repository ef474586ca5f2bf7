"""The fault table's rows for `test_faults.py`: the rows `scripts/faults` prints, from the same runner.

`tests/faults/runner.py` is the command behind `scripts/faults` as well as the tests' harness, so it
stays beside them; the tests reach it through this conftest only.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.runner import NAMES, Options, Row, run_table

__all__ = ["Row"]  # for the tests' annotations


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes `scenario` runs once per row of the table, named by it (`-k sigterm` runs one)."""
    if "scenario" in metafunc.fixturenames:
        metafunc.parametrize("scenario", NAMES)


@pytest.fixture(scope="session")
def fault_rows(request: pytest.FixtureRequest) -> dict[str, Row]:
    """The selected rows, run once per session: a deployment serves several rows."""
    selected = tuple(
        item.callspec.params["scenario"]
        for item in request.session.items
        if "fault_rows" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")
    )
    options = Options(
        outage_seconds=float(os.environ.get("FAULTS_OUTAGE_SECONDS", "5")),
        wait_seconds=float(os.environ.get("FAULTS_WAIT_SECONDS", "30")),
    )
    # A thread of its own: the rows need an event loop of their own, whatever pytest-asyncio runs.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_table(selected, options)).result()


@pytest.fixture
def fault_row(scenario: str, fault_rows: dict[str, Row]) -> Row:
    return fault_rows[scenario]
