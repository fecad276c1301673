"""总览: the big-screen overview — today's tiles, the loop, the map, mixes, board and alerts."""

from dash import dcc, html
from redis.exceptions import RedisError

from dashboard import fmt
from dashboard.access import ScopeError, district_for
from dashboard.clock import utcnow
from dashboard.i18n import ALERT_LEVELS, LABELS, pick, t
from dashboard.views import overview
from dashboard.web import current, runtime
from ui.figures import CONFIG
from ui.page import register_page

register_page(
    __name__,
    path="/",
    name="总览",
    name_en="Overview",
    order=0,
    permission="wall",
    prefix="overview-",
    rotate=True,
)

FAST = "overview-fast"  # tiles, every 5 s
SLOW = "overview-slow"  # charts, every 30 s
SEEN_FAST = "overview-seen-fast"  # the live version the tiles show
SEEN_SLOW = "overview-seen-slow"
VIEWPORT = "overview-viewport"  # the screen's size: chart text scales with it
WINDOW = "overview-window"  # "today" or "24h" (?window=)
SCOPE = "overview-scope"  # a district code, or None for the whole city
DISTRICTS = "overview-districts"  # its data-codes list the districts (for rotation)
TILE_KEYS = [
    "received",
    "accepted",
    "closed",
    "on_time_closing_rate",
    "overdue",
    "satisfaction_rate",
    "on_duty",
    "alerts",
]
GRAPHS = ["throughput", "flow", "map", "category", "source", "board", "ranking", "radar"]
LISTS = ["alerts", "ticker"]


def tile_id(key: str, part: str) -> str:
    return f"overview-tile-{key}-{part}"


def graph_id(name: str) -> str:
    return f"overview-graph-{name}"


GO = "overview-go"  # a location the desk's clicks navigate with
DESK = "overview-desk"  # Store: True unless kiosk (on the wall nothing navigates)
LINKED_TILES = {"overdue"}  # tiles that open the list behind them (事件流转)


RATE_TILES = {"on_time_closing_rate", "satisfaction_rate"}


def label(key: str, lang: str, window: str = "today") -> str:
    """A label as the window has it: "近24小时受理" in place of "今日受理"."""
    return t(f"{key}_24h" if window == "24h" and f"{key}_24h" in LABELS else key, lang)


def _figure(key: str, value, lang: str) -> str:
    return fmt.rate(value) if key in RATE_TILES else fmt.count(value, lang)


def tile_texts(tiles: dict, lang: str, window: str = "today") -> list:
    """Value, delta and month-so-far children for every tile, in TILE_KEYS order."""
    out = []
    for key in TILE_KEYS:
        value, before, month = (tiles[key][k] for k in ("value", "before", "month"))
        month_line = "" if month is None else f"{t('this_month', lang)} {_figure(key, month, lang)}"
        if key == "alerts":
            levels = value or {}
            if not any(levels.get(str(n)) for n in (1, 2, 3, 4)):  # not "0000": say it
                out += ["0", html.Span(t("no_alerts", lang), className="delta-none"), ""]
                continue
            out.append(
                [
                    html.Span(f"{levels.get(str(n), 0)}", className=f"alert-count level-{n}")
                    for n in (1, 2, 3, 4)
                ]
            )
            out += [" ".join(pick(ALERT_LEVELS[n], lang) for n in (1, 2, 3, 4)), ""]
            continue
        if key in RATE_TILES and value is None:  # "—" with the reason, not alone
            why = html.Span(label(f"why_no_{key}", lang, window), className="delta-none")
            out += ["—", why, month_line]
            continue
        out.append(_figure(key, value, lang))
        text, direction = fmt.delta(value, before, is_rate=key in RATE_TILES)
        out.append(
            ""
            if direction == "none"
            else html.Span(
                f"{label('vs_yesterday', lang, window)} {text}", className=f"delta-{direction}"
            )
        )
        out.append(_gap_line(tiles[key].get("gap"), lang) if key == "on_duty" else month_line)
    return out


def _gap_line(gap, lang: str):
    """The staffing gap under 在岗网格员: the posts the staffing standard says are missing."""
    if gap is None:
        return ""
    if gap == 0:
        return html.Span(t("staffing_full", lang), className="gap-none")
    return html.Span(
        f"{t('staffing_gap_posts', lang)} {fmt.count(gap, lang)}", className="gap-some"
    )


def _tile(key: str, lang: str, window: str, desk: bool, value, delta, month):
    linked = desk and key in LINKED_TILES
    return html.Div(
        [
            html.Div(label(key, lang, window), className="tile-label"),
            html.Div(value, id=tile_id(key, "value"), className="tile-value"),
            html.Div(delta, id=tile_id(key, "delta"), className="tile-delta"),
            html.Div(month, id=tile_id(key, "month"), className="tile-month"),
        ],
        className="tile tile-link" if linked else "tile",
        id=tile_id(key, "box"),
        role="link" if linked else None,
        title=t("open_list", lang) if linked else None,
    )


def _panel(title: str, body, area: str):
    return html.Section(
        [
            html.H2(title, className="panel-title"),
            html.Div(body, className="panel-body"),
        ],
        className=f"panel area-{area}",
    )


def _graph(name: str):
    return dcc.Graph(
        id=graph_id(name),
        config=CONFIG,
        className="panel-graph",
        style={"height": "100%", "width": "100%"},
    )


def _seconds(value, default: float, low: float = 1, high: float = 3600) -> int:
    """A refresh period from the URL (seconds), kept within sane bounds."""
    try:
        return int(min(max(float(value), low), high) * 1000)
    except (TypeError, ValueError):
        return int(default * 1000)


def layout(
    lang: str = "zh",
    district: str | None = None,
    tiles=None,
    charts=None,
    kiosk=None,
    window=None,
    **_kwargs,
):
    """`?tiles=5&charts=30` set the refresh periods in seconds (defaults 5 and 30);
    `?window=24h` shows the last 24 hours against the 24 before them instead of today."""
    lang = "en" if lang == "en" else "zh"
    window = overview.window_of(window)
    principal = current()
    try:
        district = district_for(principal, district) if principal else None
    except ScopeError:
        return html.Div(t("not_allowed", lang), className="page-refused", id="overview-refused")
    # The tiles and the name of the place come with the page, so that a wall stepping to the
    # next district never shows a blank tile or the previous district's figures under its name.
    live = runtime().live
    try:
        shown = [live.version(), lang, district or None, window]
        snapshot = live.document("wall") or {}
        figures = overview.tiles(live, snapshot, utcnow(), district, window)
        texts = tile_texts(figures, lang, window)
    except RedisError:  # the banner says Redis is away; the tiles fill when it is back
        shown, snapshot, texts = None, {}, ["—", "", ""] * len(TILE_KEYS)
    names = {d["code"]: d["name"] for d in snapshot.get("districts", [])}
    desk = kiosk != "1"
    tiles = [
        _tile(k, lang, window, desk, *texts[3 * i : 3 * i + 3]) for i, k in enumerate(TILE_KEYS)
    ]
    return html.Div(
        [
            dcc.Store(id=SCOPE, data=district or None),
            dcc.Store(id=DESK, data=desk),
            dcc.Store(id=WINDOW, data=window),
            dcc.Location(id=GO, refresh="callback-nav"),
            html.Div(id=DISTRICTS, hidden=True),
            dcc.Interval(id=FAST, interval=_seconds(tiles, 5)),
            dcc.Interval(id=SLOW, interval=_seconds(charts, 30)),
            dcc.Store(id=SEEN_FAST, data=shown),
            dcc.Store(id=SEEN_SLOW),
            dcc.Store(id=VIEWPORT),
            html.Div(tiles, className="tiles area-tiles"),
            _panel(label("loop", lang, window), _graph("flow"), "flow"),
            _panel(label("throughput", lang, window), _graph("throughput"), "throughput"),
            _panel(
                label("map", lang, window),
                [
                    html.Div(
                        names.get(district, district) if district else "",
                        id="overview-scope-label",
                        className="scope-label",
                    ),
                    _graph("map"),
                ],
                "map",
            ),
            _panel(
                label("active_alerts", lang, window),
                html.Ul(id="overview-list-alerts", className="alert-list"),
                "alerts",
            ),
            _panel(
                label("ticker", lang, window),
                html.Ul(id="overview-list-ticker", className="ticker"),
                "ticker",
            ),
            _panel(label("category_mix", lang, window), _graph("category"), "category"),
            _panel(label("source_mix", lang, window), _graph("source"), "source"),
            _panel(label("board", lang, window), _graph("board"), "board"),
            _panel(label("radar", lang, window), _graph("radar"), "radar"),
            # only on a 32:9 wall, where there is room beside the map (assets/shell.css)
            _panel(label("ranking", lang, window), _graph("ranking"), "ranking"),
        ],
        className="overview",
        id="overview-page",
    )
