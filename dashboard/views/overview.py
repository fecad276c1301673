"""Read model of the overview (总览大屏): what a refresh of the wall shows, from the Redis live
state and the minute snapshot (dashboard.wall) — no SQL on a refresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard import fmt, kpi
from dashboard.domain import SOURCE_LABELS
from dashboard.kpi import WUZHI_DIMENSIONS
from dashboard.live import LiveState

THROUGHPUT_MINUTES = 180
TICKER_ITEMS = 20  # as many as the tallest list (a 32:9 wall) shows
TICKER_SCAN = 300  # newest items searched for one district's ticker
CATEGORIES_SHOWN = 8
ALERTS_SHOWN = 16

# The loop as the wall shows it: 发现 → 立案 → 派遣 → 处置 → 结案.
LOOP = [
    ("reported", "发现", "Found"),
    ("accepted", "立案", "Accepted"),
    ("dispatched", "派遣", "Dispatched"),
    ("resolved", "处置", "Handled"),
    ("closed", "结案", "Closed"),
]
# Open statuses counted under each loop stage ("what is stuck where").
STUCK = {
    "reported": ["reported"],
    "accepted": ["accepted", "escalated"],
    "dispatched": ["dispatched"],
    "resolved": ["in_progress", "returned"],
    "closed": ["resolved"],
}


WINDOWS = ("today", "24h")  # ?window=: today so far (default), or the last 24 hours
MONTH_TILES = {  # tiles that also show the month so far, and the figure they show
    "received": "received",
    "closed": "closed",
    "on_time_closing_rate": "on_time_closing_rate",
    "satisfaction_rate": "satisfaction_rate",
}


def window_of(value) -> str:
    return value if value in WINDOWS else "today"


def _scoped(snap: dict, key: str, district: str | None) -> dict:
    """snap[key] for the city, or snap[key + "_by_district"][district]."""
    if district:
        return (snap.get(f"{key}_by_district") or {}).get(district) or {}
    return snap.get(key) or {}


def tiles(
    live: LiveState,
    snapshot: dict | None,
    now: datetime,
    district: str | None = None,
    window: str = "today",
) -> dict:
    """The KPI tiles for the city or one district, each as {"value", "before", "month"}.

    window "today": today's live counters against the same time yesterday; "24h": the last 24
    hours against the 24 before them (the minute snapshot). Rates come from the snapshot, the
    open and overdue events from the live state; "month" is the month so far."""
    snap = snapshot or {}
    if window == "24h":
        last, before = snap.get("last24") or {}, snap.get("before24") or {}
        counts = _scoped(last, "counts", district)
        counts = {s: counts.get(s, 0) for s in ("reported", "accepted", "closed")}
        counts_before = _scoped(before, "counts", district)
        rates, rates_before = _scoped(last, "kpi", district), _scoped(before, "kpi", district)
    else:
        counts = live.today(now, district)
        counts_before = _scoped(snap, "yesterday_counts", district)
        rates = _scoped(snap, "today", district)
        rates_before = _scoped(snap, "yesterday", district)
    yesterday_kpi = _scoped(snap, "yesterday", district)
    month = _scoped(snap.get("month") or {}, "kpi", district)
    if district:
        on_duty = snap.get("on_duty_by_district", {}).get(district, 0)
        on_duty_then = snap.get("on_duty_yesterday_by_district", {}).get(district, 0)
        gap = snap.get("staffing_gap_by_district", {}).get(district, 0)
        alerts = snap.get("alert_levels_by_district", {}).get(district, {})
    else:
        on_duty, on_duty_then = snap.get("on_duty_grid_staff"), snap.get("on_duty_yesterday")
        gap = snap.get("staffing_gap")
        alerts = snap.get("alert_levels", {})
    if "staffing_gap" not in snap:  # a snapshot from before the duty roster: no figures
        on_duty = on_duty_then = gap = None

    def tile(key, value, before):
        figure = MONTH_TILES.get(key)
        return {"value": value, "before": before, "month": month.get(figure) if figure else None}

    return {
        "received": tile("received", counts["reported"], counts_before.get("reported", 0)),
        "accepted": tile("accepted", counts["accepted"], counts_before.get("accepted", 0)),
        "closed": tile("closed", counts["closed"], counts_before.get("closed", 0)),
        "on_time_closing_rate": tile(
            "on_time_closing_rate",
            rates.get("on_time_closing_rate"),
            rates_before.get("on_time_closing_rate"),
        ),
        "overdue": tile(
            "overdue", live.open_state(district)["overdue"], yesterday_kpi.get("overdue_open")
        ),
        "satisfaction_rate": tile(
            "satisfaction_rate",
            rates.get("satisfaction_rate"),
            rates_before.get("satisfaction_rate"),
        ),
        # on duty now against the same moment yesterday; `gap`: posts missing (缺编)
        "on_duty": tile("on_duty", on_duty, on_duty_then) | {"gap": gap},
        "alerts": tile("alerts", alerts, None),
    }


def loop_flow(
    live: LiveState, now: datetime, district: str | None = None, passed: dict | None = None
) -> list[dict]:
    """The count through each loop stage today (or in `passed`, a window's counts by status),
    and the open events waiting at it."""
    passed = live.today(now, district) if passed is None else passed
    waiting = live.open_state(district)["status"]
    return [
        {
            "status": s,
            "zh": zh,
            "en": en,
            "today": passed.get(s, 0),
            "waiting": sum(waiting[w] for w in STUCK[s]),
        }
        for s, zh, en in LOOP
    ]


def district_load(live: LiveState, snapshot: dict | None) -> list[dict]:
    """Open and overdue events per district, and open per 10k residents."""
    state = live.district_state()
    out = []
    for d in (snapshot or {}).get("districts", []):
        here = state.get(d["code"], {})
        open_n = here.get("open", 0)
        out.append(
            {
                "code": d["code"],
                "name": d["name"],
                "open": open_n,
                "overdue": here.get("overdue", 0),
                "open_per_10k": (open_n / d["population"] * 10_000) if d["population"] else None,
            }
        )
    return out


def street_load(snapshot: dict | None, geo: dict | None, district: str) -> list[dict]:
    """Open events per street of one district, from the minute snapshot."""
    open_by_street = (snapshot or {}).get("open_by_street", {})
    out = []
    for f in _streets_of(geo, district):
        props = f["properties"]
        n = open_by_street.get(props["code"], 0)
        out.append(
            {
                "code": props["code"],
                "name": props["name"],
                "open": n,
                "open_per_10k": n / props["population"] * 10_000 if props["population"] else None,
            }
        )
    return out


def _streets_of(geo: dict | None, district: str) -> list[dict]:
    features = ((geo or {}).get("street") or {}).get("features", [])
    return [f for f in features if f["properties"].get("parent") == district]


def board(rows: list[dict], targets: dict) -> list[dict]:
    """Every department by this week's 综合指标值, in the 红黑榜's order (kpi.rank: the same as
    督办考核 and the API), each with its standing against the target; departments with too few
    cases come last, marked, unranked."""
    target = targets.get("composite_score", kpi.DEFAULT_TARGETS["composite_score"])
    return [
        {
            "name": r["name"],
            "score": r["composite_score"],
            "rank": r.get("rank"),
            "n": r.get("due_closing", 0),
            "small_sample": r.get("small_sample", False),
            "standing": kpi.standing("composite_score", r["composite_score"], target),
        }
        for r in rows
        if r["composite_score"] is not None
    ]


def charts(
    live: LiveState,
    now: datetime,
    district: str | None = None,
    own_district_only: bool = False,
    window: str = "today",
) -> dict:
    """Everything the overview's charts and lists show, as plain data. `own_district_only`: a
    district-bound principal's wall rotates through its own district only. `window` as for
    `tiles`: the loop and the category and source mixes follow it."""
    snap = live.document("wall") or {}
    geo = live.document("geo") or {}
    last = now.replace(second=0, microsecond=0) + live.zone.utcoffset(now)  # local wall time
    minutes = [
        (last - timedelta(minutes=THROUGHPUT_MINUTES - 1 - i)).isoformat()
        for i in range(THROUGHPUT_MINUTES)
    ]
    if district:
        load = street_load(snap, geo, district)
        shapes = {"type": "FeatureCollection", "features": _streets_of(geo, district)}
        departments = snap.get("departments_week_by_district", {}).get(district, [])
        row = next((r for r in snap.get("districts_week", []) if r["code"] == district), {})
        dims = row.get("wuzhi") or {}
    else:
        load = district_load(live, snap)
        shapes = geo.get("district") or {}
        departments = snap.get("departments_week", [])
        dims = snap.get("wuzhi_week") or {}
    names = snap.get("category_names", {})
    if window == "24h":
        last = snap.get("last24") or {}
        mix = (last.get("mix") or {}).get(district or "", {})
        categories = sorted(_part(mix, "c:").items(), key=lambda kv: -kv[1])
        sources = _part(mix, "s:")
        passed = _scoped(last, "counts", district)
    else:
        categories = sorted(
            live.today_mix(now, "category", district).items(), key=lambda kv: -kv[1]
        )
        sources = live.today_mix(now, "source", district)
        passed = None
    alerts = snap.get("alerts", [])
    ticker = live.ticker(TICKER_ITEMS if not district else TICKER_SCAN)
    districts = [d["code"] for d in snap.get("districts", [])]
    if district:  # a district's view shows that district's alerts and events only
        alerts = [a for a in alerts if a.get("district") == district]
        ticker = [i for i in ticker if i.get("district") == district]
        if own_district_only:
            districts = [district]
    return {
        "minutes": minutes,
        "reported": live.throughput("reported", THROUGHPUT_MINUTES, now, district),
        "closed": live.throughput("closed", THROUGHPUT_MINUTES, now, district),
        "loop": loop_flow(live, now, district, passed),
        # "pending": the shapes come with the minute's snapshot and are not there yet
        "map": {
            "shapes": shapes,
            "load": load if shapes.get("features") else [],
            "pending": not geo,
        },
        "categories": [(names.get(c, c), n) for c, n in categories[:CATEGORIES_SHOWN]],
        "sources": [(SOURCE_LABELS.get(s, (s,))[0], n) for s, n in sources.items()],
        "board": board(departments, snap.get("targets") or {}),
        # departments with no score this week (no case has fallen due): named as a count
        "board_unscored": sum(1 for r in departments if r.get("composite_score") is None),
        "wuzhi": {k: dims.get(k) for k in WUZHI_DIMENSIONS},
        "alerts": alerts[:ALERTS_SHOWN],
        "ticker": [
            {
                "time": fmt.time_of_day(datetime.fromisoformat(i["at"]), live.zone)[:5],
                "category": (sub := names.get(i["subcategory"], i["subcategory"])),
                "title": ticker_title(i["title"], sub),
                "event_id": i["event_id"],
            }
            for i in ticker[:TICKER_ITEMS]
        ],
        "districts": districts,
        "districts_week": snap.get("districts_week", []),
    }


def _part(mix: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: n for k, n in mix.items() if k.startswith(prefix) and n}


def ticker_title(title: str, subcategory: str) -> str:
    """A ticker row names the kind once: "樟园社区共享单车乱停放" under 共享单车乱停放 reads
    "樟园社区"."""
    if subcategory and title.endswith(subcategory) and len(title) > len(subcategory):
        return title[: -len(subcategory)]
    return title
