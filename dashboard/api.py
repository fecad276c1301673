"""The ingest and read API v1 (DESIGN §4; docs/api.md, docs/openapi.yaml) plus health checks."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from functools import wraps

import orjson
from flask import Blueprint, Response, current_app, g, request, stream_with_context
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

from dashboard import (
    actions,
    alerts,
    auth,
    duty,
    exports,
    i18n,
    notices,
    privacy,
    queries,
    reportpdf,
    reports,
    supervisions,
    web,
    weekly,
)
from dashboard.access import ScopeError, allowed
from dashboard.clock import to_utc_naive, utcnow
from dashboard.db import MAX_ID, is_unavailable
from dashboard.domain import SOURCES
from dashboard.models import Alert, AlertEvent, Area, Event
from dashboard.refdata import area_by_code
from dashboard.runtime import Runtime
from dashboard.schemas import ConflictError, InputError, text_problem
from dashboard.views import flow

log = logging.getLogger(__name__)

api = Blueprint("api", __name__, url_prefix="/api/v1")
health = Blueprint("health", __name__)
RETRY_AFTER_SECONDS = 5


def runtime() -> Runtime:
    return current_app.extensions["dashboard"]


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    resp = Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        mimetype="application/json",
    )
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def error(status: int, message: str, **extra) -> Response:
    headers = extra.pop("headers", None)
    return json_response({"error": message, **extra}, status, headers)


# --- errors -------------------------------------------------------------------------------
@api.errorhandler(SQLAlchemyError)
def _database_error(exc: SQLAlchemyError):
    if is_unavailable(exc):
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return error(
            503,
            "the database is unavailable; nothing was written, retry later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    raise exc


@api.errorhandler(InputError)
def _input_error(exc: InputError):
    return error(400, "invalid input", fields=exc.errors)


@api.errorhandler(ConflictError)
def _conflict(exc: ConflictError):
    return error(exc.status, exc.message)


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if isinstance(exc, RequestEntityTooLarge):
        return error(413, f"request body larger than {runtime().settings.max_body_bytes} bytes")
    return error(exc.code or 500, exc.description or exc.name)


# --- auth ---------------------------------------------------------------------------------
def token_required(kinds: tuple[str, ...] = ("ingest",), permission: str | None = None):
    """A bearer token of one of `kinds`, or — when `permission` is given and the request
    carries no Authorization header — a signed-in person whose role has that permission
    (state-changing calls then need the CSRF token too). Sets g.token or g.principal."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.token, g.principal = None, None
            header = request.headers.get("Authorization", "")
            if not header and permission:
                principal = web.current()
                if principal is not None:
                    if not allowed(principal, permission):
                        return error(403, f"the role {principal.role} may not call this endpoint")
                    if request.method not in ("GET", "HEAD"):
                        web.csrf.protect()
                    g.principal = principal
                    return view(*args, **kwargs)
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return error(
                    401, "missing bearer token", headers={"WWW-Authenticate": 'Bearer realm="api"'}
                )
            with runtime().sessions() as session:
                info = auth.check_token(session, token.strip())
            if info is None:
                return error(
                    401,
                    "invalid or revoked token",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            if info.kind not in kinds:
                return error(403, f"a {info.kind} token may not call this endpoint")
            g.token = info
            return view(*args, **kwargs)

        return wrapper

    return decorator


def actor() -> str:
    return g.principal.actor if g.principal is not None else f"token:{g.token.name}"


def area_in_scope(session, code: str | None) -> str | None:
    """The area a caller may ask about: a district-bound person gets their district when they
    name none, and ScopeError (403) for an area outside it; everyone else what they asked."""
    p = g.principal
    if p is None or not p.scoped:
        return code
    if not p.district_id:
        raise ScopeError("no district")
    if not code:
        return p.district_code
    area = area_by_code(session, code)
    if area is None or area.district_id != p.district_id:
        raise ScopeError(code)
    return code


def _scope_district() -> int | None:
    """The district id a list is cut to (None for city-wide callers; alerts.NO_DISTRICT, which
    matches nothing, for a district-bound person bound to none)."""
    p = g.principal
    if p is None or not p.scoped:
        return None
    return p.district_id or alerts.NO_DISTRICT


@api.errorhandler(ScopeError)
def _scope_error(exc: ScopeError):
    return error(403, "outside your area")


def _json_body():
    limit = runtime().settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    data = request.get_data(cache=False)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise InputError({"_": "the body must be JSON"}) from None


# --- ingest -------------------------------------------------------------------------------
@api.post("/events")
@token_required()
def post_events():
    body = _json_body()
    single = isinstance(body, dict) and "events" not in body
    if single:
        items = [body]
    elif isinstance(body, dict) and isinstance(body.get("events"), list):
        if set(body) - {"events"}:
            raise InputError({k: "unknown field" for k in set(body) - {"events"}})
        items = body["events"]
    else:
        raise InputError({"_": 'send one event object or {"events": [...]}'})
    if len(items) > runtime().settings.max_batch:
        return error(413, f"at most {runtime().settings.max_batch} events per request")
    if not items:
        raise InputError({"events": "empty list"})
    results = runtime().ingestor.ingest_events(items, token_source=g.token.source)
    if single:
        r = results[0]
        status = {"created": 201, "duplicate": 200}.get(r.status, 400)
        return json_response(r.as_dict(), status)
    counts = {k: sum(r.status == k for r in results) for k in ("created", "duplicate", "rejected")}
    status = 400 if counts["rejected"] == len(results) else 200
    return json_response({**counts, "results": [r.as_dict() for r in results]}, status)


@api.post("/checkins")
@token_required()
def post_check_ins():
    """签到/签退 from the grid app: one object or {"check_ins": [...]}; per-item results, the
    valid ones committed together."""
    body = _json_body()
    if isinstance(body, dict) and isinstance(body.get("check_ins"), list):
        if set(body) - {"check_ins"}:
            raise InputError({k: "unknown field" for k in set(body) - {"check_ins"}})
        items = body["check_ins"]
    elif isinstance(body, dict):
        items = [body]
    else:
        raise InputError({"_": 'send one check-in object or {"check_ins": [...]}'})
    if not items:
        raise InputError({"check_ins": "empty list"})
    if len(items) > runtime().settings.max_batch:
        return error(413, f"at most {runtime().settings.max_batch} check-ins per request")
    rt = runtime()
    with rt.sessions() as session, session.begin():
        results = duty.record_check_ins(
            session, items, utcnow(), rt.settings.zone, source=f"token:{g.token.name}"[:32]
        )
    counts = {
        k: sum(r["status"] == k for r in results) for k in ("created", "duplicate", "rejected")
    }
    status = 400 if counts["rejected"] == len(results) else 200
    return json_response({**counts, "results": results}, status)


@api.post("/events/<source>/<path:external_id>/transitions")
@token_required()
def post_transitions(source: str, external_id: str):
    if source not in SOURCES:
        return error(404, f"unknown source {source!r}")
    if g.token.source and g.token.source != source:
        return error(403, f"this token may only change events of source '{g.token.source}'")
    body = _json_body()
    if isinstance(body, dict) and isinstance(body.get("transitions"), list):
        items = body["transitions"]
    elif isinstance(body, list):
        items = body
    elif isinstance(body, dict):
        items = [body]
    else:
        raise InputError({"_": "send one transition object or a list of them"})
    if not items:
        raise InputError({"_": "empty list"})
    if len(items) > runtime().settings.max_batch:
        return error(413, f"at most {runtime().settings.max_batch} transitions per request")
    results = runtime().ingestor.transition_event(source, external_id, items)
    return json_response({"source": source, "external_id": external_id, "results": results})


# --- one event: masked; revealing the reporter is a logged act ----------------------------
EXPORT_LIMIT = 100_000


def _scoped_event(session, source: str, external_id: str):
    if source not in SOURCES:
        raise NotFound(f"unknown source {source!r}")
    e = queries.find_event(session, source, external_id)
    if e is None:
        raise NotFound("no such event")
    if g.principal is not None and g.principal.scoped and e.district_id != g.principal.district_id:
        raise ScopeError(external_id)
    return e


@api.get("/events/<source>/<path:external_id>")
@token_required(permission="read")
def get_event(source: str, external_id: str):
    with runtime().sessions() as session:
        return json_response(
            queries.event_detail(session, _scoped_event(session, source, external_id))
        )


@api.post("/events/<source>/<path:external_id>/reveal")
@token_required(kinds=(), permission="reveal")  # people only, never a token
def reveal_reporter(source: str, external_id: str):
    body = _json_body()
    reason = body.get("reason") if isinstance(body, dict) else None
    problem = "required" if reason is None else text_problem(reason, 200, min_length=4)
    if problem:
        raise InputError({"reason": f"give the reason for seeing the reporter: {problem}"})
    with runtime().sessions() as session, session.begin():
        e = _scoped_event(session, source, external_id)
        answer = actions.reveal(session, e, actor(), reason.strip(), web.address())
    answer.pop("message")
    return json_response(answer, headers={"Cache-Control": "no-store"})


@api.get("/events/export.csv")
@token_required(kinds=(), permission="export")
def export_events():
    now = utcnow()
    end = _parse_time("to", request.args.get("to"), now)
    start = _parse_time("from", request.args.get("from"), end - timedelta(days=7))
    if end <= start:
        raise InputError({"to": "must be after 'from'"})
    with runtime().sessions() as session, session.begin():
        area = area_in_scope(session, request.args.get("area") or None)
        rows = queries.export_rows(session, start, end, area, EXPORT_LIMIT)
        auth.audit(
            session,
            actor(),
            "export.events",
            area or "city",
            f"rows={len(rows)} from={start.isoformat()}Z to={end.isoformat()}Z (personal data masked)",
            web.address(),
        )
    return Response(
        exports.to_csv(rows, queries.EXPORT_COLUMNS),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="events.csv"',
            "Cache-Control": "no-store",
        },
    )


@api.get("/events/list.<kind>")
@token_required(kinds=(), permission="export")
def export_list(kind: str):
    """The 事件流转 list for the filters of its URL (views.flow.parse), newest first, at most
    views.flow.EXPORT_LIMIT rows; CSV streamed, XLSX whole; personal data masked; audited."""
    if kind not in ("csv", "xlsx"):
        return error(404, "export as list.csv or list.xlsx")
    lang = "en" if request.args.get("lang") == "en" else "zh"
    f = flow.parse(request.args)
    rt, now = runtime(), utcnow()
    zone = rt.settings.zone
    with rt.sessions() as session, session.begin():
        terms = flow.conditions(session, f, now, zone, _scope_district())
        total = session.execute(select(func.count()).select_from(Event).where(*terms)).scalar()
        shown = min(total, flow.EXPORT_LIMIT)
        auth.audit(
            session,
            actor(),
            f"export.events_list.{kind}",
            flow.to_query(f) or "default filters",
            f"rows={shown} of {total} (personal data masked)",
            web.address(),
        )
    keys = [k for k, _label in flow.EXPORT_COLUMNS]
    headers = [i18n.t(label, lang) for _k, label in flow.EXPORT_COLUMNS]
    stamp = now.strftime("%Y%m%d-%H%M")

    def chunks():
        with rt.sessions() as session:
            yield from flow.export_chunks(session, terms, now, zone, lang)

    head = {"Cache-Control": "no-store", "X-Export-Rows": str(shown)}
    if kind == "csv":
        head["Content-Disposition"] = f'attachment; filename="events-{stamp}.csv"'
        body = stream_with_context(exports.csv_stream(chunks(), keys, headers))
        return Response(body, mimetype="text/csv", headers=head)
    head["Content-Disposition"] = f'attachment; filename="events-{stamp}.xlsx"'
    data = exports.to_xlsx(chunks(), keys, headers, i18n.t("flow_list", lang))
    return Response(data, mimetype=XLSX, headers=head)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@api.get("/reports/weekly")
@token_required(kinds=(), permission="read")
def weekly_kept():
    """The reports the Monday job kept, newest first."""
    with runtime().sessions() as session:
        kept = reports.kept_reports(session)
    return json_response(
        {
            "reports": [
                {
                    "week": r["week"],
                    "generated_at": r["generated_at"].isoformat() + "Z",
                    "xlsx": f"/api/v1/reports/weekly/{r['week']}/kept.xlsx",
                    "pdf": f"/api/v1/reports/weekly/{r['week']}/kept.pdf" if r["has_pdf"] else None,
                }
                for r in kept
            ]
        }
    )


@api.get("/reports/weekly/<week>/kept.<kind>")
@token_required(kinds=(), permission="read")
def weekly_kept_file(week: str, kind: str):
    """A kept report's file, as the Monday job made it."""
    if kind not in ("xlsx", "pdf"):
        return error(404, "a weekly report is .xlsx or .pdf")
    rt = runtime()
    with rt.sessions() as session, session.begin():
        w = weekly.parse(week, rt.settings.zone)
        data = reports.kept_file(session, w, kind)
        if data is None:
            return error(404, f"no {kind} kept for {w.label}")
        auth.audit(session, actor(), f"export.weekly_kept.{kind}", w.label, None, web.address())
    head = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="weekly-{w.label}.{kind}"',
    }
    return Response(data, mimetype=XLSX if kind == "xlsx" else "application/pdf", headers=head)


@api.get("/reports/weekly/<week>.<kind>")
@token_required(kinds=(), permission="read")
def weekly_report(week: str, kind: str):
    """周例会: a week's figures and its 通报 (as edited, else as generated) as a workbook
    (`.xlsx`) or an A4 document (`.pdf`)."""
    if kind not in ("xlsx", "pdf"):
        return error(404, "a weekly report is .xlsx or .pdf")
    rt, now = runtime(), utcnow()
    with rt.sessions() as session, session.begin():
        w = weekly.parse(week, rt.settings.zone)
        f = weekly.figures(session, w, now, rt.settings.zone, rt.settings.staffing)
        text, _edited = weekly.bulletin_text(session, w, weekly.bulletin(f, rt.settings.city_name))
        auth.audit(session, actor(), f"export.weekly.{kind}", w.label, None, web.address())
    head = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="weekly-{w.label}.{kind}"',
    }
    if kind == "xlsx":
        return Response(weekly.to_xlsx(f, text), mimetype=XLSX, headers=head)
    try:
        data = reportpdf.weekly_pdf(
            f, text, rt.settings.city_name, now, rt.settings.zone, rt.settings.report_font
        )
    except reportpdf.FontMissing as exc:
        return error(503, str(exc))
    return Response(data, mimetype="application/pdf", headers=head)


# --- 督办 and 催办 as the department sees them -------------------------------------------------
@api.get("/supervisions")
@token_required(permission="read")
def get_supervisions():
    """What a department has been pressed on (`?department=<code>&pending=1`)."""
    department = request.args.get("department") or None
    with runtime().sessions() as session:
        dept = queries.department_id(session, department) if department else None
        items = supervisions.listing(
            session, dept, request.args.get("pending") == "1", _scope_district()
        )
    return json_response({"items": items})


@api.post("/supervisions/<int:supervision_id>/reply")
@token_required(permission="act")
def reply_supervision(supervision_id: int):
    body = _json_body()
    text = body.get("reply") if isinstance(body, dict) else None
    with runtime().sessions() as session, session.begin():
        done = supervisions.reply(
            session, supervision_id, text, actor(), utcnow(), web.address(), _scope_district()
        )
    return json_response(done)


# --- read ---------------------------------------------------------------------------------
def _parse_time(name: str, value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    zone = runtime().settings.zone
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return to_utc_naive(datetime(d.year, d.month, d.day), zone)
        return to_utc_naive(datetime.fromisoformat(value.replace("Z", "+00:00")), zone)
    except ValueError:
        raise InputError({name: "must be an ISO 8601 date or date-time"}) from None


@api.get("/kpis")
@token_required(permission="read")
def get_kpis():
    now = utcnow()
    end = _parse_time("to", request.args.get("to"), now)
    start = _parse_time("from", request.args.get("from"), end - timedelta(days=7))
    if end <= start:
        raise InputError({"to": "must be after 'from'"})
    if end - start > timedelta(days=366 * 3):
        raise InputError({"from": "the period may span at most three years"})
    with runtime().sessions() as session:
        report = queries.kpi_report(
            session,
            start,
            end,
            now,
            area=area_in_scope(session, request.args.get("area") or None),
            department=request.args.get("department") or None,
            by=request.args.get("by") or None,
            zone=runtime().settings.zone,
        )
    return json_response(report)


@api.get("/areas")
@token_required(permission="read")
def get_areas():
    level = request.args.get("level") or None
    if level and level not in ("city", "district", "street", "community", "grid"):
        raise InputError({"level": "must be city, district, street, community or grid"})
    with runtime().sessions() as session:
        areas = queries.list_areas(
            session, level, request.args.get("parent"), district_id=_scope_district()
        )
        return json_response({"areas": areas})


@api.get("/categories")
@token_required(permission="read")
def get_categories():
    with runtime().sessions() as session:
        return json_response({"categories": queries.list_categories(session)})


@api.get("/departments")
@token_required(permission="read")
def get_departments():
    with runtime().sessions() as session:
        return json_response({"departments": queries.list_departments(session, units=True)})


@api.get("/sources")
@token_required(permission="read")
def get_sources():
    return json_response({"sources": queries.list_sources()})


def _alert_json(a: Alert, code: str | None) -> dict:
    def at(t):
        return t.isoformat() + "Z" if t else None

    return {
        "id": a.id,
        "rule": a.rule,
        "level": a.level,
        "area": code,
        "subject": a.subject,
        "title": privacy.mask_text(a.title),
        "state": a.state,
        "assignee": a.assignee,
        "escalated": a.escalated,
        "hits": a.hits,
        "evidence": privacy.mask_all(orjson.loads(a.evidence or "{}")),
        "created_at": at(a.created_at),
        "updated_at": at(a.updated_at),
        "acknowledged_at": at(a.acknowledged_at),
        "closed_at": at(a.closed_at),
    }


@api.get("/alerts")
@token_required(permission="read")
def get_alerts():
    state = request.args.get("state") or None
    level = request.args.get("level") or None
    if level is not None and level not in {"1", "2", "3", "4"}:
        raise InputError({"level": "must be 1 (红), 2 (橙), 3 (黄) or 4 (蓝)"})
    if state is not None and state not in alerts.STATE_LABELS:
        raise InputError({"state": f"one of {', '.join(alerts.STATE_LABELS)}"})
    with runtime().sessions() as session:
        rows = alerts.list_alerts(
            session,
            states=[state] if state else None,
            level=int(level) if level else None,
            district_id=_scope_district(),
            limit=500,
        )
    return json_response({"alerts": [_alert_json(a, code) for a, code, _district in rows]})


@api.get(f"/alerts/<int(max={MAX_ID}):alert_id>")
@token_required(permission="read")
def get_alert(alert_id: int):
    """One alert with its history and the events it was raised on."""
    with runtime().sessions() as session:
        found = session.execute(
            select(Alert, Area.code)
            .outerjoin(Area, Area.id == Alert.area_id)
            .where(Alert.id == alert_id)
        ).first()
        scope = _scope_district()
        if found is None or (scope is not None and alerts.in_district(session, found[0]) != scope):
            return json_response({"error": f"no alert {alert_id}"}, 404)
        body = _alert_json(*found)
        body["history"] = [
            {
                "at": h.at.isoformat() + "Z",
                "from": h.from_state,
                "to": h.to_state,
                "actor": h.actor,
                "note": privacy.mask_text(h.note) if h.note else None,
            }
            for h in alerts.history(session, alert_id)
        ]
        body["events"] = [
            f"{src}/{ext}"
            for src, ext in session.execute(
                select(Event.source, Event.external_id)
                .join(AlertEvent, AlertEvent.event_id == Event.id)
                .where(AlertEvent.alert_id == alert_id)
                .order_by(Event.reported_at)
            )
        ]
    return json_response(body)


ALERT_ACTIONS = ", ".join(alerts.ACTIONS)


@api.post(f"/alerts/<int(max={MAX_ID}):alert_id>/<any({ALERT_ACTIONS}):action>")
@token_required(permission="act")
def post_alert_action(alert_id: int, action: str):
    body = _json_body() if request.content_length else {}
    if not isinstance(body, dict):
        raise InputError({"_": 'send an object: {"note": …, "assignee": …, "department": …}'})
    unknown = set(body) - {"note", "assignee", "department"}
    if unknown:
        raise InputError(dict.fromkeys(sorted(unknown), "unknown field"))
    with runtime().sessions() as session, session.begin():
        alert = alerts.act(
            session,
            alert_id,
            action,
            actor(),
            note=body.get("note"),
            assignee=body.get("assignee"),
            department=body.get("department"),
            district_id=_scope_district(),
            address=web.address(),
        )
        answer = {"id": alert.id, "state": alert.state, "assignee": alert.assignee}
    # Committed: the answer is success. The wall learns of it now, or from the next snapshot.
    runtime().live.bump_quietly()
    return json_response(answer)


# --- 工作提示单 ---------------------------------------------------------------------------
@api.get("/notices")
@token_required(permission="read")
def get_notices():
    """Work notices (`?status=&department=<code>&q=<text>`), newest first."""
    status = request.args.get("status") or None
    if status is not None and status not in notices.STATUS_LABELS:
        raise InputError({"status": f"one of {', '.join(notices.STATUS_LABELS)}"})
    q = request.args.get("q") or None
    if q is not None and text_problem(q, 100):
        raise InputError({"q": text_problem(q, 100)})
    department = request.args.get("department") or None
    with runtime().sessions() as session:
        dept = queries.department_id(session, department, units=True) if department else None
        items = notices.listing(session, _scope_district(), status, q, dept)
    return json_response({"notices": items})


@api.get(f"/notices/<int(max={MAX_ID}):notice_id>")
@token_required(permission="read")
def get_notice(notice_id: int):
    with runtime().sessions() as session:
        found = notices.listing(session, _scope_district(), limit=1, only=notice_id)
        if not found:
            return json_response({"error": f"no notice {notice_id}"}, 404)
        body = found[0]
        body["events"] = [
            f"{src}/{ext}"
            for src, ext in session.execute(
                select(Event.source, Event.external_id).where(
                    Event.id.in_(notices.event_ids(session, notice_id))
                )
            )
        ]
    return json_response(body)


@api.post("/notices")
@token_required(permission="act")
def post_notice():
    """Issue a notice: {title, body, department | street, deadline, event_ids | alert_id};
    events by id, or `events` as "source/external_id" strings."""
    body = _json_body()
    if not isinstance(body, dict):
        raise InputError({"_": "send an object"})
    allowed_fields = {
        "title",
        "body",
        "department",
        "street",
        "deadline",
        "event_ids",
        "events",
        "alert_id",
    }
    unknown = set(body) - allowed_fields
    if unknown:
        raise InputError(dict.fromkeys(sorted(unknown), "unknown field"))
    now = utcnow()
    form = dict(body)
    if body.get("deadline") is not None:
        if not isinstance(body["deadline"], str) or text_problem(body["deadline"], 40):
            raise InputError({"deadline": "an ISO 8601 date-time"})
        form["deadline"] = _parse_time("deadline", body["deadline"], now)
    with runtime().sessions() as session, session.begin():
        if body.get("events") is not None:
            form["event_ids"] = _ids_of(session, body["events"])
        done = notices.issue(session, actor(), form, now, _scope_district(), web.address())
        answer = {"id": done.notice.id, "number": done.notice.number, "events": done.events}
    runtime().live.bump_quietly()
    return json_response(answer, 201)


def _ids_of(session, refs) -> list[int]:
    """Event ids of "source/external_id" strings (InputError naming the unknown ones)."""
    if not isinstance(refs, list) or not all(
        isinstance(r, str) and "/" in r and not text_problem(r, 200) for r in refs
    ):
        raise InputError({"events": 'a list of "source/external_id"'})
    if len(refs) > notices.MAX_EVENTS:
        raise InputError({"events": f"at most {notices.MAX_EVENTS}"})
    ids = []
    for ref in refs:
        source, _, external_id = ref.partition("/")
        found = session.execute(
            select(Event.id).where(Event.source == source, Event.external_id == external_id)
        ).scalar()
        if found is None:
            raise InputError({"events": f"no event {ref}"})
        ids.append(found)
    return ids


@api.post(f"/notices/<int(max={MAX_ID}):notice_id>/reply")
@token_required(permission="act")
def reply_notice(notice_id: int):
    body = _json_body()
    text = body.get("reply") if isinstance(body, dict) else None
    with runtime().sessions() as session, session.begin():
        n = notices.reply(
            session, notice_id, text, actor(), utcnow(), _scope_district(), web.address()
        )
        answer = {"id": n.id, "number": n.number, "status": n.status}
    return json_response(answer)


@api.post(f"/notices/<int(max={MAX_ID}):notice_id>/decision")
@token_required(permission="act")
def decide_notice(notice_id: int):
    """The center on a reply: {"accept": true|false, "outcome": "…"}."""
    body = _json_body()
    if not isinstance(body, dict):
        raise InputError({"_": 'send an object: {"accept": …, "outcome": …}'})
    rt = runtime()
    with rt.sessions() as session, session.begin():
        n, changes = notices.decide(
            rt,
            session,
            notice_id,
            body.get("accept"),
            body.get("outcome"),
            actor(),
            utcnow(),
            _scope_district(),
            web.address(),
        )
        answer = {
            "id": n.id,
            "number": n.number,
            "status": n.status,
            "events_resolved": n.events_resolved,
        }
    rt.ingestor.publish(changes, [], "notice")
    rt.live.bump_quietly()
    return json_response(answer)


# --- health -------------------------------------------------------------------------------
@health.get("/healthz")
def healthz():
    return json_response({"status": "ok"})


@health.get("/readyz")
def readyz():
    rt = runtime()
    checks: dict[str, str] = {}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    try:
        rt.redis.ping()
        beats = rt.live.heartbeats()
        checks["redis"] = "ok"
        if rt.settings.scheduler:
            age = time.time() - beats.get("scheduler", 0)
            checks["scheduler"] = "ok" if age < 90 else "no leader seen for 90 s"
    except Exception as exc:  # noqa: BLE001 - any Redis failure means not ready
        checks["redis"] = f"unreachable: {exc.__class__.__name__}"
    ok = all(v == "ok" for v in checks.values())
    return json_response(
        {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
    )
