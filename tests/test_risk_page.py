"""风险预警 (dashboard/views/risk.py, pages/risk.py, callbacks/risk.py): the evidence of an alert
against its baseline, heat and hotspots; the page's callbacks showing, acting and issuing a
notice by role and district, and refusing crafted requests."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import func, select

from dashboard import jobs, risk
from dashboard.models import Alert, AuditLog, WorkNotice
from dashboard.views import risk as view
from tests.conftest import as_role
from tests.dash_requests import call, route
from tests.factories import T0, event, h, step

NOW = T0 + h(24 * 29 + 3)  # Wednesday 11:00 local, four weeks of history behind it


def _burst(rt) -> int:
    """A compound's residents calling within the hour, against one call at that hour in two of
    the four weeks before: the place surge fires."""
    with rt.sessions() as session, session.begin():
        risk.load_rules(session, NOW)
    past = [event(f"P{w}", NOW - timedelta(days=7 * w, minutes=30), "G12", sub="0201", address="一号院") for w in (1, 2)]  # fmt: skip
    now = [event(f"B{i}", NOW - timedelta(minutes=55 - 6 * i), "G12", sub="0201", address="一号院") for i in range(9)]  # fmt: skip
    rt.ingestor.ingest_events(past + now, now=NOW)
    for i in range(3):
        rt.ingestor.transition_event(
            "grid",
            f"B{i}",
            [step("accepted", NOW), step("dispatched", NOW, department="SF")],
            now=NOW,
        )
    jobs.risk_evaluation(rt, now=NOW)
    with rt.sessions() as session:
        return session.execute(select(Alert.id).where(Alert.rule == "surge.place")).scalar_one()


def test_the_evidence_is_the_series_against_the_same_hours_of_past_weeks(rt, city):
    alert_id = _burst(rt)
    with rt.sessions() as session:
        d = view.detail(session, session.get(Alert, alert_id), NOW, rt.settings.zone)
        heat = {r["code"]: r for r in view.heat(session)}
        hot = view.hotspots(session, NOW)
    s = d["series"]
    assert len(s["x"]) == 24 and s["unit"] == "hour"
    assert s["y"][-1] + s["y"][-2] == 9  # the burst, in the last hour or two
    at = s["high"].index(1)  # the hour of the past calls: one in two weeks of four
    assert (s["low"][at], s["mean"][at], s["high"][at]) == (0, 0.5, 1) and sum(s["high"]) == 1
    assert d["events"] == 9 and len(d["events_rows"]) == 9
    assert d["history"][0]["to"] == "active"
    # Heat: district 1 holds the alert(s), district 2 none.
    assert heat["339001"]["heat"] >= 2 and heat["339002"]["heat"] == 0
    assert hot[0]["community"] == "第1社区" and hot[0]["disputes"] == 11


def _page(client, path="/risk", search=""):
    return route(client, path, search).get_data(as_text=True)


def _show(c, alert_id):
    return call(c, "risk-detail.children", "risk-selected.data", {"risk-selected.data": alert_id, "risk-lang.data": "zh"})  # fmt: skip


def _act(c, alert_id, action, note=None, **more):
    values = {
        "risk-submit.n_clicks": 1,
        "risk-action.value": action,
        "risk-note.value": note,
        "risk-selected.data": alert_id,
        "risk-version.data": 0,
        "risk-lang.data": "zh",
        **more,
    }
    return call(c, "risk-result.children", "risk-submit.n_clicks", values)


def _issue(c, alert_id, **fields):
    values = {
        "risk-notice-issue.n_clicks": 1,
        "risk-notice-title.value": "关于一号院邻里纠纷的工作提示",
        "risk-notice-dept.value": "SF",
        "risk-notice-deadline.value": (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "risk-selected.data": alert_id,
        "risk-version.data": 0,
        "risk-lang.data": "zh",
        **fields,
    }
    return call(c, "risk-notice-result.children", "risk-notice-issue.n_clicks", values)


def test_the_page_lists_shows_acts_and_issues_a_notice(client, rt, city, time_machine):
    time_machine.move_to(NOW.replace(tzinfo=UTC), tick=False)
    alert_id = _burst(rt)
    duty = as_role(client, rt, "duty_officer")
    page = _page(duty)
    assert "risk-cards" in page and "risk-act-form" in page
    body = {"risk-level.value": 0, "risk-period.value": "30d", "risk-lang.data": "zh"}
    r = call(duty, "risk-cards.children", "risk-level.value", body)
    cards = str(r.json["response"]["risk-cards"]["children"])
    assert r.status_code == 200 and "同一小区同类诉求激增" in cards
    assert r.json["response"]["risk-selected"]["data"] == alert_id  # the worst one is shown
    r = _show(duty, alert_id)
    assert "邻里纠纷 9 件/60 分钟" in str(r.json["response"]["risk-detail"]["children"])
    evidence = r.json["response"]["risk-evidence"]["figure"]["data"]
    assert sum(evidence[-1]["y"]) == 9 and len(evidence) == 4  # bars, band edges and mean
    assert len(r.json["response"]["risk-events"]["rowData"]) == 9
    r = _act(duty, alert_id, "ack", "值班员已认领")
    assert "已认领" in str(r.json["response"]["risk-result"]) and r.json["response"]["risk-version"]["data"] == 1  # fmt: skip
    r = _issue(duty, alert_id)
    assert "覆盖 9 件事件" in str(r.json["response"]["risk-notice-result"]), r.data[:400]
    with rt.sessions() as session:
        notice = session.execute(select(WorkNotice)).scalar_one()
        state = session.get(Alert, alert_id).state
    assert notice.alert_id == alert_id and state == "handling"
    # an alert judged on the state now (a backlog) says its evidence instead of a series
    with rt.sessions() as session, session.begin():
        backlog = risk.record(session, risk.Finding("backlog.department", 4, "department:2", "部门超期积压：司法局", None, None, {"overdue": 31, "open": 40}), NOW).id  # fmt: skip
    r = _show(duty, backlog)
    assert "超期 31 · 在办 40" in str(r.json["response"]["risk-detail"]["children"])
    assert "证据见上方" in str(r.json["response"]["risk-evidence"]["figure"])
    r = call(duty, "risk-notices.rowData", "risk-notice-query.value", {"risk-notice-query.value": "一号院", "risk-lang.data": "zh"})  # fmt: skip
    assert [n["number"] for n in r.json["response"]["risk-notices"]["rowData"]] == [notice.number]


def test_roles_districts_and_crafted_requests(client, rt, city, time_machine):
    time_machine.move_to(NOW.replace(tzinfo=UTC), tick=False)
    alert_id = _burst(rt)
    leader = as_role(client, rt, "leader")
    assert "risk-readonly" in _page(leader)
    r = _act(leader, alert_id, "ack")
    assert "inc-error" in r.get_data(as_text=True)  # a leader looks, does not act
    r = _issue(leader, alert_id)
    assert "inc-error" in r.get_data(as_text=True)
    other = as_role(client.application.test_client(), rt, "district_officer", "339002")
    assert _show(other, alert_id).json["response"]["risk-events"]["rowData"] == []
    assert "inc-error" in _act(other, alert_id, "ack").get_data(as_text=True)
    duty = as_role(client.application.test_client(), rt, "duty_officer")
    crafted = [
        ("ack", {"risk-selected.data": "1"}),
        ("ack", {"risk-selected.data": True}),
        ("ack", {"risk-version.data": "x"}),
    ]
    for action, values in crafted:
        assert _act(duty, alert_id, action, **values).status_code == 204
    for action, note in [(["ack"], None), ({"a": 1}, None), ("explode", None), ("dismiss", None),
                         ("note", "x" * 2001), ("note", ["x"]), ("assign", None)]:  # fmt: skip
        r = _act(duty, alert_id, action, note)
        assert r.status_code == 200 and "inc-error" in r.get_data(as_text=True), action
    assert _act(duty, alert_id, "note", "a\x00b").status_code == 400  # the gate: NUL
    for fields in ({"risk-notice-deadline.value": "tomorrow"}, {"risk-notice-title.value": ""},
                   {"risk-notice-dept.value": {"x": 1}}, {"risk-notice-deadline.value": None}):  # fmt: skip
        r = _issue(duty, alert_id, **fields)
        assert r.status_code == 200 and "inc-error" in r.get_data(as_text=True), fields
    with rt.sessions() as session:
        assert session.execute(select(func.count()).select_from(WorkNotice)).scalar() == 0
        acted = session.execute(select(AuditLog.action).where(AuditLog.action.like("alert.%"))).scalars().all()  # fmt: skip
        assert acted == [] and session.get(Alert, alert_id).state == "active"
