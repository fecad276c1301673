"""人才队伍: The people: grid workers, social workers, mediators."""

import dash
from dash import html

dash.register_page(__name__, path="/talent", name="人才队伍", order=4)


def layout(**_kwargs):
    return html.Div(
        [
            html.H2("人才队伍", className="mt-3"),
            html.P(
                "The people: grid workers, social workers, mediators.", className="text-secondary"
            ),
            html.P("此页面正在建设中 — this page is being built.", className="text-secondary"),
        ],
        id="talent-page",
    )
