"""Reference data look-ups used by ingest and the read models (categories, departments, areas)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.db import chunks
from dashboard.models import Area, Category, Department, TimeLimit
from dashboard.workcalendar import STEPS, Limit, WorkCalendar

# Used for a step that neither a subcategory nor its category has a limit for.
DEFAULT_LIMITS = {
    "accept": Limit(2, "work_hours", "reported"),
    "dispatch": Limit(1, "work_hours", "accepted"),
    "handle": Limit(3, "work_days", "dispatched"),
    "close": Limit(5, "work_days", "accepted"),
}


def area_codes(
    session: Session, level: str | None = None, ids: Iterable[int | None] | None = None
) -> dict[int, str]:
    """Area id → code: of every area, of one level, or of some ids. The one look-up of codes."""
    q = select(Area.id, Area.code)
    if level is not None:
        q = q.where(Area.level == level)
    if ids is None:
        return dict(session.execute(q).all())
    out: dict[int, str] = {}
    for chunk in chunks(sorted({i for i in ids if i is not None}), 500):
        out |= dict(session.execute(q.where(Area.id.in_(chunk))).all())
    return out


def area_by_code(session: Session, code: str) -> Area | None:
    return session.execute(select(Area).where(Area.code == code)).scalar_one_or_none()


@dataclass(frozen=True)
class CategoryRef:
    id: int
    code: str
    name: str
    parent_id: int | None
    parent_code: str | None
    is_dispute: bool
    sensitive: bool
    default_department_id: int | None


@dataclass(frozen=True)
class GridRef:
    id: int
    code: str
    community_id: int
    street_id: int
    district_id: int
    district_code: str
    lat: float | None
    lon: float | None


class Reference:
    """Categories, departments and districts of one database, loaded once per request or batch."""

    def __init__(self, session: Session, calendar: WorkCalendar | None = None, zone=None):
        self.session = session
        self.calendar = calendar or WorkCalendar()
        self.zone = zone or ZoneInfo("Asia/Shanghai")
        cats = session.execute(select(Category)).scalars().all()
        code_of = {c.id: c.code for c in cats}
        self.categories: dict[int, CategoryRef] = {
            c.id: CategoryRef(
                c.id,
                c.code,
                c.name,
                c.parent_id,
                code_of.get(c.parent_id),
                c.is_dispute,
                c.sensitive,
                c.default_department_id,
            )
            for c in cats
        }
        self.category_by_key: dict[str, CategoryRef] = {}
        for c in self.categories.values():
            self.category_by_key[c.code] = c
            self.category_by_key.setdefault(c.name, c)
        deps = session.execute(
            select(
                Department.id,
                Department.code,
                Department.name,
                Department.parent_id,
                Department.district_id,
            )
        ).all()
        self.department_by_key = {d.code: d.id for d in deps} | {d.name: d.id for d in deps}
        self.department_code = {d.id: d.code for d in deps}
        # handling units (承办单位): a unit's bureau, and a bureau's unit in a district
        self.bureau_of = {d.id: d.parent_id for d in deps if d.parent_id is not None}
        self.unit_of = {(d.parent_id, d.district_id): d.id for d in deps if d.parent_id is not None}
        self.district_code = area_codes(session, "district")
        self._limits: dict[tuple[int, int], dict[str, Limit]] | None = None
        self._locator: GridLocator | None = None

    def subcategory(self, key: str) -> CategoryRef | None:
        c = self.category_by_key.get(key)
        return c if c is not None and c.parent_id is not None else None

    def category(self, key: str) -> CategoryRef | None:
        c = self.category_by_key.get(key)
        return c if c is not None and c.parent_id is None else None

    def limits(self, subcategory_id: int, severity: int) -> dict[str, Limit]:
        """The limit of each step for a subcategory at a severity: the subcategory's own at that
        severity, else at 一般, else its category's, else DEFAULT_LIMITS."""
        if self._limits is None:
            self._limits = defaultdict(dict)
            for t in self.session.execute(select(TimeLimit)).scalars():
                self._limits[(t.category_id, t.severity)][t.step] = Limit(t.amount, t.unit, t.start)
        parent = self.categories[subcategory_id].parent_id
        keys = [(subcategory_id, severity), (subcategory_id, 1), (parent, severity), (parent, 1)]
        out = {}
        for step in STEPS:
            found = (self._limits[k][step] for k in keys if step in self._limits.get(k, {}))
            out[step] = next(found, DEFAULT_LIMITS[step])
        return out

    def deadlines(
        self, subcategory_id: int, severity: int, start: str, at: datetime
    ) -> dict[str, datetime]:
        """The deadlines (naive UTC) of the steps whose limit runs from `start`, begun at `at`."""
        return {
            f"{step}_deadline": self.calendar.deadline(at, limit, self.zone)
            for step, limit in self.limits(subcategory_id, severity).items()
            if limit.start == start
        }

    def grids(self, codes: set[str]) -> dict[str, GridRef]:
        if not codes:
            return {}
        cols = (
            Area.id,
            Area.code,
            Area.community_id,
            Area.street_id,
            Area.district_id,
            Area.lat,
            Area.lon,
        )
        out = {}
        for chunk in chunks(sorted(codes), 500):
            rows = self.session.execute(
                select(*cols).where(Area.level == "grid", Area.code.in_(chunk))
            )
            out |= {r.code: self._grid_ref(r) for r in rows}
        return out

    def _grid_ref(self, a) -> GridRef:
        return GridRef(
            a.id,
            a.code,
            a.community_id,
            a.street_id,
            a.district_id,
            self.district_code.get(a.district_id, ""),
            a.lat,
            a.lon,
        )

    def locate(self, lat: float, lon: float) -> GridRef | None:
        if self._locator is None:
            grids = (
                self.session.execute(
                    select(Area).where(Area.level == "grid", Area.lat.is_not(None))
                )
                .scalars()
                .all()
            )
            self._locator = GridLocator([self._grid_ref(a) for a in grids])
        return self._locator.nearest(lat, lon)


class GridLocator:
    """Nearest grid centre to a point (grids carry centres, not polygons)."""

    MAX_DISTANCE_DEG = 0.05  # ≈ 5 km: farther than this the point is outside the city

    def __init__(self, grids: list[GridRef]):
        self.grids = grids
        self.points = np.array([(g.lat, g.lon) for g in grids], dtype=float).reshape(-1, 2)

    def nearest(self, lat: float, lon: float) -> GridRef | None:
        if not self.grids:
            return None
        scale = np.cos(np.radians(lat))
        d2 = (self.points[:, 0] - lat) ** 2 + ((self.points[:, 1] - lon) * scale) ** 2
        i = int(np.argmin(d2))
        return self.grids[i] if d2[i] <= self.MAX_DISTANCE_DEG**2 else None


def handled_by(
    ref: Reference, department_id: int, district_id: int | None
) -> tuple[int, int | None]:
    """(the bureau a case is counted under, the unit that handles it) for a case sent to
    `department_id` in a district: a unit is its bureau's; a bureau's own unit in the district,
    where it has one, handles what is sent to the bureau."""
    bureau = ref.bureau_of.get(department_id)
    if bureau is not None:
        return bureau, department_id
    return department_id, ref.unit_of.get((department_id, district_id))
