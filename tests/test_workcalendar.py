"""The working clock (dashboard.workcalendar): hand-worked deadlines over weekends, National Day
2026 and its adjusted Saturday, working hours from configuration, and the local calendar file."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.workcalendar import Limit, WorkCalendar, parse_hours

CAL = WorkCalendar()  # 09:00–12:00, 13:30–17:30: seven working hours a day


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_calendar_hours_run_through_nights_and_holidays():
    assert CAL.add(at("2026-09-30T16:00"), 48, "hours") == at("2026-10-02T16:00")


def test_working_hours_skip_lunch_nights_weekends_and_holidays():
    # Friday 16:30: one hour left that day, then Monday from 09:00.
    assert CAL.add(at("2026-11-27T16:30"), 3, "work_hours") == at("2026-11-30T11:00")
    # Lunch does not count; a limit that ends exactly at noon ends at noon.
    assert CAL.add(at("2026-11-26T10:00"), 2, "work_hours") == at("2026-11-26T12:00")
    assert CAL.add(at("2026-11-26T11:00"), 2, "work_hours") == at("2026-11-26T14:30")
    # Started at night or at lunch: the clock starts with the next working period.
    assert CAL.add(at("2026-11-26T22:00"), 1, "work_hours") == at("2026-11-27T10:00")
    assert CAL.add(at("2026-11-26T12:30"), 1, "work_hours") == at("2026-11-26T14:30")
    # National Day 2026 (1–7 October) is skipped whole: from 30 September 17:00, 4 hours are
    # half an hour that day, three on the morning of the 8th, half an hour after lunch.
    assert CAL.add(at("2026-09-30T17:00"), 4, "work_hours") == at("2026-10-08T14:00")


def test_working_days_end_with_the_nth_working_day_after_the_start():
    # Thursday: the 1st working day after is Friday, the 2nd Monday.
    assert CAL.add(at("2026-11-26T08:00"), 1, "work_days") == at("2026-11-27T17:30")
    assert CAL.add(at("2026-11-26T23:00"), 2, "work_days") == at("2026-11-30T17:30")
    # Friday 9 October 2026: the Saturday after is an adjusted working day (调休).
    assert CAL.add(at("2026-10-09T10:00"), 1, "work_days") == at("2026-10-10T17:30")
    assert CAL.add(at("2026-10-09T10:00"), 2, "work_days") == at("2026-10-12T17:30")
    assert CAL.add(at("2026-09-29T15:00"), 2, "work_days") == at("2026-10-08T17:30")
    with pytest.raises(ValueError, match="whole number"):
        CAL.add(at("2026-11-26T08:00"), 1.5, "work_days")


def test_working_hours_are_configuration():
    early = WorkCalendar(parse_hours("08:00-12:00,14:00-18:00"))
    assert early.add(at("2026-11-26T11:00"), 2, "work_hours") == at("2026-11-26T15:00")
    assert early.add(at("2026-11-26T08:00"), 1, "work_days") == at("2026-11-27T18:00")
    for bad in ("9-5", "12:00-09:00", "09:00-12:00,11:00-13:00", ""):
        with pytest.raises(ValueError):
            parse_hours(bad)
    with pytest.raises(ValueError, match="unit"):
        CAL.add(at("2026-11-26T08:00"), 1, "fortnights")
    with pytest.raises(ValueError, match="negative"):
        CAL.add(at("2026-11-26T08:00"), -1, "hours")


def test_the_local_file_teaches_the_years_the_package_does_not_know(tmp_path, caplog):
    from dashboard.workcalendar import _unknown_year

    _unknown_year.cache_clear()  # the warning is said once a process
    caplog.set_level(logging.WARNING)
    # 2027 is not in chinese_calendar 1.11.0: Monday to Friday count, and the log says so.
    assert CAL.is_workday(date(2027, 1, 1)) and not CAL.is_workday(date(2027, 1, 2))
    assert "2027" in caplog.text
    path = tmp_path / "calendar.toml"
    path.write_text('holidays = [2027-01-01]\nworkdays = ["2027-01-02"]\n')
    cal = WorkCalendar.load(path=path)
    assert not cal.is_workday(date(2027, 1, 1)) and cal.is_workday(date(2027, 1, 2))
    # Friday 31 December 2027's next working day is Saturday the 2nd, by the file.
    assert cal.add(at("2026-12-31T10:00"), 1, "work_days") == at("2027-01-02T17:30")
    assert WorkCalendar.load(path=tmp_path / "missing.toml").holidays == frozenset()


def _reference_work_hours(cal: WorkCalendar, start: datetime, hours: float) -> datetime:
    """Walk the working periods one day at a time: slow and plain, to check the arrays by."""
    left = timedelta(hours=hours)
    day = start.date()
    while True:
        if cal.is_workday(day):
            for a, b in cal.periods:
                lo = max(datetime.combine(day, a), start)
                hi = datetime.combine(day, b)
                if lo < hi:
                    if lo + left <= hi:
                        return lo + left
                    left -= hi - lo
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(datetime(2025, 12, 20), datetime(2026, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    quarters=st.integers(1, 400),
)
def test_working_hours_agree_with_a_plain_walk(start, quarters):
    assert CAL.add(start, quarters / 4, "work_hours") == _reference_work_hours(
        CAL, start, quarters / 4
    )


def test_many_starts_at_once_match_one_at_a_time():
    starts = [at("2026-09-30T17:00"), at("2026-11-27T16:30"), at("2026-10-09T10:00")]
    many = CAL.add_many(np.array(starts, dtype="datetime64[us]"), [4, 3, 1], "work_hours")
    assert [x.astype(datetime) for x in many] == [
        CAL.add(s, n, "work_hours") for s, n in zip(starts, [4, 3, 1], strict=True)
    ]


def test_a_limit_knows_its_unit_and_a_deadline_is_on_the_local_clock():
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match="unit"):
        Limit(2, "days")
    with pytest.raises(ValueError, match="whole"):
        Limit(1.5, "work_days")
    with pytest.raises(ValueError, match="finite"):
        Limit(float("nan"), "hours")
    assert Limit(2, "work_hours").describe() == "2 工作时"
    # Friday 16:30 Shanghai is 08:30 UTC; three working hours end Monday 11:00 local, 03:00 UTC.
    zone = ZoneInfo("Asia/Shanghai")
    assert CAL.deadline(at("2026-11-27T08:30"), Limit(3, "work_hours"), zone) == at(
        "2026-11-30T03:00"
    )
