"""The duty officer's actions on one case (事件详情), authorised here on the server.

Each action is recorded where the rest of the system reads it — a status change as a
transition (dashboard.lifecycle, so the KPIs and the timeline see it), 督办 and 催办 as
supervision records, a 延期 as an extension that moves the deadlines, a note as a duty note — and
each writes an audit entry in the same transaction: all of it or nothing.

Who may act (DESIGN §8): AUTHORISATION maps each action to the permission it needs; a
district-bound principal acts in the own district only. Leaders, analysts, admins and displays
hold none of these permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import privacy, summaries, supervisions
from dashboard.access import allowed
from dashboard.auth import audit
from dashboard.clock import to_utc_naive, utcnow
from dashboard.db import is_id
from dashboard.lifecycle import refresh_due
from dashboard.models import Event, EventNote, Extension
from dashboard.privacy import mask_text
from dashboard.schemas import ConflictError, InputError, text_problem

# action → the permission it needs
AUTHORISATION: dict[str, str] = {
    "supervise": "act",  # 督办, with a reply deadline (counted in the KPIs)
    "urge": "act",  # 催办: a reminder to the department, with a reply deadline
    "escalate": "act",  # 上报上级: one level up
    "rework": "act",  # 返工: the check failed, back to the department
    "note": "act",  # 值班备注
    "extension_request": "act",  # 延期申请: a later closing deadline, with a reason
    "extension_decide": "approve",  # 延期审批: approve (moves the deadlines) or refuse
    "reveal": "reveal",  # the reporter's name and phone, with a reason
}
ACTIONS = tuple(AUTHORISATION)
NOTE_MAX = 1000
REASON = (4, 500)
EXTENSION_MAX = timedelta(days=90)  # past the current closing deadline


class Refused(PermissionError):
    """The principal may not take this action on this case."""


@dataclass(frozen=True)
class Context:
    """Who acts, from where, and when."""

    actor: str
    address: str
    zone: ZoneInfo
    now: datetime


def may(principal, action: str, district_id: int | None) -> bool:
    """Whether `principal` may take `action` on a case of district `district_id`."""
    if action not in ACTIONS or not allowed(principal, AUTHORISATION[action]):
        return False
    return not principal.scoped or (
        principal.district_id is not None and principal.district_id == district_id
    )


def available(principal, district_id: int | None) -> list[str]:
    """The actions the page offers this principal on a case of that district."""
    return [a for a in ACTIONS if may(principal, a, district_id)]


def perform(rt, principal, event_id, action, form, address: str, now: datetime | None = None):
    """Take one action on the case `event_id`; returns what the page shows ({"message"}, and
    for a reveal the values). InputError names each bad field; Refused when not authorised;
    ConflictError when the case is not in a state for it (finished, nothing pending …)."""
    if not isinstance(action, str) or action not in AUTHORISATION:
        raise InputError({"action": f"one of {', '.join(ACTIONS)}"})
    if not is_id(event_id):
        raise InputError({"event": "an event id"})
    if not isinstance(form, dict):
        raise InputError({"form": "an object of fields"})
    ctx = Context(principal.actor, address, rt.settings.zone, now or utcnow())
    if action in ("escalate", "rework"):
        return _transition(rt, principal, event_id, action, form, ctx)
    with rt.sessions() as session, session.begin():
        e = session.execute(select(Event).where(Event.id == event_id).with_for_update()).scalar()
        _authorise(principal, action, e)
        return HANDLERS[action](session, e, form, ctx, principal)


def _authorise(principal, action: str, e: Event | None) -> None:
    if e is None:
        raise ConflictError("no such case", status=404)
    if not may(principal, action, e.district_id):
        raise Refused(f"{action} is not yours to take on this case")


def _reason(form: dict, name: str = "reason", limits: tuple[int, int] = REASON) -> str:
    value = form.get(name)
    problem = "required" if value is None else text_problem(value, limits[1], limits[0])
    if problem:
        raise InputError({name: problem})
    return value.strip()


def _open(e: Event) -> None:
    if not e.is_open:
        raise ConflictError("the case is finished")


def _target(e: Event) -> str:
    return f"event:{e.source}/{e.external_id}"


# --- the actions ----------------------------------------------------------------------------
def _press(session: Session, e: Event, form: dict, ctx: Context, principal, kind: str) -> dict:
    _open(e)
    hours = form.get("reply_hours")
    if isinstance(hours, str):
        try:
            hours = float(hours)
        except ValueError:
            raise InputError({"reply_hours": "hours to reply, a number"}) from None
    supervisions.supervise(
        session,
        [e.id],
        ctx.actor,
        form.get("note"),
        hours,
        ctx.now,
        ctx.address,
        principal.district_id if principal.scoped else None,
        kind=kind,
    )
    return {"message": f"done_{kind}"}


def _supervise(session, e, form, ctx, principal):
    return _press(session, e, form, ctx, principal, "supervise")


def _urge(session, e, form, ctx, principal):
    return _press(session, e, form, ctx, principal, "urge")


def _note(session: Session, e: Event, form: dict, ctx: Context, _principal) -> dict:
    text = _reason(form, "text", (1, NOTE_MAX))
    session.add(EventNote(event_id=e.id, at=ctx.now, actor=ctx.actor, text=text))
    audit(session, ctx.actor, "event.note", _target(e), mask_text(text)[:200], ctx.address)
    return {"message": "done_note"}


def _deadline(form: dict, ctx: Context) -> datetime:
    """The requested deadline: local time as YYYY-MM-DD HH:MM (or ISO 8601 with an offset)."""
    value = form.get("deadline")
    if not isinstance(value, str) or not 10 <= len(value) <= 32 or "\x00" in value:
        raise InputError({"deadline": "a local time as YYYY-MM-DD HH:MM"})
    try:
        return to_utc_naive(datetime.fromisoformat(value.strip()), ctx.zone)
    except ValueError:
        raise InputError({"deadline": "a local time as YYYY-MM-DD HH:MM"}) from None


def _pending(session: Session, e: Event) -> Extension | None:
    return session.execute(
        select(Extension).where(Extension.event_id == e.id, Extension.state == "requested")
    ).scalar()


def _extension_request(session: Session, e: Event, form: dict, ctx: Context, _principal) -> dict:
    errors: dict[str, str] = {}
    try:
        reason = _reason(form)
    except InputError as exc:
        errors |= exc.errors
    try:
        wanted = _deadline(form, ctx)
    except InputError as exc:
        errors |= exc.errors
        wanted = None
    _open(e)
    if e.close_deadline is None:
        raise ConflictError("the case has no closing deadline yet (it is not accepted)")
    if wanted is not None:
        if wanted <= max(e.close_deadline, ctx.now):
            errors["deadline"] = "must be later than the current closing deadline and now"
        elif wanted > e.close_deadline + EXTENSION_MAX:
            errors["deadline"] = f"at most {EXTENSION_MAX.days} days past the current deadline"
    if errors:
        raise InputError(errors)
    if _pending(session, e) is not None:
        raise ConflictError("a 延期 request is already waiting for a decision")
    session.add(
        Extension(
            event_id=e.id,
            requested_at=ctx.now,
            requested_by=ctx.actor,
            reason=reason,
            old_deadline=e.close_deadline,
            requested_deadline=wanted,
        )
    )
    audit(
        session,
        ctx.actor,
        "event.extension_request",
        _target(e),
        f"to={wanted.isoformat()}Z reason={mask_text(reason)[:200]}",
        ctx.address,
    )
    return {"message": "done_extension_request"}


def _extension_decide(session: Session, e: Event, form: dict, ctx: Context, _principal) -> dict:
    decision = form.get("decision")
    if decision not in ("approve", "refuse"):
        raise InputError({"decision": "approve or refuse"})
    pending = _pending(session, e)
    if pending is None:
        raise ConflictError("no 延期 request is waiting for a decision")
    _open(e)
    pending.state = "approved" if decision == "approve" else "refused"
    pending.decided_at, pending.decided_by = ctx.now, ctx.actor
    if decision == "approve":
        before = summaries.facts_of(e)
        moved = pending.requested_deadline - e.close_deadline
        e.close_deadline = pending.requested_deadline
        if e.resolved_at is None and e.handle_deadline is not None:
            e.handle_deadline += moved  # the handling limit moves with the closing one
        e.extended = True
        e.overdue = e.close_deadline < ctx.now
        e.version += 1
        refresh_due(e)
        kept = summaries.deltas(session, ctx.zone)
        kept.change(before, summaries.facts_of(e))
        kept.write(session)
    audit(
        session,
        ctx.actor,
        f"event.extension_{decision}",
        _target(e),
        f"extension={pending.id} to={pending.requested_deadline.isoformat()}Z",
        ctx.address,
    )
    return {"message": f"done_extension_{decision}"}


def _reveal(session: Session, e: Event, form: dict, ctx: Context, _principal) -> dict:
    reason = _reason(form, "reason", (4, 200))
    return reveal(session, e, ctx.actor, reason, ctx.address)


def reveal(session: Session, e: Event, actor: str, reason: str, address: str) -> dict:
    """The reporter's name and phone, unmasked; the reason is written to the audit log."""
    audit(session, actor, "pii.reveal", _target(e), reason, address)
    return {
        "message": "done_reveal",
        "reporter_name": privacy.unseal(e.reporter_name),
        "reporter_phone": privacy.unseal(e.reporter_phone),
    }


HANDLERS = {
    "supervise": _supervise,
    "urge": _urge,
    "note": _note,
    "extension_request": _extension_request,
    "extension_decide": _extension_decide,
    "reveal": _reveal,
}
STATUS_OF = {"escalate": "escalated", "rework": "returned"}


def _transition(rt, principal, event_id: int, action: str, form: dict, ctx: Context) -> dict:
    """上报上级 and 返工 are status changes: they go through the lifecycle rules like any other
    transition, with the reason as the note and the audit entry in the same transaction."""
    reason = _reason(form)
    with rt.sessions() as session:
        e = session.get(Event, event_id)
        _authorise(principal, action, e)
        source, external_id = e.source, e.external_id

    def within(session: Session, locked: Event) -> None:
        _authorise(principal, action, locked)
        detail = mask_text(reason)[:200]
        audit(session, ctx.actor, f"event.{action}", _target(locked), detail, ctx.address)

    item = {"status": STATUS_OF[action], "actor": ctx.actor, "note": reason}
    rt.ingestor.transition_event(source, external_id, [item], ctx.now, within=within)
    return {"message": f"done_{action}"}
