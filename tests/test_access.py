"""Who may see and do what (DESIGN §8), tried against every page, callback and API endpoint,
for every role, for strangers, and across districts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dashboard import auth
from dashboard.access import PERMISSIONS
from dashboard.clock import utcnow
from dashboard.models import Alert, AuditLog
from tests.conftest import form_token, post_login, sign_in_client
from tests.dash_requests import callbacks, route
from tests.factories import event

PAGES = ["/", "/flow", "/supervision", "/risk", "/talent", "/weekly"]
ADMIN_PAGES = ["/admin/users", "/admin/tokens", "/admin/audit"]
READ_API = ["/api/v1/kpis", "/api/v1/areas", "/api/v1/categories", "/api/v1/departments",
            "/api/v1/sources", "/api/v1/alerts"]  # fmt: skip
ROLES = list(PERMISSIONS)


def as_role(client, rt, role: str, area: str | None = None):
    if role == "display":
        with rt.sessions() as session, session.begin():
            token = auth.create_token(session, "wall-1", "display")
        assert client.get(f"/?token={token}").status_code == 302
        client.get("/")
        client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
        return client
    return sign_in_client(
        client, rt, role, area or ("339001" if role == "district_officer" else None)
    )


def test_strangers_get_nothing(client, city):
    for path in PAGES + ADMIN_PAGES + ["/account/password", "/no-such-page"]:
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next="), path
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 401, path
    r = client.post(
        "/_dash-update-component",
        json={
            "output": "overview-seen-fast.data",
            "outputs": {"id": "overview-seen-fast", "property": "data"},
            "inputs": [],
        },
    )
    assert r.status_code == 401 and b"overview" not in r.data
    for path in READ_API:
        assert client.get(path).status_code == 401, path
    assert client.post("/api/v1/alerts/1/ack").status_code == 401
    # What stays open: the sign-in page, health checks and static files.
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/assets/shell.css").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_page_callback_and_endpoint(client, rt, city, role):
    allowed = PERMISSIONS[role]
    c = as_role(client, rt, role)
    for path in PAGES:
        assert c.get(path).status_code == (200 if "wall" in allowed else 403), (role, path)
    for path in ADMIN_PAGES:
        assert c.get(path).status_code == (200 if "admin" in allowed else 403), (role, path)
    for body in callbacks(c):
        r = c.post("/_dash-update-component", json=body)
        outs = body["output"]
        needs_admin = "admin-" in outs
        expect_refused = needs_admin and "admin" not in allowed
        if expect_refused:
            assert r.status_code == 403, (role, outs, r.status_code)
        else:
            assert r.status_code in (200, 204), (role, outs, r.status_code, r.data[:300])
    # The page router refuses an admin page's layout to the other roles.
    r = route(c, "/admin/users")
    assert r.status_code == (200 if "admin" in allowed else 403), role
    for path in READ_API:
        assert c.get(path).status_code == (200 if "read" in allowed else 403), (role, path)
    assert c.get("/api/v1/events/grid/NONE").status_code == (404 if "read" in allowed else 403)
    assert c.get("/api/v1/events/export.csv").status_code == (200 if "export" in allowed else 403)
    reveal = c.post("/api/v1/events/grid/NONE/reveal", json={"reason": "回访核实"})
    assert reveal.status_code == (404 if "reveal" in allowed else 403), role
    # Ingest needs a token; nobody ingests with a session.
    assert c.post("/api/v1/events", json=event("S1", utcnow())).status_code == 401
    # Actions: unknown alert → 404 for city-wide roles allowed to act, 403 for the others (a
    # district officer learns nothing about alerts outside the district, not even existence).
    if role == "district_officer":
        allowed = allowed - {"act"}
    assert c.post("/api/v1/alerts/999/ack", json={}).status_code == (
        404 if "act" in allowed else 403
    )


def scoped(body: dict, district: str | None) -> dict:
    """The callback request with the overview's district (the page's scope store) set."""
    state = [dict(x, value=district) if x["id"] == "overview-scope" else x for x in body["state"]]
    return dict(body, state=state)


def _alerts(rt):
    now = utcnow()
    with rt.sessions() as session, session.begin():
        for n, area in ((1, 2), (2, 7)):  # area ids: district 1 is 2, district 2 is 7 (factories)
            session.add(
                Alert(
                    rule="test",
                    level=n,
                    area_id=area,
                    subject=f"s{n}",
                    title=f"预警{n}",
                    state="active",
                    escalated=False,
                    evidence="{}",
                    created_at=now,
                    updated_at=now,
                )
            )
    with rt.sessions() as session:
        from sqlalchemy import select

        return {a.area_id: a.id for a in session.execute(select(Alert)).scalars()}


def test_a_district_officer_gets_nothing_of_another_district(client, rt, city, clock):
    from dashboard import jobs

    now = clock
    at = now - timedelta(minutes=2)
    rt.ingestor.ingest_events(
        [event("X1", at, "G11"), event("X2", at, "G21"), event("X3", at, "G22")], now=now
    )
    ids = _alerts(rt)
    jobs.wall_snapshot(rt, now=now)
    c = as_role(client, rt, "district_officer", "339001")
    # The overview, as a crafted callback for district 2: nothing comes back.
    tiles = next(b for b in callbacks(c) if "overview-tile-received-value" in b["output"])
    assert c.post("/_dash-update-component", json=scoped(tiles, "339002")).status_code == 204
    # … asking for nothing in particular shows their own district, not the city.
    own = c.post("/_dash-update-component", json=scoped(tiles, None)).json["response"]
    assert own["overview-tile-received-value"]["children"] == "1"  # city-wide would be 3
    charts = next(b for b in callbacks(c) if "overview-graph-map" in b["output"])
    assert c.post("/_dash-update-component", json=scoped(charts, "339002")).status_code == 204
    resp = c.post("/_dash-update-component", json=scoped(charts, None)).json["response"]
    assert resp["overview-districts"]["data-codes"] == "339001"
    alerts = str(resp["overview-list-alerts"])
    assert "预警2" not in alerts and "预警1" in alerts
    # The page URL for another district renders a refusal, not the page.
    page = route(c, "/", "?district=339002")
    assert page.status_code == 200 and "overview-refused" in page.get_data(as_text=True)
    assert "overview-fast" not in page.get_data(as_text=True)
    # The API: other areas refused, lists cut to the district.
    assert c.get("/api/v1/kpis?area=339002").status_code == 403
    assert c.get("/api/v1/kpis?area=S2").status_code == 403
    assert c.get("/api/v1/kpis?area=3390").status_code == 403  # the whole city
    mine = c.get("/api/v1/kpis").json
    assert mine["area"] == "339001" and mine["received"] == 1
    assert c.get("/api/v1/kpis?area=S1").status_code == 200
    codes = {a["code"] for a in c.get("/api/v1/areas").json["areas"]}
    assert codes and all(code in {"339001", "S1", "C1", "G11", "G12"} for code in codes)
    assert [a["title"] for a in c.get("/api/v1/alerts").json["alerts"]] == ["预警1"]
    assert c.post(f"/api/v1/alerts/{ids[7]}/ack", json={}).status_code == 403
    assert c.post(f"/api/v1/alerts/{ids[2]}/ack", json={}).status_code == 200
    # A city-wide role sees both.
    leader = as_role(rt_client(client), rt, "leader")
    assert len(leader.get("/api/v1/alerts").json["alerts"]) == 2


def rt_client(client):
    """A second, separate browser."""
    return client.application.test_client()


def test_sign_in_failures_lock_the_account_and_the_address(client, rt, city):
    with rt.sessions() as session, session.begin():
        auth.create_user(session, "zhang", "leader", password="correct-horse-42")

    def attempt(c, name, pw, addr="10.0.0.1"):
        return post_login(c, name, pw, environ_base={"REMOTE_ADDR": addr})

    for n in range(5):
        r = attempt(client, "zhang", f"wrong-{n}")
        assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    locked = attempt(client, "zhang", "correct-horse-42")
    assert locked.status_code == 429 and "账号已临时锁定" in locked.get_data(as_text=True)
    # From another address the account is still locked; another account is not.
    assert attempt(client, "zhang", "correct-horse-42", "10.0.0.2").status_code == 429
    with rt.sessions() as session:
        from sqlalchemy import func, select

        failures = session.execute(
            select(func.count()).where(
                AuditLog.action == "login.failure", AuditLog.target == "zhang"
            )
        ).scalar()
    assert failures == 7
    # One address trying many accounts is stopped too.
    for n in range(20):
        attempt(client, f"nobody{n}", "x", "10.9.9.9")
    r = attempt(client, "zhang", "correct-horse-42", "10.9.9.9")
    assert r.status_code == 429 and "此地址" in r.get_data(as_text=True)


def test_sign_in_out_and_password_change(client, rt, city):
    with rt.sessions() as session, session.begin():
        auth.create_user(session, "li", "analyst", password="first-pass-123")
    r = post_login(client, "li", "first-pass-123", next="/weekly")
    assert r.status_code == 302 and r.headers["Location"] == "/weekly"
    # The session cookie is HttpOnly and SameSite; the page carries the security headers.
    cookie = r.headers.getlist("Set-Cookie")
    assert any("cc_session=" in c and "HttpOnly" in c and "SameSite=Lax" in c for c in cookie)
    page = client.get("/weekly")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "unsafe-eval" not in csp
    )
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    # A second browser signed in as the same user.
    other = rt_client(client)
    post_login(other, "li", "first-pass-123")
    assert other.get("/").status_code == 200
    # Changing the password needs the current one and a decent new one …
    csrf = form_token(client, "/account/password")
    bad = client.post(
        "/account/password",
        data={
            "current": "nope",
            "new": "second-pass-456",
            "again": "second-pass-456",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 400
    short = client.post(
        "/account/password",
        data={"current": "first-pass-123", "new": "short", "again": "short", "csrf_token": csrf},
    )
    assert short.status_code == 400
    ok = client.post(
        "/account/password",
        data={
            "current": "first-pass-123",
            "new": "second-pass-456",
            "again": "second-pass-456",
            "csrf_token": csrf,
        },
    )
    assert ok.status_code == 200 and "密码已修改" in ok.get_data(as_text=True)
    # … and ends the other session, not this one.
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    # Without the CSRF token a state-changing request is refused.
    assert client.post("/logout").status_code == 400
    r = client.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 302 and client.get("/").status_code == 302
    with rt.sessions() as session:
        from sqlalchemy import select

        actions = (
            session.execute(select(AuditLog.action).where(AuditLog.actor == "li")).scalars().all()
        )
    assert {"login.success", "password.change", "password.change.failure", "logout"} <= set(actions)


def test_no_open_redirect_after_sign_in(client, rt, city):
    with rt.sessions() as session, session.begin():
        auth.create_user(session, "wang", "leader", password="a-good-pass-9")
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        r = post_login(client, "wang", "a-good-pass-9", next=target)
        assert r.headers["Location"] == "/", target


def test_callbacks_need_the_csrf_header(client, rt, city):
    c = as_role(client, rt, "leader")
    body = next(b for b in callbacks(c) if "shell-clock" in b["output"])
    assert c.post("/_dash-update-component", json=body).status_code == 200
    del c.environ_base["HTTP_X_CSRFTOKEN"]
    assert c.post("/_dash-update-component", json=body).status_code == 400


def test_display_token_revocation_takes_effect_at_once(client, rt, city):
    c = as_role(client, rt, "display")
    body = next(b for b in callbacks(c) if "overview-tile-received-value" in b["output"])
    assert c.post("/_dash-update-component", json=body).status_code == 200
    with rt.sessions() as session, session.begin():
        assert auth.revoke_token(session, "wall-1") == 1
    assert c.post("/_dash-update-component", json=body).status_code == 401
    assert c.get("/_session").status_code == 401  # the wall's poll: it reloads to /login
    assert c.get("/").status_code == 302
    # A display has no password page and may not sign in with a revoked or an ingest token.
    r = rt_client(client).get("/?token=cd_not-a-token")
    assert r.status_code == 401 and "显示令牌无效" in r.get_data(as_text=True)


def test_a_person_session_ends_after_its_hours(client, rt, city):
    c = as_role(client, rt, "leader")
    with c.session_transaction() as s:
        s["signed_in_at"] -= rt.settings.session_hours * 3600 + 1
    assert c.get("/api/v1/sources").status_code == 401  # the API too
    r = c.get("/")
    assert r.status_code == 302 and "reason=expired" in r.headers["Location"]


def test_access_logs_do_not_keep_display_tokens():
    import logging

    from dashboard.headers import RedactTokens

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        "",
        0,
        '"%s" %s',
        ("GET /?kiosk=1&token=cd_secret123 HTTP/1.1", 302),
        None,
    )
    RedactTokens().filter(record)
    assert record.getMessage() == '"GET /?kiosk=1&token=*** HTTP/1.1" 302'


def test_the_sign_in_page_speaks_english(client, city):
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in page and "User name" in page and 'lang="en"' in page
    assert "云州市 Municipal Social Governance Command Center" in page


def test_strangers_get_no_callback_and_no_api_route(client, rt, city):
    signed = as_role(rt_client(client), rt, "admin")
    bodies = callbacks(signed)
    assert len(bodies) >= 6
    for body in bodies:
        r = client.post("/_dash-update-component", json=body)
        assert r.status_code == 401, body["output"]
    rules = [r for r in client.application.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert len(rules) >= 12
    for rule in rules:
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(
                rf"<[^>]*{arg}>",
                "1" if arg == "alert_id" else "ack" if arg == "action" else "grid",
                url,
            )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            r = client.open(url, method=method, json={})
            assert r.status_code == 401, (method, url, r.status_code)


def _find_secret(node):
    """The text of the component with id admin-secret in a callback's answer."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == "admin-secret":
            return node["props"]["children"]
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            found = _find_secret(item)
            if found:
                return found
    return None


def _admin_call(c, output_part: str, trigger: str, values: dict) -> dict:
    body = next(b for b in callbacks(c) if output_part in b["output"])
    for item in body["inputs"] + body["state"]:
        key = f"{item['id']}.{item['property']}"
        if key in values:
            item["value"] = values[key]
    body["changedPropIds"] = [trigger]
    r = c.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.data[:300]
    return r.json["response"]


def test_admin_manages_users_tokens_and_reads_the_audit_log(client, rt, city):
    admin = as_role(client, rt, "admin")
    made = _admin_call(
        admin,
        "admin-user-grid",
        "admin-user-create.n_clicks",
        {
            "admin-user-create.n_clicks": 1,
            "admin-user-name.value": "zhao",
            "admin-user-role.value": "district_officer",
            "admin-user-area.value": "339002",
        },
    )
    rows = {r["username"]: r for r in made["admin-user-grid"]["rowData"]}
    assert rows["zhao"]["role"] == "区级人员" and rows["zhao"]["area"] == "339002"
    password = _find_secret(made["admin-user-result"])  # the password, shown once
    fresh = rt_client(client)
    signed_in = post_login(fresh, "zhao", password)
    assert signed_in.status_code == 302
    # Bad input: a clear message and nothing written.
    again = _admin_call(
        admin,
        "admin-user-grid",
        "admin-user-create.n_clicks",
        {
            "admin-user-create.n_clicks": 2,
            "admin-user-name.value": "zhao",
            "admin-user-role.value": "leader",
        },
    )
    assert "exists" in str(again["admin-user-result"]) and len(
        again["admin-user-grid"]["rowData"]
    ) == len(rows)
    # Deactivate zhao: the account can no longer sign in.
    _admin_call(
        admin,
        "admin-user-grid",
        "admin-user-deactivate.n_clicks",
        {"admin-user-deactivate.n_clicks": 1, "admin-user-grid.selectedRows": [rows["zhao"]]},
    )
    with rt.sessions() as session:
        from sqlalchemy import select

        from dashboard.models import User

        assert session.execute(select(User.active).where(User.username == "zhao")).scalar() is False
    # A display token: created (URL shown once), listed, revoked.
    tokens = _admin_call(
        admin,
        "admin-token-grid",
        "admin-token-create.n_clicks",
        {
            "admin-token-create.n_clicks": 1,
            "admin-token-name.value": "hall-2",
            "admin-token-kind.value": "display",
        },
    )
    assert "?token=cd_" in str(tokens["admin-token-result"])
    row = next(t for t in tokens["admin-token-grid"]["rowData"] if t["name"] == "hall-2")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["created_at"])  # local time
    revoked = _admin_call(
        admin,
        "admin-token-grid",
        "admin-token-revoke.n_clicks",
        {"admin-token-revoke.n_clicks": 1, "admin-token-grid.selectedRows": [row]},
    )
    assert next(t for t in revoked["admin-token-grid"]["rowData"] if t["id"] == row["id"])[
        "revoked_at"
    ]
    # The audit log: searchable, exportable (and the export is itself logged).
    log = _admin_call(
        admin, "admin-audit-grid", "admin-audit-text.value", {"admin-audit-text.value": "zhao"}
    )
    actions = {r["action"] for r in log["admin-audit-grid"]["rowData"]}
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", log["admin-audit-grid"]["rowData"][0]["at"]
    )
    assert {"user.create", "user.deactivate"} <= actions
    only_tokens = _admin_call(
        admin, "admin-audit-grid", "admin-audit-action.value", {"admin-audit-action.value": "token"}
    )
    assert {r["action"] for r in only_tokens["admin-audit-grid"]["rowData"]} == {
        "token.create",
        "token.revoke",
    }
    export = _admin_call(
        admin,
        "admin-audit-download",
        "admin-audit-export.n_clicks",
        {"admin-audit-export.n_clicks": 1, "admin-audit-text.value": "zhao"},
    )
    csv_text = export["admin-audit-download"]["data"]["content"]
    assert (
        csv_text.startswith("\ufeffat,actor,action,target,detail,address")
        and "user.deactivate" in csv_text
    )
    with rt.sessions() as session:
        assert session.execute(select(AuditLog).where(AuditLog.action == "audit.export")).first()


def test_the_database_refuses_to_edit_the_audit_log(rt, city):
    from sqlalchemy import delete, select, update
    from sqlalchemy.exc import DatabaseError

    with rt.sessions() as session, session.begin():
        auth.audit(session, "someone", "login.success", "someone")
    for statement in (
        update(AuditLog).values(actor="nobody"),
        delete(AuditLog),
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            rt.sessions() as session,
            session.begin(),
        ):
            session.execute(statement)
    with rt.sessions() as session:
        assert session.execute(select(AuditLog.actor)).scalars().all() == ["someone"]


def test_crafted_callback_requests_do_not_slip_past_the_gate(client, rt, city):
    c = as_role(client, rt, "leader")
    admin_grid = next(b for b in callbacks(c) if "admin-user-grid" in b["output"])
    clock = next(b for b in callbacks(c) if "shell-clock" in b["output"])
    # Dash dispatches on `output`; a harmless `outputs` list does not make it harmless.
    crafted = dict(admin_grid, outputs=clock["outputs"])
    assert c.post("/_dash-update-component", json=crafted).status_code == 403
    # The router takes its inputs by position: an admin path anywhere in them is refused.
    router = next(b for b in callbacks(c) if "_pages_content" in b["output"])
    values = [dict(i) for i in router["inputs"]]
    values[0] = {"id": "decoy", "property": "pathname", "value": "/admin/audit"}
    values.append({"id": "_pages_location", "property": "pathname", "value": "/"})
    assert c.post("/_dash-update-component", json=dict(router, inputs=values)).status_code == 403
    # Unknown outputs are refused, and so is a body that is not a callback request.
    assert (
        c.post(
            "/_dash-update-component", json=dict(clock, output="secret-thing.children")
        ).status_code
        == 403
    )
    assert c.post("/_dash-update-component", data="not json").status_code == 400


def test_a_database_outage_is_503_not_a_sign_out(client, rt, city):
    from dashboard.db import make_engine, make_sessionmaker

    wall = as_role(client, rt, "display")
    person = rt_client(client)
    csrf = form_token(person)  # the form was loaded before the database went away
    real = rt.sessions
    dead = make_engine("postgresql://nobody@127.0.0.1:1/none")
    rt.sessions = make_sessionmaker(dead)
    try:
        r = wall.get("/_session")
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"  # the wall keeps its page
        signing_in = person.post(
            "/login", data={"username": "x", "password": "y", "csrf_token": csrf}
        )
        assert signing_in.status_code == 503
        assert "登录服务暂不可用" in signing_in.get_data(as_text=True)
    finally:
        rt.sessions = real
        dead.dispose()
    assert wall.get("/_session").status_code == 200  # still signed in once it is back


def test_a_district_officer_without_a_district_sees_nothing(client, rt, city):
    from sqlalchemy import update

    from dashboard.models import User

    c = as_role(client, rt, "district_officer", "339001")
    with rt.sessions() as session, session.begin():
        session.execute(update(User).where(User.role == "district_officer").values(area_id=None))
    assert c.get("/api/v1/kpis").status_code == 403
    assert c.get("/api/v1/alerts").json["alerts"] == []
    tiles = next(b for b in callbacks(c) if "overview-tile-received-value" in b["output"])
    assert c.post("/_dash-update-component", json=tiles).status_code == 204


def test_crafted_admin_input_gets_a_message_not_a_500(client, rt, city):
    admin = as_role(client, rt, "admin")
    cases = [
        (
            "admin-user-grid",
            "admin-user-create.n_clicks",
            {
                "admin-user-create.n_clicks": 1,
                "admin-user-name.value": ["x"],
                "admin-user-role.value": {"a": 1},
            },
        ),
        (
            "admin-user-grid",
            "admin-user-reset.n_clicks",
            {"admin-user-reset.n_clicks": 1, "admin-user-grid.selectedRows": ["nope"]},
        ),
        (
            "admin-token-grid",
            "admin-token-revoke.n_clicks",
            {
                "admin-token-revoke.n_clicks": 1,
                "admin-token-grid.selectedRows": [{"id": "1; drop"}],
            },
        ),
        (
            "admin-token-grid",
            "admin-token-create.n_clicks",
            {
                "admin-token-create.n_clicks": 1,
                "admin-token-name.value": "x",
                "admin-token-kind.value": "root",
            },
        ),
    ]
    with rt.sessions() as session:
        from sqlalchemy import func, select

        from dashboard.models import ApiToken, User

        before = (
            session.execute(select(func.count(User.id))).scalar(),
            session.execute(select(func.count(ApiToken.id))).scalar(),
        )
    for output, trigger, values in cases:
        answer = _admin_call(admin, output, trigger, values)
        result = answer.get("admin-user-result") or answer.get("admin-token-result")
        assert "danger" in str(result), (trigger, result)
    with rt.sessions() as session:
        after = (
            session.execute(select(func.count(User.id))).scalar(),
            session.execute(select(func.count(ApiToken.id))).scalar(),
        )
    assert after == before  # nothing written
    bad_date = _admin_call(
        admin,
        "admin-audit-grid",
        "admin-audit-dates.start_date",
        {"admin-audit-dates.start_date": "2026-13-45"},
    )
    assert (
        bad_date["admin-audit-grid"]["rowData"] == []
        and "invalid date" in bad_date["admin-audit-count"]["children"]
    )


def test_crafted_overview_requests_get_nothing_or_a_normal_answer(client, rt, city):
    c = as_role(client, rt, "leader")
    for body in callbacks(c):
        if "overview-" not in body["output"]:
            continue
        for junk in (["339001"], {"x": 1}, 12, "339001' OR 1=1", None):
            crafted = dict(
                body,
                inputs=[dict(i, value=junk) for i in body["inputs"]],
                state=[dict(x, value=junk) for x in body["state"]],
            )
            r = c.post("/_dash-update-component", json=crafted)
            assert r.status_code in (200, 204), (body["output"][:40], junk, r.status_code)
