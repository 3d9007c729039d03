"""Coverage statistics per commune and per hamlet.

For one technology, from the per-operator class rasters and the all-operator best-server raster:

* per commune and operator ("all" = best of every operator): share of the commune's area in each
  class (none / poor / fair / good), share of its households (from its hamlets' households and the
  class at each hamlet), share of population when a population raster is given, and on the "all"
  rows the number of operators with good coverage (good for at least
  ``commune_operator_household_share`` of the commune's households);
* per hamlet and operator: the class at the hamlet (point: its pixel; polygon: the median class
  of its pixels), and on the "all" rows the number of operators with good coverage, the
  best-server RSRP and cell, and the status served / underserved / unserved
  (thresholds in ``[statistics]`` of coverage.toml, policy choices).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from rasterio import features

from analysis.coverage import NODATA_CLASS, NODATA_RSRP, OperatorCoverage, Scene, classify_rsrp
from analysis.coverage_params import CLASS_NAMES, CoverageParams
from geo.errors import SchemaError

__all__ = ["CoverageStats", "coverage_statistics", "hamlet_status"]

ALL_OPERATORS = "all"


@dataclass(frozen=True)
class CoverageStats:
    """Statistics tables (EPSG:4326 geometries) of one technology."""

    communes: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame


def _class_shares(
    unit: NDArray[np.int32],
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


def _median_class(shares: NDArray[np.float64]) -> NDArray[np.int64]:
    """Best class reached on at least half of the unit (cumulative from "good" down)."""
    from_best = np.cumsum(shares[:, ::-1], axis=1)
    reached = from_best >= 0.5 - 1e-9
    first = reached.argmax(axis=1)
    out = len(CLASS_NAMES) - 1 - first
    return np.where(np.isnan(shares).any(axis=1), -1, out)


def _hamlet_classes(
    hamlets: gpd.GeoDataFrame, scene: Scene, rasters: dict[str, NDArray[np.uint8]]
) -> dict[str, NDArray[np.int64]]:
    """Class code per hamlet and raster key (-1 where the hamlet is outside the grid/province)."""
    grid = scene.grid
    is_point = hamlets.geometry.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    out = {key: np.full(len(hamlets), -1, dtype=np.int64) for key in rasters}
    if is_point.any():
        pts = hamlets.geometry[is_point].representative_point()
        row, col = grid.rowcol(pts.x.to_numpy(), pts.y.to_numpy())
        ok = (row >= 0) & (row < grid.height) & (col >= 0) & (col < grid.width)
        pos = np.nonzero(is_point)[0]
        for key, cls in rasters.items():
            values = np.full(len(pos), -1, dtype=np.int64)
            values[ok] = cls[row[ok], col[ok]]
            values[values == NODATA_CLASS] = -1
            out[key][pos] = values
    if (~is_point).any():
        pos = np.nonzero(~is_point)[0]
        shapes = ((geom, i) for i, geom in enumerate(hamlets.geometry.iloc[pos]) if geom is not None)
        unit = features.rasterize(
            shapes, out_shape=grid.shape, transform=grid.transform, fill=-1, dtype="int32"
        )
        for key, cls in rasters.items():
            out[key][pos] = _median_class(_class_shares(unit, cls, len(pos)))
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
        Persons per pixel on ``scene.grid``; adds population shares.

    Returns
    -------
    CoverageStats
        ``communes``: one row per commune and operator (incl. "all"); ``hamlets`` likewise.
    """
    for col in ("hamlet_id", "commune_id", "households"):
        if col not in hamlets.columns:
            raise SchemaError(f"hamlets: column {col!r} is missing")
    tech = params.tech(coverage.combined.technology)
    rasters = {ALL_OPERATORS: classify_rsrp(coverage.combined.rsrp_dbm, tech), **coverage.classes_by_operator}
    ham = hamlets.to_crs(scene.grid.crs).reset_index(drop=True)
    ham_cls = _hamlet_classes(ham, scene, rasters)
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
    for key, cls in rasters.items():
        area = _class_shares(scene.commune, cls, len(communes))
        hh_shares = _household_shares(ham_cls[key], ham_commune, hh, len(communes))
        hh_good_share[key] = hh_shares[:, good]
        frame = _commune_frame(communes, tech.technology, key, area, hh_shares, scene)
        if population is not None:
            pop = _class_shares(scene.commune, cls, len(communes), weights=population)
            for i, name in enumerate(CLASS_NAMES):
                frame[f"population_share_{name}"] = pop[:, i]
        commune_frames.append(frame)
        hamlet_frames.append(_hamlet_frame(ham, tech.technology, key, ham_cls[key]))
    ops_good_commune = np.zeros(len(communes), dtype=np.int64)
    for op in ops:
        ops_good_commune += (
            np.nan_to_num(hh_good_share[op]) >= params.statistics.commune_operator_household_share
        )
    commune_frames[0]["operators_good"] = pd.array(ops_good_commune, dtype="Int64")
    all_h = hamlet_frames[0]
    all_h["operators_good"] = pd.array(ham_ops_good, dtype="Int64")
    all_h["status"] = hamlet_status(ham_cls[ALL_OPERATORS], ham_ops_served, params)
    _add_best_server(all_h, ham, scene, coverage)
    communes_out = gpd.GeoDataFrame(
        pd.concat(commune_frames, ignore_index=True), geometry="geometry", crs=scene.grid.crs
    ).to_crs(4326)
    hamlets_out = gpd.GeoDataFrame(
        pd.concat(hamlet_frames, ignore_index=True), geometry="geometry", crs=scene.grid.crs
    ).to_crs(4326)
    return CoverageStats(communes_out, hamlets_out)


def _operators_reaching(
    classes: dict[str, NDArray[np.int64]], operators: list[str], code: int, n: int
) -> NDArray[np.int64]:
    """Per unit, number of operators whose class is at least ``code``."""
    out = np.zeros(n, dtype=np.int64)
    for op in operators:
        out += classes[op] >= code
    return out


def _household_shares(
    cls: NDArray[np.int64], commune: NDArray[np.int64], hh: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    ok = (cls >= 0) & (commune >= 0)
    idx = commune[ok] * len(CLASS_NAMES) + cls[ok]
    sums = np.bincount(idx, weights=hh[ok], minlength=n * len(CLASS_NAMES)).reshape(n, len(CLASS_NAMES))
    total = sums.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sums / total, np.nan)


def _commune_frame(
    communes: gpd.GeoDataFrame,
    technology: str,
    operator: str,
    area: NDArray[np.float64],
    hh_shares: NDArray[np.float64],
    scene: Scene,
) -> pd.DataFrame:
    keep = [
        c
        for c in ("commune_id", "commune_name", "district_name", "commune_type", "households")
        if c in communes.columns
    ]
    frame = pd.DataFrame(communes[keep]).copy()
    frame.insert(len(keep), "technology", technology)
    frame.insert(len(keep) + 1, "operator", operator)
    px_km2 = (scene.grid.resolution_m / 1000.0) ** 2
    frame["area_km2"] = np.bincount(scene.commune[scene.commune >= 0], minlength=len(communes)) * px_km2
    for i, name in enumerate(CLASS_NAMES):
        frame[f"area_share_{name}"] = area[:, i]
    for i, name in enumerate(CLASS_NAMES):
        frame[f"household_share_{name}"] = hh_shares[:, i]
    frame["geometry"] = communes.geometry.to_numpy()
    return frame


def _hamlet_frame(
    ham: gpd.GeoDataFrame, technology: str, operator: str, cls: NDArray[np.int64]
) -> pd.DataFrame:
    keep = [
        c for c in ("hamlet_id", "hamlet_name", "commune_id", "households", "population") if c in ham.columns
    ]
    frame = pd.DataFrame(ham[keep]).copy()
    frame["technology"] = technology
    frame["operator"] = operator
    frame["coverage_class"] = [CLASS_NAMES[c] if c >= 0 else "outside" for c in cls]
    frame["geometry"] = ham.geometry.to_numpy()
    return frame


def _add_best_server(
    frame: pd.DataFrame, ham: gpd.GeoDataFrame, scene: Scene, coverage: OperatorCoverage
) -> None:
    pts = ham.geometry.representative_point()
    row, col = scene.grid.rowcol(pts.x.to_numpy(), pts.y.to_numpy())
    ok = (row >= 0) & (row < scene.grid.height) & (col >= 0) & (col < scene.grid.width)
    res = coverage.combined
    rsrp = np.full(len(ham), np.nan)
    rsrp[ok] = res.rsrp_dbm[row[ok], col[ok]]
    rsrp[rsrp == NODATA_RSRP] = np.nan
    server = np.full(len(ham), -1, dtype=np.int64)
    server[ok] = res.server[row[ok], col[ok]]
    cell_ids = res.cells["cell_id"].astype(str).to_numpy()
    operators = res.cells["operator"].astype(str).to_numpy()
    frame["best_rsrp_dbm"] = np.round(rsrp, 1)
    frame["best_cell_id"] = [cell_ids[s] if s >= 0 else "" for s in server]
    frame["best_operator"] = [operators[s] if s >= 0 else "" for s in server]
