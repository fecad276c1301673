"""Shared look-ups and read models (dashboard.refdata, dashboard.queries, dashboard.alerts):
area codes, area lists cut to a district, the one query of alerts."""

from __future__ import annotations

from dashboard import alerts
from dashboard.clock import utcnow
from dashboard.models import Alert
from dashboard.queries import list_areas
from dashboard.refdata import area_by_code, area_codes


def test_area_codes_of_all_a_level_or_some_ids(rt, city):
    with rt.sessions() as session:
        every = area_codes(session)
        assert (
            len(every) == 11 and every[1] == "3390"
        )  # city + 2 × (district, street, community, 2 grids)
        assert set(area_codes(session, "district").values()) == {"339001", "339002"}
        grid = area_by_code(session, "G21")
        assert area_codes(session, ids=[grid.id, None, grid.district_id]) == {
            grid.id: "G21",
            grid.district_id: "339002",
        }
        assert area_codes(session, ids=[]) == {} and area_by_code(session, "nope") is None


def test_area_lists_are_cut_to_one_district(rt, city):
    with rt.sessions() as session:
        district = area_by_code(session, "339001")
        mine = {a["code"] for a in list_areas(session, district_id=district.id)}
        assert mine == {"339001", "S1", "C1", "G11", "G12"}
        grids = list_areas(session, "grid", district_id=district.id)
        assert [a["code"] for a in grids] == ["G11", "G12"] and grids[0]["parent"] == "C1"
        assert list_areas(session, district_id=alerts.NO_DISTRICT) == []


def test_one_query_of_alerts_by_state_level_and_district(rt, city):
    now = utcnow()
    with rt.sessions() as session, session.begin():
        d1, d2 = area_by_code(session, "339001"), area_by_code(session, "G22")
        rows = [
            (1, "active", d1.id, now),
            (3, "active", d2.id, now),
            (2, "resolved", d2.id, now),
            (3, "handling", None, now),
        ]
        for level, state, area, at in rows:
            session.add(
                Alert(
                    rule="t",
                    level=level,
                    area_id=area,
                    title=f"{level}{state}",
                    state=state,
                    created_at=at,
                    updated_at=at,
                )
            )
    with rt.sessions() as session:
        open_ = alerts.list_alerts(session, alerts.OPEN_STATES)
        # most severe first, then the newest (raised at the same moment: the later one)
        assert [a.title for a, _c, _d in open_] == ["1active", "3handling", "3active"]
        where = {a.title: (c, d) for a, c, d in open_}
        assert where["1active"] == ("339001", d1.id) and where["3active"] == ("G22", d2.district_id)
        in_two = alerts.list_alerts(session, district_id=d2.district_id)
        assert sorted(a.title for a, _c, _d in in_two) == ["2resolved", "3active"]
        assert [a.title for a, *_ in alerts.list_alerts(session, level=3, limit=1)] == ["3handling"]
        assert alerts.list_alerts(session, district_id=alerts.NO_DISTRICT) == []
