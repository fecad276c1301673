"""事件流转's read model (dashboard/views/flow.py) on real databases: the URL's filters checked
field by field and round-tripped, each filter, sorting and paging in SQL, the district officer's
scope, masking."""

from __future__ import annotations

import pytest

from dashboard.models import Area
from dashboard.schemas import InputError
from dashboard.views import flow
from tests.factories import T0, event, h, step

NOW = T0 + h(30)  # Tuesday 14:00 local


@pytest.fixture
def listed(rt, city):
    """Eight events over the last day: two districts, two subcategories, three sources, one
    hotline report with a phone, one dispatched to 城管局 and overdue, one supervised."""
    items = [
        event("F0", T0 + h(8), "G11", source="hotline", reporter_name="张三", reporter_phone="+86 138-1234-5678"),
        event("F1", T0 + h(10), "G12"),
        event("F2", T0 + h(12), "G21", sub="0201"),
        event("F3", T0 + h(14), "G22", source="video"),
        event("F4", T0 + h(16), "G11", sub="0201", severity=3),
        event("F5", T0 + h(18), "G12"),
        event("F6", T0 + h(20), "G21"),
        event("F7", T0 - h(30), "G11"),  # outside the last 24 hours
    ]  # fmt: skip
    rt.ingestor.ingest_events(items, now=NOW)
    steps = [step("accepted", T0 + h(8.1)), step("dispatched", T0 + h(8.2), department="CG")]
    rt.ingestor.transition_event("hotline", "F0", steps, now=NOW)
    with rt.sessions() as session, session.begin():
        from sqlalchemy import update

        from dashboard.models import Event

        # F0's closing deadline has passed; F5 was supervised.
        session.execute(
            update(Event).where(Event.external_id == "F0").values(close_deadline=NOW - h(2))
        )
        session.execute(update(Event).where(Event.external_id == "F5").values(supervised_at=NOW - h(1)))  # fmt: skip
    return rt


def ids(rt, query: dict, district_id=None, sort=None, rows=(0, 100)) -> list[str]:
    f = flow.parse(query)
    with rt.sessions() as session:
        got = flow.page(session, f, NOW, rt.settings.zone, *rows, sort, district_id)
    return [r["external_id"] for r in got["rows"]]


def test_each_filter_selects_its_events(listed):
    assert ids(listed, {}) == ["F6", "F5", "F4", "F3", "F2", "F1", "F0"]  # 24 h, newest first
    assert "F7" in ids(listed, {"range": "7d"})
    assert ids(listed, {"area": "339002"}) == ["F6", "F3", "F2"]
    assert ids(listed, {"area": "G12"}) == ["F5", "F1"]
    assert ids(listed, {"area": "C1"}) == ["F5", "F4", "F1", "F0"]
    assert ids(listed, {"category": "02"}) == ["F4", "F2"]  # a category
    assert ids(listed, {"category": "0101"}) == ["F6", "F5", "F3", "F1", "F0"]  # a subcategory
    assert ids(listed, {"source": "video"}) == ["F3"]
    assert ids(listed, {"department": "CG"}) == ["F0"]
    assert ids(listed, {"status": "dispatched"}) == ["F0"]
    assert ids(listed, {"severity": "3"}) == ["F4"]
    assert ids(listed, {"overdue": "1"}) == ["F0"]
    assert ids(listed, {"supervised": "1"}) == ["F5"]
    assert ids(listed, {"area": "339001", "category": "0101", "range": "7d"}) == ["F5", "F1", "F0", "F7"]  # fmt: skip
    # today: from local midnight (T0 + 16 h UTC) to now
    assert ids(listed, {"range": "today"}) == ["F6", "F5", "F4"]
    custom = {"range": "custom", "start": "2026-11-01", "end": "2026-11-01"}  # local Sunday
    assert ids(listed, custom) == ["F7"]


def test_sorting_and_paging_happen_in_sql(listed):
    by_severity = [{"colId": "severity", "sort": "desc"}]
    assert ids(listed, {}, sort=by_severity)[0] == "F4"
    oldest = [{"colId": "reported_at", "sort": "asc"}]
    assert ids(listed, {}, sort=oldest) == ["F0", "F1", "F2", "F3", "F4", "F5", "F6"]
    f = flow.parse({})
    with listed.sessions() as session:
        first = flow.page(session, f, NOW, listed.settings.zone, 0, 3)
        second = flow.page(session, f, NOW, listed.settings.zone, 3, 6)
        third = flow.page(session, f, NOW, listed.settings.zone, 6, 9)
    assert [len(p["rows"]) for p in (first, second, third)] == [3, 3, 1]
    assert (first["last_row"], second["last_row"], third["last_row"]) == (None, None, 7)
    seen = [r["external_id"] for p in (first, second, third) for r in p["rows"]]
    assert seen == ids(listed, {})


def test_rows_carry_names_local_times_time_left_and_masked_reporters(listed):
    f = flow.parse({"overdue": "1"})
    with listed.sessions() as session:
        (row,) = flow.page(session, f, NOW, listed.settings.zone, 0, 10)["rows"]
    assert row["area"] == "第1区 / 第1街道 / 第1社区 / 网格11"
    assert row["category"] == "市容环境" and row["department"] == "城管局"
    assert row["reported_at"] == "2026-11-02 16:00"  # T0 + 8 h UTC, local
    assert row["minutes_left"] == -120
    assert row["reporter"] == "张*" and "1234" not in row["reporter_phone"]
    assert row["reporter_phone"].endswith("5678")


def test_a_district_officer_sees_only_the_own_district(listed):
    with listed.sessions() as session:
        from sqlalchemy import select

        d1 = session.execute(select(Area.id).where(Area.code == "339001")).scalar()
    assert ids(listed, {}, district_id=d1) == ["F5", "F4", "F1", "F0"]
    assert ids(listed, {"area": "G11"}, district_id=d1) == ["F4", "F0"]
    with pytest.raises(InputError) as exc:
        ids(listed, {"area": "G21"}, district_id=d1)
    assert "area" in exc.value.errors


def test_the_url_round_trips():
    f = flow.parse({"range": "custom", "start": "2026-11-01", "end": "2026-11-07",
                    "area": "339001", "overdue": "1", "severity": "2"})  # fmt: skip
    assert flow.parse(dict(x.split("=") for x in flow.to_query(f).split("&"))) == f
    assert flow.to_query(flow.Filters()) == ""


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"range": "1y"}, "range"),
        ({"range": "custom", "start": "2026-11-05"}, "end"),
        ({"range": "custom", "start": "2026-11-05", "end": "2026-11-01"}, "end"),
        ({"range": "custom", "start": "2025-01-01", "end": "2026-11-01"}, "end"),
        ({"range": "custom", "start": "2026-13-45", "end": "2026-11-01"}, "start"),
        ({"severity": "9"}, "severity"),
        ({"severity": "x"}, "severity"),
        ({"source": "fax"}, "source"),
        ({"status": "lost"}, "status"),
        ({"area": "x" * 100_000}, "area"),
        ({"area": "G1\x001"}, "area"),
        ({"area": ["G11"]}, "area"),
        ({"overdue": {"$gt": 1}}, "overdue"),
    ],
)
def test_bad_filters_are_refused_by_field(query, field):
    with pytest.raises(InputError) as exc:
        flow.parse(query)
    assert field in exc.value.errors


@pytest.mark.parametrize(
    ("query", "rows", "sort", "field"),
    [
        ({"area": "NOPE"}, (0, 10), None, "area"),
        ({"category": "99"}, (0, 10), None, "category"),
        ({"department": "XX"}, (0, 10), None, "department"),
        ({}, (10, 5), None, "rows"),
        ({}, (0, 10_000), None, "rows"),
        ({}, ("0", 10), None, "rows"),
        ({}, (0, 10), [{"colId": "reporter_phone", "sort": "asc"}], "sort"),
        ({}, (0, 10), [{"colId": "severity", "sort": "sideways"}], "sort"),
        ({}, (0, 10), ["severity"], "sort"),
    ],
)
def test_unknown_codes_bad_pages_and_sorts_are_refused(listed, query, rows, sort, field):
    with pytest.raises(InputError) as exc:
        ids(listed, query, rows=rows, sort=sort)
    assert field in exc.value.errors


# --- the charts ---------------------------------------------------------------------------------
def _charts(rt, query: dict, district_id=None) -> dict:
    with rt.sessions() as session:
        return flow.charts(session, flow.parse(query), NOW, rt.settings.zone, 8 * 3600, district_id)


def test_the_charts_count_the_filtered_set(listed):
    c = _charts(listed, {})
    assert [(s["stage"], s["n"]) for s in c["funnel"]] == [
        ("reported", 7), ("accepted", 1), ("dispatched", 1), ("resolved", 0), ("closed", 0)
    ]  # fmt: skip
    assert sum(r["n"] for r in c["flows"]) == 7
    [f0] = [r for r in c["flows"] if r["department"][0] == "CG"]
    assert (f0["source"], f0["outcome"], f0["n"]) == ("hotline", "overdue", 1)
    # throughput: 24 hourly buckets (25 when the span does not start on the hour) holding the 7
    t = c["throughput"]
    assert t["step"] == 3600 and sum(t["now"]) == 7 and sum(t["before"]) == 0
    assert len(t["buckets"]) == len(t["now"]) == len(t["before"]) in (24, 25)
    # the backlog ignores the time range: F7 (reported 30 h before T0) is in it
    assert sum(r["n"] for r in c["ageing"]) == 8
    assert [r for r in c["ageing"] if r["overdue"]] == [
        {"bin": 0, "overdue": True, "n": 1}
    ]  # 22 h open
    top = c["stuck"][0]
    assert (top["status"], top["department"][0], top["overdue"], top["n"]) == ("dispatched", "CG", 1, 1)  # fmt: skip


def test_the_charts_follow_every_filter_and_the_scope(listed):
    assert _charts(listed, {"source": "video"})["funnel"][0]["n"] == 1
    assert _charts(listed, {"range": "all"})["funnel"][0]["n"] == 8
    with listed.sessions() as session:
        from sqlalchemy import select

        d2 = session.execute(select(Area.id).where(Area.code == "339002")).scalar()
    scoped = _charts(listed, {}, district_id=d2)
    assert scoped["funnel"][0]["n"] == 3 and sum(r["n"] for r in scoped["ageing"]) == 3
    week = _charts(listed, {"range": "30d"})["throughput"]
    assert week["step"] == 86400 and sum(week["now"]) == 8


def test_present_puts_rows_into_words(listed):
    with listed.sessions() as session:
        got = flow.page(session, flow.parse({"overdue": "1"}), NOW, listed.settings.zone, 0, 10)
    [row] = flow.present(got["rows"], "zh")
    assert row["status_name"] == "派遣" and row["source"] == "12345热线"
    assert row["left"] == "已超期 2h 0m" and row["case"] == "hotline/F0"
    assert row["link"] == "[2026-11-02 16:00](/incident/hotline/F0)"
    assert flow.present(got["rows"], "en")[0]["left"] == "overdue by 2h 0m"
    assert flow.left_text(3 * 1440 + 61, "zh") == "剩余 3d 1h"


# --- the export -----------------------------------------------------------------------------
def test_the_export_is_the_filtered_list_masked_formula_safe_and_audited(
    client, listed, time_machine
):
    import csv
    import io

    from openpyxl import load_workbook
    from sqlalchemy import select

    from dashboard.models import AuditLog
    from tests.conftest import as_role

    time_machine.move_to(NOW, tick=False)
    listed.ingestor.ingest_events([event("FX", T0 + h(21), "G11", title="=HYPERLINK(\"x\") 13912345678")], now=NOW)  # fmt: skip
    analyst = as_role(client, listed, "analyst")
    r = analyst.get("/api/v1/events/list.csv?range=24h")
    assert r.status_code == 200 and r.headers["X-Export-Rows"] == "8"
    text = r.get_data(as_text=True)
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][:3] == ["时间", "案件", "区域"] and len(table) == 9
    assert table[1][4].startswith("'=HYPERLINK") and "13912345678" not in text
    assert "+86 138-1234-5678" not in text and "张三" not in text
    r = analyst.get("/api/v1/events/list.xlsx?range=24h&source=hotline&lang=en")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = list(sheet.values)
    assert values[0][0] == "Time" and len(values) == 2 and values[1][1] == "hotline/F0"
    with listed.sessions() as session:
        logged = session.execute(select(AuditLog.action, AuditLog.detail).where(AuditLog.action.like("export.events_list%"))).all()  # fmt: skip
    assert sorted(a for a, _d in logged) == ["export.events_list.csv", "export.events_list.xlsx"]
    assert any("rows=8" in d for _a, d in logged)


@pytest.mark.parametrize(
    ("role", "query", "status", "field"),
    [
        ("analyst", "range=1y", 400, "range"),
        ("analyst", "area=NOPE", 400, "area"),
        ("analyst", "start=" + "9" * 5000, 400, "start"),
        ("analyst", "severity=%00", 400, None),  # the gate refuses NUL before anything reads it
        ("duty_officer", "", 403, None),
        ("leader", "", 403, None),
    ],
)
def test_bad_exports_are_refused(client, listed, role, query, status, field):
    from sqlalchemy import func, select

    from dashboard.models import AuditLog
    from tests.conftest import as_role

    r = as_role(client, listed, role).get(f"/api/v1/events/list.csv?{query}")
    assert r.status_code == status
    if field:
        assert field in r.get_json()["fields"]
    with listed.sessions() as session:
        exported = AuditLog.action.like("export.%")
        assert session.execute(select(func.count()).where(exported)).scalar() == 0


# --- the page's callbacks -----------------------------------------------------------------------
BAR = {
    "flow-range.value": "24h",
    "flow-area.data": None,
    "flow-category.value": None,
    "flow-source.value": None,
    "flow-department.value": None,
    "flow-status.value": None,
    "flow-severity.value": None,
    "flow-flags.value": [],
    "flow-query.data": "",
    "flow-lang.data": "zh",
}


def test_the_filter_bar_becomes_the_query_and_bad_values_a_message(client, listed, time_machine):
    from tests.conftest import as_role
    from tests.dash_requests import call

    time_machine.move_to(NOW, tick=False)
    duty = as_role(client, listed, "duty_officer")
    r = call(duty, "flow-query", "flow-area.data", {**BAR, "flow-area.data": "339001", "flow-flags.value": ["overdue", "x"]})  # fmt: skip
    out = r.json["response"]
    assert out["flow-query"]["data"] == "area=339001&overdue=1"
    assert "第1区" in str(out["flow-crumbs"]["children"])
    assert [o["value"] for o in out["flow-area-pick"]["options"]] == ["S1"]
    assert out["flow-exports"]["children"] == []  # a duty officer has no export
    for bad in ({"flow-range.value": "custom", "flow-dates.start_date": 5}, {"flow-range.value": "custom", "flow-dates.start_date": ["x"]}, {"flow-area.data": "NOPE"}, {"flow-severity.value": 9}, {"flow-range.value": "1y"}, {"flow-category.value": "x" * 100}):  # fmt: skip
        r = call(duty, "flow-query", "flow-area.data", {**BAR, **bad})
        assert r.status_code == 200 and r.json["response"]["flow-note"]["children"], bad
    officer = as_role(client.application.test_client(), listed, "district_officer", "339001")
    r = call(officer, "flow-query", "flow-area.data", {**BAR, "flow-area.data": "339002"})
    assert "outside your district" in r.json["response"]["flow-note"]["children"]


def test_the_list_is_fetched_a_block_at_a_time(client, listed, time_machine):
    from tests.conftest import as_role
    from tests.dash_requests import call

    time_machine.move_to(NOW, tick=False)
    duty = as_role(client, listed, "duty_officer")

    def fetch(request, query="range=24h"):
        return call(duty, "flow-grid.getRowsResponse", "flow-grid.getRowsRequest", {"flow-grid.getRowsRequest": request, "flow-query.data": query, "flow-lang.data": "zh"})  # fmt: skip

    r = fetch({"startRow": 0, "endRow": 100, "sortModel": [{"colId": "severity", "sort": "desc"}]})
    got = r.json["response"]["flow-grid"]["getRowsResponse"]
    assert got["rowCount"] == 7 and got["rowData"][0]["case"] == "grid/F4"
    assert "5678" not in str([x["reporter"] for x in got["rowData"]])
    for bad in ({"startRow": "x", "endRow": 10}, {"startRow": 0, "endRow": 10**6}, "rows", {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "title; drop", "sort": "asc"}]}):  # fmt: skip
        assert fetch(bad).status_code == 204, bad
    assert fetch({"startRow": 0, "endRow": 10}, "range=%ZZ&area=" + "x" * 3000).status_code == 204


def test_clicks_drill_down_and_the_charts_answer(client, listed, time_machine):
    from tests.conftest import as_role
    from tests.dash_requests import call

    time_machine.move_to(NOW, tick=False)
    duty = as_role(client, listed, "duty_officer")
    r = call(duty, "flow-category.value", "flow-stuck.cellClicked", {"flow-stuck.cellClicked": {"data": {"status": "dispatched", "department_code": "CG"}}})  # fmt: skip
    out = r.json["response"]
    assert out["flow-status"]["value"] == "dispatched" and out["flow-department"]["value"] == "CG"
    r = call(duty, "flow-category.value", "flow-graph-sankey.clickData", {"flow-graph-sankey.clickData": {"points": [{"customdata": "source:video"}]}})  # fmt: skip
    assert r.json["response"]["flow-source"]["value"] == "video"
    r = call(duty, "flow-category.value", "flow-graph-ageing.clickData", {"flow-graph-ageing.clickData": {"points": [{"customdata": "overdue"}]}, "flow-flags.value": ["urged"]})  # fmt: skip
    assert r.json["response"]["flow-flags"]["value"] == ["overdue", "urged"]
    for junk in ({"points": "x"}, {"points": [None]}, "click", {"points": [{"customdata": "nope:1"}]}):  # fmt: skip
        r = call(duty, "flow-category.value", "flow-graph-sankey.clickData", {"flow-graph-sankey.clickData": junk})  # fmt: skip
        assert r.status_code == 204, junk
    r = call(duty, "flow-graph-funnel", "flow-query.data", {"flow-query.data": "range=24h", "flow-lang.data": "zh"})  # fmt: skip
    out = r.json["response"]
    assert out["flow-graph-funnel"]["figure"]["data"][0]["x"] == [7, 1, 1, 0, 0]
    assert out["flow-stuck"]["rowData"][0]["department_code"] == "CG"
    assert out["flow-count"]["children"] == "共 7 件"
    assert call(duty, "flow-graph-funnel", "flow-query.data", {"flow-query.data": ["x"]}).status_code == 204  # fmt: skip


@pytest.mark.parametrize("sort", [("severity", "desc"), ("severity", "asc"), ("close_deadline", "asc"), ("close_deadline", "desc")])  # fmt: skip
def test_every_plan_of_a_sorted_list_gives_the_same_pages(listed, sort):
    """On SQLite a list sorted by severity or deadline with no filter but the time range is read
    along its index (views.flow._IndexOrder); page by page it must equal the plain query, NULL
    deadlines last ascending and first descending on both databases."""
    model = [{"colId": sort[0], "sort": sort[1]}]
    f = flow.parse({"range": "7d"})
    zone = listed.settings.zone
    with listed.sessions() as session:
        plain = session.execute(flow.list_query(session, f, NOW, zone, 0, 100, model)).scalars().all()  # fmt: skip
        paged = [
            r["external_id"]
            for start in range(0, 9, 3)
            for r in flow.page(session, f, NOW, zone, start, start + 3, model)["rows"]
        ]
    assert paged == [e.external_id for e in plain] and len(paged) == 8
    if sort[0] == "close_deadline":
        nulls = [e.close_deadline is None for e in plain]
        assert nulls == sorted(nulls, reverse=sort[1] == "desc") and any(nulls) and not all(nulls)


def test_a_work_notice_covers_the_ticked_events_or_all_the_filters_select(client, listed, time_machine):  # fmt: skip
    from sqlalchemy import func, select

    from dashboard.models import Event, WorkNotice, WorkNoticeEvent
    from tests.conftest import as_role
    from tests.dash_requests import call

    time_machine.move_to(NOW, tick=False)
    deadline = (NOW + h(8 + 48)).strftime("%Y-%m-%dT%H:%M")  # local time, two days on

    def issue(c, query, picked=None, **fields):
        values = {"flow-notice-issue.n_clicks": 1, "flow-notice-title.value": "关于网格12暴露垃圾的工作提示",
                  "flow-notice-dept.value": "CG", "flow-notice-deadline.value": deadline,
                  "flow-grid.selectedRows": picked, "flow-query.data": query, "flow-lang.data": "zh", **fields}  # fmt: skip
        return str(
            call(c, "flow-notice-result", "flow-notice-issue.n_clicks", values).json["response"]
        )

    duty = as_role(client, listed, "duty_officer")
    assert "覆盖 2 件事件" in issue(duty, "area=G12")  # F1 and F5: what the filters select
    with listed.sessions() as session:
        ids = dict(session.execute(select(Event.external_id, Event.id)).all())
    assert "覆盖 1 件事件" in issue(duty, "area=G12", [{"id": ids["F6"]}])  # the ticked one
    assert "inc-error" in issue(duty, "area=G12", [{"id": "F6"}])  # crafted rows
    assert "inc-error" in issue(
        duty, "area=G12", **{"flow-notice-deadline.value": "2020-01-01T08:00"}
    )
    officer = as_role(client.application.test_client(), listed, "district_officer", "339002")
    assert "inc-error" in issue(officer, "area=339002", [{"id": ids["F1"]}])  # another district's
    leader = as_role(client.application.test_client(), listed, "leader")
    assert "inc-error" in issue(leader, "area=G12")
    with listed.sessions() as session:
        covered = session.execute(
            select(WorkNotice.number, func.count()).join(WorkNoticeEvent).group_by(WorkNotice.number).order_by(WorkNotice.number)
        ).all()  # fmt: skip
    assert [n for _number, n in covered] == [2, 1]
