"""Read model of 人才队伍 (the people who do the work): headcount by role and district against
the staffing standard (缺编/超编) and the grids with no full-time grid worker; who is on duty
now (dashboard.duty); the grid workers' load — open events, this week's patrol reports (巡查上报)
and how fast those were taken up; training this year against the target and the certificate
rates; the mediators and their cases (the 三调联动 figures of 督办考核); and one person laid
open, personal data masked (a reveal goes through `reveal`, which the audit log records).

Events do not name the grid worker who reported them, so a grid's open events and patrol
reports are its workers' together: each worker carries the grid's count shared among them."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dashboard import duty, privacy, staffing
from dashboard.auth import audit
from dashboard.clock import local_day
from dashboard.domain import STAFF_ROLE_LABELS
from dashboard.models import Area, CheckIn, DutyShift, Event, Staff, TrainingRecord
from dashboard.queries import area_scope, kpi_report
from dashboard.schemas import InputError
from dashboard.wall import week_start

TOP = 10  # the most loaded people and grids listed
LOAD_BINS = (0, 1, 2, 4, 6, 10, 15, 20, 30, 50)  # open events per worker, for the histogram
PATROL = "grid"  # the source of 网格员巡查 reports
PERSON_EVENTS = 20


def _district(session: Session, district: str | None):
    """(id, code, name) of the district a view shows, or Nones for the city."""
    scope = area_scope(session, district)
    if scope.level not in ("city", "district"):
        raise InputError({"district": "must be a district code"})
    return scope.id, scope.code if scope.id else None, scope.name


def _in(column, district_id):
    return True if district_id is None else column == district_id


def _districts(session: Session, district_id) -> dict[int, tuple[str, str]]:
    return {
        r.id: (r.code, r.name)
        for r in session.execute(
            select(Area.id, Area.code, Area.name)
            .where(Area.level == "district", _in(Area.id, district_id))
            .order_by(Area.code)
        )
    }


def report(
    session: Session,
    now: datetime,
    zone: ZoneInfo,
    standards: staffing.Standards,
    district: str | None = None,
) -> dict:
    """Everything the page shows for the city or one district (code)."""
    district_id, code, name = _district(session, district)
    districts = _districts(session, district_id)
    posts = staffing.against_standard(session, standards, district_id)
    uncovered = staffing.uncovered_grids(session, district_id)
    early = timedelta(minutes=standards.check_in_early_minutes)
    roster_now = duty.roster_at(session, now, early, None, district_id)
    grid_then = duty.roster_at(
        session, now - timedelta(days=1), early, standards.grid_roles, district_id
    )
    week_lo = week_start(local_day(now, zone), zone)
    load = workload(session, now, week_lo, standards, district_id)
    load["by_district"] = [
        {"district": code, "district_name": name, **load["by_district"].get(did, _no_load)}
        for did, (code, name) in districts.items()
    ]
    trained = training(session, now, zone, standards, district_id)
    mediation = mediators(session, now, week_lo, zone, districts, district_id)
    grid_now = [d for d in roster_now if d.role in standards.grid_roles]
    return {
        "scope": {"code": code, "name": name},
        "built_at": now.isoformat() + "Z",
        "week_from": local_day(week_lo, zone).isoformat(),
        "cards": {
            "in_post": sum(r["headcount"] for r in posts),
            "required": sum(r["required"] or 0 for r in posts),
            "shortfall": staffing.shortfall(posts),
            "uncovered_grids": len(uncovered),
            "on_duty_grid": sum(d.present for d in grid_now),
            "on_duty_grid_yesterday": sum(d.present for d in grid_then),
            "scheduled_absent": sum(not d.present for d in roster_now),
            "open_per_worker": load["open_per_worker"],
            "patrol_per_worker": load["patrol_per_worker"],
            "response_hours_median": load["response_hours_median"],
            "training_hours_mean": trained["hours_mean"],
            "training_target": standards.hours_per_year,
        },
        "posts": posts,
        "standards": {
            role: {"zh": std.describe("zh"), "en": std.describe("en")}
            for role, std in standards.standards.items()
        },
        "uncovered": uncovered,
        "duty": duty_table(roster_now, districts),
        "workload": load,
        "training": trained,
        "mediation": mediation,
    }


CACHE_SECONDS = 30.0  # walls showing the page share one build per district this long
_cache: dict[tuple, tuple[float, dict]] = {}
_cache_lock = threading.Lock()


def cached_report(rt, now: datetime, district: str | None) -> dict:
    """`report` for a runtime and district, built at most once every CACHE_SECONDS."""
    key = (id(rt), district)
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    with _cache_lock:
        hit = _cache.get(key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        with rt.sessions() as session:
            built = report(session, now, rt.settings.zone, rt.settings.staffing, district)
        _cache[key] = (time.monotonic(), built)
        return built


def forget_cached() -> None:
    """After an import (or in a test): the next request builds afresh."""
    _cache.clear()


_no_load = {
    "workers": 0,
    "open": 0,
    "patrol": 0,
    "open_per_worker": None,
    "patrol_per_worker": None,
    "response_hours_median": None,
}


def duty_table(roster: list[duty.Duty], districts: dict) -> list[dict]:
    """On duty now and scheduled now, by district and role."""
    present = Counter((d.district_id, d.role) for d in roster if d.present)
    scheduled = Counter((d.district_id, d.role) for d in roster)
    return [
        {
            "district": code,
            "district_name": name,
            "role": role,
            "on_duty": present.get((did, role), 0),
            "scheduled": scheduled.get((did, role), 0),
        }
        for did, (code, name) in districts.items()
        for role in STAFF_ROLE_LABELS
    ]


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def workload(
    session: Session,
    now: datetime,
    week_lo: datetime,
    standards: staffing.Standards,
    district_id: int | None,
) -> dict:
    """The grid workers' load: per person, per grid and per district."""
    workers = session.execute(
        select(Staff.id, Staff.staff_no, Staff.name, Staff.role, Staff.area_id, Staff.district_id)
        .join(Area, Area.id == Staff.area_id)
        .where(
            Staff.role.in_(standards.grid_roles),
            Staff.status.in_(staffing.IN_POST),
            Area.level == "grid",
            _in(Staff.district_id, district_id),
        )
    ).all()
    open_by_grid = dict(
        session.execute(
            select(Event.grid_id, func.count())
            .where(Event.is_open, _in(Event.district_id, district_id))
            .group_by(Event.grid_id)
        ).all()
    )
    patrol = session.execute(
        select(Event.grid_id, Event.district_id, Event.reported_at, Event.accepted_at).where(
            Event.source == PATROL,
            Event.reported_at >= week_lo,
            Event.reported_at < now,
            _in(Event.district_id, district_id),
        )
    ).all()
    patrol_by_grid = Counter(p.grid_id for p in patrol)
    response: dict[int, list[float]] = defaultdict(list)  # hours from report to 立案
    response_by_district: dict[int, list[float]] = defaultdict(list)
    for p in patrol:
        if p.accepted_at is not None:
            hours = (p.accepted_at - p.reported_at).total_seconds() / 3600
            response[p.grid_id].append(hours)
            response_by_district[p.district_id].append(hours)
    per_grid = Counter(w.area_id for w in workers)
    grids = {
        g.id: g
        for g in session.execute(
            select(Area.id, Area.code, Area.name, Area.district_id).where(
                Area.id.in_(set(open_by_grid) | set(per_grid) | set(patrol_by_grid))
            )
        )
    }
    people = [
        {
            "staff_no": w.staff_no,
            "name": privacy.mask_name(w.name),
            "role": w.role,
            "grid": grids[w.area_id].code if w.area_id in grids else "",
            "grid_name": grids[w.area_id].name if w.area_id in grids else "",
            "open": round(open_by_grid.get(w.area_id, 0) / per_grid[w.area_id], 1),
            "patrol_week": round(patrol_by_grid.get(w.area_id, 0) / per_grid[w.area_id], 1),
            "response_hours": _median(response.get(w.area_id, [])),
        }
        for w in workers
    ]
    people.sort(key=lambda p: (-p["open"], p["staff_no"]))
    grid_rows = [
        {
            "grid": g.code,
            "grid_name": g.name,
            "workers": per_grid.get(gid, 0),
            "open": open_by_grid.get(gid, 0),
            "open_per_worker": (
                round(open_by_grid.get(gid, 0) / per_grid[gid], 1) if per_grid.get(gid) else None
            ),
            "patrol_week": patrol_by_grid.get(gid, 0),
        }
        for gid, g in grids.items()
    ]
    # the loaded first; a grid with open events and nobody to carry them before all others
    grid_rows.sort(key=lambda r: (r["workers"] > 0, -(r["open_per_worker"] or r["open"])))
    loads = [p["open"] for p in people]
    histogram = [
        {
            "from": lo,
            "to": hi,
            "people": sum(lo <= x < hi for x in loads) if hi else sum(x >= lo for x in loads),
        }
        for lo, hi in zip(LOAD_BINS, (*LOAD_BINS[1:], None), strict=True)
    ]
    n = len(workers)
    by_district = defaultdict(lambda: {"workers": 0, "open": 0, "patrol": 0})
    for w in workers:
        by_district[w.district_id]["workers"] += 1
    for gid, k in open_by_grid.items():
        if gid in grids:
            by_district[grids[gid].district_id]["open"] += k
    for p in patrol:
        by_district[p.district_id]["patrol"] += 1
    return {
        "workers": n,
        "open_per_worker": round(sum(open_by_grid.values()) / n, 2) if n else None,
        "patrol_per_worker": round(len(patrol) / n, 2) if n else None,
        "response_hours_median": _median([h for v in response.values() for h in v]),
        "histogram": histogram,
        "people": people[:TOP],
        "grids": grid_rows[:TOP],
        "by_district": {
            did: {
                **v,
                "open_per_worker": round(v["open"] / v["workers"], 2) if v["workers"] else None,
                "patrol_per_worker": round(v["patrol"] / v["workers"], 2) if v["workers"] else None,
                "response_hours_median": _median(response_by_district.get(did, [])),
            }
            for did, v in by_district.items()
        },
    }


def _held(session: Session, standards: staffing.Standards, district_id) -> dict[int, set[str]]:
    """The certificates each person in post holds: on the roster or from a training record."""
    held: dict[int, set[str]] = defaultdict(set)
    for sid, certs in session.execute(
        select(Staff.id, Staff.certifications).where(
            Staff.status.in_(staffing.IN_POST), _in(Staff.district_id, district_id)
        )
    ):
        held[sid] |= {c for c in (certs or "").split(",") if c}
    for sid, cert in session.execute(
        select(TrainingRecord.staff_id, TrainingRecord.certificate)
        .join(Staff, Staff.id == TrainingRecord.staff_id)
        .where(
            TrainingRecord.certificate.is_not(None),
            Staff.status.in_(staffing.IN_POST),
            _in(Staff.district_id, district_id),
        )
    ):
        held[sid].add(cert)
    return held


def training(
    session: Session,
    now: datetime,
    zone: ZoneInfo,
    standards: staffing.Standards,
    district_id: int | None,
) -> dict:
    """This calendar year's training: hours per person against the target by role, the
    certificate rates against theirs, and the courses completed."""
    year = local_day(now, zone).year
    first, today = date(year, 1, 1), local_day(now, zone)
    people = session.execute(
        select(Staff.id, Staff.role).where(
            Staff.status.in_(staffing.IN_POST), _in(Staff.district_id, district_id)
        )
    ).all()
    hours = dict(
        session.execute(
            select(TrainingRecord.staff_id, func.sum(TrainingRecord.hours))
            .join(Staff, Staff.id == TrainingRecord.staff_id)
            .where(
                TrainingRecord.date >= first,
                TrainingRecord.date <= today,
                _in(Staff.district_id, district_id),
            )
            .group_by(TrainingRecord.staff_id)
        ).all()
    )
    held = _held(session, standards, district_id)
    target = standards.hours_per_year
    by_role = []
    for role in STAFF_ROLE_LABELS:
        ids = [p.id for p in people if p.role == role]
        if not ids:
            continue
        hs = [float(hours.get(i, 0)) for i in ids]
        cert = standards.certificates.get(role)
        by_role.append(
            {
                "role": role,
                "people": len(ids),
                "hours_mean": round(sum(hs) / len(hs), 1),
                "met_target": round(sum(h >= target for h in hs) / len(hs), 4),
                "certificate": cert.name if cert else None,
                "certificate_rate": (
                    round(sum(cert.name in held.get(i, ()) for i in ids) / len(ids), 4)
                    if cert
                    else None
                ),
                "certificate_target": cert.target if cert else None,
            }
        )
    courses = session.execute(
        select(TrainingRecord.course, func.count(), func.sum(TrainingRecord.hours))
        .join(Staff, Staff.id == TrainingRecord.staff_id)
        .where(
            TrainingRecord.date >= first,
            TrainingRecord.date <= today,
            _in(Staff.district_id, district_id),
        )
        .group_by(TrainingRecord.course)
        .order_by(func.count().desc(), TrainingRecord.course)
    ).all()
    all_hours = [float(hours.get(p.id, 0)) for p in people]
    return {
        "year": year,
        "target": target,
        "hours_mean": round(sum(all_hours) / len(all_hours), 1) if all_hours else None,
        "met_target": (
            round(sum(h >= target for h in all_hours) / len(all_hours), 4) if all_hours else None
        ),
        "by_role": by_role,
        "courses": [{"course": c, "completed": n, "hours": float(h or 0)} for c, n, h in courses],
    }


def mediators(
    session: Session,
    now: datetime,
    week_lo: datetime,
    zone: ZoneInfo,
    districts: dict,
    district_id: int | None,
) -> list[dict]:
    """Per district: mediators in post, this week's disputes closed and mediated, the success
    rate (the same figures as 督办考核's 三调联动), and cases mediated per mediator."""
    in_post = dict(
        session.execute(
            select(Staff.district_id, func.count())
            .where(
                Staff.role == "mediator",
                Staff.status.in_(staffing.IN_POST),
                _in(Staff.district_id, district_id),
            )
            .group_by(Staff.district_id)
        ).all()
    )
    figures = kpi_report(
        session, week_lo, week_lo + timedelta(days=7), now, by="district", zone=zone, wuzhi=False
    )
    by_code = {r["code"]: r for r in figures["breakdown"]}
    rows = []
    for did, (code, name) in districts.items():
        f = by_code.get(code, {})
        n = in_post.get(did, 0)
        mediated = f.get("mediated", 0) or 0
        rows.append(
            {
                "district": code,
                "district_name": name,
                "mediators": n,
                "disputes_closed": f.get("disputes_closed", 0) or 0,
                "mediated": mediated,
                "mediation_success_rate": f.get("mediation_success_rate"),
                "cases_per_mediator": round(mediated / n, 2) if n else None,
            }
        )
    return rows


# --- one person ---------------------------------------------------------------------------
def find_person(session: Session, staff_no, district_id: int | None) -> Staff:
    """The staff row of a staff number inside the scope; InputError otherwise (a person of
    another district is not found, not refused: the scope does not say who exists)."""
    if not isinstance(staff_no, str) or not 0 < len(staff_no) <= 32:
        raise InputError({"staff_no": "a staff number"})
    person = session.execute(
        select(Staff).where(Staff.staff_no == staff_no, _in(Staff.district_id, district_id))
    ).scalar_one_or_none()
    if person is None:
        raise InputError({"staff_no": "no such person"})
    return person


def person(
    session: Session,
    staff_no,
    now: datetime,
    zone: ZoneInfo,
    standards: staffing.Standards,
    district_id: int | None = None,
) -> dict:
    """One person: role, area, status, on duty or not, this week's shifts, the events of
    their grid, training — personal data masked."""
    s = find_person(session, staff_no, district_id)
    chain_ids = [s.area_id, s.street_id, s.district_id]
    names = dict(
        session.execute(
            select(Area.id, Area.name).where(Area.id.in_([i for i in chain_ids if i]))
        ).all()
    )
    area = session.get(Area, s.area_id)
    early = timedelta(minutes=standards.check_in_early_minutes)
    now_duty = next(
        (d for d in duty.roster_at(session, now, early, None, s.district_id) if d.staff_id == s.id),
        None,
    )
    week_lo = week_start(local_day(now, zone), zone)
    shifts = session.execute(
        select(DutyShift.starts_at, DutyShift.ends_at, DutyShift.kind)
        .where(
            DutyShift.staff_id == s.id,
            DutyShift.starts_at >= week_lo,
            DutyShift.starts_at < week_lo + timedelta(days=7),
        )
        .order_by(DutyShift.starts_at)
    ).all()
    marks = session.execute(
        select(CheckIn.at, CheckIn.kind)
        .where(CheckIn.staff_id == s.id, CheckIn.at >= week_lo, CheckIn.at <= now)
        .order_by(CheckIn.at)
    ).all()
    in_grid = area is not None and area.level == "grid"
    events = []
    patrol_week = 0
    if in_grid:
        events = session.execute(
            select(Event.source, Event.external_id, Event.title, Event.status, Event.reported_at)
            .where(Event.grid_id == s.area_id, or_(Event.is_open, Event.reported_at >= week_lo))
            .order_by(Event.is_open.desc(), Event.reported_at.desc())
            .limit(PERSON_EVENTS)
        ).all()
        patrol_week = session.execute(
            select(func.count()).where(
                Event.grid_id == s.area_id,
                Event.source == PATROL,
                Event.reported_at >= week_lo,
                Event.reported_at < now,
            )
        ).scalar_one()
    open_in_grid = (
        session.execute(
            select(func.count()).where(Event.grid_id == s.area_id, Event.is_open)
        ).scalar_one()
        if in_grid
        else 0
    )
    courses = session.execute(
        select(
            TrainingRecord.course,
            TrainingRecord.hours,
            TrainingRecord.date,
            TrainingRecord.certificate,
        )
        .where(TrainingRecord.staff_id == s.id)
        .order_by(TrainingRecord.date.desc())
    ).all()
    year_first = date(local_day(now, zone).year, 1, 1)

    def local(at: datetime) -> str:
        return (at + zone.utcoffset(at)).strftime("%m-%d %H:%M")

    return {
        "staff_no": s.staff_no,
        "name": privacy.mask_name(s.name),
        "id_number": privacy.mask_id_number(privacy.unseal(s.id_number)) if s.id_number else None,
        "phone": privacy.mask_phone(privacy.unseal(s.phone)) if s.phone else None,
        "role": s.role,
        "status": s.status,
        "party_member": s.party_member,
        "certifications": [c for c in (s.certifications or "").split(",") if c],
        "hire_date": s.hire_date.isoformat() if s.hire_date else None,
        "area": " › ".join(names[i] for i in reversed(chain_ids) if i and i in names),
        "area_code": area.code if area else None,
        "on_duty": None if now_duty is None else now_duty.present,
        "shifts": [
            {"from": local(a), "to": local(b), "kind": k, "now": a <= now < b} for a, b, k in shifts
        ],
        "check_ins": [{"at": local(at), "kind": k} for at, k in marks],
        "open_in_grid": open_in_grid,
        "patrol_week": patrol_week,
        "events": [
            {
                "source": e.source,
                "external_id": e.external_id,
                "title": privacy.mask_text(e.title),
                "status": e.status,
                "reported_at": local(e.reported_at),
            }
            for e in events
        ],
        "training": [
            {"course": c, "hours": h, "date": d.isoformat(), "certificate": cert or ""}
            for c, h, d, cert in courses
        ],
        "training_hours_year": sum(h for _c, h, d, _x in courses if d >= year_first),
        "training_target": standards.hours_per_year,
    }


def reveal(
    session: Session, staff_no, district_id: int | None, actor: str, reason: str, address: str
) -> dict:
    """A person's name, phone and ID number unmasked; the reason goes to the audit log."""
    s = find_person(session, staff_no, district_id)
    audit(session, actor, "pii.reveal", f"staff:{s.staff_no}", reason, address)
    return {
        "name": s.name,
        "phone": privacy.unseal(s.phone),
        "id_number": privacy.unseal(s.id_number),
    }


__all__ = ["person", "report", "reveal"]
