"""Signing in and out: the /login form, the wall's display token, password changes, and the
failed sign-ins counted per account and per address (which lock further tries for a while)."""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, redirect, render_template, request, session
from flask_login import login_user, logout_user
from redis.exceptions import RedisError
from sqlalchemy import select

from dashboard import auth
from dashboard.access import Principal
from dashboard.i18n import platform_title, t
from dashboard.models import User
from dashboard.web import (
    address,
    current,
    district_of,
    lang,
    refuse,
    runtime,
    session_key,
    settings,
    user_principal,
)

account = Blueprint("account", __name__)

CSRF_COOKIE = "_csrf_token"  # the cookie Dash's renderer turns into an X-CSRFToken header
# Failed sign-ins: per account and per address, counted over a window.
ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW = 5, 20, 15 * 60


# --- failures (Redis) ---------------------------------------------------------------------
def failures(kind: str, value: str) -> tuple[int, int]:
    return runtime().live.failures(kind, value)


def count_failure(kind: str, value: str) -> None:
    runtime().live.count_failure(kind, value, FAILURE_WINDOW)


def clear_failures(kind: str, value: str) -> None:
    runtime().live.clear_failures(kind, value)


def display_sign_in(token: str):
    """`?token=` on a wall URL: sign the device in and drop the token from the address."""
    limited = _address_limited()
    if limited:
        return limited
    with runtime().sessions() as db, db.begin():
        info = auth.check_token(db, token)
        if info is None or info.kind != "display":
            count_failure("addr", address())
            auth.audit(
                db, "anonymous", "login.failure", "display-token", "invalid or revoked", address()
            )
            return refuse(401, t("display_token_invalid", lang()))
        auth.audit(
            db, f"display:{info.name}", "login.success", info.name, "display token", address()
        )
    session.clear()
    login_user(Principal(f"d:{info.id}", info.name, "display", "display"))
    session.permanent = True  # a wall stays signed in until its token is revoked
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    return redirect(request.path + ("?" + urlencode(query) if query else ""))


def _address_limited():
    try:
        count, ttl = failures("addr", address())
    except RedisError:
        return refuse(503, t("sign_in_unavailable", lang()))
    if count >= ADDRESS_FAILURES:
        return refuse(429, t("address_locked", lang()).format(minutes=max(1, -(-ttl // 60))))
    return None


# --- views --------------------------------------------------------------------------------
def _safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no //): never an open redirect."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def _login_page(status: int = 200, error: str | None = None, username: str = ""):
    reason = request.args.get("reason")
    notice = t("session_expired", lang()) if reason == "expired" else None
    return (
        render_template(
            "login.html",
            lang=lang(),
            t=t,
            title=platform_title(settings().city_name, lang()),
            error=error,
            notice=notice,
            username=username,
            next=_safe_next(request.values.get("next")),
        ),
        status,
    )


@account.get("/_session")
def session_check():
    """The wall's poll: 200 while signed in (the gate answers 401 otherwise)."""
    return Response(b'{"signed_in":true}', mimetype="application/json")


@account.get("/login")
def login_form():
    return _login_page()


@account.post("/login")
def login_submit():
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    limited = _address_limited()
    if limited:
        return limited
    try:
        count, ttl = failures("user", username.lower())
    except RedisError:
        return _login_page(503, t("sign_in_unavailable", lang()), username)
    with runtime().sessions() as db, db.begin():
        if count >= ACCOUNT_FAILURES:
            auth.audit(db, username or "anonymous", "login.failure", username, "locked", address())
            minutes = max(1, -(-ttl // 60))
            return _login_page(429, t("account_locked", lang()).format(minutes=minutes), username)
        user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
        ok = user is not None and user.active and auth.verify_password(user, password)
        if not ok:
            count_failure("user", username.lower())
            count_failure("addr", address())
            auth.audit(
                db,
                username or "anonymous",
                "login.failure",
                username,
                "wrong name or password",
                address(),
            )
            left = ACCOUNT_FAILURES - count - 1
            message = t("bad_login", lang())
            if 0 < left <= 2:
                message += " " + t("tries_left", lang()).format(left=left)
            return _login_page(401, message, username)
        auth.audit(db, user.username, "login.success", user.username, user.role, address())
        session_id = user_principal(user, auth.start_session(db, user))
        principal = Principal(
            session_id, user.username, user.role, "user", *district_of(db, user.area_id)
        )
    clear_failures("user", username.lower())
    session.clear()  # a new session: nothing carried over from before sign-in
    login_user(principal)
    session["signed_in_at"] = time.time()
    return redirect(_safe_next(request.form.get("next")))


@account.post("/logout")
def logout():
    principal = current()
    if principal is not None:
        with runtime().sessions() as db, db.begin():
            sid = session_key(principal)
            if sid:  # every copy of the cookie ends with it, not only this browser's
                auth.end_session(db, sid)
            auth.audit(db, principal.actor, "logout", principal.name, None, address())
    logout_user()
    session.clear()
    response = redirect("/login")
    response.delete_cookie(CSRF_COOKIE)
    return response


def _password_page(status: int = 200, error: str | None = None, done: bool = False):
    return (
        render_template(
            "password.html",
            lang=lang(),
            t=t,
            title=t("change_password", lang()),
            error=error,
            done=done,
            min_length=auth.MIN_PASSWORD,
        ),
        status,
    )


@account.get("/account/password")
def password_form():
    principal = current()
    if principal is None or principal.kind != "user":
        return refuse(403, t("not_allowed", lang()))
    return _password_page()


@account.post("/account/password")
def password_submit():
    principal = current()
    if principal is None or principal.kind != "user":
        return refuse(403, t("not_allowed", lang()))
    old = request.form.get("current") or ""
    new = request.form.get("new") or ""
    again = request.form.get("again") or ""
    with runtime().sessions() as db, db.begin():
        user = db.execute(select(User).where(User.username == principal.name)).scalar_one()
        if not auth.verify_password(user, old):
            auth.audit(
                db,
                principal.actor,
                "password.change.failure",
                user.username,
                "wrong current password",
                address(),
            )
            return _password_page(400, t("bad_current_password", lang()))
        problem = auth.password_problem(new, user.username)
        if problem or new != again:
            return _password_page(400, problem or t("passwords_differ", lang()))
        # This session goes on; every other session of the user ends.
        auth.set_password(db, user, new, actor=principal.actor, keep=session_key(principal))
    return _password_page(done=True)
