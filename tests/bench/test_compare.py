"""The benchmark's own counting: an edited placeholder is one answer, a second message is a double,
Redis round trips are the server's read events less stream reads and the benchmark's own requests,
and MONITOR's lines are split into clients' requests and commands run inside Lua."""

from __future__ import annotations

import pytest

from bench.compare import Ledger
from bench.redis_counts import READS, count_monitor, round_trips, set_up_round_trips


async def test_an_edited_placeholder_is_one_answer_and_a_second_message_a_double() -> None:
    ledger = Ledger()
    first, second = ledger.add("m000001", 0), ledger.add("m000002", 1)
    ledger.answer(("D1", "1.1"), "Sarah is typing…")
    ledger.answer(("D1", "1.1"), "Pair the hub first. [bench m000001]")
    ledger.answer(("D1", "1.1"), "Pair the hub first, then the thermostat. [bench m000001]")  # a redraft
    assert len(first.answers) == 1 and first.answered is not None and first.answered.done()
    ledger.answer(("D2", "2.1"), "AA batteries. [bench m000002]")
    ledger.answer(("D2", "2.2"), "AA batteries, again. [bench m000002]")
    assert len(second.answers) == 2  # two Slack messages answer it: reported as doubled
    ledger.answer(("D3", "3.1"), "[bench m999999]")
    assert ledger.stray == 1


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [
                '1.1 [0 127.0.0.1:5000] "EVALSHA" "abc" "1" "k"',
                '1.2 [0 lua] "SET" "k" "1"',
                '1.3 [0 lua] "EXPIRE" "k" "60"',
                '1.4 [0 127.0.0.1:5001] "MULTI"',
                '1.5 [0 127.0.0.1:5000] "GET" "x"',
                '1.6 [0 127.0.0.1:5001] "RPUSH" "t" "a"',
                '1.7 [0 127.0.0.1:5001] "EXEC"',
                '1.8 [0 127.0.0.1:5002] "XREADGROUP" "GROUP" "g" "c"',
                '1.9 [0 127.0.0.1:5002] "PING"',
                "OK",
            ],
            {"client": 5, "lua": 2, "stream_read": 1, "transactions": 1, "requests": 3},
        ),
    ],
)
def test_monitor_lines_split_into_requests_and_lua(lines: list[str], expected: dict[str, int]) -> None:
    assert count_monitor(lines) == expected


def test_round_trips_are_read_events_less_stream_reads_and_the_benchmarks_own() -> None:
    # two snapshots summed over the nodes: 40 read events in between, 6 of them blocking XREADGROUPs,
    # 3 the benchmark's own (its closing INFO on one node, MONITOR's command and its exit); a pipeline
    # of 20 SETs and a MULTI/EXEC of 12 commands made many calls but few reads
    before = {READS: 1000.0, "xreadgroup": 50.0, "set": 10.0, "info": 4.0}
    after = {READS: 1040.0, "xreadgroup": 56.0, "set": 42.0, "multi": 1.0, "exec": 1.0, "info": 5.0}
    assert round_trips(before, after, own_reads=3) == 31.0


def test_new_connections_set_up_is_told_apart() -> None:
    before = {READS: 10.0, "hello": 1.0, "client|setinfo": 2.0, "get": 5.0}
    after = {READS: 30.0, "hello": 3.0, "client|setinfo": 6.0, "select": 2.0, "get": 9.0}
    assert set_up_round_trips(before, after) == 8.0  # 2 HELLO, 4 CLIENT SETINFO, 2 SELECT; GET is no set-up
