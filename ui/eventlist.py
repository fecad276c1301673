"""The event list as 事件流转 and 事件详情 show it: the grid's columns; the rows come from
dashboard.views.flow.present (names in the language, time left, the link to the incident)."""

from __future__ import annotations

from dashboard.i18n import t
from dashboard.views.flow import incident_href, left_text, present

__all__ = ["columns", "incident_href", "left_text", "present"]


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
            cellClassRules={"ev-major": {"function": "params.data && params.data.severity >= 3"}},
        ),
        col("department", "col_department", minWidth=110),
        col("status_name", "col_status", "status", minWidth=90, flex=0.8),
        col("close_deadline", "col_deadline", "close_deadline", minWidth=140),
        col(
            "left",
            "col_left",
            minWidth=130,
            cellClassRules={
                "ev-overdue": {"function": "params.data && params.data.minutes_left < 0"}
            },
        ),
        col(
            "supervised",
            "col_supervised",
            minWidth=60,
            flex=0.4,
            cellClassRules={"ev-supervised": {"function": "!!params.value"}},
        ),
        col("reporter", "col_reporter", minWidth=80, flex=0.6),
    ]
