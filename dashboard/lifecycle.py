"""The lifecycle rules (DESIGN §3): whether a status change may happen to an event, and what it
changes in the event's facts (its 立案 time and deadlines, dispatch, resolution, closure …).
Every change is also a row in `transitions`; the incident timeline and the KPIs derive from it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import live as live_mod
from dashboard.clock import to_utc_naive
from dashboard.domain import STEP_FACTS, TERMINAL, allowed_next, next_level
from dashboard.models import Event, Transition
from dashboard.refdata import Reference, handled_by
from dashboard.schemas import ConflictError, InputError, TransitionIn

FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks upstream may run a little fast


def apply(
    session: Session, ref: Reference, e: Event, t: TransitionIn, now: datetime, zone
) -> live_mod.Change | None:
    """Apply one transition to a loaded event inside the caller's transaction.

    Returns the live change, or None for an exact repeat of a transition already stored.
    """
    at = to_utc_naive(t.at, zone) if t.at else now
    if at > now + FUTURE_TOLERANCE:
        raise InputError({"at": "lies in the future"})
    repeat = session.execute(
        select(Transition.id).where(
            Transition.event_id == e.id, Transition.to_status == t.status, Transition.at == at
        )
    ).first()
    if repeat is not None:
        return None
    if t.status not in allowed_next(e.status):
        raise ConflictError(
            f"cannot go from {e.status} to {t.status}; allowed next: "
            f"{', '.join(sorted(allowed_next(e.status))) or 'none (the case is finished)'}"
        )
    if at < e.last_transition_at:
        raise ConflictError(
            f"'at' {at.isoformat()}Z is earlier than the event's last change "
            f"({e.last_transition_at.isoformat()}Z); send transitions in order"
        )
    _check_stage(e, t)
    errors: dict[str, str] = {}
    if t.satisfaction and t.status != "closed":
        errors["satisfaction"] = "only with status closed"
    if t.resolved_level and t.status not in {"resolved", "closed"}:
        errors["resolved_level"] = "only with status resolved or closed"
    if t.mediation_result and t.status not in {"resolved", "closed"}:
        errors["mediation_result"] = "only with status resolved or closed"
    if t.mediation_type and t.status not in {"resolved", "closed"}:
        errors["mediation_type"] = "only with status resolved or closed"
    department_id = None
    if t.department:
        department_id = ref.department_by_key.get(t.department)
        if department_id is None:
            errors["department"] = "unknown department (GET /api/v1/departments lists them)"
    elif t.status == "dispatched":
        department_id = e.department_id or ref.categories[e.subcategory_id].default_department_id
        if department_id is None:
            errors["department"] = "required when dispatching"
    if errors:
        raise InputError(errors)
    unit_id = None
    if department_id is not None:  # counted under the bureau, handled by its unit there
        department_id, unit_id = handled_by(ref, department_id, e.district_id)
        e.unit_id = unit_id
    from_status = e.status
    was_overdue = e.overdue
    _update_facts(e, t, at, department_id, ref)
    session.add(
        Transition(
            event_id=e.id,
            from_status=from_status,
            to_status=t.status,
            at=at,
            actor=t.actor,
            department_id=unit_id or department_id,  # the timeline names who handles it
            note=t.note,
            created_at=now,
        )
    )
    session.flush()
    sub = ref.categories[e.subcategory_id]
    return live_mod.Change(
        t.status,
        from_status,
        at,
        ref.district_code.get(e.district_id, ""),
        sub.parent_code,
        e.source,
        was_overdue=was_overdue and not e.is_open,
        event_id=e.id,
    )


def _check_stage(e: Event, t: TransitionIn) -> None:
    """After an escalation the case resumes where it was; these facts say where that is."""
    if e.status != "escalated":
        return
    needs = {
        "accepted": (e.accepted_at is None, "the case was already accepted"),
        "rejected": (e.accepted_at is None, "an accepted case cannot be rejected"),
        "dispatched": (e.accepted_at is not None, "the case was never accepted"),
        "in_progress": (e.dispatched_at is not None, "the case was never dispatched"),
    }
    ok, why = needs.get(t.status, (True, ""))
    if not ok:
        raise ConflictError(f"cannot go from escalated to {t.status}: {why}")


def _update_facts(e: Event, t: TransitionIn, at: datetime, department_id, ref) -> None:
    s = t.status
    if s in {"accepted", "rejected"}:
        e.decided_at = at
    if s == "accepted":
        e.accepted_at = at
        set_deadlines(e, ref.deadlines(e.subcategory_id, e.severity, "accepted", at))
    elif s == "dispatched":
        if e.dispatched_at is None:
            e.dispatched_at = at
            set_deadlines(e, ref.deadlines(e.subcategory_id, e.severity, "dispatched", at))
    elif s == "resolved":
        e.first_resolved_at = e.first_resolved_at or at
        e.resolved_at = at
    elif s == "returned":
        e.return_count += 1
        e.first_returned_at = e.first_returned_at or at
        e.resolved_at = None  # judged on the resolution that stands, when there is one again
    elif s == "closed":
        e.closed_at = at
        e.satisfaction = t.satisfaction
    elif s == "escalated":
        e.escalation_count += 1
        e.level = next_level(e.level)
    if department_id is not None:
        e.department_id = department_id
    if s in {"resolved", "closed"}:
        e.resolved_level = t.resolved_level or e.resolved_level or e.level
        e.mediation_result = t.mediation_result or e.mediation_result
        e.mediation_type = t.mediation_type or e.mediation_type
    e.status = s
    e.is_open = s not in TERMINAL
    if not e.is_open:
        e.overdue = False
    e.last_transition_at = at
    e.version += 1
    refresh_due(e)


def set_deadlines(e: Event, deadlines: dict[str, datetime]) -> None:
    for name, value in deadlines.items():
        setattr(e, name, value)


def due_at(met: datetime | None, deadline: datetime | None) -> datetime | None:
    """When a step falls due: the earlier of meeting it and its deadline (None: neither yet)."""
    if met is None or deadline is None:
        return met or deadline
    return min(met, deadline)


def refresh_due(e: Event) -> None:
    for met, deadline, due in STEP_FACTS.values():
        setattr(e, due, due_at(getattr(e, met), getattr(e, deadline)))
