"""Retirement warnings: the bot's model (and an `ft:` model's base) near or past its shutdown date."""

from __future__ import annotations

from datetime import date

import pytest
from openai import APIConnectionError, AsyncOpenAI

from sarah_model.retirement import (
    GONE,
    check_model_retirement,
    published_notices,
    published_shutdown,
    retirement_notice,
)
from sarah_testing.openai_finetune_server import API_KEY, FakeFineTuningServer
from training.finetune.availability import base_model_verdict, deadline_refusal

TODAY = date(2026, 11, 25)
FT_MODEL = "ft:gpt-4o-mini-2024-07-18:zennest::abc123"


def test_within_60_days_the_notice_names_the_date_and_the_way_out() -> None:
    notice = retirement_notice({"id": "gpt-4o-mini-2024-07-18", "shutdown_date": "2027-01-14"}, TODAY)
    assert notice is not None
    assert "2027-01-14" in notice and "in 50 days" in notice and "--backend local" in notice


def test_past_the_date_it_says_so_plainly() -> None:
    notice = retirement_notice({"id": "gpt-3.5-turbo-0125", "shutdown_date": "2026-09-28T00:00:00Z"}, TODAY)
    assert notice is not None and "was shut down on 2026-09-28 and no longer answers" in notice


def test_no_date_or_a_far_date_gives_no_notice() -> None:
    assert retirement_notice({"id": "m"}, TODAY) is None
    assert retirement_notice({"id": "m", "shutdown_date": None}, TODAY) is None
    assert retirement_notice({"id": "m", "shutdown_date": "2027-06-01"}, TODAY) is None


def test_a_unix_timestamp_is_read_as_a_date() -> None:
    notice = retirement_notice({"id": "m", "shutdown_date": 1_799_884_800}, TODAY)
    assert notice is not None and "2027-01-14" in notice


def test_openai_fine_tuning_closes_on_2027_01_06() -> None:
    assert deadline_refusal(date(2027, 1, 5)) is None
    refusal = deadline_refusal(date(2027, 1, 6))
    assert refusal is not None and "--backend azure" in refusal and "--backend local" in refusal


def test_base_model_verdict_refuses_past_and_warns_near() -> None:
    refusal, warning = base_model_verdict({"shutdown_date": "2026-11-25"}, "gpt-4o", TODAY)
    assert refusal is not None and "2026-11-25" in refusal and warning is None
    refusal, warning = base_model_verdict({"shutdown_date": "2027-01-14"}, "gpt-4o", TODAY)
    assert refusal is None and warning is not None and "2027-01-14" in warning


async def test_an_ft_model_is_warned_about_through_its_base() -> None:
    with FakeFineTuningServer() as server:
        server.add_model(FT_MODEL)
        server.add_model("gpt-4o-mini-2024-07-18", shutdown_date="2027-01-14")
        client = AsyncOpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0, timeout=5)
        try:
            notices = await check_model_retirement(client, FT_MODEL, TODAY)
        finally:
            await client.close()
    assert len(notices) == 1
    assert FT_MODEL in notices[0] and "gpt-4o-mini-2024-07-18" in notices[0] and "2027-01-14" in notices[0]


async def test_a_server_without_the_field_or_the_endpoint_gives_no_notice_beyond_the_published_dates() -> None:
    long_before = date(2026, 9, 1)  # more than 60 days before the published 2027-01-14
    with FakeFineTuningServer() as server:
        client = AsyncOpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0, timeout=5)
        try:
            assert await check_model_retirement(client, "gpt-4.1-mini-2025-04-14", long_before) == []
            assert await check_model_retirement(client, "sarah", TODAY) == []  # 404: a vLLM adapter name
        finally:
            await client.close()


async def test_a_server_that_cannot_be_reached_is_raised_for_the_caller_to_report() -> None:
    unreachable = AsyncOpenAI(api_key=API_KEY, base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2)
    try:
        with pytest.raises(APIConnectionError):  # Sarah warns at start, the doctor names OPENAI_BASE_URL
            await check_model_retirement(unreachable, FT_MODEL, TODAY)
        assert published_notices(FT_MODEL, date(2026, 9, 1)) == []  # what the dates alone say: nothing yet
        (notice,) = published_notices(FT_MODEL, TODAY)
        assert "gpt-4o-mini-2024-07-18" in notice and "2027-01-14, in 50 days" in notice
    finally:
        await unreachable.close()


@pytest.mark.parametrize(
    ("model", "published"),
    [
        ("gpt-4o-2024-08-06", date(2027, 1, 14)),
        ("gpt-4o-mini-2024-07-18", date(2027, 1, 14)),
        ("gpt-4.1-2025-04-14", date(2027, 1, 14)),
        ("gpt-4.1-mini-2025-04-14", date(2027, 1, 14)),
        ("gpt-4.1-nano-2025-04-14", GONE),
        ("gpt-3.5-turbo-0125", GONE),
        ("gpt-4o-mini-tts", None),  # another model of the family's name, not a tuned snapshot
        ("Qwen/Qwen2.5-0.5B-Instruct", None),
    ],
)
def test_the_published_dates_are_known_per_snapshot(model: str, published: date | str | None) -> None:
    assert published_shutdown(model) == published
