"""The gate derived from page declarations (dashboard.gate, ui.page): page matching, callback
permissions, the refusal to start with an undeclared callback, and a page added in its own
files only (built in a copy of the app, in a process of its own)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboard.gate import Gate, PageRule, UndeclaredCallback

ROOT = Path(__file__).resolve().parent.parent

GATE = Gate(
    [
        PageRule("/", "wall", "overview-"),
        PageRule("/flow", "wall", "flow-"),
        PageRule("/admin/users", "admin", "admin-user-"),
        PageRule("/incident", "wall", "incident-", "/incident/<source>/<external_id>"),
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
