"""KPI summaries (DESIGN §5): the additive counts of dashboard.kpi kept per local day × district
× department × category, so that a week's or a quarter's figures read a few thousand small rows
instead of every event (a street, community or grid is read from the events).

The counts are additive (each is dated by one column of the event, kpi.count_conditions), so a
day's row is exact and any whole-day span is the sum of its days. Every change to an event is
applied here in the same transaction as a delta — what the event contributed before the change
taken away, what it contributes after added — so the rows are in step with the events at every
commit. `rebuild` recomputes them all from the events (the demo load, a changed time zone).

A row also keeps `facts_until`, the latest fact time that ever touched it: a question asked "as
of" an earlier moment than that cannot be answered from it, and dashboard.queries reads the raw
events instead.
"""

from __future__ import annotations

import calendar
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    Table,
    bindparam,
    case,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dashboard import kpi
from dashboard.db import bulk_insert, storage_text
from dashboard.domain import GRASSROOTS_LEVELS, RESIDENT_SOURCES, SENSOR_SOURCES, STEP_FACTS
from dashboard.models import Base, Event, JobState
from dashboard.sqlfuncs import epoch_bucket, py_seconds_between, seconds_between

DIMENSIONS = ("district_id", "department_id", "category_id")
COUNTS = (*kpi.count_conditions(None), *kpi.SUMS)
STATE = "kpi_daily.offset"  # job_state: the UTC offset (seconds) the days were cut with

AREA_DIMENSIONS = ("district_id", "department_id")


def _table(name: str, dimensions: tuple[str, ...]) -> Table:
    return Table(
        name,
        Base.metadata,
        Column("day", Date, primary_key=True),
        *(Column(d, Integer, primary_key=True) for d in dimensions),  # department 0: none yet
        Column("facts_until", DateTime, nullable=False),
        *(Column(name, BigInteger, nullable=False, server_default="0") for name in COUNTS),
    )


kpi_daily = _table("kpi_daily", DIMENSIONS)
# The same counts without the category (a tenth of the rows): read whenever no category is
# asked for. Kept by the same deltas and rebuilt with kpi_daily.
kpi_daily_area = _table("kpi_daily_area", AREA_DIMENSIONS)
TABLES = ((kpi_daily, DIMENSIONS), (kpi_daily_area, AREA_DIMENSIONS))


def _coarser(rows: Mapping[tuple, Counter], width: int) -> dict[tuple, Counter]:
    """Rows keyed (day, *DIMENSIONS) added up over the dimensions after the first `width`."""
    out: dict[tuple, Counter] = defaultdict(Counter)
    for key, counts in rows.items():
        out[key[: 1 + width]].update(counts)
    return out


# The facts of an event the counts read.
FACTS = (
    *DIMENSIONS,
    "reported_at", "accepted_at", "first_resolved_at", "first_returned_at", "closed_at",
    "dispatched_at", "satisfaction", "is_dispute", "resolved_level", "mediation_result",
    "is_repeat", "source", "extended", "last_transition_at",
    *(c for columns in STEP_FACTS.values() for c in columns),
)  # fmt: skip
SATISFIED = frozenset({"satisfied", "basically_satisfied"})


@functools.lru_cache(maxsize=8)  # asked on every write transaction
def fixed_offset(zone: ZoneInfo) -> int | None:
    """The zone's UTC offset in seconds when it has one all year (days are cut at local
    midnight with it); None for a zone with daylight saving (summaries are not kept then)."""
    year = datetime.now(UTC).year
    offsets = {
        zone.utcoffset(datetime(y, m, 1)) for y in (year - 1, year, year + 1) for m in (1, 7)
    }
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


def day_of(at: datetime, offset: int) -> date:
    return date(1970, 1, 1) + timedelta(days=(calendar.timegm(at.timetuple()) + offset) // 86400)


def facts_of(event) -> dict:
    """The facts of an ORM event (or of a row mapping) the counts read."""
    if isinstance(event, Mapping):
        return {name: event.get(name) for name in FACTS}
    return {name: getattr(event, name) for name in FACTS}


# --- one event's contribution (kpi.count_conditions in Python) ------------------------------
def contribution(f: Mapping, offset: int) -> dict[tuple, Counter]:
    """What one event adds to each summary row: {key: Counter(count name → amount)}."""
    dims = (f["district_id"], f["department_id"] or 0, f["category_id"])
    out: dict[tuple, Counter] = defaultdict(Counter)

    def add(at: datetime | None, name: str, amount: int = 1) -> None:
        if at is not None:
            out[(day_of(at, offset), *dims)][name] += amount

    reported, closed = f["reported_at"], f["closed_at"]
    add(reported, "received")
    if f["is_repeat"]:
        add(reported, "repeats")
    if f["source"] in RESIDENT_SOURCES:
        add(reported, "resident_reported")
    if f["source"] in SENSOR_SOURCES:
        add(reported, "sensor_reported")
    add(f["accepted_at"], "accepted")
    add(f["first_resolved_at"], "resolutions")
    add(f["first_returned_at"], "returned")
    if f["satisfaction"] is not None:
        add(closed, "rated")
        if f["satisfaction"] in SATISFIED:
            add(closed, "satisfied")
    if f["is_dispute"]:
        add(closed, "disputes_closed")
        if f["resolved_level"] in GRASSROOTS_LEVELS:
            add(closed, "disputes_grassroots")
        if f["mediation_result"] is not None:
            add(closed, "mediated")
            if f["mediation_result"] == "success":
                add(closed, "mediated_success")
    for step, (due_name, met_name, on_time_name) in kpi.STEP_COUNTS.items():
        met, deadline, due = (f[c] for c in STEP_FACTS[step])
        add(due, due_name)
        if met is not None:
            add(due, met_name)
            if deadline is not None and met <= deadline:
                add(due, on_time_name)
    if f["extended"]:
        add(f["close_due_at"], "extended")
    resolved, dispatched = f["first_resolved_at"], f["dispatched_at"]
    if resolved is not None and dispatched is not None:
        seconds = py_seconds_between(dispatched, resolved)
        add(resolved, "handling_n")
        add(resolved, kpi.HISTOGRAM[kpi.handling_bucket(seconds)])
        add(resolved, "handling_secs", seconds)
    return out


# Deadlines and due times are planned, not things that have happened: a case accepted today
# with a deadline in a fortnight must not make today's row unreadable until then.
PLANNED = frozenset(c for _met, deadline, due in STEP_FACTS.values() for c in (deadline, due))


def _latest(f: Mapping) -> datetime:
    """The latest thing that happened to the event (what `rebuild` stamps: the last
    transition)."""
    return max(v for k, v in f.items() if isinstance(v, datetime) and k not in PLANNED)


# --- keeping the rows in step ---------------------------------------------------------------
class Deltas:
    """The changes of one transaction, added up per row and written at once (`write`)."""

    def __init__(self, offset: int | None):
        self.offset = offset
        self.rows: dict[tuple, Counter] = defaultdict(Counter)
        self.latest: dict[tuple, datetime] = {}

    def change(self, before: Mapping | None, after: Mapping | None) -> None:
        """An event went from the facts `before` (None: it is new) to `after`."""
        if self.offset is None:
            return
        latest = _latest(after if after is not None else before)
        for sign, facts in ((-1, before), (1, after)):
            if facts is None:
                continue
            for key, counts in contribution(facts, self.offset).items():
                row = self.rows[key]
                for name, n in counts.items():
                    row[name] += sign * n
                self.latest[key] = max(self.latest.get(key, latest), latest)

    def write(self, session: Session) -> int:
        """Add the changes to the summary rows of both tables (in key order: concurrent
        writers lock rows in the same order). Returns the rows of kpi_daily touched."""
        rows, self.rows = self.rows, defaultdict(Counter)
        written = 0
        for table, dimensions in TABLES:
            latest: dict[tuple, datetime] = {}
            for key, at in self.latest.items():
                short = key[: 1 + len(dimensions)]
                latest[short] = max(latest.get(short, at), at)
            changed = sorted(
                (key, counts)
                for key, counts in _coarser(rows, len(dimensions)).items()
                if any(counts.values())
            )
            if not changed:
                continue
            values = [
                {
                    **dict(zip(("day", *dimensions), key, strict=True)),
                    "facts_until": latest[key],
                    **{name: counts.get(name, 0) for name in COUNTS},
                }
                for key, counts in changed
            ]
            session.connection().execute(_upsert(session, table, dimensions), values)
            written = written or len(values)
        self.latest.clear()
        return written


def _upsert(session: Session, into: Table, dimensions: tuple[str, ...]):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(into)
    table, new = into.c, stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["day", *dimensions],
        set_={
            "facts_until": case(
                (new.facts_until > table.facts_until, new.facts_until), else_=table.facts_until
            ),
            **{name: table[name] + new[name] for name in COUNTS},
        },
    )


def deltas(session: Session, zone: ZoneInfo) -> Deltas:
    """A Deltas for a transaction; it does nothing when the summaries are not kept (no rebuild
    yet, or a zone with daylight saving)."""
    return Deltas(kept_offset(session, zone))


def kept_offset(session: Session, zone: ZoneInfo) -> int | None:
    """The offset the summaries are kept with, when they are kept and it is the zone's."""
    offset = fixed_offset(zone)
    if offset is None:
        return None
    kept = session.execute(select(JobState.value).where(JobState.name == STATE)).scalar()
    return offset if kept == str(offset) else None


# --- rebuilding from the events -------------------------------------------------------------
def rebuild(session: Session, zone: ZoneInfo, now: datetime) -> int:
    """Recompute every row from the events, inside the caller's transaction. Writers wait
    meanwhile (on PostgreSQL a table lock; SQLite has one writer), so no change is lost or
    counted twice. Returns the rows written."""
    offset = fixed_offset(zone)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE kpi_daily, kpi_daily_area IN EXCLUSIVE MODE"))
    for table, _dimensions in TABLES:
        session.execute(delete(table))
    state = session.get(JobState, STATE)
    if offset is None:
        if state is not None:
            session.delete(state)
        return 0
    if state is None:
        state = JobState(name=STATE, value="", updated_at=now)
        session.add(state)
    state.value, state.updated_at = str(offset), now
    session.flush()
    latest = session.execute(select(func.max(Event.last_transition_at))).scalar()
    if latest is None:
        return 0
    rows: dict[tuple, Counter] = defaultdict(Counter)
    dims = [func.coalesce(getattr(Event, d), 0) for d in DIMENSIONS]
    by_column: dict[str, list[tuple[str, object]]] = defaultdict(list)
    for name, (col, cond) in kpi.count_conditions(None).items():
        if name not in kpi.HISTOGRAM:  # counted below, by one step expression
            by_column[col.key].append((name, case((cond, 1), else_=0)))
    seconds = seconds_between(Event.dispatched_at, Event.first_resolved_at)
    for name, (col, cond) in kpi.SUMS.items():
        by_column[col.key].append((name, case((cond, seconds), else_=0)))
    # The step of each handling duration as one CASE (first matching edge), grouped on: one
    # pass instead of a sum per step.
    step = case(
        (Event.dispatched_at.is_(None), None),
        *((seconds < edge, i) for i, edge in enumerate(kpi.HANDLING_EDGES)),
        else_=len(kpi.HANDLING_EDGES),
    )
    for column, sums in by_column.items():
        col = getattr(Event, column)
        day = epoch_bucket(col, 86400, offset)
        steps = [step] if col is Event.first_resolved_at else []
        q = (
            select(day, *dims, *steps, func.count(), *(func.sum(expr) for _n, expr in sums))
            .where(col.is_not(None))
            .group_by(day, *dims, *steps)
        )
        for d, *rest in session.execute(q):
            key = (date(1970, 1, 1) + timedelta(days=int(d) // 86400), *rest[: len(DIMENSIONS)])
            counts = rows[key]
            rest = rest[len(DIMENSIONS) :]
            if steps:
                i, n, *rest = rest
                if i is not None:
                    counts[kpi.HISTOGRAM[int(i)]] += int(n)
            else:
                _n, *rest = rest
            for (name, _e), n in zip(sums, rest, strict=True):
                counts[name] += int(n or 0)
    stamp = storage_text(latest)
    for table, dimensions in reversed(TABLES):  # kpi_daily last: its count is returned
        written = bulk_insert(
            conn,
            table.name,
            ["day", *dimensions, "facts_until", *COUNTS],
            (
                (key[0].isoformat(), *key[1:], stamp, *(counts.get(n, 0) for n in COUNTS))
                for key, counts in sorted(_coarser(rows, len(dimensions)).items())
            ),
        )
    return written


def ensure(session: Session, zone: ZoneInfo, now: datetime) -> int | None:
    """Build the summaries when they are not kept for this zone yet (a new installation, an
    upgraded one, a changed TIMEZONE). Returns the rows written, or None when nothing was due."""
    if kept_offset(session, zone) is not None or fixed_offset(zone) is None:
        return None
    return rebuild(session, zone, now)


# --- reading --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _read_statement(wide: bool, group: str | None, filters: tuple[str, ...]):
    """The read of `read`, built once per shape (74 columns: building it costs more than
    running it); the days and filters are bound parameters."""
    t = (kpi_daily if wide else kpi_daily_area).c
    q = select(
        *([t[group]] if group else []),
        func.max(t.facts_until),
        *(func.sum(t[n]) for n in COUNTS),
    ).where(
        t.day >= bindparam("first", type_=Date),
        t.day < bindparam("end", type_=Date),
        *(t[c] == bindparam(c, type_=Integer) for c in filters),
    )
    return q.group_by(t[group]) if group else q


def read(
    session: Session,
    first: date,
    end: date,
    filters: Mapping[str, int],
    group: str | None,
) -> tuple[dict, datetime | None]:
    """The counts of the days [first, end) per group (a DIMENSIONS column, department 0 read as
    None) or in total (key None), and the latest fact time among the rows read. Without a
    category asked for, from kpi_daily_area."""
    wide = group == "category_id" or any(c not in AREA_DIMENSIONS for c in filters)
    q = _read_statement(wide, group, tuple(sorted(filters)))
    out: dict = {}
    latest = None
    for row in session.execute(q, {"first": first, "end": end, **filters}):
        key, (until, *values) = (row[0], row[1:]) if group else (None, row)
        if group == "department_id" and key == 0:
            key = None
        if until is None:  # no rows at all
            continue
        latest = until if latest is None else max(latest, until)
        out[key] = {n: int(v or 0) for n, v in zip(COUNTS, values, strict=True)}
    return out, latest


def add_counts(parts: Iterable[dict]) -> dict:
    """Counts per group added up over parts of a period."""
    out: dict = {}
    for part in parts:
        for key, counts in part.items():
            row = out.setdefault(key, dict.fromkeys(counts, 0))
            for name, n in counts.items():
                row[name] = row.get(name, 0) + n
    return out
