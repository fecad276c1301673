"""Scheduled jobs (DESIGN §7), declared as a list. Each is idempotent and takes the Runtime."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from dashboard.clock import from_epoch, utcnow
from dashboard.db import bulk_insert, chunks, storage_text, without_indexes
from dashboard.models import Event, JobState, RollupDaily, RollupHourly, Transition
from dashboard.queries import live_snapshot, overdue_counts
from dashboard.runtime import Runtime
from dashboard.sqlfuncs import epoch_bucket

log = logging.getLogger(__name__)

ROLLUP_WATERMARK = "rollup.watermark"
# Transactions that started before the watermark may commit after it: look back this far.
ROLLUP_OVERLAP = timedelta(minutes=2)
HOURLY_RETENTION_DAYS = 14


@dataclass(frozen=True)
class JobDef:
    name: str
    func: Callable[[Runtime], object]
    seconds: float


def job_definitions(rt: Runtime) -> list[JobDef]:
    from dashboard import demo

    jobs = [
        JobDef("rollup", rollup, 60),
        JobDef("sla_sweep", sla_sweep, 60),
        JobDef("reconcile", reconcile, 300),
        JobDef("trim", trim, 3600),
        JobDef("wall_snapshot", wall_snapshot, 60),
    ]
    if rt.settings.demo and rt.settings.simulator_rate > 0:
        jobs.append(JobDef("simulate", demo.simulate_tick, demo.SIMULATOR_TICK_SECONDS))
    return jobs


# --- rollup -------------------------------------------------------------------------------
def rollup(rt: Runtime, now: datetime | None = None, rebuild: bool = False) -> dict:
    """Re-roll every hour and day touched by transitions written since the watermark.

    Late events (an `at` long before they arrive) simply touch old hours and days, which are
    recomputed from the transitions; `rebuild` recomputes everything from scratch in one pass.
    """
    now = now or utcnow()
    offset = _standard_offset(rt.settings.zone, now)
    horizon = now - timedelta(days=HOURLY_RETENTION_DAYS)
    with rt.sessions() as session, session.begin():
        state = session.get(JobState, ROLLUP_WATERMARK)
        conn = session.connection()
        if rebuild or state is None:
            session.execute(delete(RollupHourly))
            session.execute(delete(RollupDaily))
            # One pass over everything: far cheaper than hour by hour through the index.
            with without_indexes(conn, [RollupHourly.__table__, RollupDaily.__table__]):
                hour_rows = _roll_hours(session, conn, None, horizon)
                day_rows = _roll_days(session, conn, None, offset)
            result = {
                "hours": hour_rows[1],
                "days": day_rows[1],
                "rows": hour_rows[0] + day_rows[0],
            }
        else:
            since = datetime.fromisoformat(state.value) - ROLLUP_OVERLAP
            touched = Transition.created_at >= since
            hour_b = epoch_bucket(Transition.at, 3600)
            day_b = epoch_bucket(Transition.at, 86400, offset)
            hours = sorted(
                int(h)
                for h in session.execute(
                    select(hour_b).where(touched, Transition.at >= horizon).distinct()
                ).scalars()
            )
            days = sorted(
                int(d) for d in session.execute(select(day_b).where(touched).distinct()).scalars()
            )
            rows = 0
            for chunk in chunks(hours, 24 * 7):
                rows += _roll_hours(session, conn, chunk, horizon)[0]
            for chunk in chunks(days, 14):
                rows += _roll_days(session, conn, chunk, offset)[0]
            result = {"hours": len(hours), "days": len(days), "rows": rows}
        if state is None:
            state = JobState(name=ROLLUP_WATERMARK, value="", updated_at=now)
            session.add(state)
        state.value = now.isoformat()
        state.updated_at = now
    return result


def _standard_offset(zone, now: datetime) -> int:
    """Seconds east of UTC of the zone (days are cut at local midnight with this offset)."""
    return int(zone.utcoffset(now).total_seconds())


def _roll_hours(session, conn, hours: list[int] | None, horizon: datetime) -> tuple[int, int]:
    """Recompute the hourly rollup of some hours (epoch seconds), or of every hour since the
    horizon when `hours` is None. Returns (rows written, hours covered)."""
    bucket = epoch_bucket(Transition.at, 3600)
    dims = (Event.district_id, Event.category_id, Event.source, Transition.to_status)
    q = select(bucket, *dims, func.count()).join(Event, Event.id == Transition.event_id)
    if hours is None:
        q = q.where(Transition.at >= horizon)
    else:
        starts = [from_epoch(h) for h in hours]
        session.execute(delete(RollupHourly).where(RollupHourly.hour.in_(starts)))
        q = q.where(
            Transition.at >= starts[0],
            Transition.at < starts[-1] + timedelta(hours=1),
            bucket.in_(hours),
        )
    text_of = functools.cache(lambda h: storage_text(from_epoch(int(h))))
    rows = [(text_of(h), *rest) for h, *rest in session.execute(q.group_by(bucket, *dims))]
    n = bulk_insert(
        conn,
        "rollup_hourly",
        ["hour", "district_id", "category_id", "source", "status", "count"],
        rows,
    )
    return n, len({r[0] for r in rows})


def _roll_days(session, conn, days: list[int] | None, offset: int) -> tuple[int, int]:
    """Recompute the daily rollup of some local days (local-midnight epoch seconds), or of
    every day when `days` is None. Returns (rows written, days covered)."""
    bucket = epoch_bucket(Transition.at, 86400, offset)
    dept = func.coalesce(Event.department_id, 0)
    dims = (Event.district_id, Event.category_id, Event.source, dept, Transition.to_status)
    q = select(bucket, *dims, func.count()).join(Event, Event.id == Transition.event_id)
    if days is not None:
        dates = [from_epoch(d).date() for d in days]
        session.execute(delete(RollupDaily).where(RollupDaily.day.in_(dates)))
        q = q.where(
            Transition.at >= from_epoch(days[0] - offset),
            Transition.at < from_epoch(days[-1] - offset + 86400),
            bucket.in_(days),
        )
    text_of = functools.cache(lambda d: from_epoch(int(d)).date().isoformat())
    rows = [(text_of(d), *rest) for d, *rest in session.execute(q.group_by(bucket, *dims))]
    n = bulk_insert(
        conn,
        "rollup_daily",
        ["day", "district_id", "category_id", "source", "department_id", "status", "count"],
        rows,
    )
    return n, len({r[0] for r in rows})


def trim_hourly(rt: Runtime, now: datetime | None = None) -> int:
    """Hourly rows older than the retention; the daily rollup keeps their totals."""
    now = now or utcnow()
    horizon = now - timedelta(days=HOURLY_RETENTION_DAYS, hours=1)
    with rt.sessions() as session, session.begin():
        return session.execute(delete(RollupHourly).where(RollupHourly.hour < horizon)).rowcount


# --- SLA sweep ----------------------------------------------------------------------------
def sla_sweep(rt: Runtime, now: datetime | None = None) -> dict:
    """Flag open events past their closing deadline and publish the overdue gauges."""
    now = now or utcnow()
    with rt.sessions() as session, session.begin():
        flagged = session.execute(
            update(Event)
            .where(Event.is_open, ~Event.overdue, Event.close_deadline < now)
            .values(overdue=True)
        ).rowcount
        total, by_district = overdue_counts(session, now)
    rt.live.set_overdue(total, by_district)
    return {"flagged": flagged, "overdue": total}


# --- reconcile ----------------------------------------------------------------------------
def reconcile(
    rt: Runtime, now: datetime | None = None, repair: bool = True, quiet: bool = False
) -> list[dict]:
    """Rebuild the live state from SQL; report (and repair) every field that drifted."""
    now = now or utcnow()
    # The overdue gauges belong to the SLA sweep (they change with the clock, not with
    # writes): bring them up to date first so that only real drift is reported.
    sla_sweep(rt, now)
    with rt.sessions() as session:
        snap = live_snapshot(session, rt.live, now)
    drift = rt.live.apply_snapshot(snap, repair=repair)
    if drift and not quiet:
        log.warning("live state drift repaired: %d fields (first: %s)", len(drift), drift[:3])
    return drift


def wall_snapshot(rt: Runtime, now: datetime | None = None) -> dict:
    """The wall's minute snapshot: KPI figures, staffing, alerts (dashboard/wall.py)."""
    from dashboard import wall

    with rt.sessions() as session:
        return wall.refresh(session, rt.live, now or utcnow(), rt.settings.zone)


def trim(rt: Runtime) -> dict:
    """Retention: cap the ticker stream and drop hourly rollups past their retention."""
    rt.live.trim()
    return {"hourly_rows_deleted": trim_hourly(rt)}
