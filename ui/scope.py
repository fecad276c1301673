"""Who a callback acts for, and the district it is held to."""

from __future__ import annotations

from dash.exceptions import PreventUpdate

from dashboard.access import Principal, ScopeError, district_for
from dashboard.web import current


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
