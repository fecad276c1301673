"""督办考核: Supervision and assessment: KPIs by department and district (红黑榜)."""

import dash
from dash import html

dash.register_page(__name__, path="/supervision", name="督办考核", order=2)


def layout(**_kwargs):
    return html.Div(
        [
            html.H2("督办考核", className="mt-3"),
            html.P(
                "Supervision and assessment: KPIs by department and district (红黑榜).",
                className="text-secondary",
            ),
            html.P("此页面正在建设中 — this page is being built.", className="text-secondary"),
        ],
        id="supervision-page",
    )
