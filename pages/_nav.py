"""The navigation bar's links (shared by the shell and its language callback)."""

import dash
import dash_bootstrap_components as dbc

from dashboard.access import allowed
from dashboard.web import current


def nav_links(lang: str, search: str = "") -> list:
    """The navigation in a language; links keep the query (kiosk, rotation, language)."""
    return [
        dbc.NavItem(
            dbc.NavLink(
                page["name"] if lang == "zh" else page.get("name_en", page["name"]),
                href=page["relative_path"] + search,
                active="exact",
            )
        )
        for page in dash.page_registry.values()
        if page.get("nav", True) and allowed(current(), page.get("permission", "wall"))
    ]
