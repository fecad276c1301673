"""Read models for pages and the API: each takes a session and returns plain data."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Integer,
    String,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from dashboard import kpi, kpisettings, summaries
from dashboard.clock import epoch, local_day
from dashboard.domain import (
    SENSOR_SOURCES,
    SEVERITY_LABELS,
    SOURCE_LABELS,
)
from dashboard.models import (
    Activity,
    Area,
    Category,
    Department,
    Event,
    RollupHourly,
    Staff,
    Supervision,
    TimeLimit,
    Transition,
)
from dashboard.privacy import mask_name, mask_phone, mask_text, unseal
from dashboard.refdata import area_by_code, area_codes
from dashboard.schemas import InputError
from dashboard.workcalendar import STEPS

GRID_STAFF_ROLES = ("grid_fulltime", "grid_parttime")


# --- areas --------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaScope:
    """An area and the event column that selects everything inside it (None = whole city)."""

    id: int | None
    code: str | None
    name: str
    level: str
    population: int

    def event_filter(self):
        return _area_filter(self, Event)


def _area_filter(scope: AreaScope, model, value=None):
    """What selects the rows of `model` inside the scope (True: the whole city). Staff and
    activities belong to a grid or community (area_id) and know their street and district.
    `value` stands for the area's id (a bound parameter in a statement built once)."""
    if scope.id is None or scope.level == "city":
        return True
    value = scope.id if value is None else value
    if model is Event:
        column = {"district": "district_id", "street": "street_id",
                  "community": "community_id", "grid": "grid_id"}[scope.level]  # fmt: skip
    elif scope.level == "community":
        return model.area_id.in_(select(Area.id).where(Area.community_id == value))
    else:
        column = {"district": "district_id", "street": "street_id", "grid": "area_id"}[scope.level]
    return getattr(model, column) == value


def area_scope(session: Session, code: str | None) -> AreaScope:
    if not code:
        city = session.execute(select(Area).where(Area.level == "city")).scalar_one_or_none()
        if city is None:
            return AreaScope(None, None, "", "city", 0)
        return AreaScope(None, city.code, city.name, "city", city.population)
    a = area_by_code(session, code)
    if a is None:
        raise InputError({"area": f"unknown area code {code!r}"})
    if a.level == "city":
        return AreaScope(None, a.code, a.name, "city", a.population)
    return AreaScope(a.id, a.code, a.name, a.level, a.population)


def department_id(session: Session, code: str, units: bool = False) -> int:
    """The id of a department code; InputError naming the field for an unknown one, and for a
    handling unit unless `units` (the KPIs count cases under the bureau)."""
    found = session.execute(
        select(Department.id, Department.parent_id).where(Department.code == code)
    ).first()
    if found is None:
        raise InputError({"department": f"unknown department code {code!r}"})
    if found.parent_id is not None and not units:
        raise InputError({"department": f"{code!r} is a handling unit: ask for its bureau"})
    return found.id


def is_unit(session: Session, department: int) -> bool:
    return (
        session.execute(
            select(Department.parent_id.is_not(None)).where(Department.id == department)
        ).scalar()
        or False
    )


def list_areas(
    session: Session,
    level: str | None = None,
    parent: str | None = None,
    district_id: int | None = None,
) -> list[dict]:
    """Areas of a level, under a parent, inside one district (its own row included)."""
    q = select(Area).order_by(Area.code)
    if district_id is not None:
        q = q.where(Area.district_id == district_id)
    if level:
        q = q.where(Area.level == level)
    if parent:
        parent_area = area_by_code(session, parent)
        if parent_area is None:
            raise InputError({"parent": f"unknown area code {parent!r}"})
        q = q.where(Area.parent_id == parent_area.id)
    areas = session.execute(q).scalars().all()
    codes = area_codes(session, ids=[a.parent_id for a in areas])
    return [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent": codes.get(a.parent_id),
            "population": a.population,
            "households": a.households,
            "lat": a.lat,
            "lon": a.lon,
        }
        for a in areas
    ]


def list_categories(session: Session) -> list[dict]:
    cats = session.execute(select(Category).order_by(Category.code)).scalars().all()
    deps = dict(session.execute(select(Department.id, Department.code)).all())
    limits: dict[int, list[dict]] = defaultdict(list)
    order = {step: n for n, step in enumerate(STEPS)}
    rows = session.execute(select(TimeLimit)).scalars()
    for t in sorted(rows, key=lambda t: (t.severity, order.get(t.step, 9))):
        limits[t.category_id].append(
            {
                "severity": t.severity,
                "severity_name": SEVERITY_LABELS[t.severity][0],
                "step": t.step,
                "amount": t.amount,
                "unit": t.unit,
                "start": t.start,
            }
        )
    out = []
    for c in (c for c in cats if c.parent_id is None):
        subs = [s for s in cats if s.parent_id == c.id]
        out.append(
            {
                "code": c.code,
                "name": c.name,
                "name_en": c.name_en,
                "subcategories": [
                    {
                        "code": s.code,
                        "name": s.name,
                        "name_en": s.name_en,
                        "is_dispute": s.is_dispute,
                        "sensitive": s.sensitive,
                        "default_department": deps.get(s.default_department_id),
                        "time_limits": limits.get(s.id, []),
                    }
                    for s in subs
                ],
            }
        )
    return out


def list_departments(session: Session, units: bool = False) -> list[dict]:
    """The bureaus; with `units` their handling units too (each with its bureau's code and its
    district's)."""
    q = select(Department).order_by(Department.code)
    if not units:
        q = q.where(Department.parent_id.is_(None))
    rows = list(session.execute(q).scalars())
    code = {d.id: d.code for d in rows}
    districts = dict(
        session.execute(select(Area.id, Area.code).where(Area.level == "district")).all()
    )
    out = []
    for d in rows:
        item = {"code": d.code, "name": d.name, "name_en": d.name_en}
        if units:
            item |= {"parent": code.get(d.parent_id), "district": districts.get(d.district_id)}
        out.append(item)
    return out


def list_sources() -> list[dict]:
    return [{"code": k, "name": zh, "name_en": en} for k, (zh, en) in SOURCE_LABELS.items()]


# --- KPIs ---------------------------------------------------------------------------------
GROUPS = {"department": "department_id", "district": "district_id", "category": "category_id"}


def _raw_counts(session: Session, p: kpi.Period, where, group: str | None) -> dict:
    """The counts of kpi.count_expressions from the events, in total or per group."""
    exprs = kpi.count_expressions(p)
    group_col = getattr(Event, GROUPS[group]) if group else None
    cols = [group_col.label("g")] if group_col is not None else []
    q = select(*cols, *(e.label(n) for n, e in exprs.items())).where(kpi.relevant(p), *where)
    if group_col is not None:
        q = q.group_by(group_col)
    return {
        (r["g"] if group_col is not None else None): {n: int(r[n] or 0) for n in exprs}
        for r in session.execute(q).mappings()
    }


def _summary_plan(session: Session, p: kpi.Period, scope: AreaScope, dept_id, zone: ZoneInfo):
    """The whole local days of P that the summaries answer — (first day, end day, their filters,
    and the parts of P before and after them, read raw) — or None."""
    if scope.level not in ("city", "district"):
        return None
    offset = summaries.kept_offset(session, zone)
    if offset is None:
        return None
    shift = timedelta(seconds=offset)
    first = (p.start + shift - timedelta(microseconds=1)).date() + timedelta(days=1)
    end = (p.cutoff + shift).date()
    if first >= end:
        return None
    lo = datetime.combine(first, datetime.min.time()) - shift
    hi = datetime.combine(end, datetime.min.time()) - shift
    filters = {f"{scope.level}_id": scope.id} if scope.id is not None else {}
    if dept_id is not None:
        filters["department_id"] = dept_id
    head = kpi.Period(p.start, lo, lo, p.now) if p.start < lo else None
    tail = kpi.Period(hi, p.end, p.cutoff, p.now) if hi < p.cutoff else None
    return first, end, filters, [q for q in (head, tail) if q is not None]


def _counts(
    session: Session,
    p: kpi.Period,
    scope: AreaScope,
    dept_id,
    group: str | None,
    zone: ZoneInfo,
    use_summaries: bool = True,
) -> dict:
    """The counts of kpi.count_expressions plus 超期未办结 and 督办, in total or per group:
    whole days from the summaries (dashboard.summaries), the rest of P from the events."""
    where = [scope.event_filter()]
    if dept_id is not None:
        where.append(Event.department_id == dept_id)
    parts, raw = [], [p]
    plan = _summary_plan(session, p, scope, dept_id, zone) if use_summaries else None
    if plan is not None:
        first, end, filters, rest = plan
        counted, latest = summaries.read(session, first, end, filters, GROUPS.get(group))
        if latest is None or latest <= p.now:  # facts later than "now" are not in the question
            parts, raw = [counted], rest
    parts += [_raw_counts(session, q, where, group) for q in raw]
    out = summaries.add_counts(parts)
    zero = dict.fromkeys(summaries.COUNTS, 0)
    grouped_in_sql = session.get_bind().dialect.name == "postgresql"
    level = "city" if scope.id is None else scope.level
    overdue, pressed = _stock_statements(group, level, dept_id is not None, grouped_in_sql)
    params = {"start": p.start, "end": p.end, "cutoff": p.cutoff}
    params |= {"area": scope.id} if level != "city" else {}
    params |= {"dept": dept_id} if dept_id is not None else {}
    for q in overdue:
        if grouped_in_sql:
            counted = dict(session.execute(q, params).all())
        else:  # SQLite would walk the group's index over every event for a GROUP BY instead
            # of the few rows the condition's own index finds: counted here
            counted = Counter(session.execute(q, params).scalars())
        for g, n in counted.items():
            row = out.setdefault(g, dict(zero))
            row["overdue_open"] = row.get("overdue_open", 0) + n
    for *g, n in session.execute(pressed, params):
        if n:
            out.setdefault(g[0] if g else None, dict(zero))["supervised"] = n
    for row in out.values():
        row.setdefault("overdue_open", 0)
        row.setdefault("supervised", 0)
    if group is None:
        out.setdefault(None, dict(zero, overdue_open=0, supervised=0))
    return out


@functools.lru_cache(maxsize=64)
def _stock_statements(group: str | None, level: str, by_department: bool, grouped: bool):
    """The statements of 超期未办结 at the cut-off (two disjoint parts, kpi.overdue_parts) and
    of 督办 sent in P, per group or in total, built once per shape: the moments, the area and
    the department are bound parameters. 督办 is read from the supervisions alone (each keeps
    the department pressed and the case's district and category); a street, community or grid
    through the cases."""
    scope = AreaScope(None if level == "city" else -1, None, "", level, 0)
    area, dept = bindparam("area", type_=Integer), bindparam("dept", type_=Integer)
    where = [_area_filter(scope, Event, area)]
    if by_department:
        where.append(Event.department_id == dept)
    g = getattr(Event, GROUPS[group]) if group else literal(None)
    cutoff = bindparam("cutoff", type_=DateTime)
    overdue = [
        select(g, func.count()).where(part, *where).group_by(g)
        if grouped
        else select(g).where(part, *where)
        for part in kpi.overdue_parts(cutoff)
    ]
    sv = Supervision
    key = [getattr(sv, GROUPS[group])] if group else []
    pressed = (
        select(*key, func.count())
        .select_from(sv)
        .where(
            sv.at >= bindparam("start", type_=DateTime),
            sv.at < bindparam("end", type_=DateTime),
            sv.at <= cutoff,
            sv.kind == literal_column("'supervise'"),  # literal: the partial index's term
        )
        .group_by(*key)
    )
    if by_department:
        pressed = pressed.where(sv.department_id == dept)
    if level == "district":
        pressed = pressed.where(sv.district_id == area)
    elif level != "city":
        pressed = pressed.join(Event, Event.id == sv.event_id).where(where[0])
    return overdue, pressed


def kpi_report(
    session: Session,
    start: datetime,
    end: datetime,
    now: datetime,
    area: str | None = None,
    department: str | None = None,
    by: str | None = None,
    zone: ZoneInfo = ZoneInfo("Asia/Shanghai"),
    use_summaries: bool = True,
    wuzhi: bool = True,
) -> dict:
    """All DESIGN §5 figures for a period, area and department; optionally broken down by
    department, district or category (ranked by 综合指标值). `use_summaries=False` reads every
    count from the events (the summaries answer the same; tests and benchmarks compare)."""
    p = kpi.Period.of(start, end, now)
    scope = area_scope(session, area)
    dept_id = department_id(session, department) if department else None
    if by not in (None, "", *GROUPS):
        raise InputError({"by": f"must be one of {', '.join(GROUPS)}"})
    if by:  # every event is in one group (department None: not yet dispatched)
        groups = _counts(session, p, scope, dept_id, by, zone, use_summaries)
        total_counts = (
            summaries.add_counts([{None: row} for row in groups.values()]).get(None)
            or _counts(session, p, scope, dept_id, None, zone, use_summaries)[None]
        )
    else:
        total_counts = _counts(session, p, scope, dept_id, None, zone, use_summaries)[None]
    wuzhi = wuzhi and dept_id is None  # the 五治 index is an area's, not a department's
    uptime = feed_uptime(session, p, zone) if wuzhi else None  # the feeds are city-wide
    ground = wuzhi_groundwork(session, p, scope, zone) if wuzhi else {}
    cfg = kpisettings.in_force(session, p.cutoff)  # as configured at the period's cut-off
    figures = kpi.rates(total_counts)
    figures["composite_score"] = kpi.composite_score(figures, cfg.composite_weights)
    figures["wuzhi_index"] = (
        wuzhi_of(p, ground[None], total_counts, figures, uptime, cfg) if wuzhi else None
    )
    out = {
        "from": start.isoformat() + "Z",
        "to": end.isoformat() + "Z",
        "cutoff": p.cutoff.isoformat() + "Z",
        "area": scope.code,
        "area_name": scope.name,
        "department": department,
        "settings_versions": cfg.versions,
        "targets": cfg.kpi_targets,
        **figures,
    }
    if by:
        out["by"] = by
        out["breakdown"] = _breakdown(session, by, groups, p, uptime, ground, cfg)
    return out


def _names(session: Session, by: str) -> dict[int, tuple[str, str]]:
    if by == "department":
        return {d.id: (d.code, d.name) for d in session.execute(select(Department)).scalars()}
    if by == "category":
        rows = session.execute(select(Category).where(Category.parent_id.is_(None))).scalars()
        return {c.id: (c.code, c.name) for c in rows}
    rows = session.execute(select(Area).where(Area.level == "district")).scalars()
    return {a.id: (a.code, a.name) for a in rows}


def _breakdown(
    session: Session, by: str, counts: dict, p: kpi.Period, uptime, ground: dict, cfg
) -> list[dict]:
    """The figures per group, ranked; per district with its 五治 index (when `ground` holds
    the groundwork)."""
    names = _names(session, by)
    wuzhi = bool(ground) and by == "district"
    rows = []
    for key in sorted(counts, key=lambda k: (k is None, names.get(k, ("",))[0])):
        code, name = names.get(key, (None, "未派遣" if by == "department" else "—"))
        figures = kpi.rates(counts[key])
        figures["composite_score"] = kpi.composite_score(figures, cfg.composite_weights)
        if wuzhi and key is not None:
            figures["wuzhi_index"] = wuzhi_of(p, ground[key], counts[key], figures, uptime, cfg)
        rows.append({"code": code, "name": name, **figures})
    return kpi.rank(rows)


def _groundwork() -> dict:
    return {"grid_staff": 0, "party": 0, "acts": Counter(), "consult_led": 0, "hours": 0.0}


@functools.lru_cache(maxsize=8)
def _groundwork_statement(level: str):
    """The statement of wuzhi_groundwork for an area level, built once: the days and the
    area are bound parameters ("first", "last", "area")."""
    scope = AreaScope(-1, None, "", level, 0)  # stands for any area of the level
    area = bindparam("area", type_=Integer)

    def number(value):
        return literal(value, Float)

    staff = (
        select(
            literal("staff"),
            Staff.district_id,
            literal(None, String),
            func.count(),
            func.coalesce(func.sum(case((Staff.party_member, 1), else_=0)), 0),
            number(0.0),
        )
        .where(
            Staff.role.in_(GRID_STAFF_ROLES),
            Staff.status != "off",
            _area_filter(scope, Staff, area),
        )
        .group_by(Staff.district_id)
    )
    acts = (
        select(
            literal("activity"),
            Activity.district_id,
            Activity.type,
            func.count(),
            func.coalesce(func.sum(case((Activity.party_led, 1), else_=0)), 0),
            func.coalesce(func.sum(Activity.volunteer_hours), 0.0),
        )
        .where(
            Activity.date >= bindparam("first", type_=Date),
            Activity.date <= bindparam("last", type_=Date),
            _area_filter(scope, Activity, area),
        )
        .group_by(Activity.district_id, Activity.type)
    )
    people = select(
        literal("population"),
        Area.id,
        literal(None, String),
        func.coalesce(Area.population, 0),
        literal(0),
        number(0.0),
    ).where(Area.level == "district")
    return staff.union_all(acts, people)


def wuzhi_groundwork(session: Session, p: kpi.Period, scope: AreaScope, zone: ZoneInfo) -> dict:
    """The inputs of the 五治 index that are not events — grid staff and Party members among
    them, activities by type, Party-led consultations, volunteer hours, population — per
    district id and for the whole scope (key None), in one statement (three parts, told apart
    by their first column). Activities are dated by local day: the period's local days are the
    ones counted."""
    level = "city" if scope.id is None else scope.level
    params = {
        "first": local_day(p.start, zone),
        "last": local_day(p.cutoff - timedelta(microseconds=1), zone),
    }
    if level != "city":
        params["area"] = scope.id
    rows = session.execute(_groundwork_statement(level), params)
    out: dict = defaultdict(_groundwork)
    populations = {}
    for part, d, kind, n, led, hours in rows:
        row = out[d]
        if part == "staff":
            row["grid_staff"], row["party"] = n, int(led or 0)
        elif part == "activity":
            row["acts"][kind] += n
            row["hours"] += float(hours or 0)
            if kind == "consultation":
                row["consult_led"] += int(led or 0)
        else:
            populations[d] = n
    total = _groundwork()
    for row in out.values():
        for key in ("grid_staff", "party", "acts", "consult_led", "hours"):
            total[key] += row[key]
    for d, population in populations.items():
        out[d]["population"] = population
    total["population"] = scope.population or sum(populations.values())
    out[None] = total
    return out


def wuzhi_of(
    p: kpi.Period,
    ground: dict,
    counts: dict,
    figures: dict,
    uptime: float | None,
    cfg: kpisettings.KpiConfig,
) -> dict:
    """The 五治 indicator values of an area and period from its groundwork (wuzhi_groundwork),
    its event counts and figures, scored by kpi.wuzhi_index."""
    acts, pop = ground["acts"], ground["population"]
    days = max((p.cutoff - p.start).total_seconds() / 86400.0, 1 / 24)
    per30 = 30.0 / days

    def per_capita(n: float, per: float) -> float | None:
        return None if not pop else n / pop * per * per30

    repeat = figures.get("repeat_rate")
    values = {
        "party_member_share": kpi.ratio(ground["party"], ground["grid_staff"]),
        "party_led_share": kpi.ratio(ground["consult_led"], acts.get("consultation", 0)),
        "resident_report_share": kpi.ratio(counts["resident_reported"], counts["received"]),
        "consultations_per_10k": per_capita(acts.get("consultation", 0), 10_000),
        "volunteer_hours_per_1k": per_capita(ground["hours"], 1_000),
        "mediation_success_rate": figures.get("mediation_success_rate"),
        "grassroots_resolution_rate": figures.get("grassroots_resolution_rate"),
        "legal_activities_per_10k": per_capita(acts.get("legal_education", 0), 10_000),
        "moral_activities_per_10k": per_capita(
            acts.get("moral_lecture", 0) + acts.get("model_selection", 0), 10_000
        ),
        "non_repeat_rate": None if repeat is None else 1.0 - repeat,
        "sensor_report_share": kpi.ratio(counts["sensor_reported"], counts["received"]),
        "timely_dispatch_rate": figures.get("timely_dispatch_rate"),
        "feed_uptime": uptime,
    }
    return kpi.wuzhi_index(kpi.WuzhiInputs(values), cfg.wuzhi_targets, cfg.wuzhi_weights)


@functools.cache
def _feed_statement():
    """The hours each sensor feed sent data in [start, end), and (source NULL) the first hour
    kept: one statement, built once."""
    r = RollupHourly
    fed = (
        select(r.source, r.hour)
        .where(
            r.source.in_(sorted(SENSOR_SOURCES)),
            r.status == "reported",
            r.hour >= bindparam("start", type_=DateTime),
            r.hour < bindparam("end", type_=DateTime),
        )
        .distinct()
    )
    return fed.union_all(select(literal(None), func.min(r.hour)))


def feed_uptime(session: Session, p: kpi.Period, zone: ZoneInfo) -> float | None:
    """Share of hours (08–20 local) in P in which each sensor feed (video, IoT) sent data.

    Sensor feeds are city-wide systems, so the figure is the city's for every area.
    """
    rows = session.execute(_feed_statement(), {"start": p.start, "end": p.cutoff}).all()
    kept_from = next((h for source, h in rows if source is None), None)
    if kept_from is None:
        return None
    # Hourly rollups are kept for the recent days only: measure over what is kept.
    first = max(epoch(p.start), epoch(kept_from)) // 3600 * 3600
    hours = {
        datetime.fromtimestamp(h, UTC).replace(tzinfo=None)
        for h in range(first, epoch(p.cutoff), 3600)
        if 8 <= datetime.fromtimestamp(h, zone).hour < 20
    }
    if not hours:
        return None
    have = len({(source, h) for source, h in rows if source is not None and h in hours})
    return have / (len(hours) * len(SENSOR_SOURCES))


def overdue_counts(session: Session, now: datetime, districts: dict[int, str] | None = None):
    """超期未办结 now, in total and per district code."""
    if districts is None:
        districts = area_codes(session, "district")
    _closed_later, still_open = kpi.overdue_parts(now)
    rows = session.execute(
        select(Event.district_id, func.count()).where(still_open).group_by(Event.district_id)
    ).all()
    by_district = {districts.get(d, ""): n for d, n in rows}
    return sum(by_district.values()), by_district


# --- one event, and exports (personal data masked; dashboard.api decides who may reveal) --------
EXPORT_COLUMNS = (
    "source", "external_id", "status", "category", "subcategory", "district", "street",
    "community", "grid", "title", "reported_at", "accepted_at", "closed_at", "overdue",
    "satisfaction", "reporter_name", "reporter_phone",
)  # fmt: skip


def find_event(session: Session, source: str, external_id: str) -> Event | None:
    return session.execute(
        select(Event).where(Event.source == source, Event.external_id == external_id)
    ).scalar_one_or_none()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def _event_row(e: Event, cats: dict[int, str], areas: dict[int, str]) -> dict:
    """An event as exported and shown (EXPORT_COLUMNS); reporter and free text masked."""
    return {
        "source": e.source,
        "external_id": e.external_id,
        "status": e.status,
        "category": cats.get(e.category_id),
        "subcategory": cats.get(e.subcategory_id),
        "district": areas.get(e.district_id),
        "street": areas.get(e.street_id),
        "community": areas.get(e.community_id),
        "grid": areas.get(e.grid_id),
        "title": mask_text(e.title),
        "reported_at": _iso(e.reported_at),
        "accepted_at": _iso(e.accepted_at),
        "closed_at": _iso(e.closed_at),
        "overdue": e.overdue,
        "satisfaction": e.satisfaction,
        "reporter_name": mask_name(unseal(e.reporter_name)),
        "reporter_phone": mask_phone(unseal(e.reporter_phone)),
    }


def _area_ids(events) -> set[int]:
    return {i for e in events for i in (e.district_id, e.street_id, e.community_id, e.grid_id)}


def event_detail(session: Session, e: Event) -> dict:
    """An event with its timeline; reporter and free text masked."""
    cats = dict(session.execute(select(Category.id, Category.code)).all())
    departments = dict(session.execute(select(Department.id, Department.code)).all())
    timeline = session.execute(
        select(Transition).where(Transition.event_id == e.id).order_by(Transition.at, Transition.id)
    ).scalars()
    return {
        **_event_row(e, cats, area_codes(session, ids=_area_ids([e]))),
        "severity": e.severity,
        "description": mask_text(e.description),
        "close_deadline": _iso(e.close_deadline),
        "transitions": [
            {
                "from": t.from_status,
                "to": t.to_status,
                "at": _iso(t.at),
                "actor": mask_text(t.actor),
                "department": departments.get(t.department_id),
                "note": mask_text(t.note),
            }
            for t in timeline
        ],
    }


def export_rows(session: Session, start: datetime, end: datetime, area: str | None, limit: int):
    """Events reported in [start, end) in an area, as export rows with personal data masked."""
    scope = area_scope(session, area)
    cats = dict(session.execute(select(Category.id, Category.code)).all())
    q = (
        select(Event)
        .where(Event.reported_at >= start, Event.reported_at < end, scope.event_filter())
        .order_by(Event.reported_at)
        .limit(limit)
    )
    rows = session.execute(q).scalars().all()
    areas = area_codes(session, ids=_area_ids(rows))
    return [_event_row(e, cats, areas) for e in rows]
