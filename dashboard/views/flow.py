"""Read model of 事件流转 (the duty officer's desk): the filters as they live in the URL, checked
field by field, and the event list one page at a time — filtered, sorted and paged in SQL, never
the whole table in Python. Personal data masked as everywhere."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from dashboard.clock import day_bounds, local_day
from dashboard.domain import SEVERITY_LABELS, SOURCES, STATUSES
from dashboard.models import Area, Category, Department, Event
from dashboard.privacy import mask_name, mask_phone, mask_text, unseal
from dashboard.queries import area_scope
from dashboard.schemas import InputError

RANGES = ("today", "24h", "7d", "30d", "custom")
CUSTOM_MAX_DAYS = 366
PAGE_MAX = 500  # rows in one page fetch
# Sortable columns of the list (the grid's colId → the event's column); ties broken by id.
SORTS = {
    "reported_at": Event.reported_at,
    "severity": Event.severity,
    "status": Event.status,
    "close_deadline": Event.close_deadline,
}


@dataclass(frozen=True)
class Filters:
    """What the list and the charts of 事件流转 show; every field has a URL parameter of the
    same name (`overdue=1`, `supervised=1` for the flags)."""

    range: str = "24h"
    start: date | None = None  # "custom": local days, both included
    end: date | None = None
    area: str | None = None  # an area code at any level
    category: str | None = None  # a category or subcategory code
    source: str | None = None
    department: str | None = None
    status: str | None = None
    severity: int | None = None
    overdue: bool = False  # open and past the closing deadline
    supervised: bool = False  # 督办 sent at least once


def _text(value, name: str, limit: int = 32) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise InputError({name: f"at most {limit} characters of text"})
    return value.strip() or None


def parse(query) -> Filters:
    """Filters from a URL's parameters (a mapping of names to text; a crafted request may send
    anything). InputError names every field that is wrong."""
    errors: dict[str, str] = {}
    values: dict = {}
    for f in fields(Filters):
        raw = query.get(f.name) if hasattr(query, "get") else None
        try:
            if f.name in ("overdue", "supervised"):
                values[f.name] = _text(raw, f.name, 5) in ("1", "true", "yes")
            elif f.name in ("start", "end"):
                text = _text(raw, f.name, 10)
                values[f.name] = date.fromisoformat(text) if text else None
            elif f.name == "severity":
                text = _text(raw, f.name, 1)
                values[f.name] = int(text) if text else None
                if values[f.name] is not None and values[f.name] not in SEVERITY_LABELS:
                    raise ValueError
            else:
                values[f.name] = _text(raw, f.name)
        except InputError as exc:
            errors |= exc.errors
        except ValueError:
            errors[f.name] = {"severity": "one of 1, 2, 3, 4"}.get(f.name, "a day as YYYY-MM-DD")
    if values.get("range") is None:
        values["range"] = "24h"
    if values["range"] not in RANGES:
        errors["range"] = f"one of {', '.join(RANGES)}"
    if values.get("source") and values["source"] not in SOURCES:
        errors["source"] = f"one of {', '.join(SOURCES)}"
    if values.get("status") and values["status"] not in STATUSES:
        errors["status"] = f"one of {', '.join(STATUSES)}"
    if values["range"] == "custom" and not errors:
        a, b = values["start"], values["end"]
        if a is None or b is None:
            errors["start" if a is None else "end"] = "required for a custom range"
        elif b < a:
            errors["end"] = "must not be before start"
        elif (b - a).days >= CUSTOM_MAX_DAYS:
            errors["end"] = f"at most {CUSTOM_MAX_DAYS} days"
    if errors:
        raise InputError(errors)
    return Filters(**values)


def to_query(f: Filters) -> str:
    """The URL query of the filters (only what differs from the defaults), for links and
    bookmarks: parse(to_query(f)) == f."""
    default = asdict(Filters())
    out = {}
    for name, value in asdict(f).items():
        if value == default[name]:
            continue
        out[name] = (
            "1" if value is True else value.isoformat() if isinstance(value, date) else value
        )
    return urlencode(out)


def span(f: Filters, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the events' report time, naive UTC."""
    if f.range == "today":
        return day_bounds(local_day(now, zone), zone)[0], now
    if f.range == "custom":
        return day_bounds(f.start, zone)[0], day_bounds(f.end, zone)[1]
    hours = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}[f.range]
    return now - timedelta(hours=hours), now


def conditions(
    session: Session, f: Filters, now: datetime, zone: ZoneInfo, district_id: int | None = None
) -> list:
    """The WHERE terms of the filters, codes resolved to ids (InputError for an unknown code
    or an area outside `district_id`, the only district a district officer may see)."""
    start, end = span(f, now, zone)
    terms = [Event.reported_at >= start, Event.reported_at < end]
    scope = area_scope(session, f.area)  # InputError for an unknown code
    if district_id is not None:
        inside = (
            scope.level != "city"
            and session.execute(select(Area.district_id).where(Area.code == f.area)).scalar()
            == district_id
        )
        if f.area and not inside:
            raise InputError({"area": "outside your district"})
        terms.append(Event.district_id == district_id)
    terms.append(scope.event_filter())
    if f.category:
        cat = session.execute(
            select(Category.id, Category.parent_id).where(Category.code == f.category)
        ).first()
        if cat is None:
            raise InputError({"category": f"unknown category code {f.category!r}"})
        column = Event.category_id if cat.parent_id is None else Event.subcategory_id
        terms.append(column == cat.id)
    if f.department:
        dept = session.execute(
            select(Department.id).where(Department.code == f.department)
        ).scalar()
        if dept is None:
            raise InputError({"department": f"unknown department code {f.department!r}"})
        terms.append(Event.department_id == dept)
    if f.source:
        terms.append(Event.source == f.source)
    if f.status:
        terms.append(Event.status == f.status)
    if f.severity is not None:
        terms.append(Event.severity == f.severity)
    if f.overdue:
        terms.append(and_(Event.is_open, Event.close_deadline < now))
    if f.supervised:
        terms.append(Event.supervised_at.is_not(None))
    return terms


def _sort(sort_model) -> list:
    """ORDER BY from the grid's sort model ([{"colId", "sort"}]); newest first by default."""
    order = []
    for item in sort_model or []:
        if not isinstance(item, dict) or item.get("colId") not in SORTS:
            raise InputError({"sort": f"sortable: {', '.join(SORTS)}"})
        if item.get("sort") not in ("asc", "desc"):
            raise InputError({"sort": "asc or desc"})
        column = SORTS[item["colId"]]
        order.append(column.asc() if item["sort"] == "asc" else column.desc())
    order = order or [Event.reported_at.desc()]
    return [*order, Event.id.desc()]


def page(
    session: Session,
    f: Filters,
    now: datetime,
    zone: ZoneInfo,
    start_row: int,
    end_row: int,
    sort_model=None,
    district_id: int | None = None,
) -> dict:
    """Rows [start_row, end_row) of the filtered list and, once the end is in sight,
    `last_row` (the grid's infinite row model asks page by page and never holds the table)."""
    if (
        not all(isinstance(x, int) and not isinstance(x, bool) for x in (start_row, end_row))
        or not 0 <= start_row < end_row
        or end_row - start_row > PAGE_MAX
        or start_row > 10_000_000
    ):
        raise InputError({"rows": f"0 ≤ start < end, at most {PAGE_MAX} rows at a time"})
    q = (
        select(Event)
        .where(*conditions(session, f, now, zone, district_id))
        .order_by(*_sort(sort_model))
        .offset(start_row)
        .limit(end_row - start_row)
    )
    events = session.execute(q).scalars().all()
    last = start_row + len(events) if len(events) < end_row - start_row else None
    return {"rows": rows(session, events, now, zone), "last_row": last}


def local(at: datetime | None, zone: ZoneInfo) -> str | None:
    """A stored time (naive UTC) as local text to the minute."""
    return at.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else None


def rows(session: Session, events, now: datetime, zone: ZoneInfo) -> list[dict]:
    """The list's rows: names, not ids; local times; time left to the closing deadline (minutes,
    negative when overdue); the reporter masked."""
    area_ids = {i for e in events for i in (e.district_id, e.street_id, e.community_id, e.grid_id)}
    names = dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids))).all())
    cats = dict(session.execute(select(Category.id, Category.name)).all())
    depts = dict(session.execute(select(Department.id, Department.name)).all())

    out = []
    for e in events:
        left = None
        if e.is_open and e.close_deadline is not None:
            left = int((e.close_deadline - now).total_seconds() // 60)
        out.append(
            {
                "id": e.id,
                "source": e.source,
                "external_id": e.external_id,
                "reported_at": local(e.reported_at, zone),
                "area": " / ".join(
                    names.get(i, "")
                    for i in (e.district_id, e.street_id, e.community_id, e.grid_id)
                ),
                "district_id": e.district_id,
                "category": cats.get(e.category_id),
                "subcategory": cats.get(e.subcategory_id),
                "title": mask_text(e.title),
                "severity": e.severity,
                "department": depts.get(e.department_id),
                "status": e.status,
                "close_deadline": local(e.close_deadline, zone),
                "minutes_left": left,
                "supervised": e.supervised_at is not None,
                "reporter": mask_name(unseal(e.reporter_name)),
                "reporter_phone": mask_phone(unseal(e.reporter_phone)),
            }
        )
    return out
