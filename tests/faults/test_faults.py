"""The fault table as tests: one test per row of `tests/faults/runner.py`, each asserting 0 lost,
0 doubled, order kept per thread, no "typing…" left behind, every process healthy at the end (the
harness restarts one that exited non-zero, as a supervisor would), plus the row's own promise.

The rows run once per session, in real processes (`python -m bot.cli.main`) against redis-servers the
harness starts on free ports (never the shared Redis). Only the selected rows run (`-k sigterm` runs
one). The Redis outage lasts FAULTS_OUTAGE_SECONDS (5 here to keep CI short; `scripts/faults` uses 30).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.runner import NAMES, Options, Row, run_table


@pytest.fixture(scope="session")
def fault_rows(request: pytest.FixtureRequest) -> dict[str, Row]:
    selected = tuple(
        item.callspec.params["scenario"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_fault_row" and hasattr(item, "callspec")
    )
    options = Options(
        outage_seconds=float(os.environ.get("FAULTS_OUTAGE_SECONDS", "5")),
        wait_seconds=float(os.environ.get("FAULTS_WAIT_SECONDS", "30")),
    )
    # A thread of its own: the rows need an event loop of their own, whatever pytest-asyncio runs.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_table(selected, options)).result()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", NAMES)
def test_fault_row(scenario: str, fault_rows: dict[str, Row]) -> None:
    row = fault_rows[scenario]
    assert row.failures() == [], f"{row.scenario}: " + "; ".join(row.failures())
