"""Coverage statistics per commune and per hamlet.

For one technology, from the per-operator class rasters and the all-operator best-server raster:

* per hamlet and operator: the share of the hamlet's households in each class (none / poor / fair
  / good). Households are spread over the hamlet's settlement footprint
  (:func:`analysis.hamlet_areas.hamlet_footprints`: point hamlets get their Voronoi cell within the
  commune ∩ a disc of ``hamlet_radius_m`` ∩ the commune; polygons keep their polygon), uniformly or
  in proportion to the population raster when one is given. The representative ``coverage_class``
  is the median household's class (best class reached by at least half of them); on the "all" rows
  also the number of operators with good coverage (by their median class), the best-server RSRP
  and cell at the hamlet point, and the status served / underserved / unserved from the median
  classes (thresholds in ``[statistics]`` of coverage.toml, policy choices);
* per commune and operator ("all" = best of every operator): share of the commune's area in each
  class, share of its households (household-weighted mean of its hamlets' shares), share of
  population when a population raster is given, and on the "all" rows the number of operators with
  good coverage (good for at least ``commune_operator_household_share`` of the commune's households).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from numpy.typing import NDArray
from rasterio import features
from rasterio.transform import Affine

from analysis.coverage import NODATA_CLASS, NODATA_RSRP, Grid, OperatorCoverage, Scene, classify_rsrp
from analysis.coverage_params import CLASS_NAMES, CoverageParams, TechnologyParams
from analysis.hamlet_areas import hamlet_footprints
from geo.errors import SchemaError

__all__ = [
    "CoverageStats",
    "StatisticsInputs",
    "coverage_statistics",
    "footprint_class_shares",
    "hamlet_status",
    "prepare_statistics",
]

ALL_OPERATORS = "all"
_COMMUNE_COLUMNS = ("commune_id", "commune_name", "district_name", "commune_type", "households")
_HAMLET_COLUMNS = ("hamlet_id", "hamlet_name", "commune_id", "households", "population")


@dataclass(frozen=True)
class CoverageStats:
    """Statistics tables (EPSG:4326 geometries) of one technology."""

    communes: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame
    #: One row per hamlet: ``hamlet_id``, ``footprint_km2`` and the settlement footprint polygon its
    #: household shares were computed over (empty where the hamlet has no geometry).
    footprints: gpd.GeoDataFrame | None = None


@dataclass(frozen=True)
class StatisticsInputs:
    """What the statistics need that does not depend on the coverage (:func:`prepare_statistics`):
    the hamlets in the grid CRS, their settlement footprints, anchor points (grid-CRS x, y; NaN where
    a hamlet has no geometry) and the grid pixels of each footprint (flat pixel index, hamlet row)."""

    hamlets: gpd.GeoDataFrame
    footprints: gpd.GeoSeries
    anchors_xy: NDArray[np.float64]
    pixels: tuple[NDArray[np.int64], NDArray[np.int64]]


def prepare_statistics(
    scene: Scene, hamlets: gpd.GeoDataFrame, *, params: CoverageParams
) -> StatisticsInputs:
    """The coverage-independent part of :func:`coverage_statistics` (footprints and their pixels),
    e.g. to compute it while the coverage engine runs.

    Parameters
    ----------
    scene : Scene
        Grid and communes.
    hamlets : GeoDataFrame
        Hamlet points or polygons with ``hamlet_id``, ``commune_id``, ``households``.
    params : CoverageParams, keyword-only
        ``[statistics] hamlet_radius_m``.

    Returns
    -------
    StatisticsInputs

    Raises
    ------
    SchemaError
        A required hamlet column is missing.
    """
    for col in ("hamlet_id", "commune_id", "households"):
        if col not in hamlets.columns:
            raise SchemaError(f"hamlets: column {col!r} is missing")
    ham = hamlets.to_crs(scene.grid.crs).reset_index(drop=True)
    footprints = hamlet_footprints(
        ham, scene.communes, radius_m=params.statistics.hamlet_radius_m, metric_crs=scene.grid.crs
    )
    anchors = np.full((len(ham), 2), np.nan)
    present = ~(ham.geometry.isna() | ham.geometry.is_empty).to_numpy()
    if present.any():
        pts = ham.geometry[present].representative_point()
        anchors[present] = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    return StatisticsInputs(ham, footprints, anchors, _footprint_pixels(footprints, anchors, scene.grid))


def _class_shares(
    unit: NDArray[np.signedinteger],
    classes: NDArray[np.uint8],
    n_units: int,
    weights: NDArray[np.floating] | None = None,
) -> NDArray[np.float64]:
    """Per unit, share of (weighted) pixels in each class; NaN rows for units without pixels."""
    ok = (unit >= 0) & (classes != NODATA_CLASS)
    idx = unit[ok].astype(np.int64) * len(CLASS_NAMES) + classes[ok]
    w = None if weights is None else np.nan_to_num(weights[ok].astype(np.float64))
    sums = np.bincount(idx, weights=w, minlength=n_units * len(CLASS_NAMES)).reshape(
        n_units, len(CLASS_NAMES)
    )
    total = sums.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sums / total, np.nan)


def _unit_slots(unit: NDArray[np.integer], n_units: int) -> NDArray[np.unsignedinteger]:
    """``unit`` * (number of classes + 1) for :func:`_area_shares`, in the smallest unsigned type
    that holds every slot (less memory traffic per raster)."""
    k = len(CLASS_NAMES)
    return (unit * (k + 1)).astype(np.min_scalar_type(max(n_units * (k + 1) - 1, 0)))


def _area_shares(
    unit_slot: NDArray[np.unsignedinteger], classes: NDArray[np.uint8], n_units: int
) -> NDArray[np.float64]:
    """Per unit, share of pixels in each class (NaN rows for units without pixels): unweighted
    :func:`_class_shares`, faster. ``unit_slot`` from :func:`_unit_slots`; ``NODATA_CLASS`` pixels
    (and any code above the last class) go to an extra, dropped slot."""
    k = len(CLASS_NAMES)
    code = np.minimum(classes, k).astype(unit_slot.dtype, copy=False)
    code += unit_slot
    sums = np.bincount(code, minlength=n_units * (k + 1))
    sums = sums.reshape(n_units, k + 1)[:, :k]
    total = sums.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sums / total, np.nan)


def _shares_of_counts(sums: NDArray[np.int64]) -> NDArray[np.float64]:
    """Row-normalised class counts (the tail of :func:`_area_shares`): NaN rows where a unit has none."""
    total = sums.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sums / total, np.nan)


def _compiled_counts() -> tuple[Callable[..., NDArray[np.int64]], Callable[..., NDArray[np.int64]]] | None:
    """The compiled class histograms (:func:`analysis._coverage_kernel.class_counts`, ``class_counts_at``),
    or None without numba (the numpy path is used)."""
    try:
        from analysis._coverage_kernel import class_counts, class_counts_at
    except ImportError:
        return None
    return class_counts, class_counts_at


def _classify_all(rsrp_dbm: NDArray[np.float32], tech: TechnologyParams, compiled: bool) -> NDArray[np.uint8]:
    """:func:`analysis.coverage.classify_rsrp`, in one compiled pass when numba is there."""
    if not compiled:
        return classify_rsrp(rsrp_dbm, tech)
    from analysis._coverage_kernel import classify_levels

    levels = np.ascontiguousarray(rsrp_dbm, dtype=np.float32)
    thresholds = np.asarray(tech.thresholds_dbm, dtype=np.float32)
    return classify_levels(levels.ravel(), thresholds, NODATA_RSRP, NODATA_CLASS).reshape(levels.shape)  # type: ignore[no-any-return]


def _median_class(shares: NDArray[np.float64]) -> NDArray[np.int64]:
    """Best class reached on at least half of the unit (cumulative from "good" down)."""
    from_best = np.cumsum(shares[:, ::-1], axis=1)
    reached = from_best >= 0.5 - 1e-9
    first = reached.argmax(axis=1)
    out = len(CLASS_NAMES) - 1 - first
    return np.where(np.isnan(shares).any(axis=1), -1, out)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Cyclic garbage collection off for the block: the tens of thousands of short-lived coordinate
    lists handed to rasterize would otherwise trigger full collections of the whole heap."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _polygon_shapes(geoms: NDArray[np.object_], values: NDArray[np.int64]) -> list[tuple[object, int]]:
    """(GeoJSON-like polygon, burn value) pairs for :func:`rasterio.features.rasterize`.

    Polygon and MultiPolygon geometries are handed over as one GeoJSON polygon per part, built
    from one coordinate array: the same coordinates and parts, in the same order, as rasterize gets
    from their ``__geo_interface__`` (it splits MultiPolygons the same way), without its per-vertex
    Python cost (empty parts, which burn nothing, are left out). Other geometries are passed as
    they are.
    """
    if len(geoms) == 0 or not np.isin(shapely.get_type_id(geoms), (3, 6)).all():
        return [(g, int(v)) for g, v in zip(geoms, values, strict=True)]
    _, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    ring_off, part_off = offsets[0], offsets[1]
    geom_off = offsets[2] if len(offsets) == 3 else np.arange(len(geoms) + 1)  # all Polygons
    xy = coords.tolist()
    rings = [xy[a:b] for a, b in zip(ring_off[:-1].tolist(), ring_off[1:].tolist(), strict=True)]
    part_value = np.repeat(np.asarray(values, dtype=np.int64), np.diff(geom_off)).tolist()
    bounds = zip(part_off[:-1].tolist(), part_off[1:].tolist(), part_value, strict=True)
    return [({"type": "Polygon", "coordinates": rings[a:b]}, v) for a, b, v in bounds if b > a]


def _disjoint_layers(geoms: NDArray[np.object_], gap_m: float) -> NDArray[np.int64]:
    """Greedy layer number of each geometry such that the geometries of a layer lie more than
    ``gap_m`` apart (more than a pixel's diagonal: no pixel is then burnt for two of them)."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=gap_m)
    keep = i > j
    near: dict[int, list[int]] = {}
    for a, b in zip(i[keep].tolist(), j[keep].tolist(), strict=True):
        near.setdefault(a, []).append(b)
    layer = np.zeros(len(geoms), dtype=np.int64)
    for a in sorted(near):
        taken = {int(layer[b]) for b in near[a]}
        layer[a] = min(set(range(len(taken) + 1)) - taken)
    return layer


def _burn(
    geoms: NDArray[np.object_], rows: NDArray[np.int64], grid: Grid, *, whole_grid: bool = False
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(flat pixel index, row) of the pixels whose centre lies in ``geoms`` (grid CRS), in grid
    order, rasterised in one pass over the grid (``whole_grid``) or over the window of the grid
    that holds their bounds; a pixel in several geometries goes to the last one."""
    r0, c0, r1, c1 = 0, 0, grid.height, grid.width
    if not whole_grid:
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        r = grid.resolution_m
        c0 = max(int(np.floor((minx - grid.left_m) / r)), 0)
        c1 = min(int(np.ceil((maxx - grid.left_m) / r)), grid.width)
        r0 = max(int(np.floor((grid.top_m - maxy) / r)), 0)
        r1 = min(int(np.ceil((grid.top_m - miny) / r)), grid.height)
    if c1 <= c0 or r1 <= r0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    with _gc_paused():
        unit = features.rasterize(
            _polygon_shapes(geoms, rows),
            out_shape=(r1 - r0, c1 - c0),
            transform=grid.transform if whole_grid else grid.transform @ Affine.translation(c0, r0),
            fill=-1,
            dtype="int16" if rows.max() < np.iinfo(np.int16).max else "int32",
        ).ravel()
    flat = np.flatnonzero(unit >= 0)
    units = unit[flat].astype(np.int64)
    if not whole_grid:
        flat = (flat // (c1 - c0) + r0) * grid.width + (flat % (c1 - c0) + c0)
    return flat.astype(np.int64), units


def _first_layer(geoms: NDArray[np.object_], present: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Footprints whose interiors overlap no earlier footprint of the layer (greedy, in order)."""
    idx = np.nonzero(present)[0]
    tree = shapely.STRtree(geoms[idx])
    i, j = tree.query(geoms[idx], predicate="intersects")
    keep = i < j
    i, j = idx[i[keep]], idx[j[keep]]
    overlap = shapely.relate_pattern(geoms[i], geoms[j], "T********")
    earlier: dict[int, list[int]] = {}
    for a, b in zip(i[overlap].tolist(), j[overlap].tolist(), strict=True):
        earlier.setdefault(b, []).append(a)
    layer = present.copy()
    for k in sorted(earlier):
        if any(layer[a] for a in earlier[k]):
            layer[k] = False
    return layer


def _footprint_pixels(
    footprints: gpd.GeoSeries, anchors_xy: NDArray[np.float64] | None, grid: Grid
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(flat pixel index, footprint row) of every pixel of every footprint; overlaps kept.

    Footprints that overlap no earlier one are rasterised in one pass over the grid; the others
    (each with all its pixels, also those it shares) in a few more passes, each over footprints
    more than two pixels apart. Pixels come by pass, then by footprint after the first pass, then in
    grid order. A footprint without a pixel centre (smaller than a pixel) or missing falls back to
    the pixel of its anchor point, when that lies on the grid.
    """
    geoms = footprints.to_numpy()
    n = len(geoms)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pixels: list[NDArray[np.int64]] = []
    units: list[NDArray[np.int64]] = []
    with rasterio.Env():
        first = _first_layer(geoms, present) if present.any() else present
        if first.any():
            rows = np.nonzero(first)[0]
            pix, unit = _burn(geoms[rows], rows, grid, whole_grid=True)
            pixels.append(pix)
            units.append(unit)
        rest = np.nonzero(present & ~first)[0]
        if len(rest):
            layer = _disjoint_layers(geoms[rest], 2.0 * grid.resolution_m)
            burnt = [_burn(geoms[rest[layer == k]], rest[layer == k], grid) for k in np.unique(layer)]
            pix, unit = np.concatenate([p for p, _ in burnt]), np.concatenate([u for _, u in burnt])
            order = np.argsort(unit, kind="stable")
            pixels.append(pix[order])
            units.append(unit[order])
    counts = np.bincount(np.concatenate(units), minlength=n) if units else np.zeros(n, dtype=np.int64)
    if anchors_xy is not None:
        lonely = np.nonzero((counts == 0) & np.isfinite(anchors_xy).all(axis=1))[0]
        row, col = grid.rowcol(anchors_xy[lonely, 0], anchors_xy[lonely, 1])
        on = (row >= 0) & (row < grid.height) & (col >= 0) & (col < grid.width)
        pixels.append(row[on] * grid.width + col[on])
        units.append(lonely[on].astype(np.int64))
    if not pixels:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(pixels), np.concatenate(units)


def footprint_class_shares(
    footprints: gpd.GeoSeries,
    grid: Grid,
    rasters: dict[str, NDArray[np.uint8]],
    *,
    anchors_xy: NDArray[np.float64] | None = None,
    population: NDArray[np.floating] | None = None,
    pixels: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Share of each footprint's households in each coverage class, per raster.

    Households are spread uniformly over the footprint's pixels (pixel centre inside the
    footprint), or in proportion to ``population`` where the footprint holds population; pixels
    with ``NODATA_CLASS`` (outside the province) are left out.

    Parameters
    ----------
    footprints : GeoSeries
        Polygons in the grid CRS (``None`` allowed), e.g. from
        :func:`analysis.hamlet_areas.hamlet_footprints`.
    grid : Grid
        The raster grid.
    rasters : dict of str to ndarray
        Class codes (index into ``CLASS_NAMES``) on ``grid`` per key (operator or "all").
    anchors_xy : ndarray, optional, keyword-only
        (n, 2) grid-CRS x, y, m, of each hamlet point: used where a footprint covers no pixel centre.
    population : ndarray, optional, keyword-only
        Persons per pixel on ``grid``.
    pixels : (ndarray, ndarray), optional, keyword-only
        The footprints' pixels (flat pixel index, footprint row) when already known (see
        :class:`StatisticsInputs`); by default they are rasterised here.

    Returns
    -------
    dict of str to ndarray
        Per key, (n, 4) shares none/poor/fair/good summing to 1, NaN rows where no pixel is known.
    """
    pix, unit = _footprint_pixels(footprints, anchors_xy, grid) if pixels is None else pixels
    n = len(footprints)
    weights = None
    if population is not None:
        weights = np.clip(np.nan_to_num(np.asarray(population).ravel()[pix].astype(np.float64)), 0, None)
    compiled = _compiled_counts()
    slots = _unit_slots(unit, n) if compiled is None else None
    out = {}
    for key, cls in rasters.items():
        flat = cls.ravel()
        if compiled is not None:  # the same counts as _area_shares, without gathering the pixels
            shares = _shares_of_counts(compiled[1](pix, unit, flat, n, len(CLASS_NAMES)))
        else:
            assert slots is not None
            shares = _area_shares(slots, flat[pix], n)
        if weights is not None:
            weighted = _class_shares(unit, flat[pix], n, weights=weights)
            shares = np.where(np.isnan(weighted), shares, weighted)
        out[key] = shares
    return out


def hamlet_status(
    best_class: NDArray[np.integer], operators_good: NDArray[np.integer], params: CoverageParams
) -> NDArray[np.object_]:
    """served / underserved / unserved (or "outside" where no class is known) per hamlet.

    served: at least ``served_min_operators`` operators reach ``served_min_class``;
    unserved: the best operator does not reach ``unserved_below_class``; otherwise underserved.
    """
    st = params.statistics
    unserved_code = CLASS_NAMES.index(st.unserved_below_class)
    status = np.where(
        operators_good >= st.served_min_operators,
        "served",
        np.where(best_class < unserved_code, "unserved", "underserved"),
    ).astype(object)
    status[np.asarray(best_class) < 0] = "outside"
    return status


def coverage_statistics(
    scene: Scene,
    coverage: OperatorCoverage,
    hamlets: gpd.GeoDataFrame,
    *,
    params: CoverageParams,
    population: NDArray[np.floating] | None = None,
    prepared: StatisticsInputs | None = None,
) -> CoverageStats:
    """Per-commune and per-hamlet coverage statistics of one technology.

    Parameters
    ----------
    scene : Scene
        Grid, communes (``scene.communes``: commune_id, commune_name, households ...).
    coverage : OperatorCoverage
        From :func:`analysis.coverage.compute_coverage_by_operator`.
    hamlets : GeoDataFrame
        Hamlet points or polygons with ``hamlet_id``, ``hamlet_name``, ``commune_id``, ``households``.
    params : CoverageParams, keyword-only
        Class thresholds and ``[statistics]`` policy.
    population : ndarray, optional, keyword-only
        Persons per pixel on ``scene.grid``; adds commune population shares and spreads each
        hamlet's households over its footprint in proportion to it (uniformly where the footprint
        holds no population).
    prepared : StatisticsInputs, optional, keyword-only
        :func:`prepare_statistics` of the same scene, hamlets and parameters, when already computed.

    Returns
    -------
    CoverageStats
        ``communes``: one row per commune and operator (incl. "all"); ``hamlets`` likewise;
        ``footprints``: the settlement footprint of each hamlet (EPSG:4326).
    """
    if prepared is None:
        prepared = prepare_statistics(scene, hamlets, params=params)
    tech = params.tech(coverage.combined.technology)
    compiled = _compiled_counts()
    rasters = {ALL_OPERATORS: _classify_all(coverage.combined.rsrp_dbm, tech, compiled is not None)}
    rasters.update(coverage.classes_by_operator)
    ham, footprints, anchors = prepared.hamlets, prepared.footprints, prepared.anchors_xy
    ham_shares = footprint_class_shares(
        footprints, scene.grid, rasters, anchors_xy=anchors, population=population, pixels=prepared.pixels
    )
    ham_cls = {key: _median_class(shares) for key, shares in ham_shares.items()}
    communes = scene.communes
    hh = pd.to_numeric(ham["households"], errors="coerce").fillna(0).to_numpy(dtype=float)
    commune_row = pd.Series(np.arange(len(communes)), index=communes["commune_id"].astype(str))
    ham_commune = ham["commune_id"].astype(str).map(commune_row).fillna(-1).astype(int).to_numpy()
    good = CLASS_NAMES.index("good")
    served_code = CLASS_NAMES.index(params.statistics.served_min_class)
    ops = list(coverage.classes_by_operator)
    ham_ops_served = _operators_reaching(ham_cls, ops, served_code, len(ham))
    ham_ops_good = _operators_reaching(ham_cls, ops, good, len(ham))

    commune_frames, hamlet_frames = [], []
    hh_good_share: dict[str, NDArray[np.float64]] = {}
    commune_flat = scene.commune.ravel()
    inside = None  # pixels in some commune, shared by all rasters (numpy path, population shares)
    commune_px = commune_slot = pop_px = None
    if compiled is None or population is not None:
        inside = np.flatnonzero(commune_flat >= 0)
        commune_px = commune_flat[inside]
        commune_slot = _unit_slots(commune_px, len(communes))
        pop_px = None if population is None else np.asarray(population).ravel()[inside]
    area_counts = {
        key: compiled[0](commune_flat, cls.ravel(), len(communes), len(CLASS_NAMES))
        for key, cls in rasters.items()
        if compiled is not None
    }
    if compiled is not None:  # every pixel of a commune has a class (0..3) in the "all" raster
        pixels = area_counts[ALL_OPERATORS].sum(axis=1)
    else:
        assert commune_px is not None
        pixels = np.bincount(commune_px, minlength=len(communes))
    area_km2 = pixels * (scene.grid.resolution_m / 1000.0) ** 2
    # output geometries (EPSG:4326) and footprint areas, transformed/computed once for all operators
    commune_geom = communes.geometry.to_crs(4326).to_numpy()
    ham_geom = ham.geometry.to_crs(4326).to_numpy()
    footprint_km2 = np.round(footprints.area.fillna(0.0).to_numpy() / 1e6, 4)
    commune_base = _kept_columns(communes, _COMMUNE_COLUMNS)
    hamlet_base = _kept_columns(ham, _HAMLET_COLUMNS)
    for key, cls in rasters.items():
        cls_px = None if inside is None else cls.ravel()[inside]
        if compiled is not None:  # the same counts as _area_shares, in one pass over the raster
            area = _shares_of_counts(area_counts[key])
        else:
            assert commune_slot is not None and cls_px is not None
            area = _area_shares(commune_slot, cls_px, len(communes))
        hh_shares = _household_shares(ham_shares[key], ham_commune, hh, len(communes))
        hh_good_share[key] = hh_shares[:, good]
        frame = _commune_frame(commune_base, tech.technology, key, area, hh_shares, area_km2, commune_geom)
        if pop_px is not None:
            assert commune_px is not None and cls_px is not None
            pop = _class_shares(commune_px, cls_px, len(communes), weights=pop_px)
            for i, name in enumerate(CLASS_NAMES):
                frame[f"population_share_{name}"] = pop[:, i]
        commune_frames.append(frame)
        hamlet_frames.append(
            _hamlet_frame(
                hamlet_base, tech.technology, key, ham_cls[key], ham_shares[key], footprint_km2, ham_geom
            )
        )
    ops_good_commune = np.zeros(len(communes), dtype=np.int64)
    for op in ops:
        ops_good_commune += (
            np.nan_to_num(hh_good_share[op]) >= params.statistics.commune_operator_household_share
        )
    commune_frames[0]["operators_good"] = pd.array(ops_good_commune, dtype="Int64")
    all_h = hamlet_frames[0]
    all_h["operators_good"] = pd.array(ham_ops_good, dtype="Int64")
    all_h["status"] = hamlet_status(ham_cls[ALL_OPERATORS], ham_ops_served, params)
    _add_best_server(all_h, anchors, scene, coverage)
    communes_out = gpd.GeoDataFrame(
        pd.concat(commune_frames, ignore_index=True), geometry="geometry", crs=4326
    )
    hamlets_out = gpd.GeoDataFrame(pd.concat(hamlet_frames, ignore_index=True), geometry="geometry", crs=4326)
    footprints_out = gpd.GeoDataFrame(
        {"hamlet_id": ham["hamlet_id"].astype(str).to_numpy(), "footprint_km2": footprint_km2},
        geometry=footprints.to_crs(4326).to_numpy(),
        crs=4326,
    )
    return CoverageStats(communes_out, hamlets_out, footprints_out)


def _operators_reaching(
    classes: dict[str, NDArray[np.int64]], operators: list[str], code: int, n: int
) -> NDArray[np.int64]:
    """Per unit, number of operators whose class is at least ``code``."""
    out = np.zeros(n, dtype=np.int64)
    for op in operators:
        out += classes[op] >= code
    return out


def _household_shares(
    shares: NDArray[np.float64], commune: NDArray[np.int64], hh: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    """Per commune, household-weighted mean of its hamlets' class shares (NaN without hamlets)."""
    ok = ~np.isnan(shares).any(axis=1) & (commune >= 0)
    sums = np.zeros((n, len(CLASS_NAMES)))
    np.add.at(sums, commune[ok], shares[ok] * hh[ok, None])
    total = sums.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sums / total, np.nan)


def _kept_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """The columns of ``names`` that ``frame`` has, as a plain DataFrame (no geometry)."""
    return pd.DataFrame(frame[[c for c in names if c in frame.columns]])


def _table(base: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """``base``'s columns (dtypes kept) followed by ``columns``, built in one go (faster than
    adding the columns one by one)."""
    data: dict[str, object] = {str(c): base[c] for c in base.columns}
    data.update(columns)
    return pd.DataFrame(data, index=base.index)


def _commune_frame(
    base: pd.DataFrame,
    technology: str,
    operator: str,
    area: NDArray[np.float64],
    hh_shares: NDArray[np.float64],
    area_km2: NDArray[np.floating],
    geometry_4326: NDArray[np.object_],
) -> pd.DataFrame:
    columns: dict[str, object] = {"technology": technology, "operator": operator, "area_km2": area_km2}
    columns.update({f"area_share_{name}": area[:, i] for i, name in enumerate(CLASS_NAMES)})
    columns.update({f"household_share_{name}": hh_shares[:, i] for i, name in enumerate(CLASS_NAMES)})
    columns["geometry"] = geometry_4326
    return _table(base, columns)


def _hamlet_frame(
    base: pd.DataFrame,
    technology: str,
    operator: str,
    cls: NDArray[np.int64],
    shares: NDArray[np.float64],
    footprint_km2: NDArray[np.float64],
    geometry_4326: NDArray[np.object_],
) -> pd.DataFrame:
    columns: dict[str, object] = {
        "technology": technology,
        "operator": operator,
        "coverage_class": [CLASS_NAMES[c] if c >= 0 else "outside" for c in cls],
        "footprint_km2": footprint_km2,
    }
    columns.update({f"household_share_{name}": shares[:, i] for i, name in enumerate(CLASS_NAMES)})
    columns["geometry"] = geometry_4326
    return _table(base, columns)


def _add_best_server(
    frame: pd.DataFrame, anchors_xy: NDArray[np.float64], scene: Scene, coverage: OperatorCoverage
) -> None:
    """Best level, cell and operator at each hamlet's anchor (grid-CRS x, y; NaN where missing)."""
    row, col = scene.grid.rowcol(anchors_xy[:, 0], anchors_xy[:, 1])
    ok = (row >= 0) & (row < scene.grid.height) & (col >= 0) & (col < scene.grid.width)
    res = coverage.combined
    rsrp = np.full(len(anchors_xy), np.nan)
    rsrp[ok] = res.rsrp_dbm[row[ok], col[ok]]
    rsrp[rsrp == NODATA_RSRP] = np.nan
    server = np.full(len(anchors_xy), -1, dtype=np.int64)
    server[ok] = res.server[row[ok], col[ok]]
    rsrp[server < 0] = np.nan  # below the poor threshold: no level worth reporting (class none)
    cell_ids = res.cells["cell_id"].astype(str).to_numpy()
    operators = res.cells["operator"].astype(str).to_numpy()
    frame["best_rsrp_dbm"] = np.round(rsrp, 1)
    frame["best_cell_id"] = [cell_ids[s] if s >= 0 else "" for s in server]
    frame["best_operator"] = [operators[s] if s >= 0 else "" for s in server]
