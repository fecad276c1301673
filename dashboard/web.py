"""The signed-in principal of a request, and the request helpers every web module shares.

- People sign in at /login (dashboard.signin); a wall display by opening a page with
  `?token=<display token>` once. The session carries the principal's id, checked against the
  database on every request, so a deactivated user, a changed password or a revoked display
  token count at once.
- The gate (dashboard.gate), the security headers (dashboard.headers) and the sign-in views
  (dashboard.signin) are put on the Flask server by dashboard.security.install.
"""

from __future__ import annotations

import time

import orjson
from flask import Response, current_app, render_template, request, session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from dashboard import auth
from dashboard.access import Principal
from dashboard.i18n import t
from dashboard.models import ApiToken, Area, User

login_manager = LoginManager()
csrf = CSRFProtect()


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
def district_of(session_db, area_id: int | None) -> tuple[int | None, str | None, str | None]:
    if area_id is None:
        return None, None, None
    area = session_db.get(Area, area_id)
    district = session_db.get(Area, area.district_id) if area and area.district_id else None
    if district is None:
        return None, None, None
    return district.id, district.code, district.name


@login_manager.user_loader
def load_principal(session_id: str) -> Principal | None:
    """The principal for a session id, checked against the database on every request: an ended
    session (signed out, password changed or reset), a deactivated user or a revoked display
    token count at once, for every copy of the cookie."""
    kind, _, rest = session_id.partition(":")
    try:
        with runtime().sessions() as db:
            if kind == "u":
                user_id, _, sid = rest.partition(":")
                user = db.get(User, int(user_id))
                if user is None or not user.active or not auth.session_alive(db, sid, user.id):
                    return None
                return Principal(
                    session_id, user.username, user.role, "user", *district_of(db, user.area_id)
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


def user_principal(user: User, sid: str) -> str:
    """What a person's session cookie carries: the user and the server-side session."""
    return f"u:{user.id}:{sid}"


def session_key(principal: Principal) -> str | None:
    """The server-side session of a person's principal (None for a display)."""
    return principal.session_id.split(":", 2)[2] if principal.kind == "user" else None


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


def address() -> str:
    return request.remote_addr or "-"


def refuse(status: int, message: str):
    if request.path.startswith("/_") or request.method != "GET":
        return Response(orjson.dumps({"error": message}), status, mimetype="application/json")
    return Response(
        render_template("message.html", lang=lang(), title=t("forbidden", lang()), message=message),
        status,
    )
