"""Hostile input on every surface (the API, callbacks, forms, addresses): a 4xx with a
field-level message, never a 500, and nothing half-written. PostgreSQL refuses NUL characters
outright, so every test here runs on it too."""

from __future__ import annotations

from sqlalchemy import func, select

from dashboard import auth
from dashboard.clock import utcnow
from dashboard.models import Alert, AuditLog, Event, Transition
from dashboard.schemas import NUL_MESSAGE
from tests.conftest import as_role, form_token
from tests.dash_requests import callback
from tests.factories import event, step


def _count(rt, model) -> int:
    with rt.sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def test_a_nul_byte_is_a_field_error_for_its_item_and_the_others_are_written(
    client, rt, city, bearer
):
    now = utcnow()
    items = [
        event("N1", now),
        event("N2", now, title="a\u0000b"),
        event("N3", now, reporter_name="张\u0000三"),
        event("N4", now, description="\u0000"),
    ]
    r = client.post("/api/v1/events", json={"events": items}, headers=bearer)
    assert r.status_code == 200
    results = r.json["results"]
    assert r.json["created"] == 1 and r.json["rejected"] == 3
    assert results[1]["errors"] == {"title": NUL_MESSAGE}
    assert results[2]["errors"] == {"reporter_name": NUL_MESSAGE}
    assert results[3]["errors"] == {"description": NUL_MESSAGE}
    assert _count(rt, Event) == 1


def test_a_nul_byte_in_a_transition_changes_nothing(client, rt, city, bearer):
    now = utcnow()
    client.post("/api/v1/events", json=event("T1", now), headers=bearer)
    url = "/api/v1/events/grid/T1/transitions"
    for field in ("note", "actor", "department"):
        r = client.post(url, json=[step("accepted", now, **{field: "x\u0000"})], headers=bearer)
        assert r.status_code == 400 and r.json["fields"] == {field: NUL_MESSAGE}, field
    two = [step("accepted", now), step("dispatched", now, note="\u0000")]
    r = client.post(url, json=two, headers=bearer)
    assert r.status_code == 400 and r.json["fields"] == {"1.note": NUL_MESSAGE}
    assert _count(rt, Transition) == 1  # only the report: all or nothing


def test_a_nul_byte_in_an_address_or_query_is_refused(client, rt, city, bearer):
    for url in (
        "/api/v1/events/grid/A%00B",
        "/api/v1/kpis?area=33%0090",
        "/api/v1/kpis?de%00partment=x",
        "/api/v1/areas?parent=%00",
    ):
        r = client.get(url, headers=bearer)
        assert r.status_code == 400 and r.json["error"] == NUL_MESSAGE, url
    assert client.get("/flow%00").status_code == 400
    assert client.get("/login?next=/%00").status_code == 400


def test_a_nul_byte_in_a_form_or_callback_is_refused(client, rt, city):
    r = client.post(
        "/login",
        data={"username": "ad\u0000min", "password": "x", "csrf_token": form_token(client)},
    )
    assert r.status_code == 400
    assert _count(rt, AuditLog) == 0
    admin = as_role(client, rt, "admin")
    search = callback(admin, "admin-audit-grid", {"admin-audit-text": "a\u0000b"})
    r = admin.post("/_dash-update-component", json=search)
    assert r.status_code == 400 and r.json["error"] == NUL_MESSAGE


def test_field_errors_name_the_field_and_say_what_is_allowed(client, rt, city, bearer):
    now = utcnow()
    cases = {
        "severity": ([1], "must be 1–4 or one of 一般/较大/重大/特别重大"),
        "title": (5, "must be text"),
        "lat": ("north", "must be a number"),
        "reported_at": ("yesterday", "must be an ISO 8601 date-time"),
        "nonsense": (1, "unknown field"),
    }
    for field, (value, message) in cases.items():
        r = client.post("/api/v1/events", json=event(f"F-{field}", now, **{field: value}), headers=bearer)  # fmt: skip
        assert r.status_code == 400 and r.json["errors"] == {field: message}, (field, r.json)
    r = client.post("/api/v1/events", json=event("F-bool", now, severity=True), headers=bearer)
    assert r.json["errors"] == {"severity": cases["severity"][1]}
    assert _count(rt, Event) == 0


def test_alert_actions_and_reveal_check_their_text(client, rt, city):
    now = utcnow()
    with rt.sessions() as session, session.begin():
        session.add(Alert(rule="t", level=2, title="预警", created_at=now, updated_at=now))
    duty = as_role(client, rt, "duty_officer")
    for body, field in (
        ({"note": "a\u0000"}, "note"),
        ({"note": 5}, "note"),
        ({"note": ["x"]}, "note"),
        ({"assignee": "x" * 101}, "assignee"),
        ({"assignee": {"a": 1}}, "assignee"),
    ):
        r = duty.post("/api/v1/alerts/1/ack", json=body)
        assert r.status_code == 400 and field in r.json["fields"], body
    with rt.sessions() as session:
        assert session.get(Alert, 1).state == "active"
    for reason in ("回访\u0000核实", 12345, None, ["回访核实"]):
        r = duty.post("/api/v1/events/grid/NONE/reveal", json={"reason": reason})
        assert r.status_code == 400 and "reason" in r.json["fields"], reason
    with rt.sessions() as session:
        assert not session.execute(select(AuditLog).where(AuditLog.action == "pii.reveal")).first()


def test_the_audit_log_keeps_oversized_input_to_its_columns(rt, city):
    with rt.sessions() as session, session.begin():
        auth.audit(session, "x" * 500, "login.failure", "t" * 500, "d" * 10_000, "a" * 100)
    with rt.sessions() as session:
        row = session.execute(select(AuditLog)).scalar_one()
    assert len(row.actor) == 100 and len(row.target) == 200 and len(row.detail) == 4000
    assert row.actor.endswith("…") and len(row.address) == 64


def test_ids_beyond_the_databases_integers_name_nothing(client, rt, city, bearer):
    for action in ("ack", "resolve"):
        for alert_id in (2**31, 2**40, 2**70):
            r = client.post(f"/api/v1/alerts/{alert_id}/{action}", json={}, headers=bearer)
            assert r.status_code == 404, (alert_id, r.status_code)
