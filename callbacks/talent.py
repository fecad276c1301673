"""人才队伍 callbacks: the district in, the read model (dashboard.views.talent) out as cards,
grids and figures; one person opened from the list, a search or the URL; a reveal of their
personal data (permission `reveal`, with a reason, audit-logged); the import of the personnel
office's files with a dry run first (permission `admin`, checked here again)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from dash import Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import fmt, roster, web
from dashboard.access import allowed
from dashboard.clock import utcnow
from dashboard.domain import STAFF_ROLE_LABELS, STAFF_STATUS_LABELS
from dashboard.i18n import pick, t
from dashboard.importer import ImportFailed
from dashboard.queries import list_areas
from dashboard.schemas import InputError
from dashboard.views import talent as view
from pages.talent import (
    CARDS,
    DISTRICT,
    GRIDS,
    IMPORT_CONFIRM,
    IMPORT_KIND,
    IMPORT_PREVIEW,
    IMPORT_SUMMARY,
    LANG,
    NOTE,
    PERSON,
    PERSON_BODY,
    PERSON_NO,
    REVEAL,
    REVEAL_REASON,
    REVEAL_RESULT,
    REVEAL_TIMER,
    SEARCH,
    SEARCH_GO,
    SHOWN,
    STANDARDS,
    TICK,
    UPLOAD,
    VIEWPORT,
    graph_id,
)
from ui import figures, revealed, viewport
from ui.scope import lang_of, requested_district


def role_name(role: str, lang: str) -> str:
    return pick(STAFF_ROLE_LABELS.get(role, (role, role)), lang)


# --- cards --------------------------------------------------------------------------------
def _card(key: str, value: str, foot, lang: str, standing: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(t(f"tl_card_{key}", lang), className="sv-card-label"),
            html.Div(value, className="sv-card-value"),
            html.Div(foot, className="sv-card-foot"),
        ],
        className=f"sv-card {standing}",
        id=f"talent-card-{key}",
    )


def card_items(c: dict, lang: str) -> list:
    count = lambda v: fmt.count(v, lang) if v is not None else "—"  # noqa: E731
    number = lambda v: "—" if v is None else f"{v:.1f}"  # noqa: E731
    on_duty_text, direction = fmt.delta(c["on_duty_grid"], c["on_duty_grid_yesterday"])
    hours = c["training_hours_mean"]
    return [
        _card(
            "in_post",
            count(c["in_post"]),
            f"{t('tl_required', lang)} {count(c['required'])}",
            lang,
        ),
        _card(
            "shortfall",
            count(c["shortfall"]),
            t("tl_shortfall_foot", lang),
            lang,
            "poor" if c["shortfall"] else "good",
        ),
        _card(
            "uncovered",
            count(c["uncovered_grids"]),
            t("tl_uncovered_foot", lang),
            lang,
            "poor" if c["uncovered_grids"] else "good",
        ),
        _card(
            "on_duty",
            count(c["on_duty_grid"]),
            html.Span(
                f"{t('vs_yesterday', lang)} {on_duty_text}",
                className={"up": "sv-better", "down": "sv-worse"}.get(direction, ""),
            )
            if direction != "none"
            else "",
            lang,
        ),
        _card("absent", count(c["scheduled_absent"]), t("tl_absent_foot", lang), lang),
        _card("open_per_worker", number(c["open_per_worker"]), t("tl_per_worker", lang), lang),
        _card("patrol", number(c["patrol_per_worker"]), t("tl_per_worker_week", lang), lang),
        _card(
            "response",
            fmt.duration(c["response_hours_median"], lang),
            t("tl_response_foot", lang),
            lang,
        ),
        _card(
            "training",
            number(hours),
            f"{t('target', lang)} {c['training_target']:g}",
            lang,
            "" if hours is None else ("good" if hours >= c["training_target"] else "near"),
        ),
    ]


# --- grids --------------------------------------------------------------------------------
def _gap_rules(role: str) -> dict:
    gap = f"params.data['{role}_gap']"
    return {
        "sv-poor": {"function": f"{gap} != null && {gap} < 0"},
        "sv-near": {"function": f"{gap} != null && {gap} > 0"},
    }


def posts_columns(r: dict, lang: str) -> list[dict]:
    """A district a row; a role a column: in post / required by the standard, and the gap."""
    return [
        {"field": "district_name", "headerName": t("col_district", lang), "minWidth": 80},
        *(
            {
                "field": role,
                "headerName": role_name(role, lang),
                "headerTooltip": (r["standards"].get(role) or {}).get(lang, ""),
                "cellClassRules": _gap_rules(role),
                "minWidth": 125,
                "flex": 1.5 if role == "grid_fulltime" else 1,
                "wrapHeaderText": True,
                "autoHeaderHeight": True,
                "comparator": {
                    "function": f"(a, b, na, nb) => (na.data['{role}_gap'] ?? 0) - (nb.data['{role}_gap'] ?? 0)"
                },
            }
            for role in STAFF_ROLE_LABELS
        ),
    ]


def posts_rows(r: dict) -> list[dict]:
    """`in post/required (gap)` per role; a role without a standard shows its headcount."""
    rows: dict[str, dict] = {}
    for p in r["posts"]:
        row = rows.setdefault(p["district"], {"district_name": p["district_name"]})
        if p["required"] is None:
            row[p["role"]] = f"{p['headcount']:,}"
        else:
            row[p["role"]] = (
                f"{p['headcount']:,}/{p['required']:,} ({p['gap']:+,})"
                if p["gap"]
                else f"{p['headcount']:,}/{p['required']:,}"
            )
        row[f"{p['role']}_gap"] = p["gap"]
    return list(rows.values())


def standards_text(r: dict, lang: str) -> str:
    parts = [f"{role_name(role, lang)} {text[lang]}" for role, text in r["standards"].items()]
    return (
        f"{t('tl_col_standard', lang)}：" + "；".join(parts)
        if lang == "zh"
        else (f"{t('tl_col_standard', lang)}: " + "; ".join(parts))
    )


def duty_columns(lang: str) -> list[dict]:
    return [
        {"field": "role_name", "headerName": t("tl_col_role", lang), "minWidth": 120},
        {"field": "on_duty", "headerName": t("tl_col_on_duty", lang)},
        {"field": "scheduled", "headerName": t("tl_col_scheduled", lang)},
        {"field": "absent", "headerName": t("tl_col_absent", lang)},
    ]


def duty_rows(rows: list[dict], lang: str) -> list[dict]:
    by_role: dict[str, dict] = {}
    for r in rows:
        row = by_role.setdefault(
            r["role"], {"role_name": role_name(r["role"], lang), "on_duty": 0, "scheduled": 0}
        )
        row["on_duty"] += r["on_duty"]
        row["scheduled"] += r["scheduled"]
    return [r | {"absent": r["scheduled"] - r["on_duty"]} for r in by_role.values()]


def people_columns(lang: str) -> list[dict]:
    return [
        {"field": "staff_no", "headerName": t("tl_col_staff_no", lang), "minWidth": 95},
        {"field": "name", "headerName": t("col_name", lang), "minWidth": 70},
        {"field": "grid_name", "headerName": t("tl_col_grid", lang), "minWidth": 140, "flex": 2},
        {"field": "open", "headerName": t("tl_col_open", lang)},
        {"field": "patrol_week", "headerName": t("tl_col_patrol", lang)},
    ]


def grids_columns(lang: str) -> list[dict]:
    none = t("tl_nobody", lang)
    return [
        {"field": "grid_name", "headerName": t("tl_col_grid", lang), "minWidth": 140, "flex": 2},
        {"field": "workers", "headerName": t("tl_col_workers", lang)},
        {"field": "open", "headerName": t("tl_col_open", lang)},
        {
            "field": "open_per_worker",
            "headerName": t("tl_col_open_per_worker", lang),
            "valueFormatter": {"function": f"params.value == null ? '{none}' : params.value"},
            "cellClassRules": {"sv-poor": {"function": "params.value == null"}},
        },
    ]


def load_district_columns(lang: str) -> list[dict]:
    return [
        {"field": "district_name", "headerName": t("col_district", lang), "minWidth": 80},
        {"field": "workers", "headerName": t("tl_col_workers", lang)},
        {"field": "open_per_worker", "headerName": t("tl_col_open_per_worker", lang)},
        {"field": "patrol_per_worker", "headerName": t("tl_col_patrol_per_worker", lang)},
        {"field": "response", "headerName": t("tl_col_response", lang), "minWidth": 90},
    ]


def load_district_rows(rows: list[dict], lang: str) -> list[dict]:
    return [r | {"response": fmt.duration(r["response_hours_median"], lang)} for r in rows]


def courses_columns(lang: str) -> list[dict]:
    return [
        {"field": "course", "headerName": t("tl_col_course", lang), "minWidth": 160, "flex": 2},
        {"field": "completed", "headerName": t("tl_col_completed", lang)},
        {"field": "hours", "headerName": t("tl_col_hours", lang)},
    ]


PERCENT = {"function": "params.value == null ? '—' : d3.format('.1%')(params.value)"}


def mediation_columns(lang: str) -> list[dict]:
    return [
        {"field": "district_name", "headerName": t("col_district", lang)},
        {"field": "mediators", "headerName": t("tl_col_mediators", lang)},
        {"field": "disputes_closed", "headerName": t("tl_col_disputes", lang)},
        {"field": "mediated", "headerName": t("tl_col_mediated", lang)},
        {
            "field": "mediation_success_rate",
            "headerName": t("success_rate", lang),
            "valueFormatter": PERCENT,
        },
        {"field": "cases_per_mediator", "headerName": t("tl_col_per_mediator", lang)},
        {
            "field": "link",
            "headerName": t("tl_col_link", lang),
            "cellRenderer": "markdown",
            "sortable": False,
        },
    ]


def mediation_rows(rows: list[dict], lang: str) -> list[dict]:
    label = t("tl_to_supervision", lang)
    return [
        r | {"link": f"[{label}](/supervision?period=this_week&district={r['district']})"}
        for r in rows
    ]


# --- figures ------------------------------------------------------------------------------
def map_figure(geo: dict | None, r: dict, lang: str) -> dict:
    """The city's districts coloured by the posts they miss (缺编), or a district's streets by
    their grids without a full-time grid worker; a red point on each such grid."""
    code = r["scope"]["code"]
    level = "street" if code else "district"
    shapes = (geo or {}).get(level) or {}
    features = [
        f for f in shapes.get("features", []) if not code or f["properties"].get("parent") == code
    ]
    if not features:
        return figures.empty(t("tl_no_map", lang))
    if code:
        values = Counter(g["street"] for g in r["uncovered"])
        title = t("tl_map_uncovered", lang)
    else:
        values = Counter()
        for p in r["posts"]:
            if p["gap"] is not None and p["gap"] < 0:
                values[p["district"]] -= p["gap"]
        title = t("tl_map_gap", lang)
    rows = [
        {
            "code": f["properties"]["code"],
            "name": f["properties"]["name"],
            "value": values.get(f["properties"]["code"], 0),
        }
        for f in features
    ]
    fig = figures.district_map({**shapes, "features": features}, rows, "value", title)
    points = [g for g in r["uncovered"] if g["lat"] is not None and g["lon"] is not None]
    fig["data"].append(
        {
            "type": "scattergeo",
            "mode": "markers",
            "lon": [g["lon"] for g in points],
            "lat": [g["lat"] for g in points],
            "text": [g["name"] for g in points],
            "marker": {"color": "#ff4d4f", "size": 7, "line": {"color": "#ffffff", "width": 0.5}},
            "name": t("tl_uncovered_point", lang),
            "hovertemplate": "%{text}<extra>" + t("tl_uncovered_point", lang) + "</extra>",
        }
    )
    return fig


def duty_figure(rows: list[dict], lang: str) -> dict:
    by_district: dict[str, list[int]] = {}
    for r in rows:
        cell = by_district.setdefault(r["district_name"], [0, 0])
        cell[0] += r["on_duty"]
        cell[1] += r["scheduled"] - r["on_duty"]
    if not any(sum(v) for v in by_district.values()):
        return figures.empty(t("tl_nobody_scheduled", lang))
    names = list(by_district)
    return figures.stacked_bars(
        names,
        [
            (
                t("tl_col_on_duty", lang),
                [by_district[n][0] for n in names],
                "on_duty",
                figures.ACCENT,
            ),
            (t("tl_col_absent", lang), [by_district[n][1] for n in names], "absent", "#ff7a45"),
        ],
    )


def load_figure(histogram: list[dict], lang: str) -> dict:
    if not any(h["people"] for h in histogram):
        return figures.empty(t("tl_no_workers", lang))
    labels = [f"{h['from']}–{h['to']}" if h["to"] else f"≥{h['from']}" for h in histogram]
    fig = figures.bars(labels, [h["people"] for h in histogram], horizontal=False)
    fig["data"][0]["hovertemplate"] = "%{x}: %{y}<extra></extra>"
    fig["layout"]["margin"] = {"l": 16, "r": 16, "t": 24, "b": 64}
    fig["layout"]["xaxis"] = {
        "title": {"text": t("tl_load_axis", lang), "standoff": 12},
        "type": "category",
        "color": figures.MUTED,
    }
    return fig


def training_figure(tr: dict, lang: str) -> dict:
    rows = tr["by_role"]
    if not rows:
        return figures.empty(t("tl_no_training", lang))
    fig = figures.bars(
        [role_name(r["role"], lang) for r in rows], [r["hours_mean"] for r in rows], fmt="{:.1f}"
    )
    fig["layout"]["shapes"] = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": tr["target"],
            "x1": tr["target"],
            "y0": 0,
            "y1": 1,
            "line": {"color": "#ffb020", "dash": "dash", "width": 2},
        }
    ]
    fig["layout"]["annotations"] = [
        {
            "x": tr["target"],
            "y": 1,
            "xref": "x",
            "yref": "paper",
            "yanchor": "bottom",
            "showarrow": False,
            "text": f"{t('target', lang)} {tr['target']:g} h",
            "font": {"color": "#ffb020", "size": 14},
        }
    ]
    fig["layout"]["xaxis"]["range"] = [
        0,
        max(tr["target"], *(r["hours_mean"] for r in rows)) * 1.25,
    ]
    fig["layout"]["margin"]["t"] = 24
    return fig


def certificates_figure(tr: dict, lang: str) -> dict:
    rows = [r for r in tr["by_role"] if r["certificate"]]
    if not rows:
        return figures.empty(t("tl_no_certificates", lang))
    labels = [f"{role_name(r['role'], lang)} · {r['certificate']}" for r in rows]
    fig = figures.bars(labels, [round(r["certificate_rate"] * 100, 1) for r in rows], fmt="{:.1f}%")
    fig["data"][0]["customdata"] = [round(r["certificate_target"] * 100) for r in rows]
    fig["data"][0]["hovertemplate"] = (
        "%{y}: %{x:.1f}% (" + t("target", lang) + " %{customdata}%)<extra></extra>"
    )
    fig["data"][0]["marker"]["color"] = [
        figures.ACCENT if r["certificate_rate"] >= r["certificate_target"] else "#ff7a45"
        for r in rows
    ]
    fig["layout"]["margin"]["l"] = 230
    fig["layout"]["xaxis"]["range"] = [0, 125]
    return fig


# --- the page -----------------------------------------------------------------------------
@callback(
    Output(CARDS, "children"),
    Output(NOTE, "children"),
    Output(GRIDS["posts"], "rowData"),
    Output(GRIDS["posts"], "columnDefs"),
    Output(GRIDS["duty"], "rowData"),
    Output(GRIDS["duty"], "columnDefs"),
    Output(GRIDS["people"], "rowData"),
    Output(GRIDS["people"], "columnDefs"),
    Output(GRIDS["grids"], "rowData"),
    Output(GRIDS["grids"], "columnDefs"),
    Output(GRIDS["load_districts"], "rowData"),
    Output(GRIDS["load_districts"], "columnDefs"),
    Output(GRIDS["courses"], "rowData"),
    Output(GRIDS["courses"], "columnDefs"),
    Output(GRIDS["mediation"], "rowData"),
    Output(GRIDS["mediation"], "columnDefs"),
    Output(graph_id("map"), "figure"),
    Output(graph_id("duty"), "figure"),
    Output(graph_id("load"), "figure"),
    Output(graph_id("training"), "figure"),
    Output(graph_id("certificates"), "figure"),
    Output(DISTRICT, "options"),
    Output(STANDARDS, "children"),
    Input(DISTRICT, "value"),
    Input(TICK, "n_intervals"),
    Input(VIEWPORT, "data"),
    Input("shell-lang", "data"),
    Input("shell-theme", "data"),
)
def update_page(district, _n, screen, lang, theme):
    rt = web.runtime()
    lang = lang_of(lang)
    district = requested_district(district)
    now = utcnow()
    try:
        r = view.cached_report(rt, now, district)
        with rt.sessions() as session:
            districts = list_areas(session, level="district")
    except InputError as exc:
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return [html.Div(message, className="text-warning"), *[no_update] * 22]
    try:
        geo = rt.live.document("geo")
    except Exception:  # noqa: BLE001 - Redis down: the map says so, the rest is from SQL
        geo = None

    scale = viewport.scale(screen)

    def themed(fig):
        return figures.themed(figures.scaled(fig, scale), theme)

    built = fmt.time_of_day(datetime.fromisoformat(r["built_at"].rstrip("Z")), rt.settings.zone)
    note = f"{t('tl_as_of', lang)} {built} · {t('tl_week_from', lang)} {r['week_from']}"
    return [
        card_items(r["cards"], lang),
        note,
        posts_rows(r),
        posts_columns(r, lang),
        duty_rows(r["duty"], lang),
        duty_columns(lang),
        r["workload"]["people"],
        people_columns(lang),
        r["workload"]["grids"],
        grids_columns(lang),
        load_district_rows(r["workload"]["by_district"], lang),
        load_district_columns(lang),
        r["training"]["courses"],
        courses_columns(lang),
        mediation_rows(r["mediation"], lang),
        mediation_columns(lang),
        themed(map_figure(geo, r, lang)),
        themed(duty_figure(r["duty"], lang)),
        themed(load_figure(r["workload"]["histogram"], lang)),
        themed(training_figure(r["training"], lang)),
        themed(certificates_figure(r["training"], lang)),
        [{"label": d["name"], "value": d["code"]} for d in districts],
        standards_text(r, lang),
    ]


# --- one person ---------------------------------------------------------------------------
def _line(label_key: str, value, lang: str):
    return html.Div(
        [
            html.Span(t(label_key, lang), className="tl-key"),
            html.Span(value if value not in (None, "") else "—"),
        ],
        className="tl-line",
    )


def person_body(p: dict, lang: str) -> list:
    on_duty = {
        None: t("tl_not_scheduled", lang),
        True: t("tl_col_on_duty", lang),
        False: t("tl_col_absent", lang),
    }[p["on_duty"]]
    facts = html.Div(
        [
            _line("tl_col_staff_no", p["staff_no"], lang),
            _line("col_name", p["name"], lang),
            _line("tl_col_role", role_name(p["role"], lang), lang),
            _line("tl_area", p["area"], lang),
            _line(
                "tl_status",
                pick(STAFF_STATUS_LABELS.get(p["status"], (p["status"],) * 2), lang),
                lang,
            ),
            _line("tl_duty_now", on_duty, lang),
            _line("tl_phone", p["phone"], lang),
            _line("tl_id_number", p["id_number"], lang),
            _line("tl_party", t("tl_yes" if p["party_member"] else "tl_no", lang), lang),
            _line("tl_certificates", "、".join(p["certifications"]), lang),
            _line("tl_hired", p["hire_date"], lang),
            _line("tl_col_open", p["open_in_grid"], lang),
            _line("tl_col_patrol", p["patrol_week"], lang),
            _line(
                "tl_training_year",
                f"{p['training_hours_year']:g} / {p['training_target']:g} h",
                lang,
            ),
        ],
        className="tl-facts",
    )
    shifts = html.Ul(
        [
            html.Li(
                f"{s['from']} – {s['to'][-5:]} · {t('tl_shift_' + s['kind'], lang)}",
                className="tl-now" if s["now"] else "",
            )
            for s in p["shifts"]
        ]
        or [html.Li(t("tl_no_shifts", lang))]
    )
    marks = html.Ul(
        [html.Li(f"{m['at']} · {t('tl_mark_' + m['kind'], lang)}") for m in p["check_ins"][-8:]]
        or [html.Li(t("tl_no_marks", lang))]
    )
    events = html.Ul(
        [
            html.Li(
                html.A(
                    f"{e['reported_at']} · {e['title']} · {e['status']}",
                    href=f"/incident/{e['source']}/{e['external_id']}",
                )
            )
            for e in p["events"]
        ]
        or [html.Li(t("tl_no_events", lang))]
    )
    courses = html.Ul(
        [
            html.Li(
                f"{c['date']} · {c['course']} · {c['hours']:g} h"
                + (f" · {c['certificate']}" if c["certificate"] else "")
            )
            for c in p["training"]
        ]
        or [html.Li(t("tl_no_training", lang))]
    )
    return [
        facts,
        html.Div(
            [
                html.Div(
                    [
                        html.H3(t("tl_shifts_week", lang)),
                        shifts,
                        html.H3(t("tl_marks", lang)),
                        marks,
                    ]
                ),
                html.Div([html.H3(t("tl_grid_events", lang)), events]),
                html.Div([html.H3(t("tl_courses_person", lang)), courses]),
            ],
            className="tl-person-cols",
        ),
    ]


@callback(
    Output(PERSON, "is_open"),
    Output(PERSON_BODY, "children"),
    Output(SHOWN, "data"),
    Output(REVEAL_RESULT, "children", allow_duplicate=True),
    Input(GRIDS["people"], "cellClicked"),
    Input(SEARCH_GO, "n_clicks"),
    Input(SEARCH, "n_submit"),
    Input(PERSON_NO, "data"),
    State(SEARCH, "value"),
    State(LANG, "data"),
    prevent_initial_call="initial_duplicate",
)
def open_person(clicked, _go, _submit, from_url, typed, lang):
    lang = lang_of(lang)
    trigger = ctx.triggered_id
    if trigger == GRIDS["people"]:
        staff_no = clicked.get("rowId") if isinstance(clicked, dict) else None
    elif trigger == PERSON_NO:
        staff_no = from_url
    else:
        staff_no = typed.strip() if isinstance(typed, str) else None
    if not staff_no:
        raise PreventUpdate
    principal = web.current()
    if principal is None:
        raise PreventUpdate
    rt = web.runtime()
    scope = principal.district_id if principal.scoped else None
    try:
        with rt.sessions() as session:
            p = view.person(
                session, staff_no, utcnow(), rt.settings.zone, rt.settings.staffing, scope
            )
    except InputError as exc:
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return True, html.Div(message, className="text-warning"), None, None
    return True, person_body(p, lang), p["staff_no"], None


@callback(
    Output(REVEAL_RESULT, "children"),
    Output(REVEAL_TIMER, "disabled"),
    Output(REVEAL_TIMER, "n_intervals"),
    Input(REVEAL, "n_clicks", allow_optional=True),
    State(REVEAL_REASON, "value", allow_optional=True),
    State(SHOWN, "data"),
    State(LANG, "data"),
    prevent_initial_call=True,
)
def reveal(n, reason, staff_no, lang):
    """The person's name, phone and ID number, for 30 seconds; the reason is audit-logged."""
    lang = lang_of(lang)
    principal = web.current()
    if not n or principal is None:
        raise PreventUpdate
    if not allowed(principal, "reveal"):
        return html.Span(t("not_allowed", lang), className="inc-error"), True, 0
    reason = reason.strip() if isinstance(reason, str) else ""
    if not 4 <= len(reason) <= 200 or "\x00" in reason:
        return html.Span(t("tl_reason_needed", lang), className="inc-error"), True, 0
    rt = web.runtime()
    scope = principal.district_id if principal.scoped else None
    try:
        with rt.sessions() as session, session.begin():
            shown = view.reveal(session, staff_no, scope, principal.actor, reason, web.address())
    except InputError as exc:
        return html.Span("; ".join(exc.errors.values()), className="inc-error"), True, 0
    text = " · ".join(v for v in (shown["name"], shown["phone"], shown["id_number"]) if v)
    return html.Div([html.Strong(t("tl_revealed", lang)), html.Span(f" {text}")]), False, 0


revealed.hide_after(REVEAL_RESULT, REVEAL_TIMER)


# --- import (admin) -----------------------------------------------------------------------
def preview_columns(kind: str, lang: str) -> list[dict]:
    fields = {
        "staff": ("staff_no", "name", "id_number", "phone", "role", "area", "status", "changes"),
        "shifts": ("staff_no", "name", "date", "start", "end", "kind"),
        "training": ("staff_no", "name", "course", "hours", "date", "certificate"),
    }[kind]
    return [
        {"field": "row", "headerName": t("tl_col_row", lang), "maxWidth": 80},
        {"field": "action", "headerName": t("tl_col_action", lang), "maxWidth": 110},
        *({"field": f, "headerName": f} for f in fields),
    ]


def error_columns(lang: str) -> list[dict]:
    return [
        {"field": "row", "headerName": t("tl_col_row", lang), "maxWidth": 80},
        {"field": "field", "headerName": t("tl_col_field", lang), "maxWidth": 160},
        {"field": "error", "headerName": t("tl_col_error", lang), "flex": 3},
    ]


def _import(contents, filename, kind, dry_run: bool):
    principal = web.current()
    if principal is None or not allowed(principal, "admin"):
        raise PreventUpdate
    if not isinstance(kind, str) or kind not in roster.IMPORTERS or not isinstance(contents, str):
        raise PreventUpdate
    name = filename if isinstance(filename, str) else ""
    return roster.import_upload(
        web.runtime(), kind, name, contents, principal.actor, web.address(), dry_run=dry_run
    )


def _report_outputs(report, kind: str, lang: str, dry_run: bool):
    if report.errors:
        rows = [
            {"row": e["row"], "field": f, "error": msg}
            for e in report.errors
            for f, msg in e["errors"].items()
        ]
        summary = html.Span(
            t("tl_import_refused", lang).format(n=len(report.errors)), className="inc-error"
        )
        return summary, rows, error_columns(lang), True
    key = "tl_import_dry" if dry_run else "tl_import_done"
    summary = html.Span(
        t(key, lang).format(rows=report.rows, created=report.created, updated=report.updated),
        className="inc-done",
    )
    return summary, report.preview.rows, preview_columns(kind, lang), not dry_run


@callback(
    Output(IMPORT_SUMMARY, "children"),
    Output(IMPORT_PREVIEW, "rowData"),
    Output(IMPORT_PREVIEW, "columnDefs"),
    Output(IMPORT_CONFIRM, "disabled"),
    Input(UPLOAD, "contents"),
    Input(IMPORT_KIND, "value"),
    State(UPLOAD, "filename"),
    State(LANG, "data"),
    prevent_initial_call=True,
)
def dry_run(contents, kind, filename, lang):
    """An uploaded file is checked first: what it would change, or every row's errors."""
    lang = lang_of(lang)
    if contents is None:
        raise PreventUpdate
    try:
        report = _import(contents, filename, kind, dry_run=True)
    except ImportFailed as exc:
        return html.Span(str(exc), className="inc-error"), [], [], True
    return _report_outputs(report, kind, lang, dry_run=True)


@callback(
    Output(IMPORT_SUMMARY, "children", allow_duplicate=True),
    Output(IMPORT_PREVIEW, "rowData", allow_duplicate=True),
    Output(IMPORT_PREVIEW, "columnDefs", allow_duplicate=True),
    Output(IMPORT_CONFIRM, "disabled", allow_duplicate=True),
    Input(IMPORT_CONFIRM, "n_clicks"),
    State(UPLOAD, "contents"),
    State(IMPORT_KIND, "value"),
    State(UPLOAD, "filename"),
    State(LANG, "data"),
    prevent_initial_call=True,
)
def confirm_import(n, contents, kind, filename, lang):
    """The checked file, written (checked again: all of it or none)."""
    lang = lang_of(lang)
    if not n or contents is None:
        raise PreventUpdate
    try:
        report = _import(contents, filename, kind, dry_run=False)
    except ImportFailed as exc:
        return html.Span(str(exc), className="inc-error"), [], [], True
    view.forget_cached()
    return _report_outputs(report, kind, lang, dry_run=False)


viewport.track(VIEWPORT, "talent-page")
