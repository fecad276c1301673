"""Accounts and API tokens: generated secrets, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.clock import utcnow
from dashboard.db import is_id
from dashboard.domain import SOURCES
from dashboard.models import ApiToken, AuditLog, User, UserSession
from dashboard.privacy import mask_text
from dashboard.refdata import area_by_code, area_codes

ROLES = ("leader", "duty_officer", "district_officer", "analyst", "admin", "display")
PASSWORD_METHOD = "scrypt"


class AccountError(ValueError):
    """A bad request about accounts or tokens (unknown role, taken name …)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    address: str | None = None,
) -> None:
    """One entry of the audit log. Phone and ID numbers in it are masked (a reveal's reason, a
    user name typed at sign-in …), and each field is cut to its column."""
    session.add(
        AuditLog(
            at=utcnow(),
            actor=_fit(mask_text(actor), 100),
            action=_fit(action, 64),
            target=_fit(mask_text(target), 200),
            detail=_fit(mask_text(detail), 4000),
            address=_fit(address, 64),
        )
    )


def _fit(value: str | None, size: int) -> str | None:
    return value if value is None or len(value) <= size else value[: size - 1] + "…"


def _role_area(session: Session, role: str, area_code: str | None) -> int | None:
    """Check a person's role and return the id of its area (a district officer needs one)."""
    if role not in ROLES or role == "display":
        raise AccountError(
            "role must be one of "
            + ", ".join(r for r in ROLES if r != "display")
            + " (wall displays use display tokens)"
        )
    area_id = None
    if area_code:
        area = area_by_code(session, area_code)
        if area is None:
            raise AccountError(f"unknown area {area_code!r}")
        area_id = area.id
    if role == "district_officer" and area_id is None:
        raise AccountError("a district officer needs a district (--area)")
    return area_id


def create_user(
    session: Session,
    username: str,
    role: str,
    area_code: str | None = None,
    password: str | None = None,
    actor: str = "cli",
) -> tuple[User, str]:
    """Create a user; returns it with its password (generated when not given), shown once."""
    username = username.strip()
    if not username or len(username) > 64:
        raise AccountError("username must be 1–64 characters")
    area_id = _role_area(session, role, area_code)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise AccountError(f"user {username!r} exists")
    password = password or new_password()
    user = User(
        username=username,
        password_hash=generate_password_hash(password, PASSWORD_METHOD),
        role=role,
        area_id=area_id,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    audit(session, actor, "user.create", username, f"role={role} area={area_code or ''}")
    return user, password


def ensure_admin(session: Session) -> str | None:
    """First run: create `admin` with a random password and return it (None when users exist)."""
    if session.execute(select(User.id).limit(1)).first():
        return None
    _user, password = create_user(session, "admin", "admin", actor="first-run")
    return password


def verify_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


MIN_PASSWORD = 10


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused (None when it is acceptable)."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 个字符 / at least {MIN_PASSWORD} characters"
    if len(password) > 200:
        return "密码过长 / too long"
    if password.lower() == username.lower() or username.lower() in password.lower():
        return "密码不能包含用户名 / must not contain the user name"
    if len(set(password)) < 4:
        return "密码过于简单 / too simple"
    return None


def set_password(
    session: Session, user: User, password: str, actor: str, keep: str | None = None
) -> None:
    """A new password; every session of the user ends but `keep` (the one that changed it)."""
    user.password_hash = generate_password_hash(password, PASSWORD_METHOD)
    end_sessions(session, user.id, "password", keep=keep)
    audit(session, actor, "password.change", user.username)


# --- sessions -------------------------------------------------------------------------------
SESSION_RETENTION = timedelta(days=30)  # ended or expired session rows kept this long


def start_session(session: Session, user: User) -> str:
    """A new session of a person; its id goes into the signed cookie."""
    sid = secrets.token_urlsafe(32)
    session.add(UserSession(id=sid, user_id=user.id, created_at=utcnow()))
    return sid


def session_alive(session: Session, sid: str, user_id: int) -> bool:
    row = session.get(UserSession, sid)
    return row is not None and row.user_id == user_id and row.ended_at is None


def end_session(session: Session, sid: str, why: str = "signed out") -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == sid, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_why=why)
    )


def end_sessions(session: Session, user_id: int, why: str, keep: str | None = None) -> int:
    """End every open session of a user (but `keep`); how many ended."""
    q = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        q = q.where(UserSession.id != keep)
    return session.execute(q.values(ended_at=utcnow(), ended_why=why)).rowcount


def forget_old_sessions(session: Session, now: datetime, session_hours: float) -> int:
    """Session rows ended (or past their hours) more than SESSION_RETENTION ago."""
    horizon = now - SESSION_RETENTION
    return session.execute(
        delete(UserSession).where(
            (UserSession.ended_at < horizon)
            | (UserSession.created_at < horizon - timedelta(hours=session_hours))
        )
    ).rowcount


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    kind: str
    source: str | None


def create_token(
    session: Session, name: str, kind: str = "ingest", source: str | None = None, actor: str = "cli"
) -> str:
    """Create a bearer token; only its hash is stored, the token itself is returned once."""
    if kind not in ("ingest", "display"):
        raise AccountError("kind must be ingest or display")
    if kind == "ingest" and source not in SOURCES:
        raise AccountError(f"--source must be one of {', '.join(SOURCES)}")
    token = ("cc_" if kind == "ingest" else "cd_") + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name, kind=kind, token_hash=hash_token(token), source=source, created_at=utcnow()
        )
    )
    audit(session, actor, "token.create", name, f"kind={kind} source={source or ''}")
    return token


def check_token(session: Session, token: str) -> TokenInfo | None:
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return TokenInfo(row.id, row.name, row.kind, row.source)


def revoke_token_id(session: Session, token_id: int, actor: str) -> bool:
    row = session.get(ApiToken, token_id) if is_id(token_id) else None
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    audit(session, actor, "token.revoke", row.name, f"id={token_id} kind={row.kind}")
    return True


def revoke_token(session: Session, name: str, actor: str = "cli") -> int:
    rows = (
        session.execute(
            select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        )
        .scalars()
        .all()
    )
    for r in rows:
        r.revoked_at = utcnow()
    if rows:
        audit(session, actor, "token.revoke", name)
    return len(rows)


# --- administration (the admin pages; every change is audited) -----------------------------
def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise AccountError(f"unknown user {username!r}")
    return user


def _other_active_admins(session: Session, user: User) -> int:
    return len(
        session.execute(
            select(User.id).where(User.role == "admin", User.active, User.id != user.id)
        ).all()
    )


def list_users(session: Session) -> list[dict]:
    users = session.execute(select(User).order_by(User.username)).scalars().all()
    codes = area_codes(session, ids=[u.area_id for u in users])
    return [
        {
            "username": u.username,
            "role": u.role,
            "area": codes.get(u.area_id),
            "active": u.active,
            "created_at": u.created_at.isoformat(timespec="seconds"),
        }
        for u in users
    ]


def set_active(session: Session, username: str, active: bool, actor: str) -> None:
    user = _user(session, username)
    if not active and user.role == "admin" and not _other_active_admins(session, user):
        raise AccountError("the last active admin cannot be deactivated")
    user.active = active
    if not active:
        end_sessions(session, user.id, "deactivated")
    audit(session, actor, "user.activate" if active else "user.deactivate", username)


def set_role(session: Session, username: str, role: str, area_code: str | None, actor: str) -> None:
    user = _user(session, username)
    area_id = _role_area(session, role, area_code)
    if user.role == "admin" and role != "admin" and not _other_active_admins(session, user):
        raise AccountError("the last active admin keeps the admin role")
    before = f"{user.role}/{user.area_id or ''}"
    user.role, user.area_id = role, area_id if role == "district_officer" else None
    audit(session, actor, "user.role", username, f"{before} -> {role}/{area_code or ''}")


def reset_password(session: Session, username: str, actor: str) -> str:
    """A new random password, shown once; the user's sessions end."""
    user = _user(session, username)
    password = new_password()
    user.password_hash = generate_password_hash(password, PASSWORD_METHOD)
    end_sessions(session, user.id, "password reset")
    audit(session, actor, "user.reset_password", username)
    return password


def list_tokens(session: Session) -> list[dict]:
    return [
        {
            "id": t.id,
            "name": t.name,
            "kind": t.kind,
            "source": t.source,
            "created_at": t.created_at.isoformat(timespec="seconds"),
            "revoked_at": t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else None,
        }
        for t in session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars()
    ]


def search_audit(
    session: Session,
    text: str | None = None,
    action: str | None = None,
    start=None,
    end=None,
    limit: int = 1000,
) -> list[dict]:
    """The audit log, newest first: `text` is looked for in actor, target and detail,
    `action` is a prefix (login, user, token, alert, pii, export …)."""
    q = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if text:
        like = f"%{text.strip()}%"
        q = q.where(
            AuditLog.actor.ilike(like) | AuditLog.target.ilike(like) | AuditLog.detail.ilike(like)
        )
    if action:
        q = q.where(AuditLog.action.startswith(action, autoescape=True))
    if start is not None:
        q = q.where(AuditLog.at >= start)
    if end is not None:
        q = q.where(AuditLog.at < end)
    return [
        {  # masked again: entries written before masking covered every format
            "at": a.at.isoformat(timespec="seconds") + "Z",
            "actor": mask_text(a.actor),
            "action": a.action,
            "target": mask_text(a.target),
            "detail": mask_text(a.detail),
            "address": a.address,
        }
        for a in session.execute(q.limit(limit)).scalars()
    ]
