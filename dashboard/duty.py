"""在岗: who is on duty at a moment, from the duty roster (排班) and the check-ins (签到/签退).

A person is *scheduled* at a moment when one of their shifts covers it and they have not left
the post (离岗); they are *on duty* (在岗) when, besides, they checked in for that shift (from
`check_in_early` before it starts) and have not checked out since. A night shift runs past
midnight like any other: shifts are stored as UTC instants, not as a day and an hour.

Because shifts and check-ins are history, "on duty at the same time yesterday" is the same
question asked of another moment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.clock import to_utc_naive
from dashboard.lifecycle import FUTURE_TOLERANCE
from dashboard.models import CheckIn, DutyShift, Staff
from dashboard.schemas import Input, pydantic_errors

LONGEST_SHIFT = timedelta(hours=36)  # check-ins older than a shift's start can matter no more


@dataclass(frozen=True)
class Duty:
    staff_id: int
    role: str
    district_id: int
    street_id: int | None
    area_id: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    checked_in_at: datetime | None  # None: scheduled, not (or no longer) checked in

    @property
    def present(self) -> bool:
        return self.checked_in_at is not None


def roster_at(
    session: Session,
    at: datetime,
    check_in_early: timedelta,
    roles: tuple[str, ...] | None = None,
    district_id: int | None = None,
) -> list[Duty]:
    """Everyone scheduled at `at` (naive UTC), each with the check-in that puts them on duty."""
    where = [
        DutyShift.starts_at <= at,
        DutyShift.ends_at > at,
        Staff.status != "off",
    ]
    if roles is not None:
        where.append(Staff.role.in_(roles))
    if district_id is not None:
        where.append(Staff.district_id == district_id)
    shifts = session.execute(
        select(
            DutyShift.staff_id,
            Staff.role,
            Staff.district_id,
            Staff.street_id,
            Staff.area_id,
            DutyShift.kind,
            DutyShift.starts_at,
            DutyShift.ends_at,
        )
        .join(Staff, Staff.id == DutyShift.staff_id)
        .where(*where)
        .order_by(DutyShift.staff_id, DutyShift.starts_at)
    ).all()
    if not shifts:
        return []
    earliest = at - LONGEST_SHIFT - check_in_early
    marks: dict[int, list[tuple[datetime, str]]] = {}
    for staff_id, when, kind in session.execute(
        select(CheckIn.staff_id, CheckIn.at, CheckIn.kind)
        .join(DutyShift, DutyShift.staff_id == CheckIn.staff_id)
        .join(Staff, Staff.id == CheckIn.staff_id)
        .where(*where, CheckIn.at >= earliest, CheckIn.at <= at)
        .distinct()
        .order_by(CheckIn.staff_id, CheckIn.at)
    ):
        marks.setdefault(staff_id, []).append((when, kind))
    out: dict[int, Duty] = {}
    for s in shifts:
        if s.staff_id in out and out[s.staff_id].present:
            continue  # overlapping shifts: the one they are on duty for
        since = s.starts_at - check_in_early
        checked = None
        for when, kind in marks.get(s.staff_id, ()):
            if when < since:
                continue
            checked = when if kind == "in" else None
        out[s.staff_id] = Duty(
            s.staff_id,
            s.role,
            s.district_id,
            s.street_id,
            s.area_id,
            s.kind,
            s.starts_at,
            s.ends_at,
            checked,
        )
    return list(out.values())


def count(duties: list[Duty], key: str | None = None, present: bool = True) -> Counter:
    """How many are on duty (or, `present=False`, scheduled) in all (key None) or by an
    attribute of Duty ("district_id", "street_id", "role", "area_id")."""
    return Counter((getattr(d, key) if key else None) for d in duties if d.present or not present)


# --- check-ins from the grid app (POST /api/v1/checkins) ----------------------------------
LATE_SYNC = timedelta(days=7)  # a phone that was offline may send a week's check-ins late


class CheckInIn(Input):
    staff_no: str = Field(min_length=1, max_length=32)
    kind: Literal["in", "out"]
    at: datetime | None = None  # default: now


def record_check_ins(
    session: Session, items: list, now: datetime, zone: ZoneInfo, source: str = "app"
) -> list[dict]:
    """Each item → {"index", "status": created | duplicate | rejected, "errors"?}; the valid
    ones are added to the session together (the caller commits). Re-sending a check-in never
    records it twice."""
    results: list[dict] = []
    valid: list[tuple[int, int, datetime, str]] = []
    parsed = []
    for i, raw in enumerate(items):
        try:
            parsed.append((i, CheckInIn.model_validate(raw)))
        except ValidationError as exc:
            results.append({"index": i, "status": "rejected", "errors": pydantic_errors(exc)})
    numbers = {c.staff_no for _i, c in parsed}
    people = (
        dict(
            session.execute(
                select(Staff.staff_no, Staff.id).where(
                    Staff.staff_no.in_(numbers), Staff.status != "off"
                )
            ).all()
        )
        if numbers
        else {}
    )
    for i, c in parsed:
        at = to_utc_naive(c.at, zone) if c.at else now
        errors = {}
        if c.staff_no not in people:
            errors["staff_no"] = "not on the roster (or has left)"
        if at > now + FUTURE_TOLERANCE:
            errors["at"] = "lies in the future"
        elif at < now - LATE_SYNC:
            errors["at"] = f"more than {LATE_SYNC.days} days ago"
        if errors:
            results.append({"index": i, "status": "rejected", "errors": errors})
        else:
            valid.append((i, people[c.staff_no], at, c.kind))
    stored = (
        set(
            session.execute(
                select(CheckIn.staff_id, CheckIn.at, CheckIn.kind).where(
                    CheckIn.staff_id.in_({v[1] for v in valid}),
                    CheckIn.at >= min(v[2] for v in valid),
                )
            ).all()
        )
        if valid
        else set()
    )
    for i, staff_id, at, kind in valid:
        if (staff_id, at, kind) in stored:
            results.append({"index": i, "status": "duplicate"})
            continue
        stored.add((staff_id, at, kind))
        session.add(CheckIn(staff_id=staff_id, at=at, kind=kind, source=source, created_at=now))
        results.append({"index": i, "status": "created"})
    return sorted(results, key=lambda r: r["index"])
