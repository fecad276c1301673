"""事件流转 callbacks: the filter bar → the filters (checked by dashboard.views.flow.parse, kept
in the URL); the filters → the charts and a new event list; every chart element, table cell and
breadcrumb → the filter bar (drill-down); the list's blocks → rows fetched page by page."""

from __future__ import annotations

from itertools import pairwise
from urllib.parse import parse_qsl

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app
from sqlalchemy import select

from dashboard import notices, summaries
from dashboard.access import allowed
from dashboard.clock import utcnow
from dashboard.domain import SOURCE_LABELS, STATUS_LABELS
from dashboard.i18n import pick, t
from dashboard.models import Area, Event
from dashboard.queries import area_scope
from dashboard.schemas import InputError
from dashboard.views import flow
from pages.flow import (
    AREA,
    AREA_PICK,
    CATEGORY,
    COUNT,
    CRUMB,
    CRUMBS,
    DATES,
    DEPARTMENT,
    EXPORTS,
    FLAGS,
    GRID,
    GRID_BOX,
    NOTE,
    NOTICE,
    NOTICE_BOX,
    NOTICE_OPEN,
    QUERY,
    RANGE,
    REFRESH,
    RESET,
    SEVERITY,
    SOURCE,
    STATUS,
    STUCK,
    VIEWPORT,
    graph_id,
    grid,
)
from ui import eventlist, figures, noticeform, viewport
from ui.scope import callback_scope, lang_of

LEVEL_BELOW = {"city": "district", "district": "street", "street": "community", "community": "grid"}


def _rt():
    return current_app.extensions["dashboard"]


def _filters(query) -> flow.Filters:
    if not isinstance(query, str) or len(query) > 2000:
        raise PreventUpdate
    try:
        return flow.parse(dict(parse_qsl(query)))
    except InputError:
        raise PreventUpdate from None


# --- the filter bar → the filters -------------------------------------------------------------
@callback(
    Output(QUERY, "data"),
    Output(NOTE, "children"),
    Output(GRID_BOX, "children"),
    Output(CRUMBS, "children"),
    Output(AREA_PICK, "options"),
    Output(AREA_PICK, "value"),
    Output(EXPORTS, "children"),
    Output(DATES, "style"),
    Input(RANGE, "value"),
    Input(DATES, "start_date"),
    Input(DATES, "end_date"),
    Input(AREA, "data"),
    Input(CATEGORY, "value"),
    Input(SOURCE, "value"),
    Input(DEPARTMENT, "value"),
    Input(STATUS, "value"),
    Input(SEVERITY, "value"),
    Input(FLAGS, "value"),
    State(QUERY, "data"),
    State("flow-lang", "data"),
)
def filters(
    rng, start, end, area, category, source, department, status, severity, flags, old, lang
):
    lang = lang_of(lang)
    principal, district_id = callback_scope()
    raw = {
        "range": rng,
        "start": _day(start) if rng == "custom" else None,
        "end": _day(end) if rng == "custom" else None,
        "area": area,
        "category": category,
        "source": source,
        "department": department,
        "status": status,
        "severity": str(severity) if isinstance(severity, int) else severity,
        **{x: "1" for x in (flags if isinstance(flags, list) else []) if x in flow.FLAGS},
    }
    try:
        f = flow.parse(raw)
        with _rt().sessions() as session:
            flow.other_terms(session, f, utcnow(), district_id)  # unknown codes, scope
            crumbs, below = _area_path(session, f.area, district_id, lang)
    except InputError as exc:
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return no_update, message, no_update, no_update, no_update, no_update, no_update, no_update
    query = flow.to_query(f)
    box = grid(lang) if query != old else no_update
    links = (
        []
        if not allowed(principal, "export")
        else [
            html.A(
                t(f"flow_export_{kind}", lang),
                href=f"/api/v1/events/list.{kind}?{query}" + ("&lang=en" if lang == "en" else ""),
                className="btn btn-outline-info btn-sm",
                download="",
            )
            for kind in ("csv", "xlsx")
        ]
    )
    dates = None if f.range == "custom" else {"display": "none"}
    return query, None, box, crumbs, below, None, links, dates


def _day(value):
    """The day of a date picker's value ("2026-11-01" or "2026-11-01T00:00:00"); anything else
    as it came, for flow.parse to refuse."""
    return value[:10] if isinstance(value, str) else value


def _area_path(session, code: str | None, district_id: int | None, lang: str):
    """The breadcrumb from the city (or the own district) down to the area, and the areas one
    level below it to choose from."""
    scope = area_scope(session, code)
    path = []
    area = session.execute(select(Area).where(Area.code == code)).scalar() if code else None
    while area is not None:
        path.append(area)
        area = session.get(Area, area.parent_id) if area.parent_id else None
    path.reverse()
    items = [] if district_id is not None else [(None, t("flow_city", lang))]
    items += [(a.code, a.name) for a in path if a.level != "city"]
    crumbs = []
    for i, (c, name) in enumerate(items):
        if i:
            crumbs.append(html.Span("›", className="flow-crumb-sep"))
        crumbs.append(
            html.Button(
                name,
                id={"type": CRUMB, "index": c or "city"},
                className="flow-crumb" + (" active" if i == len(items) - 1 else ""),
            )
        )
    level = LEVEL_BELOW.get(scope.level)
    below = []
    if level:
        q = select(Area.code, Area.name).where(Area.level == level).order_by(Area.code)
        q = q.where(Area.parent_id == scope.id) if scope.id else q
        below = [{"label": n, "value": c} for c, n in session.execute(q)]
    return crumbs, below


clientside_callback(
    """function(query) {
        // the filters into the address bar without a reload: a bookmark or a link carries them
        const keep = new URLSearchParams(window.location.search);
        const next = new URLSearchParams(query || "");
        for (const k of ["lang", "kiosk", "rotate", "theme"]) {
            if (keep.has(k)) { next.set(k, keep.get(k)); }
        }
        const text = next.toString();
        const url = window.location.pathname + (text ? "?" + text : "");
        if (url !== window.location.pathname + window.location.search) {
            window.history.replaceState(window.history.state, "", url);
        }
        return window.dash_clientside.no_update;
    }""",
    Output(QUERY, "id"),
    Input(QUERY, "data"),
)


# --- drill-down: a click anywhere → the filter bar --------------------------------------------


@callback(
    Output(AREA, "data", allow_duplicate=True),
    Output(CATEGORY, "value"),
    Output(SOURCE, "value"),
    Output(DEPARTMENT, "value"),
    Output(STATUS, "value"),
    Output(FLAGS, "value"),
    Output(SEVERITY, "value"),
    Output(RANGE, "value"),
    Input(graph_id("funnel"), "clickData"),
    Input(graph_id("sankey"), "clickData"),
    Input(graph_id("ageing"), "clickData"),
    Input(STUCK, "cellClicked"),
    Input({"type": CRUMB, "index": ALL}, "n_clicks"),
    Input(AREA_PICK, "value"),
    Input(RESET, "n_clicks"),
    State(FLAGS, "value"),
    prevent_initial_call=True,
)
def drill(funnel, sankey, ageing, cell, _crumbs, picked, _reset, flags):
    """What a click means: a funnel stage → that status; a flow node → its source, category,
    department or outcome; an ageing bar of overdue events → overdue only; a stuck-table row →
    its status and department; a breadcrumb or the area list → that area."""
    callback_scope()
    keep = [no_update] * 8
    flags = [x for x in (flags if isinstance(flags, list) else []) if x in flow.FLAGS]
    trigger = ctx.triggered_id
    if trigger == RESET:
        return [None, None, None, None, None, [], None, "24h"]
    if isinstance(trigger, dict) and trigger.get("type") == CRUMB:
        if not ctx.triggered[0].get("value"):
            raise PreventUpdate  # the breadcrumb drawn anew, not clicked
        index = trigger.get("index")
        keep[0] = None if index == "city" else index
        return keep
    if trigger == AREA_PICK:
        if not picked:
            raise PreventUpdate
        keep[0] = picked
        return keep
    point = _point(
        funnel
        if trigger == graph_id("funnel")
        else sankey
        if trigger == graph_id("sankey")
        else ageing
    )
    if trigger == graph_id("funnel") and point:
        if point.get("customdata") not in STATUS_LABELS:
            raise PreventUpdate
        keep[4] = point.get("customdata")
    elif trigger == graph_id("sankey") and point:
        name, _sep, value = str(point.get("customdata") or "").partition(":")
        target = {"source": 2, "category": 1, "department": 3}
        if name in target and value:
            keep[target[name]] = value
        elif name == "outcome" and value == "overdue":
            keep[5] = sorted({*flags, "overdue"})
        elif name == "outcome" and value in ("closed", "rejected"):
            keep[4] = value
        else:
            raise PreventUpdate
    elif trigger == graph_id("ageing") and point:
        if point.get("customdata") != "overdue":
            raise PreventUpdate
        keep[5] = sorted({*flags, "overdue"})
    elif trigger == STUCK and isinstance(cell, dict):
        row = cell.get("data") if isinstance(cell.get("data"), dict) else {}
        keep[4] = row.get("status") if row.get("status") in STATUS_LABELS else no_update
        keep[3] = row.get("department_code") or no_update
    else:
        raise PreventUpdate
    return keep


def _point(click) -> dict | None:
    points = click.get("points") if isinstance(click, dict) else None
    return (
        points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else None
    )


# --- the filters → the charts -----------------------------------------------------------------
@callback(
    Output(graph_id("funnel"), "figure"),
    Output(graph_id("sankey"), "figure"),
    Output(graph_id("throughput"), "figure"),
    Output(graph_id("ageing"), "figure"),
    Output(STUCK, "rowData"),
    Output(STUCK, "columnDefs"),
    Output(COUNT, "children"),
    Input(QUERY, "data"),
    Input(REFRESH, "n_intervals"),
    Input(VIEWPORT, "data"),
    State("flow-lang", "data"),
)
def draw(query, _n, screen, lang):
    lang = lang_of(lang)
    scale = viewport.scale(screen)
    _principal, district_id = callback_scope()
    f = _filters(query)
    rt = _rt()
    now = utcnow()
    offset = summaries.fixed_offset(rt.settings.zone) or 0
    with rt.sessions() as session:
        try:
            c = flow.charts(session, f, now, rt.settings.zone, offset, district_id, lang)
        except InputError:
            raise PreventUpdate from None
    graphs = (
        figures.funnel_chart(
            [pick(STATUS_LABELS[s["stage"]], lang) for s in c["funnel"]],
            [s["n"] for s in c["funnel"]],
            [s["stage"] for s in c["funnel"]],
        ),
        _sankey(c["flows"], lang),
        figures.week_against_week(
            c["throughput"]["buckets"],
            c["throughput"]["now"],
            c["throughput"]["before"],
            (t("new_events", lang), t("flow_week_before", lang)),
        ),
        _ageing(c["ageing"], lang),
    )
    return (
        *(figures.scaled(g, scale) for g in graphs),
        [
            {
                "status": r["status"],
                "status_name": pick(STATUS_LABELS[r["status"]], lang),
                "department_code": r["department"][0],
                "department": r["department"][1] or t("flow_no_department", lang),
                "n": r["n"],
                "overdue": r["overdue"],
                "oldest_days": r["oldest_days"],
            }
            for r in c["stuck"]
        ],
        [
            {"field": "status_name", "headerName": t("col_status", lang)},
            {"field": "department", "headerName": t("col_department", lang), "flex": 1.4},
            {"field": "n", "headerName": t("flow_count", lang), "flex": 0.7},
            {
                "field": "overdue",
                "headerName": t("flow_outcome_overdue", lang),
                "flex": 0.8,
                "cellClassRules": {"ev-overdue": {"function": "params.value > 0"}},
            },
            {
                "field": "oldest_days",
                "headerName": "最久(天)" if lang == "zh" else "Oldest (d)",
                "flex": 0.8,
            },
        ],
        count_text(c["funnel"][0]["n"], lang),
    )


def count_text(n: int, lang: str) -> str:
    """How many events the filters select, and how many an export carries."""
    cap = flow.EXPORT_LIMIT
    if lang == "zh":
        more = f"（导出最新 {cap:,} 件）" if n > cap else ""
        return f"共 {n:,} 件{more}"
    more = f" (exports carry the newest {cap:,})" if n > cap else ""
    return f"{n:,} events{more}"


def _sankey(links: list[dict], lang: str) -> dict:
    """source → category → department → outcome; categories and departments past the largest
    SANKEY_TOP are one "other" node each."""
    if not links:
        return figures.empty(t("no_data", lang))

    def top(key: str) -> set:
        totals: dict = {}
        for r in links:
            totals[r[key]] = totals.get(r[key], 0) + r["n"]
        return set(sorted(totals, key=totals.get, reverse=True)[: flow.SANKEY_TOP])

    cats, depts = top("category"), top("department")
    other = t("flow_other", lang)
    nodes: dict[str, tuple[str, str]] = {}  # key → (label, customdata)

    def node(key: str, label: str, data: str) -> int:
        if key not in nodes:
            nodes[key] = (label, data)
        return list(nodes).index(key)

    totals: dict[tuple[int, int], int] = {}
    for r in links:
        cat = r["category"] if r["category"] in cats else (None, other)
        dept = r["department"] if r["department"] in depts else ("*", other)
        dept_label = dept[1] or t("flow_no_department", lang)
        chain = [
            node(
                f"s:{r['source']}", pick(SOURCE_LABELS[r["source"]], lang), f"source:{r['source']}"
            ),
            node(f"c:{cat[0]}", cat[1], f"category:{cat[0] or ''}"),
            node(
                f"d:{dept[0]}",
                dept_label,
                f"department:{dept[0] if dept[0] not in (None, '*') else ''}",
            ),
            node(
                f"o:{r['outcome']}",
                t(f"flow_outcome_{r['outcome']}", lang),
                f"outcome:{r['outcome']}",
            ),
        ]
        for a, b in pairwise(chain):
            totals[(a, b)] = totals.get((a, b), 0) + r["n"]
    labels = [v[0] for v in nodes.values()]
    data = [v[1] for v in nodes.values()]
    return figures.sankey(labels, data, totals)


AGE_LABELS = {
    "zh": ["<1天", "1–3天", "3–7天", "7–15天", "15–30天", "≥30天"],
    "en": ["<1d", "1–3d", "3–7d", "7–15d", "15–30d", "≥30d"],
}


def _ageing(rows: list[dict], lang: str) -> dict:
    labels = AGE_LABELS[lang]
    series = {False: [0] * len(labels), True: [0] * len(labels)}
    for r in rows:
        series[r["overdue"]][r["bin"]] += r["n"]
    return figures.stacked_bars(
        labels,
        [
            (t("flow_not_due", lang), series[False], "not_due", figures.ACCENT),
            (t("flow_outcome_overdue", lang), series[True], "overdue", figures.ALERT_COLOURS[1]),
        ],
    )


# --- the list: one block of rows at a time ----------------------------------------------------
@callback(
    Output(GRID, "getRowsResponse"),
    Input(GRID, "getRowsRequest"),
    State(QUERY, "data"),
    State("flow-lang", "data"),
)
def rows(request, query, lang):
    lang = lang_of(lang)
    _principal, district_id = callback_scope()
    if not isinstance(request, dict):
        raise PreventUpdate
    f = _filters(query)
    rt = _rt()
    try:
        with rt.sessions() as session:
            got = flow.page(
                session,
                f,
                utcnow(),
                rt.settings.zone,
                request.get("startRow"),
                request.get("endRow"),
                request.get("sortModel"),
                district_id,
            )
    except InputError:
        raise PreventUpdate from None
    return {"rowData": eventlist.present(got["rows"], lang), "rowCount": got["last_row"]}


viewport.track(VIEWPORT, "flow-page")


# --- 工作提示单 from the list ---------------------------------------------------------------------
@callback(
    Output(NOTICE_BOX, "is_open"),
    Input(NOTICE_OPEN, "n_clicks"),
    State(NOTICE_BOX, "is_open"),
    prevent_initial_call=True,
)
def notice_toggle(_n, is_open):
    return not bool(is_open)


@callback(
    Output(NOTICE["result"], "children"),
    Input(NOTICE["issue"], "n_clicks"),
    *(State(NOTICE[name], "value") for name in noticeform.FIELDS),
    State(GRID, "selectedRows"),
    State(QUERY, "data"),
    State("flow-lang", "data"),
    prevent_initial_call=True,
)
def notice_issue(_n, *args):
    """A work notice covering the ticked events, or all the filters select (at most 2,000)."""
    *values, picked, query, lang = args
    f = _filters(query)

    def covers(session, district_id):
        if isinstance(picked, list) and picked:
            ids = [r.get("id") if isinstance(r, dict) else None for r in picked]
            return {"event_ids": ids}
        terms = flow.conditions(session, f, utcnow(), _rt().settings.zone, district_id)
        ids = list(
            session.execute(
                select(Event.id).where(*terms).order_by(Event.id).limit(notices.MAX_EVENTS + 1)
            ).scalars()
        )
        if len(ids) > notices.MAX_EVENTS:
            raise InputError({"event_ids": f"more than {notices.MAX_EVENTS:,}: narrow the filters"})
        return {"event_ids": ids}

    message, _issued = noticeform.submit(values, covers, lang_of(lang))
    return message
