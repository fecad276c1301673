"""风险预警: Risk alerts: surges, repeats, backlogs, major events."""

import dash
from dash import html

dash.register_page(__name__, path="/risk", name="风险预警", order=3)


def layout(**_kwargs):
    return html.Div(
        [
            html.H2("风险预警", className="mt-3"),
            html.P(
                "Risk alerts: surges, repeats, backlogs, major events.", className="text-secondary"
            ),
            html.P("此页面正在建设中 — this page is being built.", className="text-secondary"),
        ],
        id="risk-page",
    )
