"""系统管理: users and roles, API and display tokens, the audit log (admin only: the gate refuses
these pages and their callbacks to every other role, and the layouts check it again)."""

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import kpisettings
from dashboard.access import PERMISSIONS
from dashboard.domain import SOURCES
from dashboard.i18n import t
from ui.page import register_page

ADMIN_PAGES = (("/admin/users", "admin_users"), ("/admin/tokens", "admin_tokens"),
               ("/admin/kpi", "admin_kpi"), ("/admin/rules", "admin_rules"),
               ("/admin/audit", "admin_audit"))  # fmt: skip
ROLE_CHOICES = [r for r in PERMISSIONS if r != "display"]


def _subnav(lang: str, active: str) -> dbc.Nav:
    return dbc.Nav(
        [
            dbc.NavItem(dbc.NavLink(t(key, lang), href=path, active=path == active))
            for path, key in ADMIN_PAGES
        ],
        pills=True,
        className="admin-nav mb-3",
    )


def _grid(
    grid_id: str,
    columns: list[str],
    lang: str,
    column_defs: list[dict] | None = None,
    height: str = "58vh",
    selectable: bool = True,
) -> dag.AgGrid:
    options: dict = {"animateRows": False, "localeText": {"noRowsToShow": t("no_rows", lang)}}
    if selectable:
        options["rowSelection"] = {"mode": "singleRow"}
    if height == "auto":  # every row shown: the grid as tall as its rows
        options["domLayout"] = "autoHeight"
    return dag.AgGrid(
        id=grid_id,
        columnDefs=column_defs
        or [{"field": c, "headerName": t(f"col_{c}", lang)} for c in columns],
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "flex": 1},
        dashGridOptions=options,
        className="admin-grid",
        style={} if height == "auto" else {"height": height},
    )


def _page(page_id: str, lang: str, path: str, body: list) -> html.Div:
    return html.Div(
        [dcc.Store(id="admin-lang", data=lang), _subnav(lang, path), *body],
        id=page_id,
        className="admin-page",
    )


def users_layout(lang: str = "zh", **_kwargs):
    lang = "en" if lang == "en" else "zh"
    form = dbc.Row(
        [
            dbc.Col(dbc.Input(id="admin-user-name", placeholder=t("username", lang), maxLength=64)),
            dbc.Col(
                dcc.Dropdown(
                    id="admin-user-role",
                    options=[{"label": t(f"role_{r}", lang), "value": r} for r in ROLE_CHOICES],
                    placeholder=t("col_role", lang),
                )
            ),
            dbc.Col(dcc.Dropdown(id="admin-user-area", placeholder=t("col_area", lang))),
            dbc.Col(dbc.Button(t("create_user", lang), id="admin-user-create"), width="auto"),
        ],
        className="g-2 mb-2",
    )
    actions = html.Div(
        [
            dbc.Button(t("deactivate", lang), id="admin-user-deactivate", color="secondary"),
            dbc.Button(t("activate", lang), id="admin-user-activate", color="secondary"),
            dbc.Button(t("reset_password", lang), id="admin-user-reset", color="warning"),
            dbc.Button(t("change_role", lang), id="admin-user-setrole", color="secondary"),
        ],
        className="d-flex gap-2 mb-2",
    )
    return _page(
        "admin-user-page",
        lang,
        "/admin/users",
        [
            form,
            actions,
            html.Div(id="admin-user-result", role="status"),
            _grid("admin-user-grid", ["username", "role", "area", "active", "created_at"], lang),
        ],
    )


def tokens_layout(lang: str = "zh", **_kwargs):
    lang = "en" if lang == "en" else "zh"
    form = dbc.Row(
        [
            dbc.Col(
                dbc.Input(id="admin-token-name", placeholder=t("col_name", lang), maxLength=100)
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="admin-token-kind",
                    options=[
                        {"label": t(f"kind_{k}", lang), "value": k} for k in ("display", "ingest")
                    ],
                    value="display",
                    clearable=False,
                )
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="admin-token-source",
                    options=[{"label": s, "value": s} for s in SOURCES],
                    placeholder=t("col_source", lang),
                )
            ),
            dbc.Col(dbc.Button(t("create_token", lang), id="admin-token-create"), width="auto"),
            dbc.Col(
                dbc.Button(t("revoke", lang), id="admin-token-revoke", color="danger"), width="auto"
            ),
        ],
        className="g-2 mb-2",
    )
    return _page(
        "admin-token-page",
        lang,
        "/admin/tokens",
        [
            form,
            html.Div(id="admin-token-result", role="status"),
            _grid(
                "admin-token-grid",
                ["id", "name", "kind", "source", "created_at", "revoked_at"],
                lang,
            ),
        ],
    )


def kpi_columns(kind: str, lang: str) -> list[dict]:
    """The editor's columns for a kind of settings (the 五治 dimension only for indicators)."""
    dimension = [{"field": "group", "headerName": t("col_group", lang)}]
    return [
        {"field": "name", "headerName": t("col_name", lang), "flex": 2},
        *(dimension if kind == "wuzhi_targets" else []),
        {"field": "unit", "headerName": t("col_unit", lang)},
        {"field": "default", "headerName": t("col_default", lang)},
        {"field": "in_force", "headerName": t("col_in_force", lang)},
        {
            "field": "value",
            "headerName": t("col_new_value", lang),
            "editable": True,
            "cellEditor": "agNumberCellEditor",
            "cellClass": "admin-editable",
        },
    ]


def kpi_layout(lang: str = "zh", **_kwargs):
    """考核配置: edit one kind of KPI settings in a grid and save it as a new version."""
    lang = "en" if lang == "en" else "zh"
    form = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id="admin-kpi-kind",
                    options=[
                        {"label": kpisettings.LABELS[k][lang == "en"], "value": k}
                        for k in kpisettings.DEFAULTS
                    ],
                    value="composite_weights",
                    clearable=False,
                ),
                md=3,
            ),
            dbc.Col(
                dcc.DatePickerSingle(
                    id="admin-kpi-from",
                    display_format="YYYY-MM-DD",
                    placeholder=t("effective_now", lang),
                    clearable=True,
                ),
                md=3,
            ),
            dbc.Col(
                dbc.Input(
                    id="admin-kpi-note", placeholder=t("kpi_settings_note", lang), maxLength=500
                )
            ),
            dbc.Col(dbc.Button(t("save_version", lang), id="admin-kpi-save"), width="auto"),
        ],
        className="g-2 mb-2",
    )
    versions = [
        {"field": c, "headerName": t(f"col_{c}", lang)}
        for c in ("id", "effective_from", "status", "actor", "changes", "note", "created_at")
    ]
    versions[4] |= {"flex": 4, "wrapText": True, "autoHeight": True}
    return _page(
        "admin-kpi-page",
        lang,
        "/admin/kpi",
        [
            html.P(t("kpi_settings_help", lang), className="text-secondary mb-2"),
            form,
            html.Div(id="admin-kpi-result", role="status"),
            _grid(
                "admin-kpi-grid",
                [],
                lang,
                kpi_columns("composite_weights", lang),
                height="auto",
                selectable=False,
            ),
            html.Div(id="admin-kpi-sum", className="text-secondary my-1"),
            html.H2(t("setting_versions", lang), className="admin-heading"),
            _grid("admin-kpi-versions", [], lang, versions, height="30vh", selectable=False),
        ],
    )


def rules_layout(lang: str = "zh", **_kwargs):
    """预警规则: each risk rule switched on or off, its thresholds edited as JSON (checked
    against its family's settings, audited)."""
    lang = "en" if lang == "en" else "zh"
    columns = [
        {"field": "key", "headerName": t("col_rule", lang)},
        {"field": "family", "headerName": t("risk_family", lang)},
        {"field": "name", "headerName": t("col_name", lang), "flex": 2},
        {"field": "enabled", "headerName": t("col_enabled", lang)},
        {"field": "updated", "headerName": t("col_updated", lang), "flex": 2},
    ]
    editor = html.Div(
        [
            dbc.Switch(id="admin-rule-enabled", label=t("col_enabled", lang), value=True),
            dbc.Textarea(
                id="admin-rule-params",
                rows=12,
                maxLength=20000,
                className="admin-rule-params",
                spellCheck=False,
            ),
            dbc.Button(t("save", lang), id="admin-rule-save", className="mt-2"),
        ],
        className="mb-2",
    )
    return _page(
        "admin-rule-page",
        lang,
        "/admin/rules",
        [
            html.P(t("rules_help", lang), className="text-secondary mb-2"),
            _grid("admin-rule-grid", [], lang, columns, height="34vh"),
            html.Div(id="admin-rule-result", role="status"),
            editor,
        ],
    )


def audit_layout(lang: str = "zh", **_kwargs):
    lang = "en" if lang == "en" else "zh"
    filters = dbc.Row(
        [
            dbc.Col(dbc.Input(id="admin-audit-text", placeholder=t("search", lang), debounce=True)),
            dbc.Col(
                dcc.Dropdown(
                    id="admin-audit-action",
                    options=[
                        {"label": a, "value": a}
                        for a in (
                            "login",
                            "logout",
                            "password",
                            "user",
                            "token",
                            "alert",
                            "pii",
                            "export",
                            "audit",
                            "kpi_settings",
                            "supervision",
                            "rule",
                            "notice",
                        )
                    ],
                    placeholder=t("col_action", lang),
                )
            ),
            dbc.Col(dcc.DatePickerRange(id="admin-audit-dates", display_format="YYYY-MM-DD")),
            dbc.Col(dbc.Button(t("export_csv", lang), id="admin-audit-export"), width="auto"),
        ],
        className="g-2 mb-2",
    )
    return _page(
        "admin-audit-page",
        lang,
        "/admin/audit",
        [
            filters,
            dcc.Download(id="admin-audit-download"),
            html.Div(id="admin-audit-count", className="text-secondary mb-1"),
            _grid(
                "admin-audit-grid", ["at", "actor", "action", "target", "detail", "address"], lang
            ),
        ],
    )


register_page(
    "admin_users",
    path="/admin/users",
    name="系统管理",
    name_en="Administration",
    order=9,
    permission="admin",
    prefix="admin-user-",
    layout=users_layout,
)
register_page(
    "admin_tokens",
    path="/admin/tokens",
    name="令牌",
    name_en="Tokens",
    nav=False,
    permission="admin",
    prefix="admin-token-",
    layout=tokens_layout,
)
register_page(
    "admin_kpi",
    path="/admin/kpi",
    name="考核配置",
    name_en="KPI settings",
    nav=False,
    permission="admin",
    prefix="admin-kpi-",
    layout=kpi_layout,
)
register_page(
    "admin_rules",
    path="/admin/rules",
    name="预警规则",
    name_en="Risk rules",
    nav=False,
    permission="admin",
    prefix="admin-rule-",
    layout=rules_layout,
)
register_page(
    "admin_audit",
    path="/admin/audit",
    name="审计日志",
    name_en="Audit log",
    nav=False,
    permission="admin",
    prefix="admin-audit-",
    layout=audit_layout,
)
