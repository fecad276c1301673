"""Area scope (dashboard.access, DESIGN §8): a district-bound person sees and acts on their own
district only — pages, callbacks and the API — and one bound to no district sees nothing.
(Roles against every page, callback and endpoint: tests/test_gate.py.)"""

from __future__ import annotations

from datetime import timedelta

from dashboard.clock import utcnow
from dashboard.models import Alert
from tests.conftest import as_role, rt_client
from tests.dash_requests import callbacks, route, scoped
from tests.factories import event


def _alerts(rt):
    now = utcnow()
    with rt.sessions() as session, session.begin():
        for n, area in ((1, 2), (2, 7)):  # area ids: district 1 is 2, district 2 is 7 (factories)
            session.add(
                Alert(
                    rule="test",
                    level=n,
                    area_id=area,
                    subject=f"s{n}",
                    title=f"预警{n}",
                    state="active",
                    escalated=False,
                    evidence="{}",
                    created_at=now,
                    updated_at=now,
                )
            )
    with rt.sessions() as session:
        from sqlalchemy import select

        return {a.area_id: a.id for a in session.execute(select(Alert)).scalars()}


def test_a_district_officer_gets_nothing_of_another_district(client, rt, city, clock):
    from dashboard import jobs

    now = clock
    at = now - timedelta(minutes=2)
    rt.ingestor.ingest_events(
        [event("X1", at, "G11"), event("X2", at, "G21"), event("X3", at, "G22")], now=now
    )
    ids = _alerts(rt)
    jobs.wall_snapshot(rt, now=now)
    c = as_role(client, rt, "district_officer", "339001")
    # The overview, as a crafted callback for district 2: nothing comes back.
    tiles = next(b for b in callbacks(c) if "overview-tile-received-value" in b["output"])
    assert c.post("/_dash-update-component", json=scoped(tiles, "339002")).status_code == 204
    # … asking for nothing in particular shows their own district, not the city.
    own = c.post("/_dash-update-component", json=scoped(tiles, None)).json["response"]
    assert own["overview-tile-received-value"]["children"] == "1"  # city-wide would be 3
    charts = next(b for b in callbacks(c) if "overview-graph-map" in b["output"])
    assert c.post("/_dash-update-component", json=scoped(charts, "339002")).status_code == 204
    resp = c.post("/_dash-update-component", json=scoped(charts, None)).json["response"]
    assert resp["overview-districts"]["data-codes"] == "339001"
    alerts = str(resp["overview-list-alerts"])
    assert "预警2" not in alerts and "预警1" in alerts
    # The page URL for another district renders a refusal, not the page.
    page = route(c, "/", "?district=339002")
    assert page.status_code == 200 and "overview-refused" in page.get_data(as_text=True)
    assert "overview-fast" not in page.get_data(as_text=True)
    # The API: other areas refused, lists cut to the district.
    assert c.get("/api/v1/kpis?area=339002").status_code == 403
    assert c.get("/api/v1/kpis?area=S2").status_code == 403
    assert c.get("/api/v1/kpis?area=3390").status_code == 403  # the whole city
    mine = c.get("/api/v1/kpis").json
    assert mine["area"] == "339001" and mine["received"] == 1
    assert c.get("/api/v1/kpis?area=S1").status_code == 200
    codes = {a["code"] for a in c.get("/api/v1/areas").json["areas"]}
    assert codes and all(code in {"339001", "S1", "C1", "G11", "G12"} for code in codes)
    assert [a["title"] for a in c.get("/api/v1/alerts").json["alerts"]] == ["预警1"]
    assert c.post(f"/api/v1/alerts/{ids[7]}/ack", json={}).status_code == 403
    assert c.post(f"/api/v1/alerts/{ids[2]}/ack", json={}).status_code == 200
    # A city-wide role sees both.
    leader = as_role(rt_client(client), rt, "leader")
    assert len(leader.get("/api/v1/alerts").json["alerts"]) == 2


def test_a_district_officer_without_a_district_sees_nothing(client, rt, city):
    from sqlalchemy import update

    from dashboard.models import User

    c = as_role(client, rt, "district_officer", "339001")
    with rt.sessions() as session, session.begin():
        session.execute(update(User).where(User.role == "district_officer").values(area_id=None))
    assert c.get("/api/v1/kpis").status_code == 403
    assert c.get("/api/v1/alerts").json["alerts"] == []
    tiles = next(b for b in callbacks(c) if "overview-tile-received-value" in b["output"])
    assert c.post("/_dash-update-component", json=tiles).status_code == 204
