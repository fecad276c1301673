"""事件详情: one incident — every field, the timeline, the stages against their limits, where it
is, related events, its alerts — and the duty actions on it (data: dashboard.views.incident;
actions: dashboard.actions, authorised on the server)."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import actions
from dashboard.i18n import INCIDENT_KINDS, pick, t
from dashboard.views import incident as view
from dashboard.web import current, runtime
from ui import revealed
from ui.page import register_page
from ui.panel import graph, panel

register_page(
    __name__,
    path="/incident",
    path_template="/incident/<source>/<external_id>",
    name="事件详情",
    name_en="Incident",
    nav=False,
    permission="read",
    prefix="incident-",
)

CASE = "incident-case"  # Store: the event id
VERSION = "incident-version"  # Store: bumped by each action, redraws the page
HEAD = "incident-head"
FIELDS = "incident-fields"
STAGES = "incident-stages"
TIMELINE = "incident-timeline"
MAP = "incident-map"
RELATED = "incident-related"
ALERTS = "incident-alerts"
ACTION = "incident-action"
TEXT = "incident-text"
HOURS = "incident-hours"
DEADLINE = "incident-deadline"
DECISION = "incident-decision"
SUBMIT = "incident-submit"
RESULT = "incident-result"
PENDING = "incident-pending"
CONTACT = "incident-contact"
CONTACT_TIMER = "incident-contact-timer"
VIEWPORT = "incident-viewport"
FIELD_ROWS = {  # which inputs each action takes
    "supervise": (TEXT, HOURS),
    "urge": (TEXT, HOURS),
    "escalate": (TEXT,),
    "rework": (TEXT,),
    "note": (TEXT,),
    "extension_request": (TEXT, DEADLINE),
    "extension_decide": (DECISION,),
    "reveal": (TEXT,),
}


def _refused(lang: str, key: str = "not_allowed"):
    return html.Div(t(key, lang), className="page-refused", id="incident-refused")


def action_form(available: list[str], lang: str):
    if not available:
        return html.P(t("inc_no_actions", lang), className="sv-note", id="incident-readonly")
    return html.Div(
        [
            dbc.RadioItems(
                id=ACTION,
                options=[{"label": pick(INCIDENT_KINDS[a], lang), "value": a} for a in available],
                value=available[0],
                inline=True,
                className="inc-actions",
                inputClassName="btn-check",
                labelClassName="btn btn-outline-info btn-sm",
                labelCheckedClassName="active",
            ),
            html.Div(
                [
                    dbc.Textarea(id=TEXT, placeholder=t("inc_text", lang), maxLength=1000, rows=2),
                    dbc.InputGroup(
                        [
                            dbc.InputGroupText(t("inc_reply_hours", lang)),
                            dbc.Input(id=HOURS, type="number", min=1, max=720, value=24),
                        ],
                        id=f"{HOURS}-row",
                    ),
                    dbc.InputGroup(
                        [
                            dbc.InputGroupText(t("inc_deadline", lang)),
                            dbc.Input(id=DEADLINE, type="datetime-local"),
                        ],
                        id=f"{DEADLINE}-row",
                    ),
                    dbc.RadioItems(
                        id=DECISION,
                        options=[
                            {"label": "批准" if lang == "zh" else "Approve", "value": "approve"},
                            {"label": "不批准" if lang == "zh" else "Refuse", "value": "refuse"},
                        ],
                        inline=True,
                    ),
                    dbc.Button(t("inc_submit", lang), id=SUBMIT, color="warning"),
                ],
                className="inc-form",
            ),
            html.Div(id=RESULT, role="status", className="inc-result"),
            html.Div(id=CONTACT, className="inc-contact"),
            revealed.timer(CONTACT_TIMER),
        ]
    )


def layout(lang: str = "zh", source=None, external_id=None, **_kwargs):
    """`/incident/<source>/<external_id>`, or `/incident/id/<number>`."""
    lang = "en" if lang == "en" else "zh"
    principal = current()
    with runtime().sessions() as session:
        e = view.find(session, source, external_id)
        if e is None:
            return _refused(lang, "no_incident")
        if principal.scoped and e.district_id != principal.district_id:
            return _refused(lang)
        case, district = e.id, e.district_id
    available = actions.available(principal, district)
    grid_options = {"suppressCellFocus": True, "domLayout": "autoHeight"}
    return html.Div(
        [
            dcc.Store(id=CASE, data=case),
            dcc.Store(id=VERSION, data=0),
            dcc.Store(id="incident-lang", data=lang),
            dcc.Store(id=VIEWPORT),
            html.Div(id=HEAD, className="inc-head"),
            html.Div(
                [
                    html.Div(
                        [
                            panel("inc_fields", html.Div(id=FIELDS), lang),
                            panel("inc_stages", html.Div(id=STAGES), lang),
                            panel("inc_timeline", html.Ol(id=TIMELINE), lang),
                        ],
                        className="inc-main",
                    ),
                    html.Div(
                        [
                            panel(
                                "inc_actions",
                                [html.Div(id=PENDING), action_form(available, lang)],
                                lang,
                            ),
                            panel(
                                "inc_location",
                                graph(MAP, "34vh"),
                                lang,
                            ),
                            panel("inc_alerts", html.Div(id=ALERTS), lang),
                        ],
                        className="inc-side",
                    ),
                ],
                className="inc-columns",
            ),
            panel(
                "inc_related",
                dag.AgGrid(
                    id=RELATED,
                    rowData=[],
                    columnDefs=[],
                    defaultColDef={"resizable": True, "flex": 1, "minWidth": 90},
                    dashGridOptions=grid_options,
                    className="sv-grid",
                ),
                lang,
            ),
        ],
        className="incident",
        id="incident-page",
    )
