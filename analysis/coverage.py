"""Best-server coverage rasters from base-station cells.

The grid is in the province's metric CRS (``DataPackage.metric_crs``), north-up, square pixels
of ``resolution_m``, aligned to multiples of the resolution and clipped to the province. For one
technology (and optionally one operator) the engine produces

* ``rsrp_dbm``  float32: best-server reference-signal level, dBm (see :mod:`analysis.linkbudget`);
  ``NODATA_RSRP`` outside the province. The evaluation floor is
  :attr:`~analysis.coverage_params.TechnologyParams.floor_dbm`, the largest float32 strictly below
  the technology's poor threshold: pixels that no cell reaches at the poor threshold hold the floor
  value (class "none"), so a level at the poor threshold itself stays "poor";
* ``server``    int32: row of the best server in :attr:`CoverageRaster.cells`, -1 exactly where no
  cell reaches the poor threshold (class "none"), ``NODATA_SERVER`` outside;
* ``server_count`` uint8: number of cells at or above ``params.server_count_class``,
  ``NODATA_COUNT`` outside.

Algorithm
---------
Every site is snapped to the centre of the pixel it lies in (position error at most
``resolution / sqrt(2)``, 17.7 m at 25 m). Distances from a pixel centre to a site pixel are then
``res * sqrt(n)`` with integer ``n = di^2 + dj^2``, so the path loss of every (model, band, height)
is a lookup table over ``n`` and environment, computed once and shared by all cells with that key;
bearings come from one precomputed kernel (0.1 degree steps) and the sector pattern from a
3600-entry table per cell. Each cell is evaluated only inside the bounding box of the region
where its signal can reach the floor (its "reach" per direction, from the least lossy
environment). The site pixel itself uses a distance of half a pixel and boresight gain.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from affine import Affine
from numpy.typing import NDArray
from rasterio import features

from analysis._parallel import KERNEL_LOCK
from analysis.coverage_params import CLASS_NAMES, CoverageParams, TechnologyParams
from analysis.linkbudget import reference_power_dbm, sector_gain_db
from analysis.propagation import ENV_RURAL, model_for_band, path_loss_db
from analysis.terrain import diffraction_loss_db
from geo.errors import ParameterError, SchemaError

__all__ = [
    "NODATA_RSRP",
    "NODATA_SERVER",
    "NODATA_COUNT",
    "NODATA_CLASS",
    "Grid",
    "Scene",
    "CoverageRaster",
    "OperatorCoverage",
    "build_scene",
    "compute_coverage",
    "compute_coverage_by_operator",
    "classify_rsrp",
]

log = logging.getLogger(__name__)

NODATA_RSRP = np.float32(-9999.0)
NODATA_SERVER = np.int32(-2)
NODATA_COUNT = np.uint8(255)
NODATA_CLASS = np.uint8(255)
_BEARING_STEPS = 3600
_COUNT_CAP = int(NODATA_COUNT) - 1  # server counts saturate at 254
_REQUIRED = ("cell_id", "site_id", "operator", "status", "technology", "band_mhz", "height_m", "geometry")


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid in a metric CRS.

    Parameters
    ----------
    crs : pyproj.CRS
        Metric CRS (metres).
    left_m, top_m : float
        Coordinates of the upper-left corner, m.
    resolution_m : float
        Pixel size, m.
    width, height : int
        Columns and rows.
    """

    crs: pyproj.CRS
    left_m: float
    top_m: float
    resolution_m: float
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.height, self.width)

    @property
    def transform(self) -> Affine:
        """Affine pixel-to-CRS transform."""
        return Affine(self.resolution_m, 0.0, self.left_m, 0.0, -self.resolution_m, self.top_m)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top), m."""
        r = self.resolution_m
        return (self.left_m, self.top_m - self.height * r, self.left_m + self.width * r, self.top_m)

    def rowcol(self, x_m: NDArray[np.floating], y_m: NDArray[np.floating]) -> tuple[NDArray[np.int64], ...]:
        """Row and column of the pixels containing points (may lie outside the grid)."""
        r = self.resolution_m
        col = np.floor((np.asarray(x_m) - self.left_m) / r).astype(np.int64)
        row = np.floor((self.top_m - np.asarray(y_m)) / r).astype(np.int64)
        return row, col

    def centres(
        self, rows: NDArray[np.integer], cols: NDArray[np.integer]
    ) -> tuple[NDArray[np.float64], ...]:
        """CRS coordinates (x, y) of pixel centres, m."""
        r = self.resolution_m
        return self.left_m + (np.asarray(cols) + 0.5) * r, self.top_m - (np.asarray(rows) + 0.5) * r

    @classmethod
    def covering(cls, bounds: Iterable[float], resolution_m: float, crs: pyproj.CRS) -> Grid:
        """Smallest grid aligned to multiples of ``resolution_m`` that covers ``bounds``."""
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        if not (resolution_m > 0 and math.isfinite(resolution_m)):
            raise ParameterError(f"resolution must be a positive number of metres, got {resolution_m}")
        left = math.floor(minx / resolution_m) * resolution_m
        top = math.ceil(maxy / resolution_m) * resolution_m
        width = max(1, math.ceil((maxx - left) / resolution_m))
        height = max(1, math.ceil((top - miny) / resolution_m))
        if width * height > 400_000_000:
            raise ParameterError(
                f"grid of {width} x {height} pixels at {resolution_m:g} m is too large; "
                "use a coarser resolution"
            )
        return cls(pyproj.CRS.from_user_input(crs), left, top, float(resolution_m), width, height)


@dataclass(frozen=True)
class Scene:
    """The province on a grid: where it is, which commune, which environment.

    Attributes
    ----------
    grid : Grid
    inside : ndarray of bool
        True inside the province.
    commune : ndarray of int32
        Row of the commune in ``communes`` per pixel, -1 outside.
    environment : ndarray of uint8
        Environment code per pixel (see :mod:`analysis.propagation`).
    communes : GeoDataFrame
        The communes in the grid CRS.
    """

    grid: Grid
    inside: NDArray[np.bool_]
    commune: NDArray[np.int32]
    environment: NDArray[np.uint8]
    communes: gpd.GeoDataFrame = field(repr=False)


def build_scene(
    communes: gpd.GeoDataFrame,
    metric_crs: pyproj.CRS,
    *,
    resolution_m: float,
    params: CoverageParams,
    clutter: NDArray[np.integer] | None = None,
) -> Scene:
    """Rasterise the communes onto a grid and derive the environment of every pixel.

    Parameters
    ----------
    communes : GeoDataFrame
        Commune polygons (any CRS) with ``commune_type`` (xã / phường / thị trấn).
    metric_crs : pyproj.CRS
        Metric CRS of the grid (the package's ``metric_crs``).
    resolution_m : float, keyword-only
        Pixel size, m.
    params : CoverageParams, keyword-only
        Maps commune types to environments.
    clutter : ndarray, optional, keyword-only
        Environment codes (0 rural, 1 suburban, 2 urban) aligned with the grid that
        :meth:`Grid.covering` returns for the communes; 255 falls back to the commune type.

    Returns
    -------
    Scene
    """
    if "commune_type" not in communes.columns:
        raise SchemaError("communes: column 'commune_type' is missing (xã / phường / thị trấn)")
    metric = communes.to_crs(metric_crs).reset_index(drop=True)
    grid = Grid.covering(metric.total_bounds, resolution_m, metric_crs)
    env_of_row = np.array([params.environment_code(str(t)) for t in metric["commune_type"]], dtype=np.uint8)
    shapes = ((geom, i) for i, geom in enumerate(metric.geometry) if geom is not None and not geom.is_empty)
    commune = features.rasterize(
        shapes, out_shape=grid.shape, transform=grid.transform, fill=-1, dtype="int32"
    )
    inside = commune >= 0
    environment = np.where(inside, env_of_row[np.maximum(commune, 0)], ENV_RURAL).astype(np.uint8)
    if clutter is not None:
        if clutter.shape != grid.shape:
            raise ParameterError(f"clutter raster has shape {clutter.shape}, grid is {grid.shape}")
        bad = (clutter != 255) & (clutter > 2)
        if np.any(bad):
            raise ParameterError("clutter raster values must be 0 (rural), 1 (suburban), 2 (urban) or 255")
        environment = np.where(clutter == 255, environment, clutter).astype(np.uint8)
    return Scene(grid, inside, commune, environment, metric)


@dataclass(frozen=True)
class CoverageRaster:
    """Best-server products of one technology (and optionally one operator).

    ``cells`` lists the evaluated cells; ``server`` values index its rows. ``evaluations`` counts
    cell x pixel evaluations, ``compute_s`` the wall time of the accumulation.
    """

    grid: Grid
    technology: str
    operator: str | None
    rsrp_dbm: NDArray[np.float32]
    server: NDArray[np.int32]
    server_count: NDArray[np.uint8]
    cells: pd.DataFrame
    floor_dbm: float
    count_threshold_dbm: float
    evaluations: int
    compute_s: float

    def classes(self, tech: TechnologyParams) -> NDArray[np.uint8]:
        """Coverage class per pixel (index into ``CLASS_NAMES``), ``NODATA_CLASS`` outside."""
        return classify_rsrp(self.rsrp_dbm, tech)


def classify_rsrp(rsrp_dbm: NDArray[np.floating], tech: TechnologyParams) -> NDArray[np.uint8]:
    """Class code per pixel: 0 none, 1 poor, 2 fair, 3 good, ``NODATA_CLASS`` where nodata."""
    thresholds = np.asarray(tech.thresholds_dbm, dtype=np.float32)
    levels = np.asarray(rsrp_dbm)
    out = np.zeros(levels.shape, dtype=np.uint8)
    for threshold in thresholds:  # ascending: the class is the number of thresholds reached
        out += levels >= threshold  # (same as searchsorted(side="right"), several times faster)
    out[np.isnan(levels)] = len(thresholds)
    out[levels == NODATA_RSRP] = NODATA_CLASS
    return out


@dataclass(frozen=True)
class _Cells:
    frame: pd.DataFrame
    row: NDArray[np.int64]
    col: NDArray[np.int64]
    ref_dbm: NDArray[np.float64]
    f_mhz: NDArray[np.float64]
    hb_m: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]
    beamwidth_deg: NDArray[np.float64]


def select_cells(
    cells: gpd.GeoDataFrame, *, technology: str, operator: str | None = None, include_planned: bool = False
) -> gpd.GeoDataFrame:
    """Cells of one technology (and operator), active only unless ``include_planned``.

    Raises
    ------
    SchemaError
        A required column is missing.
    ParameterError
        No cell matches (message lists what the data holds).
    """
    missing = [c for c in _REQUIRED if c not in cells.columns]
    if missing:
        raise SchemaError(f"towers: missing column(s) {', '.join(missing)}")
    tech = cells["technology"].astype(str)
    mask = tech == technology
    if not include_planned:
        mask &= cells["status"].astype(str) == "active"
    if operator is not None:
        ops = cells["operator"].astype(str)
        known = sorted(set(ops))
        match = ops.str.casefold() == operator.casefold()
        if not match.any():
            raise ParameterError(f"operator {operator!r} not in the towers data (have: {', '.join(known)})")
        mask &= match
    out = cells[mask]
    if out.empty:
        have = ", ".join(sorted(set(tech)))
        raise ParameterError(
            f"no {'active ' if not include_planned else ''}{technology} cells"
            f"{' of ' + operator if operator else ''} in the towers data (technologies present: {have})"
        )
    return out


def _prepare_cells(
    cells: gpd.GeoDataFrame, grid: Grid, tech: TechnologyParams, params: CoverageParams
) -> _Cells:
    metric = cells.to_crs(grid.crs)
    x = metric.geometry.x.to_numpy()
    y = metric.geometry.y.to_numpy()
    row, col = grid.rowcol(x, y)
    n = len(metric)

    def column(name: str, default: float) -> NDArray[np.float64]:
        if name not in metric.columns:
            return np.full(n, default)
        values = pd.to_numeric(metric[name], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(values), default, values)

    eirp = column("eirp_dbm", tech.eirp_dbm)
    bw = column("bandwidth_mhz", tech.bandwidth_mhz)
    f = pd.to_numeric(metric["band_mhz"], errors="coerce").to_numpy(dtype=float)
    hb = pd.to_numeric(metric["height_m"], errors="coerce").to_numpy(dtype=float)
    for label, values in (("band_mhz", f), ("height_m", hb), ("eirp_dbm", eirp), ("bandwidth_mhz", bw)):
        bad = ~(values > 0)
        if np.any(bad):
            ids = ", ".join(metric["cell_id"].astype(str)[bad].head(5))
            raise SchemaError(f"towers: {label} must be a positive number (cells {ids})")
    ref = reference_power_dbm(eirp, tech.technology, bw, pilot_share_db=params.pilot_share_db)
    az = column("azimuth_deg", np.nan) if "azimuth_deg" in metric.columns else np.full(n, np.nan)
    beam = column("beamwidth_deg", params.default_beamwidth_deg)
    keep = ["cell_id", "site_id", "operator", "technology", "band_mhz", "height_m"]
    frame = pd.DataFrame({k: metric[k].to_numpy() for k in keep})
    frame["azimuth_deg"] = az
    frame["reference_dbm"] = ref
    frame["model"] = [model_for_band(float(v)) for v in f]
    return _Cells(frame, row, col, ref, f, hb, az % 360.0, beam)


_TABLE_STEPS_PER_PX = 4
_REACH_MARGIN_PX = 1.5  # reach outlines are sampled every degree: margin for the angles between


@dataclass(frozen=True)
class _LossTable:
    """Path loss every 1/4 pixel of distance and per environment, flattened as ``[3 q + env]``.

    Losses between entries are interpolated linearly: error below 0.01 dB except next to the site
    and at the kink where a model meets the free-space floor (at most about 0.12 dB).
    """

    loss_db: NDArray[np.float32]
    min_loss_db: NDArray[np.float64]  # per step, least lossy environment, monotone (for reach)
    lower_db: NDArray[np.float32]  # same layout: least loss at this step or farther (per environment)
    upper_db: NDArray[np.float32]  # same layout: greatest loss at this step or nearer

    def lookup(self, dist_px: NDArray[np.floating], env: NDArray[np.integer]) -> NDArray[np.float32]:
        """Interpolated loss at distances (pixels) for environment codes."""
        pos = np.maximum(dist_px, 0.5) * _TABLE_STEPS_PER_PX
        q = pos.astype(np.int64)
        w = (pos - q).astype(np.float32)
        base = 3 * q + env
        lo = self.loss_db.take(base)
        hi = self.loss_db.take(base + 3)
        return lo + w * (hi - lo)


def _loss_table(f_mhz: float, hb_m: float, max_px: float, res_m: float, params: CoverageParams) -> _LossTable:
    """Loss table out to ``max_px`` pixels (memoised per band, height, resolution and model settings)."""
    n_steps = -(-(int(math.ceil(max_px * _TABLE_STEPS_PER_PX)) + 3) // 256) * 256
    return _loss_table_steps(f_mhz, hb_m, n_steps, res_m, params.receiver_height_m, params.cost231_urban_c_db)


def _losses_per_env(
    d_km: NDArray[np.float64], f_mhz: float, hb_m: float, hm_m: float, c_urban_db: float
) -> NDArray[np.float64]:
    """(len(d), 3) path loss for rural, suburban and urban pixels."""
    return np.stack(
        [
            path_loss_db(
                d_km, f_mhz, hb_m, hm_m, np.full(d_km.shape, env, dtype=np.uint8), c_urban_db=c_urban_db
            )
            for env in (0, 1, 2)
        ],
        axis=-1,
    )


@functools.lru_cache(maxsize=256)
def _loss_table_steps(
    f_mhz: float, hb_m: float, n_steps: int, res_m: float, hm_m: float, c_urban_db: float
) -> _LossTable:
    q = np.arange(n_steps, dtype=np.float64)
    d_km = np.maximum(q / _TABLE_STEPS_PER_PX, 0.5) * res_m / 1000.0
    per_env = _losses_per_env(d_km, f_mhz, hb_m, hm_m, c_urban_db)
    min_loss = np.minimum.accumulate(per_env.min(axis=-1)[::-1])[::-1]  # monotone lower envelope
    loss32 = per_env.astype(np.float32)
    lower = np.minimum.accumulate(loss32[::-1], axis=0)[::-1]
    upper = np.maximum.accumulate(loss32, axis=0)
    table = _LossTable(loss32.ravel(), min_loss, np.ascontiguousarray(lower).ravel(), upper.ravel())
    for array in (table.loss_db, table.min_loss_db, table.lower_db, table.upper_db):
        array.setflags(write=False)
    return table


@functools.lru_cache(maxsize=256)
def _least_loss_profile(
    f_mhz: float, hb_m: float, cap_px: int, res_m: float, hm_m: float, c_urban_db: float
) -> NDArray[np.float64]:
    """Monotone lower envelope of the least lossy environment's loss at 0..cap_px pixels."""
    r = np.arange(cap_px + 1, dtype=np.float64)
    least = _losses_per_env(np.maximum(r, 0.5) * res_m / 1000.0, f_mhz, hb_m, hm_m, c_urban_db).min(axis=-1)
    envelope = np.minimum.accumulate(least[::-1])[::-1]
    envelope.setflags(write=False)
    return envelope


def _reach_px(
    f_mhz: float, hb_m: float, budget_db: float, cap_px: int, res_m: float, params: CoverageParams
) -> int:
    """Largest distance (pixels, capped) at which the least lossy environment stays within budget."""
    envelope = _least_loss_profile(
        f_mhz, hb_m, cap_px, res_m, params.receiver_height_m, params.cost231_urban_c_db
    )
    return max(int(np.searchsorted(envelope, budget_db, side="right")) - 1, 0)


def _reach_boxes(
    table: _LossTable,
    budgets_db: list[NDArray[np.float64]],
    azimuth_deg: NDArray[np.float64],
    beamwidth_deg: NDArray[np.float64],
    params: CoverageParams,
) -> list[tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.float32]]]:
    """Per cell, the region where it can reach its budget: bounding box and outline, per budget.

    The reach is sampled every degree off boresight from the least lossy environment's loss, with a
    1.5-pixel margin for the angular sampling. Returns, for each array of ``budgets_db``, the box
    offsets (r0, r1, c0, c1) around the site (rows south, columns east) and the outline's 360
    vertices (east, north) in pixels. Pattern and directions are computed once for all budgets.
    """
    rel = np.arange(0.0, 360.0, 1.0)
    omni = np.isnan(azimuth_deg)
    gain = sector_gain_db(
        rel[None, :],
        beamwidth_deg=np.where(omni, 65.0, beamwidth_deg)[:, None],
        max_attenuation_db=params.max_attenuation_db,
    )
    gain = np.where(omni[:, None], 0.0, gain)
    brg = np.deg2rad(rel[None, :] + np.where(omni, 0.0, azimuth_deg)[:, None])
    sin_brg = np.sin(brg)
    cos_brg = np.cos(brg)
    clip = int((len(table.min_loss_db) - 3) / _TABLE_STEPS_PER_PX / math.sqrt(2.0))
    out = []
    for budget in budgets_db:
        q_reach = np.searchsorted(table.min_loss_db, budget[:, None] + gain, side="right") - 1
        r = np.where(q_reach < 0, 0.0, q_reach / _TABLE_STEPS_PER_PX + _REACH_MARGIN_PX)
        east = r * sin_brg
        north = r * cos_brg
        boxes = np.stack(
            [
                np.floor(-north.max(axis=1)),
                np.ceil(-north.min(axis=1)),
                np.floor(east.min(axis=1)),
                np.ceil(east.max(axis=1)),
            ],
            axis=1,
        )
        out.append(
            (np.clip(boxes, -clip, clip).astype(np.int64), east.astype(np.float32), north.astype(np.float32))
        )
    return out


@functools.lru_cache(maxsize=2)
def _bearing_kernel(radius_px: int) -> NDArray[np.float32]:
    """Bearing (degrees clockwise from north, float32) from the centre of a (2r+1)^2 kernel.

    Memoised (a pure function of the radius; callers never write to it). Only the eastern half
    (bearings 0..180) is evaluated; the western half is its mirror, 360 - bearing, which is
    bit-identical to adding 360 to the negative ``arctan2`` there (arctan2 is odd in its first
    argument).
    """
    r = radius_px
    off = np.arange(-r, r + 1, dtype=np.float32)
    bearing = np.empty((2 * r + 1, 2 * r + 1), dtype=np.float32)

    def rows(i0: int, i1: int) -> None:  # numpy releases the GIL: two halves run on two cores
        east = np.degrees(np.arctan2(off[None, r:], -off[i0:i1, None]))  # rows: south positive
        bearing[i0:i1, r:] = east
        np.subtract(np.float32(360.0), east[:, :0:-1], out=bearing[i0:i1, :r])

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda span: rows(*span), [(0, r), (r, 2 * r + 1)]))
    return bearing


def _kernels(radius_px: int) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.uint16]]:
    """Distance (pixels), bearing (deg from north) and bearing index (0.1 deg) kernels."""
    off = np.arange(-radius_px, radius_px + 1, dtype=np.float64)
    dist = np.sqrt(off[:, None] ** 2 + off[None, :] ** 2).astype(np.float32)
    bearing = _bearing_kernel(radius_px)
    idx = np.rint(bearing.astype(np.float64) * (_BEARING_STEPS / 360.0)).astype(np.int64) % _BEARING_STEPS
    return dist, bearing, idx.astype(np.uint16)


def _pattern_table(azimuth_deg: float, beamwidth_deg: float, params: CoverageParams) -> NDArray[np.float32]:
    brg = np.arange(_BEARING_STEPS) * (360.0 / _BEARING_STEPS)
    return sector_gain_db(
        brg - azimuth_deg, beamwidth_deg=beamwidth_deg, max_attenuation_db=params.max_attenuation_db
    ).astype(np.float32)


def compute_coverage(
    scene: Scene,
    cells: gpd.GeoDataFrame,
    *,
    technology: str,
    params: CoverageParams,
    operator: str | None = None,
    include_planned: bool = False,
    dem_m: NDArray[np.floating] | None = None,
) -> CoverageRaster:
    """Best-server RSRP, server index and server count for one technology.

    Parameters
    ----------
    scene : Scene
        Grid, province mask and environment from :func:`build_scene`.
    cells : GeoDataFrame
        The package's ``cells`` (EPSG:4326 points, one row per cell, docs/DATA.md columns).
    technology : {"2G", "3G", "4G", "5G"}, keyword-only
    params : CoverageParams, keyword-only
    operator : str, optional, keyword-only
        Only this operator's cells (case-insensitive); default all operators.
    include_planned : bool, keyword-only
        Also evaluate cells with status "planned".
    dem_m : ndarray, optional, keyword-only
        Terrain height (m) on ``scene.grid``; adds knife-edge diffraction (see
        :mod:`analysis.terrain`). NaN is treated as 0 m.

    Returns
    -------
    CoverageRaster

    Raises
    ------
    ParameterError, SchemaError
        Unknown technology/operator, no matching cells, bad cell values.
    """
    tech = params.tech(technology)
    chosen = select_cells(cells, technology=technology, operator=operator, include_planned=include_planned)
    prepared = _prepare_cells(chosen, scene.grid, tech, params)
    floor = tech.floor_dbm
    count_thr = tech.threshold_dbm(params.server_count_class)
    if dem_m is not None and dem_m.shape != scene.grid.shape:
        raise ParameterError(f"DEM has shape {dem_m.shape}, grid is {scene.grid.shape}")
    start = time.perf_counter()
    best, server, count, evaluations, _ = _accumulate(scene, prepared, floor, count_thr, params, dem_m)
    elapsed = time.perf_counter() - start
    log.info(
        "coverage %s %s: %d cells, %.3g evaluations in %.2f s",
        technology,
        operator or "all",
        len(prepared.frame),
        evaluations,
        elapsed,
    )
    return CoverageRaster(
        scene.grid,
        technology,
        operator,
        best,
        server,
        count,
        prepared.frame,
        float(floor),
        float(count_thr),
        evaluations,
        elapsed,
    )


def _numba_kernel() -> Callable[..., int] | None:
    """The compiled kernel, or None when numba is not installed (numpy path is used)."""
    try:
        from analysis._coverage_kernel import accumulate_cells
    except ImportError:  # numba is a pinned requirement; the numpy path keeps working without it
        log.warning("numba not available; using the slower numpy coverage path")
        return None
    return accumulate_cells  # type: ignore[no-any-return]


_Spans = tuple[NDArray[np.int64], NDArray[np.int16], NDArray[np.int16]]  # row_spans(): start, lo, hi


@dataclass(frozen=True)
class _Plan:
    """Loss tables, kernels and per-cell windows of one accumulation."""

    keys: list[tuple[float, float]]
    tables: dict[tuple[float, float], _LossTable]
    boxes_floor: NDArray[np.int64]  # (K, 4) windows where a cell can reach the floor
    boxes_count: NDArray[np.int64]  # (K, 4) windows where it can reach the count threshold
    spans_floor: _Spans | None  # row_spans()
    spans_count: _Spans | None
    radius_px: int
    ref_dbm: NDArray[np.float64]  # reference power less indoor loss and margin


def _plan(
    cells: _Cells,
    floor_dbm: float,
    count_dbm: float,
    res: float,
    params: CoverageParams,
    *,
    compiled: bool = False,
) -> _Plan:
    """Loss tables and per-cell windows; with ``compiled`` also the row spans of the reach outlines
    (computed by the compiled :func:`analysis._coverage_kernel.reach_outlines`, else by
    :func:`_reach_boxes`: the same outlines)."""
    keys, tables, selections, ref = _plan_tables(cells, floor_dbm, res, params)
    spans_floor: _Spans | None = None
    spans_count: _Spans | None = None
    if compiled:
        (boxes_floor, spans_floor), (boxes_count, spans_count) = _compiled_reach(
            cells, tables, selections, [ref - floor_dbm, ref - count_dbm], params
        )
    else:
        boxes_floor = np.zeros((len(keys), 4), dtype=np.int64)
        boxes_count = np.zeros((len(keys), 4), dtype=np.int64)
        for key, sel in selections.items():
            budgets = [ref[sel] - floor_dbm, ref[sel] - count_dbm]
            az, bw = cells.azimuth_deg[sel], cells.beamwidth_deg[sel]
            reach = _reach_boxes(tables[key], budgets, az, bw, params)
            boxes_floor[sel], boxes_count[sel] = reach[0][0], reach[1][0]
    return _Plan(keys, tables, boxes_floor, boxes_count, spans_floor, spans_count, _radius(boxes_floor), ref)


def _plan_tables(
    cells: _Cells, floor_dbm: float, res: float, params: CoverageParams
) -> tuple[
    list[tuple[float, float]],
    dict[tuple[float, float], _LossTable],
    dict[tuple[float, float], NDArray[np.intp]],
    NDArray[np.float64],
]:
    """Per cell its (band, height) key; per key its loss table (long enough for the key's strongest
    cell, up to ``max_radius_km``) and its cells; per cell its reference power less indoor loss and
    margin."""
    cap_px = max(1, int(params.max_radius_km * 1000.0 / res))
    ref = cells.ref_dbm - params.indoor_loss_db - params.margin_db
    keys = list(zip(cells.f_mhz.tolist(), cells.hb_m.tolist(), strict=True))
    key_arr = np.array(keys, dtype=float).reshape(-1, 2)
    tables: dict[tuple[float, float], _LossTable] = {}
    selections: dict[tuple[float, float], NDArray[np.intp]] = {}
    for key in sorted(set(keys)):
        sel = selections[key] = np.nonzero((key_arr[:, 0] == key[0]) & (key_arr[:, 1] == key[1]))[0]
        reach_px = _reach_px(key[0], key[1], float(ref[sel].max() - floor_dbm), cap_px, res, params)
        tables[key] = _loss_table(key[0], key[1], math.sqrt(2.0) * (reach_px + 3), res, params)
    return keys, tables, selections, ref


def _radius(boxes_floor: NDArray[np.int64]) -> int:
    """Half-size of the bearing kernel for these windows."""
    radius = int(max(np.abs(boxes_floor).max(initial=1), 1))
    return -(-radius // 128) * 128  # round up: one memoised bearing kernel serves every operator


def _subset_reach(
    cells: _Cells,
    idx: NDArray[np.intp],
    keys: list[tuple[float, float]],
    tables: dict[tuple[float, float], _LossTable],
    budgets_db: list[NDArray[np.float64]],
    params: CoverageParams,
) -> list[tuple[NDArray[np.int64], _Spans]]:
    """:func:`_compiled_reach` of the cells at ``idx`` only (each cell's outline depends only on the
    cell, its budgets and its key's table): boxes and spans in the order of ``idx``."""
    sub = _Cells(
        cells.frame.iloc[idx],
        cells.row[idx],
        cells.col[idx],
        cells.ref_dbm[idx],
        cells.f_mhz[idx],
        cells.hb_m[idx],
        cells.azimuth_deg[idx],
        cells.beamwidth_deg[idx],
    )
    key_arr = np.array([keys[k] for k in idx.tolist()], dtype=float).reshape(-1, 2)
    selections = {
        key: np.flatnonzero((key_arr[:, 0] == key[0]) & (key_arr[:, 1] == key[1]))
        for key in sorted({keys[k] for k in idx.tolist()})
    }
    return _compiled_reach(sub, tables, selections, [b[idx] for b in budgets_db], params)


def _assembled_plan(
    keys: list[tuple[float, float]],
    tables: dict[tuple[float, float], _LossTable],
    ref: NDArray[np.float64],
    boxes: tuple[NDArray[np.int64], NDArray[np.int64]],
    idx: NDArray[np.intp],
    spans: tuple[_Spans, _Spans],
) -> _Plan:
    """A compiled plan from every cell's floor and count boxes and the row spans of the cells at
    ``idx`` only (in that order, as :func:`_subset_reach` returns them). The other cells get one
    empty span row: valid for a window their boxes miss (the kernel reads the spans of a cell only
    where its box meets the grid it is given)."""
    n = len(keys)
    out = []
    for start, lo, hi in spans:
        length = np.ones(n, dtype=np.int64)
        length[idx] = np.diff(start)
        first = np.full(n, len(lo), dtype=np.int64)  # the empty row appended below
        first[idx] = start[:-1]
        new_start = np.concatenate(([0], np.cumsum(length)))
        take = np.repeat(first - new_start[:-1], length) + np.arange(new_start[-1])
        lohi = np.empty((len(take), 2), dtype=np.int16)  # side by side, as reach_spans returns them
        np.append(lo, np.int16(32767)).take(take, out=lohi[:, 0])
        np.append(hi, np.int16(-32768)).take(take, out=lohi[:, 1])
        out.append((new_start, lohi[:, 0], lohi[:, 1]))
    return _Plan(keys, tables, boxes[0], boxes[1], out[0], out[1], _radius(boxes[0]), ref)


def _compiled_reach(
    cells: _Cells,
    tables: dict[tuple[float, float], _LossTable],
    selections: dict[tuple[float, float], NDArray[np.intp]],
    budgets_db: list[NDArray[np.float64]],
    params: CoverageParams,
) -> list[tuple[NDArray[np.int64], tuple[NDArray[np.int64], NDArray[np.int16], NDArray[np.int16]]]]:
    """Boxes and row spans of every cell's reach outline, per budget (compiled, parallel over the
    cells: :func:`analysis._coverage_kernel.reach_spans`)."""
    from analysis._coverage_kernel import reach_spans

    n_cells = len(cells.ref_dbm)
    loss_off = np.zeros(n_cells, dtype=np.int64)
    loss_len = np.zeros(n_cells, dtype=np.int64)
    clip = np.zeros(n_cells, dtype=np.int64)
    least_tables = []
    base = 0
    for key, sel in selections.items():
        least = tables[key].min_loss_db
        least_tables.append(least)
        loss_off[sel] = base
        loss_len[sel] = len(least)
        clip[sel] = int((len(least) - 3) / _TABLE_STEPS_PER_PX / math.sqrt(2.0))
        base += len(least)
    min_loss = np.concatenate(least_tables) if least_tables else np.zeros(0)
    az = np.asarray(cells.azimuth_deg, dtype=np.float64)
    bw = np.where(np.isnan(az), 65.0, np.asarray(cells.beamwidth_deg, dtype=np.float64))
    budgets = np.array(budgets_db, dtype=np.float64).reshape(len(budgets_db), n_cells)
    with KERNEL_LOCK:
        boxes, start, lo, hi = reach_spans(
            min_loss,
            loss_off,
            loss_len,
            budgets,
            az,
            bw,
            float(params.max_attenuation_db),
            clip,
            float(_TABLE_STEPS_PER_PX),
            _REACH_MARGIN_PX,
        )
    return [(boxes[b], (start[b], lo, hi)) for b in range(len(budgets_db))]


def _accumulate(
    scene: Scene,
    cells: _Cells,
    floor_dbm: float,
    count_dbm: float,
    params: CoverageParams,
    dem_m: NDArray[np.floating] | None,
    groups: NDArray[np.int32] | None = None,
    thresholds: NDArray[np.float32] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.int32], NDArray[np.uint8], int, NDArray[np.uint8] | None]:
    """Best level, server, count and evaluations, the nodata values outside the province; with
    ``groups`` (compiled path only) also each group's class (see :func:`classify_rsrp`,
    ``thresholds`` ascending, ``NODATA_CLASS`` outside), shape (G, H, W)."""
    grid = scene.grid
    compiled = dem_m is None and _numba_kernel() is not None
    plan = _plan(cells, floor_dbm, count_dbm, grid.resolution_m, params, compiled=compiled)
    if compiled:
        return _accumulate_window(scene, cells, plan, floor_dbm, count_dbm, params, groups, thresholds)
    best = np.full(grid.shape, floor_dbm, np.float32)
    server = np.full(grid.shape, -1, dtype=np.int32)
    count = np.zeros(grid.shape, dtype=np.uint16)  # capped at _COUNT_CAP after counting
    evaluations = _accumulate_numpy(scene, cells, plan, best, server, count, count_dbm, params, dem_m)
    capped = np.minimum(count, _COUNT_CAP).astype(np.uint8)
    outside = ~scene.inside
    best[outside] = NODATA_RSRP
    server[outside] = NODATA_SERVER
    capped[outside] = NODATA_COUNT
    return best, server, capped, evaluations, None


def _accumulate_window(
    scene: Scene,
    cells: _Cells,
    plan: _Plan,
    floor_dbm: float,
    count_dbm: float,
    params: CoverageParams,
    groups: NDArray[np.int32] | None = None,
    thresholds: NDArray[np.float32] | None = None,
    window: tuple[int, int, int, int] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.int32], NDArray[np.uint8], int, NDArray[np.uint8]]:
    """The compiled path of :func:`_accumulate` with a given plan, over the whole grid or over the
    pixel ``window`` (r0, r1, c0, c1) of it: the outputs then have the window's shape and equal that
    part of a run over the whole grid (every pixel's result depends only on the cells and the pixel;
    cell pixels stay those of the whole grid, offset by the window's origin).

    ``class_groups`` is (G, h, w) with several groups, else a (1, 1, 1) placeholder."""
    r0, r1, c0, c1 = (0, scene.grid.height, 0, scene.grid.width) if window is None else window
    shape = (r1 - r0, c1 - c0)
    # the compiled kernel writes every block (floor / -1 where nothing reaches): no filling pass
    best = np.empty(shape, dtype=np.float32)
    server = np.empty(shape, dtype=np.int32)
    count = np.zeros(shape, dtype=np.uint8)  # capped at _COUNT_CAP by the kernel as it counts
    group = np.zeros(len(plan.keys), dtype=np.int32) if groups is None else groups.astype(np.int32)
    n_groups = int(group.max(initial=0)) + 1
    class_groups = np.empty((n_groups, *shape) if n_groups > 1 else (1, 1, 1), dtype=np.uint8)
    evaluations = _accumulate_compiled(
        scene,
        cells,
        plan,
        best,
        server,
        count,
        floor_dbm,
        count_dbm,
        params,
        group,
        class_groups,
        thresholds,
        origin=(r0, c0),
    )
    return best, server, count, evaluations, class_groups


def _window(
    box: NDArray[np.int64], sr: int, sc: int, grid: Grid, radius: int
) -> tuple[tuple[slice, slice], tuple[slice, slice]] | None:
    r0, r1, c0, c1 = (int(v) for v in box)
    gr0, gr1 = max(sr + r0, 0), min(sr + r1 + 1, grid.height)
    gc0, gc1 = max(sc + c0, 0), min(sc + c1 + 1, grid.width)
    if gr0 >= gr1 or gc0 >= gc1:
        return None
    kern = (slice(gr0 - sr + radius, gr1 - sr + radius), slice(gc0 - sc + radius, gc1 - sc + radius))
    return (slice(gr0, gr1), slice(gc0, gc1)), kern


def _accumulate_numpy(
    scene: Scene,
    cells: _Cells,
    plan: _Plan,
    best: NDArray[np.float32],
    server: NDArray[np.int32],
    count: NDArray[np.uint16],
    count_dbm: float,
    params: CoverageParams,
    dem_m: NDArray[np.floating] | None,
) -> int:
    """Reference implementation (numpy, one window per cell); also the DEM path."""
    grid = scene.grid
    dist, _, brg = _kernels(plan.radius_px)
    env = scene.environment
    evaluations = 0
    for k in range(len(plan.keys)):
        sr, sc = int(cells.row[k]), int(cells.col[k])
        found = _window(plan.boxes_floor[k], sr, sc, grid, plan.radius_px)
        if found is None:
            continue
        win, (kr, kc) = found
        rs = plan.tables[plan.keys[k]].lookup(dist[kr, kc], env[win])
        np.subtract(np.float32(plan.ref_dbm[k]), rs, out=rs)
        if not np.isnan(cells.azimuth_deg[k]):
            gain = _pattern_table(float(cells.azimuth_deg[k]), float(cells.beamwidth_deg[k]), params).take(
                brg[kr, kc]
            )
            gain[dist[kr, kc] == 0] = 0.0  # the site's own pixel gets boresight gain
            rs += gain
        if dem_m is not None:
            rs -= diffraction_loss_db(
                dem_m,
                grid.resolution_m,
                (sr, sc),
                win,
                tx_height_m=float(cells.hb_m[k]),
                rx_height_m=params.receiver_height_m,
                f_mhz=float(cells.f_mhz[k]),
            )
        best_win = best[win]
        better = rs > best_win
        np.copyto(best_win, rs, where=better)
        np.copyto(server[win], np.int32(k), where=better)
        count[win] += rs >= count_dbm
        evaluations += rs.size
    return evaluations


def _accumulate_compiled(
    scene: Scene,
    cells: _Cells,
    plan: _Plan,
    best: NDArray[np.float32],
    server: NDArray[np.int32],
    count: NDArray[np.uint8],
    floor_dbm: float,
    count_dbm: float,
    params: CoverageParams,
    group: NDArray[np.int32],
    class_groups: NDArray[np.uint8],
    thresholds: NDArray[np.float32] | None,
    origin: tuple[int, int] = (0, 0),
) -> int:
    """Block-wise, parallel compiled kernel with exact per-block bounds (analysis/_coverage_kernel/):
    server counts without evaluation where a cell surely reaches the threshold on a whole block (and
    capped at ``_COUNT_CAP``), best server and each group's class in one pass pruned by upper bound.
    ``class_groups`` receives each group's class when there are several groups; every output gets
    its nodata value outside the province. The outputs cover the grid from pixel ``origin`` (row,
    column) on, in their shape."""
    kernel = _numba_kernel()
    assert kernel is not None
    from analysis._coverage_kernel import BLOCK_PX, block_pairs

    bearing = _bearing_kernel(plan.radius_px)
    key_index = {key: i for i, key in enumerate(plan.tables)}
    offsets = np.zeros(len(plan.tables) + 1, dtype=np.int64)
    for key, i in key_index.items():
        offsets[i + 1] = offsets[i] + plan.tables[key].loss_db.size
    ordered = [plan.tables[key] for key in key_index]
    flat = np.concatenate([t.loss_db for t in ordered])
    lower = np.concatenate([t.lower_db for t in ordered])
    upper = np.concatenate([t.upper_db for t in ordered])
    table_of_cell = np.array([offsets[key_index[k]] for k in plan.keys], dtype=np.int64)
    steps_of_cell = np.array([plan.tables[k].loss_db.size // 3 for k in plan.keys], dtype=np.int64)
    height, width = best.shape
    r0, c0 = origin
    env, inside = scene.environment, scene.inside
    if (r0, c0, height, width) != (0, 0, *scene.grid.shape):  # C-contiguous copies: same compiled code
        env = np.ascontiguousarray(env[r0 : r0 + height, c0 : c0 + width])
        inside = np.ascontiguousarray(inside[r0 : r0 + height, c0 : c0 + width])
    rows = cells.row.astype(np.int64) - r0
    cols = cells.col.astype(np.int64) - c0
    cell_arrays = (
        rows,
        cols,
        table_of_cell,
        plan.ref_dbm.astype(np.float32),
        np.nan_to_num(cells.azimuth_deg, nan=-1.0).astype(np.float32),
        cells.beamwidth_deg.astype(np.float32),
    )
    args = (
        cell_arrays,
        steps_of_cell,
        flat,
        lower,
        upper,
        bearing,
        plan.radius_px,
        np.float32(params.max_attenuation_db),
        plan.boxes_count,
        plan.boxes_floor,
        plan.spans_count,
        plan.spans_floor,
        np.float32(floor_dbm),
        np.float32(count_dbm),
    )
    with KERNEL_LOCK:  # block_pairs is parallel too
        pair_start, pair_cell = block_pairs(
            rows, cols, plan.boxes_floor, plan.spans_floor, height, width, BLOCK_PX
        )
        count_start, count_cell = block_pairs(
            rows, cols, plan.boxes_count, plan.spans_count, height, width, BLOCK_PX
        )
        evaluations = kernel(
            env,
            inside,
            best,
            server,
            count,
            class_groups,
            np.zeros(0, dtype=np.float32) if thresholds is None else thresholds.astype(np.float32),
            group,
            pair_start,
            pair_cell,
            count_start,
            count_cell,
            _COUNT_CAP,
            (NODATA_RSRP, NODATA_SERVER, NODATA_COUNT, NODATA_CLASS),
            *args,
        )
    return int(evaluations)


@dataclass(frozen=True)
class OperatorCoverage:
    """Per-operator classes plus the all-operator best-server products of one technology.

    ``cell_inputs`` holds what the prediction of each row of ``combined.cells`` depends on (pixel on
    the grid, reference power, band, height, azimuth, beamwidth) and the windows the compiled
    engine planned for it; :func:`analysis.coverage_update.update_coverage_by_operator` compares
    them to an edited cell table. None where the result did not come from the compiled engine.
    """

    combined: CoverageRaster
    classes_by_operator: dict[str, NDArray[np.uint8]]
    cell_inputs: _CellInputs | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class _CellInputs:
    """The prepared cells of a compiled computation, the floor and count boxes planned for them
    (offsets around the site, as :attr:`_Plan.boxes_floor`) and the length (steps) of each
    (band, height) key's loss table. The row spans are not kept (they are large); the boxes are."""

    cells: _Cells
    boxes_floor: NDArray[np.int64]
    boxes_count: NDArray[np.int64]
    table_steps: dict[tuple[float, float], int]

    @classmethod
    def of(cls, cells: _Cells, plan: _Plan) -> _CellInputs:
        """The inputs of ``cells`` computed with ``plan``."""
        steps = {key: table.loss_db.size // 3 for key, table in plan.tables.items()}
        return cls(cells, plan.boxes_floor, plan.boxes_count, steps)


def compute_coverage_by_operator(
    scene: Scene,
    cells: gpd.GeoDataFrame,
    *,
    technology: str,
    params: CoverageParams,
    include_planned: bool = False,
    dem_m: NDArray[np.floating] | None = None,
) -> OperatorCoverage:
    """Run :func:`compute_coverage` once per operator and merge into the all-operator product.

    Every cell is evaluated once; the merged raster equals a single run over all operators
    (ties between operators go to the first operator in sorted order).
    """
    tech = params.tech(technology)
    chosen = select_cells(cells, technology=technology, include_planned=include_planned)
    operators = sorted(set(chosen["operator"].astype(str)))
    if dem_m is None and _numba_kernel() is not None:
        return _by_operator_compiled(scene, chosen, operators, technology=technology, params=params)
    classes: dict[str, NDArray[np.uint8]] = {}
    merged: CoverageRaster | None = None
    for op in operators:
        result = compute_coverage(
            scene,
            chosen,
            technology=technology,
            params=params,
            operator=op,
            include_planned=True,
            dem_m=dem_m,
        )
        classes[op] = classify_rsrp(result.rsrp_dbm, tech)
        merged = result if merged is None else _merge(merged, result)
    assert merged is not None  # select_cells guarantees at least one operator
    merged = CoverageRaster(
        merged.grid,
        technology,
        None,
        merged.rsrp_dbm,
        merged.server,
        merged.server_count,
        merged.cells,
        merged.floor_dbm,
        merged.count_threshold_dbm,
        merged.evaluations,
        merged.compute_s,
    )
    return OperatorCoverage(merged, classes)


def _by_operator_compiled(
    scene: Scene, chosen: gpd.GeoDataFrame, operators: list[str], *, technology: str, params: CoverageParams
) -> OperatorCoverage:
    """One compiled pass over all operators' cells (ordered by operator, as the merge orders them):
    server counts once, the best level over all operators (ties to the first operator) and each
    operator's class."""
    tech = params.tech(technology)
    prepared, groups = _operator_ordered_cells(scene, chosen, operators, tech, params)
    floor = tech.floor_dbm
    count_thr = tech.threshold_dbm(params.server_count_class)
    start = time.perf_counter()
    thresholds = np.asarray(tech.thresholds_dbm, dtype=np.float32)
    plan = _plan(prepared, floor, count_thr, scene.grid.resolution_m, params, compiled=True)
    best, server, count, evaluations, class_groups = _accumulate_window(
        scene, prepared, plan, floor, count_thr, params, groups, thresholds
    )
    elapsed = time.perf_counter() - start
    classes: dict[str, NDArray[np.uint8]] = {}
    for g, op in enumerate(operators):
        if len(operators) > 1:
            classes[op] = class_groups[g]  # classified in the kernel, as classify_rsrp does
        else:
            classes[op] = classify_rsrp(best, tech)
    log.info(
        "coverage %s, %d operators: %d cells, %.3g evaluations in %.2f s",
        technology,
        len(operators),
        len(prepared.frame),
        evaluations,
        elapsed,
    )
    combined = CoverageRaster(
        scene.grid,
        technology,
        None,
        best,
        server,
        count,
        prepared.frame,
        float(floor),
        float(count_thr),
        evaluations,
        elapsed,
    )
    return OperatorCoverage(combined, classes, _CellInputs.of(prepared, plan))


def _operator_ordered_cells(
    scene: Scene,
    chosen: gpd.GeoDataFrame,
    operators: list[str],
    tech: TechnologyParams,
    params: CoverageParams,
) -> tuple[_Cells, NDArray[np.int32]]:
    """The chosen cells prepared in the order of the joint pass (by operator rank in ``operators``,
    file order within an operator) and each one's operator rank."""
    rank = {op: i for i, op in enumerate(operators)}
    group = np.array([rank[op] for op in chosen["operator"].astype(str)], dtype=np.int32)
    order = np.argsort(group, kind="stable")
    return _prepare_cells(chosen.iloc[order], scene.grid, tech, params), group[order]


def _merge(a: CoverageRaster, b: CoverageRaster) -> CoverageRaster:
    offset = len(a.cells)
    better = b.rsrp_dbm > a.rsrp_dbm
    rsrp = np.where(better, b.rsrp_dbm, a.rsrp_dbm)
    server = np.where(better, np.where(b.server >= 0, b.server + offset, b.server), a.server).astype(np.int32)
    inside = a.server_count != NODATA_COUNT
    count = a.server_count.astype(np.uint16) + b.server_count
    count = np.where(inside, np.minimum(count, 254), NODATA_COUNT).astype(np.uint8)
    cells = pd.concat([a.cells, b.cells], ignore_index=True)
    return CoverageRaster(
        a.grid,
        a.technology,
        None,
        rsrp.astype(np.float32),
        server,
        count,
        cells,
        a.floor_dbm,
        a.count_threshold_dbm,
        a.evaluations + b.evaluations,
        a.compute_s + b.compute_s,
    )


def class_names() -> tuple[str, ...]:
    """Names of the class codes returned by :func:`classify_rsrp`."""
    return CLASS_NAMES
