"""Read model of the administration pages (系统管理): users, tokens, risk rules and the audit log
as rows for grids, in local time; the audit export. Changes go through dashboard.auth, which audits them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import auth, exports, kpi, kpisettings
from dashboard.clock import to_utc_naive
from dashboard.i18n import t
from dashboard.models import Area, RiskRule
from dashboard.schemas import InputError

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


# --- 考核配置: the versioned KPI settings (dashboard.kpisettings) -------------------------------
def shown(kind: str, key: str, value: float, total: float | None = None) -> str:
    """A setting as people read it: 90.0 % for a rate, 40 (40 %) for a weight of a sum of 100."""
    match kpisettings.unit(kind, key):
        case "rate":
            return f"{100 * value:.1f}%"
        case "weight":
            share = f" ({100 * value / total:.0f}%)" if total else ""
            return f"{value:g}{share}"
        case _:
            return f"{value:g}"


def setting_rows(session: Session, kind: str, now: datetime, lang: str) -> list[dict]:
    """One editable row per value of a kind: its name, what it is, the value in force now, the
    default, and `value` (what the editor changes, starting from the value in force)."""
    current = getattr(kpisettings.in_force(session, now), kind)
    total = sum(current.values()) if kind.endswith("_weights") else None
    rows = []
    for key, default in kpisettings.DEFAULTS[kind].items():
        unit = kpisettings.unit(kind, key)
        ceiling = kind == "kpi_targets" and key in kpi.LOWER_IS_BETTER
        rows.append(
            {
                "key": key,
                "name": kpisettings.name(kind, key, lang),
                "group": kpisettings.group(kind, key, lang),
                "unit": t(f"unit_{unit}", lang) + (t("unit_ceiling", lang) if ceiling else ""),
                "in_force": shown(kind, key, current[key], total),
                "default": shown(kind, key, default, sum(kpisettings.DEFAULTS[kind].values())),
                "value": current[key],
            }
        )
    return rows


def edited_values(rows) -> dict:
    """{key: value} from the editor's rows (a crafted request may send anything)."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError({"values": "a list of rows with key and value"})
    return {str(r.get("key"))[:64]: r.get("value") for r in rows}


def effective_from(value, zone: ZoneInfo, now: datetime) -> datetime:
    """From a local date (its midnight, UTC naive), or now when none is chosen."""
    if value is None or value == "":
        return now
    try:
        d = date.fromisoformat(_text(value)[:10])
    except ValueError:
        raise InputError({"effective_from": "a date, YYYY-MM-DD"}) from None
    return to_utc_naive(datetime(d.year, d.month, d.day), zone)


def version_rows(session: Session, kind: str, now: datetime, zone: ZoneInfo, lang: str):
    """Every saved version of a kind, newest first: when it is in force from, its status
    (pending / in force / superseded), who saved it and what it changed against the one before."""
    in_force = kpisettings.in_force(session, now).versions[kind]
    found = kpisettings.versions(session, kind)
    rows = []
    for i, v in enumerate(found):
        before = found[i + 1]["values"] if i + 1 < len(found) else kpisettings.DEFAULTS[kind]
        total_before, total = sum(before.values()), sum(v["values"].values())
        changes = [
            f"{kpisettings.name(kind, k, lang)} "
            f"{shown(kind, k, before[k], total_before)}→{shown(kind, k, x, total)}"
            for k, x in v["values"].items()
            if before.get(k) != x
        ]
        status = "pending" if v["effective_from"] > now else "superseded"
        if v["id"] == in_force:
            status = "in_force"
        rows.append(
            _local(
                {
                    "id": v["id"],
                    "effective_from": v["effective_from"].isoformat(),
                    "status": t(f"setting_{status}", lang),
                    "actor": v["actor"],
                    "changes": "；".join(changes) or t("setting_unchanged", lang),
                    "note": v["note"],
                    "created_at": v["created_at"].isoformat(),
                },
                zone,
                "effective_from",
                "created_at",
            )
        )
    return rows


def rule_rows(session: Session, zone: ZoneInfo) -> list[dict]:
    """The risk rules, for the admin's list."""
    rows = session.execute(select(RiskRule).order_by(RiskRule.family, RiskRule.key)).scalars()
    return [
        {
            "key": r.key,
            "family": r.family,
            "name": r.name,
            "enabled": "✓" if r.enabled else "—",
            "updated": f"{_local({'at': r.updated_at.isoformat()}, zone, 'at')['at']} · {r.updated_by}",
        }
        for r in rows
    ]


def rule_editor(session: Session, key: str) -> tuple[bool, str] | None:
    """A rule's switch and its parameters as indented JSON, for the editor."""
    rule = session.get(RiskRule, key) if isinstance(key, str) else None
    if rule is None:
        return None
    return rule.enabled, orjson.dumps(
        orjson.loads(rule.params), option=orjson.OPT_INDENT_2
    ).decode()
