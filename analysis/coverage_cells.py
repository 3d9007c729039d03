"""Which cells the coverage engine evaluates (:func:`select_cells`) and their per-cell inputs on the grid."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.coverage_grid import Grid
from analysis.coverage_params import CoverageParams, TechnologyParams
from analysis.linkbudget import reference_power_dbm
from analysis.propagation import model_for_band
from geo.errors import ParameterError, SchemaError

_REQUIRED = ("cell_id", "site_id", "operator", "status", "technology", "band_mhz", "height_m", "geometry")


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
