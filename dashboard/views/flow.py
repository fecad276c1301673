"""Read model of 事件流转 (the duty officer's desk): the filters as they live in the URL, checked
field by field, and the event list one page at a time — filtered, sorted and paged in SQL, never
the whole table in Python. Personal data masked as everywhere."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import Session

from dashboard.clock import day_bounds, local_day
from dashboard.domain import SEVERITY_LABELS, SOURCE_LABELS, SOURCES, STATUS_LABELS, STATUSES
from dashboard.i18n import pick, t
from dashboard.models import Area, Category, Department, Event
from dashboard.privacy import mask_name, mask_phone, mask_text, unseal
from dashboard.queries import area_scope, department_id, is_unit
from dashboard.schemas import InputError
from dashboard.sqlfuncs import epoch_bucket

RANGES = ("today", "24h", "7d", "30d", "all", "custom")  # all: no time limit
CUSTOM_MAX_DAYS = 366
PAGE_MAX = 500  # rows in one page fetch
FLAGS = ("overdue", "supervised", "urged")
NULLABLE_SORTS = frozenset({"close_deadline"})  # NULLs last ascending, first descending
EPOCH = datetime(1970, 1, 1)
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
    same name (`overdue=1`, `supervised=1`, `urged=1` for the flags)."""

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
    urged: bool = False  # 催办 sent at least once


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
            if f.name in FLAGS:
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
    if f.range == "all":
        return EPOCH, now
    hours = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}[f.range]
    return now - timedelta(hours=hours), now


def conditions(
    session: Session, f: Filters, now: datetime, zone: ZoneInfo, district_id: int | None = None
) -> list:
    """The WHERE terms of the filters, codes resolved to ids (InputError for an unknown code
    or an area outside `district_id`, the only district a district officer may see)."""
    return span_terms(f, now, zone) + other_terms(session, f, now, district_id)


def span_terms(f: Filters, now: datetime, zone: ZoneInfo) -> list:
    if f.range == "all":
        return []
    start, end = span(f, now, zone)
    return [Event.reported_at >= start, Event.reported_at < end]


def other_terms(session: Session, f: Filters, now: datetime, district_id: int | None) -> list:
    """The terms of every filter but the time range."""
    terms = []
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
    if f.department:  # a bureau, or one of its handling units
        dept = department_id(session, f.department, units=True)
        terms.append((Event.unit_id if is_unit(session, dept) else Event.department_id) == dept)
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
    if f.urged:
        terms.append(Event.urged_at.is_not(None))
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
        term = column.asc() if item["sort"] == "asc" else column.desc()
        if item["colId"] in NULLABLE_SORTS:  # as PostgreSQL has it, on SQLite too
            term = term.nulls_last() if item["sort"] == "asc" else term.nulls_first()
        order.append(term)
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
    fast = index_order(session, f, now, zone, sort_model, district_id)
    if fast is not None:
        ids = fast.ids(session, start_row, end_row - start_row)
        found = {e.id: e for e in session.execute(select(Event).where(Event.id.in_(ids))).scalars()}
        events = [found[i] for i in ids]
    else:
        q = list_query(session, f, now, zone, start_row, end_row, sort_model, district_id)
        events = session.execute(q).scalars().all()
    last = start_row + len(events) if len(events) < end_row - start_row else None
    return {"rows": rows(session, events, now, zone), "last_row": last}


def local(at: datetime | None, zone: ZoneInfo) -> str | None:
    """A stored time (naive UTC) as local text to the minute."""
    return at.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else None


def list_query(session, f, now, zone, start_row, end_row, sort_model=None, district_id=None):
    """The SELECT of one page of the list (page(); the benchmark explains it)."""
    return (
        select(Event)
        .where(*conditions(session, f, now, zone, district_id))
        .order_by(*_sort(sort_model))
        .offset(start_row)
        .limit(end_row - start_row)
    )


# Sorted by severity or closing deadline with no filter but the time range, SQLite sorts every
# event of the range (it cannot tell how few of them a page needs); it is told the index in the
# order asked (migration 0009), whose last key checks the time range.
ORDER_INDEXES = {"severity": "ix_events_list_severity", "close_deadline": "ix_events_list_deadline"}


@dataclass(frozen=True)
class _IndexOrder:
    """One page of ids in (column direction, id DESC) order, read along `index`; NULLs of the
    column last ascending and first descending, as PostgreSQL orders them."""

    index: str
    column: str
    descending: bool
    start: datetime
    end: datetime

    def _where(self, nulls: bool) -> str:
        return (
            f"FROM events INDEXED BY {self.index} WHERE {self.column} "
            f"{'IS NULL' if nulls else 'IS NOT NULL'} "
            "AND reported_at >= :start AND reported_at < :end"
        )

    def _block(self, nulls: bool) -> str:
        order = "" if nulls else f"{self.column} {'DESC' if self.descending else 'ASC'}, "
        return f"SELECT id {self._where(nulls)} ORDER BY {order}id DESC LIMIT :limit OFFSET :offset"

    def statements(self) -> list[str]:
        return [self._block(False), self._block(True)]

    def ids(self, session: Session, offset: int, limit: int) -> list[int]:
        window = {"start": self.start, "end": self.end}

        def block(nulls: bool, skip: int, n: int) -> list[int]:
            q = text(self._block(nulls))
            return session.execute(q, {**window, "limit": n, "offset": skip}).scalars().all()

        first = self.descending  # the NULLs first when descending, last when ascending
        got = block(first, offset, limit)
        if len(got) == limit:
            return got
        if got:  # the first block ends on this page: the second starts here
            return got + block(not first, 0, limit - len(got))
        size = session.execute(text(f"SELECT count(*) {self._where(first)}"), window).scalar()
        return block(not first, offset - size, limit)


def index_order(session, f, now, zone, sort_model, district_id) -> _IndexOrder | None:
    if session.get_bind().dialect.name != "sqlite" or district_id is not None:
        return None
    first = (sort_model or [None])[0]
    if not isinstance(first, dict) or first.get("colId") not in ORDER_INDEXES:
        return None
    _sort(sort_model)  # InputError for a bad model
    if len(sort_model) > 1 or replace(f, range="24h", start=None, end=None) != Filters():
        return None  # other filters: fewer rows, the usual plan sorts them quickly
    start, end = span(f, now, zone)
    column = first["colId"]
    return _IndexOrder(ORDER_INDEXES[column], column, first["sort"] == "desc", start, end)


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
                # who handles it: the bureau's branch in the district, else the bureau
                "department": depts.get(e.unit_id) or depts.get(e.department_id),
                "bureau": depts.get(e.department_id),
                "status": e.status,
                "close_deadline": local(e.close_deadline, zone),
                "minutes_left": left,
                "supervised": e.supervised_at is not None,
                "reporter": mask_name(unseal(e.reporter_name)),
                "reporter_phone": mask_phone(unseal(e.reporter_phone)),
            }
        )
    return out


def incident_href(row: dict, lang: str) -> str:
    path = f"/incident/{row['source']}/{quote(row['external_id'], safe='')}"
    return path + ("?lang=en" if lang == "en" else "")


def left_text(minutes: int | None, lang: str) -> str:
    """Time left to the closing deadline, or how long it is overdue."""
    if minutes is None:
        return ""
    span = abs(minutes)
    text = (
        f"{span // 1440}d {span % 1440 // 60}h" if span >= 1440 else f"{span // 60}h {span % 60}m"
    )
    return (
        f"{t('inc_overdue_by', lang)} {text}"
        if minutes < 0
        else f"{t('inc_time_left', lang)} {text}"
    )


def present(rows: list[dict], lang: str) -> list[dict]:
    """Rows as people read them (the grid, the exports): names in the language, the time left
    or overdue by, the link to the incident; personal data as `rows` masked it."""
    out = []
    for r in rows:
        out.append(
            {
                "id": r["id"],
                "reported_at": r["reported_at"],
                "link": f"[{r['reported_at']}]({incident_href(r, lang)})",
                "area": r["area"],
                "category": " / ".join(x for x in (r["category"], r["subcategory"]) if x),
                "title": r["title"],
                "source": pick(SOURCE_LABELS[r["source"]], lang),
                "severity": r["severity"],
                "severity_name": pick(SEVERITY_LABELS[r["severity"]], lang),
                "department": r["department"] or "",
                "status": r["status"],
                "status_name": pick(STATUS_LABELS[r["status"]], lang),
                "close_deadline": r["close_deadline"] or "",
                "minutes_left": r["minutes_left"],
                "left": left_text(r["minutes_left"], lang),
                "supervised": "督" if r["supervised"] else "",
                "reporter": r["reporter"] or "",
                "reporter_phone": r["reporter_phone"] or "",
                "case": f"{r['source']}/{r['external_id']}",
            }
        )
    return out


# --- the charts: aggregates of the filtered set, one statement each -----------------------------
FUNNEL = (  # stage → the fact that says the event got that far
    ("reported", Event.reported_at),
    ("accepted", Event.accepted_at),
    ("dispatched", Event.dispatched_at),
    ("resolved", Event.first_resolved_at),
    ("closed", Event.closed_at),
)
AGE_BINS = (1, 3, 7, 15, 30)  # days open: <1, 1–3, 3–7, 7–15, 15–30, ≥30
STUCK_MAX = 15
SANKEY_TOP = 8  # departments and categories shown by name; the rest as one "other"


def funnel(session: Session, terms: list) -> list[dict]:
    """受理 → 立案 → 派遣 → 处置 → 结案: how many of the filtered events got that far."""
    counts = session.execute(
        select(*(func.count(col) for _stage, col in FUNNEL)).where(*terms)
    ).one()
    return [{"stage": stage, "n": int(n)} for (stage, _c), n in zip(FUNNEL, counts, strict=True)]


def outcome(now: datetime):
    """closed | rejected | overdue (open, past the closing deadline) | open."""
    return case(
        (Event.status == "closed", "closed"),
        (Event.status == "rejected", "rejected"),
        (and_(Event.close_deadline.is_not(None), Event.close_deadline < now), "overdue"),
        else_="open",
    )


def flows(session: Session, terms: list, now: datetime) -> list[dict]:
    """Counts by source × category × department × outcome (the flow diagram's links)."""
    o = outcome(now).label("outcome")
    q = (
        select(Event.source, Event.category_id, Event.department_id, o, func.count())
        .where(*terms)
        .group_by(Event.source, Event.category_id, Event.department_id, o)
    )
    return [
        {"source": s, "category_id": c, "department_id": d, "outcome": out, "n": int(n)}
        for s, c, d, out, n in session.execute(q)
    ]


def throughput(
    session: Session, f: Filters, rest: list, now: datetime, zone: ZoneInfo, offset: int
) -> dict:
    """Events reported per hour (per day for spans over a week) in the span and in the same
    hours one week earlier (the other filters alike), as {"buckets", "now", "before"}."""
    start, end = span(f, now, zone)
    if f.range == "all":
        start = end - timedelta(days=30)
    step = 3600 if end - start <= timedelta(days=7) else 86400
    week = timedelta(days=7)
    bucket = epoch_bucket(Event.reported_at, step, offset).label("b")

    def counts(a: datetime, b: datetime) -> dict[int, int]:
        q = (
            select(bucket, func.count())
            .where(Event.reported_at >= a, Event.reported_at < b, *rest)
            .group_by(bucket)
        )
        return {int(k): int(n) for k, n in session.execute(q)}

    current, earlier = counts(start, end), counts(start - week, end - week)
    first = (int(start.replace(tzinfo=UTC).timestamp()) + offset) // step * step
    last = (int(end.replace(tzinfo=UTC).timestamp()) + offset - 1) // step * step
    keys = list(range(first, last + 1, step))
    shift = int(week.total_seconds())
    return {
        "step": step,
        "buckets": [
            datetime.fromtimestamp(k - offset, UTC)
            .astimezone(zone)
            .strftime("%m-%d %H:%M" if step == 3600 else "%m-%d")
            for k in keys
        ],
        "now": [current.get(k, 0) for k in keys],
        "before": [earlier.get(k - shift, 0) for k in keys],
    }


def backlog(session: Session, rest: list, now: datetime) -> list[dict]:
    """What is open now, whenever it came in (`rest`: the filters without the time range,
    other_terms), in one scan: counts by status × department × days open × overdue, with the
    oldest report time of each group."""
    age = case(
        *((Event.reported_at > now - timedelta(days=d), i) for i, d in enumerate(AGE_BINS)),
        else_=len(AGE_BINS),
    ).label("bin")
    late = case(
        (and_(Event.close_deadline.is_not(None), Event.close_deadline < now), 1), else_=0
    ).label("late")
    keys = (Event.status, Event.department_id, age, late)
    q = (
        select(*keys, func.count(), func.min(Event.reported_at))
        .where(Event.is_open, *rest)
        .group_by(*keys)
    )
    return [
        {
            "status": s,
            "department_id": d,
            "bin": int(b),
            "overdue": bool(x),
            "n": int(n),
            "oldest": o,
        }
        for s, d, b, x, n, o in session.execute(q)
    ]


def ageing(groups: list[dict]) -> list[dict]:
    """The backlog by days open, overdue or not yet due: [{"bin", "overdue", "n"}]."""
    out: dict[tuple[int, bool], int] = {}
    for g in groups:
        out[(g["bin"], g["overdue"])] = out.get((g["bin"], g["overdue"]), 0) + g["n"]
    return [{"bin": b, "overdue": x, "n": n} for (b, x), n in sorted(out.items())]


def stuck(groups: list[dict], now: datetime) -> list[dict]:
    """Where open events wait: status × department, worst first (overdue, then count), at
    most STUCK_MAX rows."""
    out: dict[tuple, dict] = {}
    for g in groups:
        row = out.setdefault(
            (g["status"], g["department_id"]),
            {
                "status": g["status"],
                "department_id": g["department_id"],
                "n": 0,
                "overdue": 0,
                "oldest": g["oldest"],
            },
        )
        row["n"] += g["n"]
        row["overdue"] += g["n"] if g["overdue"] else 0
        row["oldest"] = min(row["oldest"], g["oldest"])
    worst = sorted(out.values(), key=lambda r: (-r["overdue"], -r["n"], r["status"]))[:STUCK_MAX]
    for row in worst:
        row["oldest_days"] = round((now - row.pop("oldest")).total_seconds() / 86400, 1)
    return worst


def charts(
    session: Session,
    f: Filters,
    now: datetime,
    zone: ZoneInfo,
    offset: int,
    district_id: int | None = None,
    lang: str = "zh",
) -> dict:
    """Everything the page draws for the filters, with codes and names (not ids; English names
    where the reference data has them), so that a click on any part can become a filter."""
    rest = other_terms(session, f, now, district_id)
    terms = span_terms(f, now, zone) + rest
    cats, depts = (
        {
            i: (code, en if lang == "en" and en else zh)
            for i, code, zh, en in session.execute(select(m.id, m.code, m.name, m.name_en))
        }
        for m in (Category, Department)
    )
    links = flows(session, terms, now)
    for link in links:
        link["category"] = cats.get(link.pop("category_id"), (None, "—"))
        link["department"] = depts.get(link.pop("department_id"), (None, None))
    groups = backlog(session, rest, now)
    jams = stuck(groups, now)
    for row in jams:
        row["department"] = depts.get(row.pop("department_id"), (None, None))
    return {
        "funnel": funnel(session, terms),
        "flows": links,
        "throughput": throughput(session, f, rest, now, zone, offset),
        "ageing": ageing(groups),
        "stuck": jams,
    }


# --- the export ---------------------------------------------------------------------------------
EXPORT_LIMIT = 100_000
EXPORT_CHUNK = 2_000
EXPORT_COLUMNS = (  # (key of `present`, label key)
    ("reported_at", "col_time"),
    ("case", "col_case"),
    ("area", "col_place"),
    ("category", "col_category"),
    ("title", "col_title"),
    ("source", "col_source"),
    ("severity_name", "col_severity"),
    ("department", "col_department"),
    ("status_name", "col_status"),
    ("close_deadline", "col_deadline"),
    ("left", "col_left"),
    ("supervised", "col_supervised"),
    ("reporter", "col_reporter"),
    ("reporter_phone", "col_reporter_phone"),
)


def export_chunks(session: Session, terms: list, now: datetime, zone: ZoneInfo, lang: str):
    """The filtered list, newest first, at most EXPORT_LIMIT rows, in chunks of presented rows
    (streamed from the database a chunk at a time, never the whole list in memory)."""
    q = (
        select(Event)
        .where(*terms)
        .order_by(Event.reported_at.desc(), Event.id.desc())
        .limit(EXPORT_LIMIT)
        .execution_options(yield_per=EXPORT_CHUNK)
    )
    for part in session.execute(q).scalars().partitions():
        yield present(rows(session, part, now, zone), lang)
