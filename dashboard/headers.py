"""Security headers on every response (CSP with the hashes of Dash's inline scripts, no
framing), the CSRF cookie Dash's renderer reads, and access logs without display tokens."""

from __future__ import annotations

import logging
import re

from flask import Response, current_app, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from dashboard.gate import OPEN_PREFIXES
from dashboard.signin import CSRF_COOKIE
from dashboard.web import SignInUnavailable, settings


def security_headers(response: Response) -> Response:
    h = response.headers
    if "CC_CSP" not in current_app.config:  # after Dash has gathered its inline scripts
        current_app.config["CC_CSP"] = content_security_policy(current_app.config["CC_SCRIPTS"]())
    h.setdefault("Content-Security-Policy", current_app.config["CC_CSP"])
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "no-referrer")  # display tokens never leak in a Referer
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if settings().secure_cookies:
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    static = request.path.startswith(OPEN_PREFIXES)
    if not static:
        h["Cache-Control"] = "no-store"
        try:
            signed_in = current_user.is_authenticated
        except SignInUnavailable:
            signed_in = False
        if signed_in or request.path == "/login":
            response.set_cookie(
                CSRF_COOKIE,
                generate_csrf(),
                secure=settings().secure_cookies,
                samesite="Strict",
                httponly=False,  # Dash's renderer reads it to send the X-CSRFToken header
            )
    return response


def content_security_policy(script_hashes: list[str]) -> str:
    scripts = " ".join(script_hashes)  # already quoted: 'sha256-…'
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}".strip(),
            "style-src 'self' 'unsafe-inline'",  # plotly.js writes <style> elements
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Access logs never keep a display token from a wall URL (`?token=` → `?token=***`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1***", message), ()
        return True
