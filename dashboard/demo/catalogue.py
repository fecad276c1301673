"""The demo city's catalogue (catalogue.toml beside this file), as typed, read-only data."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dashboard.domain import SOURCES
from dashboard.workcalendar import STEPS, Limit

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")


@dataclass(frozen=True)
class DistrictDef:
    name: str
    name_en: str
    density: float  # households per grid, relative
    performance: float  # a multiplier on delays


@dataclass(frozen=True)
class DepartmentDef:
    code: str
    name: str
    name_en: str
    performance: float
    units: bool = False  # a branch in each district (承办单位)


@dataclass(frozen=True)
class SubcategoryDef:
    code: str
    name: str
    name_en: str
    weight: float
    sensitive: bool = False
    department: str | None = None  # None: the category's
    severity: tuple[float, ...] | None = None  # None: the city's usual mix


@dataclass(frozen=True)
class CategoryDef:
    code: str
    name: str
    name_en: str
    weight: float
    dispute: bool
    department: str
    limits: dict[str, Limit]  # 立案, dispatch, handling and closing (一般 and 较大)
    sources: np.ndarray  # weights in dashboard.domain.SOURCES order, summing to 1
    subcategories: tuple[SubcategoryDef, ...]


@dataclass(frozen=True)
class Catalogue:
    city_code: str
    districts: tuple[DistrictDef, ...]
    departments: tuple[DepartmentDef, ...]
    categories: tuple[CategoryDef, ...]
    hour_profile: np.ndarray  # 24 relative volumes, local hours
    weekday_factor: np.ndarray  # 7, Monday first
    severity: tuple[float, ...]  # an ordinary event's chances of 一般 … 特别重大
    severity_limits: dict[int, dict[str, Limit]]  # 重大 and above: 立案 and 派遣, calendar hours
    street_words: str
    community_words: str
    surnames: tuple[str, ...]
    given: tuple[str, ...]


def _tupled(sub: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in sub.items()}


@functools.cache
def load(path: Path = CATALOGUE_FILE) -> Catalogue:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    rhythm, names = raw["rhythm"], raw["names"]

    def limits(steps: dict) -> dict[str, Limit]:
        return {step: Limit.parse(steps[step], step) for step in STEPS}

    def category(c: dict) -> CategoryDef:
        weights = np.array([float(c["sources"].get(s, 0)) for s in SOURCES])
        return CategoryDef(
            c["code"],
            c["name"],
            c["name_en"],
            float(c["weight"]),
            bool(c["dispute"]),
            c["department"],
            limits(c["limits"]),
            weights / weights.sum(),
            tuple(SubcategoryDef(**_tupled(s)) for s in c["subcategories"]),
        )

    return Catalogue(
        raw["city_code"],
        tuple(DistrictDef(**d) for d in raw["district"]),
        tuple(DepartmentDef(**d) for d in raw["department"]),
        tuple(category(c) for c in raw["category"]),
        np.array(rhythm["hours"], dtype=float),
        np.array(rhythm["weekdays"], dtype=float),
        tuple(rhythm["severity"]),
        {
            int(sev): {step: Limit.parse(v, step) for step, v in steps.items()}
            for sev, steps in rhythm["severity_limits"].items()
        },
        names["street_words"],
        names["community_words"],
        tuple(names["surnames"]),
        tuple(names["given"]),
    )
