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
from dashboard.schemas import InputError

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
