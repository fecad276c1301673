"""周例会: The weekly review meeting bulletin (通报)."""

import dash
from dash import html

dash.register_page(__name__, path="/weekly", name="周例会", order=5)


def layout(**_kwargs):
    return html.Div(
        [
            html.H2("周例会", className="mt-3"),
            html.P("The weekly review meeting bulletin (通报).", className="text-secondary"),
            html.P("此页面正在建设中 — this page is being built.", className="text-secondary"),
        ],
        id="weekly-page",
    )
