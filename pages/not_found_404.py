"""The page for an address no page declares (Dash's router shows it; the gate answers 404)."""

from dash import dcc, html

from dashboard.i18n import t
from ui.page import register_page

register_page(
    __name__,
    path="/404",
    name="页面不存在",
    name_en="Page not found",
    nav=False,
    permission=None,
    prefix="notfound-",
)


def layout(lang: str = "zh", **_kwargs):
    lang = "en" if lang == "en" else "zh"
    return html.Div(
        [
            html.H2(t("not_found", lang)),
            html.P(t("not_found_detail", lang)),
            dcc.Link(t("to_overview", lang), href="/" if lang == "zh" else "/?lang=en"),
        ],
        id="notfound-page",
        className="page-message",
    )
