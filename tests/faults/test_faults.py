"""The fault table as tests: one test per row of `tests/faults/runner.py`, each asserting 0 lost,
0 doubled, order kept per thread, no "typing…" left behind, every process healthy at the end (the
harness restarts one that exited non-zero, as a supervisor would), plus the row's own promise.

The rows run once per session, in real processes (`python -m bot.cli.main`) against redis-servers the
harness starts on free ports (never the shared Redis). Only the selected rows run (`-k sigterm` runs
one). The Redis outage lasts FAULTS_OUTAGE_SECONDS (5 here to keep CI short; `scripts/faults` uses 30).
The rows and their runner come from `conftest.py`.
"""

from __future__ import annotations

import pytest

from tests.faults.conftest import Row


@pytest.mark.timeout(900)
def test_fault_row(fault_row: Row) -> None:
    assert fault_row.failures() == [], f"{fault_row.scenario}: " + "; ".join(fault_row.failures())
