"""Personal data shown after a reveal goes away by itself: a one-shot timer beside it, started
when the data is shown, and the callback that clears it (事件详情's reporter, 人才队伍's person)."""

from __future__ import annotations

from dash import Input, Output, callback, dcc
from dash.exceptions import PreventUpdate

SHOWN_FOR_MS = 30_000


def timer(timer_id: str) -> dcc.Interval:
    """The timer, off until a reveal turns it on (and sets its n_intervals back to 0)."""
    return dcc.Interval(id=timer_id, interval=SHOWN_FOR_MS, disabled=True, max_intervals=1)


def hide_after(content_id: str, timer_id: str) -> None:
    """Register the callback that empties `content_id` when `timer_id` fires."""

    @callback(
        Output(content_id, "children", allow_duplicate=True),
        Output(timer_id, "disabled", allow_duplicate=True),
        Input(timer_id, "n_intervals"),
        prevent_initial_call=True,
    )
    def hide(n):
        if not n:
            raise PreventUpdate
        return None, True
