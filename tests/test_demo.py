"""The demo city: its shape, the consistency of its history, and the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from dashboard import demo, reconcile, risk
from dashboard.demo import simulator
from dashboard.domain import NEXT
from dashboard.models import (
    Activity,
    Area,
    Category,
    Department,
    Event,
    Staff,
    TimeLimit,
    Transition,
)
from dashboard.queries import kpi_report


@pytest.fixture
def seeded(rt, clock):
    now = clock
    summary = demo.seed_demo(rt, days=10, per_day=600, now=now, progress=lambda _m: None)
    return rt, now, summary


def test_city_shape(seeded):
    rt, _now, summary = seeded
    assert summary["districts"] == 8 and summary["streets"] == 64
    assert 350 <= summary["communities"] <= 450 and 2500 <= summary["grids"] <= 3500
    assert 3000 <= summary["staff"] <= 4000
    with rt.sessions() as s:
        for level in ("district", "street"):
            shapes = s.execute(select(Area.boundary).where(Area.level == level)).scalars().all()
            for raw in shapes:
                ring = json.loads(raw)["coordinates"][0]
                assert ring[0] == ring[-1] and len(ring) >= 9
        pop_city = s.execute(select(Area.population).where(Area.level == "city")).scalar()
        pop_grids = s.execute(
            select(func.sum(Area.population)).where(Area.level == "grid")
        ).scalar()
        assert pop_city == pop_grids > 2_000_000
        roles = dict(s.execute(select(Staff.role, func.count()).group_by(Staff.role)).all())
        assert set(roles) == {
            "grid_fulltime",
            "grid_parttime",
            "social_worker",
            "mediator",
            "governance_officer",
            "it_admin",
        }
        assert s.execute(select(func.count()).select_from(Activity)).scalar() > 500


def test_history_follows_the_lifecycle(seeded):
    rt, now, summary = seeded
    with rt.sessions() as s:
        pairs = s.execute(select(Transition.from_status, Transition.to_status).distinct()).all()
        for frm, to in pairs:
            assert (frm is None and to == "reported") or to in NEXT[frm], (frm, to)
        # Each event's status is the target of its last transition, and nothing lies ahead.
        last = (
            select(Transition.event_id, func.max(Transition.at).label("at"))
            .group_by(Transition.event_id)
            .subquery()
        )
        mismatched = s.execute(
            select(func.count())
            .select_from(Event)
            .join(last, last.c.event_id == Event.id)
            .where(last.c.at != Event.last_transition_at)
        ).scalar()
        assert mismatched == 0
        assert s.execute(select(func.max(Transition.at))).scalar() <= now
        assert (
            s.execute(select(func.count()).select_from(Transition)).scalar()
            == summary["transitions"]
        )


def test_category_mix_and_differing_departments(seeded):
    rt, now, _ = seeded
    with rt.sessions() as s:
        mix = s.execute(
            select(Category.name, func.count())
            .join(Event, Event.category_id == Category.id)
            .group_by(Category.name)
            .order_by(func.count().desc())
        ).all()
        assert [m[0] for m in mix[:2]] == ["市容环境", "矛盾纠纷"]
        assert len(mix) >= 8  # the long tail
        r = kpi_report(
            s, now - timedelta(days=10), now, now, by="department", zone=rt.settings.zone
        )
    rates = {row["code"]: row["on_time_closing_rate"] for row in r["breakdown"] if row["code"]}
    assert rates["ZJ"] < rates["GA"] - 0.05  # 住建局 runs late, 公安局 is quick
    assert 0.0 < r["on_time_closing_rate"] < 1.0


def test_surges_are_there(seeded):
    rt, now, _ = seeded
    with rt.sessions() as s:
        wage = s.execute(
            select(Event.grid_id, func.count())
            .join(Category, Category.id == Event.subcategory_id)
            .where(Category.code == "0601", Event.reported_at >= now - timedelta(days=3))
            .group_by(Event.grid_id)
            .order_by(func.count().desc())
        ).first()
    assert wage[1] >= 50  # the wage dispute at one site


def test_severities_and_limits_are_plausible(seeded):
    rt, _now, _ = seeded
    with rt.sessions() as s:
        by = dict(s.execute(select(Event.severity, func.count()).group_by(Event.severity)).all())
        grave_subs = set(
            s.execute(
                select(Category.code)
                .join(Event, Event.subcategory_id == Category.id)
                .where(Event.severity >= 3)
                .distinct()
            ).scalars()
        )
        limits = {
            (sev, step): (amount, unit)
            for sev, step, amount, unit in s.execute(
                select(TimeLimit.severity, TimeLimit.step, TimeLimit.amount, TimeLimit.unit)
                .join(Category, Category.id == TimeLimit.category_id)
                .where(Category.code == "1001")
            )
        }
    total = sum(by.values())
    assert (by.get(3, 0) + by.get(4, 0)) / total < 0.003  # 重大 and above are rare …
    assert grave_subs <= {"1001", "1002", "1003", "0403", "0404", "0504"}  # … and come from few
    assert by[2] / total < 0.08
    # A grave case is taken up sooner, never done sooner.
    assert limits[(4, "accept")][0] <= limits[(1, "accept")][0]
    assert limits[(4, "close")] == limits[(1, "close")]
    assert limits[(4, "handle")] == limits[(1, "handle")]


def test_bureaus_handle_through_their_district_branches(seeded):
    rt, _now, _ = seeded
    with rt.sessions() as session:
        units = session.execute(
            select(Department.code, Department.name, Department.district_id).where(
                Department.parent_id.is_not(None)
            )
        ).all()
        cg = session.execute(select(Department.id).where(Department.code == "CG")).scalar_one()
        handled = session.execute(
            select(Event.district_id, Department.district_id, Department.parent_id)
            .join(Department, Department.id == Event.unit_id)
            .where(Event.department_id == cg)
        ).all()
        without = session.execute(
            select(func.count()).where(
                Event.department_id == cg, Event.unit_id.is_(None), Event.dispatched_at.is_not(None)
            )
        ).scalar()
    assert len(units) == 4 * 8 and ("CG-339001", "青云区城管局") in {(c, n) for c, n, _d in units}
    assert handled and all(ed == ud and p == cg for ed, ud, p in handled)  # its own district's
    assert without == 0


def test_grid_workers_patrol_by_day(seeded):
    rt, now, _ = seeded
    offset = rt.settings.zone.utcoffset(now)
    with rt.sessions() as s:
        times = s.execute(select(Event.reported_at).where(Event.source == "grid")).scalars()
        hours = [(t + offset).hour for t in times]
    assert hours and all(7 <= h < 20 for h in hours)


def test_the_planted_incidents_are_what_the_risk_rules_find(seeded):
    rt, now, _ = seeded
    with rt.sessions() as s:
        risk.load_rules(s, now)
        found = {}
        for rule in risk.rules(s):
            if rule.family in risk.PERIODIC:
                for f in risk.PERIODIC[rule.family](s, rule, now):
                    found.setdefault(rule.key, []).append(f)
        compound = [f for f in found.get("surge.place", []) if f.evidence["count"] >= 8]
        assert compound, found.get("surge.place")  # the compound calling about its parking
        titles = s.execute(select(Event.title).where(Event.id.in_(compound[0].event_ids)))
        assert all("停车位" in t for t in titles.scalars())
        callers = found.get("repeat.reporter", [])
        assert any(f.evidence["count"] >= 5 for f in callers)  # one resident, again and again
        backlog = {f.subject for f in found.get("backlog.department", [])}
        sw = s.execute(select(Department.id).where(Department.code == "SW")).scalar_one()
        assert f"department:{sw}" in backlog  # 水务局 falling behind
        # The sensors' feed is silent. This city is a fifth of the demo's size and ten days
        # old: the rule is asked about the one week it has, at a fifth of the usual volume.
        (silence,) = risk.rules(s, "feed_silence")
        small = risk.Rule(silence.key, silence.family, silence.name, {**silence.params})
        small.params.update(weeks=1, min_usual=silence.params["min_usual"] / 5)
        assert {f.subject for f in risk.silences(s, small, now)} == {"source:iot"}
        # One street of 望湖区 short of grid workers: the lowest share on duty in the city.
        (short,) = risk.rules(s, "staffing")
        every = risk.Rule(short.key, short.family, short.name, {**short.params})
        every.params["levels"] = [{"level": 4, "max_share": 10.0, "min_open": 0}]
        shares = sorted((f.evidence["share"], f.district_id) for f in risk.staffing(s, every, now, rt.settings.zone))  # fmt: skip
        wanghu = s.execute(select(Area.id).where(Area.name == "望湖区")).scalar_one()
        assert shares[0][1] == wanghu and shares[0][0] <= 0.35 < shares[1][0]


def test_the_simulator_plants_a_burst_in_each_three_daytime_hours():
    day = datetime(2026, 11, 25, 8, 0)
    minutes = [day + timedelta(minutes=m) for m in range(12 * 60)]
    bursts = [(t, b) for t in minutes if (b := simulator._burst_of(t)) is not None]
    assert len({b.seed for _t, b in bursts}) == 4  # 08–20 h: four three-hour blocks
    assert len(bursts) == 4 * 30  # half an hour each
    assert all(simulator._burst_of(t.replace(hour=3)) is None for t, _b in bursts)


def test_live_state_after_seed_matches_sql(seeded):
    rt, _now, _ = seeded
    assert reconcile.reconcile(rt) == []
    assert rt.live.gauges()["open"] > 0


def test_simulator_posts_through_ingest(seeded, time_machine):
    rt, now, _ = seeded  # a working morning: the busiest hours of the day
    rt.settings = rt.settings.with_overrides(simulator_rate=600)
    before = rt.live.version()
    later = now + timedelta(minutes=5)
    time_machine.move_to(later.replace(tzinfo=UTC), tick=False)
    out = demo.simulate_tick(rt, rng=np.random.default_rng(1))
    assert out["created"] > 20 and out["moved"] > 0
    assert rt.live.version() > before
    with rt.sessions() as s:
        sim = s.execute(select(func.count()).where(Event.external_id.like("SIM-%"))).scalar()
    assert sim == out["created"]
    assert reconcile.reconcile(rt) == []
    # Just after midnight the city is quiet: the same generator posts far fewer events.
    night = now + timedelta(hours=14, minutes=-29)  # 00:01 local
    time_machine.move_to(night.replace(tzinfo=UTC), tick=False)
    quiet = demo.simulate_tick(rt, rng=np.random.default_rng(1))
    assert quiet["created"] < out["created"] / 3
    assert reconcile.reconcile(rt) == []


def test_seeding_twice_is_refused(seeded):
    rt, _now, _ = seeded
    with pytest.raises(RuntimeError):
        demo.seed_demo(rt, days=1, per_day=10, progress=lambda _m: None)
