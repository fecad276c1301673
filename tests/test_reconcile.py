"""Reconcile (dashboard.reconcile): the live state rebuilt from SQL equals the incremental one,
and corruption is found and repaired."""

from __future__ import annotations

from dashboard import jobs, reconcile
from tests.test_live import load_recent


def test_incremental_state_equals_the_rebuild(rt, city):
    load_recent(rt)
    jobs.sla_sweep(rt)
    assert reconcile.reconcile(rt) == []


def test_reconcile_repairs_corruption(rt, city):
    t = load_recent(rt)
    jobs.sla_sweep(rt)
    live = rt.live
    day_key = live.day_key(live.local_day(t))
    rt.redis.hset(live.key("gauges"), "open", 999)
    rt.redis.hdel(day_key, "reported:d:339002")
    rt.redis.hset(day_key, "bogus", 5)
    rt.redis.delete(live.key("ticker"))
    drift = reconcile.reconcile(rt)
    found = {(d["key"], d["field"]) for d in drift}
    assert (live.key("gauges"), "open") in found
    assert (day_key, "reported:d:339002") in found and (day_key, "bogus") in found
    assert (live.key("ticker"), "*") in found
    assert live.gauges()["open"] == 1
    assert live.day_counts(live.local_day(t))["reported:d:339002"] == 2
    assert "bogus" not in live.day_counts(live.local_day(t))
    assert len(live.ticker(10)) == 3
    assert reconcile.reconcile(rt) == []  # repaired for good
