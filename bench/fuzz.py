"""Fuzz the API (from docs/openapi.yaml) and the importer with many generated inputs:
`python -m bench.fuzz [--inputs 100000] [--database URL]` (make bench-fuzz).

Reports how many inputs were sent, the answers by status, and every 5xx and partial write
(there must be none); the figures go to bench/results/fuzz-*.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.run import RESULTS, fresh_runtime
from dashboard import auth
from dashboard.clock import utcnow
from dashboard.models import Alert
from tests.factories import make_city
from tests.fuzzing import FuzzStats, fuzz, fuzz_importer

OPERATIONS_AND_MODES = 24  # 12 operations of docs/openapi.yaml, positive and negative input


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fuzz")
    p.add_argument("--inputs", type=int, default=100_000, help="API inputs in all")
    p.add_argument("--files", type=int, default=5_000, help="generated import files")
    p.add_argument("--database", default="", help="a database URL (default: a SQLite file)")
    args = p.parse_args(argv)

    from app import create_app

    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    url = args.database or f"sqlite:///{folder / 'fuzz.sqlite3'}"
    rt = fresh_runtime(url, folder / "var")
    now = utcnow()
    with rt.sessions() as session, session.begin():
        make_city(session)
        session.add(Alert(rule="fuzz", level=2, title="预警", created_at=now, updated_at=now))
        token = auth.create_token(session, "fuzz", "ingest", "grid")
    client = create_app(rt.settings, rt, start_scheduler=False).server.test_client()
    started = time.perf_counter()
    per_kind = -(-args.inputs // OPERATIONS_AND_MODES)  # rounded up: at least --inputs in all
    api = fuzz(client, rt, {"Authorization": f"Bearer {token}"}, per_kind)
    api_seconds = time.perf_counter() - started
    files = fuzz_importer(rt, folder, args.files, FuzzStats())
    result = {
        "database": url.split("@")[-1],
        "api": _summary(api, api_seconds),
        "importer": _summary(files, time.perf_counter() - started - api_seconds),
    }
    rt.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"fuzz-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if not (api.server_errors or api.partial_writes or files.server_errors
                     or files.partial_writes) else 1  # fmt: skip


def _summary(stats: FuzzStats, seconds: float) -> dict:
    return {
        "inputs": stats.requests,
        "seconds": round(seconds, 1),
        "answers": {str(k): v for k, v in sorted(stats.statuses.items(), key=str)},
        "server_errors": stats.server_errors[:50],
        "partial_writes": stats.partial_writes[:50],
    }


if __name__ == "__main__":
    raise SystemExit(main())
