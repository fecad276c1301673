"""风险预警 callbacks: the filters → the summary, the cards, heat, hotspots, response times and
history; a card or history row → the alert in detail (evidence, events, history); the actions on
an alert and the work notice answering it (authorised in dashboard.alerts and dashboard.notices
by scope, and here by permission); the notices and the center's decision on their replies; a
sound for new red and orange alerts at the duty desk."""

from __future__ import annotations

from datetime import datetime, timedelta

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboard import alerts, notices, web
from dashboard.access import ScopeError, allowed
from dashboard.clock import utcnow
from dashboard.db import is_id
from dashboard.i18n import ALERT_LEVELS, EVIDENCE_LABELS, RULE_FAMILIES, pick, t
from dashboard.schemas import ConflictError, InputError, text_problem
from dashboard.views import risk as view
from pages.risk import (
    ACTION,
    ALARM,
    ASSIGNEE,
    CARD,
    CARDS,
    DEPARTMENT,
    DETAIL,
    EVENTS,
    EVIDENCE,
    FAMILY,
    HEAT,
    HISTORY,
    HISTORY_ONE,
    HOTSPOTS,
    LANG,
    LEVEL,
    NOTE,
    NOTICE,
    NOTICE_ACCEPT,
    NOTICE_DECIDED,
    NOTICE_OUTCOME,
    NOTICE_PICK,
    NOTICE_QUERY,
    NOTICE_RETURN,
    NOTICES,
    PERIOD,
    REFRESH,
    RESULT,
    SEEN,
    SELECTED,
    SOUND,
    SUBMIT,
    SUMMARY,
    TIMES,
    VERSION,
    VIEWPORT,
)
from ui import eventlist, figures, noticeform, viewport
from ui.scope import callback_scope, lang_of

FRESH = timedelta(minutes=10)  # a red or orange alert this new stands out


def _rt():
    return current_app.extensions["dashboard"]


# --- the list side ------------------------------------------------------------------------------
def summary(cards: list[dict], lang: str) -> list:
    counts = {k: sum(c["level"] == k for c in cards) for k in (1, 2, 3, 4)}
    escalated = sum(c["escalated"] for c in cards)
    boxes = [
        html.Div(
            [
                html.Span(str(counts[k]), className="risk-sum-value"),
                html.Span(pick(ALERT_LEVELS[k], lang), className="risk-sum-label"),
            ],
            className=f"risk-sum level-{k}",
        )
        for k in (1, 2, 3, 4)
    ]
    boxes.append(
        html.Div(
            [
                html.Span(str(escalated), className="risk-sum-value"),
                html.Span(t("risk_escalated", lang), className="risk-sum-label"),
            ],
            className="risk-sum escalated" if escalated else "risk-sum",
        )
    )
    return boxes


def card(c: dict, selected, now: datetime, lang: str):
    state = pick(alerts.STATE_LABELS[c["state"]], lang)
    badges = [html.Span(state, className="risk-badge")]
    if c["escalated"]:
        badges.append(html.Span(t("risk_escalated", lang), className="risk-badge escalated"))
    if c["assignee"] or c["department"]:
        who = " · ".join(x for x in (c["assignee"], c["department"]) if x)
        badges.append(html.Span(who, className="risk-badge"))
    classes = ["risk-card", f"level-{c['level']}"]
    if c["id"] == selected:
        classes.append("selected")
    if c["escalated"]:
        classes.append("escalated")
    if c["level"] <= 2 and now - c["created_at"] < FRESH:
        classes.append("fresh")
    family = pick(RULE_FAMILIES.get(c["family"], (c["family"], c["family"])), lang)
    return html.Button(
        [
            html.Span(pick(ALERT_LEVELS[c["level"]], lang), className="risk-level"),
            html.Div(
                [
                    html.Div(c["title"], className="risk-card-title"),
                    html.Div(
                        " · ".join(
                            x
                            for x in (
                                c["area"],
                                f"{t('risk_since', lang)} {c['since']}",
                                family,
                                f"{t('risk_hits', lang)} {c['hits']}",
                            )
                            if x
                        ),
                        className="risk-card-meta",
                    ),
                    html.Div(badges, className="risk-badges"),
                ],
                className="risk-card-body",
            ),
        ],
        id={"type": CARD, "index": c["id"]},
        className=" ".join(classes),
        n_clicks=0,
    )


def times_table(rows: list[dict], lang: str):
    def minutes(v):
        return "—" if v is None else f"{v:,.0f} {t('risk_minutes', lang)}"

    head = html.Tr(
        [
            html.Th(t("col_severity", lang)),
            html.Th(t("risk_raised", lang)),
            html.Th(t("risk_acked", lang)),
            html.Th(t("risk_ended", lang)),
            html.Th(t("risk_ack_median", lang)),
            html.Th(t("risk_close_median", lang)),
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(
                    pick(ALERT_LEVELS[r["level"]], lang),
                    className=f"risk-level-text level-{r['level']}",
                ),
                html.Td(f"{r['raised']:,}"),
                html.Td(f"{r['acknowledged']:,}"),
                html.Td(f"{r['ended']:,}"),
                html.Td(minutes(r["ack_median"])),
                html.Td(minutes(r["close_median"])),
            ]
        )
        for r in rows
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="inc-table risk-times")


def history_columns(lang: str) -> list[dict]:
    level_rules = {
        f"risk-level-text level-{k}": {"function": f"params.data && params.data.level == {k}"}
        for k in (1, 2, 3, 4)
    }
    return [
        {"field": "since", "headerName": t("risk_since", lang), "minWidth": 140},
        {
            "field": "level_name",
            "headerName": t("col_severity", lang),
            "minWidth": 70,
            "flex": 0.5,
            "cellClassRules": level_rules,
        },
        {"field": "family_name", "headerName": t("risk_family", lang), "minWidth": 100},
        {
            "field": "title",
            "headerName": t("col_title", lang),
            "flex": 2.5,
            "tooltipField": "title",
        },
        {"field": "area", "headerName": t("col_place", lang), "minWidth": 110},
        {"field": "state_name", "headerName": t("risk_state", lang), "minWidth": 80},
        {"field": "assignee", "headerName": t("risk_assignee", lang), "minWidth": 90},
        {"field": "ack_minutes", "headerName": t("risk_ack_minutes", lang), "minWidth": 90},
        {"field": "close_minutes", "headerName": t("risk_close_minutes", lang), "minWidth": 90},
    ]


def history_rows(rows: list[dict], lang: str) -> list[dict]:
    return [
        {
            "id": r["id"],
            "since": r["since"],
            "level": r["level"],
            "level_name": pick(ALERT_LEVELS[r["level"]], lang),
            "family_name": pick(RULE_FAMILIES.get(r["family"], (r["family"],) * 2), lang),
            "title": r["title"],
            "area": r["area"],
            "state_name": pick(alerts.STATE_LABELS[r["state"]], lang),
            "assignee": r["assignee"] or "",
            "ack_minutes": r["ack_minutes"],
            "close_minutes": r["close_minutes"],
        }
        for r in rows
    ]


def heat_map(rows: list[dict], district_id, lang: str) -> dict:
    geo = _rt().live.document("geo") or {}
    if district_id is None:
        shapes = geo.get("district") or {}
    else:
        codes = {r["code"] for r in rows}
        features = [
            f
            for f in (geo.get("street") or {}).get("features", [])
            if f["properties"].get("code") in codes
        ]
        shapes = {"type": "FeatureCollection", "features": features}
    if not shapes.get("features"):
        return figures.empty("没有区域边界数据" if lang == "zh" else "No area shapes stored")
    fig = figures.district_map(shapes, rows, "heat", "热度" if lang == "zh" else "Heat")
    fig["data"][0]["colorscale"] = [[0, "#10324f"], [0.4, "#ffc53d"], [1, "#e5484d"]]
    fig["data"][0]["zmin"] = 0
    fig["data"][0]["customdata"] = [r["alerts"] for r in rows]
    fig["data"][0]["hovertemplate"] = "%{text}: %{z} (%{customdata})<extra></extra>"
    return fig


def hotspot_bars(rows: list[dict], lang: str) -> dict:
    if not rows:
        return figures.empty("近30天没有矛盾纠纷" if lang == "zh" else "No disputes in 30 days")
    labels = [f"{r['street']} {r['community']}" for r in rows]
    fig = figures.bars(labels, [r["disputes"] for r in rows], figures.ALERT_COLOURS[2])
    fig["layout"]["margin"]["l"] = 190
    fig["data"][0]["textangle"] = 0
    fig["data"][0]["customdata"] = [r["open"] for r in rows]
    fig["data"][0]["hovertemplate"] = (
        "%{y}: %{x}（在办 %{customdata}）<extra></extra>"
        if lang == "zh"
        else "%{y}: %{x} (open %{customdata})<extra></extra>"
    )
    return fig


@callback(
    Output(SUMMARY, "children"),
    Output(CARDS, "children"),
    Output(HEAT, "figure"),
    Output(HOTSPOTS, "figure"),
    Output(TIMES, "children"),
    Output(HISTORY, "rowData"),
    Output(HISTORY, "columnDefs"),
    Output(ALARM, "data"),
    Output(SELECTED, "data", allow_duplicate=True),
    Input(LEVEL, "value"),
    Input(FAMILY, "value"),
    Input(PERIOD, "value"),
    Input(REFRESH, "n_intervals"),
    Input(VERSION, "data"),
    Input(VIEWPORT, "data"),
    State(SELECTED, "data"),
    State(LANG, "data"),
    prevent_initial_call="initial_duplicate",
)
def overview(level, family, period, _n, _version, screen, selected, lang):
    lang = lang_of(lang)
    _principal, district_id = callback_scope()
    level = level if level in (1, 2, 3, 4) else None
    family = family if isinstance(family, str) and family in view.FAMILIES else None
    days = view.PERIODS.get(period, 30) if isinstance(period, str) else 30
    rt, now = _rt(), utcnow()
    zone = rt.settings.zone
    with rt.sessions() as session:
        cards = view.cards(session, zone, district_id, level, family)
        heat = view.heat(session, district_id)
        hot = view.hotspots(session, now, 30, district_id)
        past = view.history(session, zone, now - timedelta(days=days), district_id, level, family)
    scale = viewport.scale(screen)
    shown = selected if is_id(selected) else (cards[0]["id"] if cards else None)
    items = (
        [card(c, shown, now, lang) for c in cards]
        if cards
        else [html.P(t("risk_none", lang), className="sv-note risk-none")]
    )
    return (
        summary(cards, lang),
        items,
        figures.scaled(heat_map(heat, district_id, lang), scale),
        figures.scaled(hotspot_bars(hot, lang), scale),
        times_table(view.response_times(past), lang),
        history_rows(past, lang),
        history_columns(lang),
        sorted(c["id"] for c in cards if c["level"] <= 2),
        no_update if is_id(selected) or shown is None else shown,
    )


@callback(
    Output(SELECTED, "data"),
    Input({"type": CARD, "index": ALL}, "n_clicks"),
    Input(HISTORY, "cellClicked"),
    prevent_initial_call=True,
)
def select(_clicks, cell):
    """A card or a history row picks the alert shown."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") == CARD:
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            raise PreventUpdate  # the cards were redrawn, nobody clicked
        picked = trigger.get("index")
    elif trigger == HISTORY and isinstance(cell, dict):
        try:
            picked = int(cell.get("rowId"))
        except (TypeError, ValueError):
            raise PreventUpdate from None
    else:
        raise PreventUpdate
    if not is_id(picked):
        raise PreventUpdate
    return picked


# --- one alert -----------------------------------------------------------------------------------
def detail_head(d: dict, lang: str) -> list:
    family = pick(RULE_FAMILIES.get(d["family"], (d["family"],) * 2), lang)
    facts = [
        (t("risk_family", lang), f"{family} · {pick(d['rule_name'], lang)}"),
        (t("col_place", lang), d["area"] or "—"),
        (t("risk_since", lang), d["since"]),
        (t("risk_hits", lang), f"{d['hits']}（{d['updated']}）"),
        (t("risk_state", lang), pick(alerts.STATE_LABELS[d["state"]], lang)),
        (
            t("risk_assignee", lang),
            " · ".join(x for x in (d["assignee"], d["department"]) if x) or "—",
        ),
        (t("risk_events_count", lang), f"{d['events']:,}"),
    ]
    shown = [
        f"{pick(EVIDENCE_LABELS[k], lang)} {'、'.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in d["evidence"].items()
        if k in EVIDENCE_LABELS and v not in (None, "", [])
    ]
    if shown:
        facts.append((t("risk_evidence_facts", lang), " · ".join(shown)))
    if d["notices"]:
        facts.append(
            (
                t("risk_notices", lang),
                "；".join(
                    f"{n['number']} {pick(notices.STATUS_LABELS[n['status']], lang)}"
                    for n in d["notices"]
                ),
            )
        )
    return [
        html.Div(
            [
                html.Span(
                    pick(ALERT_LEVELS[d["level"]], lang), className=f"risk-level level-{d['level']}"
                ),
                html.H3(d["title"], className="risk-detail-title"),
            ],
            className="risk-detail-head" + (" escalated" if d["escalated"] else ""),
        ),
        html.Dl([x for k, v in facts for x in (html.Dt(k), html.Dd(v))], className="inc-fields"),
    ]


def evidence_figure(d: dict, lang: str) -> dict:
    s = d["series"]
    if s is None:
        one_event = d["family"] in ("major", "keywords")
        return figures.empty(t("risk_no_series" if one_event else "risk_no_series_kind", lang))
    labels = (t("risk_now", lang), t("risk_baseline", lang), t("risk_baseline_mean", lang))
    return figures.against_band(s, labels, figures.ALERT_COLOURS[d["level"]])


def history_items(d: dict, lang: str) -> list:
    out = []
    for h in d["history"]:
        state = pick(alerts.STATE_LABELS.get(h["to"], (h["to"], h["to"])), lang)
        out.append(
            html.Li(
                [
                    html.Span(h["at"], className="inc-tl-at"),
                    html.Span(state, className="inc-tl-kind"),
                    html.Span(h["actor"] or "", className="inc-tl-who"),
                    html.Span(h["note"], className="inc-tl-note"),
                ],
                className="inc-tl-item",
            )
        )
    return out


@callback(
    Output(DETAIL, "children"),
    Output(EVIDENCE, "figure"),
    Output(EVENTS, "rowData"),
    Output(EVENTS, "columnDefs"),
    Output(HISTORY_ONE, "children"),
    Output(NOTICE["title"], "value"),
    Input(SELECTED, "data"),
    Input(VERSION, "data"),
    Input(REFRESH, "n_intervals"),
    Input(VIEWPORT, "data"),
    State(NOTICE["title"], "value"),
    State(LANG, "data"),
)
def show(selected, _version, _n, screen, title_now, lang):
    lang = lang_of(lang)
    _principal, district_id = callback_scope()
    rt = _rt()
    with rt.sessions() as session:
        alert = view.find(session, selected, district_id)
        if alert is None:
            empty = figures.empty(t("risk_pick", lang))
            note = html.P(t("risk_pick", lang), className="sv-note")
            return note, empty, [], eventlist.columns(lang), [], no_update
        d = view.detail(session, alert, utcnow(), rt.settings.zone)
    title = no_update
    if ctx.triggered_id == SELECTED or not title_now:  # another alert, or nothing typed yet
        where = "" if d["area"] in d["title"] else d["area"]  # the place once, not twice
        title = (
            f"关于{where}{d['title']}的工作提示"
            if lang == "zh"
            else f"Work notice: {d['title']}" + (f" ({where})" if where else "")
        )[:200]
    return (
        detail_head(d, lang),
        figures.scaled(evidence_figure(d, lang), viewport.scale(screen)),
        eventlist.present(d["events_rows"], lang),
        eventlist.columns(lang),
        history_items(d, lang),
        title,
    )


# --- acting ------------------------------------------------------------------------------------
def _actor():
    """The acting principal and its district scope; refused without the permission `act`."""
    principal, district_id = callback_scope()
    if not allowed(principal, "act"):
        raise ScopeError("your role may not act on alerts")
    return principal, district_id


@callback(
    Output(RESULT, "children"),
    Output(VERSION, "data"),
    Output(NOTE, "value"),
    Input(SUBMIT, "n_clicks"),
    State(ACTION, "value"),
    State(NOTE, "value"),
    State(ASSIGNEE, "value"),
    State(DEPARTMENT, "value"),
    State(SELECTED, "data"),
    State(VERSION, "data"),
    State(LANG, "data"),
    prevent_initial_call=True,
)
def act(_n, action, note, assignee, department, selected, version, lang):
    lang = lang_of(lang)
    if not isinstance(version, int) or not is_id(selected):
        raise PreventUpdate
    rt = _rt()
    try:
        principal, district_id = _actor()
        if not isinstance(action, str):
            raise InputError({"action": f"one of {', '.join(alerts.ACTIONS)}"})
        with rt.sessions() as session, session.begin():
            alert = alerts.act(
                session,
                selected,
                action,
                principal.actor,
                note=note or None,
                assignee=assignee or None,
                department=department or None,
                district_id=district_id,
                address=web.address(),
            )
            state = alert.state
    except (InputError, ConflictError, ScopeError) as exc:
        return noticeform.problem(exc), no_update, no_update
    rt.live.bump_quietly()
    done = f"{pick(alerts.ACTION_LABELS[action], lang)} ✓ {pick(alerts.STATE_LABELS[state], lang)}"
    return html.Span(done, className="inc-done"), version + 1, ""


@callback(
    Output(NOTICE["result"], "children"),
    Output(VERSION, "data", allow_duplicate=True),
    Input(NOTICE["issue"], "n_clicks"),
    *(State(NOTICE[name], "value") for name in noticeform.FIELDS),
    State(SELECTED, "data"),
    State(VERSION, "data"),
    State(LANG, "data"),
    prevent_initial_call=True,
)
def issue(_n, *args):
    """A work notice answering the alert shown: it covers the alert's events."""
    *values, selected, version, lang = args
    if not isinstance(version, int) or not is_id(selected):
        raise PreventUpdate
    message, issued = noticeform.submit(
        values, lambda _session, _district: {"alert_id": selected}, lang_of(lang)
    )
    return message, version + 1 if issued else no_update


# --- work notices ------------------------------------------------------------------------------
@callback(
    Output(NOTICES, "rowData"),
    Output(NOTICES, "columnDefs"),
    Output(NOTICE_PICK, "options"),
    Input(NOTICE_QUERY, "value"),
    Input(VERSION, "data"),
    Input(REFRESH, "n_intervals"),
    Input(NOTICE_DECIDED, "children"),
    State(LANG, "data"),
)
def notice_list(query, _version, _n, _decided, lang):
    lang = lang_of(lang)
    _principal, district_id = callback_scope()
    if query is not None and text_problem(query, 100):
        query = None
    rt = _rt()
    with rt.sessions() as session:
        found = view.notice_rows(
            session, rt.settings.zone, utcnow(), district_id, None, (query or "").strip() or None
        )
    rows = [{**n, "status_name": pick(notices.STATUS_LABELS[n["status"]], lang)} for n in found]
    waiting = [
        {"label": f"{n['number']} {n['title']}", "value": n["id"]}
        for n in found
        if n["status"] == "replied"
    ]
    return rows, noticeform.columns(lang), waiting


@callback(
    Output(NOTICE_DECIDED, "children"),
    Output(VERSION, "data", allow_duplicate=True),
    Input(NOTICE_ACCEPT, "n_clicks"),
    Input(NOTICE_RETURN, "n_clicks"),
    State(NOTICE_PICK, "value"),
    State(NOTICE_OUTCOME, "value"),
    State(VERSION, "data"),
    State(LANG, "data"),
    prevent_initial_call=True,
)
def decide(_accept, _return, notice_id, outcome, version, lang):
    lang = lang_of(lang)
    if ctx.triggered_id not in (NOTICE_ACCEPT, NOTICE_RETURN) or not isinstance(version, int):
        raise PreventUpdate
    rt = _rt()
    try:
        principal, district_id = _actor()
        if not is_id(notice_id):
            raise InputError({"notice": "pick a replied notice"})
        with rt.sessions() as session, session.begin():
            n, changes = notices.decide(
                rt,
                session,
                notice_id,
                ctx.triggered_id == NOTICE_ACCEPT,
                outcome,
                principal.actor,
                utcnow(),
                district_id,
                web.address(),
            )
            number, status, moved = n.number, n.status, n.events_resolved
    except (InputError, ConflictError, ScopeError) as exc:
        return noticeform.problem(exc), no_update
    rt.ingestor.publish(changes, [], "notice")
    rt.live.bump_quietly()
    text = f"{number} {pick(notices.STATUS_LABELS[status], lang)}"
    if status == "done":
        text += f"（{moved}）" if lang == "zh" else f" ({moved} cases resolved)"
    return html.Span(text, className="inc-done"), version + 1


# The duty desk's sound: a short tone when a red or orange alert appears that the page has not
# announced yet (off unless switched on; the wall never plays it). Web Audio: nothing fetched.
clientside_callback(
    """
    function(ids, sound, seen) {
        ids = Array.isArray(ids) ? ids : [];
        if (Array.isArray(seen) && sound) {
            const fresh = ids.filter(function (i) { return seen.indexOf(i) < 0; });
            if (fresh.length && window.AudioContext) {
                const ac = new AudioContext();
                const osc = ac.createOscillator();
                const gain = ac.createGain();
                osc.frequency.value = 880;
                gain.gain.value = 0.15;
                osc.connect(gain).connect(ac.destination);
                osc.start();
                osc.stop(ac.currentTime + 0.6);
            }
        }
        return ids;
    }
    """,
    Output(SEEN, "data"),
    Input(ALARM, "data"),
    State(SOUND, "value"),
    State(SEEN, "data"),
)

viewport.track(VIEWPORT, "risk-page")
