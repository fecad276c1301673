"""Entry point: builds the Dash app (use_pages) and exposes `server` for gunicorn (app:server)."""

from __future__ import annotations

import atexit
import signal
import sys
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html
from dash._callback import GLOBAL_CALLBACK_MAP
from flask import Flask, send_from_directory
from flask_compress import Compress
from flask_wtf.csrf import generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from xstatic.pkg import bootstrap as xstatic_bootstrap

from dashboard import security, web
from dashboard.api import api, health
from dashboard.config import Settings, load_settings
from dashboard.i18n import platform_title, t
from dashboard.runtime import Runtime
from ui import page

HERE = Path(__file__).resolve().parent
BOOTSTRAP_CSS = "/vendor/bootstrap/css/bootstrap.min.css"


def _shell(settings: Settings):
    """Header (platform name, clock, data freshness, language), navigation, page, banner."""
    lang = settings.lang
    return html.Div(
        [
            dcc.Location(id="shell-url"),
            dcc.Store(id="shell-lang", data=lang),
            dcc.Store(id="shell-theme", data="dark"),
            dcc.Interval(id="shell-tick", interval=5000),
            html.Header(
                [
                    # The title above the navigation: side by side, one of them was cut.
                    html.Div(
                        [
                            html.Div(
                                platform_title(settings.city_name, lang),
                                id="shell-title",
                                className="shell-title",
                            ),
                            dbc.Nav(page.nav_links(lang), className="shell-nav", id="shell-nav"),
                        ],
                        className="shell-brand",
                    ),
                    html.Div(
                        [
                            html.Span(id="shell-clock", className="shell-clock"),
                            html.Span(id="shell-freshness", className="freshness"),
                            dcc.Link(
                                t("language", lang),
                                href="?lang=en",
                                id="shell-language",
                                className="shell-language",
                            ),
                            *_account(lang),
                        ],
                        className="shell-status",
                    ),
                ],
                className="shell-header",
                id="shell-header",
            ),
            html.Div(
                t("live_interrupted", lang),
                id="shell-banner",
                className="shell-banner",
                hidden=True,
            ),
            html.Main(dash.page_container, className="shell-main"),
            # The wall's rotation (assets/wall.js): the pages declared to rotate.
            html.Div(id="shell-playlist", hidden=True, **{"data-paths": ",".join(page.playlist())}),
        ],
        className="shell",
    )


def _account(lang: str) -> list:
    """Who is signed in, the password link and sign-out (a POST form with its CSRF token);
    nothing for a wall display (an empty, hidden stand-in for the language callback)."""
    principal = web.current()
    if principal is None or principal.kind == "display":
        return [html.Span(id="shell-signout", hidden=True)]
    return [
        html.A(principal.name, href="/account/password", className="shell-user", id="shell-user"),
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                html.Button(
                    t("sign_out", lang),
                    type="submit",
                    className="shell-signout",
                    id="shell-signout",
                ),
            ],
            action="/logout",
            method="POST",
            className="shell-signout-form",
        ),
    ]


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    start_scheduler: bool | None = None,
) -> Dash:
    settings = settings or load_settings()
    rt = runtime or Runtime.create(settings)
    server = Flask(__name__, template_folder=str(HERE / "templates"))
    server.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes + 64 * 1024,
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "application/json",
            "application/javascript",
            "text/javascript",
        ],
    )
    server.extensions["dashboard"] = rt
    if settings.proxies:  # the client's address (sign-in limits, audit) from the proxy's header
        server.wsgi_app = ProxyFix(
            server.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies
        )
    server.register_blueprint(api)
    server.register_blueprint(health)

    @server.get("/vendor/bootstrap/<path:filename>")
    def vendor_bootstrap(filename: str):
        return send_from_directory(xstatic_bootstrap.BASE_DIR, filename, max_age=86400)

    Compress(server)
    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        external_stylesheets=[BOOTSTRAP_CSS],
        serve_locally=True,
        title=platform_title(settings.city_name, settings.lang),
        update_title=None,
        suppress_callback_exceptions=True,
    )
    app.index_string = app.index_string.replace(
        "<html>", f'<html lang="{"zh-CN" if settings.lang == "zh" else "en"}" data-bs-theme="dark">'
    )
    app.layout = lambda: _shell(settings)  # per request: the signed-in principal's header
    server.config["CC_SETTINGS"] = settings
    import callbacks  # noqa: F401 - registers the callbacks of every page

    # Everything about access is derived from the pages' declarations (ui.page.register_page).
    gate = page.gate(lambda: app.callback_map)
    # `@callback`s wait in Dash's global map until the first request moves them into the app;
    # checking them now is what lets a bad one stop the app before it serves anything.
    gate.check_callbacks([*app.callback_map, *GLOBAL_CALLBACK_MAP])
    page.guard_layouts()
    security.install(server, app.csp_hashes, gate)
    web.csrf.exempt(api)  # bearer tokens; the API checks CSRF itself for signed-in callers

    if settings.scheduler if start_scheduler is None else start_scheduler:
        from dashboard.scheduler import LeaderScheduler

        scheduler = LeaderScheduler(rt)
        scheduler.start()
        server.extensions["cc_scheduler"] = scheduler
        atexit.register(scheduler.stop)
    return app


def serve(settings: Settings, progress=print) -> int:
    """`python app.py` (and `python -m dashboard run`): prepare the installation (demo city,
    admin), then serve until Ctrl+C or SIGTERM — and stop what was started: the scheduler
    and, when no other process still uses it, the embedded Redis server."""
    from dashboard.bootstrap import prepare

    # SIGTERM (a service manager, `kill`) unwinds like Ctrl+C instead of ending the process
    # on the spot, which would leave the embedded redis-server running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    rt = Runtime.create(settings)
    app = None
    try:
        prepare(rt, progress)
        app = create_app(settings, rt)
        address = f"http://{settings.host}:{settings.port}"
        try:  # for `create-display`'s URL; a read-only VAR_DIR must not stop the serving
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            settings.serving_file.write_text(address + "\n")
        except OSError:
            pass
        progress(f"open {address}/ in a browser (Ctrl+C stops)")
        app.run(host=settings.host, port=settings.port, debug=False)
    except KeyboardInterrupt:
        pass
    finally:
        if app is not None and "cc_scheduler" in app.server.extensions:
            app.server.extensions["cc_scheduler"].stop()
        rt.close()
        settings.serving_file.unlink(missing_ok=True)
        progress("stopped")
    return 0


def __getattr__(name: str):
    # gunicorn imports `app:server`; build the app only when asked for it.
    if name in ("app", "server"):
        from dashboard.bootstrap import prepare

        settings = load_settings()
        rt = Runtime.create(settings)
        atexit.register(rt.close)  # a worker that stops leaves no embedded Redis behind
        prepare(rt)
        app = create_app(settings, rt)
        globals()["app"], globals()["server"] = app, app.server
        return globals()[name]
    raise AttributeError(name)


def main() -> int:
    from dashboard.cli import configure_logging, progress

    configure_logging()
    try:
        return serve(load_settings(), progress=progress)
    except ValueError as exc:  # bad settings
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
