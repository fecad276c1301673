"""KPI definitions (DESIGN §5) on a hand-built case whose answers are worked out by hand."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import kpi
from dashboard.queries import kpi_report
from tests.factories import T0, event, h, step

# Calendar hours (tests/factories.py). 0101: 立案 1 h after the report, dispatch 1 h after 立案,
# handling 24 h after dispatch, closing 48 h after 立案. 0201: 1 / 2 / 72 / 120 h.
EVENTS = [
    event("E1", T0, "G11", address="幸福路 1 号"),
    event("E2", T0 + h(2), "G12"),
    event("E3", T0 + h(3), "G21"),
    event("E4", T0 + h(60), "G22"),
    event("E5", T0 + h(1), "G22", sub="0201"),
    event("E6", T0 - h(24), "G12", sub="0201"),
    event("E8", T0 + h(1), "G21", sub="0201"),
    event("E9", T0 + h(40), "G11", address="幸福路1号"),  # 重复诉求: E1's matter at E1's address
    event("E10", T0 + h(80), "G12", sub="1001"),  # after the cut-off
]
STEPS = {
    "E1": [
        step("accepted", T0 + h(1)),
        step("dispatched", T0 + h(1.5)),
        step("in_progress", T0 + h(2)),
        step("resolved", T0 + h(10)),
        step("closed", T0 + h(20), satisfaction="satisfied"),
    ],
    "E2": [
        step("accepted", T0 + h(2)),
        step("dispatched", T0 + h(4)),
        step("in_progress", T0 + h(5)),
        step("resolved", T0 + h(30)),
        step("returned", T0 + h(31)),
        step("in_progress", T0 + h(32)),
        step("resolved", T0 + h(33)),
        step("closed", T0 + h(60), satisfaction="dissatisfied"),
    ],
    "E3": [step("accepted", T0 + h(3)), step("dispatched", T0 + h(3.5))],
    "E4": [step("accepted", T0 + h(60))],
    "E5": [step("rejected", T0 + h(2))],
    "E6": [
        step("accepted", T0 - h(23)),
        step("dispatched", T0 - h(22)),
        step("in_progress", T0 - h(21)),
        step("resolved", T0 + h(5), resolved_level="community", mediation_result="success"),
        step("closed", T0 + h(6), satisfaction="basically_satisfied"),
    ],
    "E8": [
        step("accepted", T0 + h(1)),
        step("dispatched", T0 + h(2)),
        step("in_progress", T0 + h(3)),
        step("resolved", T0 + h(20), resolved_level="district", mediation_result="failed"),
        step("closed", T0 + h(30)),
    ],
    "E10": [step("accepted", T0 + h(80)), step("dispatched", T0 + h(80.5))],
}
LATER = T0 + h(24 * 30)
ADDITIVE = (
    "received", "accepted", "due_acceptance", "accepted_on_time", "due_dispatch", "dispatched",
    "dispatched_on_time", "due_handling", "handled", "handled_on_time", "due_closing", "closed",
    "closed_on_time", "extended", "resolutions", "returned", "rated", "disputes_closed",
    "mediated", "repeats",
)  # fmt: skip


@pytest.fixture
def loaded(rt, city):
    results = rt.ingestor.ingest_events(EVENTS, now=LATER)
    assert [r.status for r in results] == ["created"] * len(EVENTS)
    for ext, steps in STEPS.items():
        rt.ingestor.transition_event("grid", ext, steps, now=LATER)
    return rt


def report(rt, start, end, now, **kw):
    with rt.sessions() as session:
        return kpi_report(session, start, end, now, zone=rt.settings.zone, **kw)


def test_week_figures(loaded):
    """Each step counts where it falls due: the earlier of meeting it and its deadline.

    Due (hours after T0)  立案          派遣            处置                  结案
    E1                    1 on time     1.5 on time     10 on time            20 on time
    E2                    2 on time     3 (late at 4)   28 (stood at 33)      50 (late at 60)
    E3                    3 on time     3.5 on time     27.5 (not resolved)   51 (open)
    E4                    60 on time    61 (not yet)    — (not dispatched)    108 (after T)
    E5 (rejected)         2 on time     —               —                     —
    E6 (from before)      −23           −22             5 on time             6 on time
    E8                    1 on time     2 on time       20 on time            30 on time
    E9                    41 (pending)  —               —                     —
    """
    r = report(loaded, T0, T0 + h(168), now=T0 + h(72))
    assert r["cutoff"] == (T0 + h(72)).isoformat() + "Z"
    expected = {
        "received": 7,
        "accepted": 5,
        "due_acceptance": 7,
        "accepted_on_time": 6,
        "due_dispatch": 5,
        "dispatched": 4,
        "dispatched_on_time": 3,
        "due_handling": 5,
        "handled": 4,
        "handled_on_time": 3,
        "due_closing": 5,
        "closed": 4,
        "closed_on_time": 3,
        "extended": 0,
        "resolutions": 4,
        "returned": 1,
        "overdue_open": 1,
        "rated": 3,
        "disputes_closed": 2,
        "repeats": 1,
    }
    assert {k: r[k] for k in expected} == expected
    assert r["acceptance_rate"] == pytest.approx(5 / 7)
    assert r["timely_acceptance_rate"] == pytest.approx(6 / 7)
    assert r["timely_dispatch_rate"] == pytest.approx(3 / 5)  # E4 is due, undispatched: late
    assert r["handling_rate"] == pytest.approx(4 / 5)
    assert r["on_time_handling_rate"] == pytest.approx(3 / 5)  # E2's first resolution was undone
    assert r["closing_rate"] == pytest.approx(4 / 5)
    assert r["on_time_closing_rate"] == pytest.approx(3 / 5)
    assert r["extension_rate"] == 0.0
    assert r["rework_rate"] == pytest.approx(1 / 4)
    assert r["satisfaction_rate"] == pytest.approx(2 / 3)
    assert r["grassroots_resolution_rate"] == pytest.approx(1 / 2)
    assert r["mediation_success_rate"] == pytest.approx(1 / 2)
    assert r["repeat_rate"] == pytest.approx(1 / 7)
    # dispatched → first resolved, for events resolved in P: E1 8.5, E2 26, E8 18, E6 27 hours.
    assert r["handling_hours_mean"] == pytest.approx((8.5 + 26 + 18 + 27) / 4)
    # Read from the steps of kpi.HANDLING_STEPS_H: 8.5 in [8, 9), 18 in [18, 20), 26 and 27 in
    # [24, 28). Median: rank 2 of 4 ends the step [18, 20) → 20. P90: rank 3.6 is 1.6 of the 2
    # in [24, 28) → 24 + 4 × 0.8 = 27.2.
    assert r["handling_samples"] == 4
    assert r["handling_hours_median"] == pytest.approx(20)
    assert r["handling_hours_p90"] == pytest.approx(27.2)
    # 40·0.6 + 20·0.8 + 20·(2/3) + 10·(1 − 1/4) + 10·0.6 = 66.83
    assert r["composite_score"] == pytest.approx(24 + 16 + 40 / 3 + 7.5 + 6)
    assert 0 <= r["wuzhi_index"]["total"] <= 100


def test_period_that_starts_mid_week(loaded):
    """Cases accepted before the period count where they fall due; overdue any cohort."""
    r = report(loaded, T0 + h(48), T0 + h(168), now=T0 + h(72))
    assert r["received"] == 1  # E4
    assert r["accepted"] == 1  # E4 (accepted T0+60h)
    # E2 (due T0+50h, closed late at T0+60h) and E3 (due T0+51h, open), both accepted earlier.
    assert (r["due_closing"], r["closed"], r["closed_on_time"]) == (2, 1, 0)
    assert r["on_time_closing_rate"] == 0.0
    assert r["rated"] == 1 and r["satisfaction_rate"] == 0.0  # E2 closed at T0+60h, dissatisfied
    assert r["handling_hours_mean"] is None  # nothing first resolved in the period
    assert r["overdue_open"] == 1  # E3, accepted before the period


def test_a_past_period_counts_what_fell_due_in_it(loaded):
    """A closed period counts the cases that fell due in it, met or not as things stand."""
    r = report(loaded, T0, T0 + h(24), now=LATER)
    assert r["cutoff"] == (T0 + h(24)).isoformat() + "Z"
    assert r["accepted"] == 4  # E1 E2 E3 E8
    # Handling due by T0+24h: E1 (10), E6 (5), E8 (20); E2 (28) and E3 (27.5) fall due later.
    assert (r["due_handling"], r["handled"]) == (3, 3)
    assert (r["due_closing"], r["closed"]) == (2, 2)  # E6 (6), E1 (20)
    assert r["returned"] == 0  # E2 was returned at T0+31h, after the period


def test_counts_of_the_parts_add_up_to_the_whole(loaded):
    """Cut a week anywhere: every count of the parts adds up to the week's (all in the past)."""
    week = report(loaded, T0 - h(24), T0 + h(144), now=LATER)
    cuts = [T0 - h(24), T0 + h(2), T0 + h(27.7), T0 + h(50), T0 + h(144)]
    parts = [report(loaded, a, b, now=LATER) for a, b in pairwise(cuts)]
    for name in ADDITIVE:
        assert sum(p[name] for p in parts) == week[name], name
    assert week["due_closing"] == 7  # E1 E2 E3 E4 E6 E8 and E10 (due T0+104h)


def test_area_and_department_filters(loaded):
    d1 = report(loaded, T0, T0 + h(168), now=T0 + h(72), area="339001")
    d2 = report(loaded, T0, T0 + h(168), now=T0 + h(72), area="339002")
    assert (d1["received"], d2["received"]) == (3, 4)
    grid = report(loaded, T0, T0 + h(168), now=T0 + h(72), area="G11")
    assert grid["received"] == 2 and grid["repeat_rate"] == pytest.approx(1 / 2)
    cg = report(loaded, T0, T0 + h(168), now=T0 + h(72), department="CG")
    assert cg["accepted"] == 3  # E1 E2 E3 were dispatched to 城管局
    assert cg["wuzhi_index"] is None  # the 五治 index belongs to areas, not departments


def test_breakdown_sums_to_total_and_is_ranked(loaded):
    r = report(loaded, T0, T0 + h(168), now=T0 + h(72), by="district")
    rows = r["breakdown"]
    assert [x["code"] for x in rows if x["code"]] and len(rows) == 2
    for name in ("received", "accepted", "closed", "due_closing", "overdue_open"):
        assert sum(x[name] for x in rows) == r[name]
    # A handful of cases each: shown with their n, neither at the top nor the bottom.
    assert all(x["small_sample"] and x["rank"] is None for x in rows)
    assert all(x["due_closing"] < kpi.MIN_SAMPLE for x in rows)


def test_zero_denominators_are_none(rt, city):
    r = report(rt, T0, T0 + h(168), now=T0 + h(72))
    assert r["received"] == 0
    for name in (
        "acceptance_rate",
        "timely_dispatch_rate",
        "closing_rate",
        "on_time_closing_rate",
        "satisfaction_rate",
        "rework_rate",
        "repeat_rate",
        "handling_hours_mean",
        "composite_score",
    ):
        assert r[name] is None, name


def test_unknown_filters_are_input_errors(rt, city):
    from dashboard.schemas import InputError

    with pytest.raises(InputError) as exc:
        report(rt, T0, T0 + h(1), now=T0, area="nope")
    assert "area" in exc.value.errors
    with pytest.raises(InputError):
        report(rt, T0, T0 + h(1), now=T0, by="street")


# --- pure functions -----------------------------------------------------------------------
def test_ratio_and_histogram_quantile():
    assert kpi.ratio(1, 0) is None and kpi.ratio(0, 4) == 0.0
    steps = len(kpi.HISTOGRAM)
    assert kpi.histogram_quantile([0] * steps, 0.5) is None
    one = [0] * steps
    one[kpi.handling_bucket(5 * 3600)] = 1  # 5 h lies in the step [5, 6)
    assert kpi.handling_bucket(5 * 3600) == kpi.handling_bucket(6 * 3600 - 1)
    assert kpi.handling_bucket(6 * 3600) == kpi.handling_bucket(5 * 3600) + 1
    assert kpi.histogram_quantile(one, 0.5) == pytest.approx(5.5)
    assert kpi.histogram_quantile(one, 1.0) == pytest.approx(6)
    beyond = [0] * steps
    beyond[-1] = 3  # past the last edge: its lower edge, not an invented upper one
    assert kpi.histogram_quantile(beyond, 0.9) == kpi.HANDLING_STEPS_H[-1]


def test_composite_leaves_out_missing_components():
    figures = {
        "on_time_closing_rate": 0.5,
        "closing_rate": None,
        "satisfaction_rate": 1.0,
        "rework_rate": 0.2,
        "timely_dispatch_rate": None,
    }
    # (40·0.5 + 20·1.0 + 10·0.8) / 70
    assert kpi.composite_score(figures) == pytest.approx(100 * 48 / 70)
    assert kpi.composite_score({}) is None


def test_wuzhi_scores_show_their_working():
    values = {i.key: i.target for i in kpi.WUZHI_INDICATORS}
    values["party_member_share"] = kpi.WUZHI_INDICATORS[0].target / 2  # half the target → 50
    values["feed_uptime"] = None  # no data: left out of its dimension
    out = kpi.wuzhi_index(kpi.WuzhiInputs(values))
    assert out["political"] == pytest.approx((50 + 100) / 2)
    assert out["smart"] == pytest.approx(100)
    assert out["total"] == pytest.approx((75 + 100 * 4) / 5)
    feed = next(i for i in out["indicators"] if i["key"] == "feed_uptime")
    assert feed["score"] is None and feed["target"] > 0


def test_rank_puts_unscored_and_small_samples_last():
    rows = kpi.rank(
        [
            {"composite_score": None, "due_closing": 50},
            {"composite_score": 50, "due_closing": 50},
            {"composite_score": 99, "due_closing": 1},  # one case: shown, not ranked
            {"composite_score": 90, "due_closing": kpi.MIN_SAMPLE},
        ]
    )
    assert [(r["composite_score"], r["rank"]) for r in rows] == [
        (90, 1),
        (50, 2),
        (99, None),
        (None, None),
    ]
    assert [r["small_sample"] for r in rows] == [False, False, True, False]
    assert rows[0]["composite_score"] == 90


def test_wuzhi_activities_are_counted_by_local_day(rt, city):
    """A local week (Monday 00:00 to Monday 00:00, Asia/Shanghai) counts the activities dated
    on its own seven days: read in UTC dates it took the Sunday before too (8 days, scaled as
    7), and the activity indicators came out high."""
    from datetime import date, datetime

    from dashboard.models import Activity
    from dashboard.queries import kpi_report

    with rt.sessions() as session, session.begin():
        for day in (date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 8), date(2026, 11, 9)):
            session.add(Activity(type="consultation", area_id=4, district_id=2, date=day))
    start, end = datetime(2026, 11, 1, 16), datetime(2026, 11, 8, 16)  # local Mon → Mon, UTC
    with rt.sessions() as session:
        report = kpi_report(session, start, end, datetime(2026, 11, 20))
    value = next(
        i["value"]
        for i in report["wuzhi_index"]["indicators"]
        if i["key"] == "consultations_per_10k"
    )
    # Two consultations (the Monday and the last Sunday) for 40,000 residents, per 30 days.
    assert value == pytest.approx(2 / 40_000 * 10_000 * 30 / 7)


def test_each_districts_wuzhi_is_the_same_in_the_breakdown_as_on_its_own(loaded):
    """The breakdown by district reads the 五治 groundwork of all districts at once (staff,
    activities, population): each district's index equals the one its own report gives."""
    from dashboard.models import Activity, Staff

    with loaded.sessions() as session, session.begin():
        for i, (area, district, party) in enumerate(((5, 2, True), (6, 2, False), (10, 7, True))):
            session.add(Staff(staff_no=f"W{i}", name="网格员", role="grid_fulltime", area_id=area,
                              district_id=district, party_member=party))  # fmt: skip
        day = (T0 + h(30)).date()
        for kind, district, led, hours in (("consultation", 2, True, 0), ("consultation", 7, False, 0),
                                           ("legal_education", 7, False, 3.5), ("volunteer", 2, False, 12)):  # fmt: skip
            session.add(Activity(type=kind, area_id=district, district_id=district, date=day,
                                 party_led=led, volunteer_hours=hours))  # fmt: skip
    whole = report(loaded, T0, T0 + h(168), now=T0 + h(72), by="district")
    assert {r["code"] for r in whole["breakdown"]} == {"339001", "339002"}
    for row in whole["breakdown"]:
        alone = report(loaded, T0, T0 + h(168), now=T0 + h(72), area=row["code"])
        assert row["wuzhi_index"] == alone["wuzhi_index"]
    values = {
        r["code"]: {i["key"]: i["value"] for i in r["wuzhi_index"]["indicators"]}
        for r in whole["breakdown"]
    }
    assert (
        values["339001"]["party_member_share"] == 0.5 and values["339002"]["party_led_share"] == 0
    )
    assert values["339001"]["party_led_share"] == 1.0
    city = {i["key"]: i["value"] for i in whole["wuzhi_index"]["indicators"]}
    assert city["party_member_share"] == pytest.approx(2 / 3)
    assert city["party_led_share"] == pytest.approx(1 / 2)


# --- properties of the falling-due basis ---------------------------------------------------
def _lifecycle(at, close_after: float, dispatch_after: float = 0.5) -> list[dict]:
    """Accepted at `at`, dispatched, resolved an hour before closing, closed `close_after`
    hours after 立案."""
    return [
        step("accepted", at),
        step("dispatched", at + h(dispatch_after)),
        step("in_progress", at + h(dispatch_after + 0.1)),
        step("resolved", at + h(close_after - 1)),
        step("closed", at + h(close_after), satisfaction="satisfied"),
    ]


def test_on_time_closing_rate_does_not_depend_on_the_period_length(rt, city):
    """A steady stream (the same day repeated): a day, a week and four weeks read the same rate.
    On the old cohort basis a day read high: the slow cases of its cohort fell due after it."""
    pattern = [10, 30, 50, 70, 20, 40, 60, 45]  # hours to close, one case every 3 hours
    start = T0 - h(24 * 14)
    items, steps = [], {}
    for day in range(50):
        for k, close_after in enumerate(pattern):
            at = start + h(24 * day + 3 * k)
            ext = f"S{day:02d}{k}"
            items.append(event(ext, at))
            steps[ext] = _lifecycle(at, close_after)
    later = T0 + h(24 * 60)
    rt.ingestor.ingest_events(items, now=later)
    for ext, lifecycle in steps.items():
        rt.ingestor.transition_event("grid", ext, lifecycle, now=later)
    day = report(rt, T0 + h(24 * 10), T0 + h(24 * 11), now=later)
    week = report(rt, T0 + h(24 * 7), T0 + h(24 * 14), now=later)
    month = report(rt, T0, T0 + h(24 * 28), now=later)
    assert day["due_closing"] == 8 and week["due_closing"] == 56 and month["due_closing"] == 224
    # Five of the eight cases close within their 48 hours, every day.
    for r in (day, week, month):
        assert r["on_time_closing_rate"] == pytest.approx(5 / 8)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cases=st.lists(
        st.tuples(
            st.floats(0, 24 * 27, allow_nan=False),  # reported, hours into the month
            st.floats(0.1, 120, allow_nan=False),  # hours to close after 立案
            st.floats(0.05, 5, allow_nan=False),  # hours to dispatch
            st.booleans(),  # closed at all
        ),
        min_size=1,
        max_size=12,
    ),
    cuts=st.lists(st.floats(1, 24 * 30 - 1, allow_nan=False), min_size=1, max_size=5),
)
def test_counts_of_any_split_of_a_month_add_up(rt, city, cases, cuts):
    """Random histories, random cuts: every additive count of the parts sums to the month's."""
    global _batch
    _batch += 1
    items, steps = [], {}
    for n, (rep, close_after, dispatch_after, closes) in enumerate(cases):
        ext = f"H{_batch}-{n}"
        at = T0 + h(rep)
        items.append(event(ext, at))
        lifecycle = _lifecycle(at + h(0.2), max(close_after, dispatch_after + 1.2), dispatch_after)
        steps[ext] = lifecycle if closes else lifecycle[:3]
    rt.ingestor.ingest_events(items, now=AFTER_THE_MONTH)
    for ext, lifecycle in steps.items():
        rt.ingestor.transition_event("grid", ext, lifecycle, now=AFTER_THE_MONTH)
    edges = [T0, *sorted(T0 + h(c) for c in set(cuts)), T0 + h(24 * 30)]
    month = report(rt, edges[0], edges[-1], now=AFTER_THE_MONTH)
    parts = [report(rt, a, b, now=AFTER_THE_MONTH) for a, b in pairwise(edges) if b > a]
    for name in ADDITIVE:
        assert sum(p[name] for p in parts) == month[name], name


_batch = 0
AFTER_THE_MONTH = T0 + h(24 * 40)  # every case of the month has finished by then


def test_feed_uptime_counts_the_working_hours_each_sensor_feed_sent_data(rt, city):
    """感知数据在线率: of the hours 08–20 local in P, the share in which each sensor feed
    (video, IoT) reported; measured from the first hour kept."""
    from datetime import datetime

    from dashboard.models import RollupHourly
    from dashboard.queries import feed_uptime

    day = datetime(2026, 11, 2, 16)  # local Tuesday 00:00 (UTC+8)
    local = lambda hour: day + h(hour)  # noqa: E731

    def row(hour, source, status="reported"):
        return RollupHourly(hour=local(hour), district_id=2, category_id=1, source=source,
                            status=status, count=1)  # fmt: skip

    with rt.sessions() as session, session.begin():
        session.add_all([row(3, "video")])  # kept from 03:00; outside the working hours
        session.add_all([row(hour, "video") for hour in (8, 9, 10, 13, 17, 19)])
        session.add_all([row(hour, "iot") for hour in (8, 12, 20)])  # 20:00 is past the hours
        session.add_all([row(11, "grid"), row(14, "video", "accepted")])  # neither counts
    with rt.sessions() as session:
        whole = feed_uptime(session, kpi.Period.of(day, day + h(24), day + h(48)), rt.settings.zone)
        later = feed_uptime(session, kpi.Period.of(day - h(24), day + h(24), day + h(48)), rt.settings.zone)  # fmt: skip
        empty = feed_uptime(session, kpi.Period.of(day + h(20.2), day + h(20.7), day + h(48)), rt.settings.zone)  # fmt: skip
    assert whole == pytest.approx((6 + 2) / (12 * 2))
    assert later == whole  # the day before is not kept: not counted as silent
    assert empty is None  # no working hour in P


def test_a_community_has_its_figures_and_its_wuzhi(loaded):
    """A community's report: its events, and its staff and activities — those of the community
    and of its grids (they know no community column of their own; this answered 500)."""
    from dashboard.models import Activity, Staff

    with loaded.sessions() as session, session.begin():
        for i, (area, party) in enumerate(((4, True), (5, False), (6, True), (10, True))):
            session.add(Staff(staff_no=f"C{i}", name="网格员", role="grid_fulltime", area_id=area,
                              district_id=2 if area < 7 else 7, party_member=party))  # fmt: skip
        session.add(Activity(type="consultation", area_id=5, district_id=2, date=(T0 + h(30)).date(), party_led=True))  # fmt: skip
    r = report(loaded, T0, T0 + h(168), now=T0 + h(72), area="C1")
    grids = report(loaded, T0, T0 + h(168), now=T0 + h(72), area="G11")["received"]
    grids += report(loaded, T0, T0 + h(168), now=T0 + h(72), area="G12")["received"]
    assert r["area"] == "C1" and r["received"] == grids == 3
    values = {i["key"]: i["value"] for i in r["wuzhi_index"]["indicators"]}
    assert values["party_member_share"] == pytest.approx(2 / 3)  # area 10 is another district's
    assert values["party_led_share"] == 1.0
