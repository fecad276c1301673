"""事件流转: The event loop: 发现 → 立案 → 派遣 → 处置 → 结案, drill-down to a single incident."""

import dash
from dash import html

dash.register_page(__name__, path="/flow", name="事件流转", order=1)


def layout(**_kwargs):
    return html.Div(
        [
            html.H2("事件流转", className="mt-3"),
            html.P(
                "The event loop: 发现 → 立案 → 派遣 → 处置 → 结案, drill-down to a single incident.",
                className="text-secondary",
            ),
            html.P("此页面正在建设中 — this page is being built.", className="text-secondary"),
        ],
        id="flow-page",
    )
