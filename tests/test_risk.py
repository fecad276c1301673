"""Risk rules (dashboard/risk.py) on constructed data: the shipped rules load once, the immediate
rules fire on their events, one open alert per (rule, area, subject) whose level only rises, an
unacknowledged alert clears itself, and a surge fires on a burst but not on a usual busy hour."""

from __future__ import annotations

from datetime import timedelta

import orjson
from sqlalchemy import func, select, update

from dashboard import alerts, risk
from dashboard.models import Alert, AlertEvent, Event, RiskRule
from tests.factories import T0, event, h, shift, staff

NOW = T0 + h(24 * 29)  # four weeks and a day of history before it


def _rules(rt) -> None:
    with rt.sessions() as session, session.begin():
        risk.load_rules(session, NOW)


def _events(rt, ids: list[str]) -> list[Event]:
    with rt.sessions() as session:
        found = session.execute(select(Event).where(Event.external_id.in_(ids))).scalars().all()
        session.expunge_all()
        return found


def test_the_shipped_rules_load_once_and_keep_an_admins_changes(rt, city):
    with rt.sessions() as session, session.begin():
        added = risk.load_rules(session, NOW)
        session.execute(update(RiskRule).where(RiskRule.key == "keywords").values(params='{"words": ["漏水"], "level": 4}'))  # fmt: skip
    assert added == len(risk.shipped()) >= 4
    with rt.sessions() as session, session.begin():
        assert risk.load_rules(session, NOW) == 0
        [kw] = risk.rules(session, "keywords")
    assert kw.params["words"] == ["漏水"]


def test_major_events_and_sensitive_words_fire_at_once(rt, city):
    _rules(rt)
    rt.ingestor.ingest_events(
        [
            event("M1", NOW, "G11", severity=3),
            event("M2", NOW, "G12", sub="1001"),  # 群体性事件: sensitive
            event("M3", NOW, "G21", title="多名工人聚集讨薪"),
            event("M4", NOW, "G22"),
        ],
        now=NOW,
    )
    with rt.sessions() as session:
        found = risk.at_ingest(session, _events(rt, ["M1", "M2", "M3", "M4"]))
    by_event = {(f.rule, f.event_ids[0]): f.level for f in found}
    ids = {e.external_id: e.id for e in _events(rt, ["M1", "M2", "M3", "M4"])}
    assert by_event[("major", ids["M1"])] == 2  # 重大 → 橙
    assert by_event[("major", ids["M2"])] == 2  # sensitive → 橙
    assert by_event[("keywords", ids["M3"])] == 3
    assert not any(e == ids["M4"] for _r, e in by_event)


def test_one_open_alert_per_rule_area_and_subject_whose_level_only_rises(rt, city):
    _rules(rt)
    rt.ingestor.ingest_events([event("A1", NOW, "G11"), event("A2", NOW, "G11")], now=NOW)
    a1, a2 = (e.id for e in sorted(_events(rt, ["A1", "A2"]), key=lambda e: e.external_id))
    finding = risk.Finding("surge.grid", 3, "grid:G11|sub:2", "网格11 暴露垃圾 激增", 4, 2, {"count": 5}, [a1])  # fmt: skip
    with rt.sessions() as session, session.begin():
        first = risk.record(session, finding, NOW).id
        risk.record(session, risk.Finding(**{**finding.__dict__, "level": 4, "event_ids": [a1, a2]}), NOW + h(0.1))  # fmt: skip
    with rt.sessions() as session, session.begin():
        risk.record(session, risk.Finding(**{**finding.__dict__, "level": 1}), NOW + h(0.2))
    with rt.sessions() as session:
        [alert] = session.execute(select(Alert)).scalars().all()
        links = session.execute(select(AlertEvent.event_id).where(AlertEvent.alert_id == first)).scalars().all()  # fmt: skip
    assert (alert.id, alert.level, alert.hits) == (first, 1, 3)
    assert sorted(links) == sorted([a1, a2])


def test_an_alert_nobody_acknowledged_clears_itself_once_gone(rt, city):
    _rules(rt)
    base = risk.Finding("keywords", 3, "event:1", "敏感词", None, None, {})
    with rt.sessions() as session, session.begin():
        stale = risk.record(session, base, NOW).id
        kept = risk.record(session, risk.Finding(**{**base.__dict__, "subject": "event:2"}), NOW).id  # fmt: skip
        alerts.act(session, kept, "ack", "duty1")
    with rt.sessions() as session, session.begin():
        assert risk.clear_stale(session, NOW + timedelta(minutes=719)) == 0
        assert risk.clear_stale(session, NOW + timedelta(minutes=721)) == 1
    with rt.sessions() as session:
        states = dict(session.execute(select(Alert.id, Alert.state)).all())
    assert states == {stale: "resolved", kept: "acknowledged"}


def _history(rt, hour_offsets: list[float], grid: str, address: str, prefix: str) -> None:
    rt.ingestor.ingest_events(
        [
            event(f"{prefix}{i}", NOW + h(dh), grid, address=address)
            for i, dh in enumerate(hour_offsets)
        ],
        now=NOW,
    )


def test_a_burst_from_one_compound_fires_and_a_usual_busy_hour_does_not(rt, city):
    _rules(rt)
    # quiet history: one report a week from 兰园小区, at other hours
    _history(rt, [-24 * 7 * k - 30 for k in range(1, 5)], "G11", "兰园小区3栋", "Q")
    # a burst: six reports about the same thing from the same compound within the last hour
    _history(rt, [-0.9, -0.7, -0.5, -0.4, -0.2, -0.1], "G11", "兰园小区3栋", "B")
    # a busy place where five an hour at this hour of the week is usual
    busy = [-24 * 7 * k - 0.5 + i * 0.1 for k in range(1, 5) for i in range(5)] + [-0.5, -0.4, -0.3, -0.2, -0.1]  # fmt: skip
    _history(rt, busy, "G21", "菜市场北门", "U")
    with rt.sessions() as session, session.begin():
        result = risk.evaluate(session, NOW)
    with rt.sessions() as session:
        fired = session.execute(select(Alert)).scalars().all()
        linked = session.execute(select(func.count()).select_from(AlertEvent)).scalar()
    places = {a.rule: a for a in fired if a.rule.startswith("surge.")}
    assert set(places) == {"surge.place"}, [(a.rule, a.title) for a in fired]
    alert = places["surge.place"]
    evidence = orjson.loads(alert.evidence)
    assert evidence["count"] == 6 and evidence["same_window_past_weeks"] == [0, 0, 0, 0]
    assert alert.level == 3
    assert linked == 6  # six a week is not yet a repeat (seven is): the surge alone
    assert result["alerts"] == 1
    # evaluated again a minute later: the same alert, one more hit, nothing new
    with rt.sessions() as session, session.begin():
        risk.evaluate(session, NOW + timedelta(minutes=1))
    with rt.sessions() as session:
        assert session.execute(select(Alert.hits).where(Alert.rule == "surge.place")).scalars().all() == [2]  # fmt: skip


def test_repeats_backlogs_and_silent_feeds(rt, city):
    from tests.factories import step

    _rules(rt)
    # the same matter in G12 nine times this week (黄), and one caller five times this month
    rt.ingestor.ingest_events([event(f"R{i}", NOW - h(18 * i + 3), "G12") for i in range(9)], now=NOW)  # fmt: skip
    rt.ingestor.ingest_events(
        [
            event(
                f"P{i}",
                NOW - h(24 * 5 * i + 2),
                "G21",
                sub="0201",
                source="hotline",
                reporter_phone="13812345678",
            )
            for i in range(5)
        ],
        now=NOW,
    )
    # 城管局: 31 cases dispatched long ago, all overdue now (蓝: ≥ 30 and ≥ 10 %)
    old = NOW - h(24 * 10)
    rt.ingestor.ingest_events([event(f"D{i}", old, "G11", source="video") for i in range(31)], now=NOW)  # fmt: skip
    for i in range(31):
        rt.ingestor.transition_event("video", f"D{i}", [step("accepted", old + h(0.1)), step("dispatched", old + h(0.2))], now=NOW)  # fmt: skip
    # the grid feed sent 4 reports in this half hour in each of the last four weeks, none today
    rt.ingestor.ingest_events(
        [
            event(f"S{k}{i}", NOW - h(24 * 7 * k) - timedelta(minutes=5 * i + 1), "G22")
            for k in range(1, 5)
            for i in range(4)
        ],
        now=NOW,
    )
    with rt.sessions() as session, session.begin():
        risk.evaluate(session, NOW)
    with rt.sessions() as session:
        fired = {(a.rule, a.subject.split("|")[0].split(":")[0]): a for a in session.execute(select(Alert)).scalars()}  # fmt: skip
    assert fired[("repeat.grid", "grid")].level == 3
    assert fired[("repeat.reporter", "reporter")].level == 3  # five in 30 days
    assert "13812345678" not in fired[("repeat.reporter", "reporter")].subject
    assert fired[("backlog.department", "department")].level == 4
    assert orjson.loads(fired[("backlog.department", "department")].evidence)["overdue"] == 31
    assert fired[("feed_silence", "source")].subject == "source:grid"
    assert ("feed_silence", "source") in fired and len([k for k in fired if k[0] == "feed_silence"]) == 1  # fmt: skip


def test_quiet_data_raises_nothing(rt, city):
    _rules(rt)
    # a steady trickle: a report every six hours somewhere in the city, for four weeks and a
    # day (each grid and subcategory about three times a week)
    grids = ["G11", "G12", "G21", "G22", "G12", "G11", "G22", "G21"]
    rt.ingestor.ingest_events([event(f"T{i}", NOW - h(6 * i + 0.5), grids[i % 8], sub=("0101", "0201")[i % 2]) for i in range(4 * 29)], now=NOW)  # fmt: skip
    with rt.sessions() as session, session.begin():
        result = risk.evaluate(session, NOW)
    assert result == {"found": 0, "alerts": 0, "cleared": 0}


def test_a_street_short_of_grid_workers_on_duty_with_many_open_cases(rt, city):
    _rules(rt)
    zone = rt.settings.zone
    with rt.sessions() as session, session.begin():
        rows = [  # street S1 (G11, G12): one by day, none by night; S2 (G21, G22): two by day
            ("G11", "grid_fulltime", "on_duty", "day"),
            ("G12", "grid_fulltime", "leave", "day"),
            ("G21", "grid_fulltime", "on_duty", "day"),
            ("G22", "grid_fulltime", "on_duty", "day"),
            ("G22", "grid_parttime", "on_duty", "night"),
        ]
        for i, (grid, role, status, kind) in enumerate(rows):
            person = staff(session, f"S{i}", grid, role, status)
            # the rota: 08:00–20:00 local from NOW, or 20:00–08:00 the night before it; the
            # one on leave is on the rota but never checks in
            start = NOW if kind == "day" else NOW - h(12)
            came = None if status == "leave" else start - h(0.25)
            shift(session, person, start, 12, checked_in=came, kind=kind)
    rt.ingestor.ingest_events([event(f"O{i}", NOW - h(1), ("G11", "G21")[i % 2]) for i in range(12)], now=NOW)  # fmt: skip
    params = {"per_grid": 1.0, "night_factor": 0.5, "day_hours": [8, 20],
              "levels": [{"level": 4, "max_share": 0.6, "min_open": 5}, {"level": 3, "max_share": 0.1, "min_open": 6}]}  # fmt: skip
    rule = risk.Rule("staffing.street", "staffing", "街道网格力量不足", params)
    with rt.sessions() as session:
        day = risk.staffing(session, rule, NOW, zone)  # 08:00 local: the day shift
        night = risk.staffing(session, rule, NOW - h(9), zone)  # 23:00 local
        quiet = risk.staffing(session, risk.Rule(rule.key, rule.family, rule.name, {**params, "levels": [{"level": 4, "max_share": 0.6, "min_open": 7}]}), NOW, zone)  # fmt: skip
    assert [(f.subject, f.level, f.evidence["on_duty"], f.evidence["standard"]) for f in day] == [("street:3", 4, 1, 2.0)]  # fmt: skip
    # By night S1 has nobody (红-ish share 0 → 黄 here); S2 has its one night worker of one.
    assert [(f.subject, f.level, f.evidence["shift"]) for f in night] == [("street:3", 3, "night")]
    assert quiet == []  # six open cases are not "many" when seven are asked for


def test_a_compound_is_every_building_of_it():
    from dashboard.repeats import compound_key, place_key

    same = ["兰园小区3栋2单元", "兰园小区 5 栋", "兰园小区１２栋（东门）", "兰园小区"]
    assert len({compound_key(a) for a in same}) == 1 and len({place_key(a) for a in same}) == 4
    assert compound_key("桂园小区3栋") != compound_key("兰园小区3栋")
    assert compound_key("锦绣花园8号楼") == compound_key("锦绣花园12号楼")
    # no compound named: each address its own
    assert compound_key("春庭社区18号") != compound_key("春庭社区19号")
    assert compound_key(None) is None and compound_key(" ") is None


def test_a_burst_across_the_buildings_of_one_compound_fires(rt, city):
    _rules(rt)
    buildings = [f"兰园小区{b}栋" for b in (1, 3, 5, 7, 9, 11)]
    rt.ingestor.ingest_events(
        [
            event(f"C{i}", NOW - h(0.8 - 0.12 * i), "G11", address=b)
            for i, b in enumerate(buildings)
        ],
        now=NOW,
    )
    with rt.sessions() as session, session.begin():
        risk.evaluate(session, NOW)
    with rt.sessions() as session:
        fired = session.execute(select(Alert.rule, Alert.subject)).all()
    assert [(r, s.split(":")[0]) for r, s in fired] == [("surge.place", "compound")]
