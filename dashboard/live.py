"""Redis live state the wall shows. This module owns every Redis key name.

Keys carry the hash tag ``{live}`` (or ``{sched}``) so that all of them land in one slot of a
Redis Cluster. Everything here can be rebuilt from SQL (see ``jobs.reconcile``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import redis
from redis.client import Pipeline

from dashboard.clock import epoch, local_day, utcnow
from dashboard.domain import STATUSES, TERMINAL

log = logging.getLogger(__name__)

DAY_TTL = 3 * 86400
THROUGHPUT_TTL = 26 * 3600
TICKER_LENGTH = 500
# A batch adds at most this many ticker items (its newest): the wall shows the latest few.
TICKER_PER_BATCH = 100
# Which transitions the live state holds, in sets per hour of publishing: a publish or a
# reconcile's catch-up applies a transition only if neither this hour's nor the last hour's set
# has its key. Two hours cover the time from a commit to its publish many times over.
APPLIED_TTL = 2 * 3600
# Applied once (LiveState.record): KEYS 1 this hour's applied set, 2 the last hour's, 3 version,
# 4 heartbeats, 5… the data keys. ARGV 1 applied TTL, 2 ticker length, 3 the number of changes,
# then per change: its key, its number of ops, and per op (kind, key index, a, b) — H: HINCRBY
# field a by b; X: XADD data a — then expiries (key index, seconds) and heartbeats (field,
# value), each list after its length.
RECORD_SCRIPT = """
local i = 4
local fresh_count = 0
for c = 1, tonumber(ARGV[3]) do
  local ck = ARGV[i]
  local nops = tonumber(ARGV[i + 1])
  i = i + 2
  local fresh = redis.call('SISMEMBER', KEYS[2], ck) == 0 and redis.call('SADD', KEYS[1], ck) == 1
  if fresh then fresh_count = fresh_count + 1 end
  for o = 1, nops do
    if fresh then
      local key = KEYS[tonumber(ARGV[i + 1])]
      if ARGV[i] == 'H' then
        redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3])
      else
        redis.call('XADD', key, 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[i + 2])
      end
    end
    i = i + 4
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
local n = tonumber(ARGV[i])
i = i + 1
for e = 1, n do
  redis.call('EXPIRE', KEYS[tonumber(ARGV[i])], ARGV[i + 1])
  i = i + 2
end
n = tonumber(ARGV[i])
i = i + 1
for b = 1, n do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('INCR', KEYS[3])
return fresh_count
"""


@dataclass(frozen=True)
class Change:
    """One transition as the live state sees it (codes, not ids)."""

    status: str
    from_status: str | None
    at: datetime  # naive UTC
    district: str
    category: str
    source: str
    was_overdue: bool = False  # counted in the overdue gauge by the last SLA sweep
    event_id: int = 0

    @property
    def key(self) -> str:
        """The transition's identity (an event reaches a status at a time once): the live state
        applies each transition once, whoever publishes it and however often."""
        return change_key(self.event_id, self.status, self.at)


def change_key(event_id: int, status: str, at: datetime) -> str:
    return f"{event_id}:{status}:{at.replace(tzinfo=UTC).timestamp():.6f}"


@dataclass(frozen=True)
class TickerItem:
    """A new event for the ticker; personal data already masked."""

    event_id: int
    at: datetime
    district: str
    category: str
    subcategory: str
    severity: int
    title: str
    source: str
    reporter: str | None = None

    def as_fields(self) -> dict[str, str]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["at"] = self.at.isoformat()
        return {"data": orjson.dumps(data).decode()}


@dataclass
class Snapshot:
    """The live state computed from SQL, in the shape Redis holds it (filled with the add_*
    methods, which name the fields as `LiveState.record` does)."""

    days: dict[str, dict[str, int]] = field(default_factory=dict)  # local day → counters
    throughput: dict[str, dict[str, int]] = field(default_factory=dict)  # hour key → fields
    gauges: dict[str, int] = field(default_factory=dict)
    ticker: list[TickerItem] = field(default_factory=list)  # oldest first
    applied: set[str] = field(default_factory=set)  # keys of the recent transitions it holds

    def add_day(self, day: date, change: Change, n: int) -> None:
        """`n` transitions like `change` on a local day."""
        counts = self.days.setdefault(day.isoformat(), {})
        for name in LiveState.day_fields(change):
            counts[name] = counts.get(name, 0) + n

    def expect_hours(self, first_hour: int, last_hour: int) -> None:
        """The throughput hours (epoch seconds) the snapshot covers, even when empty."""
        for h in range(first_hour, last_hour + 1, 3600):
            self.throughput.setdefault(str(h), {})

    def add_minute(self, minute: int, status: str, district: str, n: int) -> None:
        hour = self.throughput.get(str(minute - minute % 3600))
        if hour is None:
            return  # outside the hours the stream keeps
        for name in LiveState.minute_fields(minute, status, district):
            hour[name] = hour.get(name, 0) + n

    def add_open(self, status: str, district: str, n: int) -> None:
        """`n` open events in a status in a district."""
        for name in ("open", f"open:d:{district}", f"st:{status}", f"st:{status}:d:{district}"):
            self.gauges[name] = self.gauges.get(name, 0) + n

    def set_overdue(self, total: int, by_district: dict[str, int]) -> None:
        self.gauges |= LiveState.overdue_fields(total, by_district)


class LiveUnavailable(redis.ConnectionError):
    """Redis failed moments ago: not tried again until the breaker's cool-down has passed."""


class Breaker:
    """A circuit breaker in front of Redis. After a failure (down, or hung past the socket
    timeout) nothing waits on Redis for `cooldown` seconds: calls fail at once, so ingest keeps
    its pace and pages keep what they show. Once Redis answers again the live state is marked
    stale, and the scheduler's live check rebuilds it from SQL (what was skipped meanwhile)."""

    FAILURES = (redis.ConnectionError, redis.TimeoutError, OSError)

    def __init__(self, cooldown: float = 5.0):
        self.cooldown = cooldown
        self.open_until = 0.0
        self.missed = False  # calls failed or were skipped: the live state may lack changes
        self._lock = threading.Lock()

    def call(self, fn, *args, on_recovery=None, **kwargs):
        if time.monotonic() < self.open_until:
            self.missed = True
            raise LiveUnavailable("Redis was unavailable moments ago")
        try:
            result = fn(*args, **kwargs)
        except self.FAILURES:
            with self._lock:
                self.open_until = time.monotonic() + self.cooldown
                self.missed = True
            raise
        if self.missed and on_recovery is not None:
            with self._lock:
                missed, self.missed = self.missed, False
            if missed:
                on_recovery()
        return result


class _Guarded:
    """A Redis client (or pipeline) whose every call goes through the breaker."""

    def __init__(self, target, breaker: Breaker, on_recovery):
        self._target, self._breaker, self._on_recovery = target, breaker, on_recovery

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if name == "pipeline":
            return lambda *a, **k: _Guarded(attr(*a, **k), self._breaker, self._on_recovery)
        if not callable(attr) or (isinstance(self._target, Pipeline) and name != "execute"):
            return attr  # a pipeline only queues commands until execute()
        return lambda *a, **k: self._breaker.call(attr, *a, on_recovery=self._on_recovery, **k)


class LiveState:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "cc",
        zone: ZoneInfo | None = None,
        breaker: Breaker | None = None,
    ):
        self.raw = client
        self.breaker = breaker or Breaker()
        self._record = client.register_script(RECORD_SCRIPT)
        self.r = _Guarded(client, self.breaker, self._mark_stale)
        self.prefix = prefix
        self.zone = zone or ZoneInfo("Asia/Shanghai")

    # --- key names -------------------------------------------------------------------------
    def key(self, name: str) -> str:
        return f"{self.prefix}:{{live}}:{name}"

    def sched_key(self, name: str) -> str:
        return f"{self.prefix}:{{sched}}:{name}"

    def day_key(self, day: date) -> str:
        return self.key(f"day:{day.isoformat()}")

    def throughput_key(self, hour_epoch: int) -> str:
        return self.key(f"tput:{hour_epoch}")

    # --- time helpers ----------------------------------------------------------------------
    def local_day(self, at_utc: datetime) -> date:
        return local_day(at_utc, self.zone)

    # --- writing ---------------------------------------------------------------------------
    @staticmethod
    def day_fields(change: Change) -> list[str]:
        s, d = change.status, change.district
        fields = [s, f"{s}:d:{d}", f"{s}:c:{change.category}", f"{s}:s:{change.source}"]
        if s == "reported":  # today's mix for one district's view
            fields += [f"{s}:dc:{d}:{change.category}", f"{s}:ds:{d}:{change.source}"]
        return fields

    @staticmethod
    def minute_fields(minute: int, status: str, district: str) -> list[str]:
        return [f"{minute}:{status}", f"{minute}:{status}:d:{district}"]

    @staticmethod
    def overdue_fields(total: int, by_district: dict[str, int]) -> dict[str, int]:
        return {"overdue": total} | {f"overdue:d:{d}": n for d, n in by_district.items()}

    @staticmethod
    def gauge_deltas(change: Change) -> Counter:
        delta: Counter = Counter()
        if change.from_status is None:
            delta["open"] += 1
            delta[f"open:d:{change.district}"] += 1
        else:
            delta[f"st:{change.from_status}"] -= 1
            delta[f"st:{change.from_status}:d:{change.district}"] -= 1
        if change.status in TERMINAL:
            delta["open"] -= 1
            delta[f"open:d:{change.district}"] -= 1
            if change.was_overdue:
                delta["overdue"] -= 1
                delta[f"overdue:d:{change.district}"] -= 1
        else:
            delta[f"st:{change.status}"] += 1
            delta[f"st:{change.status}:d:{change.district}"] += 1
        return delta

    def applied_keys(self, now: float | None = None) -> tuple[str, str]:
        """This hour's and the last hour's sets of applied transition keys."""
        hour = int((now or time.time()) // 3600 * 3600)
        return self.key(f"applied:{hour}"), self.key(f"applied:{hour - 3600}")

    def record(
        self,
        changes: list[Change],
        ticker: list[TickerItem] = (),
        now_utc: datetime | None = None,
        heartbeats: tuple[str, ...] | list[str] = (),
    ) -> int:
        """Apply committed changes — counters, throughput, gauges, ticker items of new events —
        each transition once (one applied already, by an earlier publish or by a reconcile, is
        skipped), in one atomic round trip. Returns how many were new."""
        if not changes:
            return 0
        now_utc = now_utc or utcnow()
        today = self.local_day(now_utc)
        oldest_day = today - timedelta(days=1)
        horizon = now_utc - timedelta(hours=25)
        newest = list(ticker)[-TICKER_PER_BATCH:]  # the wall shows the latest few
        shown = {change_key(t.event_id, "reported", t.at): t for t in newest}
        keys: dict[str, int] = {}
        expiries: dict[str, int] = {}

        def index(key: str, ttl: int | None = None) -> int:
            if ttl:
                expiries[key] = ttl
            return keys.setdefault(key, len(keys) + 5)  # after the script's four fixed keys

        args: list = []
        for c in changes:
            ops: list[tuple] = []
            day = self.local_day(c.at)
            if oldest_day <= day <= today:
                k = index(self.day_key(day), DAY_TTL)
                ops += [("H", k, name, 1) for name in self.day_fields(c)]
            if c.at >= horizon:
                second = epoch(c.at)
                k = index(self.throughput_key(second - second % 3600), THROUGHPUT_TTL)
                minute = second - second % 60
                ops += [
                    ("H", k, name, 1) for name in self.minute_fields(minute, c.status, c.district)
                ]
            gauges = index(self.key("gauges"))
            ops += [("H", gauges, name, n) for name, n in self.gauge_deltas(c).items() if n]
            item = shown.get(c.key) if c.status == "reported" else None
            if item is not None:
                ops.append(("X", index(self.key("ticker")), item.as_fields()["data"], ""))
            args += [c.key, len(ops)]
            for op in ops:
                args += op
        args.append(len(expiries))
        for key, ttl in expiries.items():
            args += [keys[key], ttl]
        stamp = f"{time.time():.3f}"
        args.append(len(heartbeats))
        for name in heartbeats:
            args += [name, stamp]
        fixed = [*self.applied_keys(), self.key("version"), self.key("hb")]
        return self.breaker.call(
            self._record,
            keys=fixed + sorted(keys, key=keys.get),
            args=[APPLIED_TTL, TICKER_LENGTH, len(changes), *args],
            on_recovery=self._mark_stale,
        )

    def set_overdue(self, total: int, by_district: dict[str, int]) -> None:
        """Overdue gauges are absolute values written by the SLA sweep."""
        current = self.r.hgetall(self.key("gauges"))
        pipe = self.r.pipeline(transaction=True)
        stale = [f for f in current if f.startswith("overdue:d:") and f[10:] not in by_district]
        if stale:
            pipe.hdel(self.key("gauges"), *stale)
        pipe.hset(self.key("gauges"), mapping=self.overdue_fields(total, by_district))
        changed = str(total) != current.get("overdue") or any(
            current.get(f"overdue:d:{d}") != str(n) for d, n in by_district.items()
        )
        if changed or stale:
            pipe.incr(self.key("version"))
        pipe.execute()

    def set_document(self, name: str, data: dict, bump: bool = True) -> None:
        """Store a JSON document the wall reads (the minute snapshot, the map shapes)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.key(f"doc:{name}"), orjson.dumps(data))
        if bump:
            pipe.incr(self.key("version"))
        pipe.execute()

    def drop_document(self, name: str) -> None:
        self.r.delete(self.key(f"doc:{name}"))

    def document(self, name: str) -> dict | None:
        raw = self.r.get(self.key(f"doc:{name}"))
        return orjson.loads(raw) if raw else None

    def bump(self) -> None:
        """Something the wall shows changed outside the counters (an alert's state, say)."""
        self.r.incr(self.key("version"))

    def bump_quietly(self) -> None:
        """`bump` after a committed change: Redis being away must not fail what is done (the
        next snapshot brings the wall up to date)."""
        try:
            self.bump()
        except redis.RedisError:
            log.warning("live version not bumped: Redis is unavailable")

    def heartbeat(self, name: str) -> None:
        self.r.hset(self.key("hb"), name, f"{time.time():.3f}")

    # --- the scheduler ---------------------------------------------------------------------
    def lock(self, name: str, timeout: float, **kwargs):
        """A redis-py lock shared by every process of this installation (the scheduler's
        leader, the first start's bootstrap)."""
        return self.r.lock(self.sched_key(name), timeout=timeout, **kwargs)

    def set_leader(self, identity: str, ttl: int) -> None:
        self.r.set(self.sched_key("leader_id"), identity, ex=ttl)

    def record_job(self, name: str, status: dict) -> None:
        """The last run of a job (when, how long, its result or error), for operators."""
        self.r.hset(self.sched_key("jobs"), name, orjson.dumps(status, default=str))

    def job_runs(self) -> dict[str, dict]:
        return {k: orjson.loads(v) for k, v in self.r.hgetall(self.sched_key("jobs")).items()}

    # --- sign-in failures -------------------------------------------------------------------
    def _failure_key(self, kind: str, value: str) -> str:
        digest = hashlib.sha256(value.encode()).hexdigest()[:24]  # no user name in a key
        return self.key(f"fail:{kind}:{digest}")

    def failures(self, kind: str, value: str) -> tuple[int, int]:
        """(failed sign-ins of an account or address in its window, seconds the window has left)."""
        key = self._failure_key(kind, value)
        pipe = self.r.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = pipe.execute()
        return int(count or 0), max(int(ttl or 0), 0)

    def count_failure(self, kind: str, value: str, window: int) -> None:
        """One more failure; the first one opens a window of `window` seconds. SET NX EX then
        INCR (which keeps the TTL) works on Redis 6.2, the embedded server, where EXPIRE NX
        does not exist."""
        key = self._failure_key(kind, value)
        pipe = self.r.pipeline(transaction=True)
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        pipe.execute()

    def clear_failures(self, kind: str, value: str) -> None:
        self.r.delete(self._failure_key(kind, value))

    # --- reading ---------------------------------------------------------------------------
    def version(self) -> int:
        return int(self.r.get(self.key("version")) or 0)

    def day_counts(self, day: date) -> dict[str, int]:
        return {k: int(v) for k, v in self.r.hgetall(self.day_key(day)).items()}

    def gauges(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.r.hgetall(self.key("gauges")).items()}

    def heartbeats(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.r.hgetall(self.key("hb")).items()}

    def throughput(
        self,
        status: str,
        minutes: int,
        now_utc: datetime | None = None,
        district: str | None = None,
    ) -> list[int]:
        """Counts per minute for the last `minutes` minutes (oldest first), for the city or
        one district."""
        sfx = f":d:{district}" if district else ""
        end = epoch(now_utc or utcnow())
        end -= end % 60
        start = end - (minutes - 1) * 60
        hours = range(start - start % 3600, end + 1, 3600)
        pipe = self.r.pipeline(transaction=False)
        for h in hours:
            pipe.hgetall(self.throughput_key(h))
        merged: dict[str, str] = {}
        for part in pipe.execute():
            merged.update(part)
        return [int(merged.get(f"{m}:{status}{sfx}", 0)) for m in range(start, end + 1, 60)]

    def today(self, now_utc: datetime, district: str | None = None) -> dict[str, int]:
        """Today's transitions by status (local day), for the city or one district."""
        counts = self.day_counts(self.local_day(now_utc))
        sfx = f":d:{district}" if district else ""
        return {s: counts.get(f"{s}{sfx}", 0) for s in STATUSES}

    def today_mix(self, now_utc: datetime, kind: str, district: str | None = None) -> dict:
        """Today's new events by category (kind 'category') or source ('source')."""
        counts = self.day_counts(self.local_day(now_utc))
        short = {"category": "c", "source": "s"}[kind]
        prefix = f"reported:d{short}:{district}:" if district else f"reported:{short}:"
        return {k[len(prefix) :]: v for k, v in counts.items() if k.startswith(prefix) and v}

    def open_state(self, district: str | None = None) -> dict:
        """Open and overdue events now, and the open ones by status: city or one district."""
        gauges = self.gauges()
        sfx = f":d:{district}" if district else ""
        return {
            "open": gauges.get(f"open{sfx}", 0),
            "overdue": gauges.get(f"overdue{sfx}", 0),
            "status": {s: gauges.get(f"st:{s}{sfx}", 0) for s in STATUSES},
        }

    def district_state(self) -> dict[str, dict[str, int]]:
        """Open and overdue events now, per district code."""
        out: dict[str, dict[str, int]] = {}
        for name, n in self.gauges().items():
            kind, _, code = name.partition(":d:")
            if code and kind in ("open", "overdue"):
                out.setdefault(code, {"open": 0, "overdue": 0})[kind] = n
        return out

    def ticker(self, count: int = 50) -> list[dict]:
        """The newest events, newest first. Publishers append as they commit, so the stream's
        order is nearly but not strictly the events' order: read a batch more and sort."""
        entries = self.r.xrevrange(self.key("ticker"), count=count + TICKER_PER_BATCH)
        items = [orjson.loads(fields["data"]) for _id, fields in entries]
        return sorted(items, key=lambda i: -i["event_id"])[:count]

    # --- reconcile -------------------------------------------------------------------------
    def _hash_drift(self, key: str, expected: dict[str, int]) -> list[dict]:
        actual = self.r.hgetall(key)
        drift = []
        for name in sorted(set(actual) | {k for k, v in expected.items() if v}):
            want = int(expected.get(name, 0))
            have = int(actual.get(name, 0))
            if want != have:
                drift.append({"key": key, "field": name, "redis": have, "sql": want})
        return drift

    def apply_snapshot(self, snap: Snapshot, repair: bool = True) -> list[dict]:
        """Compare Redis with the state rebuilt from SQL; write the SQL state back. Returns drift."""
        drift: list[dict] = []
        for day, counts in snap.days.items():
            drift += self._hash_drift(self.day_key(date.fromisoformat(day)), counts)
        for hour, counts in snap.throughput.items():
            drift += self._hash_drift(self.throughput_key(int(hour)), counts)
        drift += self._hash_drift(self.key("gauges"), snap.gauges)
        want = [t.as_fields()["data"] for t in snap.ticker]
        have = [f["data"] for _id, f in self.r.xrange(self.key("ticker"))]
        # The stream may hold more than the snapshot (it is trimmed approximately), and in the
        # order of publishing: its newest events must be the snapshot's, once each.
        newest = (
            sorted(have, key=lambda d: orjson.loads(d)["event_id"])[-len(want) :] if want else have
        )
        if newest != want:
            drift.append(
                {"key": self.key("ticker"), "field": "*", "redis": len(have), "sql": len(want)}
            )
        if not repair or not drift:
            return drift
        pipe = self.r.pipeline(transaction=True)
        for day, counts in snap.days.items():
            self._replace_hash(pipe, self.day_key(date.fromisoformat(day)), counts, DAY_TTL)
        for hour, counts in snap.throughput.items():
            self._replace_hash(pipe, self.throughput_key(int(hour)), counts, THROUGHPUT_TTL)
        self._replace_hash(pipe, self.key("gauges"), snap.gauges, None)
        pipe.delete(self.key("ticker"))
        for item in snap.ticker:
            pipe.xadd(self.key("ticker"), item.as_fields(), maxlen=TICKER_LENGTH, approximate=True)
        # From now on the live state holds exactly the snapshot's transitions: a later publish
        # of one of them is skipped, and what the snapshot lacks is added by reconcile's catch-up.
        applied = self.applied_keys()
        pipe.delete(*applied)
        if snap.applied:
            pipe.sadd(applied[0], *snap.applied)
            pipe.expire(applied[0], APPLIED_TTL)
        pipe.incr(self.key("version"))
        pipe.execute()
        return drift

    @staticmethod
    def _replace_hash(pipe, key: str, values: dict[str, int], ttl: int | None) -> None:
        pipe.delete(key)
        values = {k: v for k, v in values.items() if v}
        if values:
            pipe.hset(key, mapping=values)
            if ttl:
                pipe.expire(key, ttl)

    def trim(self, max_ticker: int = TICKER_LENGTH) -> None:
        self.r.xtrim(self.key("ticker"), maxlen=max_ticker, approximate=False)

    # --- is the live state whole? -------------------------------------------------------------
    def _mark_stale(self) -> None:
        """Redis is back after calls failed or were skipped: ask for a rebuild."""
        try:
            self.raw.set(self.key("stale"), "1")
        except redis.RedisError:
            self.breaker.missed = True  # try again with the next call

    def needs_rebuild(self) -> str | None:
        """Why the live state must be rebuilt from SQL now, or None: Redis lost it (restarted
        empty, flushed) or some process skipped updates while Redis was away."""
        pipe = self.r.pipeline(transaction=False)
        pipe.exists(self.key("built"))
        pipe.exists(self.key("stale"))
        built, stale = pipe.execute()
        if not built:
            return "lost"
        return "stale" if stale else None

    def mark_built(self, at: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.key("built"), at)
        pipe.delete(self.key("stale"))
        pipe.execute()

    def delete_all(self, scheduler_keys: bool = True) -> None:
        """Remove the live-state keys of this prefix, and the scheduler's unless told not to."""
        patterns = [self.key("*")] + ([self.sched_key("*")] if scheduler_keys else [])
        for pattern in patterns:
            keys = list(self.r.scan_iter(match=pattern, count=1000))
            for i in range(0, len(keys), 500):
                self.r.delete(*keys[i : i + 500])
