"""Figure factory: plain-dict Plotly figures with the command-center theme applied once.

Plain dicts (not go.Figure) because building and validating Figure objects costs ≈9 ms per
request against ≈0.5 ms for a dict (NOTES.md), and the theme is a few layout keys rather than a
full template shipped with every figure.
"""

from __future__ import annotations

import hashlib
from itertools import pairwise

import orjson
from dash import Patch

# The four alert colours, used for alerts everywhere (1 红 … 4 蓝).
ALERT_COLOURS = {1: "#e5484d", 2: "#f76b15", 3: "#ffc53d", 4: "#3e9bff"}
ACCENT = "#3ec6ff"
GOOD = "#3dd68c"
MUTED = "#8fb3dd"
TEXT = "#e8f1ff"
GRID = "rgba(143,179,221,0.15)"
SERIES = [
    "#3ec6ff",
    "#3dd68c",
    "#ffc53d",
    "#f76b15",
    "#b48cff",
    "#ff7eb6",
    "#6ee7e7",
    "#a3e635",
    "#fda4af",
    "#93c5fd",
]
FONT = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", '
    '"PingFang SC", sans-serif'
)


def layout(**extra) -> dict:
    """The theme: transparent backgrounds, light text, thin grid lines, tight margins."""
    base = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT, "color": TEXT, "size": 14},
        "margin": {"l": 40, "r": 12, "t": 8, "b": 28},
        "showlegend": False,
        "xaxis": {"gridcolor": GRID, "zeroline": False, "color": MUTED},
        "yaxis": {"gridcolor": GRID, "zeroline": False, "color": MUTED},
        "uirevision": "keep",  # updates do not reset what the viewer sees
    }
    base.update(extra)
    return base


CONFIG = {"displayModeBar": False, "responsive": True}


LIGHT = {
    TEXT: "#1a2233",
    MUTED: "#4b5b75",
    GRID: "rgba(26,34,51,0.12)",
    "#0b1220": "#f4f6fa",
    "#10324f": "#d6e6f5",
}


def themed(fig: dict, theme: str | None) -> dict:
    """The figure for the light theme (printing, meeting rooms): the dark theme's text, grid
    and background colours swapped for their light counterparts."""
    if theme != "light":
        return fig

    def swap(node):
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return LIGHT.get(node, node) if isinstance(node, str) else node

    return swap(fig)


def scale_for(viewport_height: float | None) -> float:
    """Text and margins grow with the screen: 1 at 1080 px high, 2 at 2160 px."""
    if not isinstance(viewport_height, int | float) or viewport_height <= 0:
        return 1.0
    return round(max(1.0, min(viewport_height / 1080, 4.0)), 2)


def scaled(fig: dict, scale: float) -> dict:
    """The figure with its font sizes and margins multiplied by `scale` (native resolution,
    not a 1080p canvas blown up)."""
    if scale == 1.0:
        return fig

    def grow(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("size", "thickness", "l", "r", "t", "b", "width") and isinstance(
                    value, int | float
                ):
                    node[key] = value * scale
                else:
                    grow(value)
        elif isinstance(node, list):
            for item in node:
                grow(item)

    lay = fig["layout"]
    for key in ("font", "margin", "legend", "polar", "xaxis", "yaxis", "annotations"):
        if key in lay:
            grow(lay[key])
    for trace in fig["data"]:
        for key in ("textfont", "line", "colorbar", "marker"):
            if key in trace:
                grow(trace[key])
        trace.setdefault("textfont", {}).setdefault("size", 14 * scale)
    return fig


# Parts of a trace that make its frame: when they are unchanged only the other keys are sent.
FRAME_TRACE_KEYS = ("type", "geojson", "featureidkey")


def frame_key(fig: dict) -> str:
    """A digest of what must stay the same for a value-only update: the layout, each trace's
    type and keys, and the map shapes."""
    frame = {
        "layout": fig["layout"],
        "traces": [
            [sorted(trace), *(trace.get(k) for k in FRAME_TRACE_KEYS)] for trace in fig["data"]
        ],
    }
    return hashlib.blake2b(
        orjson.dumps(frame, option=orjson.OPT_SORT_KEYS), digest_size=12
    ).hexdigest()


def values_patch(fig: dict) -> Patch:
    """The figure's values only, as a Patch: the browser keeps its layout and map shapes, so
    the map does not reload its style and sources on every refresh."""
    patch = Patch()
    for i, trace in enumerate(fig["data"]):
        for key, value in trace.items():
            if key not in FRAME_TRACE_KEYS:
                patch["data"][i][key] = value
    return patch


def empty(message: str = "—") -> dict:
    return {
        "data": [],
        "layout": layout(
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "showarrow": False,
                    "font": {"color": MUTED, "size": 18},
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                }
            ],
        ),
    }


def throughput(minutes: list[int], reported: list[int], closed: list[int], labels) -> dict:
    """Events per minute over the last hours: new ones and closures."""
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": minutes,
                "y": reported,
                "name": labels[0],
                "line": {"color": ACCENT, "width": 2},
                "fill": "tozeroy",
                "fillcolor": "rgba(62,198,255,0.15)",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": minutes,
                "y": closed,
                "name": labels[1],
                "line": {"color": GOOD, "width": 2},
            },
        ],
        "layout": layout(
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1.12, "font": {"size": 14}},
            xaxis={"gridcolor": GRID, "color": MUTED, "type": "date", "tickformat": "%H:%M"},
            yaxis=count_axis(max([*reported, *closed, 0])),
        ),
    }


def loop_flow(stages: list[dict], lang: str, legend: tuple[str, str]) -> dict:
    """The loop as bars: the count through each stage (today, or a window), and what waits at
    it; `legend` names the two."""
    names = [s["zh"] if lang == "zh" else s["en"] for s in stages]
    return {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": [s["today"] for s in stages],
                "name": legend[0],
                "marker": {"color": ACCENT},
                "text": [f"{s['today']:,}" for s in stages],
                "textposition": "outside",
                "cliponaxis": False,
            },
            {
                "type": "bar",
                "x": names,
                "y": [s["waiting"] for s in stages],
                "name": legend[1],
                "marker": {"color": ALERT_COLOURS[2]},
                "text": [f"{s['waiting']:,}" for s in stages],
                "textposition": "outside",
                "cliponaxis": False,
            },
        ],
        "layout": layout(
            barmode="group",
            showlegend=True,
            bargap=0.25,
            legend={"orientation": "h", "x": 0, "y": 1.15, "font": {"size": 14}},
            yaxis={"visible": False},
        ),
    }


def centroid(geometry: dict) -> tuple[float, float] | None:
    """The area-weighted centre of a polygon's outer ring (the largest part of a multipolygon)."""
    polygons = (
        [geometry["coordinates"]]
        if geometry.get("type") == "Polygon"
        else geometry.get("coordinates", [])
        if geometry.get("type") == "MultiPolygon"
        else []
    )
    best = None
    for polygon in polygons:
        ring = polygon[0]
        area = cx = cy = 0.0
        for (x0, y0, *_), (x1, y1, *_) in pairwise(ring):
            cross = x0 * y1 - x1 * y0
            area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if area and (best is None or abs(area) > best[0]):
            best = (abs(area), cx / (3 * area), cy / (3 * area))
    return (best[1], best[2]) if best else None


def district_map(geo: dict, rows: list[dict], value_key: str, title: str) -> dict:
    """Districts (or streets) coloured by a value and named: the shapes alone, drawn as SVG on
    a geo subplot with no base map (no tiles, no WebGL map library, nothing fetched), fitted
    to the shapes."""
    centres = {f["properties"]["code"]: centroid(f["geometry"]) for f in geo.get("features", [])}
    named = [(r["name"], centres[r["code"]]) for r in rows if centres.get(r["code"])]
    return {
        "data": [
            {
                "type": "choropleth",
                "geojson": geo,
                "locations": [r["code"] for r in rows],
                "z": [r.get(value_key) or 0 for r in rows],
                "text": [r["name"] for r in rows],
                "featureidkey": "properties.code",
                "colorscale": [[0, "#10324f"], [0.5, "#1f7ab8"], [1, "#ff6b3d"]],
                "marker": {"line": {"color": "#0b1220", "width": 1.5}, "opacity": 0.9},
                "colorbar": {
                    "title": {"text": title, "side": "right"},
                    "thickness": 12,
                    "tickfont": {"color": MUTED},
                },
                "hovertemplate": "%{text}: %{z:.1f}<extra></extra>",
            },
            {
                "type": "scattergeo",
                "mode": "text",
                "lon": [c[0] for _n, c in named],
                "lat": [c[1] for _n, c in named],
                "text": [n for n, _c in named],
                "textfont": {"color": TEXT, "size": 15},
                "hoverinfo": "skip",
            },
        ],
        "layout": layout(
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            geo={
                "visible": False,  # no coastlines, countries or land: the city's shapes only
                "fitbounds": "locations",
                "projection": {"type": "mercator"},
                "bgcolor": "rgba(0,0,0,0)",
            },
        ),
    }


def bars(
    labels: list[str], values: list[float], colour: str = ACCENT, horizontal=True, fmt: str = "{:,}"
) -> dict:
    # Values beside their bars at the chart's own size (inside, plotly shrinks them to the
    # bar's width: 10 px on a wall); every label shown, none skipped for want of room.
    trace = {
        "type": "bar",
        "marker": {"color": colour},
        "text": [fmt.format(v) for v in values],
        "textposition": "outside",
        "textfont": {"size": 15},
        "cliponaxis": False,
    }
    room = max([v for v in values if v is not None] or [1]) * 1.25 or 1
    if horizontal:
        trace |= {
            "x": values,
            "y": labels,
            "orientation": "h",
            "hovertemplate": "%{y}: %{text}<extra></extra>",
        }
        lay = layout(
            yaxis={
                "autorange": "reversed",
                "color": TEXT,
                "type": "category",
                "dtick": 1,
                "tickfont": {"size": 15},
            },
            xaxis={"visible": False, "range": [0, room]},
            margin={"l": 110, "r": 12, "t": 4, "b": 4},
            bargap=0.25,
        )
    else:
        trace |= {"x": labels, "y": values}
        lay = layout(yaxis={"visible": False})
    return {"data": [trace], "layout": lay}


SMALLEST_LABELLED = 0.025  # slices under 2.5 % go unlabelled: their labels would collide


def donut(labels: list[str], values: list[int]) -> dict:
    total = sum(values) or 1
    return {
        "data": [
            {
                "type": "pie",
                "labels": labels,
                "values": values,
                "hole": 0.55,
                "sort": False,
                "marker": {"colors": SERIES},
                "textinfo": "label+percent",
                "automargin": True,  # outside labels push the margins, never off the panel
                "textposition": [
                    "outside" if v / total >= SMALLEST_LABELLED else "none" for v in values
                ],
                "textfont": {"size": 14},
                "hovertemplate": "%{label}: %{value:,} (%{percent})<extra></extra>",
            }
        ],
        "layout": layout(margin={"l": 20, "r": 20, "t": 20, "b": 20}),
    }


def radar(axes: list[str], values: list[float | None]) -> dict:
    closed_axes, closed_values = axes + axes[:1], values + values[:1]
    return {
        "data": [
            {
                "type": "scatterpolar",
                "r": [v or 0 for v in closed_values],
                "theta": closed_axes,
                "fill": "toself",
                "line": {"color": ACCENT},
                "fillcolor": "rgba(62,198,255,0.25)",
                "hovertemplate": "%{theta}: %{r:.1f}<extra></extra>",
            }
        ],
        "layout": layout(
            margin={"l": 70, "r": 70, "t": 24, "b": 24},
            polar={
                "bgcolor": "rgba(0,0,0,0)",
                "radialaxis": {
                    "range": [0, 100],
                    "gridcolor": GRID,
                    "color": MUTED,
                    "tickfont": {"size": 12},
                },
                "angularaxis": {"gridcolor": GRID, "color": TEXT},
            },
        ),
    }


def lines(
    x: list[str],
    series: dict[str, list[float | None]],
    percent: bool = True,
    right: frozenset[str] = frozenset(),
) -> dict:
    """One line per series over the same x (weeks); rates in percent. Series named in `right`
    use an axis of their own on the right (small rates beside large ones)."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": x,
            "y": [None if v is None else (v * 100 if percent else v) for v in values],
            "line": {"color": SERIES[i % len(SERIES)], "width": 3},
            "yaxis": "y2" if name in right else "y",
            "hovertemplate": "%{x}: %{y:.1f}"
            + ("%" if percent else "")
            + "<extra>%{fullData.name}</extra>",
        }
        for i, (name, values) in enumerate(series.items())
    ]
    return {
        "data": traces,
        "layout": layout(
            showlegend=True,
            legend={"orientation": "h", "y": -0.15, "font": {"color": TEXT}},
            yaxis={"gridcolor": GRID, "color": MUTED, "ticksuffix": "%" if percent else ""},
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "color": MUTED,
                "showgrid": False,
                "ticksuffix": "%" if percent else "",
                "tickformat": ".1f",
                "rangemode": "tozero",
            },
            xaxis={"color": MUTED, "gridcolor": GRID},
            margin={"l": 50, "r": 50, "t": 8, "b": 60},
        ),
    }


def grouped_bars(labels: list[str], series: dict[str, list[float | None]], unit: str = "") -> dict:
    """Bars side by side per label, one colour per series (mean, median, P90 …)."""
    traces = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": values,
            "marker": {"color": SERIES[i % len(SERIES)]},
            "hovertemplate": "%{x}: %{y:.1f}" + unit + "<extra>%{fullData.name}</extra>",
        }
        for i, (name, values) in enumerate(series.items())
    ]
    return {
        "data": traces,
        "layout": layout(
            barmode="group",
            showlegend=True,
            legend={"orientation": "h", "y": -0.25, "font": {"color": TEXT}},
            yaxis={"gridcolor": GRID, "color": MUTED},
            xaxis={"color": TEXT},
            margin={"l": 50, "r": 16, "t": 8, "b": 80},
        ),
    }


def radars(axes: list[str], traces: list[tuple[str, list[float | None]]]) -> dict:
    """Several areas on one radar (0–100), one outline each."""
    fig = radar(axes, [None] * len(axes))
    fig["data"] = [
        {
            "type": "scatterpolar",
            "name": name,
            "r": [v or 0 for v in values + values[:1]],
            "theta": axes + axes[:1],
            "line": {"color": SERIES[i % len(SERIES)], "width": 2},
            "hovertemplate": "%{theta}: %{r:.1f}<extra>%{fullData.name}</extra>",
        }
        for i, (name, values) in enumerate(traces)
    ]
    fig["layout"]["showlegend"] = True
    fig["layout"]["legend"] = {"font": {"color": TEXT}}
    return fig


# --- 事件流转 -------------------------------------------------------------------------------------
def funnel_chart(names: list[str], values: list[int], keys: list[str]) -> dict:
    """The loop as a funnel; each stage carries its status code (a click filters by it)."""
    return {
        "data": [
            {
                "type": "funnel",
                "y": names,
                "x": values,
                "customdata": keys,
                "texttemplate": "%{value:,} (%{percentInitial:.0%})",
                "textfont": {"size": 15, "color": TEXT},
                "marker": {"color": [ACCENT, "#2e9fd8", "#2680b8", "#1f6398", GOOD]},
                "connector": {"fillcolor": "rgba(62,198,255,0.12)"},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": layout(
            margin={"l": 90, "r": 10, "t": 6, "b": 6},
            yaxis={"color": TEXT, "tickfont": {"size": 14}, "autorange": "reversed"},
            xaxis={"visible": False},
        ),
    }


def sankey(labels: list[str], keys: list[str], links: dict[tuple[int, int], int]) -> dict:
    """Nodes and weighted links; each node carries a filter ("source:grid") in customdata."""
    pairs = sorted(links)
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "node": {
                    "label": labels,
                    "customdata": keys,
                    "pad": 10,
                    "thickness": 14,
                    "color": [SERIES[i % len(SERIES)] for i in range(len(labels))],
                    "line": {"width": 0},
                    "hovertemplate": "%{label}: %{value:,}<extra></extra>",
                },
                "link": {
                    "source": [a for a, _b in pairs],
                    "target": [b for _a, b in pairs],
                    "value": [links[p] for p in pairs],
                    "color": "rgba(143,179,221,0.25)",
                    "hovertemplate": "%{source.label} → %{target.label}: %{value:,}<extra></extra>",
                },
                "textfont": {"color": TEXT, "size": 13},
            }
        ],
        "layout": layout(margin={"l": 6, "r": 6, "t": 6, "b": 6}),
    }


def week_against_week(buckets: list[str], now: list[int], before: list[int], labels) -> dict:
    """Counts per bucket as bars, the same buckets a week earlier as a line; about eight
    labels on the axis whatever the number of buckets."""
    every = max(1, -(-len(buckets) // 6))
    return {
        "data": [
            {"type": "bar", "x": buckets, "y": now, "name": labels[0], "marker": {"color": ACCENT}},
            {
                "type": "scatter",
                "mode": "lines",
                "x": buckets,
                "y": before,
                "name": labels[1],
                "line": {"color": ALERT_COLOURS[3], "width": 2, "dash": "dot"},
            },
        ],
        "layout": layout(
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1.15, "font": {"size": 14}},
            xaxis={
                "color": MUTED,
                "type": "category",
                "tickvals": buckets[::every],
                "tickangle": 0,
            },
            yaxis=count_axis(max([*now, *before], default=0)),
            bargap=0.15,
        ),
    }


def stacked_bars(labels: list[str], series: list[tuple[str, list[int], str, str]]) -> dict:
    """Stacked bars: (name, values, key carried for clicks, colour) per series."""
    return {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": values,
                "name": name,
                "customdata": [key] * len(labels),
                "marker": {"color": colour},
                "text": [f"{v:,}" if v else "" for v in values],
                "textposition": "inside",
            }
            for name, values, key, colour in series
        ],
        "layout": layout(
            barmode="stack",
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1.15, "font": {"size": 14}},
            xaxis={"color": MUTED, "type": "category"},
            yaxis=count_axis(
                max(map(sum, zip(*(v for _n, v, _k, _c in series), strict=True)), default=0)
            ),
        ),
    }


def count_axis(largest: float) -> dict:
    """A y axis of counts: whole numbers only, one per step while the counts are small."""
    axis = {"gridcolor": GRID, "color": MUTED, "rangemode": "tozero", "tickformat": ",d"}
    if largest <= 5:
        axis["dtick"] = 1
    return axis


def against_band(series: dict, labels: tuple[str, str, str], colour: str) -> dict:
    """An alert's evidence: the counts as bars against the band of the same buckets in past
    weeks (lowest to highest, shaded) and their mean (dotted). labels: (now, band, mean)."""
    x, every = series["x"], max(1, -(-len(series["x"]) // 8))
    data = []
    if series.get("high") is not None:
        data += [
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": series["high"],
                "line": {"width": 0},
                "hoverinfo": "skip",
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": series["low"],
                "fill": "tonexty",
                "fillcolor": "rgba(143,179,221,0.25)",
                "line": {"width": 0},
                "name": labels[1],
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": series["mean"],
                "name": labels[2],
                "line": {"color": MUTED, "width": 2, "dash": "dot"},
            },
        ]
    data.append(
        {"type": "bar", "x": x, "y": series["y"], "name": labels[0], "marker": {"color": colour}}
    )
    largest = max([*series["y"], *(series.get("high") or [])], default=0)
    return {
        "data": data,
        "layout": layout(
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1.18, "font": {"size": 13}},
            xaxis={"color": MUTED, "type": "category", "tickvals": x[::every], "tickangle": 0},
            yaxis=count_axis(largest),
            bargap=0.2,
        ),
    }
