"""The duty officer's actions on a case (dashboard.actions): each recorded where the rest of the
system reads it and audit-logged in the same transaction; the authorisation table (role ×
action × own/other district); bad input and wrong states refused with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dashboard import actions
from dashboard.access import PERMISSIONS, Principal
from dashboard.models import AuditLog, Event, EventNote, Extension, Supervision, Transition
from dashboard.queries import area_scope, kpi_report
from dashboard.schemas import ConflictError, InputError
from tests.factories import T0, event, h, step

NOW = T0 + h(24 * 3)  # Thursday 08:00 local; E2 was due to close on Wednesday


def _load(rt) -> dict[str, int]:
    """E1 closed; E2 dispatched and overdue; E3 resolved (awaiting its check); E4 in district 2,
    just reported. Returns their ids."""
    rt.ingestor.ingest_events(
        [
            event("E1", T0, "G11"),
            event("E2", T0 + h(1), "G12", reporter_name="张三", reporter_phone="13812345678"),
            event("E3", T0 + h(2), "G11"),
            event("E4", T0 + h(3), "G21"),
        ],
        now=NOW,
    )
    steps = {
        "E1": ["accepted", "dispatched", "in_progress", "resolved", "closed"],
        "E2": ["accepted", "dispatched"],
        "E3": ["accepted", "dispatched", "in_progress", "resolved"],
        "E4": ["accepted"],
    }
    for ext, todo in steps.items():
        rt.ingestor.transition_event(
            "grid", ext, [step(s, T0 + h(4 + i)) for i, s in enumerate(todo)], now=NOW
        )
    with rt.sessions() as session:
        return dict(session.execute(select(Event.external_id, Event.id)).all())


def _who(rt, role: str, district: str | None = None) -> Principal:
    district_id = None
    if district:
        with rt.sessions() as session:
            district_id = area_scope(session, district).id
    return Principal("s", f"{role}-1", role, district_id=district_id, district_code=district)


def _count(rt, model, *where) -> int:
    with rt.sessions() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def _audits(rt, action: str) -> list[AuditLog]:
    with rt.sessions() as session:
        return session.execute(select(AuditLog).where(AuditLog.action == action)).scalars().all()


def _act(rt, who, case, action, **form):
    return actions.perform(rt, who, case, action, form, "10.0.0.7", now=NOW)


# --- the authorisation table ---------------------------------------------------------------
ROLES = tuple(PERMISSIONS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", actions.ACTIONS)
@pytest.mark.parametrize("own", [True, False])
def test_authorisation_table(role, action, own):
    who = Principal("s", "x", role, district_id=1 if role == "district_officer" else None)
    district = 1 if own else 2
    expected = {
        "duty_officer": True,  # city-wide: every action everywhere
        "district_officer": own and action not in ("extension_decide", "reveal"),
    }.get(role, False)  # leaders, analysts, admins and displays: none
    assert actions.may(who, action, district) is expected


def test_a_district_officer_bound_to_no_district_may_do_nothing():
    who = Principal("s", "x", "district_officer", district_id=None)
    assert actions.available(who, 1) == [] and actions.available(who, None) == []


@pytest.mark.parametrize(
    ("role", "district", "case"),
    [("leader", None, "E2"), ("analyst", None, "E2"), ("display", None, "E2"),
     ("admin", None, "E2"), ("district_officer", "339002", "E2")],
)  # fmt: skip
def test_refused_principals_change_nothing(rt, city, role, district, case):
    ids = _load(rt)
    who = _who(rt, role, district)
    for action, form in [
        ("supervise", {"note": "请回复", "reply_hours": 24}),
        ("note", {"text": "值班记录"}),
        ("escalate", {"reason": "需要区里协调"}),
        ("reveal", {"reason": "回访核实"}),
    ]:
        with pytest.raises(actions.Refused):
            _act(rt, who, ids[case], action, **form)
    assert _count(rt, Supervision) == 0 and _count(rt, EventNote) == 0
    assert _count(rt, AuditLog, AuditLog.action.like("event.%")) == 0
    assert _count(rt, AuditLog, AuditLog.action == "pii.reveal") == 0
    with rt.sessions() as session:
        assert session.get(Event, ids[case]).status == "dispatched"


# --- each action ---------------------------------------------------------------------------
def test_supervise_and_urge_are_recorded_apart_and_only_supervise_counts(rt, city):
    ids = _load(rt)
    duty = _who(rt, "duty_officer")
    assert _act(rt, duty, ids["E2"], "supervise", note="今日回复", reply_hours=8) == {
        "message": "done_supervise"
    }
    _act(rt, duty, ids["E2"], "urge", note="抓紧办理 13812345678", reply_hours="4")
    with rt.sessions() as session:
        rows = session.execute(select(Supervision).order_by(Supervision.id)).scalars().all()
        e = session.get(Event, ids["E2"])
        figures = kpi_report(session, T0, NOW + h(1), NOW, zone=rt.settings.zone)
    assert [r.kind for r in rows] == ["supervise", "urge"]
    assert rows[1].reply_due_at == NOW + h(4) and rows[1].actor == "duty_officer-1"
    assert e.supervised_at == NOW and e.urged_at == NOW
    assert figures["supervised"] == 1  # 催办 is not 督办
    [urge] = _audits(rt, "urge.batch")
    assert "13812345678" not in urge.detail and urge.address == "10.0.0.7"


def test_a_district_officer_acts_in_the_own_district(rt, city):
    ids = _load(rt)
    officer = _who(rt, "district_officer", "339001")
    _act(rt, officer, ids["E2"], "supervise", note="请回复", reply_hours=24)
    with pytest.raises(actions.Refused):
        _act(rt, officer, ids["E4"], "supervise", note="请回复", reply_hours=24)
    assert _count(rt, Supervision) == 1


def test_escalate_is_a_transition_with_its_reason_and_audit(rt, city):
    ids = _load(rt)
    _act(rt, _who(rt, "duty_officer"), ids["E2"], "escalate", reason="涉及多部门，需区级协调")
    with rt.sessions() as session:
        e = session.get(Event, ids["E2"])
        last = (
            session.execute(
                select(Transition).where(Transition.event_id == e.id).order_by(Transition.id.desc())
            )
            .scalars()
            .first()
        )
    assert e.status == "escalated" and e.escalation_count == 1 and e.level == "community"
    assert (last.to_status, last.actor, last.note) == (
        "escalated", "duty_officer-1", "涉及多部门，需区级协调"
    )  # fmt: skip
    assert len(_audits(rt, "event.escalate")) == 1


def test_rework_follows_a_failed_check_only(rt, city):
    ids = _load(rt)
    duty = _who(rt, "duty_officer")
    with pytest.raises(ConflictError):  # E2 is not resolved: nothing to check
        _act(rt, duty, ids["E2"], "rework", reason="现场核查未整改")
    assert _audits(rt, "event.rework") == []
    _act(rt, duty, ids["E3"], "rework", reason="现场核查未整改")
    with rt.sessions() as session:
        e = session.get(Event, ids["E3"])
    assert (e.status, e.return_count, e.resolved_at) == ("returned", 1, None)
    assert len(_audits(rt, "event.rework")) == 1


def test_finished_cases_take_no_action_but_a_note(rt, city):
    ids = _load(rt)
    duty = _who(rt, "duty_officer")
    for action, form in [
        ("supervise", {"note": "x", "reply_hours": 4}),
        ("urge", {"note": "x", "reply_hours": 4}),
        ("escalate", {"reason": "上报上级"}),
        ("extension_request", {"reason": "需要更多时间", "deadline": "2026-11-20 18:00"}),
    ]:
        with pytest.raises((ConflictError, InputError)):
            _act(rt, duty, ids["E1"], action, **form)
    assert _count(rt, Supervision) == 0 and _count(rt, Extension) == 0
    _act(rt, duty, ids["E1"], "note", text="回访：居民表示满意，联系电话 13812345678")
    with rt.sessions() as session:
        note = session.execute(select(EventNote)).scalar_one()
    assert note.actor == "duty_officer-1" and note.at == NOW
    [entry] = _audits(rt, "event.note")
    assert "13812345678" not in entry.detail


def test_an_approved_extension_moves_the_deadlines_and_counts(rt, city):
    ids = _load(rt)
    duty = _who(rt, "duty_officer")
    officer = _who(rt, "district_officer", "339001")
    with rt.sessions() as session:
        before = session.get(Event, ids["E2"])
        old_close, old_handle = before.close_deadline, before.handle_deadline
    assert old_close < NOW  # overdue now
    with rt.sessions() as session:
        overdue = kpi_report(session, T0, NOW + h(1), NOW, zone=rt.settings.zone)["overdue_open"]
    _act(rt, officer, ids["E2"], "extension_request", reason="需协调产权单位", deadline="2026-11-10 18:00")  # fmt: skip
    with pytest.raises(ConflictError):  # one request at a time
        _act(rt, officer, ids["E2"], "extension_request", reason="再次申请", deadline="2026-11-11 18:00")  # fmt: skip
    with pytest.raises(actions.Refused):  # a district officer does not decide
        _act(rt, officer, ids["E2"], "extension_decide", decision="approve")
    _act(rt, duty, ids["E2"], "extension_decide", decision="approve")
    with rt.sessions() as session:
        e = session.get(Event, ids["E2"])
        ext = session.execute(select(Extension)).scalar_one()
        later = NOW + h(24 * 14)  # the new deadline has come: 延期率 counts it then
        kept = kpi_report(session, T0, later, later, zone=rt.settings.zone)
        raw = kpi_report(session, T0, later, later, zone=rt.settings.zone, use_summaries=False)
        now = kpi_report(session, T0, NOW + h(1), NOW, zone=rt.settings.zone)
    assert e.close_deadline == T0 + h(24 * 8 + 10) and e.extended  # 2026-11-10 18:00 local
    assert e.handle_deadline == old_handle + (e.close_deadline - old_close)
    assert e.close_due_at == e.close_deadline and not e.overdue
    assert (ext.state, ext.decided_by, ext.old_deadline) == (
        "approved",
        "duty_officer-1",
        old_close,
    )
    for key in ("extension_rate", "due_closing", "overdue_open"):
        assert kept[key] == raw[key], key
    assert now["overdue_open"] == overdue - 1 and kept["extension_rate"] > 0
    assert [len(_audits(rt, f"event.extension_{a}")) for a in ("request", "approve")] == [1, 1]


def test_a_refused_extension_moves_nothing(rt, city):
    ids = _load(rt)
    duty = _who(rt, "duty_officer")
    with rt.sessions() as session:
        old = session.get(Event, ids["E2"]).close_deadline
    _act(rt, duty, ids["E2"], "extension_request", reason="需协调产权单位", deadline="2026-11-10T18:00+08:00")  # fmt: skip
    _act(rt, duty, ids["E2"], "extension_decide", decision="refuse")
    with pytest.raises(ConflictError):  # nothing pending any more
        _act(rt, duty, ids["E2"], "extension_decide", decision="approve")
    with rt.sessions() as session:
        e = session.get(Event, ids["E2"])
        assert session.execute(select(Extension.state)).scalar_one() == "refused"
    assert e.close_deadline == old and not e.extended


def test_reveal_shows_the_contact_and_audits_the_reason(rt, city):
    ids = _load(rt)
    shown = _act(rt, _who(rt, "duty_officer"), ids["E2"], "reveal", reason="回访核实处理结果")
    assert (shown["reporter_name"], shown["reporter_phone"]) == ("张三", "13812345678")
    [entry] = _audits(rt, "pii.reveal")
    assert entry.detail == "回访核实处理结果" and entry.target == "event:grid/E2"


# --- bad input: a named field, nothing written ----------------------------------------------
WHY = "需要更多时间"


@pytest.mark.parametrize(
    ("action", "form", "field"),
    [
        ("supervise", {"note": "", "reply_hours": 4}, "note"),
        ("supervise", {"note": "a\x00b", "reply_hours": 4}, "note"),
        ("supervise", {"note": "x", "reply_hours": "soon"}, "reply_hours"),
        ("supervise", {"note": "x", "reply_hours": 0}, "reply_hours"),
        ("urge", {"note": "长" * 501, "reply_hours": 4}, "note"),
        ("note", {"text": ""}, "text"),
        ("note", {"text": "长" * 1001}, "text"),
        ("note", {"text": ["list"]}, "text"),
        ("escalate", {"reason": "x"}, "reason"),
        ("escalate", {}, "reason"),
        ("rework", {"reason": "\x00\x00\x00\x00"}, "reason"),
        ("extension_request", {"reason": "需要更多时间", "deadline": "tomorrow"}, "deadline"),
        ("extension_request", {"reason": WHY, "deadline": "2026-11-01 08:00"}, "deadline"),
        ("extension_request", {"reason": WHY, "deadline": "2027-06-01 08:00"}, "deadline"),
        ("extension_request", {"reason": "", "deadline": "2026-11-10 08:00"}, "reason"),
        ("extension_request", {"reason": "需要更多时间", "deadline": 5}, "deadline"),
        ("extension_decide", {"decision": "maybe"}, "decision"),
        ("reveal", {"reason": "看"}, "reason"),
        ("reveal", {"reason": "x" * 201}, "reason"),
        ("delete", {}, "action"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(rt, city, action, form, field):
    ids = _load(rt)
    with pytest.raises(InputError) as exc:
        _act(rt, _who(rt, "duty_officer"), ids["E2"], action, **form)
    assert field in exc.value.errors
    for model in (Supervision, EventNote, Extension):
        assert _count(rt, model) == 0
    assert _count(rt, AuditLog) == 0
    with rt.sessions() as session:
        assert session.get(Event, ids["E2"]).status == "dispatched"


@pytest.mark.parametrize("case", [0, -1, True, "1", None, 2**40])
def test_crafted_case_ids_are_refused(rt, city, case):
    _load(rt)
    with pytest.raises((InputError, ConflictError)):
        _act(rt, _who(rt, "duty_officer"), case, "note", text="x")
    assert _count(rt, EventNote) == 0
