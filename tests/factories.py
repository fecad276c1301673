"""A tiny city with round numbers, for tests whose answers are worked out by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dashboard.db import reset_sequences
from dashboard.models import Area, Category, Department, TimeLimit
from dashboard.workcalendar import STEPS

# Local time in Asia/Shanghai is UTC+8; tests use naive UTC for storage.
T0 = datetime(2026, 11, 2, 0, 0)  # Monday 08:00 local


@dataclass
class City:
    city: str = "3390"
    districts: tuple = ("339001", "339002")
    grids: tuple = ("G11", "G12", "G21", "G22")  # G1x in district 1, G2x in district 2


def _square(d: int) -> str:
    """A district's shape: side by side, counter-clockwise as RFC 7946 GeoJSON has it."""
    x = 118.0 + (d - 1) * 0.1
    ring = [[x, 30.0], [x + 0.1, 30.0], [x + 0.1, 30.1], [x, 30.1], [x, 30.0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def make_city(session: Session) -> City:
    city = Area(id=1, code="3390", name="测试市", level="city", population=40000)
    session.add(city)
    areas = [city]
    next_id = 2
    for d in (1, 2):
        dist = Area(
            id=next_id,
            code=f"33900{d}",
            name=f"第{d}区",
            level="district",
            parent_id=1,
            population=20000,
            boundary=_square(d),
        )
        dist.district_id = dist.id
        next_id += 1
        street = Area(
            id=next_id,
            code=f"S{d}",
            name=f"第{d}街道",
            level="street",
            parent_id=dist.id,
            district_id=dist.id,
            population=20000,
        )
        street.street_id = street.id
        next_id += 1
        comm = Area(
            id=next_id,
            code=f"C{d}",
            name=f"第{d}社区",
            level="community",
            parent_id=street.id,
            district_id=dist.id,
            street_id=street.id,
            population=20000,
        )
        comm.community_id = comm.id
        next_id += 1
        areas += [dist, street, comm]
        for gnum in (1, 2):
            areas.append(
                Area(
                    id=next_id,
                    code=f"G{d}{gnum}",
                    name=f"网格{d}{gnum}",
                    level="grid",
                    parent_id=comm.id,
                    district_id=dist.id,
                    street_id=street.id,
                    community_id=comm.id,
                    population=10000,
                    lat=30.0 + d * 0.01,
                    lon=118.0 + gnum * 0.01,
                )
            )
            next_id += 1
    session.add_all(areas)
    session.add_all(
        [
            Department(id=1, code="CG", name="城管局"),
            Department(id=2, code="SF", name="司法局"),
        ]
    )
    session.flush()
    session.add_all(
        [
            Category(id=1, code="01", name="市容环境", default_department_id=1),
            Category(id=2, code="0101", name="暴露垃圾", parent_id=1, default_department_id=1),
            Category(id=3, code="02", name="矛盾纠纷", is_dispute=True, default_department_id=2),
            Category(
                id=4,
                code="0201",
                name="邻里纠纷",
                parent_id=3,
                is_dispute=True,
                default_department_id=2,
            ),
            Category(id=5, code="10", name="突发事件", default_department_id=1),
            Category(
                id=6,
                code="1001",
                name="群体性事件",
                parent_id=5,
                sensitive=True,
                default_department_id=1,
            ),
        ]
    )
    session.flush()
    # 时限 in calendar hours: 立案 1 h from the report; dispatch 1 h from 立案, handling 24 h from
    # dispatch, closing 48 h from 立案 (disputes 2/72/120); halved at severity 2.
    session.add_all(
        [
            *time_limits(2, 1, accept=1, dispatch=1, handle=24, close=48),
            *time_limits(2, 2, accept=0.5, dispatch=0.5, handle=12, close=24),
            *time_limits(4, 1, accept=1, dispatch=2, handle=72, close=120),
            *time_limits(6, 1, accept=0.5, dispatch=0.5, handle=6, close=24),
        ]
    )
    session.flush()
    reset_sequences(session.connection(), ["areas", "departments", "categories"])
    return City()


def time_limits(category_id: int, severity: int, unit: str = "hours", **amounts) -> list:
    """TimeLimit rows, each step from its usual start (dashboard.workcalendar.STEPS)."""
    return [
        TimeLimit(
            category_id=category_id,
            severity=severity,
            step=step,
            amount=amount,
            unit=unit,
            start=STEPS[step][2],
        )
        for step, amount in amounts.items()
    ]


def event(external_id: str, at: datetime, grid: str = "G11", sub: str = "0101", **kw) -> dict:
    """An API event payload reported at `at` (naive UTC)."""
    return {
        "external_id": external_id,
        "source": kw.pop("source", "grid"),
        "subcategory": sub,
        "grid_code": grid,
        "title": kw.pop("title", f"事件 {external_id}"),
        "reported_at": at.isoformat() + "Z",
        **kw,
    }


def step(status: str, at: datetime, **kw) -> dict:
    return {"status": status, "at": at.isoformat() + "Z", **kw}


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def report_and_accept(rt, ids: list[str], at: datetime) -> None:
    """Events reported at `at` through the ingestor, each then accepted (two transitions)."""
    rt.ingestor.ingest_events([event(x, at) for x in ids], now=at)
    for x in ids:
        rt.ingestor.transition_event("grid", x, [step("accepted", at)], now=at)


def staff(
    session: Session,
    staff_no: str,
    area: str,
    role: str = "grid_fulltime",
    status: str = "on_duty",
    **kw,
) -> int:
    """One person on the roster of an area (code); their id."""
    from sqlalchemy import select

    from dashboard.models import Area, Staff

    a = session.execute(select(Area).where(Area.code == area)).scalar_one()
    person = Staff(
        staff_no=staff_no,
        name=kw.pop("name", "测试员"),
        role=role,
        area_id=a.id,
        district_id=a.district_id or a.id,
        street_id=a.street_id,
        status=status,
        **kw,
    )
    session.add(person)
    session.flush()
    return person.id


def shift(
    session: Session,
    staff_id: int,
    start: datetime,
    hours: float,
    checked_in: datetime | None = None,
    checked_out: datetime | None = None,
    kind: str = "day",
) -> None:
    """A shift from `start` (naive UTC) for `hours`, with its check-in and check-out if given."""
    from dashboard.models import CheckIn, DutyShift

    session.add(DutyShift(staff_id=staff_id, starts_at=start, ends_at=start + h(hours), kind=kind))
    for at, mark in ((checked_in, "in"), (checked_out, "out")):
        if at is not None:
            session.add(CheckIn(staff_id=staff_id, at=at, kind=mark, source="test", created_at=at))


def four_cases(rt, now: datetime) -> None:
    """Four cases reported from T0 (Monday 08:00 local): E1 closed on time; E2 overdue at 城管局
    (0101, 48 h to close); E3 a dispute settled in its community by people's mediation; E4 a
    dispute mediated at the district, failed."""
    items = [
        event("E1", T0, "G11"),
        event("E2", T0 + h(1), "G12"),
        event("E3", T0 + h(2), "G21", sub="0201"),
        event("E4", T0 + h(3), "G22", sub="0201"),
    ]
    steps = {
        "E1": [
            step("accepted", T0 + h(0.5)),
            step("dispatched", T0 + h(1)),
            step("in_progress", T0 + h(2)),
            step("resolved", T0 + h(5)),
            step("closed", T0 + h(6), satisfaction="satisfied"),
        ],
        "E2": [step("accepted", T0 + h(1.5)), step("dispatched", T0 + h(2))],
        "E3": [
            step("accepted", T0 + h(2.5)),
            step("dispatched", T0 + h(3)),
            step("in_progress", T0 + h(4)),
            step(
                "resolved",
                T0 + h(8),
                resolved_level="community",
                mediation_result="success",
                mediation_type="people",
            ),
            step("closed", T0 + h(9), satisfaction="satisfied"),
        ],
        "E4": [
            step("accepted", T0 + h(3.5)),
            step("dispatched", T0 + h(4)),
            step("in_progress", T0 + h(5)),
            step(
                "resolved",
                T0 + h(10),
                resolved_level="district",
                mediation_result="failed",
                mediation_type="judicial",
            ),
            step("closed", T0 + h(11)),
        ],
    }
    rt.ingestor.ingest_events(items, now=now)
    for ext, todo in steps.items():
        rt.ingestor.transition_event("grid", ext, todo, now=now)
