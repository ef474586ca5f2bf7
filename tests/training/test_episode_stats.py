"""Every rate carries a 95 % interval, pass^k is τ-bench's, and two rates are called different only
when the difference's interval leaves zero."""

from __future__ import annotations

import pytest

from training.episodes.stats import Estimate, difference, only_noise, pass_hat_k, pass_hat_k_over, wilson


def test_wilson_intervals_match_the_published_values() -> None:
    # Newcombe (1998), table I: 81/263 → 0.2553–0.3662; 0/10 → 0–0.2775; 10/10 → 0.7225–1
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=5e-4)


def test_pass_hat_k_is_the_chance_that_k_tries_all_pass() -> None:
    assert pass_hat_k(4, 4, 3) == 1.0
    assert pass_hat_k(2, 4, 2) == pytest.approx(1 / 6)  # C(2,2)/C(4,2)
    assert pass_hat_k(3, 4, 4) == 0.0  # one failure in four tries: never four in a row
    with pytest.raises(ValueError, match="k must be between 1"):
        pass_hat_k(1, 2, 3)


def test_a_model_that_passes_by_luck_falls_with_k() -> None:
    lucky = [(2, 4)] * 10  # every task passes half its tries
    steady = [(4, 4)] * 5 + [(0, 4)] * 5  # half the tasks always pass, half never
    assert pass_hat_k_over(lucky, 1).value == pass_hat_k_over(steady, 1).value == 0.5
    assert pass_hat_k_over(lucky, 4).value == 0.0
    assert pass_hat_k_over(steady, 4).value == 0.5


def test_a_small_difference_on_few_tasks_is_called_noise() -> None:
    a, b = Estimate.of(30, 60), Estimate.of(34, 60)
    assert only_noise(a, b)
    worse = Estimate.of(12, 60)
    assert not only_noise(a, worse)
    d, low, high = difference(a, worse)
    assert d == pytest.approx(-0.3) and high < 0 < 0.5 + low


def test_an_estimate_reads_as_a_percentage_with_its_interval() -> None:
    assert str(Estimate.of(81, 263)) == "31% [26%–37%]"
    assert str(Estimate.of(0, 0)) == "n/a"
