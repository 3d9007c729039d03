"""Candidate sites: other operators' masts first, then hamlet centres and a grid over the targets."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from analysis.coverage import (
    Grid,
    Scene,
)
from analysis.coverage_params import (
    CoverageParams,
)
from analysis.coverage_stats import StatisticsInputs
from analysis.linkbudget import reference_power_dbm
from analysis.propagation import path_loss_db
from analysis.site_planning._common import (
    _ORIGIN_CENTRE,
    _ORIGIN_GRID,
    _ORIGIN_MAST,
    _REACH_MARGIN_PX,
    _REACH_SLACK_DB,
)
from analysis.site_planning.params import PlanningParams, TechnologyAntenna
from analysis.site_planning.targets import PlanTargets

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# candidates


def _considered(cells: gpd.GeoDataFrame, include_planned: bool) -> NDArray[np.bool_]:
    status = cells["status"].astype(str)
    mask = status == "active"
    if include_planned:
        mask |= status == "planned"
    return mask.to_numpy()


def _good_reach_px(
    antenna: TechnologyAntenna, height_m: float, params: CoverageParams, technology: str
) -> int:
    """Pixels beyond which a planned cell cannot reach the good threshold at boresight in the least
    lossy environment (the engine's models, :func:`analysis.propagation.path_loss_db`), plus margin."""
    res = params.resolution_m
    cap_px = max(1, int(params.max_radius_km * 1000.0 / res))
    d_km = np.maximum(np.arange(cap_px + 1, dtype=np.float64), 0.5) * res / 1000.0
    least = np.min(
        [
            path_loss_db(
                d_km,
                antenna.band_mhz,
                height_m,
                params.receiver_height_m,
                np.full(d_km.shape, env, dtype=np.uint8),
                c_urban_db=params.cost231_urban_c_db,
            )
            for env in (0, 1, 2)
        ],
        axis=0,
    )
    envelope = np.minimum.accumulate(least[::-1])[::-1]
    ref = float(
        reference_power_dbm(
            antenna.eirp_dbm, technology, antenna.bandwidth_mhz, pilot_share_db=params.pilot_share_db
        )
    )
    budget = (
        ref - params.indoor_loss_db - params.margin_db - params.tech(technology).good_dbm + _REACH_SLACK_DB
    )
    return max(int(np.searchsorted(envelope, budget, side="right")) - 1, 0) + _REACH_MARGIN_PX


def _site_table(cells: gpd.GeoDataFrame, grid: Grid, considered: NDArray[np.bool_]) -> pd.DataFrame:
    """One row per existing mast (site_id with a considered cell): location, height, operator."""
    metric = cells[considered].to_crs(grid.crs)
    frame = pd.DataFrame(
        {
            "site_id": metric["site_id"].astype(str).to_numpy(),
            "operator": metric["operator"].astype(str).to_numpy(),
            "x": metric.geometry.x.to_numpy(),
            "y": metric.geometry.y.to_numpy(),
            "height_m": pd.to_numeric(metric["height_m"], errors="coerce").to_numpy(dtype=float),
        }
    )
    return (
        frame.groupby("site_id", sort=True)
        .agg(operator=("operator", "first"), x=("x", "first"), y=("y", "first"), height_m=("height_m", "max"))
        .reset_index()
    )


def _shared_masts(
    cells: gpd.GeoDataFrame,
    grid: Grid,
    *,
    operator: str | None,
    technology: str,
    include_planned: bool,
) -> pd.DataFrame:
    """Existing masts without a (considered) cell of ``technology`` of ``operator`` (any operator
    when None), sorted by site id."""
    considered = _considered(cells, include_planned)
    if not considered.any():
        return pd.DataFrame(columns=["site_id", "operator", "x", "y", "height_m"])
    sites = _site_table(cells, grid, considered)
    has = considered & (cells["technology"].astype(str) == technology).to_numpy()
    if operator is not None:
        has &= (cells["operator"].astype(str) == operator).to_numpy()
    served = set(cells["site_id"].astype(str).to_numpy()[has])
    return sites[~sites["site_id"].isin(served)].reset_index(drop=True)


def _candidate_frame(
    xy: NDArray[np.float64],
    origin: str,
    kind: str,
    grid: Grid,
    heights: NDArray[np.float64],
    hosts: pd.DataFrame | None,
) -> pd.DataFrame:
    row, col = grid.rowcol(xy[:, 0], xy[:, 1])
    frame = pd.DataFrame(
        {
            "kind": kind,
            "origin": origin,
            "host_site_id": "" if hosts is None else hosts["site_id"].to_numpy(),
            "host_operator": "" if hosts is None else hosts["operator"].to_numpy(),
            "x_m": xy[:, 0],
            "y_m": xy[:, 1],
            "row": row,
            "col": col,
            "height_m": heights,
        }
    )
    return frame


def _candidates(
    scene: Scene,
    targets: PlanTargets,
    prepared: StatisticsInputs,
    cells: gpd.GeoDataFrame,
    *,
    operator: str | None,
    technology: str,
    planning: PlanningParams,
    params: CoverageParams,
    include_planned: bool,
) -> pd.DataFrame:
    """Candidate sites: shared masts, hamlet centres, grid nodes; in the province, near an item,
    one per pixel (first kept), with ids ``C00001``... and costs."""
    grid = scene.grid
    item_r, item_c = np.divmod(targets.item_pixels, grid.width)
    parts: list[pd.DataFrame] = []
    if planning.shared_masts:
        masts = _shared_masts(
            cells, grid, operator=operator, technology=technology, include_planned=include_planned
        )
        heights = masts["height_m"].to_numpy(dtype=float)
        if not planning.shared_mast_use_site_height:
            heights = np.full(len(masts), planning.height_m)
        heights = np.where(np.isfinite(heights) & (heights > 0), heights, planning.height_m)
        xy = masts[["x", "y"]].to_numpy(dtype=float).reshape(-1, 2)
        parts.append(_candidate_frame(xy, _ORIGIN_MAST, "shared-mast", grid, heights, masts))
    if planning.hamlet_centres:
        xy = prepared.anchors_xy[targets.hamlets["row"].to_numpy(dtype=np.int64)].reshape(-1, 2)
        xy = xy[np.isfinite(xy).all(axis=1)]
        r, c = grid.rowcol(xy[:, 0], xy[:, 1])
        xy = np.column_stack(grid.centres(r, c))
        parts.append(
            _candidate_frame(xy, _ORIGIN_CENTRE, "new-mast", grid, np.full(len(xy), planning.height_m), None)
        )
    if planning.grid and len(targets.item_pixels):
        s = planning.grid_spacing_m
        cx, cy = grid.centres(item_r, item_c)
        nodes = np.unique(np.column_stack([np.round(cx / s), np.round(cy / s)]), axis=0) * s
        r, c = grid.rowcol(nodes[:, 0], nodes[:, 1])
        xy = np.column_stack(grid.centres(r, c))
        parts.append(
            _candidate_frame(xy, _ORIGIN_GRID, "new-mast", grid, np.full(len(xy), planning.height_m), None)
        )
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else _candidate_frame(np.zeros((0, 2)), "", "", grid, np.zeros(0), None)
    )
    on_grid = (
        (frame["row"] >= 0) & (frame["row"] < grid.height) & (frame["col"] >= 0) & (frame["col"] < grid.width)
    )
    frame = frame[on_grid.to_numpy()]
    frame = frame[scene.inside[frame["row"].to_numpy(), frame["col"].to_numpy()]]
    frame = frame.drop_duplicates(["row", "col"], keep="first")
    if len(targets.item_pixels) and len(frame):
        tree = cKDTree(np.column_stack([item_r, item_c]).astype(float))
        antenna = planning.antenna(technology)
        reach = {h: _good_reach_px(antenna, h, params, technology) for h in sorted(set(frame["height_m"]))}
        dist, _ = tree.query(frame[["row", "col"]].to_numpy(dtype=float), k=1)
        frame = frame[dist <= frame["height_m"].map(reach).to_numpy()]
    else:
        frame = frame.iloc[:0]
    frame = frame.reset_index(drop=True)
    frame.insert(0, "candidate_id", [f"C{i + 1:05d}" for i in range(len(frame))])
    frame["cost_vnd"] = [planning.cost_vnd(k) for k in frame["kind"]]
    log.info("plan-sites: %d candidates (%s)", len(frame), frame["origin"].value_counts().to_dict())
    return frame
