"""The layout of a page that is still being built (shared by those pages)."""

from dash import html


def placeholder(page_id: str, name: str, description: str):
    return html.Div(
        [
            html.H2(name),
            html.P(description),
            html.P("此页面正在建设中 — this page is being built."),
        ],
        id=page_id,
        className="page-message",
    )
