"""Time conventions: naive UTC in storage, the configured zone for days and display."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Naive UTC 'now': the one representation of time stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc_naive(value: datetime, zone: ZoneInfo) -> datetime:
    """An aware datetime → naive UTC; a naive one is taken as local time in `zone`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).replace(tzinfo=None)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def epoch(at_utc: datetime) -> int:
    return int(at_utc.replace(tzinfo=UTC).timestamp())


def local_day(at_utc: datetime, zone: ZoneInfo) -> date:
    return at_utc.replace(tzinfo=UTC).astimezone(zone).date()


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in naive UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = start + timedelta(days=1)
    # Recompute the end through the calendar so that DST days have their true length.
    end = datetime(end.year, end.month, end.day, tzinfo=zone)
    return to_utc_naive(start, zone), to_utc_naive(end, zone)
