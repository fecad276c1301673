"""Reconcile: the Redis live state rebuilt from SQL (the system of record), compared field by
field with what Redis holds, and repaired (DESIGN §2)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.clock import day_bounds, epoch, from_epoch, local_day, utcnow
from dashboard.db import snapshot_session
from dashboard.jobs import sla_sweep, wall_snapshot
from dashboard.live import TICKER_PER_BATCH, Change, LiveState, Snapshot, TickerItem, change_key
from dashboard.models import Category, Event, Transition
from dashboard.privacy import mask_name, mask_text, unseal
from dashboard.queries import overdue_counts
from dashboard.refdata import area_codes
from dashboard.runtime import Runtime
from dashboard.sqlfuncs import epoch_bucket

log = logging.getLogger(__name__)

# Transitions written this recently may still be on their way to Redis (a publish follows its
# commit within milliseconds): reconcile names them, so that each is applied exactly once.
RECENT = timedelta(minutes=10)


def reconcile(
    rt: Runtime, now: datetime | None = None, repair: bool = True, quiet: bool = False
) -> list[dict]:
    """Rebuild the live state from SQL; report (and repair) every field that drifted.

    Ingest goes on meanwhile, and the result must still equal SQL. The snapshot is read in one
    consistent SQL transaction and written to Redis with the keys of the recent transitions it
    holds: a publish of one of those afterwards is skipped (no double count), and the
    transitions committed after the read are applied by a catch-up (none lost), each once
    whichever comes first (LiveState.record).
    """
    now = now or utcnow()
    # The overdue gauges belong to the SLA sweep (they change with the clock, not with
    # writes): bring them up to date first so that only real drift is reported.
    sla_sweep(rt, now)
    since = now - RECENT
    with snapshot_session(rt.engine) as session:
        snap = live_snapshot(session, rt.live, now, since)
    drift = rt.live.apply_snapshot(snap, repair=repair)
    if repair and drift:
        with rt.sessions() as session:
            catch_up(session, rt.live, now, since, snap.applied)
    if repair:
        rt.live.mark_built(now.isoformat())
    if drift and not quiet:
        log.warning("live state drift repaired: %d fields (first: %s)", len(drift), drift[:3])
    return drift


def live_check(rt: Runtime, now: datetime | None = None) -> dict:
    """Every few seconds: rebuild the live state at once when Redis lost it (restarted empty,
    flushed) or a process skipped updates while Redis was away — not at the next periodic
    reconcile, minutes later. Costs one round trip when all is well."""
    why = rt.live.needs_rebuild()
    if why is None:
        return {"rebuilt": None}
    drift = reconcile(rt, now, quiet=True)
    if rt.live.document("wall") is None:
        wall_snapshot(rt, now)
    log.warning("live state %s in Redis: rebuilt from SQL (%d fields differed)", why, len(drift))
    return {"rebuilt": why, "fields": len(drift)}


def live_snapshot(
    session: Session, live: LiveState, now: datetime, since: datetime | None = None
) -> Snapshot:
    """The live state as SQL says it should be at `now` (see LiveState.apply_snapshot), with
    the keys of the transitions written since `since`."""
    zone = live.zone
    cats = {c.id: c.code for c in session.execute(select(Category)).scalars()}
    districts = area_codes(session, "district")
    snap = Snapshot()
    today = local_day(now, zone)
    for day in (today - timedelta(days=1), today):
        lo, hi = day_bounds(day, zone)
        snap.days[day.isoformat()] = {}
        rows = session.execute(
            select(
                Transition.to_status,
                Event.district_id,
                Event.category_id,
                Event.source,
                func.count(),
            )
            .join(Event, Event.id == Transition.event_id)
            .where(Transition.at >= lo, Transition.at < hi)
            .group_by(Transition.to_status, Event.district_id, Event.category_id, Event.source)
        )
        for status, d, c, s, n in rows:
            snap.add_day(day, Change(status, None, lo, districts.get(d, ""), cats.get(c, ""), s), n)
    first_hour = (epoch(now) - 24 * 3600) // 3600 * 3600
    snap.expect_hours(first_hour, epoch(now))
    minute = epoch_bucket(Transition.at, 60)
    rows = session.execute(
        select(minute, Transition.to_status, Event.district_id, func.count())
        .join(Event, Event.id == Transition.event_id)
        .where(Transition.at >= from_epoch(first_hour))
        .group_by(minute, Transition.to_status, Event.district_id)
    )
    for m, status, d, n in rows:
        snap.add_minute(int(m), status, districts.get(d, ""), n)
    for status, d, n in session.execute(
        select(Event.status, Event.district_id, func.count())
        .where(Event.is_open)
        .group_by(Event.status, Event.district_id)
    ):
        snap.add_open(status, districts.get(d, ""), n)
    snap.set_overdue(*overdue_counts(session, now, districts))
    # The stream gets at most a batch's newest items at a time: that is what it can be held to.
    snap.ticker = recent_events(session, TICKER_PER_BATCH, districts, cats)
    if since is not None:
        snap.applied = {
            change_key(e, s, at)
            for e, s, at in session.execute(
                select(Transition.event_id, Transition.to_status, Transition.at).where(
                    Transition.created_at >= since
                )
            )
        }
    return snap


def catch_up(
    session: Session, live: LiveState, now: datetime, since: datetime, included: set[str]
) -> int:
    """Apply the transitions written since `since` that a snapshot did not hold (committed
    after it was read); those already applied by their own publish are skipped. Returns how
    many were new to Redis."""
    cats = {c.id: c.code for c in session.execute(select(Category)).scalars()}
    districts = area_codes(session, "district")
    rows = session.execute(
        select(
            Transition.event_id,
            Transition.from_status,
            Transition.to_status,
            Transition.at,
            Event.district_id,
            Event.category_id,
            Event.source,
        )
        .join(Event, Event.id == Transition.event_id)
        .where(Transition.created_at >= since)
        .order_by(Transition.id)
    ).all()
    changes = [
        Change(to, frm, at, districts.get(d, ""), cats.get(c, ""), src, event_id=eid)
        for eid, frm, to, at, d, c, src in rows
        if change_key(eid, to, at) not in included
    ]
    if not changes:
        return 0
    new_events = [c.event_id for c in changes if c.status == "reported"]
    return live.record(changes, ticker_items(session, new_events, districts, cats), now)


def recent_events(session: Session, n: int, districts: dict[int, str], cats: dict[int, str]):
    """The newest events in ingest order (oldest first), masked, as ticker items."""
    rows = session.execute(select(Event).order_by(Event.id.desc()).limit(n)).scalars().all()
    return [_ticker_item(e, districts, cats) for e in reversed(rows)]


def ticker_items(session: Session, event_ids: list[int], districts, cats) -> list[TickerItem]:
    """Some events as ticker items (masked), in the order given."""
    if not event_ids:
        return []
    found = {
        e.id: e for e in session.execute(select(Event).where(Event.id.in_(event_ids))).scalars()
    }
    return [_ticker_item(found[i], districts, cats) for i in event_ids if i in found]


def _ticker_item(e: Event, districts: dict[int, str], cats: dict[int, str]) -> TickerItem:
    return TickerItem(
        e.id,
        e.reported_at,
        districts.get(e.district_id, ""),
        cats.get(e.category_id, ""),
        cats.get(e.subcategory_id, ""),
        e.severity,
        mask_text(e.title),
        e.source,
        mask_name(unseal(e.reporter_name)),
    )
