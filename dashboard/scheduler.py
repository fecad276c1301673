"""The scheduled jobs (DESIGN §7) as a list, and their runner under one leader across processes
(a Redis lock with a TTL).

Every web worker may start a scheduler; only the holder of the lock runs jobs, and another
takes over within the TTL when the holder dies. Run alone with ``python -m dashboard.scheduler``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from redis.exceptions import LockError, RedisError

from dashboard import demo, jobs, reconcile, reports
from dashboard.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobDef:
    name: str
    func: Callable[[Runtime], object]
    seconds: float


def job_definitions(rt: Runtime) -> list[JobDef]:
    defs = [
        JobDef("rollup", jobs.rollup, 60),
        JobDef("sla_sweep", jobs.sla_sweep, 60),
        JobDef("risk", jobs.risk_evaluation, 60),
        JobDef("reconcile", reconcile.reconcile, 300),
        JobDef("live_check", reconcile.live_check, 5),
        JobDef("trim", jobs.trim, 3600),
        JobDef("wall_snapshot", jobs.wall_snapshot, 60),
        JobDef("weekly_report", reports.monday_job, 600),
    ]
    if rt.settings.demo and rt.settings.simulator_rate > 0:
        defs.append(JobDef("simulate", demo.simulate_tick, demo.SIMULATOR_TICK_SECONDS))
        defs.append(JobDef("duty", demo.duty.tick, 60))
    return defs


class LeaderScheduler:
    def __init__(self, rt: Runtime, jobs: list[JobDef] | None = None, ttl: float = 30.0):
        self.rt = rt
        self.jobs = jobs if jobs is not None else job_definitions(rt)
        self.ttl = ttl
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # thread_local=False: the lock is renewed from scheduler threads (NOTES.md).
        self.lock = rt.live.lock("leader", timeout=ttl, thread_local=False)
        self._mutex = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None

    # --- leadership ------------------------------------------------------------------------
    def is_leader(self) -> bool:
        try:
            return self.lock.owned()
        except RedisError:
            return False

    def elect(self) -> bool:
        """Try to become (or stay) the leader. Called every TTL/3."""
        with self._mutex:
            try:
                if self.lock.owned():
                    self.lock.reacquire()
                elif self.lock.acquire(blocking=False):
                    log.info("scheduler %s is now the leader", self.identity)
                else:
                    return False
                self.rt.live.heartbeat("scheduler")
                self.rt.live.set_leader(self.identity, int(self.ttl))
                return True
            except (LockError, RedisError):
                log.warning("leader election failed", exc_info=True)
                return False

    # --- running ---------------------------------------------------------------------------
    def run_job(self, job: JobDef) -> bool:
        """Run a job if this process leads. Exceptions are logged and recorded, never raised."""
        if not self.is_leader():
            return False
        started = time.time()
        status = {"last_run": started, "leader": self.identity}
        try:
            result = job.func(self.rt)
            status |= {"ok": True, "result": result if isinstance(result, dict) else None}
        except Exception as exc:  # a job must survive its own failures
            log.exception("job %s failed", job.name)
            status |= {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        status["seconds"] = round(time.time() - started, 3)
        try:
            self.rt.live.record_job(job.name, status)
        except RedisError:
            log.warning("could not record the status of job %s", job.name)
        return True

    def start(self) -> None:
        sched = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            timezone="UTC",
        )
        sched.add_job(
            self.elect, "interval", seconds=self.ttl / 3, id="_elect", next_run_time=_now()
        )
        for job in self.jobs:
            sched.add_job(self.run_job, "interval", seconds=job.seconds, args=[job], id=job.name)
        sched.start()
        self._scheduler = sched

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        with self._mutex:
            try:
                if self.lock.owned():
                    self.lock.release()
            except (LockError, RedisError):
                pass


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    from dashboard.config import load_settings

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    rt = Runtime.create(load_settings())
    scheduler = LeaderScheduler(rt)
    scheduler.start()
    log.info("scheduler %s running %d jobs", scheduler.identity, len(scheduler.jobs))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        rt.close()


if __name__ == "__main__":
    main()
