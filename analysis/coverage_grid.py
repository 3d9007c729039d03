"""The coverage grid and its products: nodata values, :class:`Grid`, :class:`Scene` (the province rasterised:
commune and environment per pixel), :class:`CoverageRaster` and :func:`classify_rsrp`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from affine import Affine
from numpy.typing import NDArray
from rasterio import features

from analysis.coverage_params import CoverageParams, TechnologyParams
from analysis.propagation import ENV_RURAL
from geo.errors import ParameterError, SchemaError

NODATA_RSRP = np.float32(-9999.0)

NODATA_SERVER = np.int32(-2)

NODATA_COUNT = np.uint8(255)

NODATA_CLASS = np.uint8(255)


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
