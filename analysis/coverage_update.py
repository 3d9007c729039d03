"""Incremental coverage for planning scenarios: recompute only where the changed cells reach.

A scenario changes a few cells of a technology (adds a site, moves or removes one, edits a cell's
fields, removes an operator's cells). :func:`update_coverage_by_operator` takes the result of
:func:`analysis.coverage.compute_coverage_by_operator` on the cells before and the edited cell
table, and returns what that function would return on the edited cells, bit for bit:

1. the cells are compared by ``cell_id`` on what their prediction depends on (operator, pixel,
   reference power, band, height, azimuth and, for sectors, beamwidth): added, removed, modified;
2. each changed cell's floor window — the bounding box of its reach at the evaluation floor, the
   same box the engine plans with — is taken for its old and its new version, and overlapping
   windows are merged into rectangles;
3. inside each rectangle the compiled engine runs with *all* the edited cells (same plan, cell
   indices, ties and server counts as a full run); every other pixel is copied from the base, with
   server indices renumbered where cells were added or removed before them.

An unchanged cell whose order relative to another unchanged cell changed (ties go to the lowest
index) or whose planned reach changed (its loss table grew with a stronger cell of the same band
and height) is re-evaluated too. :func:`update_statistics` then recomputes the hamlet and commune
statistics whose pixels meet the changed windows and copies the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.coverage import (
    NODATA_CLASS,
    CoverageRaster,
    OperatorCoverage,
    Scene,
    _accumulate_window,
    _CellInputs,
    _numba_kernel,
    _operator_ordered_cells,
    classify_rsrp,
    compute_coverage_by_operator,
)
from analysis.coverage_cells import _Cells, select_cells
from analysis.coverage_params import CLASS_NAMES, CoverageParams, TechnologyParams
from analysis.coverage_plan import _assembled_plan, _Plan, _plan_tables, _Spans, _subset_reach
from analysis.coverage_stats import (
    ALL_OPERATORS,
    CoverageStats,
    StatisticsInputs,
    _add_best_server,
    _class_shares,
    _classify_all,
    _compiled_counts,
    _household_shares,
    _median_class,
    _operators_reaching,
    _shares_of_counts,
    coverage_statistics,
    footprint_class_shares,
    hamlet_status,
)
from geo.errors import ParameterError

__all__ = ["CoverageUpdate", "affected_units", "update_coverage_by_operator", "update_statistics"]

log = logging.getLogger(__name__)

Window = tuple[slice, slice]
_Rect = tuple[int, int, int, int]  # r0, r1, c0, c1 (ends exclusive)


@dataclass(frozen=True)
class CoverageUpdate:
    """The coverage after a scenario's cell changes and where it was recomputed.

    Attributes
    ----------
    coverage : OperatorCoverage
        Equal to ``compute_coverage_by_operator`` on the edited cells (``combined.evaluations``
        counts the evaluations made in the windows, ``combined.compute_s`` their engine time).
    windows : tuple of (slice, slice)
        Disjoint pixel windows (rows, columns) of the grid that were recomputed; every other pixel
        was copied from the base. Empty when no change reaches the grid.
    added_cell_ids, removed_cell_ids, modified_cell_ids : tuple of str
        Cells of the technology (as selected, e.g. active only) that appeared, disappeared, or whose
        prediction inputs changed, in cell-table order.
    reevaluated_cell_ids : tuple of str
        Unchanged cells re-evaluated all the same: their order relative to another unchanged cell
        changed (tie-breaking) or their planned reach changed.
    compute_s : float
        Wall time of the update, s.
    """

    coverage: OperatorCoverage
    windows: tuple[Window, ...]
    added_cell_ids: tuple[str, ...]
    removed_cell_ids: tuple[str, ...]
    modified_cell_ids: tuple[str, ...]
    reevaluated_cell_ids: tuple[str, ...]
    compute_s: float

    @property
    def window_px(self) -> int:
        """Number of pixels recomputed (the windows are disjoint)."""
        return sum((w[0].stop - w[0].start) * (w[1].stop - w[1].start) for w in self.windows)

    @property
    def changed_cell_ids(self) -> tuple[str, ...]:
        """Added, removed and modified cell ids."""
        return self.added_cell_ids + self.removed_cell_ids + self.modified_cell_ids


@dataclass(frozen=True)
class _Diff:
    """How the cells after relate to the cells before (indices in the joint-pass order)."""

    added: NDArray[np.intp]  # new indices
    removed: NDArray[np.intp]  # old indices
    modified_old: NDArray[np.intp]
    modified_new: NDArray[np.intp]
    same_old: NDArray[np.intp]  # unchanged cells, ascending old index
    same_new: NDArray[np.intp]  # their new indices


def update_coverage_by_operator(
    scene: Scene,
    base: OperatorCoverage,
    cells_after: gpd.GeoDataFrame,
    *,
    technology: str,
    params: CoverageParams,
    include_planned: bool = False,
) -> CoverageUpdate:
    """Coverage of ``cells_after``, recomputed only where changed cells reach.

    Parameters
    ----------
    scene : Scene
        The scene ``base`` was computed on.
    base : OperatorCoverage
        :func:`analysis.coverage.compute_coverage_by_operator` of the cells before the change (or an
        earlier update), with the same scene, technology and parameters, and no DEM.
    cells_after : GeoDataFrame
        The edited cell table (every technology; the package's ``cells`` format).
    technology : str, keyword-only
        Technology of ``base``.
    params : CoverageParams, keyword-only
        The parameters ``base`` was computed with.
    include_planned : bool, keyword-only
        Also evaluate planned cells of ``cells_after`` (a cell whose status changes between active
        and planned is then added or removed).

    Returns
    -------
    CoverageUpdate
        ``coverage`` equals ``compute_coverage_by_operator(scene, cells_after, technology=...,
        params=..., include_planned=...)`` array for array and in its cell table. Without numba, or
        with a base that holds no prediction inputs, the whole grid is recomputed.

    Raises
    ------
    ParameterError
        ``base`` is of another technology, grid or class thresholds; no cell of the technology is
        left (as the full computation).
    SchemaError
        Bad cell values (as the full computation).
    """
    start = time.perf_counter()
    tech = params.tech(technology)
    _check_base(scene, base, tech, params)
    chosen = select_cells(cells_after, technology=technology, include_planned=include_planned)
    operators = sorted(set(chosen["operator"].astype(str)))
    ids_before = base.combined.cells["cell_id"].astype(str).to_numpy()
    inputs = base.cell_inputs
    if inputs is None or _numba_kernel() is None:
        return _full_update(scene, cells_after, ids_before, technology, params, include_planned, start)
    after, groups = _operator_ordered_cells(scene, chosen, operators, tech, params)
    ids_after = after.frame["cell_id"].astype(str).to_numpy()
    if len(set(ids_before)) < len(ids_before) or len(set(ids_after)) < len(ids_after):
        log.info("coverage update: cell ids are not unique, computing the whole grid")
        return _full_update(scene, cells_after, ids_before, technology, params, include_planned, start)
    diff = _diff_cells(inputs.cells, ids_before, after, ids_after)
    floor, count_thr = tech.floor_dbm, tech.threshold_dbm(params.server_count_class)
    planned = _plan_update(scene, inputs, after, diff, floor, count_thr, params)
    engine_start = time.perf_counter()
    rsrp = base.combined.rsrp_dbm.copy()
    server = _renumbered_servers(base.combined.server, diff, len(ids_before))
    count = base.combined.server_count.copy()
    classes = _base_classes(scene, base, operators)
    shared = {op for op in operators if classes[op] is base.classes_by_operator.get(op)}
    thresholds = np.asarray(tech.thresholds_dbm, dtype=np.float32)
    evaluations = 0
    for r0, r1, c0, c1 in planned.rects:
        best_w, server_w, count_w, evals, class_w = _accumulate_window(
            scene, after, planned.plan, floor, count_thr, params, groups, thresholds, window=(r0, r1, c0, c1)
        )
        rsrp[r0:r1, c0:c1] = best_w
        server[r0:r1, c0:c1] = server_w
        count[r0:r1, c0:c1] = count_w
        if len(operators) > 1:
            for g, op in enumerate(operators):
                if not np.array_equal(classes[op][r0:r1, c0:c1], class_w[g]):
                    if op in shared:  # first change to this operator's classes: copy them now
                        classes[op] = classes[op].copy()
                        shared.discard(op)
                    classes[op][r0:r1, c0:c1] = class_w[g]
        evaluations += evals
    if len(operators) == 1:  # as the full computation: the one operator's class is the best level's
        classes = {operators[0]: classify_rsrp(rsrp, tech)}
    combined = CoverageRaster(
        grid=scene.grid,
        technology=technology,
        operator=None,
        rsrp_dbm=rsrp,
        server=server,
        server_count=count,
        cells=after.frame,
        floor_dbm=float(floor),
        count_threshold_dbm=float(count_thr),
        evaluations=evaluations,
        compute_s=time.perf_counter() - engine_start,
    )
    reevaluated = set(ids_before[planned.reevaluated_old].tolist()) | set(
        ids_after[planned.reevaluated_new].tolist()
    )
    update = CoverageUpdate(
        OperatorCoverage(combined, classes, planned.inputs),
        tuple((slice(r0, r1), slice(c0, c1)) for r0, r1, c0, c1 in planned.rects),
        tuple(ids_after[diff.added].tolist()),
        tuple(ids_before[diff.removed].tolist()),
        tuple(ids_after[diff.modified_new].tolist()),
        tuple(sorted(reevaluated)),
        time.perf_counter() - start,
    )
    _log_update(update, scene, evaluations)
    return update


def _log_update(update: CoverageUpdate, scene: Scene, evaluations: int) -> None:
    log.info(
        "coverage update %s: %d added, %d removed, %d modified cells; %d windows, %d px (%.2f %% of "
        "the grid), %.3g evaluations in %.2f s",
        update.coverage.combined.technology,
        len(update.added_cell_ids),
        len(update.removed_cell_ids),
        len(update.modified_cell_ids),
        len(update.windows),
        update.window_px,
        100.0 * update.window_px / max(scene.grid.width * scene.grid.height, 1),
        evaluations,
        update.compute_s,
    )


def _check_base(scene: Scene, base: OperatorCoverage, tech: TechnologyParams, params: CoverageParams) -> None:
    """Refuse a base computed for another technology, grid or thresholds."""
    combined = base.combined
    if combined.technology != tech.technology:
        raise ParameterError(
            f"coverage update: the base is {combined.technology} coverage, not {tech.technology}"
        )
    if combined.grid != scene.grid:
        raise ParameterError("coverage update: the base was computed on another grid")
    if combined.floor_dbm != float(tech.floor_dbm) or combined.count_threshold_dbm != float(
        tech.threshold_dbm(params.server_count_class)
    ):
        raise ParameterError("coverage update: the base was computed with other class thresholds")


def _full_update(
    scene: Scene,
    cells_after: gpd.GeoDataFrame,
    ids_before: NDArray[np.str_],
    technology: str,
    params: CoverageParams,
    include_planned: bool,
    start: float,
) -> CoverageUpdate:
    """The whole grid recomputed (no compiled engine, no prediction inputs in the base, or cell ids
    that do not identify the cells); cells are compared by id only: every kept one counts as
    modified."""
    coverage = compute_coverage_by_operator(
        scene, cells_after, technology=technology, params=params, include_planned=include_planned
    )
    ids_after = coverage.combined.cells["cell_id"].astype(str).tolist()
    before = set(ids_before.tolist())
    after = set(ids_after)
    grid = scene.grid
    return CoverageUpdate(
        coverage,
        ((slice(0, grid.height), slice(0, grid.width)),),
        tuple(i for i in ids_after if i not in before),
        tuple(i for i in ids_before.tolist() if i not in after),
        tuple(i for i in ids_after if i in before),
        (),
        time.perf_counter() - start,
    )


def _signature(cells: _Cells) -> list[NDArray[np.generic]]:
    """Per cell, what its prediction and its place in the joint pass depend on (beamwidth only for
    sectors: omni cells ignore it)."""
    sector = ~np.isnan(cells.azimuth_deg)
    return [
        cells.frame["operator"].astype(str).to_numpy(),
        cells.row,
        cells.col,
        cells.ref_dbm,
        cells.f_mhz,
        cells.hb_m,
        cells.azimuth_deg,
        np.where(sector, cells.beamwidth_deg, np.nan),
    ]


def _diff_cells(
    before: _Cells, ids_before: NDArray[np.str_], after: _Cells, ids_after: NDArray[np.str_]
) -> _Diff:
    """Added, removed, modified and unchanged cells (by id, then by prediction inputs)."""
    where_after = {cell_id: i for i, cell_id in enumerate(ids_after.tolist())}
    old_common = np.array([i for i, c in enumerate(ids_before.tolist()) if c in where_after], dtype=np.intp)
    new_common = np.array([where_after[c] for c in ids_before[old_common].tolist()], dtype=np.intp)
    same = np.ones(len(old_common), dtype=bool)
    for a, b in zip(_signature(before), _signature(after), strict=True):
        x, y = a[old_common], b[new_common]
        equal = x == y
        if x.dtype.kind == "f":
            equal |= np.isnan(x) & np.isnan(y)
        same &= equal
    kept_new = np.zeros(len(ids_after), dtype=bool)
    kept_new[new_common] = True
    kept_old = np.zeros(len(ids_before), dtype=bool)
    kept_old[old_common] = True
    modified_order = np.argsort(new_common[~same], kind="stable")
    return _Diff(
        added=np.flatnonzero(~kept_new),
        removed=np.flatnonzero(~kept_old),
        modified_old=old_common[~same][modified_order],
        modified_new=new_common[~same][modified_order],
        same_old=old_common[same],
        same_new=new_common[same],
    )


@dataclass(frozen=True)
class _Planned:
    """The plan of the cells after the change (row spans only for the cells whose windows meet the
    rectangles), the rectangles to recompute and the unchanged cells evaluated again."""

    plan: _Plan
    inputs: _CellInputs
    rects: list[_Rect]
    reevaluated_old: NDArray[np.intp]
    reevaluated_new: NDArray[np.intp]


def _plan_update(
    scene: Scene,
    before: _CellInputs,
    after: _Cells,
    diff: _Diff,
    floor_dbm: float,
    count_dbm: float,
    params: CoverageParams,
) -> _Planned:
    """Boxes of every cell after the change: those of the base for unchanged cells whose loss table
    kept its length (a cell's outline depends only on itself and its table), new ones for the
    others; the rectangles to recompute; then the row spans of the cells that meet them."""
    res = scene.grid.resolution_m
    keys, tables, _, ref = _plan_tables(after, floor_dbm, res, params)
    budgets = [ref - floor_dbm, ref - count_dbm]
    steps = {key: table.loss_db.size // 3 for key, table in tables.items()}
    kept = np.array(
        [steps[keys[k]] == before.table_steps.get(keys[k]) for k in diff.same_new.tolist()], dtype=bool
    )
    boxes_floor = np.zeros((len(keys), 4), dtype=np.int64)
    boxes_count = np.zeros((len(keys), 4), dtype=np.int64)
    boxes_floor[diff.same_new[kept]] = before.boxes_floor[diff.same_old[kept]]
    boxes_count[diff.same_new[kept]] = before.boxes_count[diff.same_old[kept]]
    fresh = np.ones(len(keys), dtype=bool)
    fresh[diff.same_new[kept]] = False
    fresh_idx = np.flatnonzero(fresh)
    fresh_reach = _subset_reach(after, fresh_idx, keys, tables, budgets, params) if len(fresh_idx) else None
    if fresh_reach is not None:
        boxes_floor[fresh_idx], boxes_count[fresh_idx] = fresh_reach[0][0], fresh_reach[1][0]
    redo = _inverted(diff.same_new)
    regrown = np.flatnonzero(~kept)  # unchanged cells whose table changed: has their reach?
    if len(regrown) and fresh_reach is not None:
        at = np.searchsorted(fresh_idx, diff.same_new[regrown])
        redo[regrown] = _reach_changed(
            before, diff.same_old[regrown], at, fresh_reach, (floor_dbm, count_dbm, res), params
        )
    old_redo, new_redo = diff.same_old[redo], diff.same_new[redo]
    old_changed = np.concatenate((diff.removed, diff.modified_old, old_redo)).tolist()
    new_changed = np.concatenate((diff.modified_new, diff.added, new_redo)).tolist()
    rects = _merge_rects(
        [_rect(before.boxes_floor[k], before.cells, k, scene) for k in old_changed]
        + [_rect(boxes_floor[k], after, k, scene) for k in new_changed]
    )
    need = _meeting(after, (boxes_floor, boxes_count), rects)
    if len(need):
        (_, spans_floor), (_, spans_count) = _subset_reach(after, need, keys, tables, budgets, params)
    else:
        empty = (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int16), np.zeros(0, dtype=np.int16))
        spans_floor = spans_count = empty
    plan = _assembled_plan(keys, tables, ref, (boxes_floor, boxes_count), need, (spans_floor, spans_count))
    inputs = _CellInputs(after, boxes_floor, boxes_count, steps)
    return _Planned(plan, inputs, rects, old_redo, new_redo)


def _inverted(new_index: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Per unchanged cell (ascending old index, ``new_index`` its new index), whether its order
    relative to another unchanged cell changed (ties go to the lowest index)."""
    if len(new_index) == 0:
        return np.zeros(0, dtype=bool)
    before_max = np.maximum.accumulate(np.concatenate(([-1], new_index[:-1])))
    after_min = np.minimum.accumulate(np.concatenate((new_index[1:], [np.iinfo(np.intp).max]))[::-1])[::-1]
    return (before_max > new_index) | (after_min < new_index)  # type: ignore[no-any-return]


def _reach_changed(
    before: _CellInputs,
    old: NDArray[np.intp],
    at: NDArray[np.intp],
    fresh: list[tuple[NDArray[np.int64], _Spans]],
    levels: tuple[float, float, float],
    params: CoverageParams,
) -> NDArray[np.bool_]:
    """Whether the boxes or row spans of unchanged cells (old indices ``old``; at ``at`` in the new
    reach ``fresh``) differ from those the base planned with its own loss tables. ``levels`` is
    (floor dBm, count threshold dBm, resolution m)."""
    floor_dbm, count_dbm, res = levels
    keys, tables, _, ref = _plan_tables(before.cells, floor_dbm, res, params)
    (floor_b, spans_floor_b), (count_b, spans_count_b) = _subset_reach(
        before.cells, old, keys, tables, [ref - floor_dbm, ref - count_dbm], params
    )
    (floor_a, spans_floor_a), (count_a, spans_count_a) = fresh
    changed = (floor_b != floor_a[at]).any(axis=1) | (count_b != count_a[at]).any(axis=1)
    for i in np.flatnonzero(~changed).tolist():
        j = int(at[i])
        same = _same_rows(spans_floor_b, i, spans_floor_a, j) and _same_rows(
            spans_count_b, i, spans_count_a, j
        )
        changed[i] = not same
    return changed  # type: ignore[no-any-return]


def _same_rows(a: _Spans, i: int, b: _Spans, j: int) -> bool:
    """Whether cell i of spans ``a`` and cell j of spans ``b`` have the same row spans."""
    rows_a = slice(int(a[0][i]), int(a[0][i + 1]))
    rows_b = slice(int(b[0][j]), int(b[0][j + 1]))
    return bool(np.array_equal(a[1][rows_a], b[1][rows_b]) and np.array_equal(a[2][rows_a], b[2][rows_b]))


def _rect(box: NDArray[np.int64], cells: _Cells, k: int, scene: Scene) -> _Rect | None:
    """A cell's window on the grid from its box (as the kernel clips it), None where it misses."""
    r0, r1, c0, c1 = (int(v) for v in box)
    sr, sc = int(cells.row[k]), int(cells.col[k])
    grid = scene.grid
    rect = (max(sr + r0, 0), min(sr + r1 + 1, grid.height), max(sc + c0, 0), min(sc + c1 + 1, grid.width))
    return rect if rect[0] < rect[1] and rect[2] < rect[3] else None


def _meeting(
    cells: _Cells, boxes: tuple[NDArray[np.int64], NDArray[np.int64]], rects: list[_Rect]
) -> NDArray[np.intp]:
    """The cells whose floor or count box meets one of ``rects``."""
    hit = np.zeros(len(cells.row), dtype=bool)
    for box in boxes:
        top, bottom = cells.row + box[:, 0], cells.row + box[:, 1] + 1
        left, right = cells.col + box[:, 2], cells.col + box[:, 3] + 1
        for r0, r1, c0, c1 in rects:
            hit |= (top < r1) & (bottom > r0) & (left < c1) & (right > c0)
    return np.flatnonzero(hit)


def _merge_rects(rects: list[_Rect | None]) -> list[_Rect]:
    """Disjoint rectangles covering ``rects``: overlapping ones are replaced by their bounding box
    until none overlap (sorted by row, then column)."""
    out: list[_Rect] = []
    for rect in (r for r in rects if r is not None):
        merged = True
        while merged:  # a grown rectangle may now overlap others already kept
            merged = False
            keep = []
            for other in out:
                if other[0] < rect[1] and rect[0] < other[1] and other[2] < rect[3] and rect[2] < other[3]:
                    rect = (
                        min(rect[0], other[0]),
                        max(rect[1], other[1]),
                        min(rect[2], other[2]),
                        max(rect[3], other[3]),
                    )
                    merged = True
                else:
                    keep.append(other)
            out = keep
        out.append(rect)
    return sorted(out)


_REMAP_ROWS = 256  # rows per chunk of the server renumbering (temporaries stay in cache)


def _renumbered_servers(server: NDArray[np.int32], diff: _Diff, n_before: int) -> NDArray[np.int32]:
    """The base's server raster with the cell indices of the new order (a removed or changed cell
    serves only inside the recomputed windows, which are overwritten)."""
    lut = np.full(n_before + 2, -1, dtype=np.int32)  # -2 and -1 wrap to the last two entries
    lut[n_before] = -2  # NODATA_SERVER
    lut[diff.same_old] = diff.same_new
    lut[diff.modified_old] = diff.modified_new
    if np.array_equal(lut[:n_before], np.arange(n_before)):
        return server.copy()
    out = np.empty_like(server)
    for r in range(0, server.shape[0], _REMAP_ROWS):
        lut.take(server[r : r + _REMAP_ROWS], out=out[r : r + _REMAP_ROWS], mode="wrap")
    return out


def _base_classes(scene: Scene, base: OperatorCoverage, operators: list[str]) -> dict[str, NDArray[np.uint8]]:
    """Per operator after the change, its base class raster itself (copied by the caller on its
    first change: an operator whose classes no window changes shares the base's array, which no
    code writes to); for an operator new to the technology, class none inside the province (no
    cell of it reaches outside the windows)."""
    out = {}
    for op in operators:
        known = base.classes_by_operator.get(op)
        out[op] = (
            np.where(scene.inside, np.uint8(0), NODATA_CLASS).astype(np.uint8) if known is None else known
        )
    return out


# -- statistics ---------------------------------------------------------------------------------

_COMMUNE_ALL_ONLY = ("operators_good",)
_HAMLET_ALL_ONLY = ("operators_good", "status", "best_rsrp_dbm", "best_cell_id", "best_operator")


def affected_units(
    scene: Scene, prepared: StatisticsInputs, windows: tuple[Window, ...]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows of the hamlets and of the communes whose statistics a change inside ``windows`` can alter.

    A hamlet is affected when a pixel of its footprint or the pixel of its anchor point lies in a
    window; a commune when one of its pixels does, or one of its hamlets is affected.

    Parameters
    ----------
    scene : Scene
    prepared : StatisticsInputs
        :func:`analysis.coverage_stats.prepare_statistics` of the scene.
    windows : tuple of (slice, slice)
        Pixel windows, e.g. :attr:`CoverageUpdate.windows`.

    Returns
    -------
    (ndarray, ndarray)
        Hamlet rows (of ``prepared.hamlets``) and commune rows (of ``scene.communes``), ascending.
    """
    grid = scene.grid
    pix, unit = prepared.pixels
    in_window = np.zeros(grid.shape, dtype=bool)
    hit_commune = np.zeros(len(scene.communes), dtype=bool)
    for rows, cols in windows:
        in_window[rows, cols] = True
        present = np.unique(scene.commune[rows, cols])
        hit_commune[present[present >= 0]] = True
    hit_ham = np.zeros(len(prepared.hamlets), dtype=bool)
    hit_ham[unit[in_window.ravel()[pix]]] = True
    row, col = grid.rowcol(prepared.anchors_xy[:, 0], prepared.anchors_xy[:, 1])
    on = (row >= 0) & (row < grid.height) & (col >= 0) & (col < grid.width)  # NaN anchors are off
    hit_ham[np.flatnonzero(on)[in_window[row[on], col[on]]]] = True
    ham_commune = _hamlet_communes(scene, prepared)
    hit_commune[ham_commune[hit_ham & (ham_commune >= 0)]] = True
    return np.flatnonzero(hit_ham), np.flatnonzero(hit_commune)


def _hamlet_communes(scene: Scene, prepared: StatisticsInputs) -> NDArray[np.int64]:
    """Row of each hamlet's commune in ``scene.communes`` (-1 unknown), as the statistics map it."""
    commune_row = pd.Series(np.arange(len(scene.communes)), index=scene.communes["commune_id"].astype(str))
    mapped = prepared.hamlets["commune_id"].astype(str).map(commune_row)
    return mapped.fillna(-1).astype(int).to_numpy().astype(np.int64)


def update_statistics(
    scene: Scene,
    base: CoverageStats,
    update: CoverageUpdate,
    *,
    prepared: StatisticsInputs,
    params: CoverageParams,
    population: NDArray[np.floating] | None = None,
) -> CoverageStats:
    """Statistics of ``update.coverage``, recomputed only for the hamlets and communes it can alter.

    Parameters
    ----------
    scene : Scene
        The scene of the coverage.
    base : CoverageStats
        :func:`analysis.coverage_stats.coverage_statistics` of the base coverage (the one passed to
        :func:`update_coverage_by_operator`) with the same ``prepared``, parameters and population.
    update : CoverageUpdate
        From :func:`update_coverage_by_operator`.
    prepared : StatisticsInputs, keyword-only
        :func:`analysis.coverage_stats.prepare_statistics` of the scene and hamlets.
    params : CoverageParams, keyword-only
    population : ndarray, optional, keyword-only
        Persons per pixel, as given to the base statistics.

    Returns
    -------
    CoverageStats
        Equal to ``coverage_statistics(scene, update.coverage, hamlets, params=params,
        population=population, prepared=prepared)``. The rows of the hamlets and communes of
        :func:`affected_units` are recomputed, the others copied; the rows of an operator new to the
        technology are computed for every hamlet and commune, and an operator that disappeared loses
        its rows.

    Raises
    ------
    ParameterError
        ``base`` does not hold one block of rows per operator for these hamlets and communes.
    """
    coverage = update.coverage
    tech = params.tech(coverage.combined.technology)
    n_ham, n_com = len(prepared.hamlets), len(scene.communes)
    if n_ham == 0 or n_com == 0:  # no rows to keep: the whole (small) computation
        return coverage_statistics(
            scene, coverage, prepared.hamlets, params=params, population=population, prepared=prepared
        )
    base_keys = _blocks(base.hamlets, n_ham, "hamlet")
    if _blocks(base.communes, n_com, "commune") != base_keys or base_keys[:1] != [ALL_OPERATORS]:
        raise ParameterError("statistics update: the base hamlet and commune tables do not match")
    keys = [ALL_OPERATORS, *coverage.classes_by_operator]
    ham_rows, com_rows = affected_units(scene, prepared, update.windows)
    rasters = {ALL_OPERATORS: _classify_all(coverage.combined.rsrp_dbm, tech, _compiled_counts() is not None)}
    rasters.update(coverage.classes_by_operator)
    shares = _hamlet_share_tables(scene, base.hamlets, base_keys, prepared, rasters, ham_rows, population)
    classes = {key: _median_class(table) for key, table in shares.items()}
    ham_commune = _hamlet_communes(scene, prepared)
    hh = pd.to_numeric(prepared.hamlets["households"], errors="coerce").fillna(0).to_numpy(dtype=float)
    hh_shares = {key: _household_shares(shares[key], ham_commune, hh, n_com) for key in keys}
    hamlet_blocks, commune_blocks = [], []
    for key in keys:
        rows_h = ham_rows if key in base_keys else np.arange(n_ham)
        rows_c = com_rows if key in base_keys else np.arange(n_com)
        block = _block(base.hamlets, base_keys, key, n_ham, _HAMLET_ALL_ONLY)
        _assign(
            block,
            rows_h,
            "coverage_class",
            [CLASS_NAMES[c] if c >= 0 else "outside" for c in classes[key][rows_h]],
        )
        _assign_shares(block, rows_h, "household_share", shares[key][rows_h])
        hamlet_blocks.append(block)
        block = _block(base.communes, base_keys, key, n_com, _COMMUNE_ALL_ONLY)
        _assign_shares(
            block, rows_c, "area_share", _shares_of_counts(_commune_counts(scene, rasters[key], rows_c))
        )
        _assign_shares(block, rows_c, "household_share", hh_shares[key][rows_c])
        if population is not None:
            pop = _commune_population_shares(scene, rasters[key], rows_c, population)
            _assign_shares(block, rows_c, "population_share", pop)
        commune_blocks.append(block)
    ops = list(coverage.classes_by_operator)
    _set_all_hamlet_columns(scene, coverage, hamlet_blocks[0], ham_rows, prepared, classes, ops, params)
    good = CLASS_NAMES.index("good")
    ops_good = np.zeros(n_com, dtype=np.int64)
    for op in ops:
        share = np.nan_to_num(hh_shares[op][:, good])
        ops_good += share >= params.statistics.commune_operator_household_share
    _assign(commune_blocks[0], com_rows, "operators_good", pd.array(ops_good[com_rows], dtype="Int64"))
    return CoverageStats(
        gpd.GeoDataFrame(pd.concat(commune_blocks, ignore_index=True), geometry="geometry", crs=4326),
        gpd.GeoDataFrame(pd.concat(hamlet_blocks, ignore_index=True), geometry="geometry", crs=4326),
        None if base.footprints is None else base.footprints.copy(),
    )


def _blocks(frame: pd.DataFrame, n: int, what: str) -> list[str]:
    """The operator (or "all") of each block of ``n`` rows of a statistics table, in order."""
    operators = frame["operator"].astype(str).to_numpy()
    if n == 0 or len(operators) % n:
        raise ParameterError(f"statistics update: the base {what} table does not have {n} rows per operator")
    blocks = operators.reshape(-1, n)
    if not (blocks == blocks[:, :1]).all():
        raise ParameterError(f"statistics update: the base {what} table is not in blocks of one operator")
    return [str(v) for v in blocks[:, 0]]


def _block(frame: pd.DataFrame, keys: list[str], key: str, n: int, all_only: tuple[str, ...]) -> pd.DataFrame:
    """A copy of the base rows of ``key``; for an operator the base lacks, the "all" rows without
    their "all"-only columns and with the operator's name (every per-operator value is then set)."""
    if key in keys:
        at = keys.index(key) * n
        return pd.DataFrame(frame.iloc[at : at + n]).copy()
    block = pd.DataFrame(frame.iloc[:n]).drop(columns=[c for c in all_only if c in frame.columns])
    block["operator"] = key
    return block


def _assign(frame: pd.DataFrame, rows: NDArray[np.intp], column: str, values: object) -> None:
    """Set ``column`` on the rows at positions ``rows`` (dtype kept)."""
    if len(rows):
        frame.iloc[rows, frame.columns.get_loc(column)] = values


def _assign_shares(
    frame: pd.DataFrame, rows: NDArray[np.intp], prefix: str, shares: NDArray[np.float64]
) -> None:
    """Set the ``<prefix>_<class>`` columns of ``rows`` from (len(rows), classes) shares."""
    for i, name in enumerate(CLASS_NAMES):
        _assign(frame, rows, f"{prefix}_{name}", shares[:, i])


def _hamlet_share_tables(
    scene: Scene,
    hamlets: pd.DataFrame,
    base_keys: list[str],
    prepared: StatisticsInputs,
    rasters: dict[str, NDArray[np.uint8]],
    rows: NDArray[np.intp],
    population: NDArray[np.floating] | None,
) -> dict[str, NDArray[np.float64]]:
    """Per key, every hamlet's class shares: the base's, with those of ``rows`` recomputed (all of
    them for a key the base lacks), from the footprint pixels of those hamlets only."""
    n = len(prepared.hamlets)
    pix, unit = prepared.pixels
    chosen = np.zeros(n, dtype=bool)
    chosen[rows] = True
    mine = chosen[unit]
    known = {key: raster for key, raster in rasters.items() if key in base_keys}
    fresh = {key: raster for key, raster in rasters.items() if key not in base_keys}
    out: dict[str, NDArray[np.float64]] = {}
    if known:
        part = footprint_class_shares(
            prepared.footprints,
            scene.grid,
            known,
            anchors_xy=prepared.anchors_xy,
            population=population,
            pixels=(pix[mine], unit[mine]),
        )
        columns = [f"household_share_{name}" for name in CLASS_NAMES]
        for key, shares in part.items():
            at = base_keys.index(key) * n
            table = hamlets.iloc[at : at + n][columns].to_numpy(dtype=np.float64, copy=True)
            table[rows] = shares[rows]
            out[key] = table
    if fresh:
        out.update(
            footprint_class_shares(
                prepared.footprints,
                scene.grid,
                fresh,
                anchors_xy=prepared.anchors_xy,
                population=population,
                pixels=prepared.pixels,
            )
        )
    return {key: out[key] for key in rasters}


def _set_all_hamlet_columns(
    scene: Scene,
    coverage: OperatorCoverage,
    frame: pd.DataFrame,
    rows: NDArray[np.intp],
    prepared: StatisticsInputs,
    classes: dict[str, NDArray[np.int64]],
    operators: list[str],
    params: CoverageParams,
) -> None:
    """The "all" hamlet rows' operator count, status and best server, on ``rows``."""
    if not len(rows):
        return
    n = len(prepared.hamlets)
    good = CLASS_NAMES.index("good")
    served_code = CLASS_NAMES.index(params.statistics.served_min_class)
    served = _operators_reaching(classes, operators, served_code, n)[rows]
    _assign(
        frame,
        rows,
        "operators_good",
        pd.array(_operators_reaching(classes, operators, good, n)[rows], dtype="Int64"),
    )
    _assign(frame, rows, "status", hamlet_status(classes[ALL_OPERATORS][rows], served, params))
    best = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    _add_best_server(best, prepared.anchors_xy[rows], scene, coverage)
    for column in best.columns:
        _assign(frame, rows, str(column), best[column].to_numpy())


def _commune_windows(scene: Scene, rows: NDArray[np.intp]) -> list[tuple[slice, slice]]:
    """Pixel window holding each commune's pixels (its polygon's bounds, one pixel wider)."""
    grid = scene.grid
    res = grid.resolution_m
    out = []
    for minx, miny, maxx, maxy in scene.communes.geometry.iloc[rows].bounds.to_numpy():
        if not np.isfinite([minx, miny, maxx, maxy]).all():
            out.append((slice(0, 0), slice(0, 0)))
            continue
        c0 = max(int(np.floor((minx - grid.left_m) / res)) - 1, 0)
        c1 = min(int(np.ceil((maxx - grid.left_m) / res)) + 1, grid.width)
        r0 = max(int(np.floor((grid.top_m - maxy) / res)) - 1, 0)
        r1 = min(int(np.ceil((grid.top_m - miny) / res)) + 1, grid.height)
        out.append((slice(r0, max(r1, r0)), slice(c0, max(c1, c0))))
    return out


def _commune_counts(scene: Scene, raster: NDArray[np.uint8], rows: NDArray[np.intp]) -> NDArray[np.int64]:
    """(len(rows), classes) pixel counts per class of the communes at ``rows`` (nodata left out)."""
    k = len(CLASS_NAMES)
    out = np.zeros((len(rows), k), dtype=np.int64)
    for i, (commune, window) in enumerate(zip(rows.tolist(), _commune_windows(scene, rows), strict=True)):
        cls = raster[window][scene.commune[window] == commune]
        out[i] = np.bincount(cls[cls < k], minlength=k)[:k]
    return out


def _commune_population_shares(
    scene: Scene, raster: NDArray[np.uint8], rows: NDArray[np.intp], population: NDArray[np.floating]
) -> NDArray[np.float64]:
    """(len(rows), classes) population-weighted class shares of the communes at ``rows``, summed
    over their pixels in grid order (as the whole-table computation does)."""
    out = np.full((len(rows), len(CLASS_NAMES)), np.nan)
    pop = np.asarray(population)
    for i, (commune, window) in enumerate(zip(rows.tolist(), _commune_windows(scene, rows), strict=True)):
        mine = scene.commune[window] == commune
        cls = raster[window][mine]
        out[i] = _class_shares(np.zeros(len(cls), dtype=np.int64), cls, 1, weights=pop[window][mine])[0]
    return out
