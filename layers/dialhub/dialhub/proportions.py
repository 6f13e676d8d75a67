"""Rates with their uncertainty, and whether a challenger vendor's rate differs from the champion's.

A team compares vendors on rates (connected, right party, promise to pay): a rate from 40 calls says little,
one from 4,000 a lot. Each rate carries a 95% Wilson interval (sound near 0 and 1, where collection rates
live, unlike the textbook normal interval), and two rates are compared with the two-proportion z-test,
refused when the samples are too small for its normal approximation to hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval
ALPHA = 0.05
# The z-test's normal approximation needs enough of both outcomes in each sample: at least this many
# expected successes and failures per vendor under the pooled rate (the usual rule of thumb), and this many
# calls per vendor in any case.
MIN_EXPECTED = 5
MIN_TRIALS = 30


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.trials:
            raise ValueError(f"a rate needs 0 <= successes <= trials, got {self.successes} of {self.trials}")

    @property
    def value(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson score interval; None without a single trial."""
        if not self.trials:
            return None
        n, p, z2 = self.trials, self.successes / self.trials, Z_95 * Z_95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)


class Verdict(StrEnum):
    BETTER = "challenger better"
    WORSE = "challenger worse"
    UNDISTINGUISHABLE = "not yet distinguishable"
    TOO_SMALL = "too few calls to tell"


@dataclass(frozen=True)
class Comparison:
    p_value: float | None  # two-sided; None when the samples are too small to test
    verdict: Verdict


def two_sided_p(champion: Rate, challenger: Rate) -> float:
    """The pooled two-proportion z-test's two-sided p-value (the same as a 2x2 chi-square without
    continuity correction)."""
    pooled = (champion.successes + challenger.successes) / (champion.trials + challenger.trials)
    spread = pooled * (1 - pooled) * (1 / champion.trials + 1 / challenger.trials)
    if spread == 0:  # both all successes or all failures: no difference to see
        return 1.0
    z = (challenger.successes / challenger.trials - champion.successes / champion.trials) / math.sqrt(spread)
    return math.erfc(abs(z) / math.sqrt(2))


def too_small(champion: Rate, challenger: Rate) -> bool:
    trials = champion.trials + challenger.trials
    if min(champion.trials, challenger.trials) < MIN_TRIALS:
        return True
    pooled = (champion.successes + challenger.successes) / trials
    expected = [n * share for n in (champion.trials, challenger.trials) for share in (pooled, 1 - pooled)]
    return min(expected) < MIN_EXPECTED


def compare(champion: Rate, challenger: Rate, higher_is_better: bool = True) -> Comparison:
    """Whether the challenger's rate differs from the champion's at the 5% level, and which way is better
    (a higher opt-out or complaint rate is worse)."""
    if too_small(champion, challenger):
        return Comparison(None, Verdict.TOO_SMALL)
    p_value = two_sided_p(champion, challenger)
    if p_value >= ALPHA:
        return Comparison(p_value, Verdict.UNDISTINGUISHABLE)
    higher = challenger.successes / challenger.trials > champion.successes / champion.trials
    return Comparison(p_value, Verdict.BETTER if higher == higher_is_better else Verdict.WORSE)
