"""事件详情 (dashboard/views/incident.py, pages/incident.py, callbacks/incident.py): the record
of one incident — its timeline with who, which department and the note; its stages against
their limits; related events; alerts — the page's scope, and the duty actions through its
callbacks, crafted requests included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard import actions
from dashboard.access import Principal
from dashboard.models import Alert, AlertEvent, AuditLog, Event, Supervision
from dashboard.views import incident as view
from tests.conftest import as_role
from tests.dash_requests import call, route
from tests.factories import T0, event, h, step

NOW = T0 + h(24 * 3)  # E2 (dispatched to 城管局, 48 h to close) is overdue by then


def _load(rt) -> dict[str, int]:
    rt.ingestor.ingest_events(
        [
            event("E2", T0 + h(1), "G12", reporter_name="张三", reporter_phone="13812345678"),
            event("R1", T0 + h(2), "G12"),  # same grid and subcategory: related
            event("R2", T0 + h(3), "G12", sub="0201"),  # another subcategory: not related
            event("E4", T0 + h(3), "G21"),  # district 2
        ],
        now=NOW,
    )
    rt.ingestor.transition_event(
        "grid",
        "E2",
        [
            step("accepted", T0 + h(1.5), actor="受理员甲"),
            step("dispatched", T0 + h(2), department="CG", actor="派遣员乙", note="请城管处理"),
        ],
        now=NOW,
    )
    with rt.sessions() as session:
        return dict(session.execute(select(Event.external_id, Event.id)).all())


def _detail(rt, case: int) -> dict:
    with rt.sessions() as session:
        return view.detail(session, session.get(Event, case), NOW, rt.settings.zone)


def test_the_record_holds_the_timeline_stages_related_events_and_alerts(rt, city):
    ids = _load(rt)
    duty = Principal("s", "值班员丙", "duty_officer")
    actions.perform(rt, duty, ids["E2"], "supervise", {"note": "今日回复 13912345678", "reply_hours": 4}, "-", NOW)  # fmt: skip
    actions.perform(rt, duty, ids["E2"], "note", {"text": "已电话联系部门"}, "-", NOW + h(0.1))
    with rt.sessions() as session, session.begin():
        alert = Alert(rule="surge", level=2, title="网格12 市容环境 激增", created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(alert)
        session.flush()
        session.add(AlertEvent(alert_id=alert.id, event_id=ids["E2"]))
    d = _detail(rt, ids["E2"])
    kinds = [(i["kind"], i.get("status"), i["actor"], i["department"]) for i in d["timeline"]]
    assert kinds == [
        ("status", "reported", "grid", None),  # reported through the feed
        ("status", "accepted", "受理员甲", None),
        ("status", "dispatched", "派遣员乙", "城管局"),
        ("supervise", None, "值班员丙", "城管局"),
        ("note", None, "值班员丙", None),
    ]
    assert d["timeline"][2]["note"] == "请城管处理"
    assert "13912345678" not in str(d["timeline"])  # notes masked
    stages = {s["stage"]: s for s in d["stages"]}
    assert stages["accept"]["state"] == "on_time" and stages["dispatch"]["state"] == "on_time"
    assert stages["close"]["state"] == "overdue" and stages["close"]["allowed_hours"] > 0
    assert stages["handle"]["taken_hours"] == pytest.approx(70.0)  # from dispatch to now
    assert d["pressed"] == {"supervise": 1, "urge": 0}
    assert [r["external_id"] for r in d["related"]] == ["R1"]
    assert [a["title"] for a in d["alerts"]] == ["网格12 市容环境 激增"]
    assert d["reporter"] == "张*" and "1234" not in d["reporter_phone"]
    assert d["codes"] == {"district": "339001", "street": "S1", "community": "C1", "grid": "G12", "subcategory": "0101"}  # fmt: skip


@pytest.mark.parametrize(
    ("source", "external_id"),
    [
        ("id", "0"),
        ("id", "x"),
        ("id", str(2**40)),
        ("nope", "E2"),
        ("grid", "E" * 65),
        (None, "E2"),
        ("grid", None),
    ],
)
def test_find_refuses_what_is_no_incident(rt, city, source, external_id):
    _load(rt)
    with rt.sessions() as session:
        assert view.find(session, source, external_id) is None


def test_the_page_shows_an_incident_to_whoever_may_read_it(client, rt, city, time_machine):
    time_machine.move_to(NOW, tick=False)
    _load(rt)
    officer = as_role(client, rt, "district_officer", "339001")
    page = route(officer, "/incident/grid/E2").get_data(as_text=True)
    assert "incident-page" in page and "incident-submit" in page
    other = route(officer, "/incident/grid/E4").get_data(as_text=True)
    assert "incident-refused" in other and "incident-page" not in other
    assert "incident-refused" in route(officer, "/incident/grid/NOPE").get_data(as_text=True)
    assert officer.get("/incident/grid/E4").status_code == 200  # the shell; the layout refuses


def test_a_leader_reads_but_is_offered_no_action_and_a_display_gets_nothing(client, rt, city, time_machine):  # fmt: skip
    time_machine.move_to(NOW, tick=False)
    _load(rt)
    leader = as_role(client, rt, "leader")
    page = route(leader, "/incident/grid/E2").get_data(as_text=True)
    assert "incident-readonly" in page and "incident-submit" not in page
    display = as_role(client.application.test_client(), rt, "display")
    assert display.get("/incident/grid/E2").status_code == 403
    assert route(display, "/incident/grid/E2").status_code == 403


def _show(c, case):
    return call(c, "incident-head", "incident-case.data", {"incident-case.data": case, "incident-lang.data": "zh"})  # fmt: skip


def _act(c, case, action, text=None, hours=24, deadline=None, decision=None):
    return call(
        c,
        "incident-result",
        "incident-submit.n_clicks",
        {
            "incident-submit.n_clicks": 1,
            "incident-action.value": action,
            "incident-text.value": text,
            "incident-hours.value": hours,
            "incident-deadline.value": deadline,
            "incident-decision.value": decision,
            "incident-case.data": case,
            "incident-version.data": 0,
            "incident-lang.data": "zh",
        },
    )


def test_the_callbacks_show_and_act_and_refuse_crafted_requests(client, rt, city, time_machine):
    time_machine.move_to(NOW, tick=False)
    ids = _load(rt)
    duty = as_role(client, rt, "duty_officer")
    r = _show(duty, ids["E2"])
    assert r.status_code == 200 and "已超期" in str(r.json["response"]["incident-head"])
    assert "13812345678" not in r.get_data(as_text=True)
    r = _act(duty, ids["E2"], "supervise", "限今日办结", 6)
    assert r.status_code == 200, r.data[:300]
    assert "已督办" in str(r.json["response"]["incident-result"])
    assert r.json["response"]["incident-version"]["data"] == 1
    assert "督办 ×1" in str(_show(duty, ids["E2"]).json["response"]["incident-head"])
    timeline = _show(duty, ids["E2"]).json["response"]["incident-timeline"]["children"]
    assert "督办" in str(timeline[-1]) and "限今日办结" in str(timeline[-1])
    # reveal: the contact once, then hidden by the timer
    r = _act(duty, ids["E2"], "reveal", "回访核实处理结果")
    assert "13812345678" in str(r.json["response"]["incident-contact"])
    assert r.json["response"]["incident-contact-timer"]["disabled"] is False
    # bad input and wrong states come back as messages, nothing written
    for action, text in [("supervise", ""), ("rework", "现场未整改"), ("delete", "x"), (None, "x"), ({"a": 1}, "x"), ("note", ["x"])]:  # fmt: skip
        r = _act(duty, ids["E2"], action, text)
        assert r.status_code == 200 and "inc-error" in r.get_data(as_text=True), action
    for case in ("1", None, 2**40, True, {"id": 1}):
        assert _show(duty, case).status_code == 204
        assert _act(duty, case, "note", "x").status_code == 200
    assert _act(duty, ids["E2"], "note", "a\x00b").status_code == 400  # the gate: NUL
    r = call(duty, "incident-text.style", "incident-action.value", {"incident-action.value": {"a": 1}})  # fmt: skip
    assert r.status_code == 200
    with rt.sessions() as session:
        assert session.execute(select(func.count()).select_from(Supervision)).scalar() == 1


def test_a_district_officer_cannot_reach_another_district_through_the_callbacks(client, rt, city, time_machine):  # fmt: skip
    time_machine.move_to(NOW, tick=False)
    ids = _load(rt)
    officer = as_role(client, rt, "district_officer", "339001")
    assert _show(officer, ids["E4"]).status_code == 204
    r = _act(officer, ids["E4"], "note", "越区操作")
    assert "inc-error" in r.get_data(as_text=True)
    r = _act(officer, ids["E2"], "extension_request", "需协调产权单位", deadline=(NOW + timedelta(days=5) + h(8)).strftime("%Y-%m-%dT%H:%M"))  # fmt: skip
    assert "延期申请已提交" in str(r.json["response"]["incident-result"])
    leader = as_role(client.application.test_client(), rt, "leader")
    assert "inc-error" in _act(leader, ids["E2"], "note", "领导批示").get_data(as_text=True)
    with rt.sessions() as session:
        actions_logged = session.execute(select(AuditLog.action).where(AuditLog.action.like("event.%"))).scalars().all()  # fmt: skip
    assert actions_logged == ["event.extension_request"]


def test_the_api_timeline_names_who_and_which_department(client, rt, city, time_machine):
    time_machine.move_to(NOW, tick=False)
    _load(rt)
    body = as_role(client, rt, "leader").get("/api/v1/events/grid/E2").get_json()
    dispatched = body["transitions"][2]
    assert (dispatched["to"], dispatched["actor"], dispatched["department"]) == ("dispatched", "派遣员乙", "CG")  # fmt: skip
    assert body["transitions"][1]["department"] is None


def test_a_department_reads_what_it_was_pressed_on_and_replies(client, rt, city, time_machine):
    from dashboard import auth

    time_machine.move_to(NOW, tick=False)
    ids = _load(rt)
    actions.perform(rt, Principal("s", "值班员丙", "duty_officer"), ids["E2"], "urge", {"note": "请加快", "reply_hours": 4}, "-", NOW)  # fmt: skip
    with rt.sessions() as session, session.begin():
        token = auth.create_token(session, "cg-system", "ingest", "department")
    bearer = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/supervisions?department=CG&pending=1", headers=bearer).get_json()
    [item] = listed["items"]
    assert (item["kind"], item["case"], item["note"]) == ("urge", "grid/E2", "请加快")
    assert client.get("/api/v1/supervisions?department=NOPE", headers=bearer).status_code == 400
    url = f"/api/v1/supervisions/{item['id']}/reply"
    for bad in ({}, {"reply": ""}, {"reply": "x" * 2001}, {"reply": "a\u0000b"}, {"reply": 5}):
        assert client.post(url, json=bad, headers=bearer).status_code == 400, bad
    r = client.post(url, json={"reply": "已安排人员今日处理 13812345678"}, headers=bearer)
    assert r.status_code == 200
    assert client.post(url, json={"reply": "再次"}, headers=bearer).status_code == 409
    assert client.post("/api/v1/supervisions/99999/reply", json={"reply": "x"}, headers=bearer).status_code == 404  # fmt: skip
    assert client.get("/api/v1/supervisions?department=CG&pending=1", headers=bearer).get_json()["items"] == []  # fmt: skip
    [pressed] = [i for i in _detail(rt, ids["E2"])["timeline"] if i["kind"] == "urge"]
    assert (
        pressed["reply"].startswith("已安排人员今日处理") and "13812345678" not in pressed["reply"]
    )
    with rt.sessions() as session:
        assert session.execute(select(func.count()).where(AuditLog.action == "urge.reply")).scalar() == 1  # fmt: skip
