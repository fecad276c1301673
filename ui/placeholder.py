"""The layout of a page that is still being built (shared by those pages)."""

from dash import html


def placeholder(page_id: str, name: str, description: str):
    return html.Div(
        [
            html.H2(name, className="mt-3"),
            html.P(description, className="text-secondary"),
            html.P("此页面正在建设中 — this page is being built.", className="text-secondary"),
        ],
        id=page_id,
    )
