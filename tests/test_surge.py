"""激增 statistics (dashboard/surge.py): the Poisson tail against a direct sum, the usual count of
a window, and the levels a count reaches."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import surge


def _direct_tail(k: int, mean: float) -> float:
    return sum(math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1)) for i in range(k, k + 200))


@given(st.integers(min_value=0, max_value=60), st.floats(min_value=0.001, max_value=40))
def test_the_tail_equals_the_direct_sum(k, mean):
    assert surge.poisson_tail(k, mean) == pytest.approx(_direct_tail(k, mean), rel=1e-6, abs=1e-300)


def test_tails_at_the_edges():
    assert surge.poisson_tail(0, 3.0) == 1.0
    assert surge.poisson_tail(1, 0.0) == 0.0
    assert surge.poisson_tail(1, 0.1) == pytest.approx(1 - math.exp(-0.1))
    # 8 reports in an hour where 0.05 is usual: about 2e-15, not rounded to 0
    assert 0 < surge.poisson_tail(8, 0.05) < 1e-13


def test_the_usual_count_of_a_window():
    # the same hour in four past weeks: 2, 3, 1, 2 → 2 per window
    assert surge.usual([2, 3, 1, 2], weeks_total=40, hours_in_weeks=672, floor=0.05) == 2.0
    # never at this hour, but 168 over four weeks elsewhere in the day: 0.25 per hour
    assert surge.usual([0, 0, 0, 0], weeks_total=168, hours_in_weeks=672, floor=0.05) == 0.25
    assert surge.usual([0, 0, 0, 0], weeks_total=0, hours_in_weeks=672, floor=0.05) == 0.05
    assert surge.usual([], weeks_total=0, hours_in_weeks=0, floor=0.1) == 0.1


LEVELS = [
    surge.Level(4, min_count=3, max_tail=1e-3),
    surge.Level(3, min_count=4, max_tail=1e-4),
    surge.Level(2, min_count=6, max_tail=1e-6),
    surge.Level(1, min_count=10, max_tail=1e-9),
]


@pytest.mark.parametrize(
    ("count", "expected", "level"),
    [
        (1, 0.05, None),  # one report where none is usual: not a surge
        (2, 0.05, None),  # below every minimum count
        (3, 0.05, 4),  # 3 where 0.05 is usual: tail 2e-5 → 蓝 (黄 needs 4)
        (4, 0.05, 3),
        (6, 0.05, 2),
        (12, 0.05, 1),
        (12, 8.0, None),  # a busy hour at a busy place: usual
        (30, 8.0, 2),
    ],
)
def test_levels(count, expected, level):
    got, tail = surge.level_of(count, expected, LEVELS)
    assert got == level
    assert 0 <= tail <= 1
