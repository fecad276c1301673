"""Puts sign-in, the gate, CSRF and the security headers on the Flask server."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from flask import Flask
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from dashboard import gate, headers, signin
from dashboard.db import is_unavailable
from dashboard.i18n import t
from dashboard.web import SignInUnavailable, csrf, lang, login_manager, refuse


def _unavailable(exc):
    if isinstance(exc, SQLAlchemyError) and not is_unavailable(exc):
        raise exc
    response = refuse(503, t("sign_in_unavailable", lang()))
    response.headers["Retry-After"] = "5"
    return response


def _csrf_error(exc: CSRFError):
    return refuse(400, f"{t('csrf_failed', lang())} ({exc.description})")


def install(server: Flask, script_hashes, pages: gate.Gate) -> None:
    """Sign-in, the gate, CSRF and headers on the Flask server; `script_hashes` gives the CSP
    hashes of the inline scripts (Dash.csp_hashes), asked for at the first response; `pages`
    is the gate made from the pages' declarations."""
    s = server.extensions["dashboard"].settings
    server.config.update(
        SESSION_COOKIE_NAME="cc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=s.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(days=400),  # displays; people are limited in guard
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=s.secure_cookies,
        CC_SCRIPTS=script_hashes,
    )
    server.extensions["cc_gate"] = pages
    # Before the CSRF check: strangers get 401, not 400.
    server.before_request(partial(gate.guard, pages))
    login_manager.init_app(server)
    login_manager.session_protection = "basic"
    csrf.init_app(server)
    server.register_blueprint(signin.account)
    server.after_request(gate.not_found_status)
    server.after_request(headers.security_headers)
    server.register_error_handler(CSRFError, _csrf_error)
    server.register_error_handler(SignInUnavailable, _unavailable)
    server.register_error_handler(SQLAlchemyError, _unavailable)  # the API has its own
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, headers.RedactTokens) for f in logger.filters):
            logger.addFilter(headers.RedactTokens())
