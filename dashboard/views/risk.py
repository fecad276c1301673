"""风险预警's data: the open alerts as cards, one alert's evidence (its series against the same
hours of the last weeks, the events it was raised on, its history, its notices), risk heat by
area, dispute hotspots by community, alert history and how fast alerts were taken up and ended.

Everything is cut to a district for a district-bound principal (`district_id`)."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dashboard import alerts as alert_states
from dashboard import notices
from dashboard.clock import epoch, from_epoch
from dashboard.models import (
    Alert,
    AlertEvent,
    Area,
    Department,
    Event,
    RiskRule,
)
from dashboard.privacy import mask_text
from dashboard.sqlfuncs import epoch_bucket
from dashboard.views.flow import local, rows

LEVEL_WEIGHT = {1: 8, 2: 4, 3: 2, 4: 1}  # the heat of one open alert of a level
FAMILIES = ("surge", "repeat", "backlog", "major", "keywords", "staffing", "feed_silence")
PERIODS = {"7d": 7, "30d": 30, "90d": 90}
EVENTS_SHOWN = 200
BASELINE_WEEKS = 4


def rule_names(session: Session) -> dict[str, tuple[str, str]]:
    return {
        k: (n, e or n)
        for k, n, e in session.execute(select(RiskRule.key, RiskRule.name, RiskRule.name_en))
    }


def _area_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(ids))).all())


def cards(
    session: Session,
    zone: ZoneInfo,
    district_id: int | None = None,
    level: int | None = None,
    family: str | None = None,
) -> list[dict]:
    """The open alerts, red first, then the newest."""
    found = alert_states.list_alerts(
        session, alert_states.OPEN_STATES, level, district_id, 500, family
    )
    return _present(session, [a for a, _code, _d in found], zone)


def _present(session: Session, found: list[Alert], zone: ZoneInfo) -> list[dict]:
    names = rule_names(session)
    areas = _area_names(session, [a.area_id for a in found] + [a.district_id for a in found])
    depts = dict(session.execute(select(Department.id, Department.name)).all())
    counts = (
        dict(
            session.execute(
                select(AlertEvent.alert_id, func.count())
                .where(AlertEvent.alert_id.in_([a.id for a in found]))
                .group_by(AlertEvent.alert_id)
            ).all()
        )
        if found
        else {}
    )
    return [
        {
            "id": a.id,
            "level": a.level,
            "rule": a.rule,
            "rule_name": names.get(a.rule, (a.rule, a.rule)),
            "family": a.rule.partition(".")[0],
            "title": mask_text(a.title),
            "area": areas.get(a.area_id) or areas.get(a.district_id) or "",
            "district": areas.get(a.district_id) or "",
            "district_id": a.district_id,
            "since": local(a.created_at, zone),
            "created_at": a.created_at,
            "updated": local(a.updated_at, zone),
            "hits": a.hits,
            "state": a.state,
            "assignee": a.assignee,
            "department": depts.get(a.department_id),
            "escalated": a.escalated,
            "events": counts.get(a.id, 0),
            "acknowledged_at": a.acknowledged_at,
            "closed_at": a.closed_at,
        }
        for a in found
    ]


def find(session: Session, alert_id, district_id: int | None) -> Alert | None:
    """The alert, if the principal may see it."""
    if not isinstance(alert_id, int) or isinstance(alert_id, bool) or alert_id <= 0:
        return None
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    if district_id is not None and alert_states.in_district(session, alert) != district_id:
        return None
    return alert


def detail(session: Session, alert: Alert, now: datetime, zone: ZoneInfo) -> dict:
    """One alert: its card, evidence, series, events, history and notices."""
    [card] = _present(session, [alert], zone)
    events = list(
        session.execute(
            select(Event)
            .join(AlertEvent, AlertEvent.event_id == Event.id)
            .where(AlertEvent.alert_id == alert.id)
            .order_by(Event.reported_at.desc())
            .limit(EVENTS_SHOWN)
        ).scalars()
    )
    linked = notices.listing(session, limit=50, alert_id=alert.id)
    return {
        **card,
        "evidence": orjson.loads(alert.evidence or "{}"),
        "series": series(session, alert, now, zone),
        "events_rows": rows(session, events, now, zone),
        "history": [
            {
                "at": local(h.at, zone),
                "from": h.from_state,
                "to": h.to_state,
                "actor": h.actor,
                "note": mask_text(h.note) if h.note else "",
            }
            for h in alert_states.history(session, alert.id)
        ],
        "notices": linked,
    }


def _matching(subject: str):
    """The events an alert's subject is about, as SQL conditions (None: no series — an alert
    about one event, or judged on the state now: a department's backlog, a street's staff)."""
    parts = dict(p.split(":", 1) for p in subject.split("|") if ":" in p)
    out = []
    if "place" in parts:
        out.append(Event.place_key == parts["place"])
    if "compound" in parts:
        out.append(Event.compound_key == parts["compound"])
    if "grid" in parts and parts["grid"].isdigit():
        out.append(Event.grid_id == int(parts["grid"]))
    if "community" in parts and parts["community"].isdigit():
        out.append(Event.community_id == int(parts["community"]))
    if "sub" in parts and parts["sub"].isdigit():
        out.append(Event.subcategory_id == int(parts["sub"]))
    if "reporter" in parts:
        out.append(Event.reporter_key == parts["reporter"])
    if "source" in parts:
        out.append(Event.source == parts["source"])
    return out or None


def series(session: Session, alert: Alert, now: datetime, zone: ZoneInfo) -> dict | None:
    """The counts behind an alert against its baseline: per hour over the last 24 hours, with
    the lowest, mean and highest of the same hours in each of the last four weeks (repeats: per
    day over their days, no baseline). None for an alert about one event."""
    where = _matching(alert.subject or "")
    if where is None:
        return None
    offset = int(zone.utcoffset(now).total_seconds())
    if alert.rule.startswith("repeat"):
        days = int(orjson.loads(alert.evidence or "{}").get("days", 7))
        step, n = 86400, max(days, 7)
    else:
        step, n = 3600, 24
    end = (epoch(now) + offset) // step * step + step  # as epoch_bucket cuts it, then one on
    start = end - n * step
    back = BASELINE_WEEKS if step == 3600 else 0
    lo_time = from_epoch(start - offset - back * 7 * 86400)
    bucket = epoch_bucket(Event.reported_at, step, offset)
    counted = dict(
        session.execute(
            select(bucket, func.count())
            .where(*where, Event.reported_at >= lo_time, Event.reported_at <= now)
            .group_by(bucket)
        ).all()
    )
    week = 7 * 86400
    x, y, low, mean, high = [], [], [], [], []
    for k in range(n):
        b = start + k * step
        x.append(from_epoch(b).strftime("%m-%d %H:00" if step == 3600 else "%m-%d"))
        y.append(int(counted.get(b, 0)))
        if back:
            past = [int(counted.get(b - w * week, 0)) for w in range(1, back + 1)]
            low.append(min(past))
            mean.append(round(statistics.fmean(past), 2))
            high.append(max(past))
    return {
        "x": x,
        "y": y,
        "low": low or None,
        "mean": mean or None,
        "high": high or None,
        "unit": "hour" if step == 3600 else "day",
    }


def heat(session: Session, district_id: int | None = None) -> list[dict]:
    """Risk heat per district (per street inside one district): the open alerts weighted by
    level (红 8, 橙 4, 黄 2, 蓝 1), with their count."""
    found = alert_states.list_alerts(session, alert_states.OPEN_STATES, None, district_id)
    if district_id is None:
        key_of = {a.id: d for a, _c, d in found}
        areas = session.execute(
            select(Area.id, Area.code, Area.name).where(Area.level == "district")
        ).all()
    else:
        grid_street = dict(
            session.execute(
                select(Area.id, Area.street_id).where(Area.district_id == district_id)
            ).all()
        )
        key_of = {a.id: grid_street.get(a.area_id) for a, _c, _d in found}
        areas = session.execute(
            select(Area.id, Area.code, Area.name).where(
                Area.level == "street", Area.district_id == district_id
            )
        ).all()
    score: dict[int, int] = {}
    count: dict[int, int] = {}
    for a, _c, _d in found:
        k = key_of.get(a.id)
        if k is not None:
            score[k] = score.get(k, 0) + LEVEL_WEIGHT.get(a.level, 1)
            count[k] = count.get(k, 0) + 1
    return [
        {"code": code, "name": name, "heat": score.get(i, 0), "alerts": count.get(i, 0)}
        for i, code, name in areas
    ]


def hotspots(
    session: Session, now: datetime, days: int = 30, district_id: int | None = None, top: int = 12
) -> list[dict]:
    """矛盾纠纷 by community over the last `days`: the communities with the most disputes, with
    how many are still open and how many were settled near home (grid or community)."""
    q = (
        select(
            Event.community_id,
            func.count(),
            func.sum(case((Event.is_open, 1), else_=0)),
        )
        .where(Event.is_dispute, Event.reported_at >= now - timedelta(days=days))
        .group_by(Event.community_id)
        .order_by(func.count().desc())
        .limit(top)
    )
    if district_id is not None:
        q = q.where(Event.district_id == district_id)
    found = session.execute(q).all()
    names = _area_names(session, [c for c, _n, _o in found])
    parents = dict(
        session.execute(
            select(Area.id, Area.street_id).where(Area.id.in_([c for c, _n, _o in found]))
        ).all()
    )
    streets = _area_names(session, parents.values())
    return [
        {
            "community": names.get(c, ""),
            "street": streets.get(parents.get(c), ""),
            "disputes": int(n),
            "open": int(o or 0),
        }
        for c, n, o in found
    ]


def history(
    session: Session,
    zone: ZoneInfo,
    since: datetime,
    district_id: int | None = None,
    level: int | None = None,
    family: str | None = None,
    state: str | None = None,
) -> list[dict]:
    """Alerts raised since a time, in any state, with how long they took to be taken up and
    to end (minutes)."""
    found = alert_states.list_alerts(
        session,
        [state] if state else None,
        level,
        district_id,
        2000,
        family,
        since=since,
    )
    out = []
    for c in _present(session, [a for a, _c, _d in found], zone):
        out.append(
            {
                **{
                    k: v
                    for k, v in c.items()
                    if k not in ("created_at", "acknowledged_at", "closed_at")
                },
                "ack_minutes": _minutes(c["created_at"], c["acknowledged_at"]),
                "close_minutes": _minutes(c["created_at"], c["closed_at"]),
                "closed": local(c["closed_at"], zone) if c["closed_at"] else None,
            }
        )
    return out


def _minutes(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else max(0, int((end - start).total_seconds() // 60))


def response_times(history_rows: list[dict]) -> list[dict]:
    """Per level: alerts raised, taken up, ended; median minutes to take up and to end."""
    out = []
    for level in (1, 2, 3, 4):
        mine = [r for r in history_rows if r["level"] == level]
        acks = [r["ack_minutes"] for r in mine if r["ack_minutes"] is not None]
        ends = [r["close_minutes"] for r in mine if r["close_minutes"] is not None]
        out.append(
            {
                "level": level,
                "raised": len(mine),
                "acknowledged": len(acks),
                "ended": len(ends),
                "ack_median": statistics.median(acks) if acks else None,
                "close_median": statistics.median(ends) if ends else None,
            }
        )
    return out


def notice_rows(
    session: Session,
    zone: ZoneInfo,
    now: datetime,
    district_id: int | None = None,
    status: str | None = None,
    query: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict]:
    """Work notices for the pages' lists (issued in a period): local times and whether one is
    past its deadline."""
    out = []
    for n in notices.listing(
        session, district_id, status, query, since=since, until=until, limit=300
    ):
        deadline = datetime.fromisoformat(n["deadline"][:-1])
        out.append(
            {
                **n,
                "deadline_local": local(deadline, zone),
                "issued_local": local(datetime.fromisoformat(n["issued_at"][:-1]), zone),
                "late": n["status"] != "done" and deadline < now,
                "to": " / ".join(x for x in (n["department"], n["street"]) if x),
            }
        )
    return out


def notice_targets(session: Session, district_id: int | None = None) -> dict:
    """The departments (bureaus and their handling units) and streets a notice may go to;
    a district's own units and streets only for a district-bound principal."""
    streets = select(Area.code, Area.name).where(Area.level == "street").order_by(Area.code)
    departments = select(Department.code, Department.name).order_by(Department.code)
    if district_id is not None:
        streets = streets.where(Area.district_id == district_id)
        departments = departments.where(
            Department.parent_id.is_(None) | (Department.district_id == district_id)
        )
    return {
        "departments": session.execute(departments).all(),
        "streets": session.execute(streets).all(),
    }


__all__ = [
    "FAMILIES",
    "PERIODS",
    "cards",
    "detail",
    "find",
    "heat",
    "history",
    "hotspots",
    "notice_rows",
    "notice_targets",
    "response_times",
    "series",
]
