"""Ingest: validate → write SQL (the system of record) → update the Redis live state.

Used by the API, the file importer and the demo simulator alike, so that every event enters
the system through the same checks (dashboard.schemas) and every status change through the
same rules (dashboard.lifecycle).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from dashboard import lifecycle, repeats, risk, summaries
from dashboard import live as live_mod
from dashboard.clock import to_utc_naive, utcnow
from dashboard.db import chunks
from dashboard.domain import SOURCES, STEP_FACTS
from dashboard.lifecycle import FUTURE_TOLERANCE
from dashboard.models import Event, Transition
from dashboard.privacy import mask_name, mask_text, seal
from dashboard.refdata import Reference
from dashboard.schemas import (
    ConflictError,
    EventIn,
    InputError,
    ItemResult,
    TransitionIn,
    pydantic_errors,
)
from dashboard.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

DEADLINE_COLUMNS = tuple(deadline for _met, deadline, _due in STEP_FACTS.values())
EARLIEST = datetime(2000, 1, 1)


@dataclass
class _Prepared:
    index: int
    data: EventIn
    row: dict[str, Any]
    change: live_mod.Change
    ticker: live_mod.TickerItem


class Ingestor:
    """Writes events and transitions. One per process is enough; it holds no per-request state."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        live: live_mod.LiveState | None,
        zone,
        calendar: WorkCalendar | None = None,
        secret: str = "",
        repeat_distance_m: float = repeats.DEFAULT_DISTANCE_M,
    ):
        self.sessions = sessions
        self.live = live
        self.zone = zone
        self.calendar = calendar or WorkCalendar()
        self.secret = secret  # keys the reporter hash of 重复诉求
        self.repeat_distance_m = repeat_distance_m

    def reference(self, session: Session) -> Reference:
        return Reference(session, self.calendar, self.zone)

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
            ref = self.reference(session)
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
        deadlines = dict.fromkeys(DEADLINE_COLUMNS) | ref.deadlines(
            sub.id, d.severity, "reported", reported_at
        )
        point_given = d.lat is not None and d.lon is not None
        return {
            **deadlines,
            # Nothing is met yet: each step falls due at its deadline, if it has one already.
            **{due: deadlines[deadline] for _met, deadline, due in STEP_FACTS.values()},
            "point_given": point_given,
            "cell": repeats.cell_of(d.lat, d.lon) if point_given else None,
            "address": d.address,
            "place_key": repeats.place_key(d.address),
            "compound_key": repeats.compound_key(d.address),
            "reporter_key": repeats.reporter_key(d.reporter_phone, self.secret),
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
        kept = summaries.deltas(session, self.zone)
        self._flag_repeats(session, [p.row for p in fresh], kept)
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
            kept.change(None, summaries.facts_of(p.row))
            p.ticker = replace(p.ticker, event_id=rid)
            p.change = replace(p.change, event_id=rid)
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
            self._raise_alerts(session, fresh, ids)
        kept.write(session)
        prepared[:] = [p for p in fresh if (p.row["source"], p.row["external_id"]) in ids]
        return results

    @staticmethod
    def _raise_alerts(session: Session, fresh: list[_Prepared], ids: dict) -> None:
        """The immediate risk rules (重大事件, 敏感词) on the new events, in their transaction."""
        stored = [
            SimpleNamespace(**p.row, id=ids[(p.row["source"], p.row["external_id"])])
            for p in fresh
            if (p.row["source"], p.row["external_id"]) in ids
        ]
        for found in risk.at_ingest(session, stored):
            risk.record(session, found, stored[0].created_at)

    def _flag_repeats(self, session: Session, rows: list[dict], kept: summaries.Deltas) -> None:
        """重复诉求 (dashboard/repeats.py): sets `is_repeat` on the new rows, and on stored events
        that a late arrival now precedes (their summaries change with them)."""
        new = [repeats.Report.of(n, r) for n, r in enumerate(rows)]
        conn = session.connection()
        stored = repeats.stored_reports(conn, new)
        new_repeats, later_repeats = repeats.flag(new, stored, self.repeat_distance_m)
        for n in new_repeats:
            rows[n]["is_repeat"] = True
        facts = [getattr(Event, name) for name in summaries.FACTS]
        for chunk in chunks(sorted(later_repeats), 500):
            flagged = conn.execute(
                update(Event)
                .where(Event.id.in_(chunk), ~Event.is_repeat)
                .values(is_repeat=True)
                .returning(*facts)
            ).mappings()
            for after in flagged:
                kept.change({**after, "is_repeat": False}, after)

    # ..... transitions .....
    def transition_event(
        self,
        source: str,
        external_id: str,
        items: list[Any],
        now: datetime | None = None,
        within: Callable[[Session, Event], None] | None = None,
    ) -> list[dict]:
        """Apply a list of transitions to one event, all or nothing. Returns per-item results.

        `within(session, event)` runs in the same transaction once the event is locked (a duty
        action's checks and audit entry: whatever it raises undoes everything)."""
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
            ref = self.reference(session)
            event = session.execute(
                select(Event)
                .where(Event.source == source, Event.external_id == external_id)
                .with_for_update()
            ).scalar_one_or_none()
            if event is None:
                raise ConflictError(f"no event {source}/{external_id}", status=404)
            if within is not None:
                within(session, event)
            results = []
            before = summaries.facts_of(event)
            for i, t in enumerate(parsed):
                try:
                    change = lifecycle.apply(session, ref, event, t, now, self.zone)
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
            if changes:
                kept = summaries.deltas(session, self.zone)
                kept.change(before, summaries.facts_of(event))
                kept.write(session)
        self.publish(changes, [], "ingest")
        return results

    def transitions_within(
        self, session: Session, pairs: list[tuple[Event, list[dict]]], now: datetime
    ) -> list[live_mod.Change]:
        """Apply transitions to events the caller has locked, inside the caller's transaction
        (all of it or nothing with the rest of its work): a work notice's outcome. The caller
        publishes the returned changes once committed (`publish`)."""
        ref = self.reference(session)
        kept = summaries.deltas(session, self.zone)
        changes: list[live_mod.Change] = []
        for event, items in pairs:
            before = summaries.facts_of(event)
            for raw in items:
                change = lifecycle.apply(
                    session, ref, event, TransitionIn.model_validate(raw), now, self.zone
                )
                if change is not None:
                    changes.append(change)
            kept.change(before, summaries.facts_of(event))
        kept.write(session)
        return changes

    # ..... live state .....
    def publish(self, changes, ticker, heartbeat: str) -> None:
        """Update Redis after the SQL commit. A Redis failure loses nothing: reconcile repairs it."""
        if self.live is None or not (changes or ticker):
            return
        beats = [heartbeat, *sorted({f"feed:{c.source}" for c in changes if c.from_status is None})]
        try:
            self.live.record(changes, ticker, heartbeats=beats)
        except live_mod.LiveUnavailable:
            log.debug("live state update skipped: Redis failed moments ago")
        except Exception:  # Redis being down must not fail a committed write
            log.warning("live state update failed; it is rebuilt from SQL", exc_info=True)


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
