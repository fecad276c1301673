"""Live state in Redis: what ingest writes, what reconcile rebuilds, and Redis being down."""

from __future__ import annotations

from datetime import timedelta

import redis
from sqlalchemy import select

from dashboard import reconcile
from dashboard.clock import utcnow
from dashboard.models import Event
from dashboard.runtime import Runtime
from tests.factories import event, step


def load_recent(rt):
    """Three events in the last minutes, one of them taken through to closure."""
    now = utcnow()
    t = now - timedelta(minutes=20)
    items = [
        event(
            "L1", t, "G11", reporter_name="王小明", reporter_phone="13800001111", source="hotline"
        ),
        event("L2", t + timedelta(minutes=1), "G21", sub="0201"),
        event("L3", t + timedelta(minutes=2), "G22"),
    ]
    rt.ingestor.ingest_events(items[:1], now=now)
    rt.ingestor.ingest_events(items[1:], now=now)
    rt.ingestor.transition_event(
        "hotline",
        "L1",
        [
            step("accepted", t + timedelta(minutes=3)),
            step("dispatched", t + timedelta(minutes=4)),
            step("in_progress", t + timedelta(minutes=5)),
            step("resolved", t + timedelta(minutes=6)),
            step("closed", t + timedelta(minutes=7), satisfaction="satisfied"),
        ],
        now=now,
    )
    rt.ingestor.transition_event(
        "grid", "L2", [step("rejected", t + timedelta(minutes=3))], now=now
    )
    return t


def test_ingest_updates_counters_gauges_throughput_ticker(rt, city):
    t = load_recent(rt)
    day = rt.live.day_counts(rt.live.local_day(t))
    assert day["reported"] == 3 and day["closed"] == 1 and day["rejected"] == 1
    assert day["reported:d:339002"] == 2 and day["reported:c:02"] == 1
    assert day["reported:s:hotline"] == 1
    gauges = rt.live.gauges()
    assert gauges["open"] == 1 and gauges["st:reported"] == 1  # only L3 is still open
    assert gauges["open:d:339001"] == 0 and gauges["open:d:339002"] == 1
    assert sum(rt.live.throughput("reported", 60)) == 3
    ticker = rt.live.ticker(10)
    assert [x["title"] for x in ticker][-1] == "事件 L1"  # newest first; L1 was ingested first
    l1 = next(x for x in ticker if x["title"] == "事件 L1")
    assert l1["reporter"] == "王**" and "13800001111" not in str(ticker)
    assert rt.live.version() >= 4
    assert "ingest" in rt.live.heartbeats() and "feed:hotline" in rt.live.heartbeats()


def test_redis_down_ingest_still_commits(rt, city, settings):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    offline = Runtime.create(settings, run_migrations=False, redis_client=dead)
    try:
        res = offline.ingestor.ingest_events([event("R1", utcnow() - timedelta(minutes=1))])
        assert res[0].status == "created"
    finally:
        offline.close()
        dead.close()
    with rt.sessions() as s:
        assert s.execute(select(Event.external_id)).scalars().all() == ["R1"]
    # When Redis is back, reconcile brings the live state up to date.
    assert rt.live.gauges().get("open", 0) == 0
    drift = reconcile.reconcile(rt)
    assert drift and rt.live.gauges()["open"] == 1


def test_sign_in_failures_count_in_a_window_on_both_redis_versions(rt, city):
    """The embedded Redis is 6.2 (no EXPIRE NX); the window opens with the first failure and
    later failures do not extend it."""
    rt.live.count_failure("user", "zhang", 900)
    rt.redis.expire(rt.live._failure_key("user", "zhang"), 100)  # as if 800 s had passed
    for _ in range(2):
        rt.live.count_failure("user", "zhang", 900)
    count, ttl = rt.live.failures("user", "zhang")
    assert count == 3 and 0 < ttl <= 100
    assert rt.live.failures("user", "li") == (0, 0)
    rt.live.clear_failures("user", "zhang")
    assert rt.live.failures("user", "zhang") == (0, 0)


def test_an_alert_action_with_redis_down_is_a_success(client, rt, city, settings):
    """The action is committed; the live update is best-effort (the snapshot repairs it), so
    the answer is success and a retry is a conflict, not a second change."""
    from dashboard.models import Alert
    from tests.conftest import as_role

    now = utcnow()
    with rt.sessions() as session, session.begin():
        session.add(Alert(rule="t", level=2, title="预警", created_at=now, updated_at=now))
    duty = as_role(client, rt, "duty_officer")
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    offline = Runtime.create(settings, run_migrations=False, redis_client=dead)
    duty.application.extensions["dashboard"] = offline
    try:
        r = duty.post("/api/v1/alerts/1/ack", json={"note": "已认领"})
        assert r.status_code == 200 and r.json["state"] == "acknowledged"
        assert duty.post("/api/v1/alerts/1/ack", json={}).status_code == 409
    finally:
        duty.application.extensions["dashboard"] = rt
        offline.close()
        dead.close()
    with rt.sessions() as session:
        assert session.get(Alert, 1).state == "acknowledged"
