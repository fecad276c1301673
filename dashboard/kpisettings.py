"""The KPI configuration that people change (DESIGN §5): the weights of 综合指标值, and the
targets and dimension weights of the 五治融合指数.

Each change is a new version in force from a moment on (never earlier than when it is saved), so
a past period always recomputes with the configuration it had; every change is audit-logged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import kpi
from dashboard.auth import audit
from dashboard.i18n import KPI_NAMES, pick
from dashboard.models import KpiSetting
from dashboard.privacy import mask_text
from dashboard.schemas import InputError

DEFAULTS: dict[str, dict[str, float]] = {
    "composite_weights": dict(kpi.DEFAULT_COMPOSITE_WEIGHTS),
    "wuzhi_targets": {i.key: i.target for i in kpi.WUZHI_INDICATORS},
    "wuzhi_weights": dict(kpi.DEFAULT_DIMENSION_WEIGHTS),
    "kpi_targets": dict(kpi.DEFAULT_TARGETS),
}
LABELS = {
    "composite_weights": ("综合指标值权重", "Composite score weights"),
    "wuzhi_targets": ("五治指标目标值", "五治 indicator targets"),
    "wuzhi_weights": ("五治维度权重", "五治 dimension weights"),
    "kpi_targets": ("考核目标值", "KPI targets"),
}


_INDICATORS = {i.key: i for i in kpi.WUZHI_INDICATORS}


def unit(kind: str, key: str) -> str:
    """What a value is: "rate" (a fraction 0–1), "points" (0–100), "weight" or "number"."""
    if kind.endswith("_weights"):
        return "weight"
    if kind == "kpi_targets":
        return "points" if key == "composite_score" else "rate"
    return "rate" if key.endswith(("_share", "_rate", "_uptime")) else "number"


def name(kind: str, key: str, lang: str) -> str:
    """A value's name as people read it."""
    if kind == "wuzhi_weights":
        return pick(kpi.WUZHI_DIMENSIONS[key], lang)
    if kind == "wuzhi_targets":
        ind = _INDICATORS[key]
        return ind.zh if lang == "zh" else ind.en
    return pick(KPI_NAMES[key], lang)


def group(kind: str, key: str, lang: str) -> str:
    """The 五治 dimension an indicator belongs to ("" for the other kinds)."""
    if kind != "wuzhi_targets":
        return ""
    return pick(kpi.WUZHI_DIMENSIONS[_INDICATORS[key].dimension], lang)


@dataclass(frozen=True)
class KpiConfig:
    composite_weights: dict[str, float]
    wuzhi_targets: dict[str, float]
    wuzhi_weights: dict[str, float]
    kpi_targets: dict[str, float]
    versions: dict[str, int | None]  # the version id in force per kind (None: the defaults)


def in_force(session: Session, at: datetime) -> KpiConfig:
    """The configuration in force at `at`."""
    newest = {}  # kind → the newest version in force at `at` (one query: a few rows a year)
    for row in session.execute(
        select(KpiSetting.kind, KpiSetting.id, KpiSetting.value)
        .where(KpiSetting.effective_from <= at)
        .order_by(KpiSetting.effective_from, KpiSetting.id)
    ):
        newest[row.kind] = row
    values, versions = {}, {}
    for kind, default in DEFAULTS.items():
        row = newest.get(kind)
        values[kind] = default | json.loads(row.value) if row else dict(default)
        versions[kind] = row.id if row else None
    return KpiConfig(**values, versions=versions)


def validate(kind: str, raw) -> dict[str, float]:
    """A whole set of values for a kind, or an InputError naming each bad field."""
    if kind not in DEFAULTS:
        raise InputError({"kind": f"must be one of {', '.join(DEFAULTS)}"})
    if not isinstance(raw, dict):
        raise InputError({"values": "must be an object of names and numbers"})
    errors: dict[str, str] = {}
    out: dict[str, float] = {}
    for key in DEFAULTS[kind]:
        v = raw.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            errors[key] = "required: a number"
        elif v < 0 or v > 10_000:
            errors[key] = "must be between 0 and 10000"
        elif kind == "wuzhi_targets" and v == 0:
            errors[key] = "a target must be above 0"
        elif unit(kind, key) == "rate" and v > 1:
            errors[key] = "a rate: between 0 and 1"
        elif unit(kind, key) == "points" and v > 100:
            errors[key] = "points: between 0 and 100"
        else:
            out[key] = float(v)
    for key in raw:
        if key not in DEFAULTS[kind]:
            errors[str(key)[:64]] = "unknown name"
    if not errors and kind.endswith("_weights") and sum(out.values()) <= 0:
        errors["values"] = "at least one weight must be above 0"
    if errors:
        raise InputError(errors)
    return out


def save(
    session: Session,
    kind: str,
    raw,
    actor: str,
    now: datetime,
    effective_from: datetime | None = None,
    note: str = "",
) -> KpiSetting:
    """A new version, in force from `effective_from` (default now; never before now)."""
    values = validate(kind, raw)
    start = effective_from or now
    if start < now:
        raise InputError({"effective_from": "cannot lie in the past (past periods keep theirs)"})
    if not isinstance(note, str) or len(note) > 500 or "\x00" in note:
        raise InputError({"note": "at most 500 characters, no NUL"})
    before = in_force(session, start)
    if getattr(before, kind) == values:
        raise InputError({"values": "the same as the settings in force then: nothing to save"})
    row = KpiSetting(
        kind=kind,
        effective_from=start,
        value=json.dumps(values, ensure_ascii=False, sort_keys=True),
        actor=actor,
        note=mask_text(note.strip()) or "",  # a note is no place for personal data
        created_at=now,
    )
    session.add(row)
    session.flush()
    old = getattr(before, kind)
    changed = {k: [old.get(k), v] for k, v in values.items() if old.get(k) != v}
    audit(
        session,
        actor,
        "kpi_settings.save",
        f"{kind}#{row.id}",
        json.dumps(
            {"effective_from": start.isoformat() + "Z", "changed": changed}, ensure_ascii=False
        ),
    )
    return row


def versions(session: Session, kind: str) -> list[dict]:
    """Every version of a kind, newest first."""
    rows = session.execute(
        select(KpiSetting)
        .where(KpiSetting.kind == kind)
        .order_by(KpiSetting.effective_from.desc(), KpiSetting.id.desc())
    ).scalars()
    return [
        {
            "id": r.id,
            "effective_from": r.effective_from,
            "values": json.loads(r.value),
            "actor": r.actor,
            "note": r.note,
            "created_at": r.created_at,
        }
        for r in rows
    ]
