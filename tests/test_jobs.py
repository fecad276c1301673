"""Scheduled work (dashboard.jobs): summary tables incremental by watermark, late events
re-rolling their hours, a rebuild that agrees; the SLA sweep flagging overdue events."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from dashboard import jobs
from dashboard.clock import utcnow
from dashboard.models import Event, RollupDaily, RollupHourly, Transition
from tests.factories import T0, event, h, step


def table(rt, model) -> list[tuple]:
    cols = [c for c in model.__table__.columns if c.name != "id"]
    with rt.sessions() as s:
        return sorted(tuple(r) for r in s.execute(select(*cols)).all())


def daily_total(rt, **where) -> int:
    q = select(func.coalesce(func.sum(RollupDaily.count), 0))
    for k, v in where.items():
        q = q.where(getattr(RollupDaily, k) == v)
    with rt.sessions() as s:
        return s.execute(q).scalar()


def test_incremental_late_events_and_rebuild(rt, city):
    n1 = T0 + h(30)
    rt.ingestor.ingest_events([event("A", T0), event("B", T0 + h(2), "G21")], now=n1)
    rt.ingestor.transition_event(
        "grid", "A", [step("accepted", T0 + h(1)), step("dispatched", T0 + h(1.5))], now=n1
    )
    first = jobs.rollup(rt, now=n1 + h(0.1))
    assert first["rows"] > 0
    with rt.sessions() as s:
        n_transitions = s.execute(select(func.count()).select_from(Transition)).scalar()
    assert daily_total(rt) == n_transitions == 4
    assert daily_total(rt, status="reported", district_id=7) == 1  # B in district 2
    hourly = table(rt, RollupHourly)
    assert sum(r[-1] for r in hourly) == 4 and {r[0] for r in hourly} == {T0, T0 + h(1), T0 + h(2)}

    # A late event: it happened three days earlier and arrives now.
    n2 = n1 + h(1)
    rt.ingestor.ingest_events([event("LATE", T0 - h(72), "G12")], now=n2)
    again = jobs.rollup(rt, now=n2 + h(0.1))
    assert again["days"] >= 1
    assert daily_total(rt, day=date(2026, 10, 30)) == 1  # 2026-10-30 08:00 local
    assert daily_total(rt) == 5

    incremental = (table(rt, RollupHourly), table(rt, RollupDaily))
    jobs.rollup(rt, now=n2 + h(0.2), rebuild=True)
    assert (table(rt, RollupHourly), table(rt, RollupDaily)) == incremental


def test_days_are_local_days(rt, city):
    # 23:30 UTC on 1 November is 07:30 on 2 November in Asia/Shanghai.
    rt.ingestor.ingest_events([event("N", T0 - h(0.5))], now=T0 + h(1))
    jobs.rollup(rt, now=T0 + h(1))
    assert daily_total(rt, day=date(2026, 11, 2)) == 1
    assert daily_total(rt, day=date(2026, 11, 1)) == 0


def test_nothing_new_rolls_nothing(rt, city):
    rt.ingestor.ingest_events([event("Q", T0)], now=T0 + h(1))
    jobs.rollup(rt, now=T0 + h(1.1))  # written 6 minutes before: beyond the 2-minute overlap
    quiet = jobs.rollup(rt, now=T0 + h(2))
    assert quiet == {"hours": 0, "days": 0, "rows": 0}
    assert daily_total(rt) == 1


def test_hourly_rows_are_kept_for_the_retention_only(rt, city):
    rt.ingestor.ingest_events([event("OLD", T0)], now=T0 + h(1))
    jobs.rollup(rt, now=T0 + h(1))
    assert table(rt, RollupHourly)
    later = T0 + h(24 * (jobs.HOURLY_RETENTION_DAYS + 2))
    assert jobs.trim_hourly(rt, now=later) == 1
    assert table(rt, RollupHourly) == [] and daily_total(rt) == 1


def test_sla_sweep_flags_overdue(rt, city):
    now = utcnow()
    rt.ingestor.ingest_events([event("O1", now - timedelta(hours=60))], now=now)
    rt.ingestor.transition_event(
        "grid", "O1", [step("accepted", now - timedelta(hours=59))], now=now
    )
    out = jobs.sla_sweep(rt, now=now)
    assert out == {"flagged": 1, "overdue": 1}
    assert rt.live.gauges()["overdue"] == 1 and rt.live.gauges()["overdue:d:339001"] == 1
    with rt.sessions() as s:
        assert s.execute(select(Event.overdue)).scalar() is True
    rt.ingestor.transition_event(
        "grid",
        "O1",
        [
            step("dispatched", now, department="CG"),
            step("in_progress", now),
            step("resolved", now),
            step("closed", now),
        ],
        now=now,
    )
    assert jobs.sla_sweep(rt, now=now)["overdue"] == 0
    assert rt.live.gauges()["overdue"] == 0
