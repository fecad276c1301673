"""Read model of the administration pages (系统管理): users, tokens and the audit log as rows for
grids, in local time; the audit export. Changes go through dashboard.auth, which audits them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import auth, exports
from dashboard.clock import to_utc_naive
from dashboard.i18n import t
from dashboard.models import Area

AUDIT_COLUMNS = ["at", "actor", "action", "target", "detail", "address"]
AUDIT_EXPORT_LIMIT = 100_000


def _local(row: dict, zone: ZoneInfo, *keys: str) -> dict:
    """The row with its UTC times (ISO, naive or Z) shown in local time."""
    out = dict(row)
    for key in keys:
        if out.get(key):
            at = datetime.fromisoformat(out[key].replace("Z", "")).replace(tzinfo=UTC)
            out[key] = at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return out


def users(session: Session, zone: ZoneInfo, lang: str) -> list[dict]:
    return [
        _local(r, zone, "created_at") | {"role": t(f"role_{r['role']}", lang)}
        for r in auth.list_users(session)
    ]


def district_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every district, for binding a district officer."""
    rows = session.execute(
        select(Area.code, Area.name).where(Area.level == "district").order_by(Area.code)
    ).all()
    return [(code, name) for code, name in rows]


def tokens(session: Session, zone: ZoneInfo) -> list[dict]:
    return [_local(r, zone, "created_at", "revoked_at") for r in auth.list_tokens(session)]


def audit_filters(text, action, start, end, zone: ZoneInfo) -> dict:
    """The audit search from form values (a crafted request may send anything); dates are
    local days, the end day included. AccountError for a date that is not one."""

    def bound(value, extra_days=0):
        if not value:
            return None
        try:
            d = date.fromisoformat(_text(value)[:10]) + timedelta(days=extra_days)
        except ValueError:
            raise auth.AccountError("invalid date / 日期无效") from None
        return to_utc_naive(datetime(d.year, d.month, d.day), zone)

    return {
        "text": _text(text) or None,
        "action": _text(action) or None,
        "start": bound(start),
        "end": bound(end, 1),
    }


def audit_rows(session: Session, zone: ZoneInfo, filters: dict) -> list[dict]:
    return [_local(row, zone, "at") for row in auth.search_audit(session, **filters)]


def audit_csv(session: Session, filters: dict, actor: str, address: str, described: str) -> str:
    """The audit log as CSV (times in UTC), the export itself audited in the same transaction."""
    rows = auth.search_audit(session, limit=AUDIT_EXPORT_LIMIT, **filters)
    auth.audit(
        session, actor, "audit.export", "audit_log", f"rows={len(rows)} {described}", address
    )
    return exports.to_csv(rows, AUDIT_COLUMNS)


def _text(value) -> str:
    return value if isinstance(value, str) else ""
