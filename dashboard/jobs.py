"""The scheduled jobs' work (DESIGN §7): rollups, the SLA sweep, the wall's snapshot, retention.
Each is idempotent and takes the Runtime; dashboard.scheduler lists them and runs them."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from dashboard import kpi
from dashboard.auth import forget_old_sessions
from dashboard.clock import from_epoch, utcnow
from dashboard.db import bulk_insert, chunks, storage_text, without_indexes
from dashboard.models import Event, JobState, RollupDaily, RollupHourly, Transition
from dashboard.queries import overdue_counts
from dashboard.runtime import Runtime
from dashboard.sqlfuncs import epoch_bucket

log = logging.getLogger(__name__)

ROLLUP_WATERMARK = "rollup.watermark"
# Transactions that started before the watermark may commit after it: look back this far.
ROLLUP_OVERLAP = timedelta(minutes=2)
HOURLY_RETENTION_DAYS = 14


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
    """Flag the events 超期未办结 (kpi.overdue_parts) and publish the overdue gauges."""
    now = now or utcnow()
    _closed_later, still_open = kpi.overdue_parts(now)
    with rt.sessions() as session, session.begin():
        flagged = session.execute(
            update(Event).where(still_open, ~Event.overdue).values(overdue=True)
        ).rowcount
        total, by_district = overdue_counts(session, now)
    rt.live.set_overdue(total, by_district)
    return {"flagged": flagged, "overdue": total}


def risk_evaluation(rt: Runtime, now: datetime | None = None) -> dict:
    """The periodic risk rules (dashboard/risk.py), then the red alerts nobody acknowledged in
    time escalated; the wall hears of any change at once."""
    from dashboard import alerts, risk

    now = now or utcnow()
    with rt.sessions() as session, session.begin():
        result = risk.evaluate(session, now, rt.settings.zone, rt.settings.staffing)
        result["escalated"] = alerts.escalate_unacknowledged(session, now)
    if result["alerts"] or result["cleared"] or result["escalated"]:
        rt.live.bump_quietly()
    return result


def wall_snapshot(rt: Runtime, now: datetime | None = None) -> dict:
    """The wall's minute snapshot: KPI figures, staffing, alerts (dashboard/wall.py)."""
    from dashboard import wall

    with rt.sessions() as session:
        return wall.refresh(
            session, rt.live, now or utcnow(), rt.settings.zone, rt.settings.staffing
        )


def trim(rt: Runtime, now: datetime | None = None) -> dict:
    """Retention: cap the ticker stream, drop hourly rollups and old session rows."""
    now = now or utcnow()
    rt.live.trim()
    with rt.sessions() as session, session.begin():
        sessions = forget_old_sessions(session, now, rt.settings.session_hours)
    return {"hourly_rows_deleted": trim_hourly(rt, now), "session_rows_deleted": sessions}
