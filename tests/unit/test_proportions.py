"""Rates and the champion/challenger test against published values, and the rule that refuses a verdict on
samples too small to mean anything."""

from __future__ import annotations

import pytest

from dialhub.proportions import MIN_TRIALS, Rate, Verdict, compare, too_small, two_sided_p


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (50, 100, 0.4038, 0.5962),  # the textbook example of a Wilson interval
        (0, 10, 0.0, 0.2775),  # no success: the upper bound is z^2 / (n + z^2)
        (10, 10, 0.7225, 1.0),
        (1, 10, 0.0179, 0.4042),
    ],
)
def test_the_wilson_interval_matches_published_values(successes: int, trials: int, low: float, high: float) -> None:
    interval = Rate(successes, trials).interval
    assert interval is not None
    assert interval == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_a_rate_without_trials_has_no_value_and_no_interval_and_an_impossible_one_is_refused() -> None:
    assert (Rate(0, 0).value, Rate(0, 0).interval) == (None, None)
    assert Rate(3, 4).value == 0.75
    with pytest.raises(ValueError, match="successes <= trials"):
        Rate(5, 4)
    with pytest.raises(ValueError, match="successes <= trials"):
        Rate(-1, 4)


@pytest.mark.parametrize(
    ("champion", "challenger", "p_value"),
    [
        # chi-square without continuity correction on the 2x2 table: X^2 = 4.8 and 5.333, one degree of freedom
        (Rate(30, 100), Rate(45, 100), 0.028459),
        (Rate(40, 200), Rate(60, 200), 0.020921),
        (Rate(30, 100), Rate(30, 100), 1.0),
        (Rate(100, 100), Rate(50, 50), 1.0),  # both perfect: nothing to tell apart
    ],
)
def test_the_two_proportion_test_matches_the_chi_square_table(champion: Rate, challenger: Rate, p_value: float) -> None:
    assert two_sided_p(champion, challenger) == pytest.approx(p_value, abs=5e-6)
    assert two_sided_p(challenger, champion) == pytest.approx(p_value, abs=5e-6)  # two-sided: symmetric


def test_verdicts_say_which_way_is_better() -> None:
    better = compare(Rate(300, 1000), Rate(360, 1000))
    assert better.verdict is Verdict.BETTER and better.p_value is not None and better.p_value < 0.05
    assert compare(Rate(360, 1000), Rate(300, 1000)).verdict is Verdict.WORSE
    # a higher opt-out rate is worse, not better
    assert compare(Rate(20, 1000), Rate(45, 1000), higher_is_better=False).verdict is Verdict.WORSE
    assert compare(Rate(45, 1000), Rate(20, 1000), higher_is_better=False).verdict is Verdict.BETTER
    close = compare(Rate(300, 1000), Rate(310, 1000))
    assert close.verdict is Verdict.UNDISTINGUISHABLE and close.p_value is not None and close.p_value > 0.05


def test_no_verdict_on_samples_too_small_to_mean_anything() -> None:
    # 90% against 10% looks decisive, but from a handful of calls each it is not
    tiny = compare(Rate(9, MIN_TRIALS - 1), Rate(1, MIN_TRIALS - 1))
    assert tiny == type(tiny)(None, Verdict.TOO_SMALL)
    assert not too_small(Rate(15, MIN_TRIALS), Rate(15, MIN_TRIALS))
    # thousands of calls, but too few promises to pay expected for the normal approximation
    assert compare(Rate(1, 2000), Rate(6, 2000)).verdict is Verdict.TOO_SMALL
    assert not too_small(Rate(5, 2000), Rate(6, 2000))
