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

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis._parallel import KERNEL_LOCK
from analysis.coverage_cells import _Cells, _prepare_cells, select_cells
from analysis.coverage_grid import (
    NODATA_CLASS,
    NODATA_COUNT,
    NODATA_RSRP,
    NODATA_SERVER,
    CoverageRaster,
    Grid,
    Scene,
    build_scene,
    classify_rsrp,
)
from analysis.coverage_params import CLASS_NAMES, CoverageParams, TechnologyParams
from analysis.coverage_plan import _bearing_kernel, _kernels, _pattern_table, _Plan, _plan
from analysis.terrain import diffraction_loss_db
from geo.errors import ParameterError

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

_COUNT_CAP = int(NODATA_COUNT) - 1  # server counts saturate at 254


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
