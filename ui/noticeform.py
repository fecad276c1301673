"""The 工作提示单 form, as 风险预警 (answering an alert) and 事件流转 (covering picked or filtered
events) show it, and its submission: authorised by permission here and by district scope in
dashboard.notices, which checks every field."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import notices, web
from dashboard.access import ScopeError, allowed
from dashboard.clock import to_utc_naive, utcnow
from dashboard.i18n import t
from dashboard.schemas import ConflictError, InputError
from dashboard.views import risk as view
from ui.scope import callback_scope

FIELDS = ("title", "body", "dept", "street", "deadline")


def ids(prefix: str) -> dict[str, str]:
    """The form's component ids under a page's prefix ("risk-", "flow-")."""
    names = {name: f"{prefix}notice-{name}" for name in FIELDS}
    return names | {"issue": f"{prefix}notice-issue", "result": f"{prefix}notice-result"}


def targets(district_id: int | None) -> dict:
    """The departments and streets a notice may go to (dashboard.views.risk.notice_targets)."""
    with web.runtime().sessions() as session:
        return view.notice_targets(session, district_id)


def form(prefix: str, lang: str, targets: dict):
    """Title, what is asked, the department and/or street it goes to, the deadline; issue.
    `targets`: as `targets()` gives them."""
    names = ids(prefix)
    depts = [{"label": name, "value": code} for code, name in targets["departments"]]
    streets = [{"label": name, "value": code} for code, name in targets["streets"]]
    return html.Div(
        [
            dbc.Input(id=names["title"], placeholder=t("risk_notice_title", lang), maxLength=200),
            dbc.Textarea(
                id=names["body"], placeholder=t("risk_notice_body", lang), maxLength=4000, rows=2
            ),
            html.Div(
                [
                    dcc.Dropdown(
                        id=names["dept"],
                        options=depts,
                        placeholder=t("risk_notice_dept", lang),
                        className="flow-pick",
                    ),
                    dcc.Dropdown(
                        id=names["street"],
                        options=streets,
                        placeholder=t("risk_notice_street", lang),
                        className="flow-pick",
                    ),
                    dbc.InputGroup(
                        [
                            dbc.InputGroupText(t("risk_notice_deadline", lang)),
                            dbc.Input(id=names["deadline"], type="datetime-local"),
                        ]
                    ),
                    dbc.Button(
                        t("risk_notice_issue", lang), id=names["issue"], color="danger", size="sm"
                    ),
                ],
                className="risk-form-row",
            ),
            html.Div(id=names["result"], role="status", className="inc-result"),
        ],
        className="risk-notice-form",
    )


def search(cid: str, lang: str) -> dbc.Input:
    """The notice list's search box (number, title, text)."""
    return dbc.Input(
        id=cid,
        placeholder=t("risk_search", lang),
        maxLength=100,
        debounce=True,
        size="sm",
        className="risk-search",
    )


def problem(exc: Exception) -> html.Span:
    """What a refused action says: each bad field, or the refusal's message."""
    if isinstance(exc, InputError):
        text = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    else:
        text = str(getattr(exc, "message", exc))
    return html.Span(text, className="inc-error")


def _deadline(value, zone) -> datetime:
    if not isinstance(value, str) or not 10 <= len(value) <= 32 or "\x00" in value:
        raise InputError({"deadline": "a local time as YYYY-MM-DD HH:MM"})
    try:
        return to_utc_naive(datetime.fromisoformat(value.strip()), zone)
    except ValueError:
        raise InputError({"deadline": "a local time as YYYY-MM-DD HH:MM"}) from None


def submit(values: list, covers, lang: str) -> tuple[html.Span, bool]:
    """Issue a notice from the form's values (in FIELDS order) covering `covers` — a callable
    given (session, district_id) that returns {"alert_id": …} or {"event_ids": […]}. Returns
    the message to show and whether a notice was issued."""
    rt = web.runtime()
    principal, district_id = callback_scope()
    title, body, department, street, deadline = values
    try:
        if not allowed(principal, "act"):
            raise ScopeError("your role may not issue work notices")
        fields = {
            "title": title,
            "body": body,
            "department": department,
            "street": street,
            "deadline": _deadline(deadline, rt.settings.zone),
        }
        with rt.sessions() as session, session.begin():
            fields |= covers(session, district_id)
            done = notices.issue(
                session, principal.actor, fields, utcnow(), district_id, web.address()
            )
            number, covered = done.notice.number, done.events
    except (InputError, ConflictError, ScopeError) as exc:
        return problem(exc), False
    rt.live.bump_quietly()
    text = (
        f"已下发工作提示单 {number}，覆盖 {covered} 件事件"
        if lang == "zh"
        else f"Work notice {number} issued, covering {covered} events"
    )
    return html.Span(text, className="inc-done", id=f"notice-done-{number}"), True


def columns(lang: str) -> list[dict]:
    """The notice list's columns (风险预警, 督办考核)."""
    return [
        {"field": "number", "headerName": "编号" if lang == "zh" else "No.", "minWidth": 100},
        {
            "field": "title",
            "headerName": t("risk_notice_title", lang),
            "flex": 2,
            "tooltipField": "title",
        },
        {"field": "to", "headerName": t("risk_notice_dept", lang), "minWidth": 120},
        {"field": "status_name", "headerName": t("risk_state", lang), "minWidth": 80},
        {
            "field": "deadline_local",
            "headerName": t("risk_notice_deadline", lang),
            "minWidth": 140,
            "cellClassRules": {"ev-overdue": {"function": "params.data && params.data.late"}},
        },
        {"field": "events", "headerName": t("risk_notice_covers", lang), "minWidth": 80},
        {"field": "reply", "headerName": t("risk_reply", lang), "flex": 2, "tooltipField": "reply"},
        {"field": "issued_local", "headerName": t("risk_since", lang), "minWidth": 140},
    ]
