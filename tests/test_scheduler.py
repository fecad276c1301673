"""One leader across schedulers: each job runs once per tick, and another takes over on death."""

from __future__ import annotations

import time

import pytest

from dashboard.scheduler import JobDef, LeaderScheduler


def recorder(rt, name):
    def job(_rt):
        rt.redis.rpush(rt.live.key("test-runs"), f"{name}:{time.monotonic():.3f}")

    return job


def runs(rt) -> list[str]:
    return [x.split(":")[0] for x in rt.redis.lrange(rt.live.key("test-runs"), 0, -1)]


def wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_two_schedulers_run_each_job_once(rt):
    a = LeaderScheduler(rt, [JobDef("tick", recorder(rt, "a"), 0.5)], ttl=3)
    b = LeaderScheduler(rt, [JobDef("tick", recorder(rt, "b"), 0.5)], ttl=3)
    a.start()
    b.start()
    try:
        assert wait_for(lambda: a.is_leader() or b.is_leader(), 3)
        time.sleep(3)
    finally:
        a.stop()
        b.stop()
    seen = runs(rt)
    assert len(set(seen)) == 1, f"jobs ran in both schedulers: {seen}"
    # Both schedulers fired their job every 0.5 s; only the leader's runs happened.
    assert 4 <= len(seen) <= 9


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_follower_takes_over_when_the_leader_dies(rt):
    a = LeaderScheduler(rt, [JobDef("tick", recorder(rt, "a"), 0.3)], ttl=1.5)
    a.start()
    assert wait_for(a.is_leader, 3)
    b = LeaderScheduler(rt, [JobDef("tick", recorder(rt, "b"), 0.3)], ttl=1.5)
    b.start()
    try:
        time.sleep(0.8)
        assert not b.is_leader()
        a._scheduler.shutdown(wait=False)  # dies without releasing the lock
        assert wait_for(b.is_leader, 1.5 + 1.0), "the follower did not take over within the TTL"
        assert wait_for(lambda: runs(rt)[-1:] == ["b"], 2)
    finally:
        b.stop()
    assert "a" in runs(rt) and "b" in runs(rt)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_failing_job_is_recorded_and_survived(rt):
    def broken(_rt):
        raise RuntimeError("boom")

    s = LeaderScheduler(rt, [JobDef("broken", broken, 60)], ttl=3)
    assert s.elect()
    assert s.run_job(s.jobs[0]) is True
    status = rt.live.job_runs()["broken"]
    assert status["ok"] is False and "boom" in status["error"]
    s.stop()
