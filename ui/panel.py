"""A titled panel of a desk page (督办考核, 事件流转, 事件详情, 风险预警), and its charts."""

from __future__ import annotations

from dash import dcc, html

from dashboard.i18n import t
from ui.figures import CONFIG


def panel(title_key: str, body, lang: str, extra=None, panel_id: str | None = None):
    """A section with its title (a label key) and, beside the title, `extra` controls."""
    head = [html.H2(t(title_key, lang), className="panel-title")]
    if extra is not None:
        head.append(extra)
    kwargs = {"id": panel_id} if panel_id else {}
    return html.Section(
        [html.Div(head, className="sv-panel-head"), html.Div(body, className="sv-panel-body")],
        className="sv-panel",
        **kwargs,
    )


def graph(graph_id, height: str) -> dcc.Graph:
    """A chart of a desk page: the app's chart settings, a height that follows the screen."""
    return dcc.Graph(id=graph_id, config=CONFIG, style={"height": height})
