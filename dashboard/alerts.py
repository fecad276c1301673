"""Alert states and the actions people and systems take on them (DESIGN §3, §4, §6).

新 (active) → 已认领 (acknowledged) → 处置中 (handling) → 已解除 (resolved) | 误报 (dismissed).
People act through `act` (authorised by the caller with the permission `act`, and here by
district scope); the rules raise and clear alerts (dashboard/risk.py); `escalate_unacknowledged`
flags a red alert nobody took up in its rule's `escalate_after_minutes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.access import ScopeError
from dashboard.auth import audit
from dashboard.clock import utcnow
from dashboard.models import Alert, AlertHistory, Area, Department, RiskRule
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
ESCALATE_AFTER_MINUTES = 15  # a red alert nobody took up, unless its rule says otherwise
# action → (the states it may start from, the state it leads to; None: the state stays, except
# that a new alert someone acts on is taken up)
ACTIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "ack": (frozenset({"active"}), "acknowledged"),
    "assign": (frozenset(OPEN_STATES), None),
    "handle": (frozenset({"active", "acknowledged"}), "handling"),
    "resolve": (frozenset(OPEN_STATES), "resolved"),
    "dismiss": (frozenset({"active", "acknowledged"}), "dismissed"),
    "note": (frozenset(OPEN_STATES), None),
}
ACTION_LABELS = {
    "ack": ("认领", "Acknowledge"),
    "assign": ("指派", "Assign"),
    "handle": ("处置", "Handle"),
    "resolve": ("解除", "Resolve"),
    "dismiss": ("误报", "Dismiss"),
    "note": ("备注", "Note"),
}
NOTE_MAX = 2000


def list_alerts(
    session: Session,
    states: Iterable[str] | None = None,
    level: int | None = None,
    district_id: int | None = None,
    limit: int | None = None,
    rule: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[tuple[Alert, str | None, int | None]]:
    """Alerts, most severe and newest first, each with its area's code and district id: in
    some states (OPEN_STATES: the active ones), of a level, in one district, of a rule family
    or rule (`rule` "surge" matches surge.place and surge.grid), raised in a period."""
    district = district_of_alert()
    q = (
        select(Alert, Area.code, district)
        .outerjoin(Area, Area.id == Alert.area_id)
        .order_by(Alert.level, Alert.created_at.desc(), Alert.id.desc())
    )
    if states is not None:
        q = q.where(Alert.state.in_(list(states)))
    if level is not None:
        q = q.where(Alert.level == level)
    if district_id is not None:
        q = q.where(district == district_id)
    if rule:
        q = q.where((Alert.rule == rule) | Alert.rule.startswith(f"{rule}."))
    if since is not None:
        q = q.where(Alert.created_at >= since)
    if until is not None:
        q = q.where(Alert.created_at < until)
    if limit is not None:
        q = q.limit(limit)
    return [tuple(row) for row in session.execute(q).all()]


def district_of_alert():
    """An alert's district: its own, or its area's (the alerts table joined to areas)."""
    return func.coalesce(Alert.district_id, Area.district_id)


def in_district(session: Session, alert: Alert) -> int | None:
    if alert.district_id is not None or alert.area_id is None:
        return alert.district_id
    return session.execute(select(Area.district_id).where(Area.id == alert.area_id)).scalar()


def act(
    session: Session,
    alert_id: int,
    action: str,
    actor: str,
    note: str | None = None,
    assignee: str | None = None,
    department: str | None = None,
    district_id: int | None = None,
    now: datetime | None = None,
    address: str | None = None,
) -> Alert:
    """Apply an action inside the caller's transaction; history and audit rows are written too.
    `district_id`: the acting principal's district when bound to one (ScopeError elsewhere).
    A dismissal needs a reason; an assignment an assignee or a department (by code)."""
    if action not in ACTIONS:
        raise InputError({"action": f"must be one of {', '.join(ACTIONS)}"})
    errors = {
        name: problem
        for name, value, size in (("note", note, NOTE_MAX), ("assignee", assignee, 100))
        if (problem := text_problem(value, size))
    }
    if department is not None and text_problem(department, 32):
        errors["department"] = "must be a department code"
    if errors:
        raise InputError(errors)
    note = (note or "").strip() or None
    assignee = (assignee or "").strip() or None
    if action in ("dismiss", "note") and not note:
        raise InputError({"note": "say why" if action == "dismiss" else "write the note"})
    dept_id = None
    if department:
        dept_id = session.execute(
            select(Department.id).where(Department.code == department)
        ).scalar()
        if dept_id is None:
            raise InputError({"department": f"no department {department!r}"})
    if action == "assign" and not (assignee or dept_id):
        raise InputError({"assignee": "name who takes it up, or a department"})
    alert = session.execute(
        select(Alert).where(Alert.id == alert_id).with_for_update()
    ).scalar_one_or_none()
    # A district-bound principal learns nothing of alerts outside the district, not even
    # whether they exist: an unknown one is refused the same way.
    if district_id is not None and (alert is None or in_district(session, alert) != district_id):
        raise ScopeError(f"alert {alert_id} is outside your area")
    if alert is None:
        raise ConflictError(f"no alert {alert_id}", status=404)
    sources, target = ACTIONS[action]
    if alert.state not in sources:
        label = STATE_LABELS.get(alert.state, (alert.state,))[0]
        raise ConflictError(f"cannot {action} an alert that is {alert.state} ({label})")
    now = now or utcnow()
    if target is None:
        target = "acknowledged" if alert.state == "active" and action == "assign" else alert.state
    detail = " · ".join(
        x for x in (note, assignee and f"→ {assignee}", department and f"→ {department}") if x
    )
    session.add(
        AlertHistory(
            alert_id=alert.id,
            from_state=alert.state,
            to_state=target,
            at=now,
            actor=actor,
            note=f"{action}: {detail}" if detail else action,
        )
    )
    alert.state = target
    alert.updated_at = now
    if action != "note" and alert.acknowledged_at is None:
        alert.acknowledged_at = now
    if target in ("resolved", "dismissed"):
        alert.closed_at = now
    if assignee or (action == "ack" and not alert.assignee):
        alert.assignee = assignee or actor
    if dept_id is not None:
        alert.department_id = dept_id
    audit(session, actor, f"alert.{action}", f"alert:{alert.id}", detail or None, address)
    return alert


def escalate_unacknowledged(session: Session, now: datetime) -> int:
    """Flag the red alerts nobody took up within their rule's `escalate_after_minutes` of
    turning red (history, audit). Returns how many."""
    minutes = {
        key: orjson.loads(params).get("escalate_after_minutes", ESCALATE_AFTER_MINUTES)
        for key, params in session.execute(select(RiskRule.key, RiskRule.params))
    }
    flagged = 0
    candidates = session.execute(
        select(Alert).where(
            Alert.state == "active",
            Alert.level == 1,
            ~Alert.escalated,
            Alert.acknowledged_at.is_(None),
        )
    ).scalars()
    for alert in candidates:
        red_since = _red_since(session, alert)
        wait = timedelta(minutes=minutes.get(alert.rule, ESCALATE_AFTER_MINUTES))
        if red_since > now - wait:
            continue
        alert.escalated, alert.escalated_at, alert.updated_at = True, now, now
        session.add(
            AlertHistory(
                alert_id=alert.id,
                from_state=alert.state,
                to_state=alert.state,
                at=now,
                actor="system",
                note=f"escalated: red and not acknowledged for {int(wait.total_seconds() // 60)} min",
            )
        )
        audit(session, "system", "alert.escalate", f"alert:{alert.id}", alert.title)
        flagged += 1
    session.flush()
    return flagged


def _red_since(session: Session, alert: Alert) -> datetime:
    """When the alert turned red: raised red, or the history line of its raise to red."""
    raised = session.execute(
        select(AlertHistory.at)
        .where(
            AlertHistory.alert_id == alert.id,
            AlertHistory.note.in_(["level 1", "raised to level 1"]),
        )
        .order_by(AlertHistory.at)
        .limit(1)
    ).scalar()
    return raised or alert.created_at


def history(session: Session, alert_id: int) -> list[AlertHistory]:
    return list(
        session.execute(
            select(AlertHistory)
            .where(AlertHistory.alert_id == alert_id)
            .order_by(AlertHistory.at, AlertHistory.id)
        ).scalars()
    )
