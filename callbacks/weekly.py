"""周例会 callbacks: the week in, the figures (dashboard.weekly) out as cards, charts and the
红黑榜, the 通报 (as edited, else as generated) in its editor; an edit kept by those who may
act (checked here again; the gate checks the page first)."""

from __future__ import annotations

from dash import Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import fmt, reports, web, weekly
from dashboard.access import allowed
from dashboard.clock import utcnow
from dashboard.i18n import KPI_NAMES, pick, t
from dashboard.schemas import InputError
from pages.weekly import (
    BULLETIN,
    BULLETIN_STATE,
    CARDS,
    DOWNLOAD,
    DOWNLOAD_PDF,
    GRIDS,
    KEPT,
    LANG,
    NOTE,
    SAVE,
    SAVE_RESULT,
    WEEK,
    graph_id,
)
from ui import figures
from ui.scope import lang_of

# The cards, in reading order: (figure, is a rate, higher is better)
CARDS_SHOWN = (
    ("received", False, None),
    ("accepted", False, None),
    ("closed", False, None),
    ("closing_rate", True, True),
    ("on_time_closing_rate", True, True),
    ("satisfaction_rate", True, True),
    ("composite_score", False, True),
    ("overdue_open", False, False),
    ("repeat_rate", True, False),
    ("grassroots_resolution_rate", True, True),
    ("mediation_success_rate", True, True),
    ("wuzhi_index", False, True),
)
NAMES = {
    "accepted": ("立案", "Accepted"),
    "closed": ("结案", "Closed"),
    "wuzhi_index": ("五治融合指数", "Five-governance index"),
}


def _value(key: str, value, rate: bool, lang: str) -> str:
    if value is None:
        return "—"
    if rate:
        return fmt.rate(value)
    if key in ("composite_score", "wuzhi_index"):
        return f"{value:.1f}"
    return fmt.count(value, lang)


def _compare(label: str, key: str, now, before, rate: bool, better) -> html.Span:
    text = weekly.change(now, before, rate, points=key in weekly.POINTS)
    if better is None or text in ("无可比数据", "持平"):
        cls = ""
    else:
        cls = "sv-better" if (now > before) == better else "sv-worse"
    return html.Span(f"{label}{text}", className=cls)


def card_items(f: dict, lang: str) -> list:
    here, before, year_ago = f["here"], f["previous"], f["year_ago"] or {}
    out = []
    for key, rate, better in CARDS_SHOWN:
        name = pick(NAMES.get(key) or KPI_NAMES[key], lang)
        foot = [_compare(t("wk_wow", lang), key, here[key], before[key], rate, better)]
        if f["year_ago"]:
            foot.append(
                _compare(t("wk_yoy", lang), key, here[key], year_ago.get(key), rate, better)
            )
        out.append(
            html.Div(
                [
                    html.Div(name, className="sv-card-label"),
                    html.Div(_value(key, here[key], rate, lang), className="sv-card-value"),
                    html.Div(foot, className="sv-card-foot"),
                ],
                className="sv-card",
                id=f"weekly-card-{key}",
            )
        )
    return out


def board_columns(lang: str) -> list[dict]:
    return [
        {"field": "rank", "headerName": t("col_rank", lang), "maxWidth": 90},
        {"field": "name", "headerName": t("col_name", lang), "flex": 2},
        {
            "field": "score",
            "headerName": t("col_score", lang),
            "valueFormatter": {"function": "d3.format('.1f')(params.value)"},
        },
    ]


FORMATS = {
    "success_rate": {"function": "params.value == null ? '—' : d3.format('.1%')(params.value)"},
    "here": {"function": "params.value == null ? '—' : d3.format('.1f')(params.value)"},
    "previous": {"function": "params.value == null ? '—' : d3.format('.1f')(params.value)"},
}


def columns(lang: str, *fields: tuple[str, str]) -> list[dict]:
    """Grid columns of (field, label key), numbers formatted where they need it."""
    return [
        {"field": f, "headerName": t(label, lang)}
        | ({"valueFormatter": FORMATS[f]} if f in FORMATS else {})
        for f, label in fields
    ]


def sources_figure(rows: list[dict], lang: str) -> dict:
    if not rows:
        return figures.empty(t("wk_empty", lang))
    return figures.donut([r["name"] for r in rows], [r["n"] for r in rows])


def problems_figure(rows: list[dict], lang: str) -> dict:
    if not rows:
        return figures.empty(t("wk_empty", lang))
    return figures.bars([r["name"] for r in rows], [r["n"] for r in rows])


def _week(value):
    rt = web.runtime()
    try:
        return weekly.parse(value, rt.settings.zone)
    except InputError:
        raise PreventUpdate from None


@callback(
    Output(CARDS, "children"),
    Output(NOTE, "children"),
    Output(graph_id("sources"), "figure"),
    Output(graph_id("problems"), "figure"),
    Output(GRIDS["departments"], "rowData"),
    Output(GRIDS["departments"], "columnDefs"),
    Output(GRIDS["districts"], "rowData"),
    Output(GRIDS["districts"], "columnDefs"),
    Output(GRIDS["carried"], "rowData"),
    Output(GRIDS["carried"], "columnDefs"),
    Output(GRIDS["mediation"], "rowData"),
    Output(GRIDS["mediation"], "columnDefs"),
    Output(GRIDS["wuzhi"], "rowData"),
    Output(GRIDS["wuzhi"], "columnDefs"),
    Output(BULLETIN, "value"),
    Output(BULLETIN_STATE, "children"),
    Output(DOWNLOAD, "href"),
    Output(DOWNLOAD_PDF, "href"),
    Output(KEPT, "children"),
    Input(WEEK, "value"),
    Input("shell-lang", "data"),
    Input("shell-theme", "data"),
)
def update_page(week, lang, theme):
    lang = lang_of(lang)
    if web.current() is None:
        raise PreventUpdate
    w = _week(week)
    rt = web.runtime()
    with rt.sessions() as session:
        try:
            f = weekly.figures(session, w, utcnow(), rt.settings.zone, rt.settings.staffing)
        except InputError:  # a week that has not begun (a crafted request): nothing
            raise PreventUpdate from None
        generated = weekly.bulletin(f, rt.settings.city_name)
        text, edited = weekly.bulletin_text(session, w, generated)
        saved = weekly.saved_bulletin(session, w)
        kept = reports.kept_reports(session)
        state = (
            t("wk_edited", lang).format(
                who=saved.edited_by, at=fmt.clock(saved.edited_at, rt.settings.zone, lang)
            )
            if edited and saved is not None
            else t("wk_generated", lang)
        )
    note = f"{f['first_day']} — {f['last_day']}"
    if f["running"]:
        note += f" · {t('running_period', lang)}"
    if f["year_ago"] is None:
        note += f" · {t('wk_no_year_ago', lang)}"

    def themed(fig):
        return figures.themed(fig, theme)

    return [
        card_items(f, lang),
        note,
        themed(sources_figure(f["sources"], lang)),
        themed(problems_figure(f["top_subcategories"], lang)),
        f["departments"],
        board_columns(lang),
        f["districts"],
        board_columns(lang),
        f["carried_over"]["cases"],
        columns(
            lang,
            ("case", "tl_col_grid_case"),
            ("department", "col_department"),
            ("overdue_days", "col_overdue_days"),
        ),
        f["mediation"],
        columns(lang, ("name", "wk_col_kind"), ("n", "wk_col_n"), ("success_rate", "success_rate")),
        f["wuzhi"],
        columns(
            lang,
            ("name", "col_dimension"),
            ("here", "wk_col_this_week"),
            ("previous", "wk_col_last_week"),
        ),
        text,
        state,
        f"/api/v1/reports/weekly/{w.label}.xlsx",
        f"/api/v1/reports/weekly/{w.label}.pdf",
        kept_items(kept, rt.settings.zone, lang),
    ]


def kept_items(kept: list[dict], zone, lang: str) -> list:
    """A line per kept report: its week, when it was made, its files."""
    if not kept:
        return [html.Li(t("wk_none_kept", lang))]
    out = []
    for r in kept:
        links = [html.A("Excel", href=f"/api/v1/reports/weekly/{r['week']}/kept.xlsx")]
        if r["has_pdf"]:
            links += [" · ", html.A("PDF", href=f"/api/v1/reports/weekly/{r['week']}/kept.pdf")]
        made = fmt.clock(r["generated_at"], zone, lang)
        out.append(html.Li([html.Strong(r["week"]), f" · {t('wk_made', lang)} {made} · ", *links]))
    return out


@callback(
    Output(SAVE_RESULT, "children"),
    Output(BULLETIN_STATE, "children", allow_duplicate=True),
    Input(SAVE, "n_clicks"),
    State(BULLETIN, "value"),
    State(WEEK, "value"),
    State(LANG, "data"),
    prevent_initial_call=True,
)
def save(n, text, week, lang):
    """The edited 通报 kept for the week (the generated text beside it); audit-logged."""
    lang = lang_of(lang)
    principal = web.current()
    if not n or principal is None:
        raise PreventUpdate
    if not (allowed(principal, "act") or allowed(principal, "admin")):
        return html.Span(t("not_allowed", lang), className="inc-error"), no_update
    w = _week(week)
    rt = web.runtime()
    try:
        with rt.sessions() as session, session.begin():
            f = weekly.figures(session, w, utcnow(), rt.settings.zone, rt.settings.staffing)
            generated = weekly.bulletin(f, rt.settings.city_name)
            row = weekly.save_bulletin(session, w, text, generated, principal.actor, web.address())
            state = t("wk_edited", lang).format(
                who=row.edited_by, at=fmt.clock(row.edited_at, rt.settings.zone, lang)
            )
    except InputError as exc:
        return html.Span("; ".join(exc.errors.values()), className="inc-error"), no_update
    return html.Span(t("wk_saved", lang), className="inc-done"), state
