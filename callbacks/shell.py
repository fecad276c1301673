"""Shell callbacks: the clock and the data-freshness badge, both from server-side time."""

import time

from dash import Input, Output, State, callback
from flask import current_app
from redis.exceptions import RedisError

from dashboard import fmt
from dashboard.clock import from_epoch, utcnow
from dashboard.i18n import t

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
    State("shell-lang", "data"),
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
