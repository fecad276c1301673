"""Fuzzing of the API from its OpenAPI document (docs/openapi.yaml), shared by the test suite
(a small run) and bench/fuzz.py (100,000 and more inputs).

schemathesis turns each operation of the document into hypothesis strategies, of valid input
(positive) and of input that breaks the schema (negative); every case is sent through the Flask
test client with an ingest token. A case fails when the answer is a 5xx, or when what the
database holds changed although the answer says nothing was written (a partial write).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core import NotSet
from sqlalchemy import func, select

from dashboard.models import AlertHistory, AuditLog, Event, Transition

SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
TABLES = {"events": Event, "transitions": Transition, "alert_history": AlertHistory,
          "audit_log": AuditLog}  # fmt: skip


@dataclass
class FuzzStats:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    partial_writes: list[str] = field(default_factory=list)


def _counts(rt) -> dict[str, int]:
    with rt.sessions() as session:
        return {
            name: session.execute(select(func.count()).select_from(model)).scalar()
            for name, model in TABLES.items()
        }


def _written(path: str, method: str, status: int, body) -> dict[str, int] | None:
    """How many rows an answer says it wrote (None: it does not say; then nothing may change
    unless it succeeded)."""
    if method == "POST" and path == "/events":
        if status == 201:
            return {"events": 1, "transitions": 1}
        if status == 200 and isinstance(body, dict) and "created" in body:
            return {"events": body["created"], "transitions": body["created"]}
        if status == 200:  # a single duplicate
            return {"events": 0, "transitions": 0}
    if status >= 400 or method == "GET":
        return {}
    return None


def _latin1(value) -> bool:
    try:
        str(value).encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def send(client, rt, case, headers: dict, stats: FuzzStats) -> None:
    op = case.operation
    path = op.path
    for name, value in (case.path_parameters or {}).items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    query = {k: v if isinstance(v, list) else str(v) for k, v in (case.query or {}).items()}
    sent = {k: str(v) for k, v in (case.headers or {}).items() if _latin1(k) and _latin1(v)}
    sent |= headers
    kwargs = {"query_string": query, "headers": sent}
    if isinstance(case.body, NotSet):
        pass
    elif case.body is not None and not isinstance(case.body, bytes | str):
        kwargs["data"] = json.dumps(case.body, ensure_ascii=False)  # big integers too
        kwargs["content_type"] = "application/json"
    elif case.body is not None:
        kwargs["data"] = case.body
        kwargs["content_type"] = case.media_type or "application/octet-stream"
    writes = case.method.upper() != "GET"
    before = _counts(rt) if writes else {}
    response = client.open("/api/v1" + path, method=case.method.upper(), **kwargs)
    after = _counts(rt) if writes else {}
    stats.requests += 1
    stats.statuses[response.status_code] += 1
    label = f"{case.method.upper()} {path} {query} -> {response.status_code}"
    if response.status_code >= 500:
        stats.server_errors.append(f"{label}: {response.get_data(as_text=True)[:300]}")
        return
    try:
        body = response.get_json(silent=True)
    except Exception:  # noqa: BLE001 - a CSV answer, say
        body = None
    expected = _written(op.path, case.method.upper(), response.status_code, body)
    if expected is None or not writes:
        return
    changed = {k: after[k] - before[k] for k in TABLES if after[k] != before[k]}
    if {k: v for k, v in expected.items() if v} != changed:
        stats.partial_writes.append(f"{label}: wrote {changed}, said {expected}")


def fuzz(client, rt, headers: dict, examples: int, stats: FuzzStats | None = None) -> FuzzStats:
    """`examples` cases of each kind (positive, negative) for every operation."""
    stats = stats or FuzzStats()
    schema = schemathesis.openapi.from_path(SCHEMA)
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case):
                send(client, rt, case, headers, stats)

            run()
    return stats


# --- the importer ---------------------------------------------------------------------------
COLUMNS = {
    "events": ["external_id", "source", "subcategory", "grid_code", "title", "description",
               "reported_at", "reporter_name", "reporter_phone", "severity", "lat", "lon"],
    "staff": ["staff_no", "name", "id_number", "phone", "role", "area_code", "party_member",
              "certifications", "hire_date", "status", "工号", "姓名", "身份证号"],
    "shifts": ["staff_no", "date", "start", "end", "kind", "工号", "日期"],
    "training": ["staff_no", "course", "hours", "date", "certificate", "学时"],
    "areas": ["code", "name", "level", "parent_code", "population", "households", "lat", "lon"],
}  # fmt: skip


def csv_files():
    """Hypothesis strategy: (kind, file bytes) — headers from the real columns and junk, cells
    of any text (NUL, quotes, new lines, long runs), encoded as UTF-8, UTF-8 with a BOM, GBK
    (when it can be) or raw bytes."""
    from hypothesis import strategies as st

    cell = st.one_of(
        st.text(max_size=30),
        st.sampled_from(["G11", "G21", "0101", "grid", "1", "2026-11-02T08:00:00+08:00", "是",
                         "grid_fulltime", "339001", "street", "13812345678", "110101199003071234"]),
        st.text(alphabet="x\x00\"\n,", min_size=0, max_size=200),
    )  # fmt: skip

    @st.composite
    def files(draw):
        kind = draw(st.sampled_from(sorted(COLUMNS)))
        header = draw(
            st.lists(st.sampled_from([*COLUMNS[kind], "junk", ""]), min_size=1, max_size=8)
        )
        rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 1), max_size=6))
        quote = lambda v: '"' + v.replace('"', '""') + '"'  # noqa: E731
        text = "\n".join(",".join(quote(v) for v in r) for r in [header, *rows]) + "\n"
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "bytes"]))
        if encoding == "bytes":
            return kind, draw(st.binary(max_size=300))
        return kind, text.encode(encoding, errors="replace")

    return files()


def fuzz_importer(rt, folder: Path, examples: int, stats: FuzzStats | None = None) -> FuzzStats:
    """Files in: a report or a clear refusal (ImportFailed), never another exception; a
    refused staff or area file writes nothing, an events file exactly what it reports."""
    from dashboard import importer, roster
    from dashboard.models import Area, DutyShift, Staff, TrainingRecord

    stats = stats or FuzzStats()
    tables = {"events": Event, "staff": Staff, "areas": Area, "shifts": DutyShift,
              "training": TrainingRecord}  # fmt: skip

    def count(model) -> int:
        with rt.sessions() as session:
            return session.execute(select(func.count()).select_from(model)).scalar()

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(file=csv_files())
    def run(file):
        kind, data = file
        path = folder / f"fuzz-{kind}.csv"
        path.write_bytes(data)
        before = count(tables[kind])
        stats.requests += 1
        try:
            report = (roster if kind in roster.IMPORTERS else importer).import_file(
                rt, kind, str(path), progress=lambda _m: None
            )
        except importer.ImportFailed:
            stats.statuses["refused"] += 1
            delta, expected = count(tables[kind]) - before, 0
        except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
            stats.server_errors.append(f"import {kind}: {type(exc).__name__}: {exc}"[:300])
            return
        else:
            stats.statuses["imported" if report.written else "rejected"] += 1
            delta = count(tables[kind]) - before
            expected = report.created if report.written else 0
        if delta != expected:
            stats.partial_writes.append(f"import {kind}: wrote {delta}, said {expected}")

    run()
    return stats
