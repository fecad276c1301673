"""Sign-in and the gate in front of every page, callback and API call (DESIGN §8).

- People sign in at /login (Flask-Login session, scrypt password hashes); failures are counted
  in Redis per account and per address and lock further tries for a while.
- A wall display signs in by opening any page with `?token=<display token>` once; the token
  is checked on every request afterwards, so revoking it ends the session at once.
- `guard` runs before every request: static files and /login are open, /api/v1 has its own
  token or session check, and everything else needs a principal whose role allows the page or
  the callback (mapped by the callback's output ids; an unmapped callback is refused).
- CSRF: Flask-WTF on every state-changing request; Dash sends the token as X-CSRFToken from
  the `_csrf_token` cookie this module sets.
- Security headers on every response (CSP with the hashes of Dash's inline scripts).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import orjson
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from dashboard import auth
from dashboard.access import Principal, allowed
from dashboard.db import is_unavailable
from dashboard.i18n import platform_title, t
from dashboard.models import ApiToken, Area, User

log = logging.getLogger(__name__)

login_manager = LoginManager()
csrf = CSRFProtect()
account = Blueprint("account", __name__)

CSRF_COOKIE = "_csrf_token"  # the cookie Dash's renderer turns into an X-CSRFToken header
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/vendor/", "/_favicon.ico")
OPEN_PATHS = {"/login", "/healthz", "/readyz"}
# Callback outputs → the permission they need. A callback whose outputs match none is refused.
CALLBACK_PERMISSIONS = (
    ("shell-", None),  # clock, freshness, language: any signed-in principal
    ("_pages_", "page"),  # the page router: the permission of the requested page
    ("overview-", "wall"),
    ("admin-", "admin"),
)
# Failed sign-ins: per account and per address, counted over a window.
ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW = 5, 20, 15 * 60


def runtime():
    return current_app.extensions["dashboard"]


def settings():
    return runtime().settings


def lang() -> str:
    asked = request.args.get("lang") or request.form.get("lang")
    if asked in ("zh", "en"):
        return asked
    return settings().lang


# --- principals ---------------------------------------------------------------------------
def fingerprint(password_hash: str) -> str:
    """Part of the session id: changing a password ends every other session of the user."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _district(session_db, area_id: int | None) -> tuple[int | None, str | None, str | None]:
    if area_id is None:
        return None, None, None
    area = session_db.get(Area, area_id)
    district = session_db.get(Area, area.district_id) if area and area.district_id else None
    if district is None:
        return None, None, None
    return district.id, district.code, district.name


@login_manager.user_loader
def load_principal(session_id: str) -> Principal | None:
    """The principal for a session id, checked against the database on every request: a
    deactivated user, a changed password or a revoked display token count at once."""
    kind, _, rest = session_id.partition(":")
    try:
        with runtime().sessions() as db:
            if kind == "u":
                user_id, _, fp = rest.partition(":")
                user = db.get(User, int(user_id))
                if user is None or not user.active or fingerprint(user.password_hash) != fp:
                    return None
                return Principal(
                    session_id, user.username, user.role, "user", *_district(db, user.area_id)
                )
            if kind == "d":
                token = db.get(ApiToken, int(rest))
                if token is None or token.kind != "display" or token.revoked_at is not None:
                    return None
                return Principal(session_id, token.name, "display", "display")
    except ValueError:
        return None
    except SQLAlchemyError as exc:
        # Not "signed out": a wall must not fall back to the sign-in page because the
        # database is away for a minute. The request fails with 503 and is retried.
        raise SignInUnavailable() from exc
    return None


class SignInUnavailable(ServiceUnavailable):
    """The database that holds accounts and tokens cannot be reached."""


def user_principal(user: User) -> str:
    return f"u:{user.id}:{fingerprint(user.password_hash)}"


def expired(principal: Principal) -> bool:
    """A person's session ends SESSION_HOURS after sign-in; a display's never does."""
    if principal.kind != "user":
        return False
    return time.time() - session.get("signed_in_at", 0) > settings().session_hours * 3600


def current() -> Principal | None:
    """The signed-in principal of this request (None: nobody, or a session that has ended)."""
    if not current_user.is_authenticated or expired(current_user):
        return None
    return current_user._get_current_object()  # the Principal itself, not Flask-Login's proxy


# --- failures (Redis) ---------------------------------------------------------------------
def failures(kind: str, value: str) -> tuple[int, int]:
    return runtime().live.failures(kind, value)


def count_failure(kind: str, value: str) -> None:
    runtime().live.count_failure(kind, value, FAILURE_WINDOW)


def clear_failures(kind: str, value: str) -> None:
    runtime().live.clear_failures(kind, value)


def address() -> str:
    return request.remote_addr or "-"


# --- the gate -----------------------------------------------------------------------------
def page_permission(path: str) -> str:
    return "admin" if path.rstrip("/").startswith("/admin") else "wall"


def _id_name(oid) -> str:
    if isinstance(oid, dict):
        return str(oid.get("type", ""))
    text = str(oid)
    if text.startswith("{"):  # a pattern-matching id inside the output string
        try:
            return str(orjson.loads(text).get("type", ""))
        except (orjson.JSONDecodeError, AttributeError):
            return text
    return text


def _outputs(body: dict) -> list[str]:
    """Every output id of a callback request: from `output` (the key Dash dispatches on) and
    from `outputs`, so that the two cannot disagree to slip past the gate."""
    ids = []
    output = body.get("output")
    if isinstance(output, str):
        parts = output[2:-2].split("...") if output.startswith("..") else [output]
        ids += [_id_name(part.rsplit(".", 1)[0]) for part in parts if part]
    outs = body.get("outputs")
    for o in outs if isinstance(outs, list) else [outs]:
        if isinstance(o, dict):
            ids.append(_id_name(o.get("id")))
    return ids


def callback_permission(body: dict) -> str | bool | None:
    """The permission a callback request needs (None: any principal); False when refused."""
    ids = _outputs(body)
    if not ids:
        return False
    needed = set()
    for oid in ids:
        match = next(
            (perm for prefix, perm in CALLBACK_PERMISSIONS if oid.startswith(prefix)), False
        )
        if match is False:
            return False
        needed.add(match)
    if "page" in needed:
        # The router renders the page of a path; Dash passes inputs by position, so every
        # path-like value in the request counts, and the strictest page decides.
        needed.discard("page")
        paths = [
            i.get("value")
            for i in body.get("inputs", []) + body.get("state", [])
            if isinstance(i, dict)
            and isinstance(i.get("value"), str)
            and i["value"].startswith("/")
        ]
        needed |= {page_permission(p) for p in paths or ["/"]}
    needed.discard(None)
    if "admin" in needed:
        return "admin"  # admin implies every other permission here (PERMISSIONS)
    if len(needed) > 1:
        return False
    return needed.pop() if needed else None


def refuse(status: int, message: str):
    if request.path.startswith("/_") or request.method != "GET":
        return Response(orjson.dumps({"error": message}), status, mimetype="application/json")
    return Response(
        render_template("message.html", lang=lang(), title=t("forbidden", lang()), message=message),
        status,
    )


def _login_redirect(reason: str | None = None):
    if request.path.startswith("/_") or request.method != "GET":
        return refuse(401, t("sign_in_first", lang()))
    query = {"next": request.full_path.rstrip("?")}
    if reason:
        query["reason"] = reason
    return redirect("/login?" + urlencode(query))


def guard():
    path = request.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    if path.startswith("/api/"):
        return None  # the API checks tokens or the session itself (dashboard.api)
    token = request.args.get("token")
    if token and request.method == "GET":
        return _display_sign_in(token)
    if current_user.is_authenticated and expired(current_user):
        logout_user()
        session.clear()
        return _login_redirect("expired")
    principal = current()
    if principal is None:
        return _login_redirect()
    if path == "/_dash-update-component":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return refuse(400, "invalid callback request")
        needed = callback_permission(body)
        if needed is False or (needed and not allowed(principal, needed)):
            return refuse(403, t("not_allowed", lang()))
        return None
    if path.startswith(("/_dash", "/_reload", "/_session")):
        return None
    if path in ("/logout", "/account/password"):
        return None
    if not allowed(principal, page_permission(path)):
        return refuse(403, t("not_allowed", lang()))
    return None


def _display_sign_in(token: str):
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


# --- headers ------------------------------------------------------------------------------
def security_headers(response: Response) -> Response:
    h = response.headers
    if "CC_CSP" not in current_app.config:  # after Dash has gathered its inline scripts
        current_app.config["CC_CSP"] = content_security_policy(current_app.config["CC_SCRIPTS"]())
    h.setdefault("Content-Security-Policy", current_app.config["CC_CSP"])
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "no-referrer")  # display tokens never leak in a Referer
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if settings().secure_cookies:
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    static = request.path.startswith(OPEN_PREFIXES)
    if not static:
        h["Cache-Control"] = "no-store"
        try:
            signed_in = current_user.is_authenticated
        except SignInUnavailable:
            signed_in = False
        if signed_in or request.path == "/login":
            response.set_cookie(
                CSRF_COOKIE,
                generate_csrf(),
                secure=settings().secure_cookies,
                samesite="Strict",
                httponly=False,  # Dash's renderer reads it to send the X-CSRFToken header
            )
    return response


def content_security_policy(script_hashes: list[str]) -> str:
    scripts = " ".join(script_hashes)  # already quoted: 'sha256-…'
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}".strip(),
            "style-src 'self' 'unsafe-inline'",  # plotly.js writes <style> elements
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


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
        session_id = user_principal(user)
        principal = Principal(
            session_id, user.username, user.role, "user", *_district(db, user.area_id)
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
        auth.set_password(db, user, new, actor=principal.actor)
        session_id = user_principal(user)
        fresh = replace(principal, session_id=session_id)
    # The session continues under the new fingerprint; every other session of the user ends.
    login_user(fresh)
    return _password_page(done=True)


def _unavailable(exc):
    if isinstance(exc, SQLAlchemyError) and not is_unavailable(exc):
        raise exc
    response = refuse(503, t("sign_in_unavailable", lang()))
    response.headers["Retry-After"] = "5"
    return response


def _csrf_error(exc: CSRFError):
    return refuse(400, f"{t('csrf_failed', lang())} ({exc.description})")


_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Access logs never keep a display token from a wall URL (`?token=` → `?token=***`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1***", message), ()
        return True


def install(server: Flask, script_hashes) -> None:
    """Sign-in, the gate, CSRF and headers on the Flask server; `script_hashes` gives the CSP
    hashes of the inline scripts (Dash.csp_hashes), asked for at the first response."""
    s = server.extensions["dashboard"].settings
    server.config.update(
        SESSION_COOKIE_NAME="cc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=s.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(days=400),  # displays; people are limited in guard
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=s.secure_cookies,
        CC_SCRIPTS=script_hashes,
    )
    server.before_request(guard)  # before the CSRF check: strangers get 401, not 400
    login_manager.init_app(server)
    login_manager.session_protection = "basic"
    csrf.init_app(server)
    server.register_blueprint(account)
    server.after_request(security_headers)
    server.register_error_handler(CSRFError, _csrf_error)
    server.register_error_handler(SignInUnavailable, _unavailable)
    server.register_error_handler(SQLAlchemyError, _unavailable)  # the API has its own
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
