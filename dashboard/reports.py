"""Reports kept by the scheduler: every Monday morning the 周例会 report of the week that ended
(its figures, its 通报 as issued, the workbook and the PDF), kept once whatever the number of
processes, listed and downloadable as it was made. Regenerating a kept week gives the same
figures: the KPI settings are those in force at the week's end (dashboard.kpisettings)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard import reportpdf, weekly
from dashboard.clock import utcnow
from dashboard.models import WeeklyReport

MONDAY_FROM_HOUR = 6  # local: the report of the week that ended is made from Monday 06:00


def kept_reports(session: Session) -> list[dict]:
    """The kept reports, newest first (without their files)."""
    rows = session.execute(
        select(
            WeeklyReport.week, WeeklyReport.generated_at, WeeklyReport.pdf.is_not(None)
        ).order_by(WeeklyReport.week.desc())
    ).all()
    return [{"week": w, "generated_at": at, "has_pdf": bool(pdf)} for w, at, pdf in rows]


def kept_file(session: Session, week: weekly.Week, kind: str) -> bytes | None:
    column = WeeklyReport.pdf if kind == "pdf" else WeeklyReport.xlsx
    return session.execute(select(column).where(WeeklyReport.week == week.label)).scalar()


def keep_report(rt, week: weekly.Week, now: datetime) -> bool:
    """Generate a week's report and keep it, once: False when it is kept already (another
    process, or an earlier run, made it). The unique week settles a race."""
    zone = rt.settings.zone
    with rt.sessions() as session:
        if session.execute(select(WeeklyReport.id).where(WeeklyReport.week == week.label)).first():
            return False
        f = weekly.figures(session, week, now, zone, rt.settings.staffing)
        text, _edited = weekly.bulletin_text(
            session, week, weekly.bulletin(f, rt.settings.city_name)
        )
    try:
        pdf = reportpdf.weekly_pdf(
            f, text, rt.settings.city_name, now, zone, rt.settings.report_font
        )
    except reportpdf.FontMissing:
        pdf = None
    row = WeeklyReport(
        week=week.label,
        generated_at=now,
        figures=orjson.dumps(f, option=orjson.OPT_NON_STR_KEYS).decode(),
        text=text,
        xlsx=weekly.to_xlsx(f, text),
        pdf=pdf,
    )
    try:
        with rt.sessions() as session, session.begin():
            session.add(row)
    except IntegrityError:
        return False
    return True


def monday_job(rt, now: datetime | None = None) -> dict:
    """The scheduler's job (hourly): from Monday 06:00 local, last week's report, kept once —
    on a later day too, when the server was down on Monday."""
    now = now or utcnow()
    zone = rt.settings.zone
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    if local.weekday() == 0 and local.hour < MONDAY_FROM_HOUR:
        return {"kept": None}
    week = weekly.last_week(now, zone)
    return {"week": week.label, "kept": keep_report(rt, week, now)}
