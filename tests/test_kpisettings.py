"""Versioned KPI configuration: a change is in force from its moment on, past periods keep the
configuration they had, bad values are refused field by field, and every change is audited."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import kpisettings
from dashboard.clock import utcnow
from dashboard.models import AuditLog, KpiSetting
from dashboard.queries import kpi_report
from dashboard.schemas import InputError
from tests.conftest import as_role
from tests.dash_requests import call
from tests.factories import T0, event, h, step

WEIGHTS = {"on_time_closing_rate": 100, "closing_rate": 0, "satisfaction_rate": 0,
           "rework_rate": 0, "timely_dispatch_rate": 0}  # fmt: skip


def test_a_change_applies_from_its_moment_and_past_periods_keep_theirs(rt, city):
    # One case, closed late: 按期结案率 0, 结案率 1, 及时派遣率 1, no rework, no rating.
    rt.ingestor.ingest_events([event("K1", T0)], now=T0 + h(200))
    steps = [step("accepted", T0), step("dispatched", T0 + h(0.5)), step("in_progress", T0 + h(1))]
    steps += [step("resolved", T0 + h(60)), step("closed", T0 + h(70))]
    rt.ingestor.transition_event("grid", "K1", steps, now=T0 + h(200))

    def score(now):
        with rt.sessions() as s:
            r = kpi_report(s, T0, T0 + h(168), now)
        return r["composite_score"], r["settings_versions"]["composite_weights"]

    # Defaults: (40·0 + 20·1 + 10·1 + 10·1) / 80 (satisfaction has no value).
    assert score(T0 + h(200))[0] == pytest.approx(100 * 40 / 80)
    with rt.sessions() as s, s.begin():
        row = kpisettings.save(
            s, "composite_weights", WEIGHTS, "admin", now=T0 + h(300), note="只看按期结案率"
        )
        version = row.id
    # The week ended before the change: it keeps the defaults, however late it is recomputed.
    assert score(T0 + h(400)) == (pytest.approx(50.0), None)
    with rt.sessions() as s:
        later = kpi_report(s, T0 + h(300), T0 + h(400), T0 + h(400))
        config = kpisettings.in_force(s, T0 + h(301))
        audit = s.execute(
            select(AuditLog).where(AuditLog.action == "kpi_settings.save")
        ).scalar_one()
    assert later["settings_versions"]["composite_weights"] == version
    assert config.composite_weights["on_time_closing_rate"] == 100
    assert audit.actor == "admin" and json.loads(audit.detail)["changed"]["closing_rate"] == [20, 0]


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("composite_weights", WEIGHTS | {"closing_rate": "20"}, "closing_rate"),
        ("composite_weights", WEIGHTS | {"closing_rate": True}, "closing_rate"),
        ("composite_weights", WEIGHTS | {"closing_rate": float("nan")}, "closing_rate"),
        ("composite_weights", WEIGHTS | {"closing_rate": -1}, "closing_rate"),
        ("composite_weights", WEIGHTS | {"x\x00y": 1}, "x\x00y"),
        ("composite_weights", dict.fromkeys(WEIGHTS, 0), "values"),
        (
            "composite_weights",
            {k: v for k, v in WEIGHTS.items() if k != "rework_rate"},
            "rework_rate",
        ),
        (
            "wuzhi_targets",
            kpisettings.DEFAULTS["wuzhi_targets"] | {"feed_uptime": 0},
            "feed_uptime",
        ),
        (  # a rate target above 1 could never be met
            "wuzhi_targets",
            kpisettings.DEFAULTS["wuzhi_targets"] | {"feed_uptime": 1.5},
            "feed_uptime",
        ),
        (
            "kpi_targets",
            kpisettings.DEFAULTS["kpi_targets"] | {"composite_score": 101},
            "composite_score",
        ),
        ("composite_weights", kpisettings.DEFAULTS["composite_weights"], "values"),  # no change
        ("nonsense", {}, "kind"),
        ("wuzhi_weights", ["political"], "values"),
    ],
)
def test_bad_values_are_refused_field_by_field_and_nothing_is_written(
    rt, city, kind, values, field
):
    with rt.sessions() as s, s.begin(), pytest.raises(InputError) as exc:
        kpisettings.save(s, kind, values, "admin", now=T0)
    assert field in exc.value.errors
    with rt.sessions() as s:
        assert s.execute(select(func.count()).select_from(KpiSetting)).scalar() == 0


def test_a_change_cannot_rewrite_the_past(rt, city):
    with rt.sessions() as s, s.begin(), pytest.raises(InputError) as exc:
        kpisettings.save(s, "composite_weights", WEIGHTS, "admin", now=T0, effective_from=T0 - h(1))
    assert "effective_from" in exc.value.errors
    with rt.sessions() as s, s.begin(), pytest.raises(InputError) as exc:
        kpisettings.save(s, "composite_weights", WEIGHTS, "admin", now=T0, note="x" * 501)
    assert "note" in exc.value.errors


def _kpi_call(c, values: dict, trigger: str = "admin-kpi-save.n_clicks") -> dict:
    values = {"admin-lang.data": "zh", "admin-kpi-kind.value": "composite_weights"} | values
    r = call(c, "admin-kpi-grid", trigger, values)
    assert r.status_code == 200, r.data[:300]
    return r.json["response"]


def _edited(rows: list[dict], **values) -> list[dict]:
    return [r | {"value": values[r["key"]]} if r["key"] in values else r for r in rows]


def test_admins_edit_the_settings_on_their_page_as_versions(client, rt, city):
    admin = as_role(client, rt, "admin")
    shown = _kpi_call(admin, {"admin-kpi-page.id": "admin-kpi-page"}, "admin-kpi-page.id")
    rows = shown["admin-kpi-grid"]["rowData"]
    first = rows[0]
    assert (first["key"], first["name"], first["value"]) == (
        "on_time_closing_rate",
        "按期结案率",
        40,
    )
    assert first["in_force"] == "40 (40%)" and shown["admin-kpi-versions"]["rowData"] == []
    # Save now, with a reason that holds a phone number: in force at once, the note masked.
    saved = _kpi_call(
        admin,
        {
            "admin-kpi-save.n_clicks": 1,
            "admin-kpi-grid.rowData": _edited(rows, on_time_closing_rate=60),
            "admin-kpi-note.value": "按期结案权重提高，联系 138 1234 5678",
        },
    )
    assert "已保存第" in str(saved["admin-kpi-result"])
    (version,) = saved["admin-kpi-versions"]["rowData"]
    assert version["status"] == "生效中" and version["actor"].startswith("admin")
    assert version["changes"] == "按期结案率 40 (40%)→60 (50%)"
    assert "5678" in version["note"] and "1234" not in version["note"]
    assert saved["admin-kpi-grid"]["rowData"][0]["in_force"] == "60 (50%)"
    with rt.sessions() as s:
        config = kpisettings.in_force(s, utcnow())
        report = kpi_report(s, utcnow() - h(24), utcnow(), utcnow())
        audit = s.execute(select(AuditLog).where(AuditLog.action == "kpi_settings.save")).scalar()
    assert config.composite_weights["on_time_closing_rate"] == 60
    assert report["settings_versions"]["composite_weights"] == version["id"]
    assert json.loads(audit.detail)["changed"] == {"on_time_closing_rate": [40.0, 60.0]}
    # From a later day: pending until then; the values in force now do not change.
    zone = rt.settings.zone
    tomorrow = (utcnow().replace(tzinfo=UTC).astimezone(zone) + timedelta(days=1)).date()
    pending = _kpi_call(
        admin,
        {
            "admin-kpi-save.n_clicks": 2,
            "admin-kpi-grid.rowData": _edited(rows, satisfaction_rate=30),
            "admin-kpi-from.date": tomorrow.isoformat(),
            "admin-kpi-note.value": "下周起",
        },
    )
    newest = pending["admin-kpi-versions"]["rowData"][0]
    assert newest["status"] == "待生效" and newest["effective_from"].startswith(str(tomorrow))
    assert newest["effective_from"].endswith("00:00:00")  # local midnight
    assert pending["admin-kpi-grid"]["rowData"][0]["in_force"] == "60 (50%)"
    # The weights' sum follows the edits.
    total = call(
        admin,
        "admin-kpi-sum",
        "admin-kpi-grid.cellValueChanged",
        {
            "admin-kpi-grid.rowData": _edited(rows, on_time_closing_rate=140),
            "admin-kpi-kind.value": "composite_weights",
            "admin-lang.data": "zh",
        },
    ).json["response"]
    assert total["admin-kpi-sum"]["children"] == "权重合计 200，按占比折算"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"admin-kpi-note.value": ""}, "note"),
        ({"admin-kpi-grid.rowData": "rows"}, "values"),
        ({"admin-kpi-grid.rowData": [1, 2]}, "values"),
        (
            {"admin-kpi-grid.rowData": [{"key": "on_time_closing_rate", "value": "abc"}]},
            "按期结案率",
        ),
        ({"admin-kpi-grid.rowData": [{"key": "x" * 100_000, "value": 1}]}, "unknown name"),
        ({"admin-kpi-grid.rowData": [{"key": "x\x00", "value": 1}]}, "NUL"),
        ({"admin-kpi-note.value": "x" * 501}, "note"),
        ({"admin-kpi-note.value": "a\x00b"}, "NUL"),
        ({"admin-kpi-from.date": "2020-01-01"}, "effective_from"),
        ({"admin-kpi-from.date": "2026-13-45"}, "effective_from"),
        ({"admin-kpi-from.date": {"$gt": 1}}, "effective_from"),
        (
            {"admin-kpi-kind.value": ["composite_weights"], "admin-kpi-grid.rowData": []},
            "按期结案率",
        ),
    ],
)
def test_crafted_settings_are_refused_with_the_field_and_nothing_is_written(
    client, rt, city, values, message
):
    admin = as_role(client, rt, "admin")
    rows = _kpi_call(admin, {"admin-kpi-page.id": "p"}, "admin-kpi-page.id")["admin-kpi-grid"]
    good = {
        "admin-kpi-save.n_clicks": 1,
        "admin-kpi-grid.rowData": _edited(rows["rowData"], closing_rate=25),
        "admin-kpi-note.value": "调整",
    }
    sent = {"admin-lang.data": "zh", "admin-kpi-kind.value": "composite_weights"} | good | values
    r = call(admin, "admin-kpi-grid", "admin-kpi-save.n_clicks", sent)
    if r.status_code == 400:  # refused before any callback runs (NUL anywhere in the body)
        assert message in r.json["error"]
    else:
        assert r.status_code == 200, r.data[:300]
        result = str(r.json["response"]["admin-kpi-result"])
        assert "danger" in result and message in result, result
    with rt.sessions() as s:
        assert s.execute(select(func.count()).select_from(KpiSetting)).scalar() == 0
        assert not s.execute(select(AuditLog).where(AuditLog.action == "kpi_settings.save")).first()


def test_only_admins_reach_the_settings(client, rt, city):
    for role in ("leader", "duty_officer", "analyst"):
        c = as_role(client, rt, role)
        r = call(c, "admin-kpi-grid", "admin-kpi-save.n_clicks", {"admin-kpi-save.n_clicks": 1})
        assert r.status_code in (403, 204), (role, r.status_code)
    with rt.sessions() as s:
        assert s.execute(select(func.count()).select_from(KpiSetting)).scalar() == 0
