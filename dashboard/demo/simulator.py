"""The live simulator: new events and lifecycle steps, posted through the same ingest code as the
API, at the history's own daily rhythm."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from dashboard.clock import utcnow
from dashboard.demo import people
from dashboard.demo.catalogue import load
from dashboard.domain import SOURCES
from dashboard.models import Area, Event

log = logging.getLogger(__name__)

SIMULATOR_TICK_SECONDS = 5.0
# An open event waits at least this long in a status before the simulator moves it on.
SIM_MIN_WAIT = timedelta(minutes=2)


def simulate_tick(rt, now: datetime | None = None, rng: np.random.Generator | None = None) -> dict:
    """Post new events and move open ones on, through the same ingest code as the API."""
    now = now or utcnow()
    rng = rng or np.random.default_rng()
    rate = rt.settings.simulator_rate
    profile = load().hour_profile
    hour_factor = profile[(now + rt.settings.zone.utcoffset(now)).hour] / profile.mean()
    n_new = int(rng.poisson(rate * SIMULATOR_TICK_SECONDS / 60.0 * hour_factor))
    with rt.sessions() as session:
        grid_codes = (
            session.execute(
                select(Area.code)
                .where(Area.level == "grid")
                .order_by(func.random())
                .limit(max(n_new, 1))
            )
            .scalars()
            .all()
        )
        due = session.execute(
            select(Event.source, Event.external_id, Event.status, Event.is_dispute)
            .where(Event.is_open, Event.last_transition_at < now - SIM_MIN_WAIT)
            .order_by(func.random())
            .limit(max(2, math.ceil(n_new * 1.3)))
        ).all()
    created = 0
    if n_new and grid_codes:
        items = [
            _simulated_event(rng, now, grid_codes[i % len(grid_codes)], i) for i in range(n_new)
        ]
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


def _simulated_event(rng, now: datetime, grid_code: str, i: int) -> dict:
    categories = load().categories
    weights = np.array([c.weight for c in categories])
    cat = categories[int(rng.choice(len(categories), p=weights / weights.sum()))]
    sw = np.array([s.weight for s in cat.subcategories])
    sub = cat.subcategories[int(rng.choice(len(sw), p=sw / sw.sum()))]
    source = SOURCES[int(rng.choice(len(SOURCES), p=cat.sources))]
    item = {
        "external_id": f"SIM-{int(now.timestamp() * 1000)}-{i}-{int(rng.integers(1 << 30))}",
        "source": source,
        "subcategory": sub.code,
        "severity": int(rng.choice([1, 2, 3], p=[0.88, 0.1, 0.02])),
        "grid_code": grid_code,
        "title": f"{sub.name}（{grid_code[-5:]}）",
        "description": f"模拟上报：{cat.name}/{sub.name}",
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
