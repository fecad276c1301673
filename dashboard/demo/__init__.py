"""The demo city (a fictional 云州市) with ~90 days of history, and the live event simulator.

Everything is generated from a seeded random generator, so two runs give the same city. The
history has a daily and weekly rhythm, a category mix like a real city's (catalogue.toml),
departments that perform differently, and a few surges (a storm, a wage dispute at one site).
The simulator posts through the same ingest code path as the API.

catalogue.toml / catalogue.py   what the city is made of (data)
geometry.py                     the map's lattice
city.py                         areas, departments, categories, staff, activities
duty.py                         the duty rota, check-ins and training records
history.py                      the events and their transitions
simulator.py                    the live stream
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import numpy as np
from sqlalchemy import func, select

from dashboard import jobs, reconcile, summaries
from dashboard.clock import utcnow
from dashboard.db import bulk_load, refresh_statistics, reset_sequences, without_indexes
from dashboard.demo import duty
from dashboard.demo.city import build_city, generate_activities, generate_staff
from dashboard.demo.history import generate_history
from dashboard.demo.simulator import SIMULATOR_TICK_SECONDS, simulate_tick
from dashboard.models import Area, Event, Transition

log = logging.getLogger(__name__)

__all__ = ["SIMULATOR_TICK_SECONDS", "duty", "seed_demo", "simulate_tick"]


def seed_demo(
    rt,
    days: int = 90,
    per_day: float = 2900.0,
    seed: int = 20261126,
    progress: Callable[[str], None] = log.info,
    now: datetime | None = None,
) -> dict:
    """Create the demo city in an empty database, then build the summaries and the live state."""
    started = time.perf_counter()
    now = now or utcnow()
    rng = np.random.default_rng(seed)
    with rt.sessions() as session:
        if session.execute(select(func.count()).select_from(Area)).scalar():
            raise RuntimeError("the database already holds areas; the demo city needs an empty one")
    with (
        bulk_load(rt.engine) as conn,
        without_indexes(conn, [Event.__table__, Transition.__table__]),
    ):
        progress("building the city: districts, streets, communities, grids, departments")
        city = build_city(conn, rng, rt.settings.city_name)
        progress("generating the staff roster, duty rota, training and community activities")
        staff = generate_staff(conn, city, rng, rt.settings.secret_key)
        rota = duty.seed(conn, rt.settings.zone, now)
        trained = duty.training(conn, now, rt.settings.zone, rng)
        activities = generate_activities(conn, city, rng, now, days)
        history = generate_history(conn, city, rng, now, rt.settings, days, per_day, progress)
        reset_sequences(
            conn,
            [
                "areas",
                "departments",
                "categories",
                "events",
                "transitions",
                "staff",
                "duty_shifts",
                "check_ins",
                "training_records",
                "activities",
                "extensions",
                "supervisions",
            ],
        )
    progress("building the summary tables")
    rolled = jobs.rollup(rt, now=now, rebuild=True)
    with rt.sessions() as session, session.begin():
        summaries.rebuild(session, rt.settings.zone, now)
    jobs.sla_sweep(rt, now=now)
    progress("refreshing the planner's statistics")
    refresh_statistics(rt.engine)
    progress("building the live state")
    rt.live.delete_all(scheduler_keys=False)  # the bootstrap lock may be held
    reconcile.reconcile(rt, now=now, quiet=True)
    jobs.wall_snapshot(rt, now=now)
    counts = city.areas.level.value_counts().to_dict()
    summary = {
        "districts": counts.get("district", 0),
        "streets": counts.get("street", 0),
        "communities": counts.get("community", 0),
        "grids": counts.get("grid", 0),
        "departments": len(city.departments),
        "staff": staff,
        **rota,
        "training_records": trained,
        "activities": activities,
        **history,
        "rollup_rows": rolled["rows"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    progress(f"demo city ready: {summary}")
    return summary
