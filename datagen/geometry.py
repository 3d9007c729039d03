"""Geometry helpers of the generator (metric work in EPSG:32648, UTM 48N)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

METRIC_EPSG = 32648
"""UTM zone 48N: the metric CRS of Trà Vinh (centroid ≈ 106.3° E)."""


def sample_points_in_polygon(
    polygon: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    *,
    candidates: int = 12,
    inset_m: float = 120.0,
    existing: np.ndarray | None = None,
) -> np.ndarray:
    """Draw ``n`` well-spread random points inside ``polygon`` (Mitchell's best-candidate).

    Each new point is the farthest from the points already drawn among ``candidates`` uniform
    draws, which spreads points like a Poisson-disc sample without a grid look.

    Parameters
    ----------
    polygon
        (Multi)Polygon in a metric CRS (metres).
    n
        Number of points.
    rng
        Random generator.
    candidates
        Uniform candidates per point; more spreads points more evenly.
    inset_m
        Points are drawn at least this far inside the boundary when the polygon is large enough,
        so that rounding coordinates never moves a point out of it.
    existing
        ``(m, 2)`` points already placed (kept away from, not returned).

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` array of x, y in the polygon's CRS.
    """
    area = polygon.buffer(-inset_m) if inset_m > 0 else polygon
    if area.is_empty or area.area < 0.05 * polygon.area:
        area = polygon
    uniform = _uniform_sampler(area, rng)
    placed = np.empty((0, 2)) if existing is None else np.asarray(existing, dtype=float).reshape(-1, 2)
    start = len(placed)
    for _ in range(n):
        cand = uniform(candidates)
        if len(placed) == 0:
            best = cand[0]
        else:
            d2 = ((cand[:, None, :] - placed[None, :, :]) ** 2).sum(axis=2).min(axis=1)
            best = cand[int(np.argmax(d2))]
        placed = np.vstack([placed, best])
    return placed[start:]


def _uniform_sampler(area: BaseGeometry, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """Return ``draw(k)``: ``k`` uniform random points inside ``area`` (rejection sampling)."""
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)

    def draw(k: int) -> np.ndarray:
        out: list[np.ndarray] = []
        while sum(len(o) for o in out) < k:
            xy = np.column_stack([rng.uniform(minx, maxx, 4 * k), rng.uniform(miny, maxy, 4 * k)])
            out.append(xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])])
        return np.vstack(out)[:k]

    return draw


def wiggly_line(
    start: tuple[float, float],
    end: tuple[float, float],
    rng: np.random.Generator,
    *,
    wiggle: float = 0.06,
    max_vertices: int = 3,
    vertex_spacing_m: float = 900.0,
) -> LineString:
    """Return a line from ``start`` to ``end`` with a few jittered intermediate vertices.

    Parameters
    ----------
    start, end
        End points (metric CRS, metres); kept exactly, so lines meeting at a node share it.
    rng
        Random generator.
    wiggle
        Lateral offset of intermediate vertices as a share of the line length (standard deviation).
    max_vertices
        At most this many intermediate vertices.
    vertex_spacing_m
        About one intermediate vertex per this many metres of length.
    """
    a = np.asarray(start, dtype=float)
    b = np.asarray(end, dtype=float)
    length = float(np.hypot(*(b - a)))
    k = int(min(max_vertices, length // vertex_spacing_m))
    if k <= 0 or length == 0.0:
        return LineString([a, b])
    t = np.sort(rng.uniform(0.15, 0.85, k))
    normal = np.array([-(b - a)[1], (b - a)[0]]) / length
    offsets = rng.normal(0.0, wiggle * length, k)
    mids = a[None, :] + t[:, None] * (b - a)[None, :] + offsets[:, None] * normal[None, :]
    return LineString(np.vstack([a, mids, b]))
