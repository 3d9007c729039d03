"""Settlement footprints of hamlets: where a hamlet's households are assumed to live.

Hamlets (ấp, khóm) in the boundary data are usually POINTS. Coverage statistics need the spread of
a hamlet's households over the map, so a point hamlet is given a documented footprint:

* its **Voronoi cell** among the point hamlets of the same commune (every location goes to the
  nearest hamlet of its commune), intersected with
* a **disc** of the settlement radius around the point (``[statistics] hamlet_radius_m`` in
  ``coverage.toml``, 700 m by default: Mekong-delta hamlets are linear settlements strung along
  roads and canals, a few hundred metres to about 1–2 km long), and
* the **commune polygon** (households live in their own commune).

Fallbacks: a point lying outside its commune polygon (digitising offsets, boundary edits) is not
clipped by the commune (its footprint is Voronoi cell ∩ disc); a hamlet whose commune is unknown is
not clipped by any commune (disc ∩ Voronoi cell among the hamlets with the same unknown commune
code: the disc alone when it is the only one); several hamlets at the same point share one
footprint; a hamlet alone in its commune has no neighbour to split with (disc ∩ commune). Polygon
hamlets keep their polygon (made valid). Empty or missing geometries give ``None``. Footprints of
neighbouring communes may overlap where the commune polygons themselves overlap (the bundled
boundaries do, by up to 0.3 km²); statistics then count the overlap for both hamlets.

All computations run in a metric CRS (metres); the module is pure (no I/O).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geo.errors import ParameterError, SchemaError

__all__ = ["hamlet_footprints", "DISC_QUAD_SEGMENTS"]

log = logging.getLogger(__name__)

DISC_QUAD_SEGMENTS = 16
"""Segments per quarter circle of the settlement disc (area within 0.2 % of π r²)."""

_POLYGONAL = ("Polygon", "MultiPolygon")
_DEDUP_DECIMALS = 3  # points closer than 1 mm are the same point


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Valid polygonal part of a geometry (``None`` if nothing polygonal is left)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL and not p.is_empty]
    return shapely.union_all(parts) if parts else None


def _anchor_xy(geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    """(n, 2) x, y of each non-polygon geometry's representative point; NaN where empty/missing."""
    xy = np.full((len(geoms), 2), np.nan)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        pts = shapely.point_on_surface(geoms[present])
        xy[present] = shapely.get_coordinates(pts)
    return xy


def _commune_footprints(
    xy: NDArray[np.float64], commune: BaseGeometry | None, radius_m: float
) -> NDArray[np.object_]:
    """Footprints of the point hamlets of one commune (rows of ``xy``, all finite)."""
    unique, inverse = np.unique(np.round(xy, _DEDUP_DECIMALS), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    centres = shapely.points(unique)
    discs = shapely.buffer(centres, radius_m, quad_segs=DISC_QUAD_SEGMENTS)
    if len(unique) >= 2:
        lo, hi = unique.min(axis=0) - radius_m - 1.0, unique.max(axis=0) + radius_m + 1.0
        extent = shapely.box(lo[0], lo[1], hi[0], hi[1])
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(unique), extend_to=extent, ordered=True)
        )
        if len(cells) != len(unique):  # GEOS merged points closer than its tolerance
            cells = _cells_by_location(cells, centres)
        fp = shapely.intersection(cells, discs)
    else:
        fp = discs
    if commune is not None:
        inside = shapely.covers(commune, centres)
        clipped = shapely.intersection(fp[inside], commune)
        fp[inside] = np.where(shapely.is_empty(clipped), fp[inside], clipped)
    fp = np.array([_polygonal(g) for g in fp], dtype=object)
    return fp[inverse]


def _cells_by_location(cells: NDArray[np.object_], centres: NDArray[np.object_]) -> NDArray[np.object_]:
    """Voronoi cell containing each centre (points GEOS merged share their cell)."""
    tree = shapely.STRtree(cells)
    pt_idx, cell_idx = tree.query(centres, predicate="intersects")
    out = np.empty(len(centres), dtype=object)
    out[pt_idx[::-1]] = cells[cell_idx[::-1]]  # first match wins
    return out


def hamlet_footprints(
    hamlets: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    radius_m: float,
    metric_crs: pyproj.CRS | str | int,
) -> gpd.GeoSeries:
    """Settlement footprint of every hamlet, in ``metric_crs``.

    Point hamlet: Voronoi cell among the point hamlets of the same commune ∩ disc of ``radius_m``
    around the point ∩ the commune polygon (fallbacks in the module docstring). Polygon hamlet: its
    own polygon, made valid.

    Parameters
    ----------
    hamlets : GeoDataFrame
        Hamlet points or polygons with ``commune_id``; any CRS (set).
    communes : GeoDataFrame
        Commune polygons with ``commune_id``; any CRS (set).
    radius_m : float, keyword-only
        Settlement radius, metres (> 0).
    metric_crs : CRS, keyword-only
        Projected CRS in metres in which the footprints are built and returned.

    Returns
    -------
    GeoSeries
        Polygons (or ``None`` for empty/missing hamlet geometries), index of ``hamlets``,
        CRS ``metric_crs``.

    Raises
    ------
    ParameterError
        ``radius_m`` not a positive finite number, or ``metric_crs`` not metric.
    SchemaError
        ``commune_id`` missing in either table, or a table without a CRS.
    """
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise ParameterError(f"hamlet settlement radius must be a positive number of metres, got {radius_m}")
    crs = pyproj.CRS.from_user_input(metric_crs)
    if not crs.is_projected:
        raise ParameterError(f"hamlet footprints need a projected CRS in metres, got {crs.name}")
    for name, frame in (("hamlets", hamlets), ("communes", communes)):
        if "commune_id" not in frame.columns:
            raise SchemaError(f"{name}: column 'commune_id' is missing")
        if frame.crs is None:
            raise SchemaError(f"{name}: the layer has no CRS")
    ham = hamlets.geometry.to_crs(crs).to_numpy()
    com = communes.to_crs(crs)
    out = np.empty(len(ham), dtype=object)
    poly = np.isin(shapely.get_type_id(ham), (3, 6))  # Polygon, MultiPolygon
    for i in np.nonzero(poly)[0]:
        out[i] = _polygonal(ham[i])
    points = ham.copy()
    points[poly] = None
    xy = _anchor_xy(points)
    ok = ~poly & np.isfinite(xy).all(axis=1)
    commune_geom = {str(cid): _polygonal(g) for cid, g in zip(com["commune_id"], com.geometry, strict=True)}
    ham_commune = hamlets["commune_id"].astype(str).to_numpy()
    unknown = sorted({c for c in ham_commune[ok] if c not in commune_geom})
    if unknown:
        log.warning("hamlets of unknown commune(s) %s get a plain disc footprint", ", ".join(unknown[:10]))
    for cid in np.unique(ham_commune[ok]):
        rows = np.nonzero(ok & (ham_commune == cid))[0]
        out[rows] = _commune_footprints(xy[rows], commune_geom.get(str(cid)), float(radius_m))
    return gpd.GeoSeries(out, index=hamlets.index, crs=crs)
