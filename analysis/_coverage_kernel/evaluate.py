"""Pixel evaluation of a block: the server count and the best server (with each group's class),
skipping what the bounds prove cannot change."""

from __future__ import annotations

import numpy as np

from analysis._coverage_kernel._jit import _INF, _SUB_PX, _W, _rows_min, _signal, numba
from analysis._coverage_kernel.bounds import _bounds, _cutoff, _next_step


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _window(row, col, origin, rect, box):  # pragma: no cover - compiled
    """A cell at pixel (row, col): its position (sr, sc) relative to the block origin (bi0, bj0) and
    the part (i0, i1, j0, j1) of its box within ``rect`` = (r0, r1, c0, c1), in block coordinates."""
    sr = row - origin[0]
    sc = col - origin[1]
    r0, r1, c0, c1 = rect
    i0, i1 = max(r0, sr + box[0]), min(r1, sr + box[1] + 1)
    return sr, sc, i0, i1, max(c0, sc + box[2]), min(c1, sc + box[3] + 1)


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _apply(k, origin, rect, env, best, server, count, do_count, group_best, cells, box, spans, args):
    """Evaluate cell k on the block's pixels [r0, r1) x [c0, c1) (block coordinates) inside its span;
    update best (ties: lowest k), the best of the cell's group ``group_best`` (unless it has no rows)
    and, when ``do_count``, the count. The block's first pixel is ``origin`` = (bi0, bj0), ``rect`` =
    (r0, r1, c0, c1). Return the evaluations."""
    rows, cols, table_off, ref, az, bw = cells  # pragma: no cover - compiled
    _, flat, _, _, bearing, radius, am, _, _, _, _, _, thr = args
    sr, sc, i0, i1, j0, j1 = _window(rows[k], cols[k], origin, rect, box)
    if i0 >= i1 or j0 >= j1:
        return 0
    inv = np.float32(1.0) / bw[k]
    kk = np.int32(k)
    off = table_off[k]
    rk = ref[k]
    ak = az[k]
    shift = radius - sc
    grouped = group_best.shape[0] > 0
    evaluations = 0
    for i in range(i0, i1):
        di = i - sr
        span = spans[0][k] + di - box[0]
        ja = max(j0, sc + np.int64(spans[1][span]))
        jb = min(j1, sc + np.int64(spans[2][span]) + 1)
        if ja >= jb:
            continue
        env_row = env[i]
        best_row = best[i]
        server_row = server[i]
        count_row = count[i]
        group_row = group_best[i] if grouped else best_row
        brg_row = bearing[di + radius]
        for ju in range(np.uint64(ja), np.uint64(jb)):
            j = np.int64(ju)
            dj = j - sc
            v = _signal(
                flat, off, rk, di * di + dj * dj, env_row[ju], ak, brg_row[np.uint64(j + shift)], inv, am
            )
            count_row[ju] += np.uint16(do_count and v >= thr)
            b = best_row[ju]
            s = server_row[ju]
            better = (v > b) | ((v == b) & (kk < s))  # branch-free: ties go to the lower index
            best_row[ju] = v if better else b
            server_row[ju] = kk if better else s
            if grouped:
                group_row[ju] = max(group_row[ju], v)
        evaluations += jb - ja
    return evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _count_only(k, origin, rect, env, count, cells, box, spans, args):
    """Add cell k's server count on the block's pixels [r0, r1) x [c0, c1) (block coordinates) inside
    its count span (``origin`` and ``rect`` as in :func:`_apply`); return evaluations."""
    rows, cols, table_off, ref, az, bw = cells  # pragma: no cover - compiled
    _, flat, _, _, bearing, radius, am, _, _, _, _, _, thr = args
    sr, sc, i0, i1, j0, j1 = _window(rows[k], cols[k], origin, rect, box)
    if i0 >= i1 or j0 >= j1:
        return 0
    inv = np.float32(1.0) / bw[k]
    off = table_off[k]
    rk = ref[k]
    ak = az[k]
    shift = radius - sc
    evaluations = 0
    for i in range(i0, i1):
        di = i - sr
        span = spans[0][k] + di - box[0]
        ja = max(j0, sc + np.int64(spans[1][span]))
        jb = min(j1, sc + np.int64(spans[2][span]) + 1)
        if ja >= jb:
            continue
        env_row = env[i]
        count_row = count[i]
        brg_row = bearing[di + radius]
        for ju in range(np.uint64(ja), np.uint64(jb)):
            j = np.int64(ju)
            dj = j - sc
            v = _signal(
                flat, off, rk, di * di + dj * dj, env_row[ju], ak, brg_row[np.uint64(j + shift)], inv, am
            )
            count_row[ju] += np.uint16(v >= thr)
        evaluations += jb - ja
    return evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _strip_min_count(count, base, r0, r1):  # pragma: no cover - compiled
    """Least count over the pixels of rows [r0, r1) inside the province (``base`` finite); 65535 if
    none is."""
    m = 65535
    for i in range(r0, r1):
        for j in range(count.shape[1]):
            if base[i, j] != _INF:
                m = min(m, np.int64(count[i, j]))
    return m


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _count_rest(ks, partial, counted, bi0, bj0, w, strip_bits, env, base, count, sure, cells, args, sub, cap):
    """Server count of the cells that reach the count threshold on part of the block only
    (``partial``), on the strips of ``sub`` rows where it was not counted yet (``counted[p, s]``: the
    strip was evaluated for the best server). Strip by strip: bounds first (the cell reaches the
    threshold on the whole strip, or nowhere in it), pixel evaluation only where they straddle it,
    and none once every pixel of the strip inside the province has ``cap`` servers (the count is
    capped at ``cap``; ``sure`` cells reach it on the whole block). Return evaluations."""
    _, _, _, _, _, _, _, boxes_count, _, spans_count, _, _, thr = args
    h = count.shape[0]
    straddle = np.empty(ks.shape[0], dtype=np.int64)
    evaluations = 0
    for s in range((h + sub - 1) // sub):
        r0 = s * sub
        r1 = min(r0 + sub, h)
        have = sure + _strip_min_count(count, base, r0, r1)  # every pixel has at least this many
        whole = 0
        m = 0
        for p in range(ks.shape[0]):
            if have + whole >= cap:
                break  # every pixel of the strip is at the cap already
            if not partial[p] or counted[p, s]:
                continue
            k = ks[p]
            u, lo = _bounds(
                k, (bi0 + r0, bi0 + r1, bj0, bj0 + w), strip_bits[s], cells, boxes_count[k], args, thr
            )
            if u < thr:
                continue
            if lo >= thr:
                whole += 1
            else:
                straddle[m] = p
                m += 1
        need = cap - sure - whole
        if m > 0 and have + whole < cap:
            for i in range(m):
                k = ks[straddle[i]]
                evaluations += _count_only(
                    k, (bi0, bj0), (r0, r1, 0, w), env, count, cells, boxes_count[k], spans_count, args
                )
                if i % 4 == 3 and i + 1 < m and _strip_min_count(count, base, r0, r1) >= need:
                    break  # every pixel of the strip is at the cap
        if whole > 0:
            count[r0:r1, :] += np.uint16(whole)
    return evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _apply_pruned(
    k,
    p,
    g,
    bi0,
    bj0,
    w,
    strip_bits,
    env,
    best,
    server,
    count,
    do_count,
    counted,
    group_best,
    strip_min,
    group_min,
    steps,
    cells,
    args,
    sub,
):
    """:func:`_apply` per strip of ``sub`` rows of the block, skipping the strips where the cell can
    change neither a pixel's best (its upper bound is below the strip's weakest best ``strip_min[s]``)
    nor, when ``steps`` (class thresholds) are given, the class of its group ``g`` (its upper bound is
    below the next threshold above the group's weakest best ``group_min[g, s]``). With ``do_count``
    the cell's count is added on the strips it evaluates, marked in ``counted[p]`` (the others are
    left to :func:`_count_rest`). ``strip_min`` and ``group_min`` are kept up to date. Return
    evaluations."""  # pragma: no cover - compiled
    _, _, _, _, _, _, _, _, boxes_floor, _, spans_floor, _, _ = args
    h = best.shape[0]
    grouped = steps.shape[0] > 0
    no_group = group_best[:0, 0]  # 0 x _W: _apply then updates no group best
    evaluations = 0
    for s in range((h + sub - 1) // sub):
        r0 = s * sub
        r1 = min(r0 + sub, h)
        cut = min(strip_min[s], _next_step(steps, group_min[g, s])) if grouped else strip_min[s]
        u, _ = _bounds(k, (bi0 + r0, bi0 + r1, bj0, bj0 + w), strip_bits[s], cells, boxes_floor[k], args, cut)
        if u >= cut:  # may raise (or tie) some pixel's best, or the class of its group somewhere
            evaluations += _apply(
                k,
                (bi0, bj0),
                (r0, r1, 0, w),
                env,
                best,
                server,
                count,
                do_count,
                group_best[g] if grouped else no_group,
                cells,
                boxes_floor[k],
                spans_floor,
                args,
            )
            counted[p, s] = do_count
            strip_min[s] = _rows_min(best, r0, r1)
            if grouped:
                group_min[g, s] = _rows_min(group_best[g], r0, r1)
    return evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _best_all(
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
):
    """Best level and server on the block over all candidate cells, and with class ``steps`` a level
    per group that has the class of the group's best; return ``(best, server, group_best,
    evaluations)``.

    Cells are evaluated in decreasing order of upper bound, per strip only where they can change a
    pixel's best or the class of their group there (:func:`_apply_pruned`). Each group's level
    starts from ``low[g]``, a lower bound of its best on the block (:func:`_candidates`), and rises
    with the levels of the cells evaluated; a cell skipped for its group is below the next class
    threshold wherever that level is, so it cannot change the group's class: ``group_best`` has the
    class of the group's best, though not always its value. The count of the ``partial`` cells is
    added on the strips they evaluate (marked in ``counted``)."""  # pragma: no cover - compiled
    floor = args[11]
    h = base_l.shape[0]
    best_l = base_l.copy()
    server_l = np.full(best_l.shape, -1, dtype=np.int32)
    n_strips = strip_bits.shape[0]
    n_groups = low.shape[0]
    grouped = steps.shape[0] > 0
    group_best = np.empty((n_groups if grouped else 0, h, _W), dtype=np.float32)
    strip_min = np.empty(n_strips, dtype=np.float32)
    group_min = np.empty((n_groups, n_strips), dtype=np.float32)
    for g in range(group_best.shape[0]):
        for i in range(h):
            for j in range(_W):
                group_best[g, i, j] = max(base_l[i, j], low[g])  # +inf outside stays
    for s in range(n_strips):
        strip_min[s] = _rows_min(best_l, s * _SUB_PX, min((s + 1) * _SUB_PX, h))
        for g in range(n_groups):
            if grouped:
                group_min[g, s] = _rows_min(group_best[g], s * _SUB_PX, min((s + 1) * _SUB_PX, h))
            else:
                group_min[g, s] = strip_min[s]
    evaluations = 0
    for o in range(order.shape[0]):
        p = order[o]
        k = ks[p]
        u = ub[p]
        if u <= floor:
            break  # cannot beat the floor (equal levels never update) nor reach the lowest class
        if u < _cutoff(strip_min, group_min, steps, -1):
            break  # cannot change anything, nor can the weaker cells after it
        g = group[k]
        if u < _cutoff(strip_min, group_min, steps, g):
            continue
        evaluations += _apply_pruned(
            k,
            p,
            g,
            bi0,
            bj0,
            w,
            strip_bits,
            env_l,
            best_l,
            server_l,
            count_l,
            partial[p],
            counted,
            group_best,
            strip_min,
            group_min,
            steps,
            cells,
            args,
            _SUB_PX,
        )
    return best_l, server_l, group_best, evaluations
