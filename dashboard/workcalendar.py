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
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np

from dashboard.clock import to_utc_naive

log = logging.getLogger(__name__)

UNITS = {"hours": ("自然时", "calendar hours"), "work_hours": ("工作时", "working hours"),
         "work_days": ("工作日", "working days")}  # fmt: skip
DEFAULT_HOURS = "09:00-12:00,13:30-17:30"
# The steps a case must take in time, the event each limit runs from by default, and the starts
# a limit may have (a step cannot run from an event that comes after it).
STEPS = {
    "accept": ("立案", "acceptance", "reported", ("reported",)),
    "dispatch": ("派遣", "dispatch", "accepted", ("reported", "accepted")),
    "handle": ("处置", "handling", "dispatched", ("reported", "accepted", "dispatched")),
    "close": ("结案", "closing", "accepted", ("reported", "accepted", "dispatched")),
}
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
class Limit:
    """One time limit: an amount of a unit, counted from a start event."""

    amount: float
    unit: str = "hours"
    start: str = "accepted"

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        if not (self.amount >= 0 and math.isfinite(self.amount)):
            raise ValueError("a time limit is a finite amount ≥ 0")
        if self.unit == "work_days" and self.amount != int(self.amount):
            raise ValueError("a limit in working days is a whole number of days")

    @classmethod
    def parse(cls, text: str, step: str) -> Limit:
        """'2 work_hours' → the limit of a step, from the step's usual start."""
        amount, _, unit = text.strip().partition(" ")
        try:
            value = float(amount)
        except ValueError:
            raise ValueError(f"a time limit reads like '2 work_hours': {text!r}") from None
        return cls(value, unit.strip(), STEPS[step][2])

    def hours(self) -> float | None:
        """The limit in calendar hours, when that is its unit."""
        return self.amount if self.unit == "hours" else None

    def describe(self, lang: str = "zh") -> str:
        zh, en = UNITS[self.unit]
        amount = f"{self.amount:g}"
        return f"{amount} {zh}" if lang == "zh" else f"{amount} {en}"


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
        out = self.add_many(np.array([start], dtype="datetime64[us]"), amount, unit)
        return out[0].astype(datetime)

    def add_many(self, starts: np.ndarray, amount: float | np.ndarray, unit: str) -> np.ndarray:
        """`add` for an array of starts (naive local datetime64), amounts one or one each."""
        amounts = np.broadcast_to(np.asarray(amount, dtype=float), starts.shape)
        if (amounts < 0).any():
            raise ValueError("a time limit cannot be negative")
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        starts = starts.astype("datetime64[us]")
        if unit == "hours":
            return starts + (amounts * 3.6e9).astype("timedelta64[us]")
        valid = ~np.isnat(starts)
        if not valid.all():  # no start, no deadline
            out = np.full(starts.shape, np.datetime64("NaT"), dtype="datetime64[us]")
            out[valid] = self.add_many(starts[valid], amounts[valid], unit)
            return out
        if not len(starts):
            return starts
        days = starts.astype("datetime64[D]")
        axis = self._axis(int(days.min().astype(object).year), int(days.max().astype(object).year))
        if unit == "work_days":
            if (amounts != np.round(amounts)).any():
                raise ValueError("a limit in working days is a whole number of days")
            n = amounts.astype(np.int64)
            k = np.searchsorted(axis.workdays, days, side="right") + n - 1
            day = np.where(n > 0, axis.workdays[np.minimum(k, len(axis.workdays) - 1)], days)
            return day.astype("datetime64[us]") + axis.day_end
        # Working hours: W(t) is the working time before t; the deadline is where W reaches
        # W(start) + amount (ending exactly at a period's end counts as that end).
        i = np.searchsorted(axis.ends, starts, side="right")
        worked_before = axis.cum[i] + np.clip(starts - axis.starts[i], 0, None).astype(np.int64)
        target = worked_before + (amounts * 3.6e9).astype(np.int64)
        j = np.searchsorted(axis.cum + (axis.ends - axis.starts).astype(np.int64), target, "left")
        out = axis.starts[j] + (target - axis.cum[j]).astype("timedelta64[us]")
        return np.where(amounts == 0, starts, out)

    def deadline(self, start_utc: datetime, limit: Limit, zone: ZoneInfo) -> datetime:
        """The deadline (naive UTC) of a limit started at `start_utc`, on the local clock."""
        local = start_utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
        return to_utc_naive(self.add(local, limit.amount, limit.unit), zone)

    def _axis(self, first_year: int, last_year: int) -> _Axis:
        return _build_axis(self, first_year - 1, last_year + 1)


@dataclass(frozen=True)
class _Axis:
    """The working periods of some years as arrays: each period's start and end (datetime64),
    the working time before it (µs), the working days, and the end of a working day."""

    starts: np.ndarray
    ends: np.ndarray
    cum: np.ndarray
    workdays: np.ndarray
    day_end: np.timedelta64


@functools.lru_cache(maxsize=16)
def _build_axis(cal: WorkCalendar, first_year: int, last_year: int) -> _Axis:
    day = date(first_year, 1, 1)
    workdays = []
    while day.year <= last_year:
        if cal.is_workday(day):
            workdays.append(day)
        day += timedelta(days=1)
    wd = np.array(workdays, dtype="datetime64[D]")

    def offset(t: time) -> np.timedelta64:
        return np.timedelta64((t.hour * 3600 + t.minute * 60 + t.second) * 10**6, "us")

    starts = (wd[:, None].astype("datetime64[us]") + [offset(a) for a, _b in cal.periods]).ravel()
    ends = (wd[:, None].astype("datetime64[us]") + [offset(b) for _a, b in cal.periods]).ravel()
    lengths = (ends - starts).astype(np.int64)
    cum = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return _Axis(starts, ends, cum, wd, offset(cal.periods[-1][1]))


@functools.cache
def _unknown_year(year: int) -> None:
    log.warning(
        "the public holidays of %s are not known (chinese_calendar %s, %s): Monday to Friday "
        "count as working days until they are added to the calendar file",
        year,
        getattr(chinese_calendar, "__version__", "?"),
        LOCAL_FILE.name,
    )
