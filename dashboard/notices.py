"""工作提示单 (work notices): the center solves a class of problems, not one complaint at a time
(解决一类事).

A duty officer issues one notice to a department or a street about a set of events — those an
alert was raised on, or those picked on 事件流转 — with its own deadline. The addressee replies
(已回复); the center accepts the reply (已办结: the covered cases still being handled are
resolved with the notice's outcome, through the lifecycle rules) or sends it back (已下发 again).
Each step is one transaction with its audit entry. Listed, searchable and counted on 督办考核.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dashboard import alerts
from dashboard.access import ScopeError
from dashboard.auth import audit
from dashboard.db import is_id
from dashboard.live import Change
from dashboard.models import (
    Alert,
    AlertEvent,
    Area,
    Department,
    Event,
    EventNote,
    WorkNotice,
    WorkNoticeEvent,
)
from dashboard.privacy import mask_text
from dashboard.schemas import ConflictError, InputError, text_problem

STATUS_LABELS = {
    "issued": ("已下发", "Issued"),
    "replied": ("已回复", "Replied"),
    "done": ("已办结", "Done"),
}
MAX_EVENTS = 2000
LONGEST = timedelta(days=90)
TITLE = (2, 200)
BODY_MAX = 4000
REPLY = (2, 4000)
# a covered case still with the department → the steps that resolve it
RESOLVING = {
    "dispatched": ["in_progress", "resolved"],
    "in_progress": ["resolved"],
    "returned": ["in_progress", "resolved"],
}


@dataclass(frozen=True)
class Issued:
    notice: WorkNotice
    events: int


def _text(errors: dict, name: str, value, limits: tuple[int, int], required: bool = True):
    if value is None and required:
        errors[name] = "required"
        return None
    problem = text_problem(value, limits[1], limits[0])
    if problem:
        errors[name] = problem
        return None
    return value.strip() if isinstance(value, str) else None


def issue(
    session: Session,
    actor: str,
    form: dict,
    now: datetime,
    district_id: int | None = None,
    address: str | None = None,
) -> Issued:
    """Issue a notice from `form`: title, body, department (code) and/or street (area code),
    deadline (UTC, naive), and event_ids and/or alert_id (its events when no ids are given).
    `district_id`: the issuer's district when bound to one; every event must lie in it."""
    if not isinstance(form, dict):
        raise InputError({"_": "an object of fields"})
    errors: dict[str, str] = {}
    title = _text(errors, "title", form.get("title"), TITLE)
    body = _text(errors, "body", form.get("body"), (0, BODY_MAX), required=False) or ""
    deadline = form.get("deadline")
    if not isinstance(deadline, datetime):
        errors["deadline"] = "a date and time"
    elif deadline <= now:
        errors["deadline"] = "must be later than now"
    elif deadline > now + LONGEST:
        errors["deadline"] = f"at most {LONGEST.days} days ahead"
    dept_id = street = None
    department, street_code = form.get("department") or None, form.get("street") or None
    if department is not None:
        if text_problem(department, 32, 1):
            errors["department"] = "a department code"
        else:
            dept_id = session.execute(
                select(Department.id).where(Department.code == department)
            ).scalar()
            if dept_id is None:
                errors["department"] = f"no department {department!r}"
    if street_code is not None:
        if text_problem(street_code, 32, 1):
            errors["street"] = "a street's area code"
        else:
            street = session.execute(
                select(Area).where(Area.code == street_code, Area.level == "street")
            ).scalar()
            if street is None:
                errors["street"] = f"no street {street_code!r}"
    if department is None and street_code is None:
        errors["department"] = "send it to a department or a street"
    alert_id = form.get("alert_id")
    alert = None
    if alert_id is not None:
        if not is_id(alert_id):
            errors["alert_id"] = "an alert id"
        else:
            alert = session.get(Alert, alert_id)
            if alert is None:
                errors["alert_id"] = f"no alert {alert_id}"
    ids = form.get("event_ids")
    if ids is None and alert is not None:
        ids = list(
            session.execute(
                select(AlertEvent.event_id).where(AlertEvent.alert_id == alert.id)
            ).scalars()
        )
    if not isinstance(ids, list) or not all(is_id(i) for i in ids):
        errors["event_ids"] = "a list of event ids"
        ids = []
    ids = list(dict.fromkeys(ids))
    if not errors.get("event_ids") and not 1 <= len(ids) <= MAX_EVENTS:
        errors["event_ids"] = f"1–{MAX_EVENTS} events"
    if errors:
        raise InputError(errors)
    found = dict(
        session.execute(select(Event.id, Event.district_id).where(Event.id.in_(ids))).all()
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise InputError({"event_ids": f"no events {', '.join(map(str, missing[:10]))}"})
    if district_id is not None:
        outside = {d for d in found.values() if d != district_id}
        if outside or (street is not None and street.district_id != district_id):
            raise ScopeError("events outside your area")
        if alert is not None and alerts.in_district(session, alert) != district_id:
            raise ScopeError("alert outside your area")
    districts = set(found.values())
    year = now.year
    count = session.execute(
        select(func.count()).where(WorkNotice.number.startswith(f"{year}-"))
    ).scalar()
    notice = WorkNotice(
        number=f"{year}-{count + 1:04d}",
        title=title,
        body=body,
        department_id=dept_id,
        street_id=street.id if street is not None else None,
        district_id=street.district_id
        if street is not None
        else (districts.pop() if len(districts) == 1 else None),
        alert_id=alert.id if alert is not None else None,
        status="issued",
        deadline=deadline,
        issued_at=now,
        issued_by=actor,
        events_resolved=0,
    )
    session.add(notice)
    session.flush()
    session.add_all(WorkNoticeEvent(notice_id=notice.id, event_id=i) for i in ids)
    line = f"纳入工作提示单 {notice.number}：{title}"[:1000]
    session.add_all(EventNote(event_id=i, at=now, actor=actor, text=line) for i in ids)
    if alert is not None and alert.state in alerts.OPEN_STATES:
        action = "handle" if alert.state in ("active", "acknowledged") else "note"
        alerts.act(
            session,
            alert.id,
            action,
            actor,
            note=f"工作提示单 {notice.number}",
            now=now,
            address=address,
        )
    audit(
        session,
        actor,
        "notice.issue",
        f"notice:{notice.number}",
        f"{mask_text(title)} · {len(ids)} events",
        address,
    )
    session.flush()
    return Issued(notice, len(ids))


def _locked(session: Session, notice_id, district_id: int | None) -> WorkNotice:
    if not is_id(notice_id):
        raise InputError({"notice": "a notice id"})
    notice = session.execute(
        select(WorkNotice).where(WorkNotice.id == notice_id).with_for_update()
    ).scalar()
    if district_id is not None and (notice is None or notice.district_id != district_id):
        raise ScopeError(f"notice {notice_id} is outside your area")  # unknown ones alike
    if notice is None:
        raise ConflictError(f"no notice {notice_id}", status=404)
    return notice


def reply(
    session: Session,
    notice_id,
    text,
    actor: str,
    now: datetime,
    district_id: int | None = None,
    address: str | None = None,
) -> WorkNotice:
    """The addressee's answer: what was done about the whole class."""
    errors: dict[str, str] = {}
    answer = _text(errors, "reply", text, REPLY)
    if errors:
        raise InputError(errors)
    notice = _locked(session, notice_id, district_id)
    if notice.status != "issued":
        raise ConflictError(f"notice {notice.number} is {notice.status}: nothing to reply to")
    notice.status, notice.reply, notice.replied_at, notice.replied_by = (
        "replied",
        answer,
        now,
        actor,
    )
    audit(session, actor, "notice.reply", f"notice:{notice.number}", mask_text(answer)[:200])
    return notice


def decide(
    rt,
    session: Session,
    notice_id,
    accept,
    outcome,
    actor: str,
    now: datetime,
    district_id: int | None = None,
    address: str | None = None,
) -> tuple[WorkNotice, list[Change]]:
    """The center's decision on a reply: accepted (已办结; the covered cases the department
    still holds are resolved with the outcome as their note) or sent back (已下发 again).
    Returns the notice and the lifecycle changes to publish once committed."""
    errors: dict[str, str] = {}
    if not isinstance(accept, bool):
        errors["accept"] = "true (办结) or false (退回)"
    note = _text(errors, "outcome", outcome, (2, 2000))
    if errors:
        raise InputError(errors)
    notice = _locked(session, notice_id, district_id)
    if notice.status != "replied":
        raise ConflictError(f"notice {notice.number} is {notice.status}: no reply to decide on")
    changes: list[Change] = []
    if not accept:
        notice.status, notice.outcome = "issued", note
        audit(session, actor, "notice.return", f"notice:{notice.number}", mask_text(note))
        return notice, changes
    covered = list(
        session.execute(
            select(Event)
            .join(WorkNoticeEvent, WorkNoticeEvent.event_id == Event.id)
            .where(WorkNoticeEvent.notice_id == notice.id, Event.status.in_(list(RESOLVING)))
            .order_by(Event.id)
            .with_for_update()
        ).scalars()
    )
    line = f"工作提示单 {notice.number} 办结：{note}"[:4000]
    pairs = [
        (e, [{"status": st, "actor": actor, "note": line} for st in RESOLVING[e.status]])
        for e in covered
    ]
    changes = rt.ingestor.transitions_within(session, pairs, now)
    notice.status, notice.outcome, notice.closed_at = "done", note, now
    notice.events_resolved = len(covered)
    if notice.alert_id is not None:
        alert = session.get(Alert, notice.alert_id)
        if alert is not None and alert.state in alerts.OPEN_STATES:
            alerts.act(
                session,
                alert.id,
                "resolve",
                actor,
                note=f"工作提示单 {notice.number} 办结",
                now=now,
                address=address,
            )
    audit(
        session,
        actor,
        "notice.done",
        f"notice:{notice.number}",
        f"{mask_text(note)[:200]} · {len(covered)} cases resolved",
        address,
    )
    return notice, changes


def listing(
    session: Session,
    district_id: int | None = None,
    status: str | None = None,
    query: str | None = None,
    department: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
    only: int | None = None,
    alert_id: int | None = None,
) -> list[dict]:
    """Notices, newest first, with their addressee and how many events each covers; `query`
    matches the number, title or body."""
    covers = (
        select(func.count())
        .where(WorkNoticeEvent.notice_id == WorkNotice.id)
        .correlate(WorkNotice)
        .scalar_subquery()
    )
    q = (
        select(WorkNotice, Department.name, Area.name, covers)
        .outerjoin(Department, Department.id == WorkNotice.department_id)
        .outerjoin(Area, Area.id == WorkNotice.street_id)
        .order_by(WorkNotice.issued_at.desc(), WorkNotice.id.desc())
        .limit(limit)
    )
    if only is not None:
        q = q.where(WorkNotice.id == only)
    if alert_id is not None:
        q = q.where(WorkNotice.alert_id == alert_id)
    if district_id is not None:
        q = q.where(WorkNotice.district_id == district_id)
    if status:
        q = q.where(WorkNotice.status == status)
    if department is not None:
        q = q.where(WorkNotice.department_id == department)
    if since is not None:
        q = q.where(WorkNotice.issued_at >= since)
    if until is not None:
        q = q.where(WorkNotice.issued_at < until)
    if query:
        like = f"%{query}%"
        q = q.where(
            or_(
                WorkNotice.number.like(like),
                WorkNotice.title.like(like),
                WorkNotice.body.like(like),
            )
        )
    return [present(n, dept, street, count) for n, dept, street, count in session.execute(q)]


def present(n: WorkNotice, department: str | None, street: str | None, events: int) -> dict:
    def at(t):
        return t.isoformat() + "Z" if t else None

    return {
        "id": n.id,
        "number": n.number,
        "title": mask_text(n.title),
        "body": mask_text(n.body),
        "department": department,
        "street": street,
        "alert_id": n.alert_id,
        "status": n.status,
        "deadline": at(n.deadline),
        "issued_at": at(n.issued_at),
        "issued_by": n.issued_by,
        "reply": mask_text(n.reply) if n.reply else None,
        "replied_at": at(n.replied_at),
        "closed_at": at(n.closed_at),
        "outcome": mask_text(n.outcome) if n.outcome else None,
        "events": events,
        "events_resolved": n.events_resolved,
    }


def event_ids(session: Session, notice_id: int) -> list[int]:
    return list(
        session.execute(
            select(WorkNoticeEvent.event_id)
            .where(WorkNoticeEvent.notice_id == notice_id)
            .order_by(WorkNoticeEvent.event_id)
        ).scalars()
    )


def counts(
    session: Session, since: datetime, until: datetime, now: datetime, district_id=None
) -> dict:
    """For 督办考核: notices issued in a period, done, done by their deadline, still open past
    it, and the events they covered."""
    q = select(WorkNotice).where(WorkNotice.issued_at >= since, WorkNotice.issued_at < until)
    if district_id is not None:
        q = q.where(WorkNotice.district_id == district_id)
    rows = list(session.execute(q).scalars())
    ids = [n.id for n in rows]
    covered = (
        session.execute(select(func.count()).where(WorkNoticeEvent.notice_id.in_(ids))).scalar()
        if ids
        else 0
    )
    return {
        "issued": len(rows),
        "done": sum(n.status == "done" for n in rows),
        "done_on_time": sum(
            n.status == "done" and n.closed_at is not None and n.closed_at <= n.deadline
            for n in rows
        ),
        "overdue_open": sum(n.status != "done" and n.deadline < now for n in rows),
        "events": covered,
    }
