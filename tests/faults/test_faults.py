"""The fault table as tests: one test per row of `tests/faults/runner.py`, each asserting 0 lost,
0 doubled, order kept per thread, no "typing…" left behind, every process healthy at the end (the
harness restarts one that exited non-zero, as a supervisor would), plus the row's own promise.

The rows run once per session, in real processes (`python -m bot.cli`) against redis-servers the
harness starts on free ports (never the shared Redis). Only the selected rows run (`-k sigterm` runs
one). The Redis outage lasts FAULTS_OUTAGE_SECONDS (5 here to keep CI short; `scripts/faults` uses 30).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.runner import NAMES, Options, Row, run_table

KNOWN = {
    # Seen once in about eight runs (the whole suite, a loaded machine): a thread's later message answered before an
    # earlier one that Sarah had acknowledged first. Two workers read the two entries; the one holding
    # the earlier entry queues it into the thread only after the other has answered the later one (or
    # is killed between XREADGROUP and queuing it, and XAUTOCLAIM brings it back seconds later).
    # Nothing is lost or doubled; the fix belongs in bot/worker.py.
    "replicas": "a later message of a thread may be answered first across two workers (bot/worker.py)",
}


def _param(name: str) -> object:
    if name in KNOWN:
        return pytest.param(name, marks=pytest.mark.xfail(strict=False, reason=KNOWN[name]))
    return name


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
@pytest.mark.parametrize("scenario", [_param(name) for name in NAMES])
def test_fault_row(scenario: str, fault_rows: dict[str, Row]) -> None:
    row = fault_rows[scenario]
    assert row.failures() == [], f"{row.scenario}: " + "; ".join(row.failures())
