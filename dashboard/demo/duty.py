"""The demo city's duty roster (排班), check-ins (签到/签退) and training records.

The rota and everyone's punctuality follow from a hash of the person and the shift, so the
seeding and the live ticks agree: a tick adds the days the rota has not reached yet and the
check-ins whose moment has come, and writes nothing twice."""

from __future__ import annotations

import zlib
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from dashboard.clock import local_day, to_utc_naive, utcnow
from dashboard.db import bulk_insert
from dashboard.models import CheckIn, DutyShift, Staff

DAYS_BACK = 8  # the seeded rota starts this many days before today (last week, yesterday)
DAYS_AHEAD = 7  # and is kept this many days ahead
OFFICE = (time(8, 30), time(17, 30))
# grid workers in two twelve-hour shifts, as the 力量不足 rule's day and night (rules.toml)
GRID_DAY = (time(8, 0), time(20, 0))
GRID_NIGHT = (time(20, 0), time(8, 0))  # past midnight
PART_TIME = (time(9, 0), time(12, 0))
ABSENT = 6  # in a hundred shifts nobody checks in (sick, forgot, held up)
COURSES = (
    ("网格化服务管理业务培训", 8, "网格员培训合格证"),
    ("矛盾纠纷排查化解实务", 6, None),
    ("人民调解员业务培训", 12, "人民调解员证"),
    ("社会工作者职业水平考试辅导", 16, "社工证"),
    ("安全生产与消防隐患排查", 4, None),
    ("个人信息保护与保密", 2, None),
    ("信息系统操作培训", 4, None),
)


def _hash(*parts) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _shift_of(staff_id: int, role: str, day: date) -> tuple[time, time, str] | None:
    """The person's shift on a local day, or None for a day off."""
    h = _hash(staff_id, "rota")
    if role == "grid_fulltime":
        if (day.toordinal() + h) % 7 == 0:  # one day off a week, not everyone on the same day
            return None
        return (*GRID_NIGHT, "night") if h % 5 == 0 else (*GRID_DAY, "day")
    if role == "grid_parttime":
        return (*PART_TIME, "day") if (day.toordinal() + h) % 7 in (1, 3, 5) else None
    return (*OFFICE, "day") if day.weekday() < 5 else None


def rota(staff: list[tuple[int, str, str]], days: list[date], zone) -> list[tuple]:
    """(staff_id, starts_at, ends_at, kind) for people in post (not 离岗) over local days."""
    out = []
    for staff_id, role, status in staff:
        if status == "off":
            continue
        for day in days:
            shift = _shift_of(staff_id, role, day)
            if shift is None:
                continue
            start, end, kind = shift
            a = datetime.combine(day, start)
            b = datetime.combine(day, end)
            if b <= a:
                b += timedelta(days=1)
            out.append((staff_id, to_utc_naive(a, zone), to_utc_naive(b, zone), kind))
    return out


def marks(shift: tuple, status: str) -> list[tuple[int, datetime, str]]:
    """The check-in and check-out of a shift (none for someone on leave or absent)."""
    staff_id, start, end, _kind = shift
    h = _hash(staff_id, start.isoformat())
    if status == "leave" or h % 100 < ABSENT:
        return []
    early = timedelta(minutes=(h >> 8) % 46 - 30)  # 30 minutes early … 15 late
    late_out = timedelta(minutes=(h >> 16) % 21)
    return [(staff_id, start + early, "in"), (staff_id, end + late_out, "out")]


def _people(session_or_conn) -> list[tuple[int, str, str]]:
    return [tuple(r) for r in session_or_conn.execute(select(Staff.id, Staff.role, Staff.status))]


def seed(conn, zone, now: datetime) -> dict:
    """The rota from DAYS_BACK days ago to DAYS_AHEAD ahead, and the check-ins until now."""
    today = local_day(now, zone)
    people = _people(conn)
    status = {p[0]: p[2] for p in people}
    days = [today + timedelta(days=d) for d in range(-DAYS_BACK, DAYS_AHEAD + 1)]
    shifts = rota(people, days, zone)
    bulk_insert(
        conn,
        "duty_shifts",
        ["id", "staff_id", "starts_at", "ends_at", "kind"],
        ((i, *s) for i, s in enumerate(shifts, 1)),
    )
    ins = [m for s in shifts for m in marks(s, status[s[0]]) if m[1] <= now]
    bulk_insert(
        conn,
        "check_ins",
        ["id", "staff_id", "at", "kind", "source", "created_at"],
        ((i, *m, "app", m[1]) for i, m in enumerate(ins, 1)),
    )
    return {"shifts": len(shifts), "check_ins": len(ins)}


def tick(rt, now: datetime | None = None) -> dict:
    """Keep the rota DAYS_AHEAD days ahead and add the check-ins whose moment has come."""
    now = now or utcnow()
    zone = rt.settings.zone
    today = local_day(now, zone)
    with rt.sessions() as session, session.begin():
        people = _people(session)
        status = {p[0]: p[2] for p in people}
        last = session.execute(select(func.max(DutyShift.starts_at))).scalar()
        first_day = today if last is None else local_day(last, zone) + timedelta(days=1)
        days = [
            first_day + timedelta(days=d) for d in range((today - first_day).days + DAYS_AHEAD + 1)
        ]
        new_shifts = rota(people, days, zone)
        if new_shifts:
            columns = ("staff_id", "starts_at", "ends_at", "kind")
            session.execute(
                DutyShift.__table__.insert(),
                [dict(zip(columns, s, strict=True)) for s in new_shifts],
            )
        recent = session.execute(
            select(
                DutyShift.staff_id, DutyShift.starts_at, DutyShift.ends_at, DutyShift.kind
            ).where(
                DutyShift.starts_at <= now + timedelta(hours=1),
                DutyShift.ends_at >= now - timedelta(hours=2),
            )
        ).all()
        due = [m for s in recent for m in marks(tuple(s), status.get(s[0], "off")) if m[1] <= now]
        have = (
            set(
                session.execute(
                    select(CheckIn.staff_id, CheckIn.at, CheckIn.kind).where(
                        CheckIn.at >= min(m[1] for m in due)
                    )
                ).all()
            )
            if due
            else set()
        )
        fresh = [m for m in due if m not in have]
        if fresh:
            session.execute(
                CheckIn.__table__.insert(),
                [
                    {"staff_id": s, "at": at, "kind": kind, "source": "app", "created_at": now}
                    for s, at, kind in fresh
                ],
            )
    return {"shifts": len(new_shifts), "check_ins": len(fresh)}


def training(conn, now: datetime, zone, rng) -> int:
    """Courses each person took over the last ~15 months, a certificate from some."""
    today = local_day(now, zone)
    rows = []
    for staff_id, role, status in _people(conn):
        if status == "off":
            continue
        for _ in range(int(rng.integers(2, 9))):
            course, hours, cert = COURSES[int(rng.integers(0, len(COURSES)))]
            day = today - timedelta(days=int(rng.integers(1, 450)))
            fits = cert and (
                (cert == "社工证" and role == "social_worker")
                or (cert == "人民调解员证" and role == "mediator")
                or (cert == "网格员培训合格证" and role.startswith("grid"))
            )
            rows.append(
                (staff_id, course, float(hours), day, cert if fits and rng.random() < 0.5 else None)
            )
    unique = {(r[0], r[1], r[3]): r for r in rows}
    bulk_insert(
        conn,
        "training_records",
        ["id", "staff_id", "course", "hours", "date", "certificate"],
        ((i, *r) for i, r in enumerate(unique.values(), 1)),
    )
    return len(unique)
