"""The benchmark's own counting: an edited placeholder is one answer, a second message is a double,
and MONITOR's lines are split into clients' round trips and commands run inside Lua."""

from __future__ import annotations

import pytest

from bench.compare import Ledger, count_monitor


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
            {"client": 5, "lua": 2, "stream_read": 1, "transactions": 1, "round_trips": 3},
        ),
    ],
)
def test_monitor_lines_split_into_round_trips_and_lua(lines: list[str], expected: dict[str, int]) -> None:
    assert count_monitor(lines) == expected
