"""Signing in and out (dashboard.signin): failures that lock, passwords, display tokens,
session ends, no open redirect, both languages."""

from __future__ import annotations

from sqlalchemy import select

from dashboard import auth
from dashboard.models import AuditLog, User, UserSession
from tests.conftest import as_role, form_token, post_login, rt_client
from tests.dash_requests import callbacks


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


def test_the_sign_in_page_speaks_english(client, city):
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in page and "User name" in page and 'lang="en"' in page
    assert "云州市 Municipal Social Governance Command Center" in page


def _copy_of(client):
    """Another browser holding a copy of this one's session cookie (a stolen cookie)."""
    thief = rt_client(client)
    thief.set_cookie("cc_session", client.get_cookie("cc_session").value)
    return thief


def test_ending_a_session_ends_every_copy_of_its_cookie(client, rt, city):
    with rt.sessions() as session, session.begin():
        auth.create_user(session, "wang", "leader", password="first-pass-123")
    post_login(client, "wang", "first-pass-123")
    thief = _copy_of(client)
    assert thief.get("/").status_code == 200
    r = client.post("/logout", data={"csrf_token": form_token(client, "/account/password")})
    assert r.status_code == 302
    assert thief.get("/").status_code == 302 and thief.get("/api/v1/kpis").status_code == 401
    # An administrator's password reset and a deactivation end the sessions too.
    for end in ("reset", "deactivate"):
        browser = rt_client(client)
        post_login(browser, "wang", "first-pass-123")
        assert browser.get("/").status_code == 200
        with rt.sessions() as session, session.begin():
            if end == "reset":
                password = auth.reset_password(session, "wang", "admin")
                auth.set_password(
                    session, session.scalars(select(User).where(User.username == "wang")).one(),
                    "first-pass-123", "wang"
                )  # fmt: skip
            else:
                auth.set_active(session, "wang", False, "admin")
        assert password and browser.get("/").status_code == 302, end
    with rt.sessions() as session:
        why = session.execute(select(UserSession.ended_why)).scalars().all()
    assert sorted(why) == ["deactivated", "password reset", "signed out"]


def test_old_session_rows_are_forgotten(rt, city):
    from datetime import timedelta

    from dashboard import jobs
    from dashboard.clock import utcnow

    with rt.sessions() as session, session.begin():
        user, _password = auth.create_user(session, "zhao", "leader")
    with rt.sessions() as session, session.begin():
        user = session.merge(user)
        fresh, old = auth.start_session(session, user), auth.start_session(session, user)
    with rt.sessions() as session, session.begin():
        auth.end_session(session, old)
    # A month and an hour on: the ended row goes; the other ends with its hours (12), so it
    # is kept until a month after that.
    later = utcnow() + timedelta(days=30, hours=1)
    assert jobs.trim(rt, now=later)["session_rows_deleted"] == 1
    with rt.sessions() as session:
        assert [s.id for s in session.scalars(select(UserSession))] == [fresh]
    assert jobs.trim(rt, now=later + timedelta(hours=12))["session_rows_deleted"] == 1
