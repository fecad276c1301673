"""督办: the center's written order to a department to act on overdue cases by a reply deadline.

One 督办 may go to many cases at once (a batch, from the 督办考核 page's overdue list); each case
gets its own record (who, when, the note, the reply deadline), its `supervised_at` is set, and
the batch is audit-logged. The KPIs count the records (kpi `supervised`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import audit
from dashboard.db import is_id
from dashboard.models import Event, Supervision
from dashboard.privacy import mask_text
from dashboard.schemas import ConflictError, InputError

MAX_BATCH = 500
NOTE_MAX = 500
REPLY_HOURS = (1, 720)
KINDS = {"supervise": "supervised_at", "urge": "urged_at"}  # → the event's "last one" time


def supervise(
    session: Session,
    event_ids,
    actor: str,
    note,
    reply_hours,
    now: datetime,
    address: str = "-",
    district_id: int | None = None,
    kind: str = "supervise",
) -> dict:
    """Send one 督办 (kind "supervise") or 催办 ("urge": a reminder, not counted as 督办) to
    open cases, inside the caller's transaction; all or nothing.

    `district_id`: a district-bound principal's district (cases elsewhere are refused).
    Returns {"batch", "count"}; InputError names each bad field.
    """
    if kind not in KINDS:
        raise InputError({"kind": f"one of {', '.join(KINDS)}"})
    errors: dict[str, str] = {}
    if not isinstance(event_ids, list) or not event_ids or not all(is_id(i) for i in event_ids):
        errors["events"] = "select at least one case (a list of event ids)"
    elif len(event_ids) > MAX_BATCH:
        errors["events"] = f"at most {MAX_BATCH} cases in one 督办"
    if not isinstance(note, str) or not note.strip():
        errors["note"] = "required: what the department must do"
    elif len(note) > NOTE_MAX or "\x00" in note:
        errors["note"] = f"at most {NOTE_MAX} characters, no NUL"
    if isinstance(reply_hours, bool) or not isinstance(reply_hours, int | float):
        errors["reply_hours"] = "required: hours to reply"
    elif not REPLY_HOURS[0] <= reply_hours <= REPLY_HOURS[1]:
        errors["reply_hours"] = f"between {REPLY_HOURS[0]} and {REPLY_HOURS[1]} hours"
    if errors:
        raise InputError(errors)
    ids = sorted(set(event_ids))
    events = session.execute(select(Event).where(Event.id.in_(ids)).with_for_update()).scalars()
    found = {e.id: e for e in events}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InputError({"events": f"no such case: {', '.join(map(str, missing[:10]))}"})
    closed = [i for i in ids if not found[i].is_open]
    if closed:
        raise InputError({"events": f"already finished: {', '.join(map(str, closed[:10]))}"})
    if district_id is not None and any(e.district_id != district_id for e in found.values()):
        raise InputError({"events": "outside your district"})
    batch = uuid.uuid4().hex[:12]
    due = now + timedelta(hours=float(reply_hours))
    for i in ids:
        e = found[i]
        session.add(
            Supervision(
                event_id=e.id,
                department_id=e.department_id,
                district_id=e.district_id,
                category_id=e.category_id,
                at=now,
                actor=actor,
                note=note.strip(),
                reply_due_at=due,
                batch=batch,
                kind=kind,
            )
        )
        setattr(e, KINDS[kind], now)
    session.flush()
    audit(
        session,
        actor,
        f"{'supervision' if kind == 'supervise' else kind}.batch",
        f"batch:{batch}",
        f"cases={len(ids)} ids={','.join(map(str, ids[:50]))} reply_hours={reply_hours:g} "
        f"note={mask_text(note.strip())[:200]}",
        address,
    )
    return {"batch": batch, "count": len(ids)}


REPLY_MAX = 2000
LIST_MAX = 500


def listing(
    session: Session,
    department_id: int | None = None,
    pending: bool = False,
    district_id: int | None = None,
) -> list[dict]:
    """督办 and 催办 records, newest first (at most LIST_MAX): what a department has been pressed
    on and whether it has replied; notes and replies masked."""
    q = (
        select(Supervision, Event.source, Event.external_id)
        .join(Event, Event.id == Supervision.event_id)
        .order_by(Supervision.at.desc(), Supervision.id.desc())
        .limit(LIST_MAX)
    )
    if department_id is not None:
        q = q.where(Supervision.department_id == department_id)
    if district_id is not None:
        q = q.where(Supervision.district_id == district_id)
    if pending:
        q = q.where(Supervision.replied_at.is_(None))
    return [
        {
            "id": s.id,
            "kind": s.kind,
            "case": f"{source}/{external_id}",
            "at": s.at.isoformat() + "Z",
            "by": mask_text(s.actor),
            "note": mask_text(s.note),
            "reply_due_at": s.reply_due_at.isoformat() + "Z",
            "replied_at": s.replied_at.isoformat() + "Z" if s.replied_at else None,
            "reply": mask_text(s.reply) if s.reply else None,
        }
        for s, source, external_id in session.execute(q)
    ]


def reply(
    session: Session,
    supervision_id,
    text,
    actor: str,
    now: datetime,
    address: str = "-",
    district_id: int | None = None,
) -> dict:
    """The department's reply to a 督办 or 催办 (once); shown on the case's timeline."""
    if not is_id(supervision_id):
        raise InputError({"id": "a supervision id"})
    if not isinstance(text, str) or not text.strip():
        raise InputError({"reply": "required: what the department has done"})
    if len(text) > REPLY_MAX or "\x00" in text:
        raise InputError({"reply": f"at most {REPLY_MAX} characters, no NUL"})
    s = session.execute(
        select(Supervision).where(Supervision.id == supervision_id).with_for_update()
    ).scalar()
    if s is None or (district_id is not None and s.district_id != district_id):
        raise ConflictError("no such 督办", status=404)
    if s.replied_at is not None:
        raise ConflictError("already answered")
    s.replied_at, s.reply = now, text.strip()
    audit(session, actor, f"{'supervision' if s.kind == 'supervise' else s.kind}.reply", f"supervision:{s.id}", mask_text(text.strip())[:200], address)  # fmt: skip
    return {"id": s.id, "replied_at": now.isoformat() + "Z"}
