"""Shell callbacks: the clock and the data-freshness badge, both from server-side time."""

import time
from urllib.parse import parse_qs, urlencode

from dash import Input, Output, callback
from flask import current_app
from redis.exceptions import RedisError

from dashboard import fmt
from dashboard.clock import from_epoch, utcnow
from dashboard.i18n import platform_title, t
from ui.page import nav_links

STALE_AMBER = 120  # seconds without new data before the badge turns amber
STALE_RED = 300  # … and red, with the 实时数据中断 banner


def freshness(heartbeats: dict[str, float] | None, now: float) -> tuple[str, float | None]:
    """'ok' | 'amber' | 'red' from the newest ingest heartbeat (None when Redis is down)."""
    if heartbeats is None:
        return "red", None
    last = heartbeats.get("ingest")
    if last is None:
        return "red", None
    age = now - last
    return ("ok" if age < STALE_AMBER else "amber" if age < STALE_RED else "red"), last


@callback(
    Output("shell-clock", "children"),
    Output("shell-freshness", "children"),
    Output("shell-freshness", "className"),
    Output("shell-banner", "hidden"),
    Input("shell-tick", "n_intervals"),
    Input("shell-lang", "data"),
)
def update_status(_n, lang):
    rt = current_app.extensions["dashboard"]
    zone = rt.settings.zone
    try:
        beats = rt.live.heartbeats()
    except RedisError:  # Redis down is exactly what the badge must show
        beats = None
    state, last = freshness(beats, time.time())
    stamp = fmt.time_of_day(from_epoch(last), zone) if last else "—"
    return (
        fmt.clock(utcnow(), zone, lang or "zh"),
        f"{t('updated_at', lang or 'zh')} {stamp}",
        f"freshness freshness-{state}",
        state != "red",
    )


def language_of(search: str | None, default: str) -> str:
    lang = (parse_qs((search or "").lstrip("?")).get("lang") or [default])[0]
    return "en" if lang == "en" else "zh"


def with_lang(search: str | None, lang: str) -> str:
    """The query string with `lang` set (and a district choice dropped: it is per page)."""
    query = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items() if k != "district"}
    query["lang"] = lang
    return "?" + urlencode(query)


@callback(
    Output("shell-lang", "data"),
    Output("shell-title", "children"),
    Output("shell-nav", "children"),
    Output("shell-language", "children"),
    Output("shell-language", "href"),
    Output("shell-banner", "children"),
    Output("shell-theme", "data"),
    Output("shell-signout", "children"),
    Input("shell-url", "search"),
)
def update_language(search):
    rt = current_app.extensions["dashboard"]
    lang = language_of(search, rt.settings.lang)
    keep = with_lang(search, lang)
    other = "en" if lang == "zh" else "zh"
    return (
        lang,
        platform_title(rt.settings.city_name, lang),
        nav_links(lang, keep),
        t("language", lang),
        with_lang(search, other),
        t("live_interrupted", lang),
        "light" if parse_qs((search or "").lstrip("?")).get("theme") == ["light"] else "dark",
        t("sign_out", lang),
    )
