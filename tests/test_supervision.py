"""督办考核 (dashboard.views.supervision, dashboard.supervisions, callbacks/supervision.py):
periods, the figures against kpi_report, the 红黑榜, overdue cases and the batch 督办."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import supervisions
from dashboard.models import AuditLog, Event, Supervision
from dashboard.queries import area_scope, kpi_report
from dashboard.schemas import InputError
from dashboard.views import supervision as view
from tests.conftest import as_role
from tests.dash_requests import call
from tests.factories import T0, four_cases, h

ZONE_NOW = T0 + h(24 * 2 + 4)  # Wednesday 12:00 local, in the week of T0 (Monday 08:00 local)


def test_periods_are_local_days_and_compare_at_the_same_point(rt):
    zone = rt.settings.zone
    w = view.window("this_week", None, None, ZONE_NOW, zone)
    monday = T0 - h(8)  # local midnight
    assert (w.start, w.end, w.cutoff) == (monday, monday + h(24 * 7), ZONE_NOW)
    # The week before, cut at the same point of the week.
    assert (w.previous_start, w.previous_end) == (monday - h(24 * 7), ZONE_NOW - h(24 * 7))
    last = view.window("last_week", None, None, ZONE_NOW, zone)
    assert (last.start, last.end, last.cutoff) == (monday - h(168), monday, monday)
    assert (last.previous_start, last.previous_end) == (monday - h(336), monday - h(168))
    month = view.window("this_month", None, None, ZONE_NOW, zone)
    assert (month.first_day, month.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    custom = view.window("custom", "2026-10-01", "2026-10-31", ZONE_NOW, zone)
    assert custom.end - custom.start == timedelta(days=31)
    assert custom.previous_end == custom.start  # a past period: the whole one before


@pytest.mark.parametrize(
    ("choice", "first", "last", "field"),
    [
        ("yesterday", None, None, "period"),
        ("custom", "2026-13-01", "2026-10-02", "from"),
        ("custom", "2026-10-05", "2026-10-01", "to"),
        ("custom", "2024-01-01", "2026-10-01", "to"),
        ("custom", "2027-01-01", "2027-01-02", "from"),
        ("custom", {"x": 1}, "2026-10-01", "from"),
    ],
)
def test_bad_periods_are_named(rt, choice, first, last, field):
    with pytest.raises(InputError) as exc:
        view.window(choice, first, last, ZONE_NOW, rt.settings.zone)
    assert field in exc.value.errors


def _load(rt):
    """E1 closed on time; E2 overdue at 城管局 (0101, 48 h to close); E3 a mediated dispute
    settled in its community (people's mediation); E4 a dispute mediated at the district."""
    four_cases(rt, ZONE_NOW)


def test_report_matches_the_kpi_functions(rt, city):
    _load(rt)
    zone = rt.settings.zone
    w = view.window("this_week", None, None, ZONE_NOW, zone)
    with rt.sessions() as session:
        r = view.report(session, w, None, ZONE_NOW, zone)
        direct = kpi_report(session, w.start, w.end, ZONE_NOW, zone=zone)
    cards = {c["key"]: c for c in r["cards"]}
    for key in ("on_time_closing_rate", "closing_rate", "composite_score", "received"):
        assert cards[key]["value"] == direct[key]
    assert cards["received"]["value"] == 4 and cards["received"]["previous"] == 0
    assert cards["received"]["change"] == 4
    assert cards["overdue_open"]["value"] == 1 and cards["overdue_open"]["standing"] is None
    # Departments: 城管局 (E1, E2) and 司法局 (E3, E4): every component, few cases each.
    names = {row["name"] for row in r["departments"]}
    assert {"城管局", "司法局"} <= names
    assert all(row["rank"] is None and row["small_sample"] for row in r["departments"])
    # 就地化解: one dispute settled in its community, one at the district.
    shares = {x["level"]: x["share"] for x in r["grassroots"]}
    assert shares["community"] == 0.5 and shares["district"] == 0.5 and shares["grid"] == 0.0
    kinds = {x["type"]: (x["n"], x["success"]) for x in r["mediation"]}
    assert kinds == {"people": (1, 1), "administrative": (0, 0), "judicial": (1, 0)}
    # E2 is overdue (48 h after 立案 at T0 + 1.5 h); at 城管局, not yet supervised.
    overdue = r["overdue"]
    assert overdue["total"] == 1
    assert overdue["by_department"][0]["department"] == "城管局"
    case = overdue["cases"][0]
    assert case["case"] == "grid/E2" and case["overdue_days"] == pytest.approx(
        (ZONE_NOW - (T0 + h(49.5))).total_seconds() / 86400, abs=0.05
    )
    # 五治: every indicator with its value, target, weight and score.
    assert {i["key"] for i in r["wuzhi"]["indicators"]} >= {"timely_dispatch_rate"}
    assert all(i["weight"] == 20.0 for i in r["wuzhi"]["indicators"])


def test_a_district_sees_its_own_numbers(rt, city):
    _load(rt)
    zone = rt.settings.zone
    w = view.window("this_week", None, None, ZONE_NOW, zone)
    with rt.sessions() as session:
        r = view.report(session, w, "339002", ZONE_NOW, zone)
    cards = {c["key"]: c["value"] for c in r["cards"]}
    assert cards["received"] == 2  # E3, E4
    assert [d["code"] for d in r["districts"]] == ["339002"]
    assert r["overdue"]["total"] == 0


def test_trends_cover_twelve_whole_weeks(rt, city):
    _load(rt)
    with rt.sessions() as session:
        series = view.trends(session, ZONE_NOW + h(24 * 7), rt.settings.zone)
    weeks = series["weeks"]
    assert len(weeks) == 12 and weeks[-1]["week"] == "2026-W45"
    assert weeks[-1]["due_closing"] >= 3 and weeks[-1]["on_time_closing_rate"] is not None
    assert all(w["due_closing"] == 0 for w in weeks[:-1])


def _overdue_id(rt) -> int:
    with rt.sessions() as session:
        return session.execute(select(Event.id).where(Event.external_id == "E2")).scalar_one()


def test_batch_supervision_writes_a_record_per_case_and_audits(rt, city):
    _load(rt)
    case = _overdue_id(rt)
    with rt.sessions() as session, session.begin():
        sent = supervisions.supervise(
            session, [case], "duty1", "请于今日内回复 13812345678", 24, ZONE_NOW, "10.0.0.9"
        )
    with rt.sessions() as session:
        rows = session.execute(select(Supervision)).scalars().all()
        audit = session.execute(
            select(AuditLog).where(AuditLog.action == "supervision.batch")
        ).scalar_one()
        e = session.get(Event, case)
        figures = kpi_report(
            session, T0 - h(8), T0 + h(160), ZONE_NOW + h(1), zone=rt.settings.zone
        )
    assert sent["count"] == 1 and len(rows) == 1
    assert rows[0].reply_due_at == ZONE_NOW + h(24) and rows[0].batch == sent["batch"]
    assert e.supervised_at == ZONE_NOW
    assert "13812345678" not in audit.detail and f"ids={case}" in audit.detail
    assert figures["supervised"] == 1


@pytest.mark.parametrize(
    ("ids", "note", "hours", "field"),
    [
        ([], "x", 24, "events"),
        (["1"], "x", 24, "events"),
        ([2**40], "x", 24, "events"),
        ([True], "x", 24, "events"),
        (list(range(1, 600)), "x", 24, "events"),
        ([999], "x", 24, "events"),
        (None, "x", 24, "events"),
        ("CASE", "", 24, "note"),
        ("CASE", "a\x00b", 24, "note"),
        ("CASE", "长" * 501, 24, "note"),
        ("CASE", "x", 0, "reply_hours"),
        ("CASE", "x", 10_000, "reply_hours"),
        ("CASE", "x", "24", "reply_hours"),
        ("CLOSED", "x", 24, "events"),
    ],
)
def test_bad_supervisions_change_nothing(rt, city, ids, note, hours, field):
    _load(rt)
    with rt.sessions() as session:
        closed = session.execute(select(Event.id).where(Event.external_id == "E1")).scalar_one()
    if isinstance(ids, str):
        ids = {"CASE": [_overdue_id(rt)], "CLOSED": [_overdue_id(rt), closed]}[ids]
    with pytest.raises(InputError) as exc, rt.sessions() as session, session.begin():
        supervisions.supervise(session, ids, "duty1", note, hours, ZONE_NOW)
    assert field in exc.value.errors
    with rt.sessions() as session:
        assert session.execute(select(func.count()).select_from(Supervision)).scalar() == 0
        assert session.get(Event, _overdue_id(rt)).supervised_at is None


def test_a_district_officer_supervises_only_in_its_district(rt, city):
    _load(rt)
    with rt.sessions() as session:
        other = area_scope(session, "339002").id
    with pytest.raises(InputError) as exc, rt.sessions() as session, session.begin():
        supervisions.supervise(
            session, [_overdue_id(rt)], "d2", "x", 24, ZONE_NOW, district_id=other
        )
    assert "district" in exc.value.errors["events"]


# --- callbacks ----------------------------------------------------------------------------
def test_callbacks_answer_and_refuse_crafted_input(client, rt, city, time_machine):
    time_machine.move_to(datetime(2026, 11, 4, 12, 0), tick=False)  # naive: UTC, after ZONE_NOW
    _load(rt)
    duty = as_role(client, rt, "duty_officer")
    r = call(
        duty,
        "supervision-cards",
        "supervision-period.value",
        {"supervision-period.value": "this_week", "shell-lang.data": "zh"},
    )
    assert r.status_code == 200, r.data[:300]
    cards = r.json["response"]["supervision-cards"]["children"]
    assert len(cards) == len(view.CARDS)
    rows = r.json["response"]["supervision-overdue-cases"]["rowData"]
    assert [x["case"] for x in rows] == ["grid/E2"]
    for bad in ({"a": 1}, ["last_week"], "custom"):
        r = call(duty, "supervision-cards", "supervision-period.value", {"supervision-period.value": bad})  # fmt: skip
        assert r.status_code in (200, 204), r.data[:300]
    r = call(
        duty,
        "supervision-send-result",
        "supervision-send.n_clicks",
        {
            "supervision-send.n_clicks": 1,
            "supervision-overdue-cases.selectedRows": [{"id": rows[0]["id"]}],
            "supervision-send-note.value": "限期办结",
            "supervision-send-hours.value": 12,
        },
    )
    assert r.status_code == 200 and "已督办 1 件" in str(r.json["response"])
    for selected in ("x", [{"id": "1; drop"}], [{"id": 2**40}], [None]):
        r = call(
            duty,
            "supervision-send-result",
            "supervision-send.n_clicks",
            {
                "supervision-send.n_clicks": 2,
                "supervision-overdue-cases.selectedRows": selected,
                "supervision-send-note.value": "x",
                "supervision-send-hours.value": 12,
            },
        )
        assert r.status_code == 200 and "events" in str(r.json["response"])
    with rt.sessions() as session:
        assert session.execute(select(func.count()).select_from(Supervision)).scalar() == 1


def test_a_leader_sees_the_page_but_cannot_supervise(client, rt, city, time_machine):
    time_machine.move_to(datetime(2026, 11, 4, 12, 0), tick=False)
    _load(rt)
    leader = as_role(client, rt, "leader")
    r = call(
        leader,
        "supervision-send-result",
        "supervision-send.n_clicks",
        {
            "supervision-send.n_clicks": 1,
            "supervision-overdue-cases.selectedRows": [{"id": _overdue_id(rt)}],
            "supervision-send-note.value": "x",
            "supervision-send-hours.value": 12,
        },
    )
    assert r.status_code == 200 and "不能督办" in str(r.json["response"])
    with rt.sessions() as session:
        assert session.execute(select(func.count()).select_from(Supervision)).scalar() == 0
