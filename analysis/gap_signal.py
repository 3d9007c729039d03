"""The 4G signal per hamlet that the gap flags read: from the coverage engine's statistics, or the
documented Okumura-Hata / COST-231 stand-in (:data:`SIGNAL_COLUMNS`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.fibre import point_xy_m
from analysis.linkbudget import reference_power_dbm
from analysis.params import StandInSignalParams
from analysis.propagation import ENV_SUBURBAN, path_loss_db
from geo.errors import SchemaError

if TYPE_CHECKING:
    import pyproj

    from geo.package import DataPackage


log = logging.getLogger(__name__)

SIGNAL_COLUMNS: tuple[str, ...] = ("share_hh_good_4g", "share_hh_no_4g", "good_4g_operators")
"""The signal interface: a DataFrame indexed by ``hamlet_id`` with these columns.

``share_hh_good_4g`` (0–1) households with good 4G from at least one operator; ``share_hh_no_4g``
(0–1) households with no usable 4G at all; ``good_4g_operators`` (str) operators giving good 4G
to at least part of the hamlet, ``";"``-joined, "" for none."""


def _text(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.strip()


STANDIN_SOURCE = (
    "stand-in: Okumura-Hata/COST-231 omni RSRP at 9 points per hamlet, no terrain "
    "(analysis.gaps.standin_hamlet_signal)"
)


def _sample_points(xy: np.ndarray, radius_m: float) -> np.ndarray:
    """(k, 9, 2): each point and 8 points on a ring of ``radius_m``."""
    ang = np.deg2rad(np.arange(0, 360, 45))
    ring = np.stack([np.cos(ang), np.sin(ang)], axis=1) * radius_m
    offsets = np.concatenate([np.zeros((1, 2)), ring])
    return xy[:, None, :] + offsets[None, :, :]


def _active_4g(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    need = ("operator", "status", "technology", "band_mhz", "height_m")
    missing = [c for c in need if c not in cells.columns]
    if missing:
        raise SchemaError(f"towers/sites.csv lacks column(s) {', '.join(missing)}")
    status = _text(cells["status"]).str.lower()
    tech = _text(cells["technology"]).str.upper()
    return cells[(status == "active") & (tech == "4G")]


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Column as floats (NaN where empty or missing)."""
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)


def _best_rsrp_per_operator(
    lte: gpd.GeoDataFrame,
    ops: list[str],
    xy_m: np.ndarray,
    metric_crs: pyproj.CRS,
    params: StandInSignalParams,
) -> np.ndarray:
    """(operators, points) best RSRP (dBm per resource element) of each operator's omni cells."""
    best = np.full((len(ops), len(xy_m)), -np.inf)
    if not len(lte):
        return best
    cxy = point_xy_m(lte, metric_crs)
    band, height = _numbers(lte, "band_mhz"), _numbers(lte, "height_m")
    eirp = np.nan_to_num(_numbers(lte, "eirp_dbm"), nan=params.eirp_dbm)
    bw = np.nan_to_num(_numbers(lte, "bandwidth_mhz"), nan=params.bandwidth_mhz)
    op_row = [ops.index(op) for op in _text(lte["operator"])]
    for k in range(len(lte)):
        if not (np.isfinite(band[k]) and np.isfinite(height[k])):
            continue
        d_km = np.maximum(np.hypot(xy_m[:, 0] - cxy[k, 0], xy_m[:, 1] - cxy[k, 1]) / 1000.0, 0.02)
        loss = path_loss_db(
            d_km,
            float(band[k]),
            max(float(height[k]), 1.0),
            params.mobile_height_m,
            ENV_SUBURBAN,
            strict=False,
        )
        ref = float(reference_power_dbm(eirp[k], "4G", bw[k]))
        best[op_row[k]] = np.maximum(best[op_row[k]], ref - loss)
    return best


def standin_hamlet_signal(
    hamlets: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    metric_crs: pyproj.CRS,
    *,
    params: StandInSignalParams | None = None,
) -> pd.DataFrame:
    """STAND-IN signal statistics, used only when the coverage engine's are not supplied.

    Omni antennas, Okumura–Hata (≤ 1500 MHz) or COST-231 Hata (1500–2000 MHz; TR 38.901 RMa
    above, as chosen by :func:`analysis.propagation.model_for_band`) with the suburban
    correction, outdoor, no terrain; RSRP per resource element = EIRP − 10·log10(subcarriers) −
    path loss. Each hamlet is sampled at its point and a ring of 8 points at ``hamlet_radius_m``;
    the shares are the fractions of these 9 samples.

    Parameters
    ----------
    hamlets
        Hamlet points (or polygons: their representative point), EPSG:4326, ``hamlet_id``.
    cells
        Cells as in ``towers/sites.csv`` (EPSG:4326); only ``active`` ``4G`` cells count.
    metric_crs
        Projected CRS in metres.
    params
        Levels and defaults.

    Returns
    -------
    pandas.DataFrame
        The signal interface (:data:`SIGNAL_COLUMNS`) indexed by ``hamlet_id``, plus
        ``signal_source = "standin_hata_omni"``.
    """
    params = params or StandInSignalParams()
    ids = pd.Index(_text(hamlets["hamlet_id"]).to_numpy(), name="hamlet_id")
    samples = _sample_points(point_xy_m(hamlets, metric_crs), params.hamlet_radius_m)
    flat = samples.reshape(-1, 2)
    lte = _active_4g(cells)
    ops = sorted(set(_text(lte["operator"])))
    best = _best_rsrp_per_operator(lte, ops, flat, metric_crs, params)
    per_op = best.reshape(len(ops), len(ids), samples.shape[1])
    overall = per_op.max(axis=0) if ops else np.full((len(ids), samples.shape[1]), -np.inf)
    good_any = np.asarray((per_op >= params.good_rsrp_dbm).any(axis=2), dtype=bool).reshape(
        len(ops), len(ids)
    )
    operators = [";".join(o for o, g in zip(ops, good_any[:, j], strict=True) if g) for j in range(len(ids))]
    out = pd.DataFrame(
        {
            "share_hh_good_4g": (overall >= params.good_rsrp_dbm).mean(axis=1),
            "share_hh_no_4g": (overall < params.usable_rsrp_dbm).mean(axis=1),
            "good_4g_operators": operators,
            "signal_source": "standin_hata_omni",
        },
        index=ids,
    )
    out.attrs["source"] = STANDIN_SOURCE
    return out


COVERAGE_ENGINE_SOURCE = (
    "coverage engine: analysis.coverage_stats 4G household shares per class over each hamlet's "
    "settlement footprint (point: Voronoi cell in its commune within hamlet_radius_m; polygon: "
    "its polygon), all operators' best server"
)

_SHARE_GOOD, _SHARE_NONE = "household_share_good", "household_share_none"


def signal_from_coverage_stats(hamlet_stats: pd.DataFrame) -> pd.DataFrame:
    """Convert :func:`analysis.coverage_stats.coverage_statistics` hamlet rows to the signal interface.

    The engine gives, per hamlet and operator, the share of the hamlet's households in each class
    over its settlement footprint (``household_share_none`` … ``household_share_good``); the ``all``
    rows are the best server of every operator. ``share_hh_good_4g`` is the ``all`` row's
    ``household_share_good``, ``share_hh_no_4g`` its ``household_share_none`` (NaN where the
    hamlet is ``outside`` the grid), and ``good_4g_operators`` the operators whose own
    ``household_share_good`` is above 0. Tables without the share columns (statistics written
    before they existed) fall back to the representative ``coverage_class``: ``good`` → 1 good,
    ``none`` → 1 without 4G, ``poor``/``fair`` → neither.

    Parameters
    ----------
    hamlet_stats
        ``CoverageStats.hamlets``: ``hamlet_id``, ``operator`` ("all" and one per operator),
        ``coverage_class`` and, normally, ``household_share_good`` / ``household_share_none``.

    Returns
    -------
    pandas.DataFrame
        :data:`SIGNAL_COLUMNS` + ``signal_source = "coverage_engine"``, indexed by ``hamlet_id``.
    """
    missing = [c for c in ("hamlet_id", "operator", "coverage_class") if c not in hamlet_stats.columns]
    if missing:
        raise SchemaError(f"coverage statistics lack column(s) {', '.join(missing)}")
    frame = pd.DataFrame(hamlet_stats).copy()
    frame["hamlet_id"] = _text(frame["hamlet_id"])
    known = frame["coverage_class"] != "outside"
    if _SHARE_GOOD in frame.columns and _SHARE_NONE in frame.columns:
        good = pd.to_numeric(frame[_SHARE_GOOD], errors="coerce").where(known)
        none = pd.to_numeric(frame[_SHARE_NONE], errors="coerce").where(known)
    else:
        good = (frame["coverage_class"] == "good").astype(float).where(known)
        none = (frame["coverage_class"] == "none").astype(float).where(known)
    frame["_good"], frame["_none"] = good, none
    best = frame[frame["operator"] == "all"].drop_duplicates("hamlet_id").set_index("hamlet_id")
    good_ops = (
        frame[(frame["operator"] != "all") & (frame["_good"] > 0)]
        .groupby("hamlet_id")["operator"]
        .agg(lambda s: ";".join(sorted(set(s))))
    )
    out = pd.DataFrame(
        {
            "share_hh_good_4g": best["_good"].astype(float),
            "share_hh_no_4g": best["_none"].astype(float),
            "good_4g_operators": good_ops.reindex(best.index).fillna("").astype(str),
            "signal_source": "coverage_engine",
        },
        index=best.index,
    )
    out.index.name = "hamlet_id"
    out.attrs["source"] = COVERAGE_ENGINE_SOURCE
    return out


def coverage_engine_signal(pkg: DataPackage, *, technology: str = "4G") -> pd.DataFrame:
    """Run the coverage engine (default coverage parameters) on a package; return the signal interface.

    Parameters
    ----------
    pkg
        A loaded data package.
    technology
        Technology of the statistics (the flags are defined for 4G).
    """
    from analysis.coverage import build_scene, compute_coverage_by_operator
    from analysis.coverage_params import default_coverage_params
    from analysis.coverage_stats import coverage_statistics

    cparams = default_coverage_params()
    scene = build_scene(pkg.communes, pkg.metric_crs, resolution_m=cparams.resolution_m, params=cparams)
    result = compute_coverage_by_operator(scene, pkg.cells, technology=technology, params=cparams)
    stats = coverage_statistics(scene, result, pkg.hamlets, params=cparams)
    return signal_from_coverage_stats(stats.hamlets)
