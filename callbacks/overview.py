"""Overview callbacks: live state and the minute snapshot in, tiles and figures out.

Each refresh first compares the live version with the one on screen and does nothing when it
has not changed.
"""

from datetime import datetime, timedelta

from dash import Input, Output, State, callback, clientside_callback, html
from dash.exceptions import PreventUpdate
from flask import current_app
from redis.exceptions import RedisError

from dashboard import fmt, wall, web
from dashboard.access import ScopeError, district_for
from dashboard.clock import utcnow
from dashboard.i18n import ALERT_LEVELS, pick, t
from dashboard.kpi import WUZHI_DIMENSIONS
from pages.overview import (
    DISTRICTS,
    FAST,
    GRAPHS,
    SCOPE,
    SEEN_FAST,
    SEEN_SLOW,
    SLOW,
    TILE_KEYS,
    VIEWPORT,
    graph_id,
    tile_id,
)
from ui import figures

RATE_TILES = {"on_time_closing_rate", "satisfaction_rate"}
THROUGHPUT_MINUTES = 180
TICKER_ITEMS = 12
TICKER_SCAN = 300  # newest items searched for one district's ticker


def allowed_district(requested: str | None) -> str | None:
    """The district this request may show (dashboard.access): a district-bound principal who
    asks for another district gets nothing at all."""
    principal = web.current()
    if principal is None or not isinstance(requested, str | None):
        raise PreventUpdate  # a crafted request: nothing
    try:
        return district_for(principal, requested)
    except ScopeError:
        raise PreventUpdate from None


def tile_texts(tiles: dict, lang: str) -> list:
    """Value and delta children for every tile, in TILE_KEYS order."""
    out = []
    for key in TILE_KEYS:
        value, before = tiles[key]["value"], tiles[key]["before"]
        if key == "alerts":
            levels = value or {}
            out.append(
                [
                    html.Span(f"{levels.get(str(n), 0)}", className=f"alert-count level-{n}")
                    for n in (1, 2, 3, 4)
                ]
            )
            out.append(" ".join(pick(ALERT_LEVELS[n], lang) for n in (1, 2, 3, 4)))
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


TILE_OUTPUTS = [
    Output(tile_id(k, part), "children") for k in TILE_KEYS for part in ("value", "delta")
]


@callback(
    *TILE_OUTPUTS,
    Output(SEEN_FAST, "data"),
    Input(FAST, "n_intervals"),
    # The language is an input: the page may learn it after the first refresh has run.
    Input("shell-lang", "data"),
    State(SEEN_FAST, "data"),
    State(SCOPE, "data"),
    # The timer is off while a refresh runs, so refreshes never overlap or pile up.
    running=[(Output(FAST, "disabled"), True, False)],
)
def update_tiles(_n, lang, seen, district):
    rt = current_app.extensions["dashboard"]
    district = allowed_district(district)
    lang = "en" if lang == "en" else "zh"
    try:
        shown = [rt.live.version(), lang, district]
        if shown == seen:
            raise PreventUpdate  # nothing new: no work, nothing sent
        tiles = wall.tiles(rt.live, rt.live.document("wall"), utcnow(), district)
    except RedisError:  # Redis down: keep what is on screen; the banner says so
        raise PreventUpdate from None
    return [*tile_texts(tiles, lang), shown]


CHART_OUTPUTS = [Output(graph_id(g), "figure") for g in GRAPHS] + [
    Output("overview-list-alerts", "children"),
    Output("overview-list-ticker", "children"),
    Output(DISTRICTS, "data-codes"),
    Output("overview-scope-label", "children"),
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
    running=[(Output(SLOW, "disabled"), True, False)],
)
def update_charts(_n, viewport, lang, theme, seen, district):
    rt = current_app.extensions["dashboard"]
    viewport = viewport if isinstance(viewport, dict) else {}
    scale = figures.scale_for(viewport.get("height"))
    seen = seen if isinstance(seen, dict) else {}
    district = allowed_district(district)
    lang = "en" if lang == "en" else "zh"
    try:
        version = rt.live.version()
        view = [scale, lang, theme, district]
        if seen.get("version") == version and seen.get("view") == view:
            raise PreventUpdate  # nothing new: no work, nothing sent
        built = overview_figures(rt.live, lang, district)
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


clientside_callback(
    "function(_) { return {height: window.innerHeight, width: window.innerWidth}; }",
    Output(VIEWPORT, "data"),
    Input("overview-page", "id"),
)


def overview_figures(live, lang: str, district: str | None = None) -> list:
    """Every chart and list of the overview from the live state and the snapshot."""
    now = utcnow()
    snap = live.document("wall") or {}
    geo = live.document("geo") or {}
    last = now.replace(second=0, microsecond=0) + live.zone.utcoffset(now)  # local wall time
    minutes = [
        (last - timedelta(minutes=THROUGHPUT_MINUTES - 1 - i)).isoformat()
        for i in range(THROUGHPUT_MINUTES)
    ]
    throughput = figures.throughput(
        minutes,
        live.throughput("reported", THROUGHPUT_MINUTES, now, district),
        live.throughput("closed", THROUGHPUT_MINUTES, now, district),
        (t("new_events", lang), t("closures", lang)),
    )
    flow = figures.loop_flow(wall.loop_flow(live, now, district), lang)
    if district:
        load = wall.street_load(snap, geo, district)
        shapes = {
            "type": "FeatureCollection",
            "features": [
                f
                for f in (geo.get("street") or {}).get("features", [])
                if f["properties"].get("parent") == district
            ],
        }
    else:
        load = wall.district_load(live, snap)
        shapes = geo.get("district") or {}
    if shapes.get("features") and load:
        area_map = figures.district_map(shapes, load, "open_per_10k", t("per_10k", lang))
    else:
        area_map = figures.empty()
    names = snap.get("category_names", {})
    cats = sorted(wall.mix(live, now, "c", district).items(), key=lambda kv: -kv[1])
    category = figures.bars([names.get(c, c) for c, _ in cats[:8]], [n for _, n in cats[:8]])
    sources = wall.mix(live, now, "s", district)
    source_names = wall.source_names()
    source = figures.donut([source_names.get(s, s) for s in sources], list(sources.values()))
    board = _board(
        snap.get("departments_week_by_district", {}).get(district, [])
        if district
        else snap.get("departments_week", [])
    )
    dims = snap.get("wuzhi_week") or {}
    if district:
        row = next((r for r in snap.get("districts_week", []) if r["code"] == district), {})
        dims = row.get("wuzhi") or {}
    radar = figures.radar(
        [pick(v, lang) for v in WUZHI_DIMENSIONS.values()], [dims.get(k) for k in WUZHI_DIMENSIONS]
    )
    alerts = snap.get("alerts", [])
    ticker = live.ticker(TICKER_ITEMS if not district else TICKER_SCAN)
    districts = [d["code"] for d in snap.get("districts", [])]
    if district:  # a district's view shows that district's alerts and events only
        alerts = [a for a in alerts if a.get("district") == district]
        ticker = [i for i in ticker if i.get("district") == district]
        principal = web.current()
        if principal is not None and principal.scoped:
            districts = [district]  # a district-bound wall rotates through its own only
    return [
        throughput,
        flow,
        area_map,
        category,
        source,
        board,
        radar,
        _alert_items(alerts, lang),
        _ticker_items(ticker[:TICKER_ITEMS], names, live.zone),
        ",".join(districts),
        next((d["name"] for d in snap.get("districts", []) if d["code"] == district), None)
        if district
        else None,
    ]


def _board(rows: list[dict]) -> dict:
    """Departments by this week's 按期结案率, best first (rows without a rate last)."""
    rated = sorted(
        (r for r in rows if r["on_time_closing_rate"] is not None),
        key=lambda r: -r["on_time_closing_rate"],
    )
    if not rated:
        return figures.empty()
    shown = rated if len(rated) <= 10 else rated[:5] + rated[-5:]
    colours = [figures.GOOD if i < 5 else figures.ALERT_COLOURS[1] for i in range(len(shown))]
    fig = figures.bars(
        [r["name"] for r in shown],
        [round(r["on_time_closing_rate"] * 100, 1) for r in shown],
        fmt="{:.1f}%",
    )
    fig["data"][0]["marker"] = {"color": colours}
    return fig


def _alert_items(alerts: list[dict], lang: str) -> list:
    if not alerts:
        return [html.Li(t("no_alerts", lang), className="muted")]
    return [
        html.Li(
            [
                html.Span(
                    pick(ALERT_LEVELS[a["level"]], lang),
                    className=f"alert-badge level-{a['level']}",
                ),
                html.Span(a["title"], className="alert-title"),
            ],
            className="escalated" if a.get("escalated") else None,
        )
        for a in alerts[:8]
    ]


def _ticker_items(items: list[dict], names: dict, zone) -> list:
    return [
        html.Li(
            [
                html.Span(
                    fmt.time_of_day(datetime.fromisoformat(item["at"]), zone)[:5],
                    className="ticker-time",
                ),
                html.Span(
                    names.get(item["subcategory"], item["subcategory"]), className="ticker-cat"
                ),
                html.Span(item["title"], className="ticker-title"),
            ]
        )
        for item in items
    ]
