"""The gate in front of every page, callback and API call (DESIGN §8), derived from the pages'
own declarations.

Each page declares once (pages/*.py through `ui.page.register_page`) its path, the permission it needs
and the prefix of its component ids. From those `Gate` answers:
- which page a path is (a path no page declares is a 404),
- which permission a callback needs, from its output ids (the shell's callbacks need a signed-in
  principal, the page router the permission of the page it renders); a callback whose outputs
  belong to no declared page is refused, and `check_callbacks` makes the app refuse to start.

`guard` runs before every request: static files, /login and health checks are open, /api/v1 has
its own token or session check, everything else needs a principal whose role allows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson
from flask import Response, g, redirect, request, session
from flask_login import current_user, logout_user

from dashboard import signin
from dashboard.access import allowed
from dashboard.i18n import t
from dashboard.schemas import NUL_MESSAGE, has_nul
from dashboard.web import current, expired, lang, refuse

OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/vendor/", "/_favicon.ico")
OPEN_PATHS = {"/login", "/healthz", "/readyz"}
SHELL_PREFIX = "shell-"  # the header, clock and language: any signed-in principal
ROUTER_PREFIX = "_pages_"  # Dash's page router: the permission of the page it renders
# Routes of the app itself (not pages): Dash's internals, the wall's session poll, accounts.
APP_ROUTES = ("/_dash", "/_reload", "/_session", "/logout", "/account/")
ANY = None  # the permission of a page any signed-in principal may see
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class UndeclaredCallback(RuntimeError):
    """A callback writes to components of no declared page: nobody could be allowed it."""


@dataclass(frozen=True)
class PageRule:
    """What the gate needs of a page's declaration."""

    path: str  # "/flow"
    permission: str | None  # dashboard.access permission; None: any signed-in principal
    prefix: str  # the page's component ids start with it ("flow-")
    path_template: str | None = None  # "/incident/<source>/<external_id>"

    def matches(self, stripped: str) -> bool:
        """`stripped`: a path without its leading and trailing slashes, as Dash's router
        compares them."""
        if self.path_template:
            parts = re.split(r"<[^>]*>", self.path_template.strip("/"))
            if re.fullmatch(".*".join(re.escape(p) for p in parts), stripped):
                return True
        return stripped == self.path.strip("/")


class Gate:
    def __init__(self, pages: Iterable[PageRule], callbacks: Callable[[], Container[str]] = tuple):
        """`callbacks` gives the output keys of the app's registered callbacks (Dash's
        callback map, complete once the app has set itself up)."""
        self.pages = tuple(pages)
        self.callbacks = callbacks
        prefixes = [p.prefix for p in self.pages]
        for p in self.pages:
            if not p.prefix or p.prefix.startswith((SHELL_PREFIX, ROUTER_PREFIX)):
                raise ValueError(f"page {p.path}: its id prefix {p.prefix!r} is not its own")
            clash = [q for q in prefixes if q != p.prefix and q.startswith(p.prefix)]
            if clash or prefixes.count(p.prefix) > 1:
                raise ValueError(f"page {p.path}: id prefix {p.prefix!r} overlaps {clash}")

    # --- pages --------------------------------------------------------------------------------
    def page_for(self, path: str) -> PageRule | None:
        stripped = path.strip().strip("/")
        return next((p for p in self.pages if p.matches(stripped)), None)

    def _owner(self, component_id: str) -> PageRule | None:
        return next((p for p in self.pages if component_id.startswith(p.prefix)), None)

    # --- callbacks ----------------------------------------------------------------------------
    def callback_permission(self, body: dict) -> str | bool | None:
        """The permission a callback request needs (None: any principal); False: refused."""
        ids = output_ids(body)
        if not ids:
            return False
        needed: set[str | None] = set()
        for oid in ids:
            if oid.startswith(SHELL_PREFIX):
                needed.add(ANY)
            elif oid.startswith(ROUTER_PREFIX):
                needed |= self._router_permissions(body)
            else:
                page = self._owner(oid)
                if page is None:
                    return False
                needed.add(page.permission)
        needed.discard(ANY)
        if "admin" in needed:
            return "admin"  # admin implies every other permission here (access.PERMISSIONS)
        if len(needed) > 1:
            return False
        return needed.pop() if needed else ANY

    def _router_permissions(self, body: dict) -> set[str | None]:
        """The router renders the page of a path; Dash passes inputs by position, so every
        text value in the request that is a path (starts with /; `malformed` refuses a router
        request whose path does not) counts, and the strictest page decides. The query string
        and the hash are not paths: "" would otherwise read as the overview's "/"."""
        values = [
            i.get("value")
            for i in _list(body.get("inputs")) + _list(body.get("state"))
            if isinstance(i, dict)
            and isinstance(i.get("value"), str)
            and i["value"].startswith("/")
        ]
        pages = [self.page_for(v) for v in values]
        return {p.permission for p in pages if p is not None} or {ANY}

    def malformed(self, body: dict) -> str | None:
        """Why a callback request cannot be one the app's own pages send (None: it can be).
        Dash would fail on it (500): an output no callback has, a router path that is no path."""
        if body.get("output") not in self.callbacks():
            return "no such callback"
        if any(oid.startswith(ROUTER_PREFIX) for oid in output_ids(body)):
            # Dash passes the router's inputs by position: the path, then the query string.
            values = [
                i.get("value") if isinstance(i, dict) else i for i in _list(body.get("inputs"))
            ]
            path, search = [*values, None, None][:2]
            if not (isinstance(path, str) and path.startswith("/")):
                return "the page's path must start with /"
            if not (search is None or isinstance(search, str)):
                return "the query string must be text"
        return None

    def check_callbacks(self, outputs: Iterable[str]) -> None:
        """Every callback (given by Dash's output string) must write to the shell, the router or
        components of a declared page; otherwise the app must not start."""
        for output in outputs:
            for oid in output_ids({"output": output}):
                if oid.startswith((SHELL_PREFIX, ROUTER_PREFIX)) or self._owner(oid):
                    continue
                raise UndeclaredCallback(
                    f"the callback with outputs {output!r} writes to {oid!r}, which belongs to no "
                    "declared page: give its page the id prefix (ui.page.register_page(prefix=…))"
                )


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _id_name(oid) -> str:
    if isinstance(oid, dict):
        return str(oid.get("type", ""))
    text = str(oid)
    if text.startswith("{"):  # a pattern-matching id inside the output string
        try:
            return str(orjson.loads(text).get("type", ""))
        except (orjson.JSONDecodeError, AttributeError):
            return text
    return text


def output_ids(body: dict) -> list[str]:
    """Every output id of a callback request: from `output` (the key Dash dispatches on) and
    from `outputs`, so that the two cannot disagree to slip past the gate."""
    ids = []
    output = body.get("output")
    if isinstance(output, str):
        parts = output[2:-2].split("...") if output.startswith("..") else [output]
        ids += [_id_name(part.rsplit(".", 1)[0]) for part in parts if part]
    outs = body.get("outputs")
    for o in outs if isinstance(outs, list) else [outs]:
        if isinstance(o, dict):
            ids.append(_id_name(o.get("id")))
    return ids


# --- the request hook ---------------------------------------------------------------------
def _login_redirect(reason: str | None = None):
    if request.path.startswith("/_") or request.method != "GET":
        return refuse(401, t("sign_in_first", lang()))
    query = {"next": request.full_path.rstrip("?")}
    if reason:
        query["reason"] = reason
    return redirect("/login?" + urlencode(query))


def _nul_in_request() -> bool:
    """A NUL character in the address, the query or a form: refused before anything reads them
    (PostgreSQL cannot compare or store one). JSON bodies are checked field by field where
    they are read (dashboard.schemas)."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method == "POST" and request.mimetype in FORM_TYPES:
        values += [*request.form.keys(), *request.form.values()]
    return has_nul(values)


def guard(gate: Gate):
    """The before-request hook (bound to the app's Gate by `dashboard.security.install`)."""
    path = request.path
    if _nul_in_request():
        return _bad_request(NUL_MESSAGE)
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    if path.startswith("/api/"):
        if request.blueprint == "api":
            return None  # the API checks tokens or the session itself (dashboard.api)
        return Response(b'{"error":"no such endpoint"}', 404, mimetype="application/json")
    token = request.args.get("token")
    if token and request.method == "GET":
        return signin.display_sign_in(token)
    if current_user.is_authenticated and expired(current_user):
        logout_user()
        session.clear()
        return _login_redirect("expired")
    principal = current()
    if principal is None:
        return _login_redirect()
    if path == "/_dash-update-component":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return refuse(400, "invalid callback request")
        if has_nul(body):
            return refuse(400, NUL_MESSAGE)
        needed = gate.callback_permission(body)
        if needed is False or (needed and not allowed(principal, needed)):
            return refuse(403, t("not_allowed", lang()))
        problem = gate.malformed(body)  # allowed, but nothing the app's pages would send
        if problem:
            return refuse(400, problem)
        return None
    if path.startswith(APP_ROUTES):
        return None
    page = gate.page_for(path)
    if page is None:
        g.cc_not_found = True  # the shell answers, its router shows the 404 page (below)
        return None
    if page.permission and not allowed(principal, page.permission):
        return refuse(403, t("not_allowed", lang()))
    return None


def _bad_request(message: str):
    body = orjson.dumps({"error": message})
    if request.path.startswith(("/api/", "/_")) or request.method != "GET":
        return Response(body, 400, mimetype="application/json")
    return refuse(400, message)


def not_found_status(response):
    """After-request hook: a path no page declares is answered 404 (with the shell, whose
    router shows the not-found page and the navigation)."""
    if g.get("cc_not_found") and response.status_code == 200:
        response.status_code = 404
    return response
