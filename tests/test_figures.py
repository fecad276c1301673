"""The figure factory (ui.figures): values patched without re-sending shapes, labels."""

from __future__ import annotations


def test_map_values_are_patched_without_its_shapes():
    from ui import figures

    shapes = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code},
                "geometry": {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x, 1]]]},
            }
            for x, code in ((0, "A"), (1, "B"))
        ],
    }
    rows = [{"code": "A", "name": "甲", "v": 1.0}, {"code": "B", "name": "乙", "v": 2.0}]
    before = figures.district_map(shapes, rows, "v", "t")
    after = figures.district_map(shapes, [r | {"v": 5.0} for r in rows], "v", "t")
    assert figures.frame_key(before) == figures.frame_key(after)
    labels = before["data"][1]
    assert labels["type"] == "scattergeo" and labels["text"] == ["甲", "乙"]
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]]]}
    assert figures.centroid(square) == (1.0, 1.0)
    sent = {
        tuple(op["location"]): op["params"]["value"]
        for op in figures.values_patch(after).to_plotly_json()["operations"]
    }
    assert sent[("data", 0, "z")] == [5.0, 5.0]
    assert all(loc[2] not in ("geojson", "type") for loc in sent)
    # Other shapes (a district's streets) make another frame: the whole figure is sent.
    streets = {"type": "FeatureCollection", "features": shapes["features"][:1]}
    assert figures.frame_key(
        figures.district_map(streets, rows[:1], "v", "t")
    ) != figures.frame_key(before)


def test_tiny_donut_slices_go_unlabelled():
    from ui import figures

    pie = figures.donut(["a", "b", "c"], [90, 8, 2])["data"][0]
    assert pie["textposition"] == ["outside", "outside", "none"]


def test_count_axes_show_whole_numbers_only():
    from ui.figures import count_axis, stacked_bars, week_against_week

    assert count_axis(3)["dtick"] == 1 and "dtick" not in count_axis(40)
    fig = week_against_week([f"b{i}" for i in range(168)], [1] * 168, [0] * 168, ("a", "b"))
    assert fig["layout"]["yaxis"]["dtick"] == 1
    assert len(fig["layout"]["xaxis"]["tickvals"]) <= 6  # a week of hours, six labels
    bars = stacked_bars(["x", "y"], [("n", [2, 3], "k", "#fff"), ("m", [4, 0], "o", "#000")])
    assert "dtick" not in bars["layout"]["yaxis"]  # x stacks to 6


def test_the_plotly_bundle_draws_every_trace_type_the_app_uses():
    """assets/plotly-traces.min.js holds the trace types of scripts/plotly/entry.js (scatter
    comes with the core): every type a figure of the app names must be among them, or plotly
    would draw it as a scatter."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    entry = (root / "scripts/plotly/entry.js").read_text()
    bundled = set(re.findall(r'require\("plotly\.js/lib/(\w+)"\)', entry)) - {"core"}
    bundled.add("scatter")
    # axis and projection types, GeoJSON, and layout shapes ("line": no trace has that name)
    not_traces = {"category", "date", "linear", "log", "mercator", "FeatureCollection", "line"}
    used = set()
    for folder in ("ui", "callbacks", "pages", "dashboard/views"):
        for source in (root / folder).glob("*.py"):
            used |= set(re.findall(r'"type": "(\w+)"', source.read_text()))
    assert used - not_traces <= bundled, used - not_traces - bundled
    assert {"bar", "pie", "choropleth", "sankey", "funnel", "scatterpolar"} <= used
    bundle = (root / "assets/plotly-traces.min.js").read_text()
    assert bundle.startswith("/*! plotly.js v")
