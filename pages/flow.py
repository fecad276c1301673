"""事件流转: the event loop for the filters in the URL — the funnel 受理 → 立案 → 派遣 → 处置 → 结案,
the flow source → category → department → outcome, throughput against the same hours last week,
the backlog's age, where events are stuck — and the event list, paged on the server, with its
export. Every chart element filters the page (data: dashboard.views.flow)."""

from __future__ import annotations

from dataclasses import replace

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from sqlalchemy import select

from dashboard.access import allowed
from dashboard.domain import SEVERITY_LABELS, SOURCE_LABELS, STATUS_LABELS
from dashboard.i18n import pick, t
from dashboard.models import Category, Department
from dashboard.schemas import InputError
from dashboard.views import flow
from dashboard.web import current, runtime
from ui import noticeform
from ui.eventlist import columns
from ui.page import register_page
from ui.panel import graph, panel

register_page(
    __name__,
    path="/flow",
    name="事件流转",
    name_en="Event flow",
    order=1,
    permission="wall",
    prefix="flow-",
    rotate=True,
)

RANGE = "flow-range"
DATES = "flow-dates"
AREA = "flow-area"  # Store: the area code (None: the city)
CRUMBS = "flow-crumbs"
AREA_PICK = "flow-area-pick"
CATEGORY = "flow-category"
SOURCE = "flow-source"
DEPARTMENT = "flow-department"
STATUS = "flow-status"
SEVERITY = "flow-severity"
FLAGS = "flow-flags"
QUERY = "flow-query"  # Store: the filters as a URL query (the page's state)
NOTE = "flow-note"
RESET = "flow-reset"
STUCK = "flow-stuck"
GRID_BOX = "flow-grid-box"
GRID = "flow-grid"
EXPORTS = "flow-exports"
COUNT = "flow-count"  # how many events the filters select
REFRESH = "flow-refresh"
CRUMB = "flow-crumb"  # pattern-matching id type of the breadcrumb's buttons
VIEWPORT = "flow-viewport"  # the screen's size: chart text scales with it
NOTICE = noticeform.ids("flow-")  # 工作提示单 covering the picked or filtered events
NOTICE_OPEN = "flow-notice-open"
NOTICE_BOX = "flow-notice-box"


def graph_id(name: str) -> str:
    return f"flow-graph-{name}"


def grid(lang: str) -> dag.AgGrid:
    """The event list: rows fetched a block at a time (the infinite row model); a new grid
    for new filters, so that no block of the old filters is kept."""
    return dag.AgGrid(
        id=GRID,
        rowModelType="infinite",
        columnDefs=columns(lang, sortable=True),
        defaultColDef={"resizable": True, "flex": 1, "minWidth": 80, "sortable": False},
        dashGridOptions={
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
            "infiniteInitialRowCount": 1,
            "suppressCellFocus": True,
            "tooltipShowDelay": 300,
            # ticked rows are what a work notice covers
            "rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": False},
            "localeText": {
                "noRowsToShow": "没有符合条件的事件" if lang == "zh" else "No events match"
            },
        },
        className="sv-grid flow-grid",
        style={"height": "60vh"},
        getRowId="params.data.id",
    )


def options(lang: str) -> dict:
    """The choices of the filter bar, from the reference tables."""
    with runtime().sessions() as session:
        cats = session.execute(
            select(Category.code, Category.name, Category.parent_id, Category.id).order_by(
                Category.code
            )
        ).all()
        depts = session.execute(
            select(Department.code, Department.name).order_by(Department.code)
        ).all()
    parents = {i: name for _c, name, parent, i in cats if parent is None}
    return {
        CATEGORY: [
            {
                "label": name if parent is None else f"{parents.get(parent, '')} / {name}",
                "value": code,
            }
            for code, name, parent, _i in cats
        ],
        DEPARTMENT: [{"label": name, "value": code} for code, name in depts],
        SOURCE: [{"label": pick(v, lang), "value": k} for k, v in SOURCE_LABELS.items()],
        STATUS: [{"label": pick(v, lang), "value": k} for k, v in STATUS_LABELS.items()],
        SEVERITY: [{"label": pick(v, lang), "value": k} for k, v in SEVERITY_LABELS.items()],
    }


def _dropdown(cid: str, value, placeholder: str, choices: list) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=cid, options=choices, value=value, placeholder=placeholder, className="flow-pick"
    )


def layout(lang: str = "zh", **query):
    """The filters come from the URL (a link, a bookmark, the wall's rotation)."""
    lang = "en" if lang == "en" else "zh"
    principal = current()
    note = None
    try:
        f = flow.parse(query)
    except InputError as exc:
        f = flow.Filters()
        note = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    if principal is not None and principal.scoped and not f.area:
        f = replace(f, area=principal.district_code)
    may_act = allowed(principal, "act")
    scope = principal.district_id if principal is not None and principal.scoped else None
    choices = options(lang)
    zh = lang == "zh"
    ranges = [{"label": t(f"flow_range_{r}", lang), "value": r} for r in flow.RANGES]
    flags = [{"label": t(f"flow_flag_{x}", lang), "value": x} for x in flow.FLAGS]
    bar = html.Div(
        [
            html.Div(
                [
                    dbc.RadioItems(
                        id=RANGE, options=ranges, value=f.range, inline=True, className="sv-periods"
                    ),
                    dcc.DatePickerRange(
                        id=DATES,
                        display_format="YYYY-MM-DD",
                        start_date=f.start.isoformat() if f.start else None,
                        end_date=f.end.isoformat() if f.end else None,
                        className="sv-dates",
                    ),
                    dbc.Button(
                        t("flow_reset", lang), id=RESET, color="secondary", outline=True, size="sm"
                    ),
                ],
                className="flow-row",
            ),
            html.Div(
                [
                    html.Nav(id=CRUMBS, className="flow-crumbs", **{"aria-label": "breadcrumb"}),
                    dcc.Dropdown(
                        id=AREA_PICK, placeholder=t("flow_area_down", lang), className="flow-pick"
                    ),
                    _dropdown(CATEGORY, f.category, t("col_category", lang), choices[CATEGORY]),
                    _dropdown(SOURCE, f.source, t("col_source", lang), choices[SOURCE]),
                    _dropdown(
                        DEPARTMENT, f.department, t("col_department", lang), choices[DEPARTMENT]
                    ),
                    _dropdown(STATUS, f.status, t("col_status", lang), choices[STATUS]),
                    _dropdown(SEVERITY, f.severity, t("col_severity", lang), choices[SEVERITY]),
                    dbc.Checklist(
                        id=FLAGS,
                        options=flags,
                        value=[x for x in flow.FLAGS if getattr(f, x)],
                        inline=True,
                        switch=True,
                        className="flow-flags",
                    ),
                ],
                className="flow-row",
            ),
            html.Div(note, id=NOTE, className="sv-note", role="status"),
        ],
        className="flow-bar",
    )
    return html.Div(
        [
            dcc.Store(id="flow-lang", data=lang),
            dcc.Store(id=VIEWPORT),
            dcc.Store(id=AREA, data=f.area),
            dcc.Store(id=QUERY, data=flow.to_query(f)),
            dcc.Interval(id=REFRESH, interval=60_000),
            bar,
            html.Div(
                [
                    panel(
                        "flow_funnel",
                        graph(graph_id("funnel"), "30vh"),
                        lang,
                    ),
                    panel(
                        "flow_sankey",
                        graph(graph_id("sankey"), "30vh"),
                        lang,
                    ),
                ],
                className="sv-row",
            ),
            html.Div(
                [
                    panel(
                        "flow_throughput",
                        graph(graph_id("throughput"), "28vh"),
                        lang,
                    ),
                    panel(
                        "flow_ageing",
                        graph(graph_id("ageing"), "28vh"),
                        lang,
                    ),
                    panel(
                        "flow_stuck",
                        dag.AgGrid(
                            id=STUCK,
                            rowData=[],
                            columnDefs=[],
                            defaultColDef={"resizable": True, "flex": 1, "minWidth": 70},
                            dashGridOptions={
                                "suppressCellFocus": True,
                                "localeText": {"noRowsToShow": "没有积压" if zh else "No backlog"},
                            },
                            className="sv-grid",
                            style={"height": "28vh"},
                        ),
                        lang,
                    ),
                ],
                className="sv-row sv-row-3",
            ),
            panel(
                "flow_list",
                [
                    dbc.Collapse(
                        [
                            html.P(t("flow_notice_help", lang), className="sv-note"),
                            noticeform.form("flow-", lang, noticeform.targets(scope)),
                        ],
                        id=NOTICE_BOX,
                        is_open=False,
                        className="flow-notice",
                    ),
                    html.Div(id=GRID_BOX, children=grid(lang)),
                ],
                lang,
                html.Div(
                    [
                        html.Span(id=COUNT, className="flow-count"),
                        html.Div(id=EXPORTS, className="flow-exports"),
                        dbc.Button(
                            t("risk_notice_new", lang),
                            id=NOTICE_OPEN,
                            color="danger",
                            outline=True,
                            size="sm",
                            className=None if may_act else "d-none",
                        ),
                    ],
                    className="flow-list-head",
                ),
            ),
        ],
        className="supervision flow",
        id="flow-page",
    )
