"""The Dash app: it builds once with every page, callbacks are registered once, and the
overview tiles come from the live state. (Pages in a real browser: tests/test_browser.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

from dashboard.clock import utcnow
from tests.factories import event

PAGES = ["/", "/flow", "/supervision", "/risk", "/talent", "/weekly"]


def test_every_page_is_served(client):
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, path
        assert "市域社会治理综合指挥平台" in r.get_data(as_text=True)


def test_callbacks_are_registered_once(client):
    deps = client.get("/_dash-dependencies").json
    outputs = [d["output"] for d in deps]
    assert len(outputs) == len(set(outputs)) and outputs


def test_no_asset_comes_from_another_host(client):
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") for u in urls), urls
    assert client.get("/vendor/bootstrap/css/bootstrap.min.css").status_code == 200


def test_overview_tiles_show_the_live_state(client, rt, city):
    now = utcnow()
    rt.ingestor.ingest_events(
        [event("W1", now - timedelta(minutes=1)), event("W2", now - timedelta(minutes=1))], now=now
    )
    outputs = ["received", "accepted", "closed", "open", "overdue", "stamp"]
    body = {
        "output": ".." + "...".join(f"overview-tiles-{k}.children" for k in outputs) + "..",
        "outputs": [{"id": f"overview-tiles-{k}", "property": "children"} for k in outputs],
        "inputs": [{"id": "overview-tick", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["overview-tick.n_intervals"],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    resp = r.json["response"]
    assert resp["overview-tiles-received"]["children"] == "2"
    assert resp["overview-tiles-open"]["children"] == "2"


def test_count_format():
    from callbacks.overview import format_count

    assert format_count(9999) == "9,999" and format_count(123456) == "12.35万"
