"""重复诉求 (DESIGN §5): an event about the same matter as an earlier event within 30 days.

The same matter is the same subcategory and either the same place — the same address once
normalised, or given coordinates within a configured distance — or the same reporter, keyed by a
keyed hash of the telephone number (the number itself is never compared or stored in clear).

Ingest flags each new event against the stored ones (a late arrival can also make a stored,
later event a repeat); the demo history flags its whole history with the same function.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from dashboard.db import chunks
from dashboard.models import Event
from dashboard.privacy import canonical_phone

WINDOW = timedelta(days=30)
DEFAULT_DISTANCE_M = 50.0
MAX_DISTANCE_M = 1000.0  # a cell is about 1 km: farther would need more than its neighbours
CELL_DEGREES = 0.01
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def place_key(address: str | None) -> str | None:
    """A short key of an address: the same for the same address however it was spaced,
    punctuated or typed (full-width or half-width characters)."""
    text = _PUNCTUATION.sub("", unicodedata.normalize("NFKC", address or "")).lower()
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text else None


# The name of a residential compound ends in one of these (兰园小区3栋 → 兰园小区).
_COMPOUND = re.compile(r"^(.{2,}?(?:小区|花园|家园|公寓|大厦|新村|公馆))")


def compound_key(address: str | None) -> str | None:
    """A short key of the compound an address lies in: its name up to 小区, 花园, 家园 …, so
    that every building of one compound shares it; an address naming no compound is its own."""
    text = _PUNCTUATION.sub("", unicodedata.normalize("NFKC", address or "")).lower()
    if not text:
        return None
    found = _COMPOUND.match(text)
    return hashlib.sha256(f"c:{found.group(1) if found else text}".encode()).hexdigest()[:16]


def reporter_key(phone: str | None, secret: str) -> str | None:
    """A keyed hash of the reporter's telephone number (its one canonical spelling)."""
    canonical = canonical_phone(phone)
    if not canonical:
        return None
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()[:24]


def cell_of(lat: float, lon: float) -> int:
    """The ~1 km square a point lies in (fits a 32-bit integer)."""
    return math.floor(lat / CELL_DEGREES) * 100_000 + math.floor(lon / CELL_DEGREES)


def _neighbours(cell: int) -> list[int]:
    row, col = divmod(cell, 100_000)
    return [(row + dr) * 100_000 + col + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)]


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance on the ground (equirectangular: exact enough within a kilometre)."""
    dy = (lat2 - lat1) * 110_574.0
    dx = (lon2 - lon1) * 111_320.0 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


@dataclass(frozen=True)
class Report:
    """What the rule reads of one event. `key` names it for the caller (an id or an index)."""

    key: Hashable
    subcategory_id: int
    at: datetime
    place_key: str | None = None
    reporter_key: str | None = None
    lat: float | None = None
    lon: float | None = None
    point_given: bool = False

    @classmethod
    def of(cls, key: Hashable, row) -> Report:
        """From an events row (a mapping with the columns' names)."""
        return cls(
            key,
            row["subcategory_id"],
            row["reported_at"],
            row["place_key"],
            row["reporter_key"],
            row["lat"],
            row["lon"],
            bool(row["point_given"]),
        )

    @property
    def cell(self) -> int | None:
        return cell_of(self.lat, self.lon) if self.point_given else None


def same_matter(a: Report, b: Report, distance_m: float) -> bool:
    if a.subcategory_id != b.subcategory_id:
        return False
    if a.place_key and a.place_key == b.place_key:
        return True
    if a.reporter_key and a.reporter_key == b.reporter_key:
        return True
    return (
        a.point_given and b.point_given and metres(a.lat, a.lon, b.lat, b.lon) <= distance_m  # type: ignore[arg-type]
    )


class _Index:
    """Reports by subcategory and each key, in time order, for windowed look-ups."""

    def __init__(self, reports: Iterable[Report]):
        lists: dict[tuple, list[tuple[datetime, int, Report]]] = defaultdict(list)
        for n, r in enumerate(reports):
            for k in self._keys(r, r.cell):
                lists[k].append((r.at, n, r))
        self.times: dict[tuple, list[datetime]] = {}
        self.reports: dict[tuple, list[Report]] = {}
        for k, v in lists.items():
            v.sort(key=lambda x: (x[0], x[1]))
            self.times[k] = [x[0] for x in v]
            self.reports[k] = [x[2] for x in v]

    @staticmethod
    def _keys(r: Report, cell: int | None, near: bool = False) -> list[tuple]:
        keys = []
        if r.place_key:
            keys.append(("p", r.subcategory_id, r.place_key))
        if r.reporter_key:
            keys.append(("r", r.subcategory_id, r.reporter_key))
        if cell is not None:
            cells = _neighbours(cell) if near else [cell]
            keys += [("c", r.subcategory_id, c) for c in cells]
        return keys

    def around(self, r: Report, lo: datetime, hi: datetime) -> Iterable[Report]:
        """Reports that may be the same matter as r, reported in [lo, hi]."""
        for k in self._keys(r, r.cell, near=True):
            times = self.times.get(k)
            if times is None:
                continue
            i = bisect.bisect_left(times, lo)
            j = bisect.bisect_right(times, hi, lo=i)
            yield from self.reports[k][i:j]


def flag(
    new: list[Report], stored: list[Report], distance_m: float = DEFAULT_DISTANCE_M
) -> tuple[set, set]:
    """(keys of new reports that repeat an earlier one, keys of stored reports that a new one
    now precedes). Earlier means strictly earlier, by at most WINDOW."""
    index = _Index([*new, *stored])
    stored_ids = {id(r) for r in stored}  # keys of new and stored reports may coincide
    new_repeats, stored_repeats = set(), set()
    for r in new:
        # Without stored reports, only earlier ones matter.
        for c in index.around(r, r.at - WINDOW, r.at + WINDOW if stored_ids else r.at):
            if c is r or not same_matter(r, c, distance_m):
                continue
            if c.at < r.at:
                new_repeats.add(r.key)
            elif c.at > r.at and id(c) in stored_ids:
                stored_repeats.add(c.key)
    return new_repeats, stored_repeats


def stored_reports(conn, new: list[Report]) -> list[Report]:
    """The stored events that may be the same matter as a new one, within the window either
    side: three look-ups that each have an index (place, point cell, reporter)."""
    if not new:
        return []
    lo = min(r.at for r in new) - WINDOW
    hi = max(r.at for r in new) + WINDOW
    subs = sorted({r.subcategory_id for r in new})
    e = Event
    cols = (e.id, e.subcategory_id, e.reported_at, e.place_key, e.reporter_key, e.lat, e.lon)
    cols += (e.point_given,)
    when = (e.reported_at >= lo, e.reported_at <= hi)
    queries = []
    places = sorted({r.place_key for r in new if r.place_key})
    for chunk in chunks(places, 500):
        queries.append(
            select(*cols).where(e.subcategory_id.in_(subs), e.place_key.in_(chunk), *when)
        )
    cells = sorted({c for r in new if r.point_given for c in _neighbours(r.cell)})  # type: ignore[arg-type]
    for chunk in chunks(cells, 500):
        queries.append(select(*cols).where(e.subcategory_id.in_(subs), e.cell.in_(chunk), *when))
    reporters = sorted({r.reporter_key for r in new if r.reporter_key})
    for chunk in chunks(reporters, 500):
        queries.append(select(*cols).where(e.reporter_key.in_(chunk), *when))
    found: dict[int, Report] = {}
    for q in queries:
        for row in conn.execute(q):
            found[row.id] = Report.of(row.id, row._mapping)
    return list(found.values())
