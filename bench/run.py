"""Benchmarks (not run in CI): `python -m bench.run [seed|ingest|kpi|flow|surge] [--database URL]`.

Figures are printed as a table and written to bench/results/ as JSON; compare ratios
within one run, as the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np

from dashboard.clock import utcnow
from dashboard.config import Settings
from dashboard.runtime import Runtime

RESULTS = Path(__file__).resolve().parent / "results"


def reused_runtime(database_url: str, var_dir: Path) -> Runtime:
    """The runtime of a database seeded by an earlier run (`--reuse`)."""
    settings = Settings(
        var_dir=var_dir,
        database_url=database_url,
        secret_key="bench",
        demo=False,
        scheduler=False,
        simulator_rate=0,
        redis_prefix=f"bench{uuid.uuid4().hex[:6]}",
    )
    return Runtime.create(settings)


def fresh_runtime(database_url: str, var_dir: Path) -> Runtime:
    from dashboard.cli import reset_database

    rt = reused_runtime(database_url, var_dir)
    reset_database(rt)
    return rt


def bench_seed(rt: Runtime, per_day: float = 2900.0) -> dict:
    from dashboard import demo

    t = time.perf_counter()
    summary = demo.seed_demo(
        rt, per_day=per_day, progress=lambda m: print(f"  {time.perf_counter() - t:6.1f}s {m}")
    )
    return {
        "seconds": round(time.perf_counter() - t, 1),
        "events": summary["events"],
        "transitions": summary["transitions"],
    }


def _payloads(rt: Runtime, n: int, prefix: str) -> list[dict]:
    from sqlalchemy import select

    from dashboard.models import Area

    with rt.sessions() as s:
        grids = s.execute(select(Area.code).where(Area.level == "grid")).scalars().all()
    rng = np.random.default_rng(7)
    subs = ["0101", "0103", "0201", "0302", "0401", "0501"]
    now = utcnow()
    return [
        {
            "external_id": f"{prefix}-{i}",
            "subcategory": subs[i % len(subs)],
            "grid_code": grids[int(rng.integers(len(grids)))],
            "title": "基准测试事件",
            "reported_at": (now - timedelta(seconds=i % 600)).isoformat() + "Z",
            "reporter_name": "张三",
            "reporter_phone": "13800001111",
        }
        for i in range(n)
    ]


def bench_ingest(rt: Runtime, batches: int = 10, batch_size: int = 1000, naive: int = 300) -> dict:
    """Batched ingest (the API path: validate, events + transitions, Redis) against the naive
    path of one event per request and commit."""
    items = _payloads(rt, batches * batch_size, f"B{uuid.uuid4().hex[:6]}")
    t = time.perf_counter()
    for i in range(batches):
        res = rt.ingestor.ingest_events(
            items[i * batch_size : (i + 1) * batch_size], token_source="grid"
        )
        assert all(r.status == "created" for r in res)
    batched = batches * batch_size / (time.perf_counter() - t)
    one = _payloads(rt, naive, f"N{uuid.uuid4().hex[:6]}")
    t = time.perf_counter()
    for item in one:
        rt.ingestor.ingest_events([item], token_source="grid")
    single = naive / (time.perf_counter() - t)
    return {
        "batched_events_per_s": round(batched),
        "single_events_per_s": round(single),
        "ratio": round(batched / single, 1),
    }


def bench_kpi(rt: Runtime, runs: int = 40) -> dict:
    """One week's KPIs for every district and every department (the 督办考核 page's question),
    from the summaries and from the raw events: p50/p95 in ms of a warm process (one call
    first, unmeasured: statement caches), and whether they agree."""
    from dashboard.clock import local_day
    from dashboard.queries import kpi_report
    from dashboard.wall import week_start

    now = utcnow()
    start = week_start(local_day(now, rt.settings.zone), rt.settings.zone) - timedelta(days=7)
    out: dict = {}
    for by in ("district", "department"):
        answers = {}
        for use in (True, False):
            times = []
            with rt.sessions() as s:  # warm-up
                kpi_report(s, start, start + timedelta(days=7), now, by=by, zone=rt.settings.zone)
            for _ in range(runs if use else max(3, runs // 8)):
                t = time.perf_counter()
                with rt.sessions() as s:
                    answers[use] = kpi_report(
                        s, start, start + timedelta(days=7), now, by=by,
                        zone=rt.settings.zone, use_summaries=use,
                    )  # fmt: skip
                times.append((time.perf_counter() - t) * 1000)
            key = f"{by}_{'summaries' if use else 'raw'}"
            out[key] = {
                "p50_ms": round(float(np.percentile(times, 50)), 1),
                "p95_ms": round(float(np.percentile(times, 95)), 1),
            }
        out[f"{by}_same_figures"] = answers[True] == answers[False]
        out[f"{by}_due_closing"] = answers[True]["due_closing"]
    return out


def bench_flow(rt: Runtime, runs: int = 30) -> dict:
    """事件流转: one page of the list (100 rows) for typical filters and sorts, and a page
    refresh with the default filters (the charts and the list's first block), p50/p95 in ms of
    a warm process; with each list query's plan."""
    from sqlalchemy import select, text

    from dashboard import summaries
    from dashboard.models import Area, Category
    from dashboard.views import flow

    zone = rt.settings.zone
    now = utcnow()
    with rt.sessions() as s:
        district = s.execute(select(Area.code).where(Area.level == "district").order_by(Area.code)).scalar()  # fmt: skip
        sub = s.execute(select(Category.code).where(Category.parent_id.is_not(None)).order_by(Category.code)).scalar()  # fmt: skip
    severity = [{"colId": "severity", "sort": "desc"}]
    deadline = [{"colId": "close_deadline", "sort": "asc"}]
    cases = {
        "24h newest first": ({}, None, 0),
        "7d by severity": ({"range": "7d"}, severity, 0),
        "30d by severity": ({"range": "30d"}, severity, 0),
        "30d by deadline": ({"range": "30d"}, deadline, 0),
        "30d page 51": ({"range": "30d"}, None, 5000),
        "30d one subcategory": ({"range": "30d", "category": sub}, None, 0),
        "7d district overdue": ({"range": "7d", "area": district, "overdue": "1"}, None, 0),
        "all time overdue": ({"range": "all", "overdue": "1"}, None, 0),
    }

    def timed(fn) -> dict:
        fn()  # warm-up: statement caches
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        return {
            "p50_ms": round(float(np.percentile(times, 50)), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1),
        }

    out: dict = {"list": {}, "plans": {}}
    dialect = rt.engine.dialect
    explain = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
    for name, (query, sort, start) in cases.items():
        f = flow.parse(query)

        def fetch(f=f, sort=sort, start=start):
            with rt.sessions() as s:
                return flow.page(s, f, now, zone, start, start + 100, sort)

        out["list"][name] = timed(fetch)
        with rt.sessions() as s:
            fast = flow.index_order(s, f, now, zone, sort, None)
            if fast is not None:  # SQLite, read along the index in the order asked
                window = {"start": fast.start, "end": fast.end, "limit": 100, "offset": start}
                plans = [s.execute(text(explain + sql), window).all() for sql in fast.statements()]
            else:
                q = flow.list_query(s, f, now, zone, start, start + 100, sort)
                sql = str(q.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                plans = [s.execute(text(explain + sql)).all()]
            out["plans"][name] = [" ".join(map(str, r)) for plan in plans for r in plan]
    offset = summaries.fixed_offset(zone) or 0
    default = flow.Filters()

    def refresh():
        with rt.sessions() as s:
            flow.charts(s, default, now, zone, offset)
            flow.page(s, default, now, zone, 0, 100)

    out["page_refresh_default"] = timed(refresh)
    return out


def bench_surge(rt: Runtime, injections: int = 40, seed: int = 11) -> dict:
    """激增 detection on the demo city's history (DESIGN §6; it writes into the database: run it
    on a copy). False alerts: the surge rules evaluated every 10 minutes over a quiet week (14 to
    7 days ago: clear of the storm 21 days ago and the wage dispute of the last 60 hours), each
    distinct (rule, place, subcategory) counted once, per district and day. Detection: labelled
    bursts of 4–8 similar reports from one new address within 45 minutes, injected at random
    times 6 to 3 days ago in grids and subcategories drawn by their volume; the rules evaluated
    every 5 minutes from the first report; detected when an alert's events include them."""
    from sqlalchemy import func, select

    from dashboard import risk
    from dashboard.models import Area, Category, Event

    rng = np.random.default_rng(seed)
    now = utcnow()
    with rt.sessions() as s, s.begin():
        risk.load_rules(s, now)
    with rt.sessions() as s:
        rules = risk.rules(s, "surge")
        districts = s.execute(select(func.count()).where(Area.level == "district")).scalar()
    quiet_start, quiet_end = now - timedelta(days=14), now - timedelta(days=7)
    seen: set[tuple[str, str]] = set()
    evaluations = 0
    t = time.perf_counter()
    at = quiet_start
    while at < quiet_end:
        with rt.sessions() as s:
            for rule in rules:
                seen |= {(f.rule, f.subject) for f in risk.surges(s, rule, at)}
        evaluations += 1
        at += timedelta(minutes=10)
    per_eval_ms = (time.perf_counter() - t) * 1000 / evaluations
    days = (quiet_end - quiet_start).days
    with rt.sessions() as s:
        pairs = s.execute(
            select(Event.grid_id, Event.subcategory_id, func.count())
            .where(Event.reported_at > now - timedelta(days=30))
            .group_by(Event.grid_id, Event.subcategory_id)
        ).all()
        grid_codes = dict(s.execute(select(Area.id, Area.code)).all())
        sub_codes = dict(s.execute(select(Category.id, Category.code)).all())
    weights = np.array([n for _g, _s, n in pairs], dtype=float)
    picks = rng.choice(len(pairs), injections, p=weights / weights.sum())
    results = []
    for n, pick in enumerate(picks):
        grid, sub, _n = pairs[pick]
        k = int(rng.choice([4, 5, 6, 8]))
        start = now - timedelta(days=6) + timedelta(minutes=int(rng.integers(0, 3 * 24 * 60)))
        offsets = sorted(rng.uniform(0, 45, k))
        items = [
            {
                "external_id": f"SURGE-{seed}-{n}-{i}",
                "source": "hotline",
                "subcategory": sub_codes[sub],
                "grid_code": grid_codes[grid],
                "title": "同一地址反映同一问题",
                "address": f"基准{n}小区3号楼",
                "reported_at": (start + timedelta(minutes=float(m))).isoformat() + "Z",
            }
            for i, m in enumerate(offsets)
        ]
        rt.ingestor.ingest_events(items, now=start + timedelta(minutes=46))
        with rt.sessions() as s:
            ids = set(s.execute(select(Event.id).where(Event.external_id.like(f"SURGE-{seed}-{n}-%"))).scalars())  # fmt: skip
        detected = None
        for step in range(0, 19):  # every 5 minutes for 90 minutes from the first report
            at = start + timedelta(minutes=5 * step)
            with rt.sessions() as s:
                found = [f for rule in rules for f in risk.surges(s, rule, at)]
            if any(ids & set(f.event_ids) for f in found):
                detected = 5 * step
                break
        results.append({"count": k, "minutes": detected})
    within = [r["minutes"] for r in results if r["minutes"] is not None and r["minutes"] <= 60]
    by_size = {}
    for size in sorted({r["count"] for r in results}):
        of = [r for r in results if r["count"] == size]
        by_size[size] = f"{sum(r['minutes'] is not None and r['minutes'] <= 60 for r in of)}/{len(of)}"  # fmt: skip
    return {
        "quiet_days": days,
        "evaluations": evaluations,
        "evaluation_ms": round(per_eval_ms, 1),
        "false_alerts": len(seen),
        "false_alerts_per_district_day": round(len(seen) / (districts * days), 3),
        "false_alert_subjects": sorted(f"{r} {subj}" for r, subj in seen)[:20],
        "injected": len(results),
        "detected_within_60_min": len(within),
        "detection_rate": round(len(within) / len(results), 3),
        "minutes_to_detect_median": float(np.median(within)) if within else None,
        "minutes_to_detect_max": max(within) if within else None,
        "detected_by_burst_size": by_size,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument(
        "what", choices=["seed", "ingest", "kpi", "flow", "surge", "all"], nargs="?", default="all"
    )
    p.add_argument("--per-day", type=float, default=2900.0, help="demo events per day")
    p.add_argument("--reuse", action="store_true", help="keep the seeded database of a run")
    p.add_argument("--database", default="", help="database URL (default: a fresh SQLite file)")
    args = p.parse_args()
    var = Path("var/bench")
    var.mkdir(parents=True, exist_ok=True)
    url = args.database or f"sqlite:///{(var / 'bench.sqlite3').resolve()}"
    rt = reused_runtime(url, var) if args.reuse else fresh_runtime(url, var)
    out = {"database": rt.engine.dialect.name, "at": utcnow().isoformat()}
    try:
        if not args.reuse:
            out["seed"] = bench_seed(rt, args.per_day)
        if args.what in ("kpi", "all"):
            out["kpi"] = bench_kpi(rt)
        if args.what in ("flow", "all"):
            out["flow"] = bench_flow(rt)
        if args.what == "surge":  # writes labelled bursts into the database
            out["surge"] = bench_surge(rt)
        if args.what in ("ingest", "all"):
            out["ingest"] = bench_ingest(rt)
    finally:
        rt.live.delete_all()
        rt.close()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{out['database']}-{int(time.time())}.json"
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
