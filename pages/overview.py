"""总览: the big-screen overview — today's tiles, the loop, the map, mixes, board and alerts."""

from dash import dcc, html
from redis.exceptions import RedisError

from dashboard import fmt
from dashboard.access import ScopeError, district_for
from dashboard.clock import utcnow
from dashboard.i18n import ALERT_LEVELS, pick, t
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
GRAPHS = ["throughput", "flow", "map", "category", "source", "board", "radar"]
LISTS = ["alerts", "ticker"]


def tile_id(key: str, part: str) -> str:
    return f"overview-tile-{key}-{part}"


def graph_id(name: str) -> str:
    return f"overview-graph-{name}"


GO = "overview-go"  # a location the desk's clicks navigate with
DESK = "overview-desk"  # Store: True unless kiosk (on the wall nothing navigates)
LINKED_TILES = {"overdue"}  # tiles that open the list behind them (事件流转)


RATE_TILES = {"on_time_closing_rate", "satisfaction_rate"}


def tile_texts(tiles: dict, lang: str) -> list:
    """Value and delta children for every tile, in TILE_KEYS order."""
    out = []
    for key in TILE_KEYS:
        value, before = tiles[key]["value"], tiles[key]["before"]
        if key == "alerts":
            levels = value or {}
            if not any(levels.get(str(n)) for n in (1, 2, 3, 4)):  # not "0000": say it
                out += ["0", html.Span(t("no_alerts", lang), className="delta-none")]
                continue
            out.append(
                [
                    html.Span(f"{levels.get(str(n), 0)}", className=f"alert-count level-{n}")
                    for n in (1, 2, 3, 4)
                ]
            )
            out.append(" ".join(pick(ALERT_LEVELS[n], lang) for n in (1, 2, 3, 4)))
            continue
        if key in RATE_TILES and value is None:  # "—" with the reason, not alone
            out += ["—", html.Span(t(f"why_no_{key}", lang), className="delta-none")]
            continue
        if key in RATE_TILES:
            out.append(fmt.rate(value))
            text, direction = fmt.delta(value, before, is_rate=True)
        else:
            out.append(fmt.count(value, lang))
            text, direction = fmt.delta(value, before)
        out.append(
            ""
            if direction == "none"
            else html.Span(f"{t('vs_yesterday', lang)} {text}", className=f"delta-{direction}")
        )
    return out


def _tile(key: str, lang: str, desk: bool, value, delta):
    linked = desk and key in LINKED_TILES
    return html.Div(
        [
            html.Div(t(key, lang), className="tile-label"),
            html.Div(value, id=tile_id(key, "value"), className="tile-value"),
            html.Div(delta, id=tile_id(key, "delta"), className="tile-delta"),
        ],
        className="tile tile-link" if linked else "tile",
        id=tile_id(key, "box"),
        role="link" if linked else None,
        title=t("open_list", lang) if linked else None,
    )


def _panel(title_key: str, body, lang: str, area: str):
    return html.Section(
        [
            html.H2(t(title_key, lang), className="panel-title"),
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
    lang: str = "zh", district: str | None = None, tiles=None, charts=None, kiosk=None, **_kwargs
):
    """`?tiles=5&charts=30` set the refresh periods in seconds (defaults 5 and 30)."""
    lang = "en" if lang == "en" else "zh"
    principal = current()
    try:
        district = district_for(principal, district) if principal else None
    except ScopeError:
        return html.Div(t("not_allowed", lang), className="page-refused", id="overview-refused")
    # The tiles and the name of the place come with the page, so that a wall stepping to the
    # next district never shows a blank tile or the previous district's figures under its name.
    live = runtime().live
    try:
        shown = [live.version(), lang, district or None]
        snapshot = live.document("wall") or {}
        texts = tile_texts(overview.tiles(live, snapshot, utcnow(), district), lang)
    except RedisError:  # the banner says Redis is away; the tiles fill when it is back
        shown, snapshot, texts = None, {}, ["—", ""] * len(TILE_KEYS)
    names = {d["code"]: d["name"] for d in snapshot.get("districts", [])}
    desk = kiosk != "1"
    tiles = [_tile(k, lang, desk, *texts[2 * i : 2 * i + 2]) for i, k in enumerate(TILE_KEYS)]
    return html.Div(
        [
            dcc.Store(id=SCOPE, data=district or None),
            dcc.Store(id=DESK, data=desk),
            dcc.Location(id=GO, refresh="callback-nav"),
            html.Div(id=DISTRICTS, hidden=True),
            dcc.Interval(id=FAST, interval=_seconds(tiles, 5)),
            dcc.Interval(id=SLOW, interval=_seconds(charts, 30)),
            dcc.Store(id=SEEN_FAST, data=shown),
            dcc.Store(id=SEEN_SLOW),
            dcc.Store(id=VIEWPORT),
            html.Div(tiles, className="tiles area-tiles"),
            _panel("loop", _graph("flow"), lang, "flow"),
            _panel("throughput", _graph("throughput"), lang, "throughput"),
            _panel(
                "map",
                [
                    html.Div(
                        names.get(district, district) if district else "",
                        id="overview-scope-label",
                        className="scope-label",
                    ),
                    _graph("map"),
                ],
                lang,
                "map",
            ),
            _panel(
                "active_alerts",
                html.Ul(id="overview-list-alerts", className="alert-list"),
                lang,
                "alerts",
            ),
            _panel(
                "ticker", html.Ul(id="overview-list-ticker", className="ticker"), lang, "ticker"
            ),
            _panel("category_mix", _graph("category"), lang, "category"),
            _panel("source_mix", _graph("source"), lang, "source"),
            _panel("board", _graph("board"), lang, "board"),
            _panel("radar", _graph("radar"), lang, "radar"),
        ],
        className="overview",
        id="overview-page",
    )
