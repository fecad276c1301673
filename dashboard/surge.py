"""激增 (surge) statistics (DESIGN §6): is a count of similar events in one place over the last
window more than its usual for that hour of the week?

The usual is the mean of the same window at the same time of week over the last four weeks
(rush hours and Monday mornings are usual at their own hour), never below the place's average
rate over those four weeks nor a floor (a place that never reports has some small chance to).
How unusual a count is: the Poisson tail P(X ≥ count | usual). A level is reached when the tail
is below its threshold and the count is at least its minimum — a handful of reports where one
is usual is a surge, one report where none is usual is not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def poisson_tail(count: int, mean: float) -> float:
    """P(X ≥ count) for X ~ Poisson(mean); exact for the small counts of one place and hour."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = math.exp(-mean)  # P(X = 0)
    below = term
    for i in range(1, count):
        term *= mean / i
        below += term
    return max(0.0, 1.0 - below) if below < 0.999999 else _upper_sum(count, mean)


def _upper_sum(count: int, mean: float) -> float:
    """The tail summed from `count` upwards (when 1 − the head would lose every digit)."""
    log_term = -mean + count * math.log(mean) - math.lgamma(count + 1)
    term, total, i = math.exp(log_term), 0.0, count
    while term > total * 1e-15 and i < count + 1000:
        total += term
        i += 1
        term *= mean / i
    return total


def usual(
    same_hours: Sequence[int], weeks_total: int, hours_in_weeks: float, floor: float
) -> float:
    """The expected count of one window: the mean of the same window over past weeks, at least
    the place's average per window over those weeks, at least `floor`."""
    mean_same = sum(same_hours) / len(same_hours) if same_hours else 0.0
    average = weeks_total / hours_in_weeks if hours_in_weeks > 0 else 0.0
    return max(mean_same, average, floor)


@dataclass(frozen=True)
class Level:
    """One alert level of a surge rule: 1 红, 2 橙, 3 黄, 4 蓝 (as Alert.level)."""

    level: int
    min_count: int
    max_tail: float


def level_of(count: int, expected: float, levels: Sequence[Level]) -> tuple[int | None, float]:
    """The most severe level the count reaches (None: none) and its tail probability."""
    tail = poisson_tail(count, expected)
    reached = [lv.level for lv in levels if count >= lv.min_count and tail <= lv.max_tail]
    return (min(reached) if reached else None), tail
