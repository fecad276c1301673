"""KPI definitions (DESIGN §5) on a hand-built case whose answers are worked out by hand."""

from __future__ import annotations

import pytest

from dashboard import kpi
from dashboard.queries import kpi_report
from tests.factories import T0, event, h, step

# Subcategory 0101: dispatch 1 h, handling 24 h, closing 48 h after 立案; 0201: 2 / 72 / 120 h.
EVENTS = [
    event("E1", T0, "G11"),
    event("E2", T0 + h(2), "G12"),
    event("E3", T0 + h(3), "G21"),
    event("E4", T0 + h(60), "G22"),
    event("E5", T0 + h(1), "G22", sub="0201"),
    event("E6", T0 - h(24), "G12", sub="0201"),
    event("E8", T0 + h(1), "G21", sub="0201"),
    event("E9", T0 + h(40), "G11"),  # 重复诉求: E1 in the same grid and subcategory
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
    r = report(loaded, T0, T0 + h(168), now=T0 + h(72))
    assert r["cutoff"] == (T0 + h(72)).isoformat() + "Z"
    expected = {
        "received": 7,
        "accepted": 5,
        "dispatched": 4,
        "dispatched_on_time": 3,
        "due_handling": 4,
        "handled": 3,
        "handled_on_time": 2,
        "due_closing": 4,
        "closed": 3,
        "closed_on_time": 2,
        "returned": 1,
        "overdue_open": 1,
        "rated": 3,
        "disputes_closed": 2,
    }
    assert {k: r[k] for k in expected} == expected
    assert r["acceptance_rate"] == pytest.approx(5 / 7)
    assert r["timely_dispatch_rate"] == pytest.approx(3 / 4)
    assert r["handling_rate"] == pytest.approx(3 / 4)
    assert r["on_time_handling_rate"] == pytest.approx(2 / 4)
    assert r["closing_rate"] == pytest.approx(3 / 4)
    assert r["on_time_closing_rate"] == pytest.approx(2 / 4)
    assert r["rework_rate"] == pytest.approx(1 / 3)
    assert r["satisfaction_rate"] == pytest.approx(2 / 3)
    assert r["grassroots_resolution_rate"] == pytest.approx(1 / 2)
    assert r["mediation_success_rate"] == pytest.approx(1 / 2)
    assert r["repeat_rate"] == pytest.approx(1 / 7)
    # dispatched → first resolved, for events resolved in P: E1 8.5, E2 26, E8 18, E6 27 hours.
    assert r["handling_hours_mean"] == pytest.approx((8.5 + 26 + 18 + 27) / 4)
    assert r["handling_hours_median"] == pytest.approx(22)
    assert r["handling_hours_p90"] == pytest.approx(26.7)
    # 40·0.5 + 20·0.75 + 20·(2/3) + 10·(1 − 1/3) + 10·0.75 = 62.5
    assert r["composite_score"] == pytest.approx(62.5)
    assert 0 <= r["wuzhi_index"]["total"] <= 100


def test_period_that_starts_mid_week(loaded):
    """Cohort by acceptance time; closures and durations by their own time; overdue any cohort."""
    r = report(loaded, T0 + h(48), T0 + h(168), now=T0 + h(72))
    assert r["received"] == 1  # E4
    assert r["accepted"] == 1  # E4 (accepted T0+60h)
    assert r["due_closing"] == 0 and r["on_time_closing_rate"] is None
    assert r["rated"] == 1 and r["satisfaction_rate"] == 0.0  # E2 closed at T0+60h, dissatisfied
    assert r["handling_hours_mean"] is None  # nothing first resolved in the period
    assert r["overdue_open"] == 1  # E3, accepted before the period


def test_past_period_is_cut_at_its_end(loaded):
    """A closed period counts only what had happened by its end, whatever happened later."""
    r = report(loaded, T0, T0 + h(24), now=LATER)
    assert r["cutoff"] == (T0 + h(24)).isoformat() + "Z"
    # Cohort E1 E2 E3 E8; by T0+24h only E1 and E8 were resolved, only E1 closed.
    assert (r["accepted"], r["handled"], r["closed"]) == (4, 2, 1)
    # Due handling: E1, E8 (resolved by T); E2's deadline T0+26h and E3's T0+27h lie after T.
    assert r["due_handling"] == 2
    assert r["returned"] == 0  # E2 was returned at T0+31h, after the period


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
    ranked = [x for x in rows if x["rank"] is not None]
    assert [x["rank"] for x in ranked] == list(range(1, len(ranked) + 1))
    scores = [x["composite_score"] for x in ranked]
    assert scores == sorted(scores, reverse=True)


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
def test_ratio_and_percentile():
    assert kpi.ratio(1, 0) is None and kpi.ratio(0, 4) == 0.0
    assert kpi.percentile([], 0.5) is None
    assert kpi.percentile([5.0], 0.9) == 5.0
    assert kpi.percentile([1, 2, 3, 4], 0.5) == 2.5


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


def test_rank_puts_unscored_last():
    rows = kpi.rank([{"composite_score": None}, {"composite_score": 50}, {"composite_score": 90}])
    assert [r["rank"] for r in rows] == [1, 2, None]
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
