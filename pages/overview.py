"""总览: the big-screen overview — today's tiles, the loop, the map, mixes, board and alerts."""

from dash import dcc, html

from dashboard.access import ScopeError, district_for
from dashboard.i18n import t
from dashboard.web import current
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


def _tile(key: str, lang: str, desk: bool = False):
    linked = desk and key in LINKED_TILES
    return html.Div(
        [
            html.Div(t(key, lang), className="tile-label"),
            html.Div("—", id=tile_id(key, "value"), className="tile-value"),
            html.Div("", id=tile_id(key, "delta"), className="tile-delta"),
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
    return html.Div(
        [
            dcc.Store(id=SCOPE, data=district or None),
            dcc.Store(id=DESK, data=kiosk != "1"),
            dcc.Location(id=GO, refresh="callback-nav"),
            html.Div(id=DISTRICTS, hidden=True),
            dcc.Interval(id=FAST, interval=_seconds(tiles, 5)),
            dcc.Interval(id=SLOW, interval=_seconds(charts, 30)),
            dcc.Store(id=SEEN_FAST),
            dcc.Store(id=SEEN_SLOW),
            dcc.Store(id=VIEWPORT),
            html.Div(
                [_tile(k, lang, kiosk != "1") for k in TILE_KEYS], className="tiles area-tiles"
            ),
            _panel("loop", _graph("flow"), lang, "flow"),
            _panel("throughput", _graph("throughput"), lang, "throughput"),
            _panel(
                "map",
                [html.Div(id="overview-scope-label", className="scope-label"), _graph("map")],
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
