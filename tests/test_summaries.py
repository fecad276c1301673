"""KPI summaries (dashboard.summaries): kept in step with every change, equal to a rebuild from
the events, and giving the same figures as the events read directly."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashboard import demo, summaries
from dashboard.models import Event
from dashboard.queries import kpi_report
from tests.factories import T0, event, h, step

LATER = T0 + h(24 * 45)
MONDAY = T0 - h(8)  # local midnight (T0 is 08:00 local)
BY = (None, "department", "district", "category")


def summary_rows(rt) -> dict:
    """The summary rows of both tables with any count, without their facts_until stamps."""
    out = {}
    for table, dimensions in summaries.TABLES:
        with rt.sessions() as session:
            rows = session.execute(select(table)).mappings().all()
        for r in rows:
            counts = {n: r[n] for n in summaries.COUNTS if r[n]}
            if counts:
                out[(table.name, *(r[k] for k in ("day", *dimensions)))] = counts
    assert any(k[0] == "kpi_daily_area" for k in out) == any(k[0] == "kpi_daily" for k in out)
    return out


def rebuilt_rows(rt) -> dict:
    with rt.sessions() as session, session.begin():
        summaries.rebuild(session, rt.settings.zone, LATER)
    return summary_rows(rt)


def figures(rt, start, end, now, use_summaries, **kw) -> dict:
    with rt.sessions() as session:
        return kpi_report(
            session, start, end, now, zone=rt.settings.zone, use_summaries=use_summaries, **kw
        )


def same_figures(rt, start, end, now, **kw) -> None:
    fast = figures(rt, start, end, now, True, **kw)
    raw = figures(rt, start, end, now, False, **kw)
    assert fast == raw


# A case: where and when it is reported, and how far along its lifecycle goes.
CASE = st.tuples(
    st.sampled_from(["G11", "G12", "G21", "G22"]),
    st.sampled_from(["0101", "0201", "1001"]),
    st.floats(0, 24 * 27, allow_nan=False),  # reported, hours after T0
    st.integers(0, 7),  # how many steps of the lifecycle happen
    st.floats(0.05, 100, allow_nan=False),  # hours between steps (scaled per step)
    st.booleans(),  # returned once after the first resolution
    st.sampled_from([None, "satisfied", "dissatisfied"]),
    st.sampled_from(["grid", "street", "district"]),
    st.sampled_from([None, "success", "failed"]),
    st.booleans(),  # at the address of the case before it (a 重复诉求)
)


def lifecycle(at, n_steps, gap, returned, satisfaction, level, mediation) -> list[dict]:
    steps = [step("accepted", at + h(gap * 0.1))]
    steps.append(step("dispatched", at + h(gap * 0.3)))
    steps.append(step("in_progress", at + h(gap * 0.4)))
    steps.append(step("resolved", at + h(gap * 1.0), resolved_level=level))
    if returned:
        steps.append(step("returned", at + h(gap * 1.1)))
        steps.append(step("in_progress", at + h(gap * 1.2)))
        steps.append(step("resolved", at + h(gap * 1.6), mediation_result=mediation))
    extra = {"satisfaction": satisfaction} if satisfaction else {}
    steps.append(step("closed", at + h(gap * 2.0), **extra))
    return steps[:n_steps]


def load(rt, cases, batch: str) -> None:
    items, steps = [], {}
    for n, (grid, sub, rep, n_steps, gap, returned, sat, level, med, again) in enumerate(cases):
        ext = f"{batch}-{n}"
        at = T0 + h(rep)
        address = f"和平路 {n - 1 if again and n else n} 号"
        items.append(event(ext, at, grid, sub, address=address))
        steps[ext] = lifecycle(at, n_steps, gap, returned, sat, level, med)
    # In two batches, the second earlier than the first: late arrivals flag stored repeats.
    half = len(items) // 2
    for part in (items[half:], items[:half]):
        if part:
            results = rt.ingestor.ingest_events(part, now=LATER)
            assert {r.status for r in results} == {"created"}
    for ext, todo in steps.items():
        if todo:
            rt.ingestor.transition_event("grid", ext, todo, now=LATER)


_batch = 0


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cases=st.lists(CASE, min_size=1, max_size=14),
    start=st.floats(-24 * 3, 24 * 30, allow_nan=False),
    length=st.floats(1, 24 * 20, allow_nan=False),
    by=st.sampled_from(BY),
)
def test_summaries_equal_the_events(rt, city, cases, start, length, by):
    """Random histories: the rows kept in step with every change equal a rebuild from the
    events, and any period (whole days and the parts of days around them) reads the same
    figures from the summaries as from the events."""
    global _batch
    _batch += 1
    load(rt, cases, f"P{_batch}")
    kept = summary_rows(rt)
    assert kept == rebuilt_rows(rt)
    a = T0 + h(start)
    same_figures(rt, a, a + h(length), LATER, by=by)
    same_figures(rt, a, a + h(length), LATER, area="339001", by=by)
    same_figures(rt, a, a + h(length), LATER, department="SF")


def test_summaries_answer_whole_days_only_and_not_for_an_earlier_now(rt, city):
    """A period of whole days is read from the summaries; asked as of a moment before facts
    that touched those rows, the figures come from the events (as they stood then)."""
    # Reported Monday 10:00 local, due for 立案 at 11:00, accepted only on Tuesday at 12:00.
    cases = [("G11", "0101", 2.0, 1, 260.0, False, None, "grid", None, False)]
    load(rt, cases, "W")
    with rt.sessions() as session:
        first, end, _filters, rest = _plan(session, rt, MONDAY, MONDAY + h(24 * 7), LATER)
    assert (first, end, rest) == (T0.date(), (T0 + h(24 * 7)).date(), [])
    early = MONDAY + h(24 + 9)  # Tuesday 09:00: Monday is a whole day, the 立案 not yet made
    fast = figures(rt, MONDAY, MONDAY + h(24 * 7), early, True)
    raw = figures(rt, MONDAY, MONDAY + h(24 * 7), early, False)
    assert raw["due_acceptance"] == 1 and raw["decided"] == 0
    assert fast == raw
    assert figures(rt, MONDAY, MONDAY + h(24 * 7), LATER, True)["decided"] == 1


def _plan(session, rt, start, end, now):
    from dashboard import kpi
    from dashboard.queries import _summary_plan, area_scope

    return _summary_plan(
        session, kpi.Period.of(start, end, now), area_scope(session, None), None, rt.settings.zone
    )


def test_a_partial_day_is_read_from_the_events(rt, city):
    with rt.sessions() as session:
        start = T0 + h(3)  # 11:00 local on Monday
        first, end, _filters, rest = _plan(session, rt, start, start + h(24 * 2), LATER)
        # Tuesday is the only whole local day; Monday from 11:00 and Wednesday to 11:00 are raw.
        assert (first, end) == ((T0 + h(24)).date(), (T0 + h(48)).date())
        assert [(p.start, p.end) for p in rest] == [
            (start, MONDAY + h(24)),
            (MONDAY + h(48), start + h(48)),
        ]
        assert _plan(session, rt, start, start + h(5), LATER) is None


def test_demo_city_reads_the_same_from_summaries_and_events(rt, clock):
    """The demo city (rebuilt at load), then a live hour on top (kept in step): a week by
    department and by district, from the summaries and from the events."""
    now = clock
    demo.seed_demo(rt, days=10, per_day=400, now=now, progress=lambda _m: None)
    loaded = summary_rows(rt)
    assert loaded
    for minute in range(0, 60, 5):
        demo.simulate_tick(
            rt, now=now + timedelta(minutes=minute), rng=np.random.default_rng(minute)
        )
    later = now + timedelta(hours=1)
    kept = summary_rows(rt)
    assert kept != loaded  # the live hour changed them
    with rt.sessions() as session, session.begin():
        summaries.rebuild(session, rt.settings.zone, later)
    assert summary_rows(rt) == kept
    week = (later - timedelta(days=7), later)
    for by in ("department", "district"):
        fast = figures(rt, *week, later, True, by=by)
        assert fast == figures(rt, *week, later, False, by=by)
        assert fast["due_closing"] > 100


def test_the_upgrade_fills_the_new_read_paths_from_what_is_stored(rt, city):
    """Migration 0007 on a database with history: the summaries without the category are
    filled from kpi_daily, each supervision gets its case's district and category; down and up
    again gives back what the live code wrote."""
    from alembic import command

    from dashboard import supervisions
    from dashboard.db import alembic_config
    from dashboard.models import Supervision

    rt.ingestor.ingest_events(
        [event(f"M{i}", T0 + h(i), f"G{1 + i % 2}1") for i in range(6)], now=LATER
    )
    for i in range(6):
        rt.ingestor.transition_event("grid", f"M{i}", [step("accepted", T0 + h(i + 0.2)), step("dispatched", T0 + h(i + 0.5))], now=LATER)  # fmt: skip
    with rt.sessions() as session, session.begin():
        ids = session.execute(select(Event.id).order_by(Event.id)).scalars().all()
        supervisions.supervise(session, ids[:3], "duty", "请加快", 24, LATER)

    def stored():
        with rt.sessions() as session:
            pressed = session.execute(
                select(
                    Supervision.event_id, Supervision.district_id, Supervision.category_id
                ).order_by(Supervision.id)
            ).all()
        return summary_rows(rt), pressed

    before = stored()
    assert {k[0] for k in before[0]} == {"kpi_daily", "kpi_daily_area"} and len(before[1]) == 3
    config = alembic_config(rt.engine)
    try:
        command.downgrade(config, "0006")
        command.upgrade(config, "head")
    finally:
        command.upgrade(config, "head")
    assert stored() == before


def test_a_deadline_to_come_does_not_keep_a_day_from_the_summaries(rt, city):
    """A case reported and accepted on Monday, due to close days later: on Tuesday
    Monday's rows answer (a deadline is planned, not something that has happened)."""
    from dashboard.clock import local_day

    at = T0 + h(2)
    rt.ingestor.ingest_events([event("DL1", at)], now=at)
    rt.ingestor.transition_event("grid", "DL1", [step("accepted", at + h(1))], now=at + h(1))
    with rt.sessions() as session:
        e = session.execute(select(Event).where(Event.external_id == "DL1")).scalar_one()
        assert e.close_deadline > at + h(24)  # the deadline lies days ahead
        monday = local_day(at, rt.settings.zone)
        counts, latest = summaries.read(session, monday, monday + timedelta(days=1), {}, None)
    assert counts[None]["received"] == 1 and counts[None]["accepted"] == 1
    assert latest == at + h(1)  # the last thing that happened: the 立案
