"""Who may do what, and where (DESIGN §8): roles, permissions, area scope.

Everything here is decided on the server. Pages, callbacks and API endpoints ask
`allowed(principal, permission)` and `district_for(principal, requested)`; hiding a button is
never the check.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import UserMixin

# What each role may do. `wall`: the dashboard pages (read-only); `read`: the read API;
# `act`: actions on events and alerts; `approve`: decide 延期 requests; `reveal`: see personal data, with a reason;
# `export`: download tables; `admin`: users, tokens, configuration, the audit log.
PERMISSIONS: dict[str, frozenset[str]] = {
    "leader": frozenset({"wall", "read"}),
    "duty_officer": frozenset({"wall", "read", "act", "approve", "reveal"}),
    "district_officer": frozenset({"wall", "read", "act"}),
    "analyst": frozenset({"wall", "read", "export"}),
    "admin": frozenset({"wall", "read", "admin", "export"}),
    "display": frozenset({"wall"}),
}
# Roles bound to one district: they see and act on that district only.
SCOPED_ROLES = frozenset({"district_officer"})


class ScopeError(PermissionError):
    """A request for an area outside the principal's scope."""


@dataclass(frozen=True)
class Principal(UserMixin):
    """A signed-in person or wall display, as the session knows it."""

    session_id: str  # what the session cookie carries (see web.principal_id)
    name: str
    role: str
    kind: str = "user"  # user | display
    district_id: int | None = None
    district_code: str | None = None
    district_name: str | None = None

    def get_id(self) -> str:
        return self.session_id

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"display:{self.name}" if self.kind == "display" else self.name

    @property
    def scoped(self) -> bool:
        return self.role in SCOPED_ROLES


def allowed(principal, permission: str) -> bool:
    if principal is None or not getattr(principal, "is_authenticated", False):
        return False
    return permission in PERMISSIONS.get(principal.role, frozenset())


def district_for(principal: Principal, requested: str | None) -> str | None:
    """The district a view may show: whatever is asked for by a city-wide role (None = the
    city); for a district-bound role its own district, and ScopeError for any other."""
    if not principal.scoped:
        return requested or None
    if not principal.district_code:  # bound to a district that is gone: nothing at all
        raise ScopeError("no district")
    if requested and requested != principal.district_code:
        raise ScopeError(f"outside your area: {requested}")
    return principal.district_code
