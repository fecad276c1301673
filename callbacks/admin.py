"""Administration callbacks: users, tokens, the audit log. Each one checks the admin
permission again (the gate checks it first); changes go through dashboard.auth, which audits
them, and the grids come from dashboard.views.admin."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate
from flask import current_app, request

from dashboard import auth, kpisettings, risk, web
from dashboard.access import allowed
from dashboard.clock import utcnow
from dashboard.i18n import t
from dashboard.schemas import InputError
from dashboard.views import admin
from pages.admin import kpi_columns


def _admin():
    principal = web.current()
    if not allowed(principal, "admin"):
        raise PreventUpdate
    return principal


def _rt():
    return current_app.extensions["dashboard"]


def _notice(text, colour: str = "success", secret: str | None = None):
    body = [html.Span(text)]
    if secret:
        body.append(html.Code(secret, className="admin-secret ms-2", id="admin-secret"))
    return dbc.Alert(body, color=colour, className="py-2")


def _selected(rows, key: str):
    if (
        not rows
        or not isinstance(rows, list)
        or not isinstance(rows[0], dict)
        or key not in rows[0]
    ):
        raise auth.AccountError("select a row first / 请先选择一行")
    return rows[0][key]


def _text(value) -> str:
    """A form value as text (a crafted request may send anything)."""
    return value if isinstance(value, str) else ""


@callback(
    Output("admin-user-grid", "rowData"),
    Output("admin-user-result", "children"),
    Output("admin-user-area", "options"),
    Input("admin-user-page", "id"),
    Input("admin-user-create", "n_clicks"),
    Input("admin-user-deactivate", "n_clicks"),
    Input("admin-user-activate", "n_clicks"),
    Input("admin-user-reset", "n_clicks"),
    Input("admin-user-setrole", "n_clicks"),
    State("admin-user-name", "value"),
    State("admin-user-role", "value"),
    State("admin-user-area", "value"),
    State("admin-user-grid", "selectedRows"),
    State("admin-lang", "data"),
)
def users(_page, _c, _d, _a, _r, _s, name, role, area, selected, lang):
    principal = _admin()
    lang = lang or "zh"
    action = ctx.triggered_id
    notice = None
    rt = _rt()
    try:
        with rt.sessions() as session, session.begin():
            if action == "admin-user-create":
                user, password = auth.create_user(
                    session, _text(name), _text(role), _text(area) or None, actor=principal.actor
                )
                notice = _notice(f"{t('user_created', lang)}: {user.username}", secret=password)
            elif action in ("admin-user-deactivate", "admin-user-activate"):
                username = _text(_selected(selected, "username"))
                if username == principal.name and action == "admin-user-deactivate":
                    raise auth.AccountError("you cannot deactivate yourself / 不能停用自己")
                auth.set_active(session, username, action == "admin-user-activate", principal.actor)
                notice = _notice(f"{t('saved', lang)}: {username}")
            elif action == "admin-user-reset":
                username = _text(_selected(selected, "username"))
                password = auth.reset_password(session, username, principal.actor)
                notice = _notice(f"{t('password_reset', lang)}: {username}", secret=password)
            elif action == "admin-user-setrole":
                username = _text(_selected(selected, "username"))
                auth.set_role(session, username, _text(role), _text(area) or None, principal.actor)
                notice = _notice(f"{t('saved', lang)}: {username} → {role}")
    except auth.AccountError as exc:
        notice = _notice(str(exc), "danger")
    with rt.sessions() as session:
        rows = admin.users(session, rt.settings.zone, lang)
        districts = admin.district_choices(session)
    return rows, notice, [{"label": f"{n} ({c})", "value": c} for c, n in districts]


@callback(
    Output("admin-token-grid", "rowData"),
    Output("admin-token-result", "children"),
    Input("admin-token-page", "id"),
    Input("admin-token-create", "n_clicks"),
    Input("admin-token-revoke", "n_clicks"),
    State("admin-token-name", "value"),
    State("admin-token-kind", "value"),
    State("admin-token-source", "value"),
    State("admin-token-grid", "selectedRows"),
    State("admin-lang", "data"),
)
def tokens(_page, _c, _r, name, kind, source, selected, lang):
    principal = _admin()
    lang = lang or "zh"
    action = ctx.triggered_id
    notice = None
    rt = _rt()
    try:
        with rt.sessions() as session, session.begin():
            if action == "admin-token-create":
                name = _text(name).strip()
                if not name or len(name) > 100:
                    raise auth.AccountError("name: 1–100 characters / 名称 1–100 个字符")
                kind = _text(kind) or "display"
                token = auth.create_token(
                    session, name, kind, _text(source) or None, actor=principal.actor
                )
                shown = f"{request.host_url}?token={token}" if kind == "display" else token
                notice = _notice(f"{t('token_created', lang)}: {name}", secret=shown)
            elif action == "admin-token-revoke":
                token_id = _selected(selected, "id")
                if not isinstance(token_id, int) or not auth.revoke_token_id(
                    session, token_id, principal.actor
                ):
                    raise auth.AccountError("already revoked / 已撤销")
                notice = _notice(f"{t('revoked', lang)}: #{token_id}")
    except auth.AccountError as exc:
        notice = _notice(str(exc), "danger")
    with rt.sessions() as session:
        return admin.tokens(session, rt.settings.zone), notice


def _refused(error: InputError, kind: str, lang: str):
    """The fields a save was refused for, by the names people read."""
    names = {k: kpisettings.name(kind, k, lang) for k in kpisettings.DEFAULTS.get(kind, ())}
    return _notice(
        [
            t("setting_rejected", lang),
            html.Ul([html.Li(f"{names.get(k, k)}: {v}") for k, v in error.errors.items()]),
        ],
        "danger",
    )


@callback(
    Output("admin-kpi-grid", "rowData"),
    Output("admin-kpi-grid", "columnDefs"),
    Output("admin-kpi-versions", "rowData"),
    Output("admin-kpi-result", "children"),
    Input("admin-kpi-page", "id"),
    Input("admin-kpi-kind", "value"),
    Input("admin-kpi-save", "n_clicks"),
    State("admin-kpi-grid", "rowData"),
    State("admin-kpi-from", "date"),
    State("admin-kpi-note", "value"),
    State("admin-lang", "data"),
)
def kpi_settings(_page, kind, _save, rows, start, note, lang):
    """考核配置: the values of one kind in force now (editable), and its versions; Save makes the
    edited values a new version from the chosen day (or now), audit-logged."""
    principal = _admin()
    lang = "en" if lang == "en" else "zh"
    kind = _text(kind) if _text(kind) in kpisettings.DEFAULTS else "composite_weights"
    rt, now, notice = _rt(), utcnow(), None
    if ctx.triggered_id == "admin-kpi-save":
        try:
            with rt.sessions() as session, session.begin():
                if not _text(note).strip():
                    raise InputError({"note": "required: why the settings change"})
                row = kpisettings.save(
                    session,
                    kind,
                    admin.edited_values(rows),
                    principal.actor,
                    now,
                    admin.effective_from(start, rt.settings.zone, now),
                    _text(note),
                )
                saved = admin.version_rows(session, kind, now, rt.settings.zone, lang)
                at = next(v["effective_from"] for v in saved if v["id"] == row.id)
                text = t("setting_saved", lang).format(id=row.id, at=at)
                notice = _notice(text)
        except InputError as exc:
            notice = _refused(exc, kind, lang)
    with rt.sessions() as session:
        editor = admin.setting_rows(session, kind, now, lang)
        versions = admin.version_rows(session, kind, now, rt.settings.zone, lang)
    return editor, kpi_columns(kind, lang), versions, notice


@callback(
    Output("admin-kpi-sum", "children"),
    Input("admin-kpi-grid", "rowData"),
    Input("admin-kpi-grid", "cellValueChanged"),
    State("admin-kpi-kind", "value"),
    State("admin-lang", "data"),
)
def kpi_weights_sum(rows, _changed, kind, lang):
    """What the edited weights add up to (they count as shares of it)."""
    _admin()
    if not _text(kind).endswith("_weights") or not isinstance(rows, list):
        return ""
    values = [r.get("value") for r in rows if isinstance(r, dict)]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return ""
    return t("weights_sum", "en" if lang == "en" else "zh").format(total=sum(values))


@callback(
    Output("admin-audit-grid", "rowData"),
    Output("admin-audit-count", "children"),
    Input("admin-audit-page", "id"),
    Input("admin-audit-text", "value"),
    Input("admin-audit-action", "value"),
    Input("admin-audit-dates", "start_date"),
    Input("admin-audit-dates", "end_date"),
    State("admin-lang", "data"),
)
def audit_log(_page, text, action, start, end, lang):
    _admin()
    zone = _rt().settings.zone
    try:
        filters = admin.audit_filters(text, action, start, end, zone)
    except auth.AccountError as exc:
        return [], str(exc)
    with _rt().sessions() as session:
        rows = admin.audit_rows(session, zone, filters)  # the CSV export keeps UTC
    return rows, t("audit_shown", lang or "zh").format(n=len(rows))


@callback(
    Output("admin-audit-download", "data"),
    Input("admin-audit-export", "n_clicks"),
    State("admin-audit-text", "value"),
    State("admin-audit-action", "value"),
    State("admin-audit-dates", "start_date"),
    State("admin-audit-dates", "end_date"),
    prevent_initial_call=True,
)
def audit_export(_n, text, action, start, end):
    principal = _admin()
    try:
        filters = admin.audit_filters(text, action, start, end, _rt().settings.zone)
    except auth.AccountError:
        raise PreventUpdate from None  # the grid already says why
    described = f"text={text or ''} action={action or ''} from={start or ''} to={end or ''}"
    with _rt().sessions() as session, session.begin():
        csv = admin.audit_csv(session, filters, principal.actor, web.address(), described)
    return dcc.send_string(csv, "audit-log.csv")


@callback(
    Output("admin-rule-grid", "rowData"),
    Output("admin-rule-result", "children"),
    Input("admin-rule-page", "id"),
    Input("admin-rule-save", "n_clicks"),
    State("admin-rule-grid", "selectedRows"),
    State("admin-rule-enabled", "value"),
    State("admin-rule-params", "value"),
    State("admin-lang", "data"),
)
def rules(_page, _save, selected, enabled, params, lang):
    """The rules; saving the selected one's switch and parameters (dashboard.risk.update_rule)."""
    principal = _admin()
    lang = lang or "zh"
    rt = _rt()
    notice = None
    if ctx.triggered_id == "admin-rule-save":
        try:
            key = _selected(selected, "key")
            with rt.sessions() as session, session.begin():
                risk.update_rule(
                    session, key, enabled, params, principal.actor, utcnow(), web.address()
                )
            notice = _notice(f"{t('saved', lang)}: {key}")
        except auth.AccountError as exc:
            notice = _notice(str(exc), "danger")
        except InputError as exc:
            notice = _notice("; ".join(f"{k}: {v}" for k, v in exc.errors.items()), "danger")
    with rt.sessions() as session:
        rows = admin.rule_rows(session, rt.settings.zone)
    return rows, notice


@callback(
    Output("admin-rule-enabled", "value"),
    Output("admin-rule-params", "value"),
    Input("admin-rule-grid", "selectedRows"),
    prevent_initial_call=True,
)
def rule_picked(selected):
    _admin()
    try:
        key = _selected(selected, "key")
    except auth.AccountError:
        raise PreventUpdate from None
    with _rt().sessions() as session:
        found = admin.rule_editor(session, key)
    if found is None:
        raise PreventUpdate
    return found
