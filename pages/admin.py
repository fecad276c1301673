"""系统管理: users and roles, API and display tokens, the audit log (admin only: the gate refuses
these pages and their callbacks to every other role, and the layouts check it again)."""

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.access import PERMISSIONS
from dashboard.domain import SOURCES
from dashboard.i18n import t
from ui.page import register_page

ADMIN_PAGES = (("/admin/users", "admin_users"), ("/admin/tokens", "admin_tokens"), ("/admin/audit", "admin_audit"))  # fmt: skip
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


def _grid(grid_id: str, columns: list[str], lang: str) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        columnDefs=[{"field": c, "headerName": t(f"col_{c}", lang)} for c in columns],
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "flex": 1},
        dashGridOptions={"rowSelection": {"mode": "singleRow"}, "animateRows": False},
        className="admin-grid",
        style={"height": "58vh"},
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
    "admin_audit",
    path="/admin/audit",
    name="审计日志",
    name_en="Audit log",
    nav=False,
    permission="admin",
    prefix="admin-audit-",
    layout=audit_layout,
)
