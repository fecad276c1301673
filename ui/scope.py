"""Who a callback acts for, the district it is held to, the language it answers in, and the
district picker of a page."""

from __future__ import annotations

from dash import dcc
from dash.exceptions import PreventUpdate

from dashboard.access import Principal, ScopeError, district_for
from dashboard.i18n import t
from dashboard.queries import list_areas
from dashboard.web import current, runtime


def callback_scope() -> tuple[Principal, int | None]:
    """A callback's principal and the district it is held to (None: city-wide); nothing at all
    (PreventUpdate) for no principal or a district-bound one bound to no district."""
    principal = current()
    if principal is None:
        raise PreventUpdate
    if not principal.scoped:
        return principal, None
    try:
        district_for(principal, None)
    except ScopeError:
        raise PreventUpdate from None
    return principal, principal.district_id


def requested_district(requested) -> str | None:
    """The district a callback may show for what its page asks: a city-wide principal gets
    what it asked (None: the city), a district-bound one its own district; a crafted request
    for another district, or for something that is no code at all, gets nothing."""
    principal = current()
    if principal is None or not isinstance(requested, str | None):
        raise PreventUpdate
    try:
        return district_for(principal, requested or None)
    except ScopeError:
        raise PreventUpdate from None


def lang_of(value) -> str:
    """The page's language from a store (anything else a request sends: Chinese)."""
    return "en" if value == "en" else "zh"


def district_dropdown(component_id: str, district: str | None, principal, lang: str):
    """A page's district picker: the city by default, the district the URL names chosen (its
    options come with the page — a dropdown drops a value it has no option for), fixed to its
    own district for a district-bound principal."""
    with runtime().sessions() as session:
        districts = list_areas(session, level="district")
    bound = bool(principal and principal.scoped)
    return dcc.Dropdown(
        id=component_id,
        options=[{"label": d["name"], "value": d["code"]} for d in districts],
        value=district,
        placeholder=t("whole_city", lang),
        clearable=not bound,
        disabled=bound,
        className="sv-district",
    )
