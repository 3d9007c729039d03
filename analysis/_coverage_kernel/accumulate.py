"""The kernel's entry point: every block of the grid, in parallel."""

from __future__ import annotations

import numpy as np

from analysis._coverage_kernel._jit import _INF, _RUN, _SUB_PX, _W, numba
from analysis._coverage_kernel.blocks import _balanced_chunks
from analysis._coverage_kernel.bounds import _candidates, _classify
from analysis._coverage_kernel.evaluate import _best_all, _count_rest


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _load_block(env, inside, bi0, bi1, bj0, bj1, floor, sub):  # pragma: no cover - compiled
    """Block copies, ``_W`` columns wide (padded past the grid's edge): environment (0 outside), best
    (floor; +inf outside, never updated), the bit set of the environments inside the block and per
    strip of ``sub`` rows."""
    h = bi1 - bi0
    w = bj1 - bj0
    env_l = np.zeros((h, _W), dtype=np.uint8)
    best_l = np.full((h, _W), _INF, dtype=np.float32)
    strip_bits = np.zeros((h + sub - 1) // sub, dtype=np.int64)
    for i in range(h):
        bits = 0
        for j in range(w):
            if inside[bi0 + i, bj0 + j]:
                e = env[bi0 + i, bj0 + j]
                env_l[i, j] = e
                bits |= 1 << e
                best_l[i, j] = floor
        strip_bits[i // sub] |= bits
    bits = 0
    for s in range(strip_bits.shape[0]):
        bits |= strip_bits[s]
    return env_l, best_l, bits, strip_bits


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _classes(level, thresholds, out, base, nodata):  # pragma: no cover - compiled
    """Class per pixel: how many (ascending) thresholds the level reaches (as ``classify_rsrp``);
    ``nodata`` outside the province (``base`` +inf)."""
    h, w = level.shape
    for i in range(h):
        for j in range(w):
            c = 0
            for t in thresholds:
                c += level[i, j] >= t
            out[i, j] = nodata if base[i, j] == _INF else c


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _block(
    b,
    n_bc,
    env,
    inside,
    best,
    server,
    count,
    class_groups,
    thresholds,
    pair_start,
    pair_cell,
    count_start,
    count_cell,
    cells,
    group,
    cap,
    nodata,
    args,
):
    """Process one block (its pixels are written by this call only); return the evaluations."""
    floor = args[11]  # pragma: no cover - compiled
    height, width = best.shape
    bi0 = (b // n_bc) * _W
    bj0 = (b % n_bc) * _W
    bi1 = min(bi0 + _W, height)
    bj1 = min(bj0 + _W, width)
    env_l, base_l, bits, strip_bits = _load_block(env, inside, bi0, bi1, bj0, bj1, floor, _SUB_PX)
    if bits == 0:  # wholly outside the province
        best[bi0:bi1, bj0:bj1] = nodata[0]
        server[bi0:bi1, bj0:bj1] = nodata[1]
        count[bi0:bi1, bj0:bj1] = nodata[2]
        if class_groups.shape[0] > 1:
            class_groups[:, bi0:bi1, bj0:bj1] = nodata[3]
        return 0
    count_l = np.zeros(base_l.shape, dtype=np.uint16)
    ks = pair_cell[pair_start[b] : pair_start[b + 1]]
    kc = count_cell[count_start[b] : count_start[b + 1]]
    n_groups = class_groups.shape[0]
    ub, lb, partial, sure = _classify(ks, kc, group, n_groups, (bi0, bi1, bj0, bj1), bits, cells, args)
    if sure >= cap:  # every pixel has at least ``cap`` servers: the capped count is known
        partial[:] = False
    steps = thresholds if n_groups > 1 else thresholds[:0]  # classes per group only with groups
    order, low = _candidates(ub, lb, ks, group, n_groups, floor, steps)
    counted = np.zeros((ks.shape[0], strip_bits.shape[0]), dtype=np.bool_)
    w = bj1 - bj0
    best_l, server_l, group_best, evaluations = _best_all(
        order,
        ub,
        ks,
        partial,
        counted,
        bi0,
        bj0,
        w,
        strip_bits,
        env_l,
        base_l,
        count_l,
        cells,
        group,
        steps,
        low,
        args,
    )
    for g in range(group_best.shape[0]):
        _classes(group_best[g, :, :w], thresholds, class_groups[g, bi0:bi1, bj0:bj1], base_l, nodata[3])
    if sure < cap:
        evaluations += _count_rest(
            ks,
            partial,
            counted,
            bi0,
            bj0,
            w,
            strip_bits,
            env_l,
            base_l,
            count_l,
            sure,
            cells,
            args,
            _SUB_PX,
            cap,
        )
    for i in range(bi1 - bi0):
        for j in range(w):
            if base_l[i, j] == _INF:  # outside the province
                best[bi0 + i, bj0 + j] = nodata[0]
                server[bi0 + i, bj0 + j] = nodata[1]
                count[bi0 + i, bj0 + j] = nodata[2]
            else:
                best[bi0 + i, bj0 + j] = best_l[i, j]
                server[bi0 + i, bj0 + j] = server_l[i, j]
                count[bi0 + i, bj0 + j] = min(np.int64(count_l[i, j]) + sure, cap)
    return evaluations


@numba.njit(cache=True, parallel=True, nogil=True, boundscheck=False)
def accumulate_cells(
    env,
    inside,
    best,
    server,
    count,
    class_groups,
    thresholds,
    group,
    pair_start,
    pair_cell,
    count_start,
    count_cell,
    cap,
    nodata,
    cells,
    n_steps,
    flat,
    lower,
    upper,
    bearing,
    radius,
    am,
    boxes_count,
    boxes_floor,
    spans_count,
    spans_floor,
    floor,
    thr,
):  # pragma: no cover - compiled
    """Fill ``best``/``server``/``count`` block by block, in parallel; return the evaluations made.

    ``pair_start``/``pair_cell`` and ``count_start``/``count_cell`` list, per block, the cells whose
    floor and count outlines touch it (:func:`block_pairs`). ``group`` (per cell, 0..G-1, cells
    ordered by group) splits the cells, e.g. by operator: with ``class_groups`` (uint8) of shape
    (G, H, W) and G > 1 it also receives each group's class (number of ``thresholds``, ascending, at
    or below the group's best level). Every pixel of ``best``, ``server``, ``count`` (uint8) and the
    group classes is written (they may come uninitialised): the floor and -1 where no cell reaches,
    counts capped at ``cap`` (at most 255: the cells beyond it are not counted), and outside the
    province the ``nodata`` values (level, server, count, class).
    """
    height, width = best.shape
    n_bc = (width + _W - 1) // _W
    n_blocks = ((height + _W - 1) // _W) * n_bc
    n_runs = (n_blocks + _RUN - 1) // _RUN
    n_chunks = max(min(n_runs // 4, 64), 1)  # a few runs per chunk: equal work per chunk possible
    chunk_start, chunk_run = _balanced_chunks(pair_start, count_start, n_blocks, n_runs, n_chunks)
    done = np.zeros(n_chunks, dtype=np.int64)
    for c in numba.prange(n_chunks):
        args = (
            n_steps,
            flat,
            lower,
            upper,
            bearing,
            radius,
            am,
            boxes_count,
            boxes_floor,
            spans_count,
            spans_floor,
            floor,
            thr,
        )
        total = 0
        # runs of _RUN consecutive blocks along a row share most of their cells (their data, tables
        # and bearings stay in cache); each chunk has about the same work (_balanced_chunks)
        for at in range(chunk_start[c], chunk_start[c + 1]):
            run = chunk_run[at]
            for b in range(run * _RUN, min((run + 1) * _RUN, n_blocks)):
                total += _block(
                    b,
                    n_bc,
                    env,
                    inside,
                    best,
                    server,
                    count,
                    class_groups,
                    thresholds,
                    pair_start,
                    pair_cell,
                    count_start,
                    count_cell,
                    cells,
                    group,
                    cap,
                    nodata,
                    args,
                )
        done[c] = total
    return done.sum()
