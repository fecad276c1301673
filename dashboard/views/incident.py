"""Read model of 事件详情 (one incident): every field, one timeline of everything that happened to
it (status changes, 督办 and 催办, 延期, duty notes — who, which department, when, the note), the
time each stage took against its limit, where it is, related events and its alerts.
Personal data masked; revealing the reporter is an action (dashboard.actions)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.db import is_id
from dashboard.domain import SOURCES
from dashboard.models import (
    Alert,
    AlertEvent,
    Area,
    Category,
    Department,
    Event,
    EventNote,
    Extension,
    Supervision,
    Transition,
)
from dashboard.privacy import mask_name, mask_phone, mask_text, unseal
from dashboard.views import flow
from dashboard.views.flow import local

RELATED_DAYS = 30
RELATED_MAX = 20
# The timed stages in order: the fact that starts it, the fact that meets it, its deadline.
STAGES = (
    ("accept", "reported_at", "decided_at", "accept_deadline"),
    ("dispatch", "accepted_at", "dispatched_at", "dispatch_deadline"),
    ("handle", "dispatched_at", "resolved_at", "handle_deadline"),
    ("close", "accepted_at", "closed_at", "close_deadline"),
)


def find(session: Session, source, external_id) -> Event | None:
    """The event `source/external_id`, or with source "id" the event of that number."""
    if not isinstance(source, str) or not isinstance(external_id, str) or len(external_id) > 64:
        return None
    if source == "id":
        number = int(external_id) if external_id.isdigit() else 0
        return session.get(Event, number) if is_id(number) else None
    if source not in SOURCES:
        return None
    return session.execute(
        select(Event).where(Event.source == source, Event.external_id == external_id)
    ).scalar()


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


def detail(session: Session, e: Event, now: datetime, zone: ZoneInfo) -> dict:
    """Everything the page shows about one event."""
    [row] = flow.rows(session, [e], now, zone)
    names = dict(session.execute(select(Department.id, Department.name)).all())
    return {
        **row,
        "description": mask_text(e.description),
        "address": mask_text(e.address),
        "reporter": mask_name(unseal(e.reporter_name)),
        "reporter_phone": mask_phone(unseal(e.reporter_phone)),
        "has_contact": bool(e.reporter_name or e.reporter_phone),
        "level": e.level,
        "is_open": e.is_open,
        "is_repeat": e.is_repeat,
        "extended": e.extended,
        "return_count": e.return_count,
        "escalation_count": e.escalation_count,
        "satisfaction": e.satisfaction,
        "lat": e.lat,
        "lon": e.lon,
        "codes": _codes(session, e),
        "stages": stages(e, now, zone),
        "timeline": (steps := timeline(session, e, names, zone)),
        "pressed": {k: sum(i["kind"] == k for i in steps) for k in ("supervise", "urge")},
        "pending_extension": _pending(session, e, zone),
        "related": related(session, e, now, zone),
        "alerts": alerts(session, e, zone),
    }


def _codes(session: Session, e: Event) -> dict:
    ids = (e.district_id, e.street_id, e.community_id, e.grid_id)
    codes = dict(session.execute(select(Area.id, Area.code).where(Area.id.in_(ids))).all())
    sub = session.execute(select(Category.code).where(Category.id == e.subcategory_id)).scalar()
    return {
        "district": codes.get(e.district_id),
        "street": codes.get(e.street_id),
        "community": codes.get(e.community_id),
        "grid": codes.get(e.grid_id),
        "subcategory": sub,
    }


def stages(e: Event, now: datetime, zone: ZoneInfo) -> list[dict]:
    """Each timed stage: when it started, when it was met, its deadline; hours taken (so far,
    while open) against hours allowed; and its state: on_time | late | running | overdue |
    not_started."""
    out = []
    for name, start_fact, met_fact, deadline_fact in STAGES:
        start, met, deadline = (getattr(e, f) for f in (start_fact, met_fact, deadline_fact))
        if start is None:
            state = "not_started"
        elif met is not None:
            state = "late" if deadline is not None and met > deadline else "on_time"
        elif not e.is_open:
            state = "not_started"  # finished without this stage (不予立案)
        else:
            state = "overdue" if deadline is not None and now > deadline else "running"
        end = met or (now if state in ("running", "overdue") else None)
        out.append(
            {
                "stage": name,
                "started": local(start, zone),
                "met": local(met, zone),
                "deadline": local(deadline, zone),
                "taken_hours": _hours(end - start) if start and end else None,
                "allowed_hours": _hours(deadline - start) if start and deadline else None,
                "state": state,
            }
        )
    return out


def timeline(session: Session, e: Event, departments: dict, zone: ZoneInfo) -> list[dict]:
    """Everything that happened to the event, oldest first: who, which department, the note."""
    items: list[tuple[datetime, int, dict]] = []

    def add(at: datetime, order: int, kind: str, actor, department_id=None, note=None, **extra):
        items.append(
            (
                at,
                order,
                {
                    "at": local(at, zone),
                    "kind": kind,
                    "actor": mask_text(actor) if actor else None,
                    "department": departments.get(department_id),
                    "note": mask_text(note) if note else None,
                    **extra,
                },
            )
        )

    for t in session.execute(
        select(Transition).where(Transition.event_id == e.id).order_by(Transition.id)
    ).scalars():
        add(
            t.at,
            t.id,
            "status",
            t.actor,
            t.department_id,
            t.note,
            status=t.to_status,
            previous=t.from_status,
        )
    for s in session.execute(select(Supervision).where(Supervision.event_id == e.id)).scalars():
        add(
            s.at,
            s.id,
            s.kind,
            s.actor,
            s.department_id,
            s.note,
            reply_due=local(s.reply_due_at, zone),
            replied=local(s.replied_at, zone),
            reply=mask_text(s.reply) if s.reply else None,
        )
    for n in session.execute(select(EventNote).where(EventNote.event_id == e.id)).scalars():
        add(n.at, n.id, "note", n.actor, None, n.text)
    for x in session.execute(select(Extension).where(Extension.event_id == e.id)).scalars():
        add(
            x.requested_at,
            x.id,
            "extension_request",
            x.requested_by,
            None,
            x.reason,
            deadline=local(x.requested_deadline, zone),
        )
        if x.decided_at is not None:
            add(
                x.decided_at,
                x.id,
                f"extension_{x.state}",
                x.decided_by,
                None,
                None,
                deadline=local(x.requested_deadline, zone),
            )
    items.sort(key=lambda i: (i[0], i[1]))
    return [i[2] for i in items]


def _pending(session: Session, e: Event, zone: ZoneInfo) -> dict | None:
    x = session.execute(
        select(Extension).where(Extension.event_id == e.id, Extension.state == "requested")
    ).scalar()
    if x is None:
        return None
    return {
        "id": x.id,
        "requested_by": mask_text(x.requested_by),
        "reason": mask_text(x.reason),
        "deadline": local(x.requested_deadline, zone),
        "old_deadline": local(x.old_deadline, zone),
    }


def related(session: Session, e: Event, now: datetime, zone: ZoneInfo) -> list[dict]:
    """Other events of the same grid and subcategory reported in the last 30 days, newest
    first (ix_events_grid_sub_reported)."""
    events = (
        session.execute(
            select(Event)
            .where(
                Event.grid_id == e.grid_id,
                Event.subcategory_id == e.subcategory_id,
                Event.reported_at >= now - timedelta(days=RELATED_DAYS),
                Event.id != e.id,
            )
            .order_by(Event.reported_at.desc(), Event.id.desc())
            .limit(RELATED_MAX)
        )
        .scalars()
        .all()
    )
    return flow.rows(session, events, now, zone)


def alerts(session: Session, e: Event, zone: ZoneInfo) -> list[dict]:
    rows = session.execute(
        select(Alert)
        .join(AlertEvent, AlertEvent.alert_id == Alert.id)
        .where(AlertEvent.event_id == e.id)
        .order_by(Alert.created_at.desc())
    ).scalars()
    return [
        {
            "id": a.id,
            "level": a.level,
            "rule": a.rule,
            "title": mask_text(a.title),
            "state": a.state,
            "at": local(a.created_at, zone),
        }
        for a in rows
    ]
