"""Ingest: validate → write SQL (the system of record) → update the Redis live state.

Used by the API, the file importer and the demo simulator alike, so that every event enters
the system through the same checks.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from dashboard import live as live_mod
from dashboard.clock import to_utc_naive, utcnow
from dashboard.db import chunks
from dashboard.domain import (
    LEVELS,
    MEDIATION_RESULTS,
    SATISFACTION_LABELS,
    SEVERITY_LABELS,
    SOURCES,
    STATUSES,
    TERMINAL,
    allowed_next,
    next_level,
)
from dashboard.models import Event, Transition
from dashboard.privacy import mask_name, mask_text, seal
from dashboard.refdata import Reference

log = logging.getLogger(__name__)

REPEAT_WINDOW = timedelta(days=30)
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1)
_SEVERITY_BY_NAME = {zh: n for n, (zh, _en) in SEVERITY_LABELS.items()} | {
    en.lower(): n for n, (_zh, en) in SEVERITY_LABELS.items()
}
_SATISFACTION_BY_NAME = {zh: code for code, (zh, _en) in SATISFACTION_LABELS.items()}
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{2,19}$")


# --- input models -------------------------------------------------------------------------
class EventIn(BaseModel):
    """One event as upstream systems send it (docs/api.md)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-/]+$")
    source: str | None = None
    category: str | None = Field(default=None, max_length=100)
    subcategory: str = Field(min_length=1, max_length=100)
    severity: int | str = 1
    grid_code: str | None = Field(default=None, max_length=32)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    reported_at: datetime | None = None
    reporter_name: str | None = Field(default=None, max_length=50)
    reporter_phone: str | None = Field(default=None, max_length=20)

    @field_validator("severity")
    @classmethod
    def _severity(cls, v: int | str) -> int:
        if isinstance(v, str):
            key = v.strip().lower()
            v = _SEVERITY_BY_NAME.get(key, int(key) if key.isdigit() else 0)
        if v not in SEVERITY_LABELS:
            raise ValueError("must be 1–4 or one of 一般/较大/重大/特别重大")
        return v

    @field_validator("reporter_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v and not _PHONE.match(v):
            raise ValueError("must be a telephone number (digits, spaces, '-' and a leading '+')")
        return v or None


class TransitionIn(BaseModel):
    """One status change (docs/api.md)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: str
    at: datetime | None = None
    department: str | None = Field(default=None, max_length=100)
    actor: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=4000)
    satisfaction: str | None = None
    resolved_level: str | None = None
    mediation_result: str | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        if v not in STATUSES:
            raise ValueError(f"must be one of {', '.join(STATUSES)}")
        return v

    @field_validator("satisfaction")
    @classmethod
    def _satisfaction(cls, v: str | None) -> str | None:
        v = _SATISFACTION_BY_NAME.get(v, v) if v else None
        if v is not None and v not in SATISFACTION_LABELS:
            raise ValueError(f"must be one of {', '.join(SATISFACTION_LABELS)}")
        return v

    @field_validator("resolved_level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        if v is not None and v not in LEVELS:
            raise ValueError(f"must be one of {', '.join(LEVELS)}")
        return v

    @field_validator("mediation_result")
    @classmethod
    def _mediation(cls, v: str | None) -> str | None:
        if v is not None and v not in MEDIATION_RESULTS:
            raise ValueError(f"must be one of {', '.join(MEDIATION_RESULTS)}")
        return v


# --- results and errors -------------------------------------------------------------------
class InputError(Exception):
    """Bad input: maps to HTTP 400 with field-level messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ConflictError(Exception):
    """An impossible transition or an unknown event: maps to HTTP 409 (or 404)."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class ItemResult:
    index: int
    external_id: str | None
    status: str  # created | duplicate | rejected
    id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "index": self.index,
            "external_id": self.external_id,
            "status": self.status,
        }
        if self.id is not None:
            d["id"] = self.id
        if self.errors:
            d["errors"] = self.errors
        return d


def pydantic_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "_"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        out.setdefault(name, msg)
    return out


# --- events -------------------------------------------------------------------------------
@dataclass
class _Prepared:
    index: int
    data: EventIn
    row: dict[str, Any]
    change: live_mod.Change
    ticker: live_mod.TickerItem


class Ingestor:
    """Writes events and transitions. One per process is enough; it holds no per-request state."""

    def __init__(self, sessions: sessionmaker[Session], live: live_mod.LiveState | None, zone):
        self.sessions = sessions
        self.live = live
        self.zone = zone

    # ..... events .....
    def ingest_events(
        self, items: list[Any], token_source: str | None = None, now: datetime | None = None
    ) -> list[ItemResult]:
        """Validate and store a batch. Valid items are committed together; the rest are rejected.

        Raises sqlalchemy errors when the database is unavailable (nothing is written then).
        """
        now = now or utcnow()
        results: list[ItemResult] = []
        prepared: list[_Prepared] = []
        with self.sessions() as session, session.begin():
            ref = Reference(session)
            parsed: list[tuple[int, EventIn]] = []
            for i, raw in enumerate(items):
                if not isinstance(raw, dict):
                    results.append(
                        ItemResult(i, None, "rejected", errors={"_": "must be an object"})
                    )
                    continue
                try:
                    parsed.append((i, EventIn.model_validate(raw)))
                except ValidationError as exc:
                    ext = (
                        raw.get("external_id") if isinstance(raw.get("external_id"), str) else None
                    )
                    results.append(ItemResult(i, ext, "rejected", errors=pydantic_errors(exc)))
            grids = ref.grids({d.grid_code for _i, d in parsed if d.grid_code})
            seen: set[tuple[str, str]] = set()
            for i, data in parsed:
                row, errors = self._event_row(data, ref, grids, token_source, now)
                if errors:
                    results.append(ItemResult(i, data.external_id, "rejected", errors=errors))
                    continue
                key = (row["source"], row["external_id"])
                if key in seen:
                    results.append(ItemResult(i, data.external_id, "duplicate"))
                    continue
                seen.add(key)
                prepared.append(self._prepare(i, data, row, ref))
            if prepared:
                results += self._insert_events(session, prepared)
        if self.live is not None:
            created = {r.index for r in results if r.status == "created"}
            done = [p for p in prepared if p.index in created]
            self.publish([p.change for p in done], [p.ticker for p in done], "ingest")
        results.sort(key=lambda r: r.index)
        return results

    def _event_row(self, d: EventIn, ref: Reference, grids, token_source, now):
        errors: dict[str, str] = {}
        source = d.source or token_source
        if source is None:
            errors["source"] = "required"
        elif source not in SOURCES:
            errors["source"] = f"must be one of {', '.join(SOURCES)}"
        elif token_source and source != token_source:
            errors["source"] = f"this token may only send events of source '{token_source}'"
        sub = ref.subcategory(d.subcategory)
        if sub is None:
            errors["subcategory"] = "unknown subcategory (GET /api/v1/categories lists them)"
        elif d.category is not None:
            cat = ref.category(d.category)
            if cat is None:
                errors["category"] = "unknown category"
            elif cat.id != sub.parent_id:
                errors["category"] = f"subcategory {sub.code} belongs to {sub.parent_code}"
        grid = None
        if d.grid_code:
            grid = grids.get(d.grid_code)
            if grid is None:
                errors["grid_code"] = "unknown grid"
        elif d.lat is not None and d.lon is not None:
            grid = ref.locate(d.lat, d.lon)
            if grid is None:
                errors["lat"] = "the point lies outside every grid of the city"
        else:
            errors["grid_code"] = "required (or lat and lon)"
        reported_at = to_utc_naive(d.reported_at, self.zone) if d.reported_at else now
        if reported_at > now + FUTURE_TOLERANCE:
            errors["reported_at"] = "lies in the future"
        elif reported_at < EARLIEST:
            errors["reported_at"] = "before 2000-01-01"
        if errors:
            return None, errors
        return {
            "source": source,
            "external_id": d.external_id,
            "category_id": sub.parent_id,
            "subcategory_id": sub.id,
            "is_dispute": sub.is_dispute,
            "severity": d.severity,
            "grid_id": grid.id,
            "community_id": grid.community_id,
            "street_id": grid.street_id,
            "district_id": grid.district_id,
            "lat": d.lat if d.lat is not None else grid.lat,
            "lon": d.lon if d.lon is not None else grid.lon,
            "title": d.title,
            "description": d.description,
            "reporter_name": seal(d.reporter_name),
            "reporter_phone": seal(d.reporter_phone),
            "reported_at": reported_at,
            "status": "reported",
            "is_open": True,
            "level": "grid",
            "return_count": 0,
            "escalation_count": 0,
            "is_repeat": False,
            "overdue": False,
            "last_transition_at": reported_at,
            "version": 1,
            "created_at": now,
        }, {}

    @staticmethod
    def _prepare(i: int, d: EventIn, row: dict, ref: Reference) -> _Prepared:
        sub = ref.categories[row["subcategory_id"]]
        district = ref.district_code.get(row["district_id"], "")
        change = live_mod.Change(
            "reported", None, row["reported_at"], district, sub.parent_code, row["source"]
        )
        ticker = live_mod.TickerItem(
            0,
            row["reported_at"],
            district,
            sub.parent_code,
            sub.code,
            row["severity"],
            mask_text(row["title"]),
            row["source"],
            mask_name(d.reporter_name),
        )
        return _Prepared(i, d, row, change, ticker)

    def _insert_events(self, session: Session, prepared: list[_Prepared]) -> list[ItemResult]:
        by_source: dict[str, list[str]] = defaultdict(list)
        for p in prepared:
            by_source[p.row["source"]].append(p.row["external_id"])
        existing = set()
        # source = … AND external_id IN …: the unique index answers it (a tuple IN scanned).
        for source, external_ids in by_source.items():
            for chunk in chunks(external_ids, 500):
                found = session.execute(
                    select(Event.external_id).where(
                        Event.source == source, Event.external_id.in_(chunk)
                    )
                ).scalars()
                existing.update((source, ext) for ext in found)
        results = [
            ItemResult(p.index, p.row["external_id"], "duplicate")
            for p in prepared
            if (p.row["source"], p.row["external_id"]) in existing
        ]
        fresh = [p for p in prepared if (p.row["source"], p.row["external_id"]) not in existing]
        if not fresh:
            prepared.clear()
            return results
        self._flag_repeats(session, [p.row for p in fresh])
        # Rows come back matched by (source, external_id), so their order does not matter,
        # and Core executemany sends the batch as multi-row INSERTs.
        table = Event.__table__
        stmt = _insert_ignore(session, table).returning(
            table.c.id, table.c.source, table.c.external_id
        )
        ids = {}
        conn = session.connection()
        for chunk in chunks([p.row for p in fresh], 1000):
            for rid, src, ext in conn.execute(stmt, chunk):
                ids[(src, ext)] = rid
        transitions = []
        for p in fresh:
            rid = ids.get((p.row["source"], p.row["external_id"]))
            if rid is None:  # inserted meanwhile by a concurrent request
                results.append(ItemResult(p.index, p.row["external_id"], "duplicate"))
                continue
            results.append(ItemResult(p.index, p.row["external_id"], "created", id=rid))
            p.ticker = replace(p.ticker, event_id=rid)
            transitions.append(
                {
                    "event_id": rid,
                    "from_status": None,
                    "to_status": "reported",
                    "at": p.row["reported_at"],
                    "actor": p.row["source"],
                    "department_id": None,
                    "note": None,
                    "created_at": p.row["created_at"],
                }
            )
        if transitions:
            # Core executemany: the ORM's bulk path would send one INSERT per row here.
            session.connection().execute(Transition.__table__.insert(), transitions)
        prepared[:] = [p for p in fresh if (p.row["source"], p.row["external_id"]) in ids]
        return results

    @staticmethod
    def _flag_repeats(session: Session, rows: list[dict]) -> None:
        """重复诉求: an earlier event of the same subcategory in the same grid within 30 days.

        Sets `is_repeat` on the new rows, and on stored events that a late arrival now precedes.
        """
        pairs = {(r["grid_id"], r["subcategory_id"]) for r in rows}
        lo = min(r["reported_at"] for r in rows) - REPEAT_WINDOW
        hi = max(r["reported_at"] for r in rows) + REPEAT_WINDOW
        stored: dict[tuple[int, int], list[tuple[datetime, int]]] = defaultdict(list)
        subcategories = sorted({sub for _g, sub in pairs})
        conn = session.connection()
        # grid IN … AND subcategory IN … lets the (grid, subcategory, reported_at) index serve;
        # a tuple IN made SQLite scan the reported_at range instead.
        for chunk in chunks(sorted({g for g, _s in pairs}), 500):
            found = conn.execute(
                select(Event.grid_id, Event.subcategory_id, Event.reported_at, Event.id).where(
                    Event.grid_id.in_(chunk),
                    Event.subcategory_id.in_(subcategories),
                    Event.reported_at >= lo,
                    Event.reported_at <= hi,
                )
            )
            for g, sub, at, eid in found:
                if (g, sub) in pairs:
                    stored[(g, sub)].append((at, eid))
        new_by_pair: dict[tuple[int, int], list[dict]] = defaultdict(list)
        for r in rows:
            new_by_pair[(r["grid_id"], r["subcategory_id"])].append(r)
        later_repeats: set[int] = set()
        for pair, new_rows in new_by_pair.items():
            times = sorted([t for t, _ in stored[pair]] + [r["reported_at"] for r in new_rows])
            for r in new_rows:
                at = r["reported_at"]
                # An earlier time exists in [at − 30 d, at) ⇔ the one just below `at` is in it.
                k = bisect.bisect_left(times, at)
                r["is_repeat"] = k > 0 and times[k - 1] >= at - REPEAT_WINDOW
            for t, eid in stored[pair]:
                if any(r["reported_at"] < t <= r["reported_at"] + REPEAT_WINDOW for r in new_rows):
                    later_repeats.add(eid)
        for chunk in chunks(sorted(later_repeats), 500):
            conn.execute(
                update(Event).where(Event.id.in_(chunk), ~Event.is_repeat).values(is_repeat=True)
            )

    # ..... transitions .....
    def transition_event(
        self, source: str, external_id: str, items: list[Any], now: datetime | None = None
    ) -> list[dict]:
        """Apply a list of transitions to one event, all or nothing. Returns per-item results."""
        now = now or utcnow()
        parsed: list[TransitionIn] = []
        errors: dict[str, str] = {}
        for i, raw in enumerate(items):
            if not isinstance(raw, dict):
                errors[f"{i}"] = "must be an object"
                continue
            try:
                parsed.append(TransitionIn.model_validate(raw))
            except ValidationError as exc:
                errors |= {
                    f"{i}.{k}" if len(items) > 1 else k: v for k, v in pydantic_errors(exc).items()
                }
        if errors:
            raise InputError(errors)
        changes: list[live_mod.Change] = []
        with self.sessions() as session, session.begin():
            ref = Reference(session)
            event = session.execute(
                select(Event)
                .where(Event.source == source, Event.external_id == external_id)
                .with_for_update()
            ).scalar_one_or_none()
            if event is None:
                raise ConflictError(f"no event {source}/{external_id}", status=404)
            results = []
            for i, t in enumerate(parsed):
                try:
                    change = self.apply(session, ref, event, t, now)
                except InputError as exc:
                    if len(parsed) > 1:
                        exc.errors = {f"{i}.{k}": v for k, v in exc.errors.items()}
                    raise
                except ConflictError as exc:
                    if len(parsed) > 1:
                        exc.message = f"item {i}: {exc.message}"
                    raise
                results.append(
                    {
                        "index": i,
                        "status": t.status,
                        "result": "duplicate" if change is None else "applied",
                    }
                )
                if change is not None:
                    changes.append(change)
        self.publish(changes, [], "ingest")
        return results

    def apply(
        self, session: Session, ref: Reference, e: Event, t: TransitionIn, now: datetime
    ) -> live_mod.Change | None:
        """Apply one transition to a loaded event inside the caller's transaction.

        Returns the live change, or None for an exact repeat of a transition already stored.
        """
        at = to_utc_naive(t.at, self.zone) if t.at else now
        if at > now + FUTURE_TOLERANCE:
            raise InputError({"at": "lies in the future"})
        repeat = session.execute(
            select(Transition.id).where(
                Transition.event_id == e.id, Transition.to_status == t.status, Transition.at == at
            )
        ).first()
        if repeat is not None:
            return None
        if t.status not in allowed_next(e.status):
            raise ConflictError(
                f"cannot go from {e.status} to {t.status}; allowed next: "
                f"{', '.join(sorted(allowed_next(e.status))) or 'none (the case is finished)'}"
            )
        if at < e.last_transition_at:
            raise ConflictError(
                f"'at' {at.isoformat()}Z is earlier than the event's last change "
                f"({e.last_transition_at.isoformat()}Z); send transitions in order"
            )
        self._check_stage(e, t)
        errors: dict[str, str] = {}
        if t.satisfaction and t.status != "closed":
            errors["satisfaction"] = "only with status closed"
        if t.resolved_level and t.status not in {"resolved", "closed"}:
            errors["resolved_level"] = "only with status resolved or closed"
        if t.mediation_result and t.status not in {"resolved", "closed"}:
            errors["mediation_result"] = "only with status resolved or closed"
        department_id = None
        if t.department:
            department_id = ref.department_by_key.get(t.department)
            if department_id is None:
                errors["department"] = "unknown department (GET /api/v1/departments lists them)"
        elif t.status == "dispatched":
            department_id = (
                e.department_id or ref.categories[e.subcategory_id].default_department_id
            )
            if department_id is None:
                errors["department"] = "required when dispatching"
        if errors:
            raise InputError(errors)
        from_status = e.status
        was_overdue = e.overdue
        self._update_facts(e, t, at, department_id, ref)
        session.add(
            Transition(
                event_id=e.id,
                from_status=from_status,
                to_status=t.status,
                at=at,
                actor=t.actor,
                department_id=department_id,
                note=t.note,
                created_at=now,
            )
        )
        session.flush()
        sub = ref.categories[e.subcategory_id]
        return live_mod.Change(
            t.status,
            from_status,
            at,
            ref.district_code.get(e.district_id, ""),
            sub.parent_code,
            e.source,
            was_overdue=was_overdue and not e.is_open,
        )

    @staticmethod
    def _check_stage(e: Event, t: TransitionIn) -> None:
        """After an escalation the case resumes where it was; these facts say where that is."""
        if e.status != "escalated":
            return
        needs = {
            "accepted": (e.accepted_at is None, "the case was already accepted"),
            "rejected": (e.accepted_at is None, "an accepted case cannot be rejected"),
            "dispatched": (e.accepted_at is not None, "the case was never accepted"),
            "in_progress": (e.dispatched_at is not None, "the case was never dispatched"),
        }
        ok, why = needs.get(t.status, (True, ""))
        if not ok:
            raise ConflictError(f"cannot go from escalated to {t.status}: {why}")

    @staticmethod
    def _update_facts(e: Event, t: TransitionIn, at: datetime, department_id, ref) -> None:
        s = t.status
        if s == "accepted":
            e.accepted_at = at
            dispatch_h, handle_h, close_h = ref.limits(e.subcategory_id, e.severity)
            e.dispatch_deadline = at + timedelta(hours=dispatch_h)
            e.handle_deadline = at + timedelta(hours=handle_h)
            e.close_deadline = at + timedelta(hours=close_h)
        elif s == "dispatched":
            e.dispatched_at = e.dispatched_at or at
        elif s == "resolved":
            e.first_resolved_at = e.first_resolved_at or at
        elif s == "returned":
            e.return_count += 1
            e.first_returned_at = e.first_returned_at or at
        elif s == "closed":
            e.closed_at = at
            e.satisfaction = t.satisfaction
        elif s == "escalated":
            e.escalation_count += 1
            e.level = next_level(e.level)
        if department_id is not None:
            e.department_id = department_id
        if s in {"resolved", "closed"}:
            e.resolved_level = t.resolved_level or e.resolved_level or e.level
            e.mediation_result = t.mediation_result or e.mediation_result
        e.status = s
        e.is_open = s not in TERMINAL
        if not e.is_open:
            e.overdue = False
        e.last_transition_at = at
        e.version += 1

    # ..... live state .....
    def publish(self, changes, ticker, heartbeat: str) -> None:
        """Update Redis after the SQL commit. A Redis failure loses nothing: reconcile repairs it."""
        if self.live is None or not (changes or ticker):
            return
        beats = [heartbeat, *sorted({f"feed:{c.source}" for c in changes if c.from_status is None})]
        try:
            self.live.record(changes, ticker, heartbeats=beats)
        except Exception:  # Redis being down must not fail a committed write
            log.warning("live state update failed; reconcile will repair it", exc_info=True)


def _insert_ignore(session: Session, table):
    """INSERT … ON CONFLICT DO NOTHING for the two dialects we support."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=["source", "external_id"]
        )
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["source", "external_id"])
    return insert(table)
