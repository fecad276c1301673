"""事件详情 callbacks: the incident drawn from dashboard.views.incident (again after each
action), the action form, and the actions through dashboard.actions — authorised there, on
the server, whatever the page offered."""

from __future__ import annotations

from dash import Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboard import actions, web
from dashboard.clock import utcnow
from dashboard.domain import (
    LEVEL_LABELS,
    SATISFACTION_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
)
from dashboard.i18n import (
    ACTION_DONE,
    ALERT_LEVELS,
    INCIDENT_KINDS,
    STAGE_NAMES,
    STAGE_STATES,
    pick,
    t,
)
from dashboard.schemas import ConflictError, InputError
from dashboard.views import incident as view
from pages.incident import (
    ACTION,
    ALERTS,
    CASE,
    CONTACT,
    CONTACT_TIMER,
    DEADLINE,
    DECISION,
    FIELD_ROWS,
    FIELDS,
    HEAD,
    HOURS,
    MAP,
    PENDING,
    RELATED,
    RESULT,
    STAGES,
    SUBMIT,
    TEXT,
    TIMELINE,
    VERSION,
    VIEWPORT,
)
from ui import eventlist, figures, revealed, viewport
from ui.scope import lang_of


def _rt():
    return current_app.extensions["dashboard"]


def _load(case) -> dict:
    """The incident of a request; nothing for a crafted id or another district's case."""
    principal = web.current()
    if principal is None or not isinstance(case, int) or isinstance(case, bool):
        raise PreventUpdate
    rt = _rt()
    with rt.sessions() as session:
        e = view.find(session, "id", str(case))
        if e is None or (principal.scoped and e.district_id != principal.district_id):
            raise PreventUpdate
        return view.detail(session, e, utcnow(), rt.settings.zone)


def head(d: dict, lang: str) -> list:
    badges = [
        html.Span(pick(STATUS_LABELS[d["status"]], lang), className="inc-badge"),
        html.Span(
            pick(SEVERITY_LABELS[d["severity"]], lang),
            className="inc-badge" + (" inc-major" if d["severity"] >= 3 else ""),
        ),
    ]
    if d["minutes_left"] is not None:
        badges.append(
            html.Span(
                eventlist.left_text(d["minutes_left"], lang),
                className="inc-badge" + (" inc-overdue" if d["minutes_left"] < 0 else ""),
            )
        )
    for kind, n in d["pressed"].items():  # 督办 ×2, 催办 ×1: how often the center pressed
        if n:
            badges.append(
                html.Span(
                    f"{pick(INCIDENT_KINDS[kind], lang)} ×{n}", className="inc-badge inc-supervised"
                )
            )
    return [
        html.A(
            t("inc_back", lang),
            href="/flow" + ("?lang=en" if lang == "en" else ""),
            className="inc-back",
        ),
        html.H1(d["title"], className="inc-title"),
        html.Div(f"{d['source']}/{d['external_id']} · #{d['id']}", className="inc-case"),
        html.Div(badges, className="inc-badges"),
    ]


def fields(d: dict, lang: str):
    zh = lang == "zh"
    pairs = [
        (t("col_time", lang), d["reported_at"]),
        (t("col_place", lang), d["area"]),
        (t("col_category", lang), " / ".join(x for x in (d["category"], d["subcategory"]) if x)),
        (t("col_source", lang), pick(SOURCE_LABELS[d["source"]], lang)),
        (
            t("col_department", lang),
            (d["department"] or "—")
            + (f"（{d['bureau']}）" if d["bureau"] and d["bureau"] != d["department"] else ""),
        ),
        ("层级" if zh else "Level", pick(LEVEL_LABELS[d["level"]], lang)),
        (t("col_deadline", lang), d["close_deadline"] or "—"),
        ("地址" if zh else "Address", d["address"] or "—"),
        (
            t("col_reporter", lang),
            " ".join(x for x in (d["reporter"], d["reporter_phone"]) if x) or "—",
        ),
        ("返工次数" if zh else "Reworks", str(d["return_count"])),
        ("上报次数" if zh else "Escalations", str(d["escalation_count"])),
        (
            "延期" if zh else "Extended",
            ("是" if zh else "yes") if d["extended"] else ("否" if zh else "no"),
        ),
        (
            "重复诉求" if zh else "Repeat complaint",
            ("是" if zh else "yes") if d["is_repeat"] else ("否" if zh else "no"),
        ),
        (
            "满意度" if zh else "Satisfaction",
            pick(SATISFACTION_LABELS[d["satisfaction"]], lang) if d["satisfaction"] else "—",
        ),
        ("描述" if zh else "Description", d["description"] or "—"),
    ]
    return html.Dl([x for k, v in pairs for x in (html.Dt(k), html.Dd(v))], className="inc-fields")


def stage_table(d: dict, lang: str):
    head_row = html.Tr(
        [
            html.Th(t(k, lang))
            for k in (
                "col_stage",
                "col_started",
                "col_met",
                "inc_due",
                "inc_taken",
                "inc_allowed",
                "col_state",
            )
        ]
    )
    body = []
    for s in d["stages"]:
        hours = t("inc_hours", lang)
        body.append(
            html.Tr(
                [
                    html.Td(pick(STAGE_NAMES[s["stage"]], lang)),
                    html.Td(s["started"] or "—"),
                    html.Td(s["met"] or "—"),
                    html.Td(s["deadline"] or "—"),
                    html.Td(
                        f"{s['taken_hours']:g} {hours}" if s["taken_hours"] is not None else "—"
                    ),
                    html.Td(
                        f"{s['allowed_hours']:g} {hours}" if s["allowed_hours"] is not None else "—"
                    ),
                    html.Td(
                        pick(STAGE_STATES[s["state"]], lang), className=f"inc-stage-{s['state']}"
                    ),
                ]
            )
        )
    return html.Table([html.Thead(head_row), html.Tbody(body)], className="inc-table")


def timeline_items(d: dict, lang: str) -> list:
    out = []
    for item in d["timeline"]:
        kind = item["kind"]
        if kind == "status":
            what = pick(STATUS_LABELS[item["status"]], lang)
        else:
            what = pick(INCIDENT_KINDS[kind], lang)
        extra = []
        if item.get("reply_due"):
            extra.append(("回复时限 " if lang == "zh" else "reply by ") + item["reply_due"])
        if item.get("reply"):
            extra.append(
                f"{'回复' if lang == 'zh' else 'reply'} {item['replied']}：{item['reply']}"
            )
        if item.get("deadline"):
            extra.append(("延至 " if lang == "zh" else "to ") + item["deadline"])
        who = " · ".join(x for x in (item["actor"], item["department"]) if x)
        out.append(
            html.Li(
                [
                    html.Span(item["at"], className="inc-tl-at"),
                    html.Span(what, className=f"inc-tl-kind inc-tl-{kind}"),
                    html.Span(who, className="inc-tl-who"),
                    html.Span(
                        " · ".join(x for x in (item["note"], *extra) if x), className="inc-tl-note"
                    ),
                ],
                className="inc-tl-item",
            )
        )
    return out


def location(d: dict, geo: dict | None, lang: str) -> dict:
    """The case's district, its streets drawn and its own street lit, and the point."""
    streets = [
        f
        for f in ((geo or {}).get("street") or {}).get("features", [])
        if f["properties"].get("parent") == d["codes"]["district"]
    ]
    if not streets:  # no street shapes stored: the district's own
        streets = [
            f
            for f in ((geo or {}).get("district") or {}).get("features", [])
            if f["properties"].get("code") == d["codes"]["district"]
        ]
    if not streets:
        return figures.empty("没有区域边界数据" if lang == "zh" else "No area shapes stored")
    rows = [
        {
            "code": f["properties"]["code"],
            "name": f["properties"]["name"],
            "lit": 1 if f["properties"]["code"] == d["codes"]["street"] else 0,
        }
        for f in streets
    ]
    fig = figures.district_map({"type": "FeatureCollection", "features": streets}, rows, "lit", "")
    fig["data"][0]["showscale"] = False
    fig["data"][0]["colorscale"] = [[0, "#10324f"], [1, "#1f7ab8"]]
    if d["lat"] is not None and d["lon"] is not None:
        fig["data"].append(
            {
                "type": "scattergeo",
                "mode": "markers",
                "lon": [d["lon"]],
                "lat": [d["lat"]],
                "marker": {
                    "size": 18,
                    "color": figures.ALERT_COLOURS[1],
                    "symbol": "circle",
                    "line": {"color": "#fff", "width": 2},
                },
                "hovertext": [d["area"]],
                "hoverinfo": "text",
            }
        )
    return fig


def alert_items(d: dict, lang: str):
    if not d["alerts"]:
        return html.P(t("inc_no_alerts", lang), className="sv-note")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        pick(ALERT_LEVELS[a["level"]], lang),
                        className=f"inc-alert-level inc-alert-{a['level']}",
                    ),
                    html.Span(f" {a['title']} · {a['at']} · {a['state']}"),
                ]
            )
            for a in d["alerts"]
        ],
        className="inc-alerts",
    )


def pending_box(d: dict, lang: str):
    p = d["pending_extension"]
    if p is None:
        return None
    return html.Div(
        [
            html.Strong(t("inc_pending", lang)),
            html.Span(
                f" {p['old_deadline']} → {p['deadline']} · {p['requested_by']} · {p['reason']}"
            ),
        ],
        className="inc-pending",
        id="incident-pending-box",
    )


@callback(
    Output(HEAD, "children"),
    Output(FIELDS, "children"),
    Output(STAGES, "children"),
    Output(TIMELINE, "children"),
    Output(MAP, "figure"),
    Output(RELATED, "rowData"),
    Output(RELATED, "columnDefs"),
    Output(ALERTS, "children"),
    Output(PENDING, "children"),
    Input(CASE, "data"),
    Input(VERSION, "data"),
    Input(VIEWPORT, "data"),
    State("incident-lang", "data"),
)
def show(case, _version, screen, lang):
    lang = lang_of(lang)
    scale = viewport.scale(screen)
    d = _load(case)
    related = eventlist.present(d["related"], lang)
    return (
        head(d, lang),
        fields(d, lang),
        stage_table(d, lang),
        timeline_items(d, lang),
        figures.scaled(location(d, _rt().live.document("geo"), lang), scale),
        related,
        eventlist.columns(lang),
        alert_items(d, lang),
        pending_box(d, lang),
    )


@callback(
    Output(TEXT, "style"),
    Output(f"{HOURS}-row", "style"),
    Output(f"{DEADLINE}-row", "style"),
    Output(DECISION, "style"),
    Input(ACTION, "value"),
)
def form_fields(action):
    wanted = FIELD_ROWS.get(action, ()) if isinstance(action, str) else ()
    return [
        None if name in wanted else {"display": "none"}
        for name in (TEXT, HOURS, DEADLINE, DECISION)
    ]


FORM_NAMES = {  # the form field each action reads the text box as
    "supervise": "note",
    "urge": "note",
    "note": "text",
}


@callback(
    Output(RESULT, "children"),
    Output(VERSION, "data"),
    Output(CONTACT, "children"),
    Output(CONTACT_TIMER, "disabled"),
    Output(CONTACT_TIMER, "n_intervals"),
    Output(TEXT, "value"),
    Input(SUBMIT, "n_clicks"),
    State(ACTION, "value"),
    State(TEXT, "value"),
    State(HOURS, "value"),
    State(DEADLINE, "value"),
    State(DECISION, "value"),
    State(CASE, "data"),
    State(VERSION, "data"),
    State("incident-lang", "data"),
    prevent_initial_call=True,
)
def act(_n, action, text, hours, deadline, decision, case, version, lang):
    lang = lang_of(lang)
    principal = web.current()
    if principal is None or not isinstance(version, int):
        raise PreventUpdate
    form = {
        FORM_NAMES.get(action, "reason") if isinstance(action, str) else "reason": text,
        "reply_hours": hours,
        "deadline": deadline,
        "decision": decision,
    }
    try:
        done = actions.perform(_rt(), principal, case, action, form, web.address())
    except InputError as exc:
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return (
            html.Span(message, className="inc-error"),
            no_update,
            no_update,
            no_update,
            no_update,
            no_update,
        )
    except (ConflictError, actions.Refused) as exc:
        return (
            html.Span(str(getattr(exc, "message", exc)), className="inc-error"),
            no_update,
            no_update,
            no_update,
            no_update,
            no_update,
        )
    result = html.Span(pick(ACTION_DONE[done["message"]], lang), className="inc-done")
    if action == "reveal":
        shown = " ".join(x for x in (done["reporter_name"], done["reporter_phone"]) if x) or "—"
        contact = html.Div([html.Strong(t("inc_contact", lang)), html.Span(f" {shown}")])
        return result, version + 1, contact, False, 0, ""
    return result, version + 1, None, True, 0, ""


revealed.hide_after(CONTACT, CONTACT_TIMER)  # the revealed contact goes away after 30 s


viewport.track(VIEWPORT, "incident-page")
