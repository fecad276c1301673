"""The wall's minute snapshot (总览大屏).

The expensive part of the wall — KPI figures, staffing, alerts, map shapes — is computed once a
minute by the scheduler (`refresh`, job `wall_snapshot`) and kept in Redis; every refresh of
every wall then reads the live counters and that snapshot (dashboard.views.overview), and
touches no SQL.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import duty, staffing
from dashboard.alerts import OPEN_STATES, list_alerts
from dashboard.clock import day_bounds, local_day, to_utc_naive
from dashboard.domain import STATUSES
from dashboard.kpi import WUZHI_DIMENSIONS
from dashboard.live import LiveState
from dashboard.models import Area, Category, Event, Transition
from dashboard.privacy import mask_text
from dashboard.queries import kpi_report
from dashboard.refdata import area_codes


def week_start(day, zone: ZoneInfo) -> datetime:
    """Monday 00:00 local of the ISO week of `day`, in naive UTC."""
    monday = day - timedelta(days=day.weekday())
    return to_utc_naive(datetime(monday.year, monday.month, monday.day), zone)


def refresh(
    session: Session,
    live: LiveState,
    now: datetime,
    zone: ZoneInfo,
    standards: staffing.Standards | None = None,
) -> dict:
    """The scheduler's job: rebuild the snapshot (and the map shapes when missing)."""
    snapshot = build_snapshot(session, now, zone, live.document("wall"), standards)
    if (live.document("geo") or {}).get("version") != GEO_VERSION:
        live.set_document("geo", build_geo(session), bump=False)
    live.set_document("wall", snapshot)
    return {"built_at": snapshot["built_at"]}


RATES_EVERY = timedelta(minutes=5)


def build_snapshot(
    session: Session,
    now: datetime,
    zone: ZoneInfo,
    previous: dict | None = None,
    standards: staffing.Standards | None = None,
) -> dict:
    """Everything on the wall that needs SQL, for the city and its districts (`previous`: the
    snapshot before, whose slower parts may be carried over; `standards`: the staffing
    standard, dashboard/staffing.toml when not given)."""
    today = local_day(now, zone)
    day_lo, day_hi = day_bounds(today, zone)
    yesterday_lo = day_lo - timedelta(days=1)
    same_time_yesterday = now - timedelta(days=1)

    def figures(start, end, cutoff_now, **kw):
        return kpi_report(session, start, end, cutoff_now, zone=zone, **kw)

    today_kpi = figures(day_lo, day_hi, now, by="district")
    yesterday_kpi = figures(yesterday_lo, same_time_yesterday, now, by="district")
    monday = week_start(today, zone)
    week_departments = figures(monday, monday + timedelta(days=7), now, by="department")
    week_districts = figures(monday, monday + timedelta(days=7), now, by="district")
    yesterday_counts = dict(
        session.execute(
            select(Transition.to_status, func.count())
            .where(Transition.at >= yesterday_lo, Transition.at < same_time_yesterday)
            .group_by(Transition.to_status)
        ).all()
    )
    standards = standards or staffing.load()
    early = timedelta(minutes=standards.check_in_early_minutes)
    on_duty_now, on_duty_then = (
        duty.count(duty.roster_at(session, at, early, standards.grid_roles), "district_id")
        for at in (now, same_time_yesterday)
    )
    posts = staffing.against_standard(session, standards)
    uncovered = staffing.uncovered_grids(session)
    districts = (
        session.execute(select(Area).where(Area.level == "district").order_by(Area.code))
        .scalars()
        .all()
    )
    district_code = {d.id: d.code for d in districts}
    alerts = list_alerts(session, OPEN_STATES)
    alert_levels = {str(level): 0 for level in (1, 2, 3, 4)}
    alert_levels_by_district: dict[str, dict[str, int]] = {
        d.code: dict.fromkeys(alert_levels, 0) for d in districts
    }
    for a, _code, district_id in alerts:
        alert_levels[str(a.level)] += 1
        if district_id in district_code:
            alert_levels_by_district[district_code[district_id]][str(a.level)] += 1
    week = (monday, monday + timedelta(days=7), now)
    departments_by_district = {
        d.code: _department_rows(figures(*week, by="department", area=d.code)) for d in districts
    }
    # The night shift's view (?window=24h): the last 24 hours against the 24 before them; and
    # the month so far beside either window. Their counts are new every minute; their rates
    # (three KPI reports) every RATES_EVERY, carried over in between.
    day_ago, two_days_ago = now - timedelta(days=1), now - timedelta(days=2)
    rates = (previous or {}).get("window_rates")
    if (
        not rates
        or rates.get("day") != today.isoformat()
        or now - datetime.fromisoformat(rates["at"]) >= RATES_EVERY
    ):
        month_lo = to_utc_naive(datetime(today.year, today.month, 1), zone)
        rates = {"at": now.isoformat(), "day": today.isoformat()} | {
            name: _scoped_picks(figures(start, end, now, by="district", wuzhi=False))
            for name, (start, end) in {
                "last24": (day_ago, now),
                "before24": (two_days_ago, day_ago),
                "month": (month_lo, day_hi),
            }.items()
        }
    return {
        "built_at": now.isoformat() + "Z",
        "day": today.isoformat(),
        "today": _pick(today_kpi),
        "yesterday": _pick(yesterday_kpi),
        "today_by_district": _by_district(today_kpi),
        "yesterday_by_district": _by_district(yesterday_kpi),
        "yesterday_counts_by_district": _counts_by_district(
            session, yesterday_lo, same_time_yesterday
        ),
        "open_by_street": open_by_street(session),
        "yesterday_counts": {s: yesterday_counts.get(s, 0) for s in STATUSES},
        # 在岗网格员 now and at the same time yesterday (dashboard.duty), and the posts the
        # staffing standard says are missing (缺编) and the grids with no full-time worker
        "on_duty_grid_staff": on_duty_now.total(),
        "on_duty_by_district": {district_code.get(k, ""): v for k, v in on_duty_now.items()},
        "on_duty_yesterday": on_duty_then.total(),
        "on_duty_yesterday_by_district": {
            district_code.get(k, ""): v for k, v in on_duty_then.items()
        },
        "staffing_gap": staffing.shortfall(posts),
        "staffing_gap_by_district": staffing.gaps_by_district(posts),
        "uncovered_grids": len(uncovered),
        "uncovered_grids_by_district": {
            district_code.get(k, ""): v
            for k, v in Counter(g["district_id"] for g in uncovered).items()
        },
        "districts": [
            {"code": d.code, "name": d.name, "population": d.population} for d in districts
        ],
        "departments_week": _department_rows(week_departments),
        "targets": week_departments["targets"],
        "departments_week_by_district": departments_by_district,
        "districts_week": [
            {
                "code": r["code"],
                "name": r["name"],
                "on_time_closing_rate": r["on_time_closing_rate"],
                "overdue_open": r["overdue_open"],
                "composite_score": r["composite_score"],
                "wuzhi": _wuzhi_dims(r.get("wuzhi_index")),
            }
            for r in week_districts["breakdown"]
            if r["code"]
        ],
        "wuzhi_week": _wuzhi_dims(week_districts.get("wuzhi_index")),
        "window_rates": rates,
        "last24": _window(session, rates["last24"], day_ago, now, cats=True),
        "before24": _window(session, rates["before24"], two_days_ago, day_ago),
        "month": rates["month"],
        "alert_levels": alert_levels,
        "alert_levels_by_district": alert_levels_by_district,
        "category_names": category_names(session),
        "alerts": [
            {
                "id": a.id,
                "level": a.level,
                "title": mask_text(a.title),
                "area": code,
                "district": district_code.get(district_id),
                "state": a.state,
                "escalated": a.escalated,
                "created_at": a.created_at.isoformat() + "Z",
            }
            for a, code, district_id in alerts[:200]
        ],
    }


def _department_rows(report: dict) -> list[dict]:
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "on_time_closing_rate": r["on_time_closing_rate"],
            "due_closing": r["due_closing"],
            "composite_score": r["composite_score"],
            "rank": r["rank"],
            "small_sample": r.get("small_sample", False),
        }
        for r in report["breakdown"]
        if r["code"]
    ]


def _by_district(report: dict) -> dict:
    return {r["code"]: _pick(r) for r in report["breakdown"] if r["code"]}


def _scoped_picks(report: dict) -> dict:
    return {"kpi": _pick(report), "kpi_by_district": _by_district(report)}


def _window(session: Session, rates: dict, start: datetime, end: datetime, cats=False) -> dict:
    """A rolling window's figures, for the city and by district: its KPIs (`rates`, from
    _scoped_picks), the transitions by status and (`cats`) the new events by category and
    source."""
    by_district = _counts_by_district(session, start, end)
    counts: dict[str, int] = {}
    for row in by_district.values():
        for status, n in row.items():
            counts[status] = counts.get(status, 0) + n
    out = {
        **rates,
        "counts": counts,
        "counts_by_district": by_district,
    }
    if cats:
        out["mix"] = _new_events_mix(session, start, end)
    return out


def _new_events_mix(session: Session, start: datetime, end: datetime) -> dict:
    """New events by category and by source, for the city and each district (the keys the
    live state's day counters use: "c:<category>", "s:<source>")."""
    rows = session.execute(
        select(Area.code, Category.code, Event.source, func.count())
        .join(Area, Area.id == Event.district_id)
        .join(Category, Category.id == Event.category_id)
        .where(Event.reported_at >= start, Event.reported_at < end)
        .group_by(Area.code, Category.code, Event.source)
    ).all()
    out: dict[str, dict[str, int]] = {"": {}}
    for district, category, source, n in rows:
        for scope in ("", district):
            mix = out.setdefault(scope, {})
            for key in (f"c:{category}", f"s:{source}"):
                mix[key] = mix.get(key, 0) + n
    return out


def _counts_by_district(session: Session, start: datetime, end: datetime) -> dict:
    rows = session.execute(
        select(Area.code, Transition.to_status, func.count())
        .join(Event, Event.id == Transition.event_id)
        .join(Area, Area.id == Event.district_id)
        .where(Transition.at >= start, Transition.at < end)
        .group_by(Area.code, Transition.to_status)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for code, status, n in rows:
        out.setdefault(code, {})[status] = n
    return out


def _pick(report: dict) -> dict:
    keys = (
        "received",
        "accepted",
        "closed",
        "on_time_closing_rate",
        "satisfaction_rate",
        "overdue_open",
        "timely_dispatch_rate",
        "closing_rate",
    )
    return {k: report.get(k) for k in keys}


def _wuzhi_dims(index: dict | None) -> dict | None:
    if not index:
        return None
    return {k: index.get(k) for k in (*WUZHI_DIMENSIONS, "total")}


GEO_VERSION = 2  # of the cached shapes document: a new version rebuilds it (2: clockwise rings)


def _signed_area(ring: list) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in pairwise(ring))


def clockwise(geometry: dict) -> dict:
    """Outer rings clockwise and holes counter-clockwise, as plotly's geo maps (d3-geo) want
    them; RFC 7946 GeoJSON, as imported, has it the other way round."""

    def fix(polygon: list) -> list:
        return [
            ring[::-1] if (_signed_area(ring) > 0) == (i == 0) else ring
            for i, ring in enumerate(polygon)
        ]

    if geometry.get("type") == "Polygon":
        return {**geometry, "coordinates": fix(geometry["coordinates"])}
    if geometry.get("type") == "MultiPolygon":
        return {**geometry, "coordinates": [fix(p) for p in geometry["coordinates"]]}
    return geometry


def build_geo(session: Session) -> dict:
    """District and street shapes as GeoJSON FeatureCollections (static; cached in Redis)."""
    out: dict = {"version": GEO_VERSION}
    for level in ("district", "street"):
        areas = (
            session.execute(
                select(Area)
                .where(Area.level == level, Area.boundary.is_not(None))
                .order_by(Area.code)
            )
            .scalars()
            .all()
        )
        parents = area_codes(session, ids=[a.parent_id for a in areas])
        out[level] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": a.code,
                    "geometry": clockwise(json.loads(a.boundary)),
                    "properties": {
                        "code": a.code,
                        "name": a.name,
                        "population": a.population,
                        "parent": parents.get(a.parent_id),
                    },
                }
                for a in areas
            ],
        }
    return out


def category_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Category.code, Category.name)).all())


def open_by_street(session: Session) -> dict[str, int]:
    """Open events per street code (for the street map of a chosen district)."""
    rows = session.execute(
        select(Area.code, func.count())
        .join(Event, Event.street_id == Area.id)
        .where(Event.is_open)
        .group_by(Area.code)
    ).all()
    return dict(rows)
