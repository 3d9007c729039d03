"""The engine's plan: path-loss tables per (model, band, height), each cell's reach per direction and
its box on the grid, bearing kernels, sector patterns."""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analysis._parallel import KERNEL_LOCK
from analysis.coverage_cells import _Cells
from analysis.coverage_params import CoverageParams
from analysis.linkbudget import sector_gain_db
from analysis.propagation import path_loss_db

_BEARING_STEPS = 3600

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
