"""A page declares itself once — path, titles, navigation order, the permission it needs, the
prefix of its component ids, whether it rotates on the wall — and everything else is derived
from that declaration: the gate (dashboard.gate), the navigation, the wall's playlist, and the
role check inside the layout itself.

    register_page(__name__, path="/flow", name="事件流转", name_en="Event flow", order=1,
                  permission="wall", prefix="flow-", rotate=True)

`register_page` is dash.register_page with these keywords required (Dash finds page modules by
that name in their text).

Adding a page is its own modules: pages/<page>.py (declaration and layout), callbacks/<page>.py
(found by the callbacks package) and, for its data, dashboard/views/<page>.py.
"""

from __future__ import annotations

import functools

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.access import allowed
from dashboard.gate import Gate, PageRule
from dashboard.i18n import t
from dashboard.web import current

REQUIRED = ("permission", "prefix", "name_en", "rotate")


def register_page(
    module: str,
    *,
    path: str,
    name: str,
    name_en: str,
    permission: str | None,
    prefix: str,
    order: int | None = None,
    nav: bool = True,
    rotate: bool = False,
    path_template: str | None = None,
    layout=None,
) -> None:
    """Register a page in Dash's page registry with what the gate and the shell need.

    permission: a dashboard.access permission ("wall", "admin" …), or None for any signed-in
    principal. prefix: every component id of the page starts with it ("flow-"); the gate maps
    callbacks to pages by it. rotate: the page belongs in the wall's rotation playlist.
    """
    extra = {"layout": layout} if layout is not None else {}
    dash.register_page(
        module,
        path=path,
        path_template=path_template,
        name=name,
        name_en=name_en,
        title=name,
        order=order,
        nav=nav,
        permission=permission,
        prefix=prefix,
        rotate=rotate,
        **extra,
    )


def declared() -> list[dict]:
    """The declared pages in navigation order. A page registered with dash.register_page
    directly stops the app: the gate could not know who may see it."""
    pages = list(dash.page_registry.values())
    for page in pages:
        missing = [k for k in REQUIRED if k not in page]
        if missing:
            raise RuntimeError(
                f"page {page['module']} ({page['path']}) is not declared with ui.page.register_page: "
                f"it lacks {', '.join(missing)}"
            )
    return pages


def gate(callbacks) -> Gate:
    """The gate of the declared pages; `callbacks` gives the app's registered callbacks."""
    return Gate(
        (
            PageRule(p["path"], p["permission"], p["prefix"], p.get("path_template"))
            for p in declared()
        ),
        callbacks,
    )


def guard_layouts() -> None:
    """Each layout checks its page's permission itself too: if the gate were ever bypassed, a
    refused principal would still get no content."""
    for page in declared():
        layout = page.get("layout")
        if page["permission"] is None or getattr(layout, "guarded", False):
            continue
        page["layout"] = _guarded(layout, page["permission"])


def _guarded(layout, permission: str):
    def guarded(**kwargs):
        if not allowed(current(), permission):
            lang = "en" if kwargs.get("lang") == "en" else "zh"
            return html.Div(t("not_allowed", lang), className="page-refused")
        return layout(**kwargs) if callable(layout) else layout

    if callable(layout):
        functools.update_wrapper(guarded, layout)
    guarded.guarded = True
    return guarded


def title(page: dict, lang: str) -> str:
    return page["name"] if lang == "zh" else page["name_en"]


def nav_links(lang: str, search: str = "") -> list:
    """The navigation in a language: the declared pages the principal may see; links keep the
    query (kiosk, rotation, language)."""
    principal = current()
    return [
        dbc.NavItem(dbc.NavLink(title(p, lang), href=p["relative_path"] + search, active="exact"))
        for p in declared()
        if p["nav"] and _may_see(principal, p)
    ]


def playlist() -> list[str]:
    """The wall's rotation (`?rotate=30`): the declared pages that rotate and that the
    principal may see, in navigation order."""
    principal = current()
    return [p["relative_path"] for p in declared() if p["rotate"] and _may_see(principal, p)]


def _may_see(principal, page: dict) -> bool:
    return page["permission"] is None or allowed(principal, page["permission"])
