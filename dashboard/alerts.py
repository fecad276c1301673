"""Alert states and the actions people and systems take on them (DESIGN §3, §4)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import audit
from dashboard.clock import utcnow
from dashboard.ingest import ConflictError, InputError
from dashboard.models import Alert, AlertHistory

STATE_LABELS = {
    "active": ("新", "New"),
    "acknowledged": ("已认领", "Acknowledged"),
    "handling": ("处置中", "Handling"),
    "resolved": ("已解除", "Resolved"),
    "dismissed": ("误报", "Dismissed"),
}
# action → (the states it may start from, the state it leads to)
ACTIONS = {
    "ack": (frozenset({"active"}), "acknowledged"),
    "handle": (frozenset({"active", "acknowledged"}), "handling"),
    "resolve": (frozenset({"active", "acknowledged", "handling"}), "resolved"),
    "dismiss": (frozenset({"active", "acknowledged"}), "dismissed"),
}


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
    if note is not None and len(note) > 2000:
        raise InputError({"note": "at most 2000 characters"})
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
