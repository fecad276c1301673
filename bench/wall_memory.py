"""The wall for a long time in headless Chromium: does the browser's memory grow?

`python -m bench.wall_memory [--minutes 30] [--refresh 1]` serves the app on the installation
of VAR_DIR/DATABASE_URL (run `make run` once first so that the demo city exists), feeds one event
a second through the ingest path so that every refresh has new data, opens the overview with
tiles and charts refreshing every `--refresh` seconds, and samples the JS heap (after a forced
garbage collection) every `--every` seconds (one minute). Writes bench/results/wall-memory-*.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from pathlib import Path

from werkzeug.serving import make_server

from dashboard import auth
from dashboard.clock import utcnow
from dashboard.config import load_settings
from dashboard.runtime import Runtime
from tests.chromium import ARGS, CHROMIUM

RESULTS = Path(__file__).resolve().parent / "results"


def feeder(rt: Runtime, stop: threading.Event) -> None:
    from sqlalchemy import select

    from dashboard.models import Area

    with rt.sessions() as s:
        grids = s.execute(select(Area.code).where(Area.level == "grid").limit(200)).scalars().all()
    i = 0
    while not stop.wait(1.0):
        rt.ingestor.ingest_events(
            [
                {
                    "external_id": f"MEM-{uuid.uuid4().hex[:12]}",
                    "source": "grid",
                    "subcategory": "0101",
                    "grid_code": grids[i % len(grids)],
                    "title": "内存测试事件",
                    "reported_at": utcnow().isoformat() + "Z",
                }
            ]
        )
        i += 1


def heap_census(cdp) -> dict[str, list[int]]:
    """Objects in the JS heap by (type, constructor name): [count, self bytes]."""
    chunks: list[str] = []
    cdp.on("HeapProfiler.addHeapSnapshotChunk", lambda e: chunks.append(e["chunk"]))
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    snap = json.loads("".join(chunks))
    meta = snap["snapshot"]["meta"]
    fields, types = meta["node_fields"], meta["node_types"][0]
    width = len(fields)
    i_type, i_name, i_size = fields.index("type"), fields.index("name"), fields.index("self_size")
    nodes, strings = snap["nodes"], snap["strings"]
    census: dict[str, list[int]] = {}
    for at in range(0, len(nodes), width):
        kind = types[nodes[at + i_type]]
        name = strings[nodes[at + i_name]] if kind in ("object", "closure", "native") else kind
        entry = census.setdefault(f"{kind}:{name[:60]}", [0, 0])
        entry[0] += 1
        entry[1] += nodes[at + i_size]
    return census


def census_growth(before: dict, after: dict, top: int = 15) -> list[dict]:
    rows = []
    for key in set(before) | set(after):
        b, a = before.get(key, [0, 0]), after.get(key, [0, 0])
        rows.append({"what": key, "count": a[0] - b[0], "bytes": a[1] - b[1]})
    return sorted(rows, key=lambda r: -r["bytes"])[:top]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--refresh", type=float, default=1)
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--every", type=float, default=60, help="seconds between heap samples")
    p.add_argument(
        "--heap-diff",
        action="store_true",
        help="take a heap snapshot at the start and the end and report what grew",
    )
    args = p.parse_args()
    settings = load_settings().with_overrides(simulator_rate=0)
    rt = Runtime.create(settings)
    from app import create_app

    app = create_app(settings, rt)  # with the scheduler: the minute snapshot keeps coming
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", args.port, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    threading.Thread(target=feeder, args=(rt, stop), daemon=True).start()
    from playwright.sync_api import sync_playwright

    samples = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        cdp = page.context.new_cdp_session(page)
        r = args.refresh
        display_name = f"bench-{uuid.uuid4().hex[:6]}"
        with rt.sessions() as session, session.begin():  # the wall signs in as a display does
            display = auth.create_token(session, display_name, "display", actor="bench")
        page.goto(
            f"http://127.0.0.1:{args.port}/?tiles={r}&charts={r}&token={display}",
            wait_until="networkidle",
        )

        def heap() -> dict:
            cdp.send("HeapProfiler.collectGarbage")
            used = cdp.send("Runtime.getHeapUsage")["usedSize"]
            nodes = page.evaluate("document.getElementsByTagName('*').length")
            return {
                "minute": round((time.time() - start) / 60, 1),
                "heap_mb": round(used / 2**20, 2),
                "dom_nodes": nodes,
            }

        time.sleep(60)  # warm-up: every chart drawn, caches filled
        start = time.time()
        samples.append(heap())
        print(samples[-1], flush=True)
        first = heap_census(cdp) if args.heap_diff else None
        while time.time() - start < args.minutes * 60:
            time.sleep(min(args.every, args.minutes * 60 - (time.time() - start)))
            samples.append(heap())
            print(samples[-1], flush=True)
        growth = census_growth(first, heap_census(cdp)) if first else None
        browser.close()
    with rt.sessions() as session, session.begin():
        auth.revoke_token(session, display_name, actor="bench")
    stop.set()
    server.shutdown()
    out = {
        "at": utcnow().isoformat(),
        "minutes": args.minutes,
        "refresh_s": args.refresh,
        "samples": samples,
        "growth_mb": round(samples[-1]["heap_mb"] - samples[0]["heap_mb"], 2),
        # plotly keeps up to 10,000 measured text boxes and then starts afresh, so the heap
        # is a saw-tooth: the band and the second half's peak tell growth from caching.
        "min_mb": min(s["heap_mb"] for s in samples),
        "max_mb": max(s["heap_mb"] for s in samples),
        "first_half_max_mb": max(s["heap_mb"] for s in samples[: len(samples) // 2 + 1]),
        "second_half_max_mb": max(s["heap_mb"] for s in samples[len(samples) // 2 :]),
        "console_errors": len(errors),
        "heap_growth_by_constructor": growth,
        "page_errors": errors[:20],
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"wall-memory-{int(time.time())}.json"
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    rt.close()


if __name__ == "__main__":
    main()
