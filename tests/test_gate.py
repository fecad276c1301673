"""The gate derived from page declarations (dashboard.gate, ui.page): page matching, callback
permissions, the refusal to start with an undeclared callback, and a page added in its own
files only (built in a copy of the app, in a process of its own)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboard.access import PERMISSIONS
from dashboard.clock import utcnow
from dashboard.gate import Gate, PageRule, UndeclaredCallback
from tests.conftest import ADMIN_PAGES, PAGES, as_role, rt_client
from tests.dash_requests import callback, callbacks, route
from tests.factories import event

ROOT = Path(__file__).resolve().parent.parent
READ_API = ["/api/v1/kpis", "/api/v1/areas", "/api/v1/categories", "/api/v1/departments",
            "/api/v1/sources", "/api/v1/alerts"]  # fmt: skip
ROLES = list(PERMISSIONS)

GATE = Gate(
    [
        PageRule("/", "wall", "overview-"),
        PageRule("/flow", "wall", "flow-"),
        PageRule("/admin/users", "admin", "admin-user-"),
        PageRule("/incident", "read", "incident-", "/incident/<source>/<external_id>"),
        PageRule("/404", None, "notfound-"),
    ]
)


def test_paths_match_pages_as_dashs_router_does():
    assert GATE.page_for("/").prefix == "overview-"
    assert GATE.page_for("/flow/").prefix == "flow-"
    assert GATE.page_for("admin/users").permission == "admin"
    assert GATE.page_for(" /admin/users").permission == "admin"
    assert GATE.page_for("/incident/grid/E-1").prefix == "incident-"
    for unknown in ("/nope", "/flow/x", "/admin", "/incidents/grid/1"):
        assert GATE.page_for(unknown) is None, unknown


def _body(*outputs: str, path: str | None = None) -> dict:
    inputs = [{"id": "_pages_location", "property": "pathname", "value": path}] if path else []
    parts = [f"{o}.children" for o in outputs]
    output = parts[0] if len(parts) == 1 else ".." + "...".join(parts) + ".."
    return {"output": output, "inputs": inputs}


def test_callbacks_need_the_permission_of_the_page_that_owns_their_outputs():
    assert GATE.callback_permission(_body("shell-clock")) is None
    assert GATE.callback_permission(_body("flow-grid")) == "wall"
    assert GATE.callback_permission(_body("admin-user-grid")) == "admin"
    assert GATE.callback_permission(_body("notfound-x")) is None
    assert GATE.callback_permission(_body("secret-x")) is False  # no page owns it
    assert GATE.callback_permission(_body("shell-clock", "secret-x")) is False
    assert GATE.callback_permission({"output": 5}) is False
    # The router needs the permission of the page it would render; unknown paths are the 404.
    assert GATE.callback_permission(_body("_pages_content", path="/admin/users/")) == "admin"
    assert GATE.callback_permission(_body("_pages_content", path="/flow")) == "wall"
    assert GATE.callback_permission(_body("_pages_content", path="/nope")) is None
    # The query string and hash beside the path are no paths ("" is not the overview's "/").
    routed = _body("_pages_content", path="/incident/grid/E1")
    routed["inputs"] += [{"id": "_pages_location", "property": p, "value": ""} for p in ("search", "hash")]  # fmt: skip
    assert GATE.callback_permission(routed) == "read"


def test_declarations_must_not_share_id_prefixes():
    with pytest.raises(ValueError, match="overlaps"):
        Gate([PageRule("/a", "wall", "admin-"), PageRule("/b", "admin", "admin-user-")])
    with pytest.raises(ValueError, match="not its own"):
        Gate([PageRule("/a", "wall", "shell-extra-")])


def test_an_undeclared_callback_is_named():
    GATE.check_callbacks(["..flow-a.children...flow-b.data..", "shell-clock.children"])
    with pytest.raises(UndeclaredCallback, match="orphan-list"):
        GATE.check_callbacks(["..flow-a.children...orphan-list.children.."])


# --- a page added in its own files --------------------------------------------------------
SECRET_PAGE = '''
"""A page for administrators only (added by the test)."""

from dash import html

from ui.page import register_page

register_page(__name__, path="/secret", name="机密", name_en="Secret", order=8,
              permission="admin", prefix="secret-", rotate=True)


def layout(**_kwargs):
    return html.Div(html.Div(id="secret-out"), id="secret-page")
'''
SECRET_CALLBACKS = """
from dash import Input, Output, callback


@callback(Output("secret-out", "children"), Input("secret-page", "id"))
def show_secret(_):
    return "机密内容"
"""
ORPHAN_CALLBACKS = """
from dash import Input, Output, callback


@callback(Output("orphan-list", "children"), Input("shell-lang", "data"))
def orphan(_):
    return "?"
"""
# Runs inside the copy: builds the app, signs in each role, and reports what each one gets.
PROBE = """
import json, re, sys
from pathlib import Path

from dashboard import auth
from dashboard.config import Settings
from dashboard.runtime import Runtime

var = Path(sys.argv[1])
settings = Settings(var_dir=var, secret_key="k", demo=False, scheduler=False, simulator_rate=0)
rt = Runtime.create(settings)
from app import create_app

try:
    app = create_app(settings, rt, start_scheduler=False)
except Exception as exc:
    print(json.dumps({"refused": f"{type(exc).__name__}: {exc}"}))
    rt.close()
    sys.exit(0)
server = app.server
out = {}
for role in ("admin", "leader", "duty_officer", "analyst", "display"):
    c = server.test_client()
    with rt.sessions() as s, s.begin():
        if role == "display":
            token = auth.create_token(s, "wall", "display")
        else:
            _user, password = auth.create_user(s, role + "1", role)
    if role == "display":
        c.get("/?token=" + token)
    else:
        form = c.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        c.post("/login", data={"username": role + "1", "password": password, "csrf_token": csrf})
    c.get("/")
    c.environ_base["HTTP_X_CSRFTOKEN"] = c.get_cookie("_csrf_token").value
    shell = c.get("/_dash-layout").json  # the shell as this principal gets it

    def find(node, wanted):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == wanted:
                return node["props"]
            return next((f for v in node.values() if (f := find(v, wanted))), None)
        if isinstance(node, list):
            return next((f for v in node if (f := find(v, wanted))), None)
        return None

    nav = json.dumps(find(shell, "shell-nav"), ensure_ascii=False)
    router = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/secret"},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "state": [], "changedPropIds": ["_pages_location.pathname"],
    }
    routed = c.post("/_dash-update-component", json=router)
    cb = c.post("/_dash-update-component", json={
        "output": "secret-out.children", "outputs": {"id": "secret-out", "property": "children"},
        "inputs": [{"id": "secret-page", "property": "id", "value": "secret-page"}],
        "state": [], "changedPropIds": ["secret-page.id"],
    })
    playlist = find(shell, "shell-playlist")["data-paths"].split(",")
    out[role] = {
        "page": c.get("/secret").status_code,
        "router": routed.status_code,
        "rendered": "secret-page" in routed.get_data(as_text=True),
        "callback": cb.status_code,
        "content": "机密内容" in cb.get_data(as_text=True),
        "nav": '"href": "/secret' in nav,
        "playlist": "/secret" in playlist,
    }
print(json.dumps(out))
rt.close()
"""


def _copy_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """The app's own layers (entry point, pages, callbacks, ui, assets, templates) copied, with
    some files added; the core (dashboard) is used from the repository, unchanged."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(ROOT / "app.py", site)
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("pages", "callbacks", "ui", "assets", "templates"):
        shutil.copytree(ROOT / folder, site / folder, ignore=ignore)
    for name, text in files.items():
        (site / name).write_text(textwrap.dedent(text))
    (site / "probe.py").write_text(PROBE)
    return site


def _probe(site: Path, tmp_path: Path) -> dict:
    import json

    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, str(site / "probe.py"), str(tmp_path / "var")],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_new_admin_page_is_its_own_files_and_nobody_else_gets_it(tmp_path):
    site = _copy_with(
        tmp_path, {"pages/secret.py": SECRET_PAGE, "callbacks/secret.py": SECRET_CALLBACKS}
    )
    seen = _probe(site, tmp_path)
    assert seen["admin"] == {
        "page": 200,
        "router": 200,
        "rendered": True,
        "callback": 200,
        "content": True,
        "nav": True,
        "playlist": True,
    }
    for role in ("leader", "duty_officer", "analyst", "display"):
        assert seen[role] == {
            "page": 403,
            "router": 403,
            "rendered": False,
            "callback": 403,
            "content": False,
            "nav": False,
            "playlist": False,
        }, role


@pytest.mark.slow
def test_a_callback_of_no_declared_page_stops_the_app(tmp_path):
    site = _copy_with(tmp_path, {"callbacks/orphan.py": ORPHAN_CALLBACKS})
    seen = _probe(site, tmp_path)
    assert seen["refused"].startswith("UndeclaredCallback")
    assert "orphan-list" in seen["refused"]


def test_strangers_get_nothing(client, city):
    for path in [*PAGES, *ADMIN_PAGES, "/account/password", "/no-such-page"]:
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next="), path
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 401, path
    r = client.post(
        "/_dash-update-component",
        json={
            "output": "overview-seen-fast.data",
            "outputs": {"id": "overview-seen-fast", "property": "data"},
            "inputs": [],
        },
    )
    assert r.status_code == 401 and b"overview" not in r.data
    for path in READ_API:
        assert client.get(path).status_code == 401, path
    assert client.post("/api/v1/alerts/1/ack").status_code == 401
    # What stays open: the sign-in page, health checks and static files.
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/assets/shell.css").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_page_callback_and_endpoint(client, rt, city, role):
    allowed = PERMISSIONS[role]
    c = as_role(client, rt, role)
    for path in PAGES:
        assert c.get(path).status_code == (200 if "wall" in allowed else 403), (role, path)
    for path in ADMIN_PAGES:
        assert c.get(path).status_code == (200 if "admin" in allowed else 403), (role, path)
    for body in callbacks(c, {"_pages_location": "/"}):
        r = c.post("/_dash-update-component", json=body)
        outs = body["output"]
        # admin pages need `admin`; 事件详情 (a case's record) needs `read`: not for displays
        needs = "admin" if "admin-" in outs else "read" if "incident-" in outs else "wall"
        expect_refused = needs not in allowed
        if expect_refused:
            assert r.status_code == 403, (role, outs, r.status_code)
        else:
            assert r.status_code in (200, 204), (role, outs, r.status_code, r.data[:300])
    # The page router refuses an admin page's layout to the other roles.
    r = route(c, "/admin/users")
    assert r.status_code == (200 if "admin" in allowed else 403), role
    for path in READ_API:
        assert c.get(path).status_code == (200 if "read" in allowed else 403), (role, path)
    assert c.get("/api/v1/events/grid/NONE").status_code == (404 if "read" in allowed else 403)
    assert c.get("/api/v1/events/export.csv").status_code == (200 if "export" in allowed else 403)
    reveal = c.post("/api/v1/events/grid/NONE/reveal", json={"reason": "回访核实"})
    assert reveal.status_code == (404 if "reveal" in allowed else 403), role
    # Ingest needs a token; nobody ingests with a session.
    assert c.post("/api/v1/events", json=event("S1", utcnow())).status_code == 401
    # Actions: unknown alert → 404 for city-wide roles allowed to act, 403 for the others (a
    # district officer learns nothing about alerts outside the district, not even existence).
    if role == "district_officer":
        allowed = allowed - {"act"}
    assert c.post("/api/v1/alerts/999/ack", json={}).status_code == (
        404 if "act" in allowed else 403
    )


def test_strangers_get_no_callback_and_no_api_route(client, rt, city):
    signed = as_role(rt_client(client), rt, "admin")
    bodies = callbacks(signed)
    assert len(bodies) >= 6
    for body in bodies:
        r = client.post("/_dash-update-component", json=body)
        assert r.status_code == 401, body["output"]
    rules = [r for r in client.application.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert len(rules) >= 12
    for rule in rules:
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(
                rf"<[^>]*{arg}>",
                "1"
                if arg.endswith("_id") and arg != "external_id"
                else "ack"
                if arg == "action"
                else "grid",
                url,
            )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            r = client.open(url, method=method, json={})
            assert r.status_code == 401, (method, url, r.status_code)


def test_crafted_callback_requests_do_not_slip_past_the_gate(client, rt, city):
    c = as_role(client, rt, "leader")
    admin_grid = next(b for b in callbacks(c) if "admin-user-grid" in b["output"])
    clock = next(b for b in callbacks(c) if "shell-clock" in b["output"])
    # Dash dispatches on `output`; a harmless `outputs` list does not make it harmless.
    crafted = dict(admin_grid, outputs=clock["outputs"])
    assert c.post("/_dash-update-component", json=crafted).status_code == 403
    # The router takes its inputs by position: an admin path anywhere in them is refused.
    router = next(b for b in callbacks(c) if "_pages_content" in b["output"])
    values = [dict(i) for i in router["inputs"]]
    values[0] = {"id": "decoy", "property": "pathname", "value": "/admin/audit"}
    values.append({"id": "_pages_location", "property": "pathname", "value": "/"})
    assert c.post("/_dash-update-component", json=dict(router, inputs=values)).status_code == 403
    # Unknown outputs are refused, and so is a body that is not a callback request.
    assert (
        c.post(
            "/_dash-update-component", json=dict(clock, output="secret-thing.children")
        ).status_code
        == 403
    )
    assert c.post("/_dash-update-component", data="not json").status_code == 400


def test_crafted_callbacks_that_dash_would_fail_on_are_refused(client, rt, city):
    """Outputs no callback has (under a declared prefix too) and router paths that are no
    path reached Dash and failed with a 500; they are a 400 now."""
    admin = as_role(client, rt, "admin")
    clock = callback(admin, "shell-clock")
    for out in ("shell-nope.children", "overview-nope.children", "admin-user-nope.children"):
        body = dict(clock, output=out, outputs={"id": out.split(".")[0], "property": "children"})
        r = admin.post("/_dash-update-component", json=body)
        assert r.status_code == 400 and r.json["error"] == "no such callback", out
    for path in ("admin/users", " /admin/users", "", 5, ["/"], {"p": "/"}):
        r = route(admin, path)
        assert r.status_code == 400, path
    r = route(admin, "/flow", search=7)
    assert r.status_code == 400
    # What the app's pages really send still works, for the pages and the 404.
    assert route(admin, "/admin/users").status_code == 200
    assert route(admin, "//admin//users").status_code == 200  # Dash's router: the 404 page
    assert admin.post("/_dash-update-component", json=clock).status_code == 200


def test_layouts_check_their_pages_permission_themselves(web_app):
    """Behind the gate, each layout refuses a principal its page's declaration does not allow."""
    import time

    import dash
    from flask import session
    from flask_login import login_user

    from dashboard.access import Principal

    layout = dash.page_registry["admin_users"]["layout"]
    for role, expected in (("leader", "page-refused"), ("admin", "admin-user-page")):
        with web_app.server.test_request_context("/admin/users"):
            session["signed_in_at"] = time.time()
            login_user(Principal(f"u:1:{role}", role, role))
            assert expected in str(layout(lang="zh").to_plotly_json()), role
