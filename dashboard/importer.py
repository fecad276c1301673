"""Import events, staff and areas from CSV, XLSX or GeoJSON, with row-level error reports.

Events go through the same validation and write path as the API (valid rows are stored, bad
rows reported). Areas are imported all or nothing: an area tree with holes is worse than none,
so one bad row stops the file and nothing is written. The personnel office's files (staff,
shifts, training) are dashboard.roster's, all or nothing too.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ConfigDict, Field, ValidationError, field_validator
from redis.exceptions import RedisError
from sqlalchemy import select

from dashboard.clock import utcnow
from dashboard.domain import LEVELS
from dashboard.models import Area
from dashboard.runtime import Runtime
from dashboard.schemas import Input, one_of, pydantic_errors

log = logging.getLogger(__name__)

BATCH = 1000


class ImportFailed(Exception):
    """The file cannot be read at all (missing, wrong format, no header)."""


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)
    error_file: Path | None = None
    written: bool = True

    def summary(self) -> str:
        state = "" if self.written else " — nothing was written"
        return (
            f"{self.kind}: {self.rows} rows, {self.created} created, {self.updated} updated, "
            f"{self.duplicates} duplicates, {len(self.errors)} rejected{state}"
        )


# --- reading ------------------------------------------------------------------------------
CSV_FIELD_LIMIT = csv.field_size_limit()  # 131,072 characters: far beyond any field we keep


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), or GB18030 — a superset of GBK, what Excel in Chinese
    writes by default."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed("the file is neither UTF-8 nor GB18030/GBK text; save it as CSV UTF-8")


def _check_header(header: list[str]) -> None:
    names = [h for h in header if h]
    if not names:
        raise ImportFailed("the file has no header row")
    twice = sorted({h for h in names if names.count(h) > 1})
    if twice:
        raise ImportFailed(f"the header names a column more than once: {', '.join(twice)}")


def _read_csv(path: Path) -> list[dict]:
    text = _decode(path.read_bytes())  # a NUL passes the reader; its row's validation refuses it
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        _check_header(header)
        return [_clean(dict(zip(header, r, strict=False))) for r in reader if any(r)]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ImportFailed(
                f"line {reader.line_num}: a field is longer than {CSV_FIELD_LIMIT:,} characters"
            ) from None
        raise ImportFailed(f"line {reader.line_num}: not readable as CSV ({exc})") from None


def read_rows(path: Path) -> list[dict]:
    """Rows as dicts of stripped strings (empty cells → None); CSV (UTF-8 or GB18030) or XLSX.
    A file that cannot be read whole is refused whole (ImportFailed), before anything is
    written."""
    if not path.exists():
        raise ImportFailed(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook
            raise ImportFailed(f"cannot read the workbook: {exc}") from None
        rows = list(wb.active.iter_rows(values_only=True))
        wb.close()
        if not rows:
            raise ImportFailed("the worksheet is empty")
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        _check_header(header)
        return [_clean(dict(zip(header, r, strict=False))) for r in rows[1:] if any(r)]
    raise ImportFailed("use a .csv, .xlsx or (for areas) .geojson file")


def _clean(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if k is None or k == "":
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        v = v.strip() if isinstance(v, str) else v
        out[k.strip()] = None if v == "" else v
    return out


def write_errors(rt: Runtime, kind: str, errors: list[dict]) -> Path | None:
    if not errors:
        return None
    folder = rt.settings.var_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"import-{kind}-errors-{utcnow():%Y%m%dT%H%M%S}.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "field", "error"])
        for e in errors:
            for f, msg in e["errors"].items():
                w.writerow([e["row"], f, msg])
    return path


# --- events -------------------------------------------------------------------------------
def import_events(rt: Runtime, rows: list[dict], progress) -> ImportReport:
    report = ImportReport("events", rows=len(rows))
    for start in range(0, len(rows), BATCH):
        batch = []
        for r in rows[start : start + BATCH]:
            item = {
                k: (str(v) if k in ("external_id", "grid_code", "reporter_phone") else v)
                for k, v in r.items()
                if v is not None
            }
            batch.append(item)
        results = rt.ingestor.ingest_events(batch)
        for res in results:
            line = start + res.index + 2  # 1-based, after the header
            if res.status == "created":
                report.created += 1
            elif res.status == "duplicate":
                report.duplicates += 1
            else:
                report.errors.append({"row": line, "errors": res.errors})
        progress(f"events: {min(start + BATCH, len(rows)):,}/{len(rows):,} rows")
    return report


# --- areas --------------------------------------------------------------------------------
class AreaIn(Input):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    level: str
    parent_code: str | None = Field(default=None, max_length=32)
    population: int = Field(default=0, ge=0)
    households: int = Field(default=0, ge=0)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    boundary: dict | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, v: str) -> str:
        return one_of(v, LEVELS)


def read_geojson(path: Path) -> list[dict]:
    try:
        data = json.loads(_decode(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise ImportFailed(f"cannot read the GeoJSON file: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise ImportFailed("the GeoJSON must be a FeatureCollection")
    rows = []
    for n, f in enumerate(data["features"], 1):
        if not isinstance(f, dict) or not isinstance(f.get("properties") or {}, dict):
            raise ImportFailed(f"feature {n} is not a GeoJSON Feature with properties")
        props = dict(f.get("properties") or {})
        props["boundary"] = f.get("geometry")
        rows.append(props)
    return rows


def geometry_problem(geometry) -> str | None:
    """What is wrong with an area's boundary (None: a usable Polygon or MultiPolygon, every
    ring closed, of at least four positions of longitude and latitude)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "must be a Polygon or MultiPolygon"
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        return "has no coordinates"
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "has a polygon without rings"
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                return "has a ring that is not closed (at least 4 positions, last = first)"
            for pt in ring:
                if not _position(pt):
                    return "has a position that is not [longitude, latitude]"
    return None


def _position(pt) -> bool:
    if not isinstance(pt, list) or len(pt) < 2:
        return False
    x, y = pt[0], pt[1]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y))
    return numbers and -180 <= x <= 180 and -90 <= y <= 90


def _centre(geometry: dict) -> tuple[float, float] | None:
    coords = geometry.get("coordinates") or []
    rings = [coords[0]] if geometry.get("type") == "Polygon" else [p[0] for p in coords]
    pts = [pt for ring in rings for pt in ring[:-1]]
    if not pts:
        return None
    return sum(p[1] for p in pts) / len(pts), sum(p[0] for p in pts) / len(pts)


def import_areas(rt: Runtime, rows: list[dict], progress) -> ImportReport:
    report = ImportReport("areas", rows=len(rows))
    parsed: list[tuple[int, AreaIn]] = []
    for i, raw in enumerate(rows):
        try:
            a = AreaIn.model_validate(raw)
        except ValidationError as exc:
            report.errors.append({"row": i + 2, "errors": pydantic_errors(exc)})
            continue
        problem = geometry_problem(a.boundary) if a.boundary is not None else None
        if problem:
            report.errors.append({"row": i + 2, "errors": {"geometry": problem}})
            continue
        parsed.append((i, a))
    with rt.sessions() as session, session.begin():
        by_code = {a.code: a for a in session.execute(select(Area)).scalars()}
        file_codes = {a.code: a for _i, a in parsed}
        for i, a in parsed:
            if a.level != "city" and not a.parent_code:
                report.errors.append({"row": i + 2, "errors": {"parent_code": "required"}})
                continue
            parent_level = by_code.get(a.parent_code) or file_codes.get(a.parent_code)
            if a.parent_code and parent_level is None:
                report.errors.append({"row": i + 2, "errors": {"parent_code": "unknown area"}})
                continue
            if (
                parent_level is not None
                and LEVELS.index(parent_level.level) != LEVELS.index(a.level) + 1
            ):
                report.errors.append(
                    {
                        "row": i + 2,
                        "errors": {"level": f"a {a.level} cannot sit under a {parent_level.level}"},
                    }
                )
        if report.errors:
            report.written = False
            return report
        for _i, a in sorted(parsed, key=lambda t: -LEVELS.index(t[1].level)):
            parent = by_code.get(a.parent_code) if a.parent_code else None
            centre = _centre(a.boundary) if a.boundary else None
            row = by_code.get(a.code)
            if row is None:
                row = Area(code=a.code, level=a.level)
                session.add(row)
                report.created += 1
            else:
                report.updated += 1
            row.name, row.level, row.parent_id = a.name, a.level, parent.id if parent else None
            row.population, row.households = a.population, a.households
            row.lat = a.lat if a.lat is not None else (centre[0] if centre else row.lat)
            row.lon = a.lon if a.lon is not None else (centre[1] if centre else row.lon)
            if a.boundary is not None:
                row.boundary = json.dumps(a.boundary, ensure_ascii=False)
            session.flush()
            chain = {"district": None, "street": None, "community": None}
            if parent is not None:
                chain = {
                    "district": parent.district_id,
                    "street": parent.street_id,
                    "community": parent.community_id,
                }
            if a.level in chain:
                chain[a.level] = row.id
            row.district_id, row.street_id, row.community_id = (
                chain["district"],
                chain["street"],
                chain["community"],
            )
            by_code[a.code] = row
        progress(f"areas: {len(parsed):,} rows written")
    try:
        rt.live.drop_document("geo")  # the wall's map shapes are rebuilt by the next snapshot
    except RedisError:
        log.warning("map shapes not dropped (Redis unavailable): the wall keeps the old ones")
    return report


def import_file(
    rt: Runtime,
    kind: str,
    path: str,
    source: str | None = None,
    progress: Callable[[str], None] = print,
) -> ImportReport:
    """Import a file of events or areas (the personnel office's are dashboard.roster's)."""
    p = Path(path)
    if kind == "areas" and p.suffix.lower() in (".geojson", ".json"):
        if not p.exists():
            raise ImportFailed(f"no such file: {p}")
        rows = read_geojson(p)
    else:
        rows = read_rows(p)
    if kind == "events":
        if source:
            rows = [r if r.get("source") else {**r, "source": source} for r in rows]
        report = import_events(rt, rows, progress)
    elif kind == "areas":
        report = import_areas(rt, rows, progress)
    else:
        raise ImportFailed(f"unknown kind {kind!r}")
    report.error_file = write_errors(rt, kind, report.errors)
    return report
