"""人才队伍: headcount against the staffing standard and the grids without a full-time grid worker,
who is on duty now, the grid workers' load, training and certificates, the mediators' cases,
one person laid open, and (admin) the import of the roster, duty roster and training files
(data: dashboard.views.talent; files: dashboard.roster)."""

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.access import ScopeError, allowed, district_for
from dashboard.i18n import t
from dashboard.web import current
from ui import revealed
from ui.page import register_page
from ui.panel import graph, panel
from ui.scope import district_dropdown

register_page(
    __name__,
    path="/talent",
    name="人才队伍",
    name_en="People",
    order=4,
    permission="wall",
    prefix="talent-",
    rotate=True,
)

DISTRICT = "talent-district"
NOTE = "talent-note"
CARDS = "talent-cards"
TICK = "talent-tick"
VIEWPORT = "talent-viewport"  # the screen's size: chart text grows with it
STANDARDS = "talent-standards"  # the staffing standard in words, under the headcount
LANG = "talent-lang"
GRIDS = {
    "posts": "talent-posts",
    "duty": "talent-duty-roles",
    "people": "talent-people",
    "grids": "talent-grids",
    "load_districts": "talent-load-districts",
    "courses": "talent-courses",
    "mediation": "talent-mediation",
}
GRAPHS = ("map", "duty", "load", "training", "certificates")
SEARCH = "talent-search"
SEARCH_GO = "talent-search-go"
PERSON = "talent-person"  # the modal
PERSON_NO = "talent-person-no"  # the staff number it shows
PERSON_BODY = "talent-person-body"
SHOWN = "talent-person-shown"  # the staff number the open card shows
REVEAL_REASON = "talent-reveal-reason"
REVEAL = "talent-reveal"
REVEAL_RESULT = "talent-reveal-result"
REVEAL_TIMER = "talent-reveal-timer"
IMPORT_KIND = "talent-import-kind"
UPLOAD = "talent-upload"
IMPORT_SUMMARY = "talent-import-summary"
IMPORT_PREVIEW = "talent-import-preview"
IMPORT_CONFIRM = "talent-import-confirm"
IMPORT_KINDS = ("staff", "shifts", "training")
UPLOAD_MAX_BYTES = 2_500_000  # as base64 in a callback it stays under the 4 MB body limit


def graph_id(name: str) -> str:
    return f"talent-graph-{name}"


def _grid(grid_id: str, height: str | None = None, row_id: str | None = None):
    """A grid of a fixed height, or (None) as tall as its rows; `row_id`: the field a click
    names its row by."""
    opts = {"animateRows": False, "suppressCellFocus": True}
    if height is None:
        opts["domLayout"] = "autoHeight"
    extra = {"getRowId": f"params.data.{row_id}"} if row_id else {}
    return dag.AgGrid(
        id=grid_id,
        **extra,
        rowData=[],
        columnDefs=[],
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "flex": 1,
            "minWidth": 70,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions=opts,
        className="sv-grid",
        style={"height": height} if height else {},
    )


def _person_modal(lang: str, may_reveal: bool):
    reveal = (  # only for a role that may see personal data (the callback checks again)
        html.Div(
            [
                dbc.Input(id=REVEAL_REASON, placeholder=t("tl_reveal_reason", lang), maxLength=200),
                dbc.Button(t("tl_reveal", lang), id=REVEAL, color="warning"),
            ],
            className="tl-reveal",
        )
        if may_reveal
        else None
    )
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(t("tl_person", lang))),
            dbc.ModalBody(
                [
                    html.Div(id=PERSON_BODY),
                    reveal,
                    html.Div(id=REVEAL_RESULT, role="status"),
                    revealed.timer(REVEAL_TIMER),
                ]
            ),
        ],
        id=PERSON,
        size="xl",
        is_open=False,
        scrollable=True,
    )


def _import_panel(lang: str):
    return panel(
        "tl_import",
        [
            html.P(t("tl_import_help", lang), className="sv-note"),
            html.Div(
                [
                    dbc.RadioItems(
                        id=IMPORT_KIND,
                        options=[
                            {"label": t(f"tl_kind_{k}", lang), "value": k} for k in IMPORT_KINDS
                        ],
                        value="staff",
                        inline=True,
                    ),
                    dcc.Upload(
                        id=UPLOAD,
                        children=html.Div(t("tl_upload", lang)),
                        accept=".csv,.xlsx",
                        max_size=UPLOAD_MAX_BYTES,
                        className="tl-upload",
                    ),
                    dbc.Button(
                        t("tl_import_confirm", lang),
                        id=IMPORT_CONFIRM,
                        color="primary",
                        disabled=True,
                    ),
                ],
                className="tl-import-controls",
            ),
            html.Div(id=IMPORT_SUMMARY, role="status"),
            _grid(IMPORT_PREVIEW, "30vh"),
        ],
        lang,
        panel_id="talent-import-panel",
    )


def layout(lang: str = "zh", district=None, staff=None, **_kwargs):
    """`?district=<code>` opens a district; `?staff=<staff number>` opens one person."""
    lang = "en" if lang == "en" else "zh"
    principal = current()
    try:
        district = district_for(principal, district) if principal else None
    except ScopeError:
        return html.Div(t("not_allowed", lang), className="page-refused", id="talent-refused")
    controls = html.Div(
        [
            district_dropdown(DISTRICT, district, principal, lang),
            dbc.InputGroup(
                [
                    dbc.Input(id=SEARCH, placeholder=t("tl_search", lang), maxLength=32),
                    dbc.Button(t("tl_open", lang), id=SEARCH_GO, color="secondary"),
                ],
                className="tl-search",
            ),
            html.Div(id=NOTE, className="sv-note"),
        ],
        className="sv-controls",
    )
    body = [
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=PERSON_NO, data=staff if isinstance(staff, str) else None),
        dcc.Store(id=SHOWN),
        dcc.Store(id=VIEWPORT),
        dcc.Interval(id=TICK, interval=60_000),
        controls,
        html.Div(id=CARDS, className="sv-cards"),
        html.Div(
            [
                panel(
                    "tl_posts",
                    [_grid(GRIDS["posts"]), html.Div(id=STANDARDS, className="sv-note")],
                    lang,
                ),
                panel("tl_map", graph(graph_id("map"), "44vh"), lang),
            ],
            className="sv-row sv-row-even",
        ),
        html.Div(
            [
                panel("tl_duty", graph(graph_id("duty"), "34vh"), lang),
                panel("tl_duty_roles", _grid(GRIDS["duty"]), lang),
                panel("tl_load_districts", _grid(GRIDS["load_districts"]), lang),
            ],
            className="sv-row sv-row-3",
        ),
        html.Div(
            [
                panel("tl_load", graph(graph_id("load"), "34vh"), lang),
                panel("tl_people", _grid(GRIDS["people"], "34vh", row_id="staff_no"), lang),
                panel("tl_grids", _grid(GRIDS["grids"], "34vh"), lang),
            ],
            className="sv-row sv-row-3",
        ),
        html.Div(
            [
                panel("tl_training", graph(graph_id("training"), "32vh"), lang),
                panel("tl_certificates", graph(graph_id("certificates"), "32vh"), lang),
                panel("tl_courses", _grid(GRIDS["courses"], "32vh"), lang),
            ],
            className="sv-row sv-row-3",
        ),
        panel("tl_mediation", _grid(GRIDS["mediation"]), lang),
        _person_modal(lang, allowed(principal, "reveal")),
    ]
    if allowed(principal, "admin"):
        body.append(_import_panel(lang))
    return html.Div(body, className="supervision talent", id="talent-page")
