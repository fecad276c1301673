"""The demo city's map: a jittered lattice whose cells tile exactly, and block outlines on it."""

from __future__ import annotations

import numpy as np


def _ring_walk(points: list[tuple[float, float]]) -> dict:
    ring = [[round(x, 5), round(y, 5)] for x, y in points]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def lattice(rng: np.random.Generator, cols: int, rows: int, bbox) -> tuple:
    """A jittered lattice: shared corner points and edge midpoints, so neighbours tile exactly."""
    x0, y0, x1, y1 = bbox
    dx, dy = (x1 - x0) / cols, (y1 - y0) / rows
    P = np.zeros((cols + 1, rows + 1, 2))
    for i in range(cols + 1):
        for j in range(rows + 1):
            jx = 0 if i in (0, cols) else rng.uniform(-0.28, 0.28) * dx
            jy = 0 if j in (0, rows) else rng.uniform(-0.28, 0.28) * dy
            P[i, j] = (x0 + i * dx + jx, y0 + j * dy + jy)
    # Outer edge: wobble the border a little too, keeping corners shared.
    for i in range(cols + 1):
        P[i, 0, 1] += rng.uniform(-0.15, 0.15) * dy
        P[i, rows, 1] += rng.uniform(-0.15, 0.15) * dy
    for j in range(rows + 1):
        P[0, j, 0] += rng.uniform(-0.15, 0.15) * dx
        P[cols, j, 0] += rng.uniform(-0.15, 0.15) * dx
    H = {}  # midpoint of the edge (i, j) → (i + 1, j)
    V = {}  # midpoint of the edge (i, j) → (i, j + 1)
    for i in range(cols):
        for j in range(rows + 1):
            m = (P[i, j] + P[i + 1, j]) / 2
            H[i, j] = (m[0], m[1] + rng.uniform(-0.18, 0.18) * dy)
    for i in range(cols + 1):
        for j in range(rows):
            m = (P[i, j] + P[i, j + 1]) / 2
            V[i, j] = (m[0] + rng.uniform(-0.18, 0.18) * dx, m[1])
    return P, H, V


def block_outline(P, H, V, c0: int, c1: int, r0: int, r1: int) -> dict:
    """Counter-clockwise outline of the cell block [c0, c1) × [r0, r1)."""
    pts = []
    for i in range(c0, c1):
        pts += [tuple(P[i, r0]), H[i, r0]]
    for j in range(r0, r1):
        pts += [tuple(P[c1, j]), V[c1, j]]
    for i in range(c1, c0, -1):
        pts += [tuple(P[i, r1]), H[i - 1, r1]]
    for j in range(r1, r0, -1):
        pts += [tuple(P[c0, j]), V[c0, j - 1]]
    return _ring_walk(pts)
