"""Which items each candidate covers: its cells through the engine alone, over a window of its reach."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from shapely import points

from analysis.coverage import (
    Grid,
    Scene,
    classify_rsrp,
    compute_coverage,
)
from analysis.coverage_params import (
    CoverageParams,
    TechnologyParams,
)
from analysis.site_planning._common import _GOOD
from analysis.site_planning.candidates import _good_reach_px
from analysis.site_planning.params import PlanningParams
from analysis.site_planning.targets import PlanTargets

# ---------------------------------------------------------------------------------------------
# coverage matrix


def _layer_code(technology: str, band_mhz: float) -> str:
    """``L18`` for LTE 1800 (the bundled cell-id form ``<site>-<layer>-<sector>``)."""
    letter = {"2G": "G", "3G": "U", "4G": "L", "5G": "N"}[technology]
    return f"{letter}{int(round(band_mhz / 100.0)):02d}"


def _candidate_cells(
    candidates: pd.DataFrame, grid: Grid, *, technology: str, planning: PlanningParams, operator: str
) -> gpd.GeoDataFrame:
    """The cells of every candidate (one per azimuth, rows ``[len(az) i, len(az) (i + 1))``), at the
    centre of the candidate's pixel (where the engine puts it), in the grid CRS."""
    antenna = planning.antenna(technology)
    az = np.asarray(planning.azimuths_deg, dtype=float)
    n, k = len(candidates), len(az)
    x, y = grid.centres(candidates["row"].to_numpy(), candidates["col"].to_numpy())
    ids = np.repeat(candidates["candidate_id"].to_numpy(dtype=str), k)
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"{c}-{j}" for c, j in zip(ids, np.tile(np.arange(1, k + 1), n), strict=True)],
            "site_id": ids,
            "operator": operator,
            "status": "planned",
            "technology": technology,
            "band_mhz": antenna.band_mhz,
            "height_m": np.repeat(candidates["height_m"].to_numpy(dtype=float), k),
            "azimuth_deg": np.tile(az, n),
            "beamwidth_deg": planning.beamwidth_deg,
            "eirp_dbm": antenna.eirp_dbm,
            "bandwidth_mhz": antenna.bandwidth_mhz,
        },
        geometry=points(np.repeat(x, k), np.repeat(y, k)),
        crs=grid.crs,
    )


def _window_scene(scene: Scene, rows: slice, cols: slice) -> Scene:
    """The part of ``scene`` in a window of its grid (same pixels, same environment)."""
    g = scene.grid
    r0, r1, c0, c1 = rows.start, rows.stop, cols.start, cols.stop
    grid = Grid(
        g.crs, g.left_m + c0 * g.resolution_m, g.top_m - r0 * g.resolution_m, g.resolution_m, c1 - c0, r1 - r0
    )
    return Scene(
        grid,
        np.ascontiguousarray(scene.inside[rows, cols]),
        np.ascontiguousarray(scene.commune[rows, cols]),
        np.ascontiguousarray(scene.environment[rows, cols]),
        scene.communes,
    )


def _coverage_matrix(
    scene: Scene,
    candidates: pd.DataFrame,
    targets: PlanTargets,
    *,
    technology: str,
    planning: PlanningParams,
    params: CoverageParams,
) -> sp.csr_array:
    """Candidates × items: True where the candidate's cells alone reach good (engine over a window)."""
    grid = scene.grid
    tech = params.tech(technology)
    antenna = planning.antenna(technology)
    k = len(planning.azimuths_deg)
    cells = _candidate_cells(candidates, grid, technology=technology, planning=planning, operator="PLAN")
    reach = {h: _good_reach_px(antenna, h, params, technology) for h in sorted(set(candidates["height_m"]))}
    items = targets.item_pixels
    with _quiet_engine():
        chunks = _evaluate(scene, candidates, cells, items, tech, params, reach, k)
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in chunks], dtype=np.int64)]).astype(np.int64)
    indices = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    data = np.ones(len(indices), dtype=bool)
    return sp.csr_array((data, indices, indptr), shape=(len(candidates), len(items)))


@contextmanager
def _quiet_engine() -> Iterator[None]:
    """Drop the engine's per-run INFO lines logged by this thread (one per candidate)."""
    thread = threading.get_ident()
    engine = logging.getLogger("analysis.coverage")

    def keep(record: logging.LogRecord) -> bool:
        return record.thread != thread or record.levelno > logging.INFO

    engine.addFilter(keep)
    try:
        with _one_kernel_thread():
            yield
    finally:
        engine.removeFilter(keep)


@contextmanager
def _one_kernel_thread() -> Iterator[None]:
    """Run the compiled kernels on one thread in this thread: thousands of small windows gain
    nothing from parallel blocks and lose much at their barriers when the cores are busy."""
    try:
        import numba
    except ImportError:  # the engine falls back to numpy
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _evaluate(
    scene: Scene,
    candidates: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    items: NDArray[np.int64],
    tech: TechnologyParams,
    params: CoverageParams,
    reach: dict[float, int],
    k: int,
) -> list[NDArray[np.int64]]:
    """Per candidate, the items where its ``k`` cells alone reach good (engine over a window),
    evaluated by height (the engine memoises its loss tables and bearing kernels in small caches)."""
    grid = scene.grid
    chunks: list[NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)] * len(candidates)
    heights = candidates["height_m"].to_numpy(dtype=float)
    site_rows, site_cols = candidates["row"].to_numpy(), candidates["col"].to_numpy()
    for i in np.argsort(heights, kind="stable").tolist():
        r, c, radius = int(site_rows[i]), int(site_cols[i]), reach[float(heights[i])]
        rows = slice(max(r - radius, 0), min(r + radius + 1, grid.height))
        cols = slice(max(c - radius, 0), min(c + radius + 1, grid.width))
        window = _window_scene(scene, rows, cols)
        result = compute_coverage(
            window,
            cells.iloc[k * i : k * (i + 1)],
            technology=tech.technology,
            params=params,
            include_planned=True,
        )
        wr, wc = np.nonzero(classify_rsrp(result.rsrp_dbm, tech) == _GOOD)
        flat = (wr + rows.start).astype(np.int64) * grid.width + (wc + cols.start)
        pos = np.searchsorted(items, flat)
        hit = pos < len(items)
        hit[hit] = items[pos[hit]] == flat[hit]
        chunks[i] = pos[hit].astype(np.int64)
    return chunks
