"""Steps 2 and 3: the nearest-whole-part split rule, and every 2009 piece allocated to new communes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.derive_communes.common import (
    MIN_SHARED_BORDER_M,
    NEIGHBOUR_TOLERANCE_M,
    SEED_SPACING_M,
    SPLIT_RULE,
)
from geo.errors import InvalidGeometryError, ParameterError


def _outline_points(geom: BaseGeometry, spacing_m: float) -> np.ndarray:
    """Points every ``spacing_m`` (at most) along the outline of ``geom`` (an (n, 2) array)."""
    boundary = shapely.segmentize(geom.boundary, spacing_m)
    return np.asarray(shapely.get_coordinates(boundary), dtype=float)


def split_by_nearest_parts(
    polygon: BaseGeometry, seeds: Mapping[str, BaseGeometry], *, spacing_m: float = SEED_SPACING_M
) -> dict[str, BaseGeometry]:
    """Divide ``polygon`` among targets: each point goes to the target whose seed geometry is nearest.

    The seeds are the targets' *whole* parts. Distances to a seed are measured to its outline,
    sampled every ``spacing_m``; the division is the Voronoi diagram of those samples, merged per
    target and clipped to ``polygon``. Inputs in a metric CRS.

    Parameters
    ----------
    polygon : shapely geometry
        The (Multi)Polygon to divide.
    seeds : mapping of str to shapely geometry
        Target id -> its whole parts. A target with an empty seed gets nothing.
    spacing_m : float, default 50
        Sampling step along the seeds' outlines (the dividing line is exact to about this).

    Returns
    -------
    dict of str to shapely geometry
        Target id -> its part (possibly empty), for every target in ``seeds``. The parts do not
        overlap and their union is ``polygon``.

    Raises
    ------
    ParameterError
        No seed geometry at all, or a non-positive spacing.
    InvalidGeometryError
        ``polygon`` is empty or invalid.
    """
    if spacing_m <= 0:
        raise ParameterError(f"spacing_m must be positive, got {spacing_m}")
    if polygon.is_empty or not polygon.is_valid:
        raise InvalidGeometryError("split_by_nearest_parts: polygon is empty or invalid")
    ids = list(seeds)
    live = [t for t in ids if not seeds[t].is_empty]
    if not live:
        raise ParameterError("split_by_nearest_parts: no target has a seed geometry")
    empty = Polygon()
    if len(live) == 1:
        return {t: (polygon if t == live[0] else empty) for t in ids}
    coords, labels = [], []
    for index, target in enumerate(live):
        pts = _outline_points(seeds[target], spacing_m)
        coords.append(pts)
        labels.append(np.full(len(pts), index))
    xy = np.vstack(coords)
    lab = np.concatenate(labels)
    xy, first = np.unique(np.round(xy, 3), axis=0, return_index=True)  # shared outlines: one label
    lab = lab[first]
    extent = shapely.box(*shapely.union(polygon.envelope, shapely.multipoints(xy).envelope).bounds).buffer(
        1000.0
    )
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=extent, ordered=True)
    )
    parts: dict[str, BaseGeometry] = {}
    for index, target in enumerate(live):
        region = _union_cells(cells[lab == index])
        parts[target] = shapely.make_valid(shapely.intersection(polygon, region))
    # Exact partition: the biggest part is what the others leave (no gaps from floating point).
    biggest = max(live, key=lambda t: parts[t].area)
    others = shapely.union_all([parts[t] for t in live if t != biggest])
    parts[biggest] = shapely.make_valid(shapely.difference(polygon, others))
    return {t: _polygonal(parts.get(t, empty)) for t in ids}


def _union_cells(cells: np.ndarray) -> BaseGeometry:
    """Union of Voronoi cells (a polygonal coverage); falls back to a snapped union if GEOS balks."""
    try:
        return shapely.coverage_union_all(cells)
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.make_valid(cells), grid_size=1e-6)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal part of ``geom`` (intersections may add lines or points)."""
    if geom.is_empty:
        return Polygon()
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, (Polygon, MultiPolygon))]
    if not polys:
        return Polygon()
    return shapely.union_all(polys)


def _neighbours(pieces_m: gpd.GeoDataFrame) -> dict[str, set[str]]:
    """Pieces sharing at least :data:`MIN_SHARED_BORDER_M` of border (within the tolerance)."""
    geoms = pieces_m.geometry.values
    ids = pieces_m["piece_id"].to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=NEIGHBOUR_TOLERANCE_M)
    keep = left != right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(
            shapely.boundary(geoms[left]), shapely.buffer(geoms[right], NEIGHBOUR_TOLERANCE_M)
        )
    )
    out: dict[str, set[str]] = defaultdict(set)
    for a, b, length in zip(left, right, shared, strict=True):
        if length >= MIN_SHARED_BORDER_M:
            out[str(ids[a])].add(str(ids[b]))
            out[str(ids[b])].add(str(ids[a]))
    return out


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to ``weights`` that sum to ``total``."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() <= 0:
        out = [0] * len(w)
        if total and len(w):
            out[0] = total
        return out
    exact = total * w / w.sum()
    floor = np.floor(exact).astype(int)
    rest = total - int(floor.sum())
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[:rest]] += 1
    return [int(v) for v in floor]


def allocate_pieces(
    pieces_m: gpd.GeoDataFrame,
    matches: pd.DataFrame,
    mapping: pd.DataFrame,
    *,
    spacing_m: float = SEED_SPACING_M,
) -> gpd.GeoDataFrame:
    """Allocate every 2009 piece (or part of it) to new communes.

    Parameters
    ----------
    pieces_m : geopandas.GeoDataFrame
        Pieces in a metric CRS with ``piece_id``, ``province_code``, ``district_vn``, ``pop_2009``.
    matches : pandas.DataFrame
        From :func:`match_pieces`.
    mapping : pandas.DataFrame
        Old → new pairs (:func:`geo.admin_units.load_old_to_new`) of the former provinces.
    spacing_m : float, default 50
        Passed to :func:`split_by_nearest_parts`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per non-empty (piece, new commune) part, plus zero-area rows for targets a split
        gave nothing: ``piece_id``, ``new_commune_code``, ``rule``, ``population_2009``, geometry.

    Raises
    ------
    InvalidGeometryError
        A piece must be divided among targets none of which has a whole part.
    """
    targets_of = (
        mapping.groupby("old_commune_code")["new_commune_code"].agg(lambda s: sorted(set(s))).to_dict()
    )
    codes_of: dict[str, list[str]] = defaultdict(list)
    for pid, code in zip(matches["piece_id"], matches["old_commune_code"], strict=True):
        if code:
            codes_of[pid].append(code)
    geom_of = dict(zip(pieces_m["piece_id"], pieces_m.geometry.values, strict=True))
    district_of = dict(
        zip(pieces_m["piece_id"], pieces_m["province_code"] + "|" + pieces_m["district_vn"], strict=True)
    )
    pop_of = dict(zip(pieces_m["piece_id"], pieces_m["pop_2009"], strict=True))

    piece_targets: dict[str, list[str]] = {}
    for pid in pieces_m["piece_id"]:
        if codes_of.get(pid):
            piece_targets[pid] = sorted({t for c in codes_of[pid] for t in targets_of.get(c, [])})
    whole: dict[str, list[BaseGeometry]] = defaultdict(list)
    for pid, targets in piece_targets.items():
        if len(targets) == 1:
            whole[targets[0]].append(geom_of[pid])
    seeds = {t: shapely.union_all(g) for t, g in whole.items()}

    neighbours = _neighbours(pieces_m)
    records: list[dict[str, Any]] = []
    for pid in pieces_m["piece_id"]:
        geom = geom_of[pid]
        if pid in piece_targets:
            targets, prefix = piece_targets[pid], ""
        else:
            targets = sorted(
                {
                    t
                    for n in neighbours.get(pid, set())
                    if district_of[n] == district_of[pid] and n in piece_targets
                    for t in piece_targets[n]
                }
            )
            prefix = "unattributed:"
        if not targets:
            raise InvalidGeometryError(
                f"2009 polygon {pid}: no code and no matched neighbour in its district"
            )
        if len(targets) == 1:
            parts = {targets[0]: geom}
            rule = prefix + "whole"
        else:
            have = {t: seeds.get(t, Polygon()) for t in targets}
            if all(g.is_empty for g in have.values()):
                raise InvalidGeometryError(
                    f"2009 polygon {pid}: split among {', '.join(targets)}, none of which has a whole part"
                )
            parts = split_by_nearest_parts(geom, have, spacing_m=spacing_m)
            rule = prefix + SPLIT_RULE
        areas = [parts[t].area for t in targets]
        pops = _largest_remainder(int(pop_of[pid]), areas)
        for target, pop in zip(targets, pops, strict=True):
            records.append(
                {
                    "piece_id": pid,
                    "new_commune_code": target,
                    "rule": rule,
                    "population_2009": pop,
                    "geometry": parts[target],
                }
            )
    return gpd.GeoDataFrame(records, geometry="geometry", crs=pieces_m.crs)
