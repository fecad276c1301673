"""Alert states and the actions people and systems take on them (DESIGN §3, §4)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import audit
from dashboard.clock import utcnow
from dashboard.models import Alert, AlertHistory, Area
from dashboard.schemas import ConflictError, InputError, text_problem

STATE_LABELS = {
    "active": ("新", "New"),
    "acknowledged": ("已认领", "Acknowledged"),
    "handling": ("处置中", "Handling"),
    "resolved": ("已解除", "Resolved"),
    "dismissed": ("误报", "Dismissed"),
}
OPEN_STATES = ("active", "acknowledged", "handling")
NO_DISTRICT = 0  # `district_id` for a principal bound to no district: no alert at all
# action → (the states it may start from, the state it leads to)
ACTIONS = {
    "ack": (frozenset({"active"}), "acknowledged"),
    "handle": (frozenset({"active", "acknowledged"}), "handling"),
    "resolve": (frozenset({"active", "acknowledged", "handling"}), "resolved"),
    "dismiss": (frozenset({"active", "acknowledged"}), "dismissed"),
}


def list_alerts(
    session: Session,
    states: Iterable[str] | None = None,
    level: int | None = None,
    district_id: int | None = None,
    limit: int | None = None,
) -> list[tuple[Alert, str | None, int | None]]:
    """Alerts, most severe and newest first, each with its area's code and district id: in
    some states (OPEN_STATES: the active ones), of a level, in one district."""
    q = (
        select(Alert, Area.code, Area.district_id)
        .outerjoin(Area, Area.id == Alert.area_id)
        .order_by(Alert.level, Alert.created_at.desc())
    )
    if states is not None:
        q = q.where(Alert.state.in_(list(states)))
    if level is not None:
        q = q.where(Alert.level == level)
    if district_id is not None:
        q = q.where(Area.district_id == district_id)
    if limit is not None:
        q = q.limit(limit)
    return [tuple(row) for row in session.execute(q).all()]


def act(
    session: Session,
    alert_id: int,
    action: str,
    actor: str,
    note: str | None = None,
    assignee: str | None = None,
) -> Alert:
    """Apply an action inside the caller's transaction; history and audit rows are written too."""
    if action not in ACTIONS:
        raise InputError({"action": f"must be one of {', '.join(ACTIONS)}"})
    errors = {
        name: problem
        for name, value, size in (("note", note, 2000), ("assignee", assignee, 100))
        if (problem := text_problem(value, size))
    }
    if errors:
        raise InputError(errors)
    alert = session.execute(
        select(Alert).where(Alert.id == alert_id).with_for_update()
    ).scalar_one_or_none()
    if alert is None:
        raise ConflictError(f"no alert {alert_id}", status=404)
    sources, target = ACTIONS[action]
    if alert.state not in sources:
        raise ConflictError(f"cannot {action} an alert that is {alert.state}")
    now = utcnow()
    session.add(
        AlertHistory(
            alert_id=alert.id,
            from_state=alert.state,
            to_state=target,
            at=now,
            actor=actor,
            note=note,
        )
    )
    alert.state = target
    alert.updated_at = now
    if assignee or action == "ack":
        alert.assignee = assignee or actor
    audit(session, actor, f"alert.{action}", f"alert:{alert.id}", note)
    return alert
