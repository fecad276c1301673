"""KPI definitions (督办考核, DESIGN §5) — one definition each, used by pages, the API and reports.

Counting is defined here as SQL aggregate expressions over the events' lifecycle facts (so it
runs where the data is); rates, durations, the composite score and the 五治融合指数 are pure
functions of those counts. Period P = [start, end), cut-off T = min(now, end).

Counts are additive over any split of a period: each event falls due for each timed step
(立案, 派遣, 处置, 结案) at one moment — the earlier of meeting the step and its deadline
(`events.<step>_due_at`) — and is counted in the period that holds it, whatever period it was
reported or accepted in. Whether it met the step is judged as of `now`, on the fact that stands
(a resolution later returned does not count).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, true
from sqlalchemy.sql.elements import ColumnElement

from dashboard.domain import GRASSROOTS_LEVELS, RESIDENT_SOURCES, SENSOR_SOURCES, STEP_FACTS
from dashboard.models import Event
from dashboard.sqlfuncs import seconds_between


@dataclass(frozen=True)
class Period:
    start: datetime  # naive UTC
    end: datetime
    cutoff: datetime  # T = min(now, end)
    now: datetime  # facts are judged as they stand at `now`

    @classmethod
    def of(cls, start: datetime, end: datetime, now: datetime) -> Period:
        if end <= start:
            raise ValueError("'to' must be after 'from'")
        return cls(start, end, min(now, end), now)


# The counts of each timed step: (due, met, met on time), named as the API names them.
STEP_COUNTS = {
    "accept": ("due_acceptance", "decided", "accepted_on_time"),
    "dispatch": ("due_dispatch", "dispatched", "dispatched_on_time"),
    "handle": ("due_handling", "handled", "handled_on_time"),
    "close": ("due_closing", "closed", "closed_on_time"),
}


# Handling durations (dispatch → first resolution) are counted in steps of these many hours:
# the mean is exact (a sum of seconds), the median and P90 are read from the steps, with linear
# interpolation inside one — the same from the raw events and from the summaries.
HANDLING_STEPS_H = (
    0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 22, 24,
    28, 32, 36, 40, 44, 48, 56, 64, 72, 80, 88, 96, 120, 144, 168, 192, 216, 240, 288, 336,
    504, 720,
)  # fmt: skip
HANDLING_EDGES = tuple(int(h * 3600) for h in HANDLING_STEPS_H)  # seconds
HISTOGRAM = tuple(f"handling_h{i:02d}" for i in range(len(HANDLING_EDGES) + 1))


def handling_bucket(seconds: int) -> int:
    """The step of a handling duration: i such that EDGES[i-1] <= seconds < EDGES[i]."""
    return bisect.bisect_right(HANDLING_EDGES, seconds)


def count_conditions(now: datetime | None) -> dict[str, tuple[ColumnElement, ColumnElement]]:
    """Every additive count as (the column that dates it, the condition on the event). A count
    for P is the events whose dating column lies in P and that meet the condition; a step is met
    when its fact exists by `now` (None: as things stand). dashboard.summaries keeps the same
    counts per local day; its Python form of these conditions is held to this one by tests."""
    e = Event

    def met(col):
        return col.is_not(None) if now is None else col <= now

    closed = e.closed_at
    out = {
        "received": (e.reported_at, true()),
        "accepted": (e.accepted_at, true()),
        "resolutions": (e.first_resolved_at, true()),
        "returned": (e.first_returned_at, true()),
        "rated": (closed, e.satisfaction.is_not(None)),
        "satisfied": (closed, e.satisfaction.in_(["satisfied", "basically_satisfied"])),
        "disputes_closed": (closed, e.is_dispute),
        "disputes_grassroots": (
            closed,
            and_(e.is_dispute, e.resolved_level.in_(GRASSROOTS_LEVELS)),
        ),
        "mediated": (closed, and_(e.is_dispute, e.mediation_result.is_not(None))),
        "mediated_success": (closed, and_(e.is_dispute, e.mediation_result == "success")),
        "repeats": (e.reported_at, e.is_repeat),
        "resident_reported": (e.reported_at, e.source.in_(RESIDENT_SOURCES)),
        "sensor_reported": (e.reported_at, e.source.in_(SENSOR_SOURCES)),
    }
    for step, (due_name, met_name, on_time_name) in STEP_COUNTS.items():
        met_col, deadline_col, due_col = (getattr(e, c) for c in STEP_FACTS[step])
        out[due_name] = (due_col, true())
        out[met_name] = (due_col, met(met_col))
        out[on_time_name] = (due_col, and_(met(met_col), met_col <= deadline_col))
    out["extended"] = (e.close_due_at, e.extended)
    handled = e.dispatched_at.is_not(None)
    seconds = seconds_between(e.dispatched_at, e.first_resolved_at)
    out["handling_n"] = (e.first_resolved_at, handled)
    for i, name in enumerate(HISTOGRAM):
        lower = seconds >= HANDLING_EDGES[i - 1] if i else true()
        upper = seconds < HANDLING_EDGES[i] if i < len(HANDLING_EDGES) else true()
        out[name] = (e.first_resolved_at, and_(handled, lower, upper))
    return out


# Sums rather than counts: the handling seconds, for an exact mean.
SUMS = {"handling_secs": (Event.first_resolved_at, Event.dispatched_at.is_not(None))}


def count_expressions(p: Period) -> dict[str, ColumnElement]:
    """SUM(CASE …) expressions over `events`, one per count. The WHERE clause is `relevant(p)`."""

    def within(col):
        return and_(col >= p.start, col < p.end, col <= p.cutoff)

    out = {
        name: func.coalesce(func.sum(case((and_(within(col), cond), 1), else_=0)), 0)
        for name, (col, cond) in count_conditions(p.now).items()
    }
    seconds = seconds_between(Event.dispatched_at, Event.first_resolved_at)
    for name, (col, cond) in SUMS.items():
        out[name] = func.coalesce(func.sum(case((and_(within(col), cond), seconds), else_=0)), 0)
    return out


def overdue_parts(T: datetime) -> tuple[ColumnElement, ColumnElement]:
    """超期未办结 at T — accepted by T, past the closing deadline, not closed by T — as two
    disjoint conditions that each have an index: closed after T, and still open."""
    e = Event
    late = and_(e.accepted_at <= T, e.close_deadline < T)
    # closed_at > close_deadline follows from the rest; said, it lets the partial index of late
    # closures (ix_events_closed_late) answer: a small part of all closures.
    return and_(e.closed_at > T, e.closed_at > e.close_deadline, late), and_(e.is_open, late)


def relevant(p: Period) -> ColumnElement:
    """Events that can touch a count of `count_expressions` (each term has an index)."""
    e = Event
    columns = [e.reported_at, e.accepted_at, e.closed_at, e.first_resolved_at]
    columns += [e.first_returned_at] + [getattr(e, due) for _m, _d, due in STEP_FACTS.values()]
    return or_(*(and_(c >= p.start, c < p.end) for c in columns))


# --- pure functions of the counts ---------------------------------------------------------
def ratio(numerator: float, denominator: float) -> float | None:
    """A rate, or None when the denominator is zero (shown as "—", never 0 % or 100 %)."""
    return None if not denominator else numerator / denominator


def histogram_quantile(counts: list[int], q: float) -> float | None:
    """The q-quantile (0..1) in hours of handling durations counted in HANDLING_EDGES steps:
    the rank q·n found in its step and placed linearly inside it (the open last step answers
    with its lower edge)."""
    n = sum(counts)
    if not n:
        return None
    rank = q * n
    below = 0
    for i, k in enumerate(counts):
        if k and below + k >= rank:
            lo = HANDLING_EDGES[i - 1] if i else 0
            if i == len(HANDLING_EDGES):
                return lo / 3600
            hi = HANDLING_EDGES[i]
            return (lo + (hi - lo) * max(rank - below, 0) / k) / 3600
        below += k
    return None  # not reached: the ranks of q ≤ 1 lie within n


def rates(c: dict[str, int]) -> dict[str, float | int | None]:
    """The API figures from the counts (count_expressions, plus 超期未办结 and 督办)."""
    histogram = [c[name] for name in HISTOGRAM]
    out: dict[str, float | int | None] = {
        "received": c["received"],
        "accepted": c["accepted"],
        "acceptance_rate": ratio(c["accepted"], c["received"]),
        "due_acceptance": c["due_acceptance"],
        "decided": c["decided"],
        "accepted_on_time": c["accepted_on_time"],
        "timely_acceptance_rate": ratio(c["accepted_on_time"], c["due_acceptance"]),
        "due_dispatch": c["due_dispatch"],
        "dispatched": c["dispatched"],
        "dispatched_on_time": c["dispatched_on_time"],
        "timely_dispatch_rate": ratio(c["dispatched_on_time"], c["due_dispatch"]),
        "due_handling": c["due_handling"],
        "handled": c["handled"],
        "handled_on_time": c["handled_on_time"],
        "handling_rate": ratio(c["handled"], c["due_handling"]),
        "on_time_handling_rate": ratio(c["handled_on_time"], c["due_handling"]),
        "due_closing": c["due_closing"],
        "closed": c["closed"],
        "closed_on_time": c["closed_on_time"],
        "closing_rate": ratio(c["closed"], c["due_closing"]),
        "on_time_closing_rate": ratio(c["closed_on_time"], c["due_closing"]),
        "extended": c["extended"],
        "extension_rate": ratio(c["extended"], c["due_closing"]),
        "resolutions": c["resolutions"],
        "returned": c["returned"],
        "rework_rate": ratio(c["returned"], c["resolutions"]),
        "overdue_open": c["overdue_open"],
        "supervised": c["supervised"],
        "handling_samples": c["handling_n"],
        "handling_hours_mean": ratio(c["handling_secs"] / 3600, c["handling_n"]),
        "handling_hours_median": histogram_quantile(histogram, 0.5),
        "handling_hours_p90": histogram_quantile(histogram, 0.9),
        "rated": c["rated"],
        "satisfaction_rate": ratio(c["satisfied"], c["rated"]),
        "disputes_closed": c["disputes_closed"],
        "grassroots_resolution_rate": ratio(c["disputes_grassroots"], c["disputes_closed"]),
        "mediated": c["mediated"],
        "mediation_success_rate": ratio(c["mediated_success"], c["mediated"]),
        "repeats": c["repeats"],
        "repeat_rate": ratio(c["repeats"], c["received"]),
    }
    return out


# --- 综合指标值 ----------------------------------------------------------------------------
DEFAULT_COMPOSITE_WEIGHTS = {
    "on_time_closing_rate": 40.0,
    "closing_rate": 20.0,
    "satisfaction_rate": 20.0,
    "rework_rate": 10.0,  # counted as 1 − 返工率
    "timely_dispatch_rate": 10.0,
}
_INVERTED = frozenset({"rework_rate"})


# Targets the pages colour against (configurable, dashboard.kpisettings): rates as fractions,
# 综合指标值 in points. For the rates in LOWER_IS_BETTER the target is a ceiling.
DEFAULT_TARGETS = {
    "composite_score": 90.0,
    "on_time_closing_rate": 0.9,
    "closing_rate": 0.95,
    "satisfaction_rate": 0.9,
    "timely_acceptance_rate": 0.95,
    "timely_dispatch_rate": 0.95,
    "on_time_handling_rate": 0.9,
    "grassroots_resolution_rate": 0.8,
    "mediation_success_rate": 0.9,
    "rework_rate": 0.05,
    "extension_rate": 0.05,
    "repeat_rate": 0.1,
}
LOWER_IS_BETTER = frozenset({"rework_rate", "extension_rate", "repeat_rate", "overdue_open"})
NEAR = {"composite_score": 5.0}  # within this of the target reads "near" (rates: 0.05)


def standing(key: str, value: float | None, target: float | None) -> str | None:
    """ "good" (meets the target), "near" (within NEAR of it) or "poor"; None without either."""
    if value is None or target is None:
        return None
    gap = (target - value) if key in LOWER_IS_BETTER else (value - target)
    if gap >= 0:
        return "good"
    return "near" if -gap <= NEAR.get(key, 0.05) else "poor"


def composite_score(figures: dict, weights: dict[str, float] | None = None) -> float | None:
    """Weighted score 0–100. Components without a value (zero denominator) are left out and the
    remaining weights renormalised; None when no component has a value."""
    weights = weights or DEFAULT_COMPOSITE_WEIGHTS
    total = weighted = 0.0
    for name, w in weights.items():
        v = figures.get(name)
        if v is None:
            continue
        weighted += w * ((1.0 - v) if name in _INVERTED else v)
        total += w
    return None if total == 0 else 100.0 * weighted / total


MIN_SAMPLE = 20  # cases due for closing: fewer are shown with their n, not ranked


def rank(
    rows: list[dict], key: str = "composite_score", min_sample: int = MIN_SAMPLE
) -> list[dict]:
    """Rank rows by a score, best first (红黑榜). Rows without a score, and rows with fewer than
    `min_sample` cases due for closing (`small_sample`), come last, unranked: one case must not
    put a department at the top or the bottom."""

    def rankable(r: dict) -> bool:
        return r.get(key) is not None and r.get("due_closing", 0) >= min_sample

    scored = sorted((r for r in rows if rankable(r)), key=lambda r: -r[key])
    for i, r in enumerate(scored, 1):
        r["rank"] = i
        r["small_sample"] = False
    rest = [
        r | {"rank": None, "small_sample": r.get("due_closing", 0) < min_sample}
        for r in rows
        if not rankable(r)
    ]
    return scored + sorted(rest, key=lambda r: -(r.get(key) or 0))


# --- 五治融合指数 ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    key: str
    dimension: str
    zh: str
    en: str
    target: float
    unit: str = ""


# Targets are per 30 days for the activity indicators (scaled to the period's length).
WUZHI_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "party_member_share", "political", "网格员中党员占比", "Party members among grid staff", 0.6
    ),
    Indicator(
        "party_led_share",
        "political",
        "党组织牵头协商议事占比",
        "Consultations led by the Party",
        0.8,
    ),
    Indicator(
        "resident_report_share",
        "autonomy",
        "群众主动上报占比",
        "Events reported by residents",
        0.35,
    ),
    Indicator(
        "consultations_per_10k",
        "autonomy",
        "每万人协商议事(次/30天)",
        "Consultations per 10k residents (30 d)",
        2.0,
    ),
    Indicator(
        "volunteer_hours_per_1k",
        "autonomy",
        "每千人志愿服务时长(小时/30天)",
        "Volunteer hours per 1k residents (30 d)",
        40.0,
    ),
    Indicator(
        "mediation_success_rate", "rule_of_law", "调解成功率", "Mediation success rate", 0.95
    ),
    Indicator(
        "grassroots_resolution_rate", "rule_of_law", "就地化解率", "Resolved where they arose", 0.9
    ),
    Indicator(
        "legal_activities_per_10k",
        "rule_of_law",
        "每万人普法活动(次/30天)",
        "Legal education per 10k residents (30 d)",
        1.5,
    ),
    Indicator(
        "moral_activities_per_10k",
        "moral",
        "每万人道德讲堂/模范评选(次/30天)",
        "Moral lectures and model selections per 10k (30 d)",
        1.5,
    ),
    Indicator(
        "non_repeat_rate",
        "moral",
        "非重复诉求率(1−重复诉求率)",
        "Non-repeat rate (1 − repeat rate)",
        0.6,
    ),
    Indicator(
        "sensor_report_share", "smart", "视频/物联发现占比", "Found by video AI and IoT", 0.2
    ),
    Indicator("timely_dispatch_rate", "smart", "及时派遣率", "Timely dispatch rate", 0.95),
    Indicator("feed_uptime", "smart", "感知数据在线率", "Sensor feed uptime", 0.99),
)
# The five dimensions (五治), named here only: keys, and their names in Chinese and English.
WUZHI_DIMENSIONS = {
    "political": ("政治引领", "Political"),
    "autonomy": ("自治强基", "Self-governance"),
    "rule_of_law": ("法治保障", "Rule of law"),
    "moral": ("德治教化", "Moral"),
    "smart": ("智治支撑", "Smart"),
}
DEFAULT_DIMENSION_WEIGHTS = {d: 20.0 for d in WUZHI_DIMENSIONS}


@dataclass
class WuzhiInputs:
    """Raw values of the indicators for one area and period (None = no data)."""

    values: dict[str, float | None] = field(default_factory=dict)


def wuzhi_index(
    inputs: WuzhiInputs,
    targets: dict[str, float] | None = None,
    weights: dict[str, float] | None = None,
) -> dict:
    """Each indicator scores min(value / target, 1) × 100; a dimension is the mean of its scored
    indicators; the total is the weighted mean of the dimensions. Every step is returned."""
    targets = targets or {}
    weights = weights or DEFAULT_DIMENSION_WEIGHTS
    indicators = []
    by_dim: dict[str, list[float]] = {d: [] for d in WUZHI_DIMENSIONS}
    for ind in WUZHI_INDICATORS:
        target = targets.get(ind.key, ind.target)
        value = inputs.values.get(ind.key)
        score = None if value is None or target <= 0 else 100.0 * min(value / target, 1.0)
        if score is not None:
            by_dim[ind.dimension].append(score)
        indicators.append(
            {
                "key": ind.key,
                "dimension": ind.dimension,
                "zh": ind.zh,
                "en": ind.en,
                "value": value,
                "target": target,
                "score": score,
            }
        )
    out: dict = {}
    num = den = 0.0
    for dim, scores in by_dim.items():
        out[dim] = sum(scores) / len(scores) if scores else None
        if out[dim] is not None:
            num += weights.get(dim, 0.0) * out[dim]
            den += weights.get(dim, 0.0)
    out["total"] = num / den if den else None
    out["weights"] = dict(weights)
    out["indicators"] = indicators
    return out
