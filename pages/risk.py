"""风险预警: the open alerts by level, red first, as cards; one alert's evidence (its series against
the same hours of the last weeks), the events it was raised on and its history; the actions on
it and the 工作提示单 that answers a whole class of complaints; risk heat by area, dispute
hotspots, alert history and how fast alerts were taken up and ended; the notices and their
replies (data: dashboard.views.risk; actions: dashboard.alerts and dashboard.notices, authorised
on the server)."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import alerts
from dashboard.access import allowed
from dashboard.i18n import ALERT_LEVELS, RULE_FAMILIES, pick, t
from dashboard.views import risk as view
from dashboard.web import current
from ui import noticeform
from ui.page import register_page
from ui.panel import graph, panel

register_page(
    __name__,
    path="/risk",
    name="风险预警",
    name_en="Risk alerts",
    order=3,
    permission="wall",
    prefix="risk-",
    rotate=True,
)

LANG = "risk-lang"
VIEWPORT = "risk-viewport"
SELECTED = "risk-selected"  # Store: the alert shown in detail
VERSION = "risk-version"  # Store: bumped by each action, redraws what it changed
REFRESH = "risk-refresh"
LEVEL = "risk-level"
FAMILY = "risk-family"
PERIOD = "risk-period"
SUMMARY = "risk-summary"
CARDS = "risk-cards"
CARD = "risk-card"  # pattern-matching id type of a card
DETAIL = "risk-detail"
EVIDENCE = "risk-evidence"
EVENTS = "risk-events"
HISTORY_ONE = "risk-history-one"
ACTION = "risk-action"
NOTE = "risk-note"
ASSIGNEE = "risk-assignee"
DEPARTMENT = "risk-department"
SUBMIT = "risk-submit"
RESULT = "risk-result"
NOTICE = noticeform.ids("risk-")  # the work notice's form
HEAT = "risk-heat"
HOTSPOTS = "risk-hotspots"
TIMES = "risk-times"
HISTORY = "risk-history"
NOTICES = "risk-notices"
NOTICE_QUERY = "risk-notice-query"
NOTICE_PICK = "risk-notice-pick"
NOTICE_OUTCOME = "risk-notice-outcome"
NOTICE_ACCEPT = "risk-notice-accept"
NOTICE_RETURN = "risk-notice-return"
NOTICE_DECIDED = "risk-notice-decided"
SOUND = "risk-sound"
SEEN = "risk-seen"  # Store: the red and orange alerts already announced
ALARM = "risk-alarm"  # Store: the open red and orange alerts (the sound compares them)
ACT_FORM = "risk-act-form"


def _id(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**31 else None


def act_form(lang: str, targets: dict):
    """The actions on the alert shown, and the work notice answering it."""
    zh = lang == "zh"
    depts = [{"label": name, "value": code} for code, name in targets["departments"]]
    return html.Div(
        [
            dbc.RadioItems(
                id=ACTION,
                options=[
                    {"label": pick(alerts.ACTION_LABELS[a], lang), "value": a}
                    for a in alerts.ACTIONS
                ],
                value="ack",
                inline=True,
                className="inc-actions",
                inputClassName="btn-check",
                labelClassName="btn btn-outline-info btn-sm",
                labelCheckedClassName="active",
            ),
            html.Div(
                [
                    dbc.Input(id=NOTE, placeholder=t("risk_note", lang), maxLength=2000),
                    dbc.Input(id=ASSIGNEE, placeholder=t("risk_assignee", lang), maxLength=100),
                    dcc.Dropdown(
                        id=DEPARTMENT,
                        options=depts,
                        placeholder=t("risk_notice_dept", lang),
                        className="flow-pick",
                    ),
                    dbc.Button(t("inc_submit", lang), id=SUBMIT, color="warning", size="sm"),
                ],
                className="risk-form-row",
            ),
            html.Div(id=RESULT, role="status", className="inc-result"),
            html.H3(t("risk_notice_new", lang), className="risk-sub"),
            noticeform.form("risk-", lang, targets),
            html.P(
                "下发后，覆盖的事件在办结时一并处置完成。"
                if zh
                else "Once the notice is accepted as done, the cases it covers are resolved.",
                className="sv-note",
            ),
        ],
        id=ACT_FORM,
    )


def _grid(cid: str, empty: str, height: str, **options) -> dag.AgGrid:
    return dag.AgGrid(
        id=cid,
        getRowId="params.data.id",
        rowData=[],
        columnDefs=[],
        defaultColDef={"resizable": True, "flex": 1, "minWidth": 80, "sortable": True},
        dashGridOptions={
            "suppressCellFocus": True,
            "localeText": {"noRowsToShow": empty},
            **options,
        },
        className="sv-grid",
        style={"height": height},
    )


def layout(lang: str = "zh", alert=None, level=None, family=None, kiosk=None, **_kwargs):
    """`/risk?alert=<id>&level=1..4&family=surge|…`; the filters are choices, never trusted."""
    lang = "en" if lang == "en" else "zh"
    zh = lang == "zh"
    principal = current()
    may_act = allowed(principal, "act")
    level = _id(level) if _id(level) in (1, 2, 3, 4) else None
    family = family if family in view.FAMILIES else None
    scope = principal.district_id if principal is not None and principal.scoped else None
    targets = noticeform.targets(scope)
    bar = html.Div(
        [
            dbc.RadioItems(
                id=LEVEL,
                options=[{"label": t("risk_all_levels", lang), "value": 0}]
                + [{"label": pick(ALERT_LEVELS[k], lang), "value": k} for k in (1, 2, 3, 4)],
                value=level or 0,
                inline=True,
                className="sv-periods",
            ),
            dcc.Dropdown(
                id=FAMILY,
                options=[{"label": pick(v, lang), "value": k} for k, v in RULE_FAMILIES.items()],
                value=family,
                placeholder=t("risk_family", lang),
                className="flow-pick",
            ),
            dbc.RadioItems(
                id=PERIOD,
                options=[
                    {"label": ("近" + k[:-1] + "天") if zh else f"{k[:-1]} days", "value": k}
                    for k in view.PERIODS
                ],
                value="30d",
                inline=True,
                className="sv-periods",
            ),
            dbc.Switch(
                id=SOUND,
                label=t("risk_sound", lang),
                value=False,
                persistence=True,
                className="risk-sound" + (" d-none" if kiosk or not may_act else ""),
            ),
        ],
        className="risk-bar",
    )
    detail_body = [
        html.Div(id=DETAIL, children=html.P(t("risk_pick", lang), className="sv-note")),
        graph(EVIDENCE, "26vh"),
        # The forms are there for every role (their callbacks always have their components);
        # hidden from those who may not act, and refused on the server whatever is sent.
        html.P(
            t("risk_read_only", lang),
            className="sv-note" + (" d-none" if may_act else ""),
            id="risk-readonly",
        ),
        html.Div(act_form(lang, targets), className=None if may_act else "d-none"),
        html.H3(t("risk_events", lang), className="risk-sub"),
        _grid(EVENTS, t("risk_no_events", lang), "26vh"),
        html.H3(t("risk_history_one", lang), className="risk-sub"),
        html.Ol(id=HISTORY_ONE, className="risk-history-one"),
    ]
    decide = html.Div(
        [
            dcc.Dropdown(id=NOTICE_PICK, placeholder=t("risk_decide", lang), className="flow-pick"),
            dbc.Input(id=NOTICE_OUTCOME, placeholder=t("risk_outcome", lang), maxLength=2000),
            dbc.Button(t("risk_accept", lang), id=NOTICE_ACCEPT, color="success", size="sm"),
            dbc.Button(t("risk_return", lang), id=NOTICE_RETURN, color="secondary", size="sm"),
            html.Div(id=NOTICE_DECIDED, role="status", className="inc-result"),
        ],
        className="risk-form-row" + ("" if may_act else " d-none"),
    )
    return html.Div(
        [
            dcc.Store(id=LANG, data=lang),
            dcc.Store(id=VIEWPORT),
            dcc.Store(id=SELECTED, data=_id(alert)),
            dcc.Store(id=VERSION, data=0),
            dcc.Store(id=SEEN, data=None),
            dcc.Store(id=ALARM, data=None),
            dcc.Interval(id=REFRESH, interval=30_000),
            bar,
            html.Div(id=SUMMARY, className="risk-summary"),
            html.Div(
                [
                    panel(
                        "risk_active",
                        html.Div(id=CARDS, className="risk-cards"),
                        lang,
                        panel_id="risk-active-panel",
                    ),
                    panel("risk_detail", detail_body, lang, panel_id="risk-detail-panel"),
                ],
                className="risk-columns",
            ),
            html.Div(
                [
                    panel(
                        "risk_heat",
                        graph(HEAT, "34vh"),
                        lang,
                    ),
                    panel(
                        "risk_hotspots",
                        graph(HOTSPOTS, "34vh"),
                        lang,
                    ),
                    panel("risk_times", html.Div(id=TIMES), lang),
                ],
                className="sv-row sv-row-3",
            ),
            panel("risk_history", _grid(HISTORY, t("risk_no_history", lang), "34vh"), lang),
            panel(
                "risk_notices",
                [_grid(NOTICES, t("risk_no_notices", lang), "30vh"), decide],
                lang,
                noticeform.search(NOTICE_QUERY, lang),
            ),
        ],
        className="supervision risk",
        id="risk-page",
    )
