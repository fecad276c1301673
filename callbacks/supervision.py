"""督办考核 callbacks: the period and area in, the read model (dashboard.views.supervision) out
as cards, grids and figures; the batch 督办 through dashboard.supervisions (permission `act`,
checked here again; the gate checks the page first)."""

from __future__ import annotations

from dash import Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboard import fmt, notices, supervisions, web
from dashboard.access import allowed
from dashboard.clock import utcnow
from dashboard.i18n import KPI_NAMES, pick, t
from dashboard.kpi import WUZHI_DIMENSIONS
from dashboard.queries import area_scope, list_areas, list_departments
from dashboard.refdata import area_by_code
from dashboard.schemas import InputError, text_problem
from dashboard.views import risk as risk_view
from dashboard.views import supervision as view
from pages.supervision import (
    CARDS,
    DATES,
    DISTRICT,
    GRIDS,
    NOTE,
    NOTICE_COUNTS,
    NOTICE_QUERY,
    NOTICES,
    PERIOD,
    SEND,
    SEND_HOURS,
    SEND_NOTE,
    SEND_RESULT,
    TREND_DEPARTMENT,
    graph_id,
)
from ui import figures, noticeform
from ui.scope import lang_of, requested_district


def _rt():
    return current_app.extensions["dashboard"]


# --- showing values -----------------------------------------------------------------------
def value_text(kind: str, value, lang: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return fmt.rate(value)
    if kind == "points":
        return f"{value:.1f}"
    if kind == "hours":
        return f"{value:.1f} h"
    return fmt.count(value, lang)


def change_text(card: dict, lang: str):
    change = card["change"]
    if change is None:
        return html.Span("—")
    if card["kind"] == "rate":
        text = f"{change * 100:+.1f}pp"
    elif card["kind"] in ("points", "hours"):
        text = f"{change:+.1f}"
    else:
        text = f"{change:+,.0f}"
    better = (change > 0) if card["better"] == "higher" else (change < 0)
    cls = "" if change == 0 or card["better"] is None else ("sv-better" if better else "sv-worse")
    return html.Span(f"{t('vs_previous', lang)} {text}", className=cls)


def card_items(cards: list[dict], lang: str) -> list:
    out = []
    for c in cards:
        target = (
            f"{t('target', lang)} {value_text(c['kind'], c['target'], lang)}"
            if c["target"] is not None
            else ""
        )
        out.append(
            html.Div(
                [
                    html.Div(pick(KPI_NAMES[c["key"]], lang), className="sv-card-label"),
                    html.Div(value_text(c["kind"], c["value"], lang), className="sv-card-value"),
                    html.Div([change_text(c, lang), html.Span(target)], className="sv-card-foot"),
                ],
                className=f"sv-card {c['standing'] or ''}",
                id=f"supervision-card-{c['key']}",
            )
        )
    return out


PERCENT = {"function": "params.value == null ? '—' : d3.format('.1%')(params.value)"}
POINTS = {"function": "params.value == null ? '—' : d3.format('.1f')(params.value)"}


def _standing_rules(key: str) -> dict:
    return {
        f"sv-{s}": {"function": f"params.data.standing && params.data.standing['{key}'] === '{s}'"}
        for s in ("good", "near", "poor")
    }


def board_columns(lang: str) -> list[dict]:
    rate_keys = ("on_time_closing_rate", "closing_rate", "satisfaction_rate", "rework_rate", "timely_dispatch_rate")  # fmt: skip
    small = t("sv_small_sample", lang)
    return [
        {
            "field": "rank",
            "headerName": t("col_rank", lang),
            "flex": 0.5,
            "valueFormatter": {
                "function": f"params.value == null ? (params.data.small_sample ? '{small}' : '—') : params.value"
            },
        },
        {"field": "name", "headerName": t("col_name", lang), "minWidth": 110},
        {
            "field": "composite_score",
            "headerName": t("col_score", lang),
            "valueFormatter": POINTS,
            "cellClassRules": _standing_rules("composite_score"),
        },
        *(
            {
                "field": k,
                "headerName": pick(KPI_NAMES[k], lang),
                "valueFormatter": PERCENT,
                "cellClassRules": _standing_rules(k),
            }
            for k in rate_keys
        ),
        {"field": "due_closing", "headerName": t("col_n", lang), "flex": 0.6},
        {
            "field": "overdue_open",
            "headerName": pick(KPI_NAMES["overdue_open"], lang),
            "flex": 0.7,
        },
    ]


def wuzhi_columns(lang: str) -> list[dict]:
    number = {"function": "params.value == null ? '—' : d3.format('.3~f')(params.value)"}
    return [
        {"field": "dimension_name", "headerName": t("col_dimension", lang), "flex": 0.8},
        {"field": "name", "headerName": t("col_indicator", lang), "minWidth": 200, "flex": 2},
        {"field": "value", "headerName": t("col_value", lang), "valueFormatter": number},
        {"field": "target", "headerName": t("target", lang), "valueFormatter": number},
        {"field": "weight", "headerName": t("col_weight", lang), "flex": 0.5},
        {"field": "score", "headerName": t("col_points", lang), "valueFormatter": POINTS},
    ]


def overdue_columns(lang: str) -> list[dict]:
    return [
        {"field": "case", "headerName": t("col_case", lang), "minWidth": 150},
        {"field": "title", "headerName": t("col_title", lang), "minWidth": 160, "flex": 2},
        {"field": "category", "headerName": t("col_category", lang)},
        {"field": "district", "headerName": t("col_district", lang)},
        {"field": "department", "headerName": t("col_department", lang)},
        {"field": "overdue_days", "headerName": t("col_overdue_days", lang), "sort": "desc"},
        {"field": "supervisions", "headerName": t("col_supervisions", lang), "flex": 0.6},
    ]


def wuzhi_rows(w: dict, lang: str) -> list[dict]:
    return [
        {
            "dimension_name": pick(WUZHI_DIMENSIONS[i["dimension"]], lang),
            "name": i["zh"] if lang == "zh" else i["en"],
            "value": i["value"],
            "target": i["target"],
            "weight": i["weight"],
            "score": i["score"],
        }
        for i in w["indicators"]
    ]


def overdue_rows(cases: list[dict]) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "deadline"} for c in cases]


# --- the page -----------------------------------------------------------------------------
@callback(
    Output(CARDS, "children"),
    Output(NOTE, "children"),
    Output(GRIDS["departments"], "rowData"),
    Output(GRIDS["departments"], "columnDefs"),
    Output(GRIDS["districts"], "rowData"),
    Output(GRIDS["districts"], "columnDefs"),
    Output(GRIDS["wuzhi"], "rowData"),
    Output(GRIDS["wuzhi"], "columnDefs"),
    Output(GRIDS["overdue"], "rowData"),
    Output(GRIDS["overdue"], "columnDefs"),
    Output(graph_id("radar"), "figure"),
    Output(graph_id("handling"), "figure"),
    Output(graph_id("grassroots"), "figure"),
    Output(graph_id("mediation"), "figure"),
    Output(graph_id("overdue"), "figure"),
    Output(DISTRICT, "options"),
    Output(TREND_DEPARTMENT, "options"),
    Output(DATES, "style"),
    Input(PERIOD, "value"),
    Input(DATES, "start_date"),
    Input(DATES, "end_date"),
    Input(DISTRICT, "value"),
    Input("shell-lang", "data"),
    Input("shell-theme", "data"),
)
def update_report(period, first, last, district, lang, theme):
    rt = _rt()
    lang = lang_of(lang)
    district = requested_district(district)
    now = utcnow()
    zone = rt.settings.zone
    if period == "custom" and not (first and last):
        return [no_update] * 17 + [{}]  # the days are asked for; nothing to show yet
    try:
        w = view.window(period, first, last, now, zone)
        with rt.sessions() as session:
            r = view.report(session, w, district, now, zone)
            districts = list_areas(session, level="district")
            departments = list_departments(session)
    except InputError as exc:
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return [html.Div(message, className="text-warning"), *[no_update] * 17]
    note = f"{w.first_day:%Y-%m-%d} — {w.last_day:%Y-%m-%d}"
    if r["period"]["running"]:
        note += f" · {t('running_period', lang)}"

    def themed(fig):
        return figures.themed(fig, theme)

    handling = r["handling"]
    overdue = r["overdue"]["by_department"]
    mediation = r["mediation"]
    return [
        card_items(r["cards"], lang),
        note,
        r["departments"],
        board_columns(lang),
        r["districts"],
        board_columns(lang),
        wuzhi_rows(r["wuzhi"], lang),
        wuzhi_columns(lang),
        overdue_rows(r["overdue"]["cases"]),
        overdue_columns(lang),
        themed(
            figures.radars(
                [pick(v, lang) for v in WUZHI_DIMENSIONS.values()],
                [(d["name"], d["values"]) for d in r["wuzhi"]["districts"]],
            )
            if r["wuzhi"]["districts"]
            else figures.empty(t("sv_empty", lang))
        ),
        themed(
            figures.grouped_bars(
                [h["name"] for h in handling],
                {
                    t("mean", lang): [h["mean"] for h in handling],
                    t("median", lang): [h["median"] for h in handling],
                    t("p90", lang): [h["p90"] for h in handling],
                },
                " h",
            )
            if handling
            else figures.empty(t("sv_empty", lang))
        ),
        themed(_grassroots_figure(r["grassroots"], lang)),
        themed(_mediation_figure(mediation, lang)),
        themed(_overdue_figure(overdue, lang)),
        [{"label": d["name"], "value": d["code"]} for d in districts],
        [{"label": d["name"], "value": d["code"]} for d in departments],
        {} if period == "custom" else {"display": "none"},
    ]


def _overdue_figure(rows: list[dict], lang: str) -> dict:
    """Overdue cases per department, each bar saying how old the oldest is."""
    if not rows:
        return figures.empty(t("sv_empty", lang))
    fig = figures.bars([o["department"] for o in rows], [o["n"] for o in rows])
    fig["data"][0]["text"] = [
        t("sv_overdue_bar", lang).format(n=o["n"], days=o["oldest_days"]) for o in rows
    ]
    fig["data"][0]["textposition"] = "outside"
    fig["layout"]["margin"]["r"] = 150
    return fig


def _grassroots_figure(levels: list[dict], lang: str) -> dict:
    if not any(x["n"] for x in levels):
        return figures.empty(t("sv_empty", lang))
    fig = figures.bars(
        [x["name"] if lang == "zh" else x["name_en"] for x in levels],
        [round((x["share"] or 0) * 100, 1) for x in levels],
        fmt="{:.1f}%",
    )
    fig["data"][0]["customdata"] = [x["n"] for x in levels]
    fig["data"][0]["hovertemplate"] = "%{y}: %{x:.1f}% (%{customdata})<extra></extra>"
    return fig


def _mediation_figure(kinds: list[dict], lang: str) -> dict:
    if not any(k["n"] for k in kinds):
        return figures.empty(t("sv_empty", lang))
    labels = [
        f"{k['name'] if lang == 'zh' else k['name_en']} · {t('success_rate', lang)} "
        f"{fmt.rate(k['success_rate'])}"
        for k in kinds
    ]
    fig = figures.bars(labels, [k["n"] for k in kinds])
    fig["layout"]["margin"]["l"] = 230
    return fig


@callback(
    Output(graph_id("trends"), "figure"),
    Input(DISTRICT, "value"),
    Input(TREND_DEPARTMENT, "value"),
    Input("shell-lang", "data"),
    Input("shell-theme", "data"),
)
def update_trends(district, department, lang, theme):
    rt = _rt()
    lang = lang_of(lang)
    district = requested_district(district)
    if department is not None and not isinstance(department, str):
        raise PreventUpdate
    try:
        with rt.sessions() as session:
            series = view.trends(session, utcnow(), rt.settings.zone, district, department or None)
    except InputError:
        raise PreventUpdate from None
    weeks = series["weeks"]
    right = ("rework_rate", "extension_rate")  # a few per cent: on an axis of their own

    def name(key: str) -> str:
        return pick(KPI_NAMES[key], lang) + (t("right_axis", lang) if key in right else "")

    return figures.themed(
        figures.lines(
            [w["week"] for w in weeks],
            {name(k): [w[k] for w in weeks] for k in view.TREND_KEYS},
            right=frozenset(name(k) for k in right),
        ),
        theme,
    )


@callback(
    Output(SEND_RESULT, "children"),
    Output(GRIDS["overdue"], "rowData", allow_duplicate=True),
    Input(SEND, "n_clicks"),
    State(GRIDS["overdue"], "selectedRows"),
    State(SEND_NOTE, "value"),
    State(SEND_HOURS, "value"),
    State(DISTRICT, "value"),
    State("shell-lang", "data"),
    prevent_initial_call=True,
)
def send_supervision(n_clicks, selected, note, hours, district, lang):
    """督办 for the selected overdue cases: one record per case, audit-logged as a batch."""
    lang = lang_of(lang)
    principal = web.current()
    if not n_clicks or principal is None:
        raise PreventUpdate
    if not allowed(principal, "act"):
        return html.Span(t("sv_not_allowed", lang), className="text-warning"), no_update
    district = requested_district(district)
    rows = selected if isinstance(selected, list) else []
    ids = [r.get("id") for r in rows if isinstance(r, dict)]
    rt = _rt()
    now = utcnow()
    try:
        with rt.sessions() as session, session.begin():
            sent = supervisions.supervise(
                session,
                ids,
                principal.actor,
                note,
                hours,
                now,
                web.address(),
                district_id=principal.district_id if principal.scoped else None,
            )
        with rt.sessions() as session:
            scope = area_scope(session, district)
            cases = view.overdue_by_department(session, now, scope)["cases"]
    except InputError as exc:
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return html.Span(message, className="text-warning"), no_update
    text = t("sv_sent", lang).format(n=sent["count"], batch=sent["batch"])
    return html.Span(text, className="text-success"), overdue_rows(cases)


@callback(
    Output(NOTICE_COUNTS, "children"),
    Output(NOTICES, "rowData"),
    Output(NOTICES, "columnDefs"),
    Input(PERIOD, "value"),
    Input(DATES, "start_date"),
    Input(DATES, "end_date"),
    Input(DISTRICT, "value"),
    Input(NOTICE_QUERY, "value"),
    Input("shell-lang", "data"),
)
def update_notices(period, first, last, district, query, lang):
    """工作提示单 counted for the period: issued, done, done by their deadline, open past it, the
    events they covered; and listed, searchable."""
    rt = _rt()
    lang = lang_of(lang)
    district = requested_district(district)
    if query is not None and text_problem(query, 100):
        query = None
    now, zone = utcnow(), rt.settings.zone
    try:
        w = view.window(period, first, last, now, zone)
    except InputError:
        raise PreventUpdate from None
    with rt.sessions() as session:
        district_id = area_by_code(session, district).id if district else None
        counted = notices.counts(session, w.start, w.end, now, district_id)
        rows = risk_view.notice_rows(
            session, zone, now, district_id, None, (query or "").strip() or None, w.start, w.end
        )
    cards = [
        html.Div(
            [
                html.Div(t(f"notices_{key}", lang), className="sv-card-label"),
                html.Div(f"{counted[name]:,}", className="sv-card-value"),
            ],
            className="sv-card",
        )
        for key, name in (
            ("issued", "issued"),
            ("done", "done"),
            ("done_on_time", "done_on_time"),
            ("overdue", "overdue_open"),
            ("events", "events"),
        )
    ]
    shown = [{**r, "status_name": pick(notices.STATUS_LABELS[r["status"]], lang)} for r in rows]
    return cards, shown, noticeform.columns(lang)
