"""督办考核: a period's KPIs for the city or a district against the previous period and the
targets; the 红黑榜; overdue cases and batch 督办; trends; handling times; 就地化解 and 三调联动;
the 五治融合指数 laid open (data: dashboard.views.supervision)."""

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.access import ScopeError, allowed, district_for
from dashboard.i18n import t
from dashboard.views.supervision import PERIODS
from dashboard.web import current
from ui import noticeform
from ui.page import register_page
from ui.panel import graph
from ui.panel import panel as _panel
from ui.scope import district_dropdown

register_page(
    __name__,
    path="/supervision",
    name="督办考核",
    name_en="Supervision",
    order=2,
    permission="wall",
    prefix="supervision-",
    rotate=True,
)

PERIOD = "supervision-period"
DATES = "supervision-dates"
DISTRICT = "supervision-district"
TREND_DEPARTMENT = "supervision-trend-department"
CARDS = "supervision-cards"
NOTE = "supervision-period-note"
GRIDS = {
    "departments": "supervision-board-departments",
    "districts": "supervision-board-districts",
    "wuzhi": "supervision-wuzhi-table",
    "overdue": "supervision-overdue-cases",
}
GRAPHS = ["trends", "handling", "grassroots", "mediation", "radar", "overdue"]
SEND = "supervision-send"
SEND_NOTE = "supervision-send-note"
SEND_HOURS = "supervision-send-hours"
SEND_RESULT = "supervision-send-result"
NOTICES = "supervision-notices"  # the period's 工作提示单
NOTICE_COUNTS = "supervision-notice-counts"
NOTICE_QUERY = "supervision-notice-query"


def graph_id(name: str) -> str:
    return f"supervision-graph-{name}"


def _graph(name: str, height: str = "34vh"):
    return graph(graph_id(name), height)


def _grid(grid_id: str, height: str | None, multi: bool = False):
    """A grid of a fixed height, or (None) as tall as its rows (the short boards)."""
    options = {"animateRows": False, "suppressCellFocus": True}
    if height is None:
        options["domLayout"] = "autoHeight"
    if multi:
        options["rowSelection"] = {"mode": "multiRow", "headerCheckbox": True}
    return dag.AgGrid(
        id=grid_id,
        rowData=[],
        columnDefs=[],
        defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 80},
        dashGridOptions=options,
        className="sv-grid",
        style={"height": height} if height else {},
    )


def layout(lang: str = "zh", period=None, district=None, start=None, end=None, **_kwargs):
    """`?period=last_week&district=<code>` (or period=custom&start=…&end=…) open a view."""
    lang = "en" if lang == "en" else "zh"
    principal = current()
    try:
        district = district_for(principal, district) if principal else None
    except ScopeError:
        return html.Div(t("not_allowed", lang), className="page-refused", id="supervision-refused")
    period = period if period in PERIODS else "this_week"
    controls = html.Div(
        [
            dbc.RadioItems(
                id=PERIOD,
                options=[{"label": t(f"period_{p}", lang), "value": p} for p in PERIODS],
                value=period,
                inline=True,
                className="sv-periods",
            ),
            dcc.DatePickerRange(
                id=DATES,
                display_format="YYYY-MM-DD",
                start_date=start if isinstance(start, str) else None,
                end_date=end if isinstance(end, str) else None,
                className="sv-dates",
            ),
            district_dropdown(DISTRICT, district, principal, lang),
            html.Div(id=NOTE, className="sv-note"),
        ],
        className="sv-controls",
    )
    may_act = allowed(principal, "act")
    send = html.Div(
        [
            dbc.Input(id=SEND_NOTE, placeholder=t("sv_note", lang), maxLength=500),
            dbc.InputGroup(
                [
                    dbc.InputGroupText(t("sv_reply_hours", lang)),
                    dbc.Input(id=SEND_HOURS, type="number", min=1, max=720, value=24),
                ],
                className="sv-hours",
            ),
            dbc.Button(t("sv_supervise", lang), id=SEND, color="warning", disabled=not may_act),
        ],
        className="sv-send",
    )  # fmt: skip
    return html.Div(
        [
            dcc.Store(id="supervision-lang", data=lang),
            controls,
            html.Div(id=CARDS, className="sv-cards"),
            _panel("sv_board_departments", _grid(GRIDS["departments"], None), lang),
            _panel("sv_board_districts", _grid(GRIDS["districts"], None), lang),
            html.Div(
                [
                    _panel("sv_wuzhi", _graph("radar", "40vh"), lang),
                    _panel("sv_wuzhi_table", _grid(GRIDS["wuzhi"], "40vh"), lang),
                ],
                className="sv-row sv-row-even",
            ),
            html.Div(
                [
                    _panel(
                        "sv_trends",
                        _graph("trends"),
                        lang,
                        dcc.Dropdown(
                            id=TREND_DEPARTMENT,
                            placeholder=t("sv_all_departments", lang),
                            className="sv-trend-department",
                        ),
                    ),
                    _panel("sv_handling", _graph("handling"), lang),
                ],
                className="sv-row",
            ),
            html.Div(
                [
                    _panel("sv_grassroots", _graph("grassroots", "32vh"), lang),
                    _panel("sv_mediation", _graph("mediation", "32vh"), lang),
                    _panel("sv_overdue", _graph("overdue", "32vh"), lang),
                ],
                className="sv-row sv-row-3",
            ),
            _panel(
                "sv_overdue_cases",
                [
                    send,
                    html.Div(id=SEND_RESULT, role="status"),
                    _grid(GRIDS["overdue"], "46vh", multi=True),
                ],
                lang,
            ),
            _panel(
                "sv_notices",
                [
                    html.Div(id=NOTICE_COUNTS, className="sv-cards"),
                    _grid(NOTICES, "34vh"),
                ],
                lang,
                noticeform.search(NOTICE_QUERY, lang),
            ),
        ],
        className="supervision",
        id="supervision-page",
    )
