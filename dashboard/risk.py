"""Risk rules (DESIGN §6) and the alerts they raise.

Rules are data: dashboard/rules.toml is loaded into `risk_rules` once (`load_rules`), and the
table is what the detectors read (`rules`). A detector returns Findings; `record` keeps one open
alert per (rule, area, subject) — a finding again updates its evidence, counts a hit and may
raise its level, never lower it — and links the events it was found on. `clear_stale` clears an
alert nobody acknowledged once its rule has not found it for the rule's `clear_after_minutes`.

Detectors here: `major` and `keywords` (on the events of an ingest batch, at once); `surge` (a
window of the recent past against the same window of the last weeks, dashboard.surge), `repeat`
(one grid and subcategory, or one reporter, again and again), `backlog` (a department's overdue
cases), `feed_silence` (a source quiet in minutes it usually sends) and `staffing` (a street's
grid workers on duty few against its standard while its open events are many), run by
`evaluate`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from dashboard import duty, surge
from dashboard.alerts import OPEN_STATES
from dashboard.auth import audit
from dashboard.domain import SOURCE_LABELS
from dashboard.models import (
    Alert,
    AlertEvent,
    AlertHistory,
    Area,
    Category,
    Department,
    Event,
    RiskRule,
)
from dashboard.privacy import mask_text
from dashboard.schemas import InputError, text_problem
from dashboard.staffing import Standards
from dashboard.staffing import load as load_standards

RULES_FILE = Path(__file__).with_name("rules.toml")
FAMILIES = ("surge", "major", "keywords", "repeat", "backlog", "staffing", "feed_silence")
SYSTEM = "system"  # the actor of what the rules do by themselves


@dataclass(frozen=True)
class Rule:
    key: str
    family: str
    name: str
    params: dict

    @property
    def clear_after(self) -> timedelta:
        return timedelta(minutes=self.params.get("clear_after_minutes", 120))


@dataclass
class Finding:
    """What a rule found: where (an area, or none), about what (`subject`), how severe."""

    rule: str
    level: int
    subject: str
    title: str
    area_id: int | None = None
    district_id: int | None = None
    evidence: dict = field(default_factory=dict)
    event_ids: list[int] = field(default_factory=list)


# --- the rules as data ------------------------------------------------------------------------
def shipped() -> list[dict]:
    """The rules of dashboard/rules.toml."""
    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))["rule"]


def load_rules(session: Session, now: datetime) -> int:
    """Put the shipped rules that the table does not hold yet into it (an admin's changes to
    the others stay). Returns how many were added."""
    held = set(session.execute(select(RiskRule.key)).scalars())
    added = 0
    for r in shipped():
        if r["key"] in held:
            continue
        if r["family"] not in FAMILIES:
            raise ValueError(f"rule {r['key']}: unknown family {r['family']!r}")
        params = {k: v for k, v in r.items() if k not in ("key", "family", "name", "name_en")}
        session.add(
            RiskRule(
                key=r["key"],
                family=r["family"],
                name=r["name"],
                name_en=r.get("name_en", ""),
                enabled=True,
                params=orjson.dumps(params).decode(),
                updated_at=now,
            )
        )
        added += 1
    session.flush()
    return added


COMMON_PARAMS = {"clear_after_minutes": 120, "escalate_after_minutes": 15}
PARAMS_MAX = 20_000  # characters of a rule's parameters as JSON


def _check_params(family: str, params) -> dict[str, str]:
    """What is wrong with a rule's parameters: the keys the shipped rules of its family use (and
    the common ones), each of the shipped value's kind; levels 1–4 each once with numbers."""
    if not isinstance(params, dict):
        return {"params": "a JSON object"}
    like: dict = dict(COMMON_PARAMS)
    for r in shipped():
        if r["family"] == family:
            like |= {k: v for k, v in r.items() if k not in ("key", "family", "name", "name_en")}
    errors: dict[str, str] = {}
    for key, value in params.items():
        if key not in like:
            errors[key] = f"not a setting of a {family} rule"
            continue
        model = like[key]
        if isinstance(model, bool) or isinstance(value, bool):
            ok = isinstance(value, bool) and isinstance(model, bool)
        elif isinstance(model, int | float):
            ok = isinstance(value, int | float) and 0 <= value <= 1e9
        elif isinstance(model, str):
            ok = isinstance(value, str) and value in {r.get(key) for r in shipped()} | {model}
        elif key == "levels":
            ok = _levels_ok(value, model)
        elif key == "words":
            ok = (
                isinstance(value, list)
                and len(value) <= 200
                and all(
                    isinstance(w, str) and w.isprintable() and 1 <= len(w.strip()) <= 20
                    for w in value
                )
            )
        elif key == "severity_levels":
            ok = isinstance(value, dict) and all(
                k in ("1", "2", "3", "4") and v in (1, 2, 3, 4) for k, v in value.items()
            )
        elif key == "day_hours":
            ok = (
                isinstance(value, list)
                and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                and 0 <= value[0] < value[1] <= 24
            )
        else:
            ok = type(value) is type(model)
        if not ok:
            errors[key] = f"must be like {orjson.dumps(model).decode()[:120]}"
    return errors


def _levels_ok(value, model: list[dict]) -> bool:
    keys = {k for lv in model for k in lv}
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        return False
    seen = set()
    for lv in value:
        if not isinstance(lv, dict) or set(lv) - keys or lv.get("level") not in (1, 2, 3, 4):
            return False
        if lv["level"] in seen or any(
            isinstance(v, bool) or not isinstance(v, int | float) or v < 0
            for k, v in lv.items()
            if k != "level"
        ):
            return False
        seen.add(lv["level"])
    return True


def update_rule(
    session: Session,
    key,
    enabled,
    params_text,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> RiskRule:
    """An admin's change to a rule: switched on or off, its parameters replaced (JSON, checked
    against its family's); audited with the parameters before and after. Nothing changes on an
    error (InputError names the fields)."""
    if text_problem(key, 32, 1):
        raise InputError({"rule": "a rule key"})
    rule = session.get(RiskRule, key)
    if rule is None:
        raise InputError({"rule": f"no rule {key!r}"})
    errors: dict[str, str] = {}
    if not isinstance(enabled, bool):
        errors["enabled"] = "true or false"
    problem = text_problem(params_text, PARAMS_MAX, 2)
    params = None
    if problem:
        errors["params"] = problem
    else:
        try:
            params = orjson.loads(params_text)
        except orjson.JSONDecodeError:
            errors["params"] = "not JSON"
        else:
            errors |= _check_params(rule.family, params)
    if errors:
        raise InputError(errors)
    before = f"enabled={rule.enabled} {rule.params}"
    rule.enabled = enabled
    rule.params = orjson.dumps(params).decode()
    rule.updated_at, rule.updated_by = now, actor
    audit(
        session,
        actor,
        "rule.update",
        f"rule:{key}",
        f"{before} → enabled={enabled} {rule.params}"[:2000],
        address,
    )
    return rule


def rules(session: Session, family: str | None = None) -> list[Rule]:
    """The enabled rules (of one family)."""
    q = select(RiskRule).where(RiskRule.enabled).order_by(RiskRule.key)
    if family:
        q = q.where(RiskRule.family == family)
    return [
        Rule(r.key, r.family, r.name, orjson.loads(r.params)) for r in session.execute(q).scalars()
    ]


# --- keeping one open alert per (rule, area, subject) ---------------------------------------------
def record(session: Session, found: Finding, now: datetime) -> Alert:
    """Raise the finding's alert, or update the open one of the same rule, area and subject."""
    alert = session.execute(
        select(Alert)
        .where(
            Alert.rule == found.rule,
            Alert.subject == found.subject[:200],
            Alert.area_id.is_(None) if found.area_id is None else Alert.area_id == found.area_id,
            Alert.state.in_(OPEN_STATES),
        )
        .with_for_update()
    ).scalar()
    evidence = orjson.dumps(found.evidence).decode()
    if alert is None:
        alert = Alert(
            rule=found.rule,
            level=found.level,
            area_id=found.area_id,
            district_id=found.district_id,
            subject=found.subject[:200],
            title=mask_text(found.title)[:200],
            evidence=evidence,
            state="active",
            created_at=now,
            updated_at=now,
            hits=1,
            seen_at=now,
        )
        session.add(alert)
        session.flush()
        _noted(session, alert, None, "active", now, f"level {found.level}")
    else:
        raised = found.level < alert.level
        alert.level = min(alert.level, found.level)
        alert.evidence, alert.hits, alert.seen_at, alert.updated_at = (
            evidence,
            alert.hits + 1,
            now,
            now,
        )
        if raised:
            alert.title = mask_text(found.title)[:200]
            _noted(session, alert, alert.state, alert.state, now, f"raised to level {found.level}")
    linked = set(
        session.execute(
            select(AlertEvent.event_id).where(AlertEvent.alert_id == alert.id)
        ).scalars()
    )
    for event_id in dict.fromkeys(found.event_ids):
        if event_id not in linked:
            session.add(AlertEvent(alert_id=alert.id, event_id=event_id))
    session.flush()
    return alert


def _noted(
    session: Session, alert: Alert, was: str | None, now_state: str, at: datetime, note: str
):
    """A line of the alert's history written by the rules themselves."""
    session.add(
        AlertHistory(
            alert_id=alert.id, from_state=was, to_state=now_state, at=at, actor=SYSTEM, note=note
        )
    )


def clear_stale(session: Session, now: datetime) -> int:
    """Clear the alerts nobody acknowledged whose rule has not found them for its
    `clear_after_minutes`. Returns how many."""
    after = {r.key: r.clear_after for r in rules(session)}
    cleared = 0
    for alert in session.execute(select(Alert).where(Alert.state == "active")).scalars():
        wait = after.get(alert.rule)
        if wait is None or (alert.seen_at or alert.updated_at) > now - wait:
            continue
        _noted(session, alert, "active", "resolved", now, "condition gone")
        alert.state, alert.updated_at = "resolved", now
        cleared += 1
    session.flush()
    return cleared


# --- detectors ----------------------------------------------------------------------------------
def _names(session: Session) -> dict[int, tuple[str, bool]]:
    return {
        i: (n, s)
        for i, n, s in session.execute(select(Category.id, Category.name, Category.sensitive))
    }


def at_ingest(session: Session, events: list[Event]) -> list[Finding]:
    """The immediate rules (major event, sensitive words) over newly stored events."""
    found: list[Finding] = []
    subs = _names(session)
    for rule in rules(session):
        if rule.family == "major":
            by_severity = {int(k): v for k, v in rule.params.get("severity_levels", {}).items()}
            for e in events:
                name, sensitive = subs.get(e.subcategory_id, ("", False))
                levels = [by_severity[e.severity]] if e.severity in by_severity else []
                if sensitive:
                    levels.append(rule.params.get("sensitive_level", 2))
                if levels:
                    found.append(
                        Finding(
                            rule.key,
                            min(levels),
                            f"event:{e.id}",
                            f"{rule.name}：{name} {e.title}",
                            e.grid_id,
                            e.district_id,
                            {"severity": e.severity, "subcategory": name, "sensitive": sensitive},
                            [e.id],
                        )
                    )
        elif rule.family == "keywords":
            words = [w for w in rule.params.get("words", []) if w]
            for e in events:
                text = f"{e.title} {e.description or ''}"
                hit = [w for w in words if w in text]
                if hit:
                    found.append(
                        Finding(
                            rule.key,
                            rule.params.get("level", 3),
                            f"event:{e.id}",
                            f"{rule.name}「{'、'.join(hit)}」：{e.title}",
                            e.grid_id,
                            e.district_id,
                            {"words": hit},
                            [e.id],
                        )
                    )
    return found


AREA_COLUMNS = {
    "grid": Event.grid_id,
    "community": Event.community_id,
    "place": Event.place_key,  # one address
    "compound": Event.compound_key,  # one residential compound (repeats.compound_key)
}
PRECISE = ("place", "compound")  # surges of one address or compound explain their grid's


def surges(session: Session, rule: Rule, now: datetime) -> list[Finding]:
    """Counts of one subcategory in one place over the last window against the same window of
    the last `weeks` weeks (dashboard.surge)."""
    p = rule.params
    place = AREA_COLUMNS[p.get("area", "grid")]
    window = timedelta(minutes=p.get("window_minutes", 60))
    weeks = int(p.get("weeks", 4))
    levels = [surge.Level(**lv) for lv in p["levels"]]
    least = min(lv.min_count for lv in levels)
    recent = session.execute(
        select(
            place,
            Event.subcategory_id,
            func.count(),
            func.max(Event.district_id),
            func.min(Event.grid_id),
        )
        .where(Event.reported_at > now - window, Event.reported_at <= now, place.is_not(None))
        .group_by(place, Event.subcategory_id)
        .having(func.count() >= least)
    ).all()
    if not recent:
        return []
    subs = _names(session)
    found = []
    for key, sub, count, district_id, grid_id in recent:
        same = and_(place == key, Event.subcategory_id == sub)
        past = [
            session.execute(
                select(func.count()).where(
                    same,
                    Event.reported_at > now - k * timedelta(days=7) - window,
                    Event.reported_at <= now - k * timedelta(days=7),
                )
            ).scalar()
            for k in range(1, weeks + 1)
        ]
        total = session.execute(
            select(func.count()).where(
                same,
                Event.reported_at > now - timedelta(days=7 * weeks) - window,
                Event.reported_at <= now - window,
            )
        ).scalar()
        windows = timedelta(days=7 * weeks) / window
        expected = surge.usual(past, total, windows, p.get("floor", 0.02))
        level, tail = surge.level_of(count, expected, levels)
        if level is None:
            continue
        ids = (
            session.execute(
                select(Event.id)
                .where(same, Event.reported_at > now - window, Event.reported_at <= now)
                .order_by(Event.reported_at)
            )
            .scalars()
            .all()
        )
        area_id = key if p.get("area") in ("grid", "community") else grid_id
        name = subs.get(sub, ("", False))[0]
        found.append(
            Finding(
                rule.key,
                level,
                f"{p.get('area')}:{key}|sub:{sub}",
                f"{rule.name}：{name} {count} 件/{int(window.total_seconds() // 60)} 分钟（通常 {expected:.2f}）",
                area_id,
                district_id,
                {
                    "count": count,
                    "usual": round(expected, 3),
                    "tail": tail,
                    "same_window_past_weeks": past,
                    "window_minutes": int(window.total_seconds() // 60),
                },
                list(ids),
            )
        )
    return found


def _reached(levels: list[dict], **have) -> int | None:
    """The most severe level whose every minimum (`min_<name>`) and maximum (`max_<name>`)
    `have` meets."""
    met = [
        lv["level"]
        for lv in levels
        if all(have[k[4:]] >= v for k, v in lv.items() if k.startswith("min_"))
        and all(have[k[4:]] <= v for k, v in lv.items() if k.startswith("max_"))
    ]
    return min(met) if met else None


def repeats(session: Session, rule: Rule, now: datetime) -> list[Finding]:
    """The same matter again and again: one grid and subcategory, or one reporter (by the keyed
    hash of the phone: nobody's number is read), at least the levels' counts in `days`."""
    p = rule.params
    since = now - timedelta(days=p.get("days", 7))
    least = min(lv["min_count"] for lv in p["levels"])
    keys = (Event.grid_id, Event.subcategory_id) if p.get("by") == "grid" else (Event.reporter_key,)
    q = (
        select(
            *keys,
            func.count(),
            func.max(Event.district_id),
            func.min(Event.grid_id),
            func.max(Event.id),
        )
        .where(Event.reported_at > since, Event.reported_at <= now, *(k.is_not(None) for k in keys))
        .group_by(*keys)
        .having(func.count() >= least)
    )
    subs = _names(session)
    found = []
    for row in session.execute(q):
        *key, count, district_id, grid_id, _last = row
        level = _reached(p["levels"], count=count)
        if level is None:
            continue
        where = [k == v for k, v in zip(keys, key, strict=True)]
        ids = (
            session.execute(
                select(Event.id)
                .where(*where, Event.reported_at > since, Event.reported_at <= now)
                .order_by(Event.reported_at)
            )
            .scalars()
            .all()
        )
        if p.get("by") == "grid":
            subject, what = f"grid:{key[0]}|sub:{key[1]}", subs.get(key[1], ("", False))[0]
        else:
            subject, what = f"reporter:{key[0]}", "同一报告人"
        found.append(
            Finding(
                rule.key,
                level,
                subject,
                f"{rule.name}：{what} {count} 次/{p.get('days', 7)} 天",
                grid_id,
                district_id,
                {"count": count, "days": p.get("days", 7)},
                list(ids),
            )
        )
    return found


def backlogs(session: Session, rule: Rule, now: datetime) -> list[Finding]:
    """A department's overdue open cases, by count and by share of its open ones."""
    late = func.sum(case((Event.close_deadline < now, 1), else_=0))
    q = (
        select(Event.department_id, func.count(), late)
        .where(Event.is_open, Event.department_id.is_not(None))
        .group_by(Event.department_id)
    )
    names = dict(session.execute(select(Department.id, Department.name)).all())
    found = []
    for dept, open_n, overdue in session.execute(q):
        overdue = int(overdue or 0)
        level = _reached(rule.params["levels"], overdue=overdue, share=overdue / open_n)
        if level is not None:
            found.append(
                Finding(
                    rule.key,
                    level,
                    f"department:{dept}",
                    f"{rule.name}：{names.get(dept, '')} 超期 {overdue} 件（在办 {open_n}）",
                    None,
                    None,
                    {"overdue": overdue, "open": open_n},
                )
            )
    return found


def silences(session: Session, rule: Rule, now: datetime) -> list[Finding]:
    """A source that usually sends in these minutes of the week has sent nothing for them."""
    p = rule.params
    quiet = timedelta(minutes=p.get("silent_minutes", 30))
    found = []
    for source in session.execute(select(Event.source).distinct()).scalars():
        latest = session.execute(
            select(func.max(Event.reported_at)).where(Event.source == source)
        ).scalar()
        if latest is None or latest > now - quiet:
            continue
        usual = [
            session.execute(
                select(func.count()).where(
                    Event.source == source,
                    Event.reported_at > now - k * timedelta(days=7) - quiet,
                    Event.reported_at <= now - k * timedelta(days=7),
                )
            ).scalar()
            for k in range(1, int(p.get("weeks", 4)) + 1)
        ]
        if sum(usual) / len(usual) >= p.get("min_usual", 3):
            found.append(
                Finding(
                    rule.key,
                    p.get("level", 3),
                    f"source:{source}",
                    f"{rule.name}：{SOURCE_LABELS.get(source, (source,))[0]}"
                    f" 已 {int((now - latest).total_seconds() // 60)} 分钟无数据",
                    None,
                    None,
                    {"latest": latest.isoformat() + "Z", "usual": usual},
                )
            )
    return found


def staffing(
    session: Session,
    rule: Rule,
    now: datetime,
    zone: ZoneInfo | None = None,
    standards: Standards | None = None,
):
    """力量不足: a street whose grid workers on duty now (rota and check-ins, dashboard.duty)
    are few against its standard (`per_grid` workers a grid by day, `night_factor` of that by
    night) while its open events are many."""
    p = rule.params
    standards = standards or load_standards()
    hour = (now + (zone.utcoffset(now) if zone else timedelta(0))).hour
    start, end = p.get("day_hours", [8, 20])
    day = start <= hour < end
    shift, factor = ("day", 1.0) if day else ("night", p.get("night_factor", 0.25))
    grids = dict(
        session.execute(
            select(Area.street_id, func.count())
            .where(Area.level == "grid")
            .group_by(Area.street_id)
        ).all()
    )
    early = timedelta(minutes=standards.check_in_early_minutes)
    on_duty = duty.count(duty.roster_at(session, now, early, standards.grid_roles), "street_id")
    open_by = dict(
        session.execute(
            select(Event.street_id, func.count()).where(Event.is_open).group_by(Event.street_id)
        ).all()
    )
    names = dict(
        session.execute(
            select(Area.id, Area.name).where(Area.id.in_([k for k in grids if k]))
        ).all()
    )
    districts = dict(
        session.execute(
            select(Area.id, Area.district_id).where(Area.id.in_([k for k in grids if k]))
        ).all()
    )
    found = []
    for street, n_grids in grids.items():
        if street is None:
            continue
        standard = n_grids * p.get("per_grid", 1.0) * factor
        workers = on_duty.get(street, 0)
        share = workers / standard if standard else 1.0
        per_worker = open_by.get(street, 0) / max(workers, 1)
        level = _reached(p["levels"], share=share, open=open_by.get(street, 0))
        if level is None:
            continue
        found.append(
            Finding(
                rule.key,
                level,
                f"street:{street}",
                f"{rule.name}：{names.get(street, '')} 在岗网格员 {workers} 人"
                f"（标准 {standard:.0f}），人均在办 {per_worker:.0f} 件",
                street,
                districts.get(street),
                {
                    "on_duty": workers,
                    "standard": round(standard, 1),
                    "share": round(share, 3),
                    "open": open_by.get(street, 0),
                    "open_per_worker": round(per_worker, 1),
                    "shift": shift,
                },
            )
        )
    return found


PERIODIC = {
    "surge": surges,
    "repeat": repeats,
    "backlog": backlogs,
    "feed_silence": silences,
    "staffing": staffing,
}


def _sub(found: Finding) -> str:
    return found.subject.rpartition("|")[2]


def _unexplained(new: list[Finding], found: list[Finding]) -> list[Finding]:
    """A grid's surge that one compound's surge in it already explains (same grid, same
    subcategory) is not a second alert: the compound's is the more precise."""
    precise = tuple(f"{a}:" for a in PRECISE)
    places = {(f.area_id, _sub(f)) for f in found if f.subject.startswith(precise)}
    return [f for f in new if f.subject.startswith(precise) or (f.area_id, _sub(f)) not in places]


def evaluate(
    session: Session,
    now: datetime,
    zone: ZoneInfo | None = None,
    standards: Standards | None = None,
) -> dict:
    """The scheduled pass: every periodic rule, its findings recorded, stale alerts cleared.
    `zone`: the city's (the staffing rule's day and night are local hours); `standards`: the
    staffing standard (dashboard/staffing.toml when not given)."""
    found: list[Finding] = []
    for rule in sorted(rules(session, "surge"), key=lambda r: r.params.get("area") not in PRECISE):
        found += _unexplained(surges(session, rule, now), found)
    for rule in rules(session):
        if rule.family == "staffing":
            found += staffing(session, rule, now, zone, standards)
        elif rule.family in PERIODIC and rule.family != "surge":
            found += PERIODIC[rule.family](session, rule, now)
    alerts = [record(session, f, now) for f in found]
    return {
        "found": len(found),
        "alerts": len({a.id for a in alerts}),
        "cleared": clear_stale(session, now),
    }


__all__ = [
    "Finding",
    "Rule",
    "at_ingest",
    "clear_stale",
    "evaluate",
    "load_rules",
    "record",
    "rules",
    "surges",
]
