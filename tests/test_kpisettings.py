"""Versioned KPI configuration: a change is in force from its moment on, past periods keep the
configuration they had, bad values are refused field by field, and every change is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from dashboard import kpisettings
from dashboard.models import AuditLog, KpiSetting
from dashboard.queries import kpi_report
from dashboard.schemas import InputError
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
