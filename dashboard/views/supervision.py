"""Read model of 督办考核 (supervision and assessment): a period's KPIs against the previous
period and the targets, the 红黑榜 of departments and districts, the overdue cases by
department, 12-week trends, handling times by category, 就地化解 and 三调联动, and the
五治融合指数 laid open — all from dashboard.queries.kpi_report (DESIGN §5), as plain data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import kpi
from dashboard.clock import day_bounds, local_day
from dashboard.domain import LEVEL_LABELS, LEVELS, MEDIATION_TYPES
from dashboard.models import Area, Category, Department, Event, Supervision
from dashboard.privacy import mask_text
from dashboard.queries import area_scope, kpi_report
from dashboard.schemas import InputError

PERIODS = ("this_week", "last_week", "this_month", "custom")
CUSTOM_MAX_DAYS = 366
TREND_WEEKS = 12
TREND_KEYS = (
    "on_time_closing_rate",
    "closing_rate",
    "satisfaction_rate",
    "rework_rate",
    "extension_rate",
)
# The KPI cards, in reading order: (key, kind) — kind says how the value is shown.
CARDS = (
    ("composite_score", "points"),
    ("on_time_closing_rate", "rate"),
    ("closing_rate", "rate"),
    ("satisfaction_rate", "rate"),
    ("timely_acceptance_rate", "rate"),
    ("timely_dispatch_rate", "rate"),
    ("on_time_handling_rate", "rate"),
    ("rework_rate", "rate"),
    ("extension_rate", "rate"),
    ("repeat_rate", "rate"),
    ("grassroots_resolution_rate", "rate"),
    ("mediation_success_rate", "rate"),
    ("due_closing", "count"),
    ("closed_on_time", "count"),
    ("overdue_open", "count"),
    ("supervised", "count"),
    ("handling_hours_median", "hours"),
    ("received", "count"),
)
# The components of 综合指标值 shown on the 红黑榜, with the sample behind it.
BOARD_KEYS = (*kpi.DEFAULT_COMPOSITE_WEIGHTS, "due_closing", "overdue_open")
OVERDUE_LIST = 500  # overdue cases listed for 督办, oldest first


@dataclass(frozen=True)
class Window:
    """A period and the one it is compared with: the same length just before it, cut at the
    same point when the period is still running."""

    choice: str
    start: datetime  # naive UTC
    end: datetime
    cutoff: datetime
    previous_start: datetime
    previous_end: datetime
    first_day: date
    last_day: date  # local, included


def window(choice, first, last, now: datetime, zone: ZoneInfo) -> Window:
    """The period a page asks for. `first`/`last` (local ISO days, the last included) only
    for "custom". InputError for anything else."""
    today = local_day(now, zone)
    if choice not in PERIODS:
        raise InputError({"period": f"must be one of {', '.join(PERIODS)}"})
    if choice == "this_week":
        a = today - timedelta(days=today.weekday())
        b = a + timedelta(days=6)
    elif choice == "last_week":
        a = today - timedelta(days=today.weekday() + 7)
        b = a + timedelta(days=6)
    elif choice == "this_month":
        a = today.replace(day=1)
        b = (a + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    else:
        try:
            a = date.fromisoformat(str(first)[:10])
            b = date.fromisoformat(str(last)[:10])
        except ValueError:
            raise InputError({"from": "a day as YYYY-MM-DD"}) from None
        if b < a:
            raise InputError({"to": "must not be before 'from'"})
        if (b - a).days >= CUSTOM_MAX_DAYS:
            raise InputError({"to": f"at most {CUSTOM_MAX_DAYS} days"})
        if a > today:
            raise InputError({"from": "lies in the future"})
    start = day_bounds(a, zone)[0]
    end = day_bounds(b, zone)[1]
    cutoff = min(now, end)
    length = end - start
    return Window(
        choice,
        start,
        end,
        cutoff,
        start - length,
        start - length + (cutoff - start),
        a,
        b,
    )


def _scope_filter(district: str | None):
    return {"area": district} if district else {}


def report(
    session: Session, w: Window, district: str | None, now: datetime, zone: ZoneInfo
) -> dict:
    """Everything the page shows for a period and an area (None: the city)."""
    scope = area_scope(session, district)
    here = kpi_report(session, w.start, w.end, now, by="department", zone=zone, **_scope_filter(district))  # fmt: skip
    before = kpi_report(
        session, w.previous_start, w.previous_end, now, zone=zone, wuzhi=False,
        **_scope_filter(district),
    )  # fmt: skip
    districts = kpi_report(session, w.start, w.end, now, by="district", zone=zone)
    targets = here["targets"]
    return {
        "scope": {"code": scope.code, "name": scope.name, "level": scope.level},
        "period": {
            "choice": w.choice,
            "first_day": w.first_day.isoformat(),
            "last_day": w.last_day.isoformat(),
            "running": w.cutoff < w.end,
        },
        "targets": targets,
        "settings_versions": here["settings_versions"],
        "cards": cards(here, before, targets),
        "departments": board(here["breakdown"], targets),
        "districts": board(districts["breakdown"], targets)
        if district is None
        else board([r for r in districts["breakdown"] if r["code"] == district], targets),
        "handling": handling_by_category(session, w, district, now, zone),
        "grassroots": grassroots(session, w, scope),
        "mediation": mediation(session, w, scope),
        "wuzhi": wuzhi(here, districts, district),
        "overdue": overdue_by_department(session, now, scope),
    }


def cards(here: dict, before: dict, targets: dict) -> list[dict]:
    out = []
    for key, kind in CARDS:
        value, previous = here.get(key), before.get(key)
        target = targets.get(key)
        out.append(
            {
                "key": key,
                "kind": kind,
                "value": value,
                "previous": previous,
                "change": None if value is None or previous is None else value - previous,
                "target": target,
                "standing": kpi.standing(key, value, target),
                "better": "lower"
                if key in kpi.LOWER_IS_BETTER
                else ("higher" if kind != "count" or key == "closed_on_time" else None),
            }
        )
    return out


def board(rows: list[dict], targets: dict) -> list[dict]:
    """The 红黑榜 rows: rank (None: unranked, small_sample when too few cases), the score and
    every component, each with its standing against the target."""
    out = []
    for r in rows:
        row = {
            "code": r["code"],
            "name": r["name"],
            "rank": r["rank"],
            "small_sample": r.get("small_sample", False),
            "composite_score": r["composite_score"],
            "standing": {
                k: kpi.standing(k, r.get(k), targets.get(k))
                for k in ("composite_score", *BOARD_KEYS)
            },
        }
        row.update({k: r.get(k) for k in BOARD_KEYS})
        out.append(row)
    return out


def handling_by_category(
    session: Session, w: Window, district: str | None, now: datetime, zone: ZoneInfo
) -> list[dict]:
    """Mean, median and P90 handling hours (dispatch → first resolution) by category."""
    r = kpi_report(session, w.start, w.end, now, by="category", zone=zone, wuzhi=False, **_scope_filter(district))  # fmt: skip
    rows = [
        {
            "code": x["code"],
            "name": x["name"],
            "n": x["handling_samples"],
            "mean": x["handling_hours_mean"],
            "median": x["handling_hours_median"],
            "p90": x["handling_hours_p90"],
        }
        for x in r["breakdown"]
        if x["handling_samples"]
    ]
    return sorted(rows, key=lambda x: -(x["median"] or 0))


def _closed_disputes(w: Window, scope):
    return (
        Event.closed_at >= w.start,
        Event.closed_at < w.cutoff,
        Event.is_dispute,
        scope.event_filter(),
    )


def grassroots(session: Session, w: Window, scope) -> list[dict]:
    """就地化解: the disputes closed in the period by the level that settled them (小事不出村、
    大事不出镇), the grid first."""
    counts = dict(
        session.execute(
            select(Event.resolved_level, func.count())
            .where(*_closed_disputes(w, scope))
            .group_by(Event.resolved_level)
        ).all()
    )
    total = sum(counts.values())
    return [
        {
            "level": level,
            "name": LEVEL_LABELS[level][0],
            "name_en": LEVEL_LABELS[level][1],
            "n": counts.get(level, 0),
            "share": kpi.ratio(counts.get(level, 0), total),
        }
        for level in LEVELS
    ]


def mediation(session: Session, w: Window, scope) -> list[dict]:
    """三调联动: the disputes closed in the period that were mediated, by kind, and how many
    succeeded."""
    rows = session.execute(
        select(Event.mediation_type, Event.mediation_result, func.count())
        .where(*_closed_disputes(w, scope), Event.mediation_result.is_not(None))
        .group_by(Event.mediation_type, Event.mediation_result)
    ).all()
    n: dict = defaultdict(int)
    ok: dict = defaultdict(int)
    for kind, result, count in rows:
        n[kind] += count
        if result == "success":
            ok[kind] += count
    kinds = [*MEDIATION_TYPES, None] if n.get(None) else list(MEDIATION_TYPES)
    return [
        {
            "type": k,
            "name": MEDIATION_TYPES[k][0] if k else "未注明",
            "name_en": MEDIATION_TYPES[k][1] if k else "Not stated",
            "n": n.get(k, 0),
            "success": ok.get(k, 0),
            "success_rate": kpi.ratio(ok.get(k, 0), n.get(k, 0)),
        }
        for k in kinds
    ]


def wuzhi(here: dict, districts: dict, district: str | None) -> dict:
    """The 五治融合指数: each district's five dimensions (for the radar) and, for the area on
    the page, every indicator with its value, target, weight and score."""
    shown = here["wuzhi_index"] or {}
    weights = shown.get("weights", {})
    return {
        "dimensions": list(kpi.WUZHI_DIMENSIONS),
        "districts": [
            {
                "code": r["code"],
                "name": r["name"],
                "total": (r.get("wuzhi_index") or {}).get("total"),
                "values": [(r.get("wuzhi_index") or {}).get(d) for d in kpi.WUZHI_DIMENSIONS],
            }
            for r in districts["breakdown"]
            if r["code"] and (district is None or r["code"] == district)
        ],
        "total": shown.get("total"),
        "scores": {d: shown.get(d) for d in kpi.WUZHI_DIMENSIONS},
        "indicators": [
            i | {"weight": weights.get(i["dimension"])} for i in shown.get("indicators", [])
        ],
    }


def overdue_by_department(session: Session, now: datetime, scope) -> dict:
    """超期未办结 now: per department the count, the oldest and the mean days past the
    deadline, and how many were sent a 督办; and the oldest cases, for a batch 督办."""
    late = (Event.is_open, Event.accepted_at <= now, Event.close_deadline < now)
    rows = session.execute(
        select(
            Event.id,
            Event.source,
            Event.external_id,
            Event.title,
            Event.department_id,
            Event.district_id,
            Event.subcategory_id,
            Event.close_deadline,
            Event.supervised_at,
        )
        .where(*late, scope.event_filter())
        .order_by(Event.close_deadline)
    ).all()
    names = dict(session.execute(select(Department.id, Department.name)).all())
    districts = dict(
        session.execute(select(Area.id, Area.name).where(Area.level == "district")).all()
    )
    subs = dict(session.execute(select(Category.id, Category.name)).all())
    per: dict = defaultdict(lambda: {"n": 0, "days": 0.0, "oldest": 0.0, "supervised": 0})
    for r in rows:
        days = (now - r.close_deadline).total_seconds() / 86400
        d = per[r.department_id]
        d["n"] += 1
        d["days"] += days
        d["oldest"] = max(d["oldest"], days)
        d["supervised"] += r.supervised_at is not None
    by_department = sorted(
        (
            {
                "department": names.get(k, "未派遣"),
                "n": v["n"],
                "mean_days": v["days"] / v["n"],
                "oldest_days": v["oldest"],
                "supervised": v["supervised"],
            }
            for k, v in per.items()
        ),
        key=lambda x: -x["n"],
    )
    open_supervisions = dict(
        session.execute(
            select(Supervision.event_id, func.count())
            .where(
                Supervision.event_id.in_([r.id for r in rows[:OVERDUE_LIST]]),
                Supervision.kind == "supervise",
            )
            .group_by(Supervision.event_id)
        ).all()
    )
    cases = [
        {
            "id": r.id,
            "case": f"{r.source}/{r.external_id}",
            "title": mask_text(r.title),
            "category": subs.get(r.subcategory_id, ""),
            "district": districts.get(r.district_id, ""),
            "department": names.get(r.department_id, "未派遣"),
            "deadline": r.close_deadline,
            "overdue_days": round((now - r.close_deadline).total_seconds() / 86400, 1),
            "supervisions": open_supervisions.get(r.id, 0),
        }
        for r in rows[:OVERDUE_LIST]
    ]
    return {"total": len(rows), "by_department": by_department, "cases": cases}


def trends(
    session: Session,
    now: datetime,
    zone: ZoneInfo,
    district: str | None = None,
    department: str | None = None,
) -> dict:
    """按期结案率, 结案率, 满意率, 返工率, 延期率 for each of the last TREND_WEEKS whole weeks."""
    today = local_day(now, zone)
    monday = today - timedelta(days=today.weekday())
    weeks = []
    for k in range(TREND_WEEKS, 0, -1):
        a = monday - timedelta(days=7 * k)
        start = day_bounds(a, zone)[0]
        end = day_bounds(a + timedelta(days=6), zone)[1]
        r = kpi_report(
            session, start, end, now, zone=zone, department=department, wuzhi=False,
            **_scope_filter(district),
        )  # fmt: skip
        weeks.append(
            {"week": f"{a.isocalendar().year}-W{a.isocalendar().week:02d}", "monday": a}
            | {k: r[k] for k in (*TREND_KEYS, "due_closing")}
        )
    return {"weeks": weeks, "department": department, "district": district}
