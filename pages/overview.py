"""总览: the big-screen overview (the full wall arrives with its own issue; today's tiles now)."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

dash.register_page(__name__, path="/", name="总览", order=0)

TILES = "overview-tiles"
TICK = "overview-tick"

TILE_LABELS = [
    ("received", "今日受理"),
    ("accepted", "今日立案"),
    ("closed", "今日结案"),
    ("open", "在办事件"),
    ("overdue", "超期未办结"),
]


def layout(**_kwargs):
    return html.Div(
        [
            dcc.Interval(id=TICK, interval=5000),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.Div(label, className="tile-label"),
                                    html.Div("—", id=f"{TILES}-{key}", className="tile-value"),
                                ]
                            ),
                            className="tile",
                        )
                    )
                    for key, label in TILE_LABELS
                ],
                className="g-3 mt-2",
            ),
            html.Div(id=f"{TILES}-stamp", className="text-secondary mt-3"),
        ]
    )
