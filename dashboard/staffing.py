"""人才队伍配备标准: the staffing standard, the training targets and the duty rules, from
dashboard/staffing.toml (or STAFFING_FILE), and the headcount of each role in each district
against the standard (缺编 below it, 超编 above it).

Headcount counts the people on the roster who have not left (status 在职 or 请假): someone on
leave still fills a post. Who is on duty at a moment is dashboard.duty's."""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from dashboard.domain import STAFF_ROLE_LABELS
from dashboard.models import Area, Staff

DEFAULT_FILE = Path(__file__).with_name("staffing.toml")
PER_LEVELS = ("grid", "community", "street", "district")
IN_POST = ("on_duty", "leave")  # on the roster and not 离岗


@dataclass(frozen=True)
class Standard:
    role: str
    count: float
    per: str | None = None  # an area level
    per_residents: int | None = None

    def required(self, areas: int, population: int) -> int:
        if self.per_residents:
            return math.ceil(population / self.per_residents * self.count)
        return math.ceil(areas * self.count)

    def describe(self, lang: str = "zh") -> str:
        if self.per_residents:
            return (
                f"每{self.per_residents / 10000:g}万人 {self.count:g} 名"
                if lang == "zh"
                else f"{self.count:g} per {self.per_residents:,} residents"
            )
        from dashboard.domain import LEVEL_LABELS

        zh, en = LEVEL_LABELS[self.per]
        return f"每个{zh} {self.count:g} 名" if lang == "zh" else f"{self.count:g} per {en.lower()}"


@dataclass(frozen=True)
class Certificate:
    name: str
    target: float


@dataclass(frozen=True)
class Standards:
    standards: dict[str, Standard]
    hours_per_year: float = 40.0
    certificates: dict[str, Certificate] = field(default_factory=dict)
    check_in_early_minutes: int = 60
    grid_roles: tuple[str, ...] = ("grid_fulltime", "grid_parttime")


def _role(role: str, where: str) -> str:
    if role not in STAFF_ROLE_LABELS:
        raise ValueError(f"{where}: unknown role {role!r} (one of {', '.join(STAFF_ROLE_LABELS)})")
    return role


def _number(value, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{where}: must be a number from {low:g} to {high:g}")
    return float(value)


def parse(raw: dict, where: str = "staffing.toml") -> Standards:
    """The standards of a parsed file; ValueError naming the key for anything wrong."""
    standards = {}
    for role, spec in (raw.get("standard") or {}).items():
        here = f"{where}: standard.{role}"
        _role(role, here)
        if not isinstance(spec, dict):
            raise ValueError(f"{here}: must be a table")
        count = _number(spec.get("count", 1), f"{here}.count", 0.01, 1000)
        per, residents = spec.get("per"), spec.get("per_residents")
        if (per is None) == (residents is None):
            raise ValueError(f"{here}: give either `per` (an area level) or `per_residents`")
        if per is not None and per not in PER_LEVELS:
            raise ValueError(f"{here}.per: must be one of {', '.join(PER_LEVELS)}")
        if residents is not None:
            residents = int(_number(residents, f"{here}.per_residents", 1, 10_000_000))
        standards[role] = Standard(role, count, per, residents)
    training = raw.get("training") or {}
    certificates = {}
    for role, spec in (training.get("certificates") or {}).items():
        here = f"{where}: training.certificates.{role}"
        _role(role, here)
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{here}.name: must be the certificate's name")
        certificates[role] = Certificate(
            name.strip(), _number(spec.get("target", 0), f"{here}.target", 0, 1)
        )
    duty = raw.get("duty") or {}
    grid_roles = tuple(
        _role(r, f"{where}: duty.grid_roles") for r in duty.get("grid_roles", Standards.grid_roles)
    )
    return Standards(
        standards=standards,
        hours_per_year=_number(
            training.get("hours_per_year", 40), f"{where}: training.hours_per_year", 0, 2000
        ),
        certificates=certificates,
        check_in_early_minutes=int(
            _number(
                duty.get("check_in_early_minutes", 60),
                f"{where}: duty.check_in_early_minutes",
                0,
                720,
            )
        ),
        grid_roles=grid_roles,
    )


def load(path: str | Path | None = None) -> Standards:
    p = Path(path) if path else DEFAULT_FILE
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"STAFFING_FILE: cannot read {p}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"STAFFING_FILE: {p} is not valid TOML: {exc}") from None
    return parse(raw, p.name)


# --- headcount against the standard -------------------------------------------------------
def _areas_by_district(session: Session, district_id: int | None) -> dict[int, dict]:
    """Per district: its name, code, population and how many areas of each level it has."""
    districts = session.execute(
        select(Area.id, Area.code, Area.name, Area.population)
        .where(Area.level == "district", True if district_id is None else Area.id == district_id)
        .order_by(Area.code)
    ).all()
    out = {
        d.id: {"code": d.code, "name": d.name, "population": d.population or 0, "levels": {}}
        for d in districts
    }
    counts = session.execute(
        select(Area.district_id, Area.level, func.count())
        .where(Area.district_id.in_(list(out)), Area.level.in_(PER_LEVELS[:-1]))
        .group_by(Area.district_id, Area.level)
    ).all()
    for did, level, n in counts:
        out[did]["levels"][level] = n
    for d in out.values():
        d["levels"]["district"] = 1
    return out


def headcount(session: Session, district_id: int | None = None) -> dict[tuple[int, str], int]:
    """People in post (在职 or 请假) by (district, role)."""
    rows = session.execute(
        select(Staff.district_id, Staff.role, func.count())
        .where(
            Staff.status.in_(IN_POST),
            True if district_id is None else Staff.district_id == district_id,
        )
        .group_by(Staff.district_id, Staff.role)
    ).all()
    return {(d, r): n for d, r, n in rows}


def against_standard(
    session: Session, standards: Standards, district_id: int | None = None
) -> list[dict]:
    """One row per district and role: in post, required by the standard, and the gap
    (negative: 缺编, positive: 超编; None where the role has no standard)."""
    areas = _areas_by_district(session, district_id)
    have = headcount(session, district_id)
    rows = []
    for did, d in areas.items():
        for role in STAFF_ROLE_LABELS:
            std = standards.standards.get(role)
            required = (
                std.required(d["levels"].get(std.per, 0) if std.per else 0, d["population"])
                if std
                else None
            )
            n = have.get((did, role), 0)
            rows.append(
                {
                    "district_id": did,
                    "district": d["code"],
                    "district_name": d["name"],
                    "role": role,
                    "headcount": n,
                    "required": required,
                    "gap": None if required is None else n - required,
                }
            )
    return rows


def shortfall(rows: list[dict]) -> int:
    """The posts missing (缺编) over the rows: a surplus in one place does not fill another."""
    return sum(-r["gap"] for r in rows if r["gap"] is not None and r["gap"] < 0)


def uncovered_grids(session: Session, district_id: int | None = None) -> list[dict]:
    """Grids with no full-time grid worker in post, with where they are (for the map) and the
    code of their street."""
    covered = select(Staff.area_id).where(Staff.role == "grid_fulltime", Staff.status.in_(IN_POST))
    street = aliased(Area)
    rows = session.execute(
        select(
            Area.id,
            Area.code,
            Area.name,
            Area.lat,
            Area.lon,
            Area.street_id,
            Area.district_id,
            street.code.label("street"),
        )
        .outerjoin(street, street.id == Area.street_id)
        .where(
            Area.level == "grid",
            Area.id.not_in(covered),
            True if district_id is None else Area.district_id == district_id,
        )
        .order_by(Area.code)
    ).all()
    return [r._asdict() for r in rows]


def gaps_by_district(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["gap"] is not None and r["gap"] < 0:
            out[r["district"]] += -r["gap"]
    return dict(out)
