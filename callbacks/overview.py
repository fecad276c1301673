"""Overview callbacks: live state and the minute snapshot in, tiles and figures out.

Each refresh first compares the live version with the one on screen and does nothing when it
has not changed.
"""

from datetime import datetime, timedelta

from dash import Input, Output, State, callback, ctx, html
from dash.exceptions import PreventUpdate
from flask import current_app
from redis.exceptions import RedisError

from dashboard import web
from dashboard.clock import utcnow
from dashboard.i18n import ALERT_LEVELS, pick, t
from dashboard.kpi import WUZHI_DIMENSIONS
from dashboard.views import overview
from pages.overview import (
    DESK,
    DISTRICTS,
    FAST,
    GO,
    GRAPHS,
    SCOPE,
    SEEN_FAST,
    SEEN_SLOW,
    SLOW,
    TILE_KEYS,
    VIEWPORT,
    WINDOW,
    graph_id,
    label,
    tile_id,
    tile_texts,
)
from ui import figures, viewport
from ui.scope import requested_district

TILE_OUTPUTS = [
    Output(tile_id(k, part), "children") for k in TILE_KEYS for part in ("value", "delta", "month")
]


@callback(
    *TILE_OUTPUTS,
    Output(SEEN_FAST, "data"),
    Input(FAST, "n_intervals"),
    # The language is an input: the page may learn it after the first refresh has run.
    Input("shell-lang", "data"),
    State(SEEN_FAST, "data"),
    State(SCOPE, "data"),
    State(WINDOW, "data"),
    # The timer is off while a refresh runs, so refreshes never overlap or pile up.
    running=[(Output(FAST, "disabled"), True, False)],
)
def update_tiles(_n, lang, seen, district, window):
    rt = current_app.extensions["dashboard"]
    district = requested_district(district)
    lang = "en" if lang == "en" else "zh"
    window = overview.window_of(window)
    try:
        shown = [rt.live.version(), lang, district, window]
        if shown == seen:
            raise PreventUpdate  # nothing new: no work, nothing sent
        tiles = overview.tiles(rt.live, rt.live.document("wall"), utcnow(), district, window)
    except RedisError:  # Redis down: keep what is on screen; the banner says so
        raise PreventUpdate from None
    return [*tile_texts(tiles, lang, window), shown]


CHART_OUTPUTS = [Output(graph_id(g), "figure") for g in GRAPHS] + [
    Output("overview-list-alerts", "children"),
    Output("overview-list-ticker", "children"),
    Output(DISTRICTS, "data-codes"),
]


@callback(
    *CHART_OUTPUTS,
    Output(SEEN_SLOW, "data"),
    Input(SLOW, "n_intervals"),
    Input(VIEWPORT, "data"),
    Input("shell-lang", "data"),
    Input("shell-theme", "data"),
    State(SEEN_SLOW, "data"),
    State(SCOPE, "data"),
    State(WINDOW, "data"),
    running=[(Output(SLOW, "disabled"), True, False)],
)
def update_charts(_n, screen, lang, theme, seen, district, window):
    rt = current_app.extensions["dashboard"]
    scale = viewport.scale(screen)
    seen = seen if isinstance(seen, dict) else {}
    district = requested_district(district)
    lang = "en" if lang == "en" else "zh"
    try:
        version = rt.live.version()
        window = overview.window_of(window)
        view = [scale, lang, theme, district, window]
        if seen.get("version") == version and seen.get("view") == view:
            raise PreventUpdate  # nothing new: no work, nothing sent
        built = overview_figures(rt.live, lang, district, window)
    except RedisError:  # Redis down: keep what is on screen; the banner says so
        raise PreventUpdate from None
    graphs = [figures.themed(figures.scaled(f, scale), theme) for f in built[: len(GRAPHS)]]
    shapes = [figures.frame_key(g) for g in graphs]
    on_screen = seen.get("frames") or [None] * len(graphs)
    # A chart whose frame (layout, trace types, map shapes) is on screen already gets only
    # the values that change; the browser keeps the rest, so nothing is redrawn or re-parsed.
    graphs = [
        figures.values_patch(g) if key == old else g
        for g, key, old in zip(graphs, shapes, on_screen, strict=True)
    ]
    return [
        *graphs,
        *built[len(GRAPHS) :],
        {"version": version, "view": view, "frames": shapes},
    ]


viewport.track(VIEWPORT, "overview-page")


def overview_figures(live, lang: str, district: str | None = None, window="today") -> list:
    """Every chart and list of the overview, from its read model (dashboard.views.overview)."""
    principal = web.current()
    view = overview.charts(
        live,
        utcnow(),
        district,
        own_district_only=principal is not None and principal.scoped,
        window=window,
    )
    area_map = view["map"]
    return [
        figures.throughput(
            view["minutes"],
            view["reported"],
            view["closed"],
            (t("new_events", lang), t("closures", lang)),
        ),
        figures.loop_flow(
            view["loop"], lang, (label("loop_today", lang, window), t("loop_waiting", lang))
        ),
        figures.district_map(
            area_map["shapes"], area_map["load"], "open_per_10k", t("per_10k", lang)
        )
        if area_map["load"]
        else figures.empty(t("why_no_map" if area_map["pending"] else "why_no_shapes", lang)),
        figures.bars([name for name, _n in view["categories"]], [n for _c, n in view["categories"]])
        if view["categories"]
        else figures.empty(label("why_no_new_events", lang, window)),
        figures.donut([name for name, _n in view["sources"]], [n for _s, n in view["sources"]])
        if view["sources"]
        else figures.empty(label("why_no_new_events", lang, window)),
        _board(view["board"], lang, view["board_unscored"]),
        _ranking(view["districts_week"], district, lang),
        figures.radar(
            [pick(v, lang) for v in WUZHI_DIMENSIONS.values()], list(view["wuzhi"].values())
        )
        if any(v is not None for v in view["wuzhi"].values())
        else figures.empty(t("why_no_wuzhi", lang)),
        _alert_items(view["alerts"], lang),
        _ticker_items(view["ticker"]),
        ",".join(view["districts"]),
    ]


BOARD_COLOURS = {
    "good": figures.GOOD,
    "near": figures.ALERT_COLOURS[3],
    "poor": figures.ALERT_COLOURS[1],
    None: figures.MUTED,
}


def _board(rows: list[dict], lang: str, unscored: int = 0) -> dict:
    """Every department by 综合指标值, coloured by its target (never by half of the list);
    too few cases: grey, with the number of cases instead of a rank."""
    if not rows:
        return figures.empty(t("why_no_board", lang))
    fig = figures.bars(
        [r["name"] for r in rows],
        [round(r["score"], 1) for r in rows],
        fmt="{:.1f}",
    )
    fig["data"][0]["text"] = [
        f"{r['score']:.1f}" + (f" · n={r['n']}" if r["small_sample"] else "") for r in rows
    ]
    fig["data"][0]["marker"] = {
        "color": [BOARD_COLOURS[None if r["small_sample"] else r["standing"]] for r in rows]
    }
    fig["data"][0]["hovertext"] = [
        f"({t('sv_small_sample', lang)} n={r['n']})" if r["small_sample"] else "" for r in rows
    ]
    fig["data"][0]["hovertemplate"] = "%{y}: %{x:.1f} %{hovertext}<extra></extra>"
    if unscored:  # nobody left out unsaid
        fig["layout"]["margin"]["b"] = 22
        fig["layout"]["annotations"] = [
            {
                "text": t("board_unscored", lang).format(n=unscored),
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 0,
                "xanchor": "right",
                "yanchor": "top",
                "yshift": -4,
                "font": {"color": figures.MUTED, "size": 13},
            }
        ]
    return fig


def _ranking(rows: list[dict], district: str | None, lang: str) -> dict:
    """The districts by this week's 综合指标值, best first; the district shown stands out."""
    rows = sorted(
        (r for r in rows if r.get("composite_score") is not None),
        key=lambda r: -r["composite_score"],
    )
    if not rows:
        return figures.empty(t("why_no_board", lang))
    fig = figures.bars(
        [r["name"] for r in rows], [round(r["composite_score"], 1) for r in rows], fmt="{:.1f}"
    )
    fig["data"][0]["marker"] = {
        "color": [figures.ACCENT if district in (None, r["code"]) else figures.MUTED for r in rows]
    }
    return fig


FRESH_ALERT = timedelta(minutes=10)  # a red or orange alert this new pulses on the wall


def _alert_items(alerts: list[dict], lang: str, now: datetime | None = None) -> list:
    """The open alerts, worst first; escalated ones on red, new red and orange ones pulsing."""
    if not alerts:
        return [html.Li(t("no_alerts", lang), className="muted")]
    now = now or utcnow()
    out = []
    for a in alerts:
        classes = []
        if a.get("escalated"):
            classes.append("escalated")
        raised = datetime.fromisoformat(a["created_at"].rstrip("Z"))
        if a["level"] <= 2 and now - raised < FRESH_ALERT:
            classes.append("fresh")
        out.append(
            html.Li(
                html.A(
                    [
                        html.Span(
                            pick(ALERT_LEVELS[a["level"]], lang),
                            className=f"alert-badge level-{a['level']}",
                        ),
                        html.Span(a["title"], className="alert-title"),
                    ],
                    href=f"/risk?alert={a['id']}" + ("&lang=en" if lang == "en" else ""),
                    className="ticker-link",
                ),
                className=" ".join(classes) or None,
            )
        )
    return out


def _ticker_items(items: list[dict]) -> list:
    """The newest events; each row opens its incident (at a desk: the wall's kiosk mode
    makes links inert)."""
    return [
        html.Li(
            html.A(
                [
                    html.Span(item["time"], className="ticker-time"),
                    html.Span(item["category"], className="ticker-cat"),
                    html.Span(item["title"], className="ticker-title"),
                ],
                href=f"/incident/id/{item['event_id']}" if item.get("event_id") else None,
                className="ticker-link",
            )
        )
        for item in items
    ]


@callback(
    Output(GO, "href"),
    Input(tile_id("overdue", "box"), "n_clicks"),
    Input(graph_id("map"), "clickData"),
    State(SCOPE, "data"),
    State(DESK, "data"),
    State("shell-lang", "data"),
    prevent_initial_call=True,
)
def go(_tile_clicks, map_click, district, desk, lang):
    """At a desk: the 超期未办结 tile opens the overdue list (of the district shown); a map area
    opens 事件流转 for that district (or street)."""
    if desk is not True:
        raise PreventUpdate
    district = requested_district(district)
    suffix = "&lang=en" if lang == "en" else ""
    if ctx.triggered_id == graph_id("map"):
        points = (map_click or {}).get("points") if isinstance(map_click, dict) else None
        code = (
            points[0].get("location")
            if isinstance(points, list) and points and isinstance(points[0], dict)
            else None
        )
        if not isinstance(code, str) or not code.isalnum() or len(code) > 32:
            raise PreventUpdate
        return f"/flow?range=7d&area={code}{suffix}"
    area = f"&area={district}" if district else ""
    return f"/flow?range=all&overdue=1{area}{suffix}"
