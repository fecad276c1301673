"""Accounts and API tokens: generated secrets, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.clock import utcnow
from dashboard.domain import SOURCES
from dashboard.models import ApiToken, Area, AuditLog, User

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
    session.add(
        AuditLog(
            at=utcnow(), actor=actor, action=action, target=target, detail=detail, address=address
        )
    )


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
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise AccountError(f"user {username!r} exists")
    area_id = None
    if area_code:
        area_id = session.execute(select(Area.id).where(Area.code == area_code)).scalar()
        if area_id is None:
            raise AccountError(f"unknown area {area_code!r}")
    if role == "district_officer" and area_id is None:
        raise AccountError("a district officer needs --area")
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


def set_password(session: Session, user: User, password: str, actor: str) -> None:
    """A new password; the old sessions of the user end (their fingerprint changes)."""
    user.password_hash = generate_password_hash(password, PASSWORD_METHOD)
    audit(session, actor, "password.change", user.username)


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
