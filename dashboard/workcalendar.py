"""The working clock of time limits (时限, DESIGN §5): China's public holidays and adjusted
working days (调休), and the working hours of a working day.

A limit is counted in one of three units:
- 自然时 `hours`: calendar hours, nights and holidays included;
- 工作时 `work_hours`: only the working hours of working days count;
- 工作日 `work_days`: N (whole) working days after the start's day, to the end of that day's
  working hours (the day the case starts on is not counted, whatever the hour).

Which days are working days comes from the `chinese_calendar` package (it knows each year once
the State Council has published it), overridden by a local file for what it does not know yet
(calendar.toml: `holidays = [dates]`, `workdays = [dates]`). A year known to neither counts
Monday to Friday, and says so once in the log.
"""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import chinese_calendar

log = logging.getLogger(__name__)

UNITS = {"hours": ("自然时", "calendar hours"), "work_hours": ("工作时", "working hours"),
         "work_days": ("工作日", "working days")}  # fmt: skip
DEFAULT_HOURS = "09:00-12:00,13:30-17:30"
LOCAL_FILE = Path(__file__).with_name("calendar.toml")


def parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    """'09:00-12:00,13:30-17:30' → the working periods of a day, in order, not overlapping."""
    periods = []
    for part in text.split(","):
        try:
            a, b = (time.fromisoformat(x.strip()) for x in part.split("-"))
        except ValueError:
            raise ValueError(f"working hours must read like {DEFAULT_HOURS!r}: {text!r}") from None
        if not a < b or (periods and a < periods[-1][1]):
            raise ValueError(f"working hours must be ordered and not overlap: {text!r}")
        periods.append((a, b))
    if not periods:
        raise ValueError("no working hours")
    return tuple(periods)


def read_local_file(path: Path) -> tuple[set[date], set[date]]:
    """(holidays, working days) from a calendar file; none when it does not exist."""
    if not path.exists():
        return set(), set()
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return (
        {date.fromisoformat(str(d)) for d in raw.get("holidays", [])},
        {date.fromisoformat(str(d)) for d in raw.get("workdays", [])},
    )


@dataclass(frozen=True)
class WorkCalendar:
    periods: tuple[tuple[time, time], ...] = field(
        default_factory=lambda: parse_hours(DEFAULT_HOURS)
    )
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @classmethod
    def load(cls, hours: str = DEFAULT_HOURS, path: Path = LOCAL_FILE) -> WorkCalendar:
        holidays, workdays = read_local_file(path)
        return cls(parse_hours(hours), frozenset(holidays), frozenset(workdays))

    # --- days -----------------------------------------------------------------------------
    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            _unknown_year(day.year)
            return day.weekday() < 5

    def workdays_from(self, day: date) -> Iterable[date]:
        """The working days from `day` on (itself included when it is one)."""
        while True:
            if self.is_workday(day):
                yield day
            day += timedelta(days=1)

    # --- deadlines ------------------------------------------------------------------------
    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        """The moment `amount` of `unit` after `start` (naive local time)."""
        if amount < 0:
            raise ValueError("a time limit cannot be negative")
        if unit == "hours":
            return start + timedelta(hours=amount)
        if unit == "work_hours":
            return self._add_work_hours(start, timedelta(hours=amount))
        if unit == "work_days":
            if amount != int(amount):
                raise ValueError("a limit in working days is a whole number of days")
            return self._add_work_days(start, int(amount))
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")

    def _add_work_hours(self, start: datetime, left: timedelta) -> datetime:
        for day in self.workdays_from(start.date()):
            for a, b in self.periods:
                lo = max(datetime.combine(day, a), start)
                hi = datetime.combine(day, b)
                if lo >= hi:
                    continue
                if lo + left <= hi:
                    # Exactly at a period's end counts as its end, not the next period's start.
                    return lo + left
                left -= hi - lo
        raise AssertionError("unreachable: working days never run out")

    def _add_work_days(self, start: datetime, days: int) -> datetime:
        day = start.date()
        if days:
            after = self.workdays_from(start.date() + timedelta(days=1))
            for _ in range(days):
                day = next(after)
        return datetime.combine(day, self.periods[-1][1])


@functools.cache
def _unknown_year(year: int) -> None:
    log.warning(
        "the public holidays of %s are not known (chinese_calendar %s, %s): Monday to Friday "
        "count as working days until they are added to the calendar file",
        year,
        getattr(chinese_calendar, "__version__", "?"),
        LOCAL_FILE.name,
    )
