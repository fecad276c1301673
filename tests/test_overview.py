"""The overview (总览): its read model (dashboard.views.overview) and its callbacks — tiles and
charts from the live state and the minute snapshot, district scope, crafted requests."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import as_role
from tests.dash_requests import SHELL_VALUES, callback, callbacks, route
from tests.factories import event


def test_overview_tiles_show_the_live_state(sign_in, rt, any_hour):
    client = sign_in("leader")
    now = any_hour
    at = now - timedelta(seconds=5)  # today, even ten seconds after midnight
    rt.ingestor.ingest_events([event("W1", at), event("W2", at)], now=now)
    body = callback(client, "overview-tile-received-value", SHELL_VALUES, default=1)
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    resp = r.json["response"]
    assert resp["overview-tile-received-value"]["children"] == "2"
    # Empty figures say why: no case fell due yet, no alert ("0", not "0000")
    assert resp["overview-tile-on_time_closing_rate-value"]["children"] == "—"
    assert "今日尚无到期案件" in str(resp["overview-tile-on_time_closing_rate-delta"]["children"])
    assert resp["overview-tile-alerts-value"]["children"] == "0"
    assert "暂无活跃预警" in str(resp["overview-tile-alerts-delta"]["children"])
    shown = resp["overview-seen-fast"]["data"]
    assert shown == [rt.live.version(), "zh", None, "today"]
    # Nothing changed since: the next refresh does no work and sends nothing back.
    body["state"][0]["value"] = shown
    again = client.post("/_dash-update-component", json=body)
    assert again.status_code == 204
    # The same data in another language is new to the screen.
    body["inputs"][1]["value"] = "en"
    english = client.post("/_dash-update-component", json=body)
    assert english.status_code == 200


def test_overview_charts_from_snapshot(sign_in, rt, any_hour):
    from dashboard import jobs

    client = sign_in("leader")
    now = any_hour
    rt.ingestor.ingest_events([event("C1", now - timedelta(seconds=8))], now=now)
    jobs.wall_snapshot(rt, now=now)
    body = callback(client, "overview-graph-throughput", SHELL_VALUES, default=1)
    body["inputs"][1]["value"] = {"height": 2160, "width": 3840}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    resp = r.json["response"]
    flow = resp["overview-graph-flow"]["figure"]
    assert flow["data"][0]["y"][0] == 1  # one event found today
    assert flow["layout"]["font"]["size"] == 28  # twice the 1080p size on a 2160-px screen
    assert sum(resp["overview-graph-throughput"]["figure"]["data"][0]["y"]) == 1
    area_map = resp["overview-graph-map"]["figure"]["data"][0]
    assert area_map["type"] == "choropleth" and sorted(area_map["locations"]) == [
        "339001",
        "339002",
    ]
    assert len(area_map["geojson"]["features"]) == 2
    # The next refresh, with new data at the same size, patches the data and keeps the layout.
    rt.ingestor.ingest_events([event("C2", now - timedelta(seconds=2))], now=now)
    body["state"][0]["value"] = resp["overview-seen-slow"]["data"]
    patched = client.post("/_dash-update-component", json=body).json["response"]
    flow_patch = patched["overview-graph-flow"]["figure"]
    assert flow_patch["__dash_patch_update"] == "__dash_patch_update"
    ops = {tuple(op["location"]): op["params"]["value"] for op in flow_patch["operations"]}
    assert ops[("data", 0, "y")][0] == 2
    assert not any(loc[0] == "layout" for loc in ops)
    # The map keeps its frame too: its values are sent again, its shapes are not.
    map_ops = patched["overview-graph-map"]["figure"]["operations"]
    sent = {tuple(op["location"]) for op in map_ops}
    assert ("data", 0, "z") in sent and not any("geojson" in loc for loc in sent)


def test_district_scope(rt, city, any_hour):
    from dashboard.views import overview

    now = any_hour
    at = now - timedelta(seconds=5)
    rt.ingestor.ingest_events(
        [event("D1", at, "G11"), event("D2", at, "G12"), event("D3", at, "G21")], now=now
    )
    assert overview.tiles(rt.live, None, now)["received"]["value"] == 3
    assert overview.tiles(rt.live, None, now, "339002")["received"]["value"] == 1
    flow = {s["status"]: s for s in overview.loop_flow(rt.live, now, "339001")}
    assert flow["reported"]["today"] == 2 and flow["reported"]["waiting"] == 2


def test_crafted_overview_requests_get_nothing_or_a_normal_answer(client, rt, city):
    c = as_role(client, rt, "leader")
    for body in callbacks(c):
        if "overview-" not in body["output"]:
            continue
        for junk in (["339001"], {"x": 1}, 12, "339001' OR 1=1", None):
            crafted = dict(
                body,
                inputs=[dict(i, value=junk) for i in body["inputs"]],
                state=[dict(x, value=junk) for x in body["state"]],
            )
            r = c.post("/_dash-update-component", json=crafted)
            assert r.status_code in (200, 204), (body["output"][:40], junk, r.status_code)


def test_department_board_shows_everyone_coloured_by_target():
    """The wall's board: the 红黑榜's order and every department; colours come from the
    target, so 99 % is good in any view and a department is never red for being in the
    lower half."""
    from dashboard import kpi
    from dashboard.views import overview

    rows = kpi.rank(
        [
            {"code": f"D{i}", "name": f"部门{i}", "composite_score": s, "due_closing": n}
            for i, (s, n) in enumerate(
                [(99.4, 50), (99.0, 40), (98.7, 60), (88.0, 30), (70.0, 25), (100.0, 1)]
                + [(95.0 + i / 10, 30) for i in range(8)]
            )
        ]
    )
    board = overview.board(rows, {"composite_score": 90.0})
    assert len(board) == 14  # all of them, not the best and worst five
    assert [r["rank"] for r in board[:-1]] == list(range(1, 14))
    assert board[-1]["small_sample"] and board[-1]["n"] == 1  # one case: last, unranked
    standing = {r["name"]: r["standing"] for r in board}
    assert standing["部门0"] == standing["部门2"] == "good"  # 99.4 and 98.7: above the target
    assert standing["部门3"] == "near" and standing["部门4"] == "poor"
    # A department with no case due this week has no score: the chart says how many.
    from callbacks.overview import _board

    fig = _board(board, "zh", unscored=2)
    assert len(fig["data"][0]["y"]) == 14
    assert fig["layout"]["annotations"][0]["text"] == "另有 2 个部门本周无到期案件"
    assert "annotations" not in _board(board, "zh")["layout"]


def test_a_ticker_row_names_the_kind_once():
    from dashboard.views.overview import ticker_title

    assert ticker_title("樟园社区共享单车乱停放", "共享单车乱停放") == "樟园社区"
    assert ticker_title("小区停车位被占", "物业纠纷") == "小区停车位被占"
    assert ticker_title("物业纠纷", "物业纠纷") == "物业纠纷"  # nothing else to show


def test_the_rolling_window_is_useful_just_after_midnight(sign_in, rt, time_machine):
    """Ten seconds after midnight "today" is empty; ?window=24h shows the last 24 hours against
    the 24 before them, and every count tile the month so far."""
    from dashboard import jobs
    from dashboard.clock import utcnow
    from dashboard.views import overview
    from tests.conftest import MOMENTS

    time_machine.move_to(MOMENTS["after_midnight"], tick=False)
    now = utcnow()
    client = sign_in("leader")
    reports = [event("R1", now - timedelta(hours=2)), event("R2", now - timedelta(hours=23))]
    reports += [event("R3", now - timedelta(hours=30), grid="G21")]
    reports += [event("R4", now - timedelta(hours=50))]  # 16 Nov: outside both windows
    rt.ingestor.ingest_events(reports, now=now)
    jobs.wall_snapshot(rt, now=now)
    snapshot = rt.live.document("wall")
    today = overview.tiles(rt.live, snapshot, now)
    rolling = overview.tiles(rt.live, snapshot, now, window="24h")
    assert today["received"]["value"] == 0
    assert (rolling["received"]["value"], rolling["received"]["before"]) == (2, 1)
    assert rolling["received"]["month"] == today["received"]["month"] == 4
    district = overview.tiles(rt.live, snapshot, now, "339002", window="24h")["received"]
    assert (district["value"], district["before"]) == (0, 1)
    charts = overview.charts(rt.live, now, window="24h")
    assert sum(n for _name, n in charts["categories"]) == 2
    assert sum(n for _name, n in charts["sources"]) == 2
    assert {s["status"]: s["today"] for s in charts["loop"]}["reported"] == 2
    # The page says which window it shows, and comes with its figures.
    page = str(route(client, "/", "?window=24h").json["response"])
    assert "近24小时受理" in page and "较前24小时" in page and "本月 4" in page
    assert "今日受理" in str(route(client, "/", "").json["response"])
    # A window the page does not know is today's.
    assert "今日受理" in str(route(client, "/", "?window=1y%27").json["response"])
    # Today's panels say why they are empty instead of drawing blank boxes.
    body = callback(client, "overview-graph-throughput", SHELL_VALUES, default=1)
    resp = client.post("/_dash-update-component", json=body).json["response"]
    for name in ("category", "source"):
        note = resp[f"overview-graph-{name}"]["figure"]["layout"]["annotations"][0]["text"]
        assert note == "今日暂无新事件"
    # The windows' counts are new every minute; their rates every five minutes.
    first = rt.live.document("wall")["window_rates"]["at"]
    jobs.wall_snapshot(rt, now=now + timedelta(minutes=1))
    assert rt.live.document("wall")["window_rates"]["at"] == first
    jobs.wall_snapshot(rt, now=now + timedelta(minutes=5))
    assert rt.live.document("wall")["window_rates"]["at"] != first
