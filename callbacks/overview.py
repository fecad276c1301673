"""Overview callbacks: live state in, tile values out."""

from dash import Input, Output, callback, no_update
from flask import current_app

from dashboard.clock import utcnow
from dashboard.queries import live_tiles
from pages.overview import TICK, TILE_LABELS, TILES

TILE_OUTPUTS = [Output(f"{TILES}-{key}", "children") for key, _ in TILE_LABELS]


def format_count(n: int) -> str:
    """Counts for Chinese readers: 12,345 → 1.23万 from ten thousand up."""
    return f"{n / 10000:.2f}万" if n >= 10000 else f"{n:,}"


@callback(*TILE_OUTPUTS, Output(f"{TILES}-stamp", "children"), Input(TICK, "n_intervals"))
def update_tiles(_n):
    rt = current_app.extensions["dashboard"]
    try:
        tiles = live_tiles(rt.live, utcnow())
    except Exception:  # noqa: BLE001 - Redis down: keep the last values on screen
        return [no_update] * len(TILE_OUTPUTS) + ["实时数据中断 — live data interrupted"]
    values = [format_count(tiles[key]) for key, _ in TILE_LABELS]
    return [*values, f"数据版本 {tiles['version']} · {tiles['day']}"]
