"""周例会: one ISO week (last week by default) against the week before (环比) and the same week a
year before (同比): totals and rates, sources, 高发问题, the 红黑榜 of departments and districts,
alerts and work notices, disputes, staffing, the 五治 index — and the 通报 written from them,
edited before it is issued, downloadable as a workbook (data: dashboard.weekly)."""

from datetime import timedelta

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import weekly
from dashboard.access import allowed
from dashboard.clock import utcnow
from dashboard.i18n import t
from dashboard.web import current, settings
from ui.page import register_page
from ui.panel import graph, panel

register_page(
    __name__,
    path="/weekly",
    name="周例会",
    name_en="Weekly meeting",
    order=5,
    permission="wall",
    prefix="weekly-",
    rotate=False,  # a meeting's page, not the wall's
)

WEEK = "weekly-week"
LANG = "weekly-lang"
NOTE = "weekly-note"
CARDS = "weekly-cards"
DOWNLOAD = "weekly-download"
DOWNLOAD_PDF = "weekly-download-pdf"
BULLETIN = "weekly-bulletin"
BULLETIN_STATE = "weekly-bulletin-state"
SAVE = "weekly-save"
SAVE_RESULT = "weekly-save-result"
KEPT = "weekly-kept"
MEETING = "weekly-meeting"  # the link to the meeting room's view  # the reports the Monday job kept
GRIDS = {
    "departments": "weekly-board-departments",
    "districts": "weekly-board-districts",
    "carried": "weekly-carried",
    "mediation": "weekly-mediation",
    "wuzhi": "weekly-wuzhi",
}
GRAPHS = ("sources", "problems")
WEEKS_LISTED = 26


def graph_id(name: str) -> str:
    return f"weekly-graph-{name}"


def week_options(lang: str) -> list[dict]:
    """The last WEEKS_LISTED whole weeks, newest first, with their days."""
    zone = settings().zone
    last = weekly.last_week(utcnow(), zone)
    out = []
    for k in range(WEEKS_LISTED):
        w = weekly.containing(last.monday - timedelta(weeks=k), zone)
        span = f"{w.monday:%m-%d}–{w.sunday:%m-%d}"
        out.append(
            {
                "label": f"{w.label}（{span}）" if lang == "zh" else f"{w.label} ({span})",
                "value": w.label,
            }
        )
    return out


def _grid(grid_id: str, no_rows: str):
    return dag.AgGrid(
        id=grid_id,
        rowData=[],
        columnDefs=[],
        defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 70},
        dashGridOptions={
            "animateRows": False,
            "suppressCellFocus": True,
            "domLayout": "autoHeight",
            "localeText": {"noRowsToShow": no_rows},
        },
        className="sv-grid",
    )


def layout(lang: str = "zh", week=None, meeting=None, **_kwargs):
    """`?week=2026-W47` opens a week (default: last week); `?meeting=1` the meeting room's
    view (with `&theme=light&kiosk=1` from its link): a section per screen, large type, paged
    with the arrow, Page and space keys."""
    lang = "en" if lang == "en" else "zh"
    principal = current()
    options = week_options(lang)
    chosen = week if isinstance(week, str) and weekly.WEEK_TEXT.match(week) else options[0]["value"]
    if chosen not in {o["value"] for o in options}:
        options.append({"label": chosen, "value": chosen})
    may_edit = allowed(principal, "act") or allowed(principal, "admin")
    in_meeting = meeting == "1"
    button = "btn btn-outline-info"
    controls = html.Div(
        [
            dcc.Dropdown(
                id=WEEK, options=options, value=chosen, clearable=False, className="wk-week"
            ),
            html.A(t("wk_download", lang), id=DOWNLOAD, href="#", className=button),
            html.A(t("wk_download_pdf", lang), id=DOWNLOAD_PDF, href="#", className=button),
            html.A(
                t("wk_meeting", lang),
                id=MEETING,
                href=f"/weekly?week={chosen}&meeting=1&theme=light&kiosk=1",
                className=button,
            ),
            html.Div(id=NOTE, className="sv-note"),
        ],
        className="sv-controls",
    )
    editor = [
        dcc.Textarea(id=BULLETIN, className="wk-bulletin", readOnly=in_meeting or not may_edit),
        html.Div(
            [
                dbc.Button(t("wk_save", lang), id=SAVE, color="primary", disabled=not may_edit),
                html.Span(id=BULLETIN_STATE, className="sv-note"),
                html.Span(id=SAVE_RESULT, role="status"),
            ],
            className="wk-save",
        ),
    ]
    charts = html.Div(
        [
            panel("wk_sources", graph(graph_id("sources"), "58vh" if in_meeting else "34vh"), lang),
            panel(
                "wk_problems", graph(graph_id("problems"), "58vh" if in_meeting else "34vh"), lang
            ),
        ],
        className="sv-row sv-row-even",
    )
    boards = html.Div(
        [
            panel("wk_departments", _grid(GRIDS["departments"], t("wk_no_board", lang)), lang),
            panel("wk_districts", _grid(GRIDS["districts"], t("wk_no_board", lang)), lang),
        ],
        className="sv-row sv-row-even",
    )
    more = html.Div(
        [
            panel("wk_carried", _grid(GRIDS["carried"], t("wk_none_carried", lang)), lang),
            panel("wk_mediation", _grid(GRIDS["mediation"], t("wk_empty", lang)), lang),
            panel("wk_wuzhi", _grid(GRIDS["wuzhi"], t("wk_empty", lang)), lang),
        ],
        className="sv-row sv-row-3",
    )
    store = dcc.Store(id=LANG, data=lang)
    if in_meeting:  # a section per screen; the controls stay (the week is read from them)
        title = html.H1(f"{t('wk_title', lang)} {chosen}", className="wk-meeting-title")
        slides = [
            [title, html.Div(id=CARDS, className="sv-cards")],
            [charts],
            [boards],
            [more],
            [panel("wk_bulletin", editor, lang)],
        ]
        return html.Div(
            [
                store,
                html.Div(controls, hidden=True),
                *(html.Section(body, className="wk-slide") for body in slides),
                html.Ul(id=KEPT, hidden=True),
            ],
            className="supervision weekly wk-meeting",
            id="weekly-page",
        )
    return html.Div(
        [
            store,
            controls,
            html.Div(id=CARDS, className="sv-cards"),
            charts,
            boards,
            more,
            panel("wk_bulletin", editor, lang),
            panel("wk_kept", html.Ul(id=KEPT, className="wk-kept"), lang),
        ],
        className="supervision weekly",
        id="weekly-page",
    )
