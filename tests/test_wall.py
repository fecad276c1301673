"""The wall's minute snapshot (dashboard.wall): map shapes as plotly's geo maps want them."""

from __future__ import annotations


def test_map_rings_run_clockwise_for_plotly_geo():
    from dashboard.wall import _signed_area, clockwise

    ccw = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]  # RFC 7946 exterior
    hole_cw = [[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]
    fixed = clockwise({"type": "Polygon", "coordinates": [ccw, hole_cw]})["coordinates"]
    assert _signed_area(fixed[0]) < 0 and _signed_area(fixed[1]) > 0
    multi = clockwise({"type": "MultiPolygon", "coordinates": [[ccw], [fixed[0]]]})
    assert all(_signed_area(p[0]) < 0 for p in multi["coordinates"])
