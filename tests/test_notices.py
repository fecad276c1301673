"""The alert workflow (assign, notes, escalation of a red alert nobody took up), the rules run by
the scheduler and at ingest, and 工作提示单: issued from an alert or from events, replied to,
sent back, accepted — with the covered cases resolved — under the roles and district scope."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import alerts, jobs, notices, reconcile, risk
from dashboard.access import ScopeError
from dashboard.models import (
    Alert,
    AlertEvent,
    AlertHistory,
    AuditLog,
    Event,
    EventNote,
    Transition,
    WorkNotice,
    WorkNoticeEvent,
)
from dashboard.schemas import ConflictError, InputError
from tests.conftest import as_role, rt_client
from tests.factories import T0, event, h, step

NOW = T0 + h(24 * 29)


def _rules(rt) -> None:
    with rt.sessions() as session, session.begin():
        risk.load_rules(session, NOW)


def _count(rt, model) -> int:
    with rt.sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def _dispatched(rt, ids: list[str], grid: str = "G11", at=NOW) -> None:
    rt.ingestor.ingest_events([event(x, at, grid, sub="0201") for x in ids], now=at)
    for x in ids:
        rt.ingestor.transition_event(
            "grid", x, [step("accepted", at), step("dispatched", at, department="CG")], now=at
        )


def test_the_immediate_rules_raise_alerts_in_the_ingest_itself(rt, city):
    rt.ingestor.ingest_events([event("N0", NOW, "G11", severity=4)], now=NOW)
    assert _count(rt, Alert) == 0  # no rules loaded: nothing fires
    _rules(rt)
    rt.ingestor.ingest_events(
        [event("N1", NOW, "G11", severity=4), event("N2", NOW, "G21", title="工人聚集讨薪")],
        now=NOW,
    )
    with rt.sessions() as session:
        got = session.execute(select(Alert.rule, Alert.level, Alert.district_id)).all()
    assert sorted(got) == [("keywords", 3, 7), ("major", 1, 2)]


def test_the_scheduled_pass_finds_a_burst_and_tells_the_wall(rt, city):
    _rules(rt)
    burst = [
        event(f"B{i}", NOW - timedelta(minutes=50 - 5 * i), "G12", sub="0201", address="一号院")
        for i in range(9)
    ]
    rt.ingestor.ingest_events(burst, now=NOW)
    version = rt.live.version()
    out = jobs.risk_evaluation(rt, now=NOW)
    assert out["alerts"] >= 1 and rt.live.version() > version
    with rt.sessions() as session:
        [alert] = session.execute(select(Alert).where(Alert.rule == "surge.place")).scalars()
        linked = session.execute(
            select(func.count()).where(AlertEvent.alert_id == alert.id)
        ).scalar()
    assert alert.level <= 3 and linked == 9
    before = _count(rt, Alert)
    jobs.risk_evaluation(rt, now=NOW + timedelta(minutes=1))
    assert _count(rt, Alert) == before  # found again: the same alerts, updated


def _alert(rt, level: int = 1, district: int = 2, at=NOW) -> int:
    with rt.sessions() as session, session.begin():
        return risk.record(
            session,
            risk.Finding("major", level, f"event:{at}", "重大事件", 4, district, {}),
            at,
        ).id


def test_the_workflow_of_an_alert(rt, city):
    _rules(rt)
    a = _alert(rt)
    with rt.sessions() as session, session.begin():
        with pytest.raises(InputError) as bad:
            alerts.act(session, a, "assign", "duty1")
        assert "assignee" in bad.value.errors
        with pytest.raises(InputError):
            alerts.act(session, a, "assign", "duty1", department="NOPE")
        alerts.act(
            session, a, "assign", "duty1", assignee="李四", department="CG", now=NOW + h(0.1)
        )
        alerts.act(session, a, "note", "duty1", note="已电话联系街道", now=NOW + h(0.2))
        alerts.act(session, a, "handle", "duty1", now=NOW + h(0.3))
        with pytest.raises(ConflictError):
            alerts.act(session, a, "dismiss", "duty1", note="误报")  # too late for that
        alerts.act(session, a, "resolve", "duty1", note="已处置", now=NOW + h(1))
        with pytest.raises(ConflictError):
            alerts.act(session, a, "note", "duty1", note="again")
    with rt.sessions() as session:
        alert = session.get(Alert, a)
        steps = session.execute(
            select(AlertHistory.to_state, AlertHistory.actor)
            .where(AlertHistory.alert_id == a)
            .order_by(AlertHistory.id)
        ).all()
        audited = session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
    assert (alert.state, alert.assignee, alert.department_id) == ("resolved", "李四", 1)
    assert alert.acknowledged_at == NOW + h(0.1) and alert.closed_at == NOW + h(1)
    assert [s for s, _ in steps] == [
        "active",
        "acknowledged",
        "acknowledged",
        "handling",
        "resolved",
    ]
    assert audited == ["alert.assign", "alert.note", "alert.handle", "alert.resolve"]


def test_a_red_alert_nobody_took_up_is_escalated_once(rt, city):
    _rules(rt)
    red, orange, taken = (
        _alert(rt, 1),
        _alert(rt, 2, at=NOW + h(0.01)),
        _alert(rt, 1, at=NOW + h(0.02)),
    )
    with rt.sessions() as session, session.begin():
        alerts.act(session, taken, "ack", "duty1", now=NOW + h(0.1))
        assert alerts.escalate_unacknowledged(session, NOW + timedelta(minutes=14)) == 0
        assert alerts.escalate_unacknowledged(session, NOW + timedelta(minutes=16)) == 1
        assert alerts.escalate_unacknowledged(session, NOW + timedelta(minutes=30)) == 0
        # An orange alert raised to red counts from the raise.
        risk.record(
            session,
            risk.Finding("major", 1, f"event:{NOW + h(0.01)}", "重大事件", 4, 2, {}),
            NOW + timedelta(minutes=20),
        )
        assert alerts.escalate_unacknowledged(session, NOW + timedelta(minutes=30)) == 0
        assert alerts.escalate_unacknowledged(session, NOW + timedelta(minutes=36)) == 1
    with rt.sessions() as session:
        flags = dict(session.execute(select(Alert.id, Alert.escalated)).all())
        audited = session.execute(
            select(func.count()).where(AuditLog.action == "alert.escalate")
        ).scalar()
    assert flags == {red: True, orange: True, taken: False} and audited == 2


def test_a_notice_from_an_alert_covers_its_events_and_its_outcome_resolves_them(rt, city):
    _rules(rt)
    _dispatched(rt, ["W1", "W2", "W3"])
    rt.ingestor.ingest_events([event("W4", NOW, "G11", sub="0201")], now=NOW)  # not dispatched
    with rt.sessions() as session, session.begin():
        ids = list(session.execute(select(Event.id).order_by(Event.id)).scalars())
        a = risk.record(
            session,
            risk.Finding("surge.place", 2, "place:x|sub:9", "物业纠纷激增", 4, 2, {}, ids),
            NOW,
        ).id
    later = NOW + h(1)
    with rt.sessions() as session, session.begin():
        form = {"title": "关于一号院停车纠纷的工作提示", "department": "CG", "alert_id": a,
                "deadline": later + timedelta(days=3)}  # fmt: skip
        issued = notices.issue(session, "duty1", form, later)
        number, nid = issued.notice.number, issued.notice.id
    assert issued.events == 4 and number == f"{later.year}-0001"
    with rt.sessions() as session:
        assert session.get(Alert, a).state == "handling"
        notes = session.execute(select(EventNote.text)).scalars().all()
    assert len(notes) == 4 and all(number in n for n in notes)
    with rt.sessions() as session, session.begin():
        with pytest.raises(ConflictError):
            notices.decide(rt, session, nid, True, "好的", "duty1", later)  # no reply yet
        notices.reply(session, nid, "已协调物业增划车位", "城管局", later + h(2))
        with pytest.raises(ConflictError):
            notices.reply(session, nid, "again", "城管局", later + h(2))
    with rt.sessions() as session, session.begin():
        n, changes = notices.decide(rt, session, nid, False, "未说明时限", "duty1", later + h(3))
        assert n.status == "issued" and changes == []
    with rt.sessions() as session, session.begin():
        notices.reply(session, nid, "已增划车位 40 个，月底前完成", "城管局", later + h(4))
        n, changes = notices.decide(rt, session, nid, True, "车位已增划", "duty1", later + h(5))
    rt.ingestor.publish(changes, [], "notice")
    with rt.sessions() as session:
        statuses = dict(session.execute(select(Event.external_id, Event.status)).all())
        notice = session.get(WorkNotice, nid)
        alert = session.get(Alert, a)
        resolved_by_notice = session.execute(
            select(func.count()).where(
                Transition.to_status == "resolved", Transition.note.like(f"%{number}%")
            )
        ).scalar()
    assert statuses == {"W1": "resolved", "W2": "resolved", "W3": "resolved", "W4": "reported"}
    assert (notice.status, notice.events_resolved, notice.closed_at) == ("done", 3, later + h(5))
    assert alert.state == "resolved" and resolved_by_notice == 3
    assert reconcile.reconcile(rt) == []  # live state and summaries kept in step
    with rt.sessions() as session:
        counted = notices.counts(session, NOW, NOW + timedelta(days=7), later + h(6))
    assert counted == {"issued": 1, "done": 1, "done_on_time": 1, "overdue_open": 0, "events": 4}


def test_bad_notices_are_refused_and_write_nothing(rt, city):
    _rules(rt)
    _dispatched(rt, ["V1"], grid="G11")
    _dispatched(rt, ["V2"], grid="G21")
    with rt.sessions() as session:
        v1, v2 = session.execute(select(Event.id).order_by(Event.id)).scalars().all()
    good = {"title": "提示", "department": "CG", "event_ids": [v1], "deadline": NOW + h(48)}
    cases = [
        ({"title": "x\x00y"}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"deadline": NOW - h(1)}, "deadline"),
        ({"deadline": NOW + timedelta(days=91)}, "deadline"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"department": None}, "department"),
        ({"department": "NOPE"}, "department"),
        ({"street": "G11"}, "street"),  # a grid is not a street
        ({"event_ids": []}, "event_ids"),
        ({"event_ids": [True]}, "event_ids"),
        ({"event_ids": list(range(1, 2002))}, "event_ids"),
        ({"event_ids": [v1, 999999]}, "event_ids"),
        ({"alert_id": "1"}, "alert_id"),
    ]
    for change, field in cases:
        with rt.sessions() as session, session.begin(), pytest.raises(InputError) as bad:
            notices.issue(session, "duty1", {**good, **change}, NOW)
        assert field in bad.value.errors, (change, bad.value.errors)
    # a district-1 officer, a district-2 case
    with rt.sessions() as session, session.begin(), pytest.raises(ScopeError):
        notices.issue(session, "d1", {**good, "event_ids": [v1, v2]}, NOW, district_id=2)
    assert _count(rt, WorkNotice) == _count(rt, WorkNoticeEvent) == _count(rt, EventNote) == 0


def test_notices_through_the_api_by_role_and_district(client, rt, city, time_machine):
    _rules(rt)
    time_machine.move_to((NOW + h(1)).replace(tzinfo=UTC), tick=False)
    _dispatched(rt, ["U1", "U2"], grid="G11")
    _dispatched(rt, ["U3"], grid="G21")
    deadline = (NOW + timedelta(days=2)).isoformat()
    body = {"title": "关于物业纠纷的提示", "street": "S1", "events": ["grid/U1", "grid/U2"],
            "deadline": deadline}  # fmt: skip
    analyst = as_role(client, rt, "analyst")
    assert analyst.post("/api/v1/notices", json=body).status_code == 403
    assert analyst.get("/api/v1/notices").status_code == 200  # reading is allowed
    officer = as_role(rt_client(client), rt, "district_officer", "339002")
    assert officer.post("/api/v1/notices", json=body).status_code == 403  # not their district
    duty = as_role(rt_client(client), rt, "duty_officer")
    r = duty.post("/api/v1/notices", json={**body, "colour": "red"})
    assert r.status_code == 400 and r.json["fields"]["colour"] == "unknown field"
    r = duty.post("/api/v1/notices", json={**body, "events": ["grid/U1", "grid/nope"]})
    assert r.status_code == 400 and "grid/nope" in r.json["fields"]["events"]
    assert _count(rt, WorkNotice) == 0
    r = duty.post("/api/v1/notices", json=body)
    assert r.status_code == 201 and r.json["events"] == 2
    nid = r.json["id"]
    found = duty.get("/api/v1/notices?q=物业").json["notices"]
    assert [n["id"] for n in found] == [nid] and found[0]["street"] == "第1街道"
    assert duty.get("/api/v1/notices?q=停车").json["notices"] == []
    assert duty.get("/api/v1/notices?status=nope").status_code == 400
    one = duty.get(f"/api/v1/notices/{nid}").json
    assert sorted(one["events"]) == ["grid/U1", "grid/U2"]
    assert officer.get(f"/api/v1/notices/{nid}").status_code == 404  # outside district 2
    mine = as_role(rt_client(client), rt, "district_officer", "339001")
    r = mine.post(f"/api/v1/notices/{nid}/reply", json={"reply": "已约谈物业公司"})
    assert r.status_code == 200 and r.json["status"] == "replied"
    r = duty.post(f"/api/v1/notices/{nid}/decision", json={"accept": "yes", "outcome": "好"})
    assert r.status_code == 400 and set(r.json["fields"]) == {"accept", "outcome"}
    r = duty.post(f"/api/v1/notices/{nid}/decision", json={"accept": True, "outcome": "已整改"})
    assert r.status_code == 200 and r.json["events_resolved"] == 2


def test_notices_are_counted_and_listed_on_the_supervision_page(client, rt, city, time_machine):
    from tests.dash_requests import call

    _rules(rt)
    time_machine.move_to((NOW + h(1)).replace(tzinfo=UTC), tick=False)
    _dispatched(rt, ["K1", "K2", "K3"])
    with rt.sessions() as session, session.begin():
        ids = list(session.execute(select(Event.id).order_by(Event.id)).scalars())
        for title, covered in (("关于物业纠纷的提示", ids[:2]), ("关于噪音的提示", ids[2:])):
            form = {"title": title, "department": "SF", "event_ids": covered, "deadline": NOW + h(3)}  # fmt: skip
            notices.issue(session, "duty1", form, NOW + h(1))
    duty = as_role(client, rt, "duty_officer")

    def page(query=None):
        values = {"supervision-period.value": "this_week", "supervision-notice-query.value": query, "shell-lang.data": "zh"}  # fmt: skip
        return call(duty, "supervision-notice-counts", "supervision-period.value", values).json["response"]  # fmt: skip

    out = page()
    counts = [c["props"]["children"][1]["props"]["children"] for c in out["supervision-notice-counts"]["children"]]  # fmt: skip
    assert counts == ["2", "0", "0", "0", "3"]  # issued, done, on time, overdue open, events
    assert len(out["supervision-notices"]["rowData"]) == 2
    assert [r["title"] for r in page("噪音")["supervision-notices"]["rowData"]] == [
        "关于噪音的提示"
    ]
    time_machine.move_to((NOW + h(4)).replace(tzinfo=UTC), tick=False)  # past both deadlines
    out = page()
    counts = [c["props"]["children"][1]["props"]["children"] for c in out["supervision-notice-counts"]["children"]]  # fmt: skip
    assert counts[3] == "2"


def test_nul_and_odd_codes_in_the_api_bodies_are_field_errors(client, rt, city, time_machine):
    """Codes and references go to the database as they are: a NUL in one (which PostgreSQL
    cannot compare) or anything not text is a 400 naming the field, never a 500."""
    _rules(rt)
    time_machine.move_to((NOW + h(1)).replace(tzinfo=UTC), tick=False)
    _dispatched(rt, ["Z1"])
    a = _alert(rt)
    duty = as_role(client, rt, "duty_officer")
    deadline = (NOW + timedelta(days=2)).isoformat()
    base = {"title": "提示", "department": "CG", "events": ["grid/Z1"], "deadline": deadline}
    for change, field in [
        ({"department": "C\x00G"}, "department"),
        ({"department": None, "street": "S\x001"}, "street"),
        ({"events": ["grid/Z\x001"]}, "events"),
        ({"department": ["CG"]}, "department"),
        ({"street": {"code": "S1"}}, "street"),
    ]:
        r = duty.post("/api/v1/notices", json={**base, **change})
        assert r.status_code == 400 and field in r.json["fields"], (change, r.json)
    r = duty.post(f"/api/v1/alerts/{a}/assign", json={"department": "C\x00G"})
    assert r.status_code == 400 and "department" in r.json["fields"]
    assert _count(rt, WorkNotice) == 0
    with rt.sessions() as session:
        assert session.get(Alert, a).state == "active"
