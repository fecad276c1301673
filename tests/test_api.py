"""The HTTP contract of API v1 (DESIGN §4): status codes, field errors, auth, 503 and 413."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from dashboard import auth
from dashboard.models import Event, Transition
from tests.factories import T0, event, h, step


def n_events(rt) -> int:
    with rt.sessions() as s:
        return s.execute(select(func.count()).select_from(Event)).scalar()


def test_auth_is_required(client, city):
    assert client.post("/api/v1/events", json=event("A", T0)).status_code == 401
    r = client.get("/api/v1/kpis", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_stops_at_once(client, rt, bearer):
    assert client.get("/api/v1/sources", headers=bearer).status_code == 200
    with rt.sessions() as s, s.begin():
        assert auth.revoke_token(s, "grid-feed") == 1
    assert client.get("/api/v1/sources", headers=bearer).status_code == 401


def test_display_tokens_cannot_ingest(client, rt, city):
    with rt.sessions() as s, s.begin():
        display = auth.create_token(s, "wall-1", "display")
    r = client.post(
        "/api/v1/events", json=event("A", T0), headers={"Authorization": f"Bearer {display}"}
    )
    assert r.status_code == 403


def test_single_event_created_then_duplicate(client, rt, bearer):
    body = event("S1", T0, reporter_phone="13912345678")
    r = client.post("/api/v1/events", json=body, headers=bearer)
    assert r.status_code == 201 and r.json["status"] == "created" and r.json["id"] > 0
    r = client.post("/api/v1/events", json=body, headers=bearer)
    assert r.status_code == 200 and r.json["status"] == "duplicate"
    assert n_events(rt) == 1


def test_field_level_400(client, rt, bearer):
    r = client.post(
        "/api/v1/events",
        json={"external_id": "B1", "subcategory": "9999", "grid_code": "G11", "severity": 9},
        headers=bearer,
    )
    assert r.status_code == 400
    assert set(r.json["errors"]) == {"title", "severity"}
    r = client.post(
        "/api/v1/events", data=b"{not json", headers=bearer, content_type="application/json"
    )
    assert r.status_code == 400 and r.json["fields"] == {"_": "the body must be JSON"}
    assert n_events(rt) == 0


def test_batch_answers_per_item(client, rt, bearer):
    r = client.post(
        "/api/v1/events",
        json={"events": [event("C1", T0), event("C2", T0, grid="x"), event("C1", T0)]},
        headers=bearer,
    )
    assert r.status_code == 200
    assert (r.json["created"], r.json["rejected"], r.json["duplicate"]) == (1, 1, 1)
    assert [x["status"] for x in r.json["results"]] == ["created", "rejected", "duplicate"]
    r = client.post("/api/v1/events", json={"events": [event("C3", T0, grid="x")]}, headers=bearer)
    assert r.status_code == 400  # nothing in the batch was valid


def test_batch_limits_are_413(client, rt, bearer):
    many = {"events": [event(f"M{i}", T0) for i in range(1001)]}
    assert client.post("/api/v1/events", json=many, headers=bearer).status_code == 413
    big = b'{"events": [' + b'"' + b"x" * (5 * 1024 * 1024) + b'"]}'
    r = client.post("/api/v1/events", data=big, headers=bearer, content_type="application/json")
    assert r.status_code == 413 and "error" in r.json
    assert n_events(rt) == 0


def test_source_scope_of_the_token(client, bearer):
    r = client.post("/api/v1/events", json=event("V1", T0, source="video"), headers=bearer)
    assert r.status_code == 400 and "source" in r.json["errors"]
    r = client.post(
        "/api/v1/events/video/V1/transitions", json=step("accepted", T0), headers=bearer
    )
    assert r.status_code == 403


def test_transitions_409_and_all_or_nothing(client, rt, bearer):
    client.post("/api/v1/events", json=event("T1", T0), headers=bearer)
    r = client.post(
        "/api/v1/events/grid/T1/transitions",
        json=[step("accepted", T0 + h(1)), step("resolved", T0 + h(2))],
        headers=bearer,
    )
    assert r.status_code == 409 and "cannot go from accepted to resolved" in r.json["error"]
    with rt.sessions() as s:
        assert s.execute(select(func.count()).select_from(Transition)).scalar() == 1
    r = client.post(
        "/api/v1/events/grid/T1/transitions",
        json={
            "transitions": [
                step("accepted", T0 + h(1)),
                step("dispatched", T0 + h(2), department="CG"),
            ]
        },
        headers=bearer,
    )
    assert r.status_code == 200
    assert [x["result"] for x in r.json["results"]] == ["applied", "applied"]
    r = client.post(
        "/api/v1/events/grid/NOPE/transitions", json=step("accepted", T0), headers=bearer
    )
    assert r.status_code == 404


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_database_locked_is_503_and_redis_untouched(client, rt, bearer):
    """Another writer holds the database: the token check reads, the write fails after a short
    wait, and nothing changes — no event in SQL, no change in Redis."""
    version = rt.live.version()

    @sa_event.listens_for(rt.engine, "connect")
    def _short_busy_timeout(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA busy_timeout = 200")

    rt.engine.dispose()  # new connections get the short timeout
    blocker = sqlite3.connect(rt.engine.url.database, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        r = client.post("/api/v1/events", json=event("Z1", T0), headers=bearer)
    finally:
        blocker.rollback()
        blocker.close()
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert rt.live.version() == version
    assert n_events(rt) == 0


def test_unreachable_database_is_503(client, rt, bearer):
    """No database server at all: 503 with Retry-After, and Redis untouched."""
    from dashboard.db import make_engine, make_sessionmaker

    version = rt.live.version()
    real = rt.ingestor.sessions, rt.sessions
    dead = make_engine("postgresql://nobody@127.0.0.1:1/none")
    rt.sessions = rt.ingestor.sessions = make_sessionmaker(dead)
    try:
        r = client.post("/api/v1/events", json=event("Z2", T0), headers=bearer)
    finally:
        rt.ingestor.sessions, rt.sessions = real
        dead.dispose()
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert rt.live.version() == version
    assert n_events(rt) == 0


def test_kpis_endpoint(client, rt, bearer):
    client.post(
        "/api/v1/events", json={"events": [event("K1", T0), event("K2", T0 + h(1))]}, headers=bearer
    )
    client.post(
        "/api/v1/events/grid/K1/transitions", json=step("accepted", T0 + h(1)), headers=bearer
    )
    r = client.get(
        "/api/v1/kpis",
        query_string={
            "from": (T0 - h(1)).isoformat() + "Z",
            "to": (T0 + h(5)).isoformat() + "Z",
            "by": "district",
        },
        headers=bearer,
    )
    assert r.status_code == 200
    body = r.json
    assert (body["received"], body["accepted"]) == (2, 1)
    assert body["acceptance_rate"] == 0.5 and body["closing_rate"] is None
    assert set(body["wuzhi_index"]) >= {
        "political",
        "autonomy",
        "rule_of_law",
        "moral",
        "smart",
        "total",
    }
    assert body["by"] == "district" and len(body["breakdown"]) >= 1
    bad = client.get("/api/v1/kpis", query_string={"from": "soon"}, headers=bearer)
    assert bad.status_code == 400 and "from" in bad.json["fields"]
    bad = client.get("/api/v1/kpis", query_string={"area": "nowhere"}, headers=bearer)
    assert bad.status_code == 400 and "area" in bad.json["fields"]


def test_reference_lists(client, bearer):
    areas = client.get("/api/v1/areas?level=district", headers=bearer).json["areas"]
    assert [a["code"] for a in areas] == ["339001", "339002"]
    grids = client.get("/api/v1/areas?parent=C1", headers=bearer).json["areas"]
    assert [a["code"] for a in grids] == ["G11", "G12"]
    cats = client.get("/api/v1/categories", headers=bearer).json["categories"]
    sub = next(c for c in cats if c["code"] == "01")["subcategories"][0]
    assert sub["code"] == "0101"
    close = next(t for t in sub["time_limits"] if t["severity"] == 1 and t["step"] == "close")
    assert close == {"severity": 1, "severity_name": "一般", "step": "close", "amount": 48,
                     "unit": "hours", "start": "accepted"}  # fmt: skip
    deps = client.get("/api/v1/departments", headers=bearer).json["departments"]
    assert {d["code"] for d in deps} == {"CG", "SF"}
    srcs = client.get("/api/v1/sources", headers=bearer).json["sources"]
    assert "hotline" in {s["code"] for s in srcs}
    assert client.get("/api/v1/areas?level=planet", headers=bearer).status_code == 400


def test_health(client):
    assert client.get("/healthz").json == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["checks"]["database"] == "ok"


def make_alert(rt, state="active") -> int:
    from dashboard.clock import utcnow
    from dashboard.models import Alert

    with rt.sessions() as s, s.begin():
        a = Alert(
            rule="surge",
            level=1,
            title="欠薪诉求激增",
            state=state,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(a)
        s.flush()
        return a.id


def test_alert_actions(client, rt, bearer):
    from dashboard.models import AlertHistory, AuditLog

    alert_id = make_alert(rt)
    version = rt.live.version()
    r = client.post(f"/api/v1/alerts/{alert_id}/ack", json={"note": "已联系街道"}, headers=bearer)
    assert r.status_code == 200 and r.json["state"] == "acknowledged"
    assert r.json["assignee"] == "token:grid-feed" and rt.live.version() > version
    r = client.post(f"/api/v1/alerts/{alert_id}/ack", headers=bearer)
    assert r.status_code == 409 and "acknowledged" in r.json["error"]
    assert client.post(f"/api/v1/alerts/{alert_id}/resolve", headers=bearer).status_code == 200
    r = client.post(f"/api/v1/alerts/{alert_id}/dismiss", headers=bearer)
    assert r.status_code == 400 and r.json["fields"]["note"] == "say why"  # a reason first
    r = client.post(f"/api/v1/alerts/{alert_id}/dismiss", json={"note": "重复"}, headers=bearer)
    assert r.status_code == 409  # … and a resolved alert is not dismissed
    assert client.post("/api/v1/alerts/999999/ack", headers=bearer).status_code == 404
    r = client.post(f"/api/v1/alerts/{alert_id}/resolve", json={"colour": "red"}, headers=bearer)
    assert r.status_code == 400
    with rt.sessions() as s:
        states = s.execute(select(AlertHistory.to_state).order_by(AlertHistory.id)).scalars().all()
        actions = s.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
    assert states == ["acknowledged", "resolved"]
    assert actions[-2:] == ["alert.ack", "alert.resolve"]
    listed = client.get("/api/v1/alerts?state=resolved", headers=bearer).json["alerts"]
    assert [a["id"] for a in listed] == [alert_id]


def test_openapi_lists_every_route(web_app):
    spec = (Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml").read_text()
    for rule in web_app.server.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(
            r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1") :]
        )
        assert f"  {path}:" in spec, path
