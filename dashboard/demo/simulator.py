"""The live simulator: new events and lifecycle steps, posted through the same ingest code as the
API, at the history's own daily rhythm."""

from __future__ import annotations

import logging
import math
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from dashboard.clock import utcnow
from dashboard.demo import people
from dashboard.demo.catalogue import load
from dashboard.domain import SOURCES
from dashboard.models import Area, Event

log = logging.getLogger(__name__)

SIMULATOR_TICK_SECONDS = 5.0
# The sensors' feed (iot) stays silent for the simulator's first minutes, carrying on the outage
# planted in the demo's history (the 数据中断 rule has it to find); cameras report instead.
SENSORS_DOWN_FOR = timedelta(minutes=40)
_STARTED: dict[int, datetime] = {}  # when the simulator first ran, per runtime
# An open event waits at least this long in a status before the simulator moves it on.
SIM_MIN_WAIT = timedelta(minutes=2)


def simulate_tick(rt, now: datetime | None = None, rng: np.random.Generator | None = None) -> dict:
    """Post new events and move open ones on, through the same ingest code as the API."""
    now = now or utcnow()
    rng = rng or np.random.default_rng()
    rate = rt.settings.simulator_rate
    profile = load().hour_profile
    local = now + rt.settings.zone.utcoffset(now)
    hour_factor = profile[local.hour] / profile.mean()
    n_new = int(rng.poisson(rate * SIMULATOR_TICK_SECONDS / 60.0 * hour_factor))
    burst = _burst_of(local)
    community = aliased(Area)
    where = select(Area.code, community.name).join(community, community.id == Area.parent_id)
    with rt.sessions() as session:
        grids = session.execute(
            where.where(Area.level == "grid").order_by(func.random()).limit(max(n_new, 1))
        ).all()
        if burst is not None and rng.random() < burst.per_tick:
            n_grids = session.execute(select(func.count()).where(Area.level == "grid")).scalar_one()
            burst_grid = session.execute(
                where.where(Area.level == "grid").order_by(Area.id).offset(burst.seed % n_grids)
            ).first()
        else:
            burst_grid = None
        due = session.execute(
            select(Event.source, Event.external_id, Event.status, Event.is_dispute)
            .where(Event.is_open, Event.last_transition_at < now - SIM_MIN_WAIT)
            .order_by(func.random())
            .limit(max(2, math.ceil(n_new * 1.3)))
        ).all()
    created = 0
    items = [_simulated_event(rng, local, now, grids[i % len(grids)], i) for i in range(n_new)]
    started = _STARTED.setdefault(id(rt), now)
    if now - started < SENSORS_DOWN_FOR:  # the planted outage of the sensors' feed goes on
        for item in items:
            if item["source"] == "iot":
                item["source"] = "video"
    if burst_grid is not None:
        items.append(_burst_event(rng, now, burst, burst_grid))
    if items:
        by_source: dict[str, list] = {}
        for it in items:
            by_source.setdefault(it["source"], []).append(it)
        for src, batch in by_source.items():
            results = rt.ingestor.ingest_events(batch, token_source=src, now=now)
            created += sum(r.status == "created" for r in results)
    moved = 0
    for src, ext, status, dispute in due:
        step = _next_step(rng, status, dispute)
        if step is None:
            continue
        try:
            rt.ingestor.transition_event(src, ext, [step], now=now)
            moved += 1
        except Exception as exc:  # noqa: BLE001 - a lost race with a real update is fine
            log.debug("simulator could not move %s/%s: %s", src, ext, exc)
    rt.live.heartbeat("simulator")
    return {"created": created, "moved": moved}


def _simulated_event(rng, local: datetime, now: datetime, grid, i: int) -> dict:
    """One ordinary event: a subcategory by the catalogue's weights, its severity by the
    subcategory's mix, its source by the category's (grid workers patrol by day)."""
    cat = load()
    weights = np.array([c.weight for c in cat.categories])
    category = cat.categories[int(rng.choice(len(weights), p=weights / weights.sum()))]
    sw = np.array([s.weight for s in category.subcategories])
    sub = category.subcategories[int(rng.choice(len(sw), p=sw / sw.sum()))]
    sources = category.sources
    if not 7 <= local.hour < 20:
        sources = sources * (np.array(SOURCES) != "grid")
        sources = sources / sources.sum()
    source = SOURCES[int(rng.choice(len(SOURCES), p=sources))]
    severity = np.asarray(sub.severity or cat.severity, dtype=float)
    item = _item(rng, now, grid, i, source, sub.code, f"{grid[1]}{sub.name}")
    item["severity"] = int(rng.choice(4, p=severity / severity.sum())) + 1
    item["description"] = f"{grid[1]}：{category.name}/{sub.name}"
    return item


@dataclass(frozen=True)
class Burst:
    """Residents of one compound calling about one matter within half an hour."""

    seed: int
    subcategory: str
    what: str
    per_tick: float  # the chance of a call in a tick while it lasts


BURST_MATTERS = (
    ("0203", "小区停车位纠纷"),
    ("0401", "消防通道被占"),
    ("0501", "夜间施工噪音"),
    ("0601", "工地欠薪"),
)
BURST_EVERY = timedelta(hours=3)
BURST_LASTS = timedelta(minutes=30)


def _burst_of(local: datetime) -> Burst | None:
    """The burst under way at a local time, if any: one in each three daytime hours from 8:00
    to 20:00, at a minute, matter and place fixed by the date and block (every worker agrees)."""
    if not 8 <= local.hour < 20:
        return None
    block = (local.hour - 8) // 3
    seed = zlib.crc32(f"burst-{local.date().isoformat()}-{block}".encode())
    into = timedelta(hours=local.hour - 8 - 3 * block, minutes=local.minute, seconds=local.second)
    start = timedelta(minutes=seed % int((BURST_EVERY - BURST_LASTS).total_seconds() // 60))
    if not start <= into < start + BURST_LASTS:
        return None
    code, what = BURST_MATTERS[seed % len(BURST_MATTERS)]
    calls = 6 + seed % 9
    return Burst(seed, code, what, calls * SIMULATOR_TICK_SECONDS / BURST_LASTS.total_seconds())


def _burst_event(rng, now: datetime, burst: Burst, grid) -> dict:
    building = f"{grid[1]}{burst.seed % 40 + 1}号"
    item = _item(rng, now, grid, 999, "hotline", burst.subcategory, f"{building}{burst.what}")
    item["address"] = building
    item["description"] = f"{building}居民反映{burst.what}"
    return item


def _item(rng, now: datetime, grid, i: int, source: str, sub: str, title: str) -> dict:
    item = {
        "external_id": f"SIM-{int(now.timestamp() * 1000)}-{i}-{int(rng.integers(1 << 30))}",
        "source": source,
        "subcategory": sub,
        "severity": 1,
        "grid_code": grid[0],
        "title": title,
        "reported_at": (now - timedelta(seconds=float(rng.uniform(0, 20)))).isoformat() + "Z",
    }
    if source in ("hotline", "citizen"):
        item["reporter_name"] = str(people.names(rng, 1)[0])
        item["reporter_phone"] = str(people.phones(rng, 1)[0])
    return item


def _next_step(rng, status: str, dispute: bool) -> dict | None:
    u = rng.random()
    if status == "reported":
        return {"status": "rejected" if u < 0.04 else "accepted", "actor": "指挥中心"}
    if status in ("accepted", "escalated"):
        return {"status": "dispatched", "actor": "指挥中心"}
    if status in ("dispatched", "returned"):
        return {"status": "in_progress", "actor": "承办部门"}
    if status == "in_progress":
        step = {"status": "resolved", "actor": "承办部门"}
        if dispute:
            step["mediation_result"] = "success" if u < 0.9 else "failed"
            step["mediation_type"] = rng.choice(
                ["people", "administrative", "judicial"], p=[0.7, 0.2, 0.1]
            )
        return step
    if status == "resolved":
        if u < 0.06:
            return {"status": "returned", "actor": "核查员"}
        sat = rng.choice(["satisfied", "basically_satisfied", "dissatisfied"], p=[0.8, 0.14, 0.06])
        return {"status": "closed", "actor": "核查员", "satisfaction": str(sat)}
    return None
