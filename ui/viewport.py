"""The screen's size in a page's store, so that chart text grows with the screen (ui.figures
.scaled): one clientside callback per page, registered by `track`."""

from __future__ import annotations

from dash import Input, Output, clientside_callback

from ui.figures import scale_for

SIZE = "function(_) { return {height: window.innerHeight, width: window.innerWidth}; }"


def track(store_id: str, page_id: str) -> None:
    """Fill `store_id` with the window's size once the page `page_id` is drawn."""
    clientside_callback(SIZE, Output(store_id, "data"), Input(page_id, "id"))


def scale(viewport) -> float:
    """The text scale of a store's value (anything a crafted request sends gives 1)."""
    return scale_for(viewport.get("height") if isinstance(viewport, dict) else None)
