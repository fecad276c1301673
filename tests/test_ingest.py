"""Ingest: good, duplicate, malformed, out-of-order and impossible input, through the real stores."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dashboard.domain import STATUSES, TERMINAL, allowed_next
from dashboard.models import Area, Event, Transition
from dashboard.schemas import ConflictError, InputError
from tests.factories import T0, event, h, step, time_limits

NOW = T0 + h(24 * 10)


def counts(rt) -> tuple[int, int]:
    with rt.sessions() as s:
        return (
            s.execute(select(func.count()).select_from(Event)).scalar(),
            s.execute(select(func.count()).select_from(Transition)).scalar(),
        )


def test_batch_stores_valid_items_and_reports_the_rest(rt, city):
    items = [
        event("A1", T0),
        event("A2", T0, grid="nope"),
        {"external_id": "A3", "source": "grid", "subcategory": "0101", "grid_code": "G11"},
        event("A4", T0, severity="较大", reporter_phone="13812345678", reporter_name="张三"),
        event("A5", T0 + h(24 * 365)),  # in the future
        "not an object",
        event("A6", T0, unexpected="x"),
        event("A7", T0, category="02"),  # 0101 belongs to 01
    ]
    res = rt.ingestor.ingest_events(items, now=NOW)
    assert [r.status for r in res] == [
        "created",
        "rejected",
        "rejected",
        "created",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert res[1].errors == {"grid_code": "unknown grid"}
    assert set(res[2].errors) == {"title"}
    assert set(res[4].errors) == {"reported_at"}
    assert res[5].errors == {"_": "must be an object"}
    assert res[6].errors == {"unexpected": "unknown field"}
    assert "category" in res[7].errors
    assert counts(rt) == (2, 2)  # two events, each with its 'reported' transition
    with rt.sessions() as s:
        a4 = s.execute(select(Event).where(Event.external_id == "A4")).scalar_one()
    assert a4.severity == 2 and a4.status == "reported" and a4.reporter_phone == "13812345678"


def test_resending_never_creates_a_second_event(rt, city):
    first = rt.ingestor.ingest_events([event("D1", T0), event("D1", T0)], now=NOW)
    assert [r.status for r in first] == ["created", "duplicate"]
    again = rt.ingestor.ingest_events([event("D1", T0, title="changed"), event("D2", T0)], now=NOW)
    assert [r.status for r in again] == ["duplicate", "created"]
    assert counts(rt) == (2, 2)
    other_source = rt.ingestor.ingest_events([event("D1", T0, source="hotline")], now=NOW)
    assert other_source[0].status == "created"  # unique per (source, external_id)


def test_token_source_scope(rt, city):
    res = rt.ingestor.ingest_events([event("S1", T0, source="video")], token_source="grid", now=NOW)
    assert "source" in res[0].errors
    res = rt.ingestor.ingest_events(
        [{**event("S2", T0), "source": None}], token_source="iot", now=NOW
    )
    assert res[0].status == "created"


def test_location_by_point(rt, city):
    res = rt.ingestor.ingest_events(
        [
            {**event("P1", T0), "grid_code": None, "lat": 30.02, "lon": 118.021},
            {**event("P2", T0), "grid_code": None, "lat": 10.0, "lon": 10.0},
        ],
        now=NOW,
    )
    assert res[0].status == "created" and res[1].errors == {
        "lat": "the point lies outside every grid of the city"
    }
    with rt.sessions() as s:
        grid = s.execute(
            select(Area.code).join(Event, Event.grid_id == Area.id).where(Event.external_id == "P1")
        ).scalar()
    assert grid == "G22"  # district 2 (lat 30.02), grid 2 (lon 118.02)


def test_lifecycle_sets_deadlines_and_facts(rt, city):
    rt.ingestor.ingest_events([event("L1", T0, severity=2)], now=NOW)
    rt.ingestor.transition_event(
        "grid",
        "L1",
        [step("accepted", T0 + h(1)), step("dispatched", T0 + h(2), department="CG")],
        now=NOW,
    )
    with rt.sessions() as s:
        e = s.execute(select(Event).where(Event.external_id == "L1")).scalar_one()
    # Severity 2 halves the limits: 立案 0.5 h from the report, dispatch 0.5 h and closing 24 h
    # from 立案, handling 12 h from dispatch.
    assert e.accept_deadline == T0 + h(0.5)
    assert e.dispatch_deadline == T0 + h(1.5)
    assert e.handle_deadline == T0 + h(14)
    assert e.close_deadline == T0 + h(25)
    assert e.dispatched_at == T0 + h(2) and e.department_id == 1 and e.status == "dispatched"
    # Each step falls due at the earlier of meeting it and its deadline.
    assert e.decided_at == T0 + h(1) and e.accept_due_at == T0 + h(0.5)  # accepted late
    assert e.dispatch_due_at == T0 + h(1.5)  # dispatched late: due at the deadline
    assert (e.handle_due_at, e.close_due_at) == (T0 + h(14), T0 + h(25))


def test_limits_on_the_working_clock_run_from_their_start(rt, city):
    """Working hours 09:00–12:00 and 13:30–17:30 (Shanghai); T0 is Monday 08:00 local."""
    from dashboard.models import TimeLimit

    with rt.sessions() as s, s.begin():
        s.query(TimeLimit).filter(TimeLimit.category_id == 2).delete()
        s.add_all(time_limits(2, 1, "work_hours", accept=2, dispatch=1))
        s.add_all(time_limits(2, 1, "work_days", handle=1, close=2))
    friday_5pm = T0 + h(24 * 4 + 9)  # Friday 17:00 local
    rt.ingestor.ingest_events([event("W1", friday_5pm)], now=NOW)
    rt.ingestor.transition_event("grid", "W1", [step("accepted", friday_5pm + h(0.25))], now=NOW)
    monday_10am = T0 + h(24 * 7 + 2)
    rt.ingestor.transition_event("grid", "W1", [step("dispatched", monday_10am)], now=NOW)
    with rt.sessions() as s:
        e = s.execute(select(Event).where(Event.external_id == "W1")).scalar_one()
    # 立案: half an hour on Friday, 1.5 h on Monday morning → Monday 10:30 local.
    assert e.accept_deadline == T0 + h(24 * 7 + 2.5)
    # Dispatch, 1 working hour from 立案 at 17:15: 15 minutes Friday, 45 Monday → 09:45.
    assert e.dispatch_deadline == T0 + h(24 * 7 + 1.75)
    # Handling, 1 working day from Monday's dispatch: the end of Tuesday (17:30 local).
    assert e.handle_deadline == T0 + h(24 * 8 + 9.5)
    # Closing, 2 working days from Friday's 立案: the end of Tuesday too.
    assert e.close_deadline == T0 + h(24 * 8 + 9.5)


def test_handling_is_judged_on_the_resolution_that_stands(rt, city):
    rt.ingestor.ingest_events([event("S1", T0)], now=NOW)
    on_time = [step("accepted", T0), step("dispatched", T0 + h(1)), step("in_progress", T0 + h(2))]
    on_time.append(step("resolved", T0 + h(3)))
    rt.ingestor.transition_event("grid", "S1", on_time, now=NOW)
    rt.ingestor.transition_event("grid", "S1", [step("returned", T0 + h(4))], now=NOW)
    with rt.sessions() as s:
        e = s.execute(select(Event).where(Event.external_id == "S1")).scalar_one()
        # Returned: no resolution stands, so the step falls due at its deadline (T0 + 25 h).
        assert (e.first_resolved_at, e.resolved_at) == (T0 + h(3), None)
        assert e.handle_due_at == T0 + h(25)
    late = [step("in_progress", T0 + h(5)), step("resolved", T0 + h(30))]
    rt.ingestor.transition_event("grid", "S1", late, now=NOW)
    with rt.sessions() as s:
        e = s.execute(select(Event).where(Event.external_id == "S1")).scalar_one()
        assert (e.resolved_at, e.handle_due_at) == (T0 + h(30), T0 + h(25))


def test_impossible_transition_is_refused_and_changes_nothing(rt, city):
    rt.ingestor.ingest_events([event("X1", T0)], now=NOW)
    before = counts(rt)
    with pytest.raises(ConflictError) as exc:
        rt.ingestor.transition_event(
            "grid", "X1", [step("accepted", T0 + h(1)), step("closed", T0 + h(2))], now=NOW
        )
    assert exc.value.status == 409 and "cannot go from accepted to closed" in exc.value.message
    assert counts(rt) == before  # the valid first item was not written either
    with rt.sessions() as s:
        assert (
            s.execute(select(Event.status).where(Event.external_id == "X1")).scalar() == "reported"
        )


def test_out_of_order_and_duplicate_transitions(rt, city):
    rt.ingestor.ingest_events([event("O1", T0)], now=NOW)
    rt.ingestor.transition_event("grid", "O1", [step("accepted", T0 + h(2))], now=NOW)
    with pytest.raises(ConflictError) as exc:
        rt.ingestor.transition_event("grid", "O1", [step("dispatched", T0 + h(1))], now=NOW)
    assert "earlier than the event's last change" in exc.value.message
    # The same transition again (a retry) is accepted as a duplicate and writes nothing.
    before = counts(rt)
    res = rt.ingestor.transition_event("grid", "O1", [step("accepted", T0 + h(2))], now=NOW)
    assert res == [{"index": 0, "status": "accepted", "result": "duplicate"}]
    assert counts(rt) == before


def test_field_errors_in_transitions(rt, city):
    rt.ingestor.ingest_events([event("F1", T0)], now=NOW)
    with pytest.raises(InputError) as exc:
        rt.ingestor.transition_event(
            "grid", "F1", [{"status": "flying", "at": "yesterday"}], now=NOW
        )
    assert set(exc.value.errors) == {"status", "at"}
    with pytest.raises(InputError) as exc:
        rt.ingestor.transition_event(
            "grid", "F1", [step("accepted", T0 + h(1), satisfaction="satisfied")], now=NOW
        )
    assert exc.value.errors == {"satisfaction": "only with status closed"}
    with pytest.raises(ConflictError) as exc:
        rt.ingestor.transition_event("grid", "nope", [step("accepted", T0)], now=NOW)
    assert exc.value.status == 404


def test_escalation_resumes_where_the_case_was(rt, city):
    rt.ingestor.ingest_events([event("U1", T0)], now=NOW)
    rt.ingestor.transition_event(
        "grid", "U1", [step("accepted", T0 + h(1)), step("escalated", T0 + h(2))], now=NOW
    )
    with pytest.raises(ConflictError):
        rt.ingestor.transition_event("grid", "U1", [step("accepted", T0 + h(3))], now=NOW)
    rt.ingestor.transition_event("grid", "U1", [step("dispatched", T0 + h(3))], now=NOW)
    with rt.sessions() as s:
        e = s.execute(select(Event).where(Event.external_id == "U1")).scalar_one()
    assert (e.level, e.escalation_count, e.status) == ("community", 1, "dispatched")


def test_repeat_flag_handles_late_earlier_events(rt, city):
    same = {"address": "幸福路 8 号"}
    rt.ingestor.ingest_events([event("R2", T0 + h(48), **same)], now=NOW)
    rt.ingestor.ingest_events([event("R1", T0, **same)], now=NOW)  # arrives late, happened first
    rt.ingestor.ingest_events([event("R3", T0 + h(24 * 40), **same)], now=T0 + h(24 * 50))
    with rt.sessions() as s:
        flags = dict(s.execute(select(Event.external_id, Event.is_repeat)).all())
    assert flags == {"R1": False, "R2": True, "R3": False}


def test_a_repeat_is_the_same_matter_not_the_same_grid(rt, city):
    """Same subcategory, and the same address (however typed), a point within 50 m, or the same
    phone (however written); the same grid alone is not the same matter."""
    point = {"grid_code": None, "lat": 30.0101, "lon": 118.0101}  # in G11
    first = [
        event("A1", T0, address="幸福路8号"),
        event("B1", T0, **point),
        event("C1", T0, reporter_phone="13800138000"),
        event("D1", T0, address="和平街1号"),
        event("E1", T0, address="长江路5号", sub="0201"),
    ]
    later = [
        event("A2", T0 + h(5), address=" 幸福路 ８号 "),  # the same address, typed otherwise
        event("B2", T0 + h(5), grid_code=None, lat=30.0104, lon=118.0102),  # ~35 m away
        event("B3", T0 + h(5), grid_code=None, lat=30.0121, lon=118.0101),  # ~220 m away
        event("C2", T0 + h(5), reporter_phone="+86 138-0013-8000"),  # the same phone
        event("D2", T0 + h(5), address="和平街2号"),  # same grid and kind, another place
        event("E2", T0 + h(5), address="长江路5号"),  # same place, another kind of matter
    ]
    rt.ingestor.ingest_events(first, now=NOW)
    rt.ingestor.ingest_events(later, now=NOW)
    with rt.sessions() as s:
        flags = dict(s.execute(select(Event.external_id, Event.is_repeat)).all())
    assert {k for k, v in flags.items() if v} == {"A2", "B2", "C2"}
    with rt.sessions() as s:
        stored = s.execute(select(Event.reporter_key, Event.reporter_phone)).all()
    # The key is a keyed hash, never the number.
    assert all("138" not in (k or "") for k, _p in stored)


# --- property: any sequence of transitions keeps the event consistent ---------------------
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8))
def test_random_transition_sequences(rt, city, statuses):
    ext = f"H{uuid.uuid4().hex[:16]}"
    rt.ingestor.ingest_events([event(ext, T0)], now=NOW)
    expected = "reported"
    for i, status in enumerate(statuses):
        before = counts(rt)
        item = step(status, T0 + h(i + 1), department="CG")
        legal = status in allowed_next(expected)
        try:
            rt.ingestor.transition_event("grid", ext, [item], now=NOW)
            applied = True
        except ConflictError:
            applied = False
        if applied:
            expected = status
            assert counts(rt)[1] == before[1] + 1
        else:
            assert counts(rt) == before  # a refusal writes nothing
        if not legal:
            assert not applied
    with rt.sessions() as s:
        e = s.execute(select(Event).where(Event.external_id == ext)).scalar_one()
        n = s.execute(select(func.count()).where(Transition.event_id == e.id)).scalar()
    assert e.status == expected
    assert e.is_open == (expected not in TERMINAL)
    assert n == e.version  # one transition row per change, 'reported' included


def test_a_bureaus_branch_in_the_district_handles_its_cases(client, rt, city, bearer):
    """承办单位: 城管局 has a branch in district 1 only. A case sent to the bureau there (or by
    default) is handled by the branch and counted under the bureau; one sent to the branch by
    its code likewise; in district 2 the bureau handles it itself."""
    from dashboard.models import Department
    from dashboard.queries import kpi_report
    from dashboard.views import flow

    with rt.sessions() as session, session.begin():
        session.add(Department(id=50, code="CG-339001", name="第1区城管局", parent_id=1, district_id=2))  # fmt: skip
    rt.ingestor.ingest_events([event("U1", T0, "G11"), event("U2", T0, "G12"), event("U3", T0, "G21")], now=NOW)  # fmt: skip
    rt.ingestor.transition_event("grid", "U1", [step("accepted", T0 + h(0.1)), step("dispatched", T0 + h(0.2))], now=NOW)  # fmt: skip
    rt.ingestor.transition_event("grid", "U2", [step("accepted", T0 + h(0.1)), step("dispatched", T0 + h(0.2), department="CG-339001")], now=NOW)  # fmt: skip
    rt.ingestor.transition_event("grid", "U3", [step("accepted", T0 + h(0.1)), step("dispatched", T0 + h(0.2), department="CG")], now=NOW)  # fmt: skip
    with rt.sessions() as session:
        got = {e.external_id: (e.department_id, e.unit_id) for e in session.execute(select(Event)).scalars()}  # fmt: skip
        named = session.execute(
            select(Event.external_id, Transition.department_id)
            .join(Event, Event.id == Transition.event_id)
            .where(Transition.to_status == "dispatched")
        ).all()
        by_dept = kpi_report(session, T0, NOW, NOW, by="department", zone=rt.settings.zone)
        only_branch = flow.page(session, flow.parse({"range": "all", "department": "CG-339001"}), NOW, rt.settings.zone, 0, 10)  # fmt: skip
    assert got == {"U1": (1, 50), "U2": (1, 50), "U3": (1, None)}
    assert dict(named) == {"U1": 50, "U2": 50, "U3": 1}  # the timeline names who handles it
    assert [r["code"] for r in by_dept["breakdown"] if r["code"]] == ["CG"]  # counted by bureau
    assert sorted(r["external_id"] for r in only_branch["rows"]) == ["U1", "U2"]
    assert {r["department"] for r in only_branch["rows"]} == {"第1区城管局"}
    listed = {d["code"]: d for d in client.get("/api/v1/departments", headers=bearer).json["departments"]}  # fmt: skip
    assert listed["CG-339001"]["parent"] == "CG" and listed["CG-339001"]["district"] == "339001"
    r = client.get("/api/v1/kpis?department=CG-339001", headers=bearer)
    assert r.status_code == 400 and "bureau" in r.json["fields"]["department"]
