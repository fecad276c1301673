"""The event list as 事件流转 and 事件详情 show it: the grid's columns and the rows of
dashboard.views.flow.rows put into words (status, severity and source names, time left or
overdue by, a link to the incident)."""

from __future__ import annotations

from urllib.parse import quote

from dashboard.domain import SEVERITY_LABELS, SOURCE_LABELS, STATUS_LABELS
from dashboard.i18n import pick, t


def incident_href(row: dict, lang: str) -> str:
    path = f"/incident/{row['source']}/{quote(row['external_id'], safe='')}"
    return path + ("?lang=en" if lang == "en" else "")


def left_text(minutes: int | None, lang: str) -> str:
    """Time left to the closing deadline, or how long it is overdue."""
    if minutes is None:
        return ""
    span = abs(minutes)
    text = (
        f"{span // 1440}d {span % 1440 // 60}h" if span >= 1440 else f"{span // 60}h {span % 60}m"
    )
    return (
        f"{t('inc_overdue_by', lang)} {text}"
        if minutes < 0
        else f"{t('inc_time_left', lang)} {text}"
    )


def present(rows: list[dict], lang: str) -> list[dict]:
    """Grid rows: the names in the language, the link, nothing the grid should not carry."""
    out = []
    for r in rows:
        out.append(
            {
                "id": r["id"],
                "reported_at": r["reported_at"],
                "link": f"[{r['reported_at']}]({incident_href(r, lang)})",
                "area": r["area"],
                "category": " / ".join(x for x in (r["category"], r["subcategory"]) if x),
                "title": r["title"],
                "source": pick(SOURCE_LABELS[r["source"]], lang),
                "severity": r["severity"],
                "severity_name": pick(SEVERITY_LABELS[r["severity"]], lang),
                "department": r["department"] or "",
                "status": r["status"],
                "status_name": pick(STATUS_LABELS[r["status"]], lang),
                "close_deadline": r["close_deadline"] or "",
                "minutes_left": r["minutes_left"],
                "left": left_text(r["minutes_left"], lang),
                "supervised": "督" if r["supervised"] else "",
                "reporter": r["reporter"] or "",
            }
        )
    return out


def columns(lang: str, sortable: bool = False) -> list[dict]:
    """The list's columns; with `sortable` the four the server sorts on (views.flow.SORTS)."""

    def col(field: str, header: str, sort_key: str | None = None, **kw) -> dict:
        c = {"field": field, "headerName": t(header, lang), **kw}
        c["sortable"] = bool(sortable and sort_key)
        if sort_key and sort_key != field:
            c["colId"] = sort_key
        return c

    return [
        col("link", "col_time", "reported_at", cellRenderer="markdown", minWidth=150),
        col("area", "col_place", minWidth=220, flex=2, tooltipField="area"),
        col("category", "col_category", minWidth=150, flex=1.4),
        col("title", "col_title", minWidth=160, flex=1.6, tooltipField="title"),
        col("source", "col_source", minWidth=100),
        col(
            "severity_name",
            "col_severity",
            "severity",
            minWidth=80,
            flex=0.6,
            cellClassRules={"ev-major": "params.data && params.data.severity >= 3"},
        ),
        col("department", "col_department", minWidth=110),
        col("status_name", "col_status", "status", minWidth=90, flex=0.8),
        col("close_deadline", "col_deadline", "close_deadline", minWidth=140),
        col(
            "left",
            "col_left",
            minWidth=130,
            cellClassRules={"ev-overdue": "params.data && params.data.minutes_left < 0"},
        ),
        col(
            "supervised",
            "col_supervised",
            minWidth=60,
            flex=0.4,
            cellClassRules={"ev-supervised": "params.value"},
        ),
        col("reporter", "col_reporter", minWidth=80, flex=0.6),
    ]
