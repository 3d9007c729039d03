"""Exact bounds of a cell's level over a block or strip, and which cells can matter there."""

from __future__ import annotations

import numpy as np

from analysis._coverage_kernel._jit import _INF, _SLACK_DB, _SLACK_DEG, _wrap, numba


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _off_boresight(bearing, radius, i0, i1, j0, j1, a):  # pragma: no cover - compiled
    """(min, max) angle off boresight ``a`` (deg) over pixel offsets [i0, i1) x [j0, j1) from the site."""
    if i0 <= 0 < i1 and j0 <= 0 < j1:
        return 0.0, 180.0
    c = np.float64(bearing[i0 + radius, j0 + radius])
    lo = 0.0
    hi = 0.0
    for ii in (i0, i1 - 1):
        for jj in (j0, j1 - 1):
            d = _wrap(np.float64(bearing[ii + radius, jj + radius]) - c)
            lo = min(lo, d)
            hi = max(hi, d)
    lo -= _SLACK_DEG
    hi += _SLACK_DEG
    d_az = _wrap(a - c)
    if lo <= d_az <= hi:
        t_min = 0.0
    else:
        t_min = min(abs(_wrap(d_az - lo)), abs(_wrap(d_az - hi)))
    d_back = _wrap(a + 180.0 - c)
    if lo <= d_back <= hi:
        t_max = 180.0
    else:
        t_max = max(abs(_wrap(d_az - lo)), abs(_wrap(d_az - hi)))
    return t_min, t_max


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _bounds(k, rect, env_bits, cells, box, args, cutoff):  # pragma: no cover - compiled
    """Bounds (ub, lb) of cell k's level over the rectangle ``rect`` = rows [bi0, bi1) x cols [bj0,
    bj1), with the environments present in ``env_bits``; ``args`` as in :func:`accumulate_cells`.

    ``lb`` is -inf when the block is not wholly inside the cell's box or table.
    """
    bi0, bi1, bj0, bj1 = rect
    n_steps, _, lower, upper, bearing, radius, am, _, _, _, _, _, _ = args
    rows, cols, table_off, ref, az, bw = cells
    sr = rows[k]
    sc = cols[k]
    i0 = max(bi0, sr + box[0]) - sr
    i1 = min(bi1, sr + box[1] + 1) - sr
    j0 = max(bj0, sc + box[2]) - sc
    j1 = min(bj1, sc + box[3] + 1) - sc
    if i0 >= i1 or j0 >= j1:
        return -_INF, -_INF
    whole = i0 == bi0 - sr and i1 == bi1 - sr and j0 == bj0 - sc and j1 == bj1 - sc
    ni = 0 if i0 <= 0 < i1 else min(abs(i0), abs(i1 - 1))
    nj = 0 if j0 <= 0 < j1 else min(abs(j0), abs(j1 - 1))
    fi = max(abs(i0), abs(i1 - 1))
    fj = max(abs(j0), abs(j1 - 1))
    q_near = max(int(max(np.sqrt(np.float64(ni * ni + nj * nj)), 0.5) * 4.0) - 1, 0)
    q_far = int(max(np.sqrt(np.float64(fi * fi + fj * fj)), 0.5) * 4.0) + 2
    off = table_off[k]
    if q_near >= n_steps[k]:
        return -_INF, -_INF
    loss_lo = _INF
    loss_hi = -_INF
    far_ok = whole and q_far < n_steps[k]
    for e in range(3):
        if env_bits & (1 << e):
            loss_lo = min(loss_lo, lower[off + 3 * q_near + e])
            if far_ok:
                loss_hi = max(loss_hi, upper[off + 3 * q_far + e])
    if ref[k] - loss_lo + _SLACK_DB < cutoff:  # out of reach whatever the angle: skip the pattern
        return ref[k] - loss_lo + _SLACK_DB, -_INF
    a = az[k]
    att_lo = np.float32(0.0)
    att_hi = np.float32(0.0)
    if a >= 0.0:
        t_min, t_max = _off_boresight(bearing, radius, i0, i1, j0, j1, np.float64(a))
        inv = 1.0 / np.float64(bw[k])
        att_lo = np.float32(min(12.0 * (t_min * inv) ** 2, np.float64(am)))
        att_hi = np.float32(min(12.0 * (t_max * inv) ** 2, np.float64(am)))
    ub = ref[k] - loss_lo - att_lo + _SLACK_DB
    lb = ref[k] - loss_hi - att_hi - _SLACK_DB if far_ok else -_INF
    return ub, lb


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _inside_box(box, cells, k, rect):  # pragma: no cover - compiled
    """Whether the rectangle (bi0, bi1, bj0, bj1) lies wholly inside cell k's box."""
    bi0, bi1, bj0, bj1 = rect
    sr = cells[0][k]
    sc = cells[1][k]
    return bi0 >= sr + box[0] and bi1 - 1 <= sr + box[1] and bj0 >= sc + box[2] and bj1 - 1 <= sc + box[3]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _classify(ks, kc, group, n_groups, rect, bits, cells, args):  # pragma: no cover - compiled
    """Bounds of the block's cells ``ks`` (floor outline touches the block) and their count status.

    ``kc`` (ascending, a subset of ``ks``) are the cells whose count outline touches the block: they
    get bounds (upper, lower) of their level over the block, and those that reach ``thr`` on part of
    it only are marked ``partial``; ``sure`` counts those that reach it on every pixel. The others
    are below ``thr`` on the whole block; they can only be their group's best where no cell of the
    group is surely at ``thr`` or above over the block, and get bounds only then. Cells left without
    bounds have bounds of -inf. ``args`` as in :func:`accumulate_cells`."""
    _, _, _, _, _, _, _, boxes_count, boxes_floor, _, _, floor, thr = args
    n = ks.shape[0]
    ub = np.full(n, -_INF, dtype=np.float32)
    lb = np.full(n, -_INF, dtype=np.float32)
    partial = np.zeros(n, dtype=np.bool_)
    outer = np.zeros(n, dtype=np.bool_)
    low = np.full(n_groups, floor, dtype=np.float32)
    sure = 0
    c = 0
    for p in range(n):
        k = ks[p]
        while c < kc.shape[0] and kc[c] < k:
            c += 1
        if c >= kc.shape[0] or kc[c] != k:
            outer[p] = True  # outside its count outline on the whole block: level < thr
            continue
        u, lo = _bounds(k, rect, bits, cells, boxes_floor[k], args, floor)
        ub[p] = u
        lb[p] = lo
        g = group[k]
        low[g] = max(low[g], lo)
        if u < thr:
            continue
        if _inside_box(boxes_floor[k], cells, k, rect) and _inside_box(boxes_count[k], cells, k, rect):
            uc, lc = u, lo  # same rectangle, same bounds
        else:
            uc, lc = _bounds(k, rect, bits, cells, boxes_count[k], args, thr)
        if lc >= thr:
            sure += 1
        elif uc >= thr:
            partial[p] = True
    for p in range(n):
        if not outer[p]:
            continue
        k = ks[p]
        g = group[k]
        if low[g] >= thr:  # some cell of the group is surely above this one on every pixel
            continue
        u, lo = _bounds(k, rect, bits, cells, boxes_floor[k], args, low[g])
        ub[p] = u
        lb[p] = lo
    return ub, lb, partial, sure


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _next_step(steps, x):  # pragma: no cover - compiled
    """The least of the ascending ``steps`` above ``x`` (+inf if none): a level below it cannot raise
    a class already reached by ``x``."""
    for t in steps:
        if t > x:
            return t
    return _INF


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _cutoff(strip_min, group_min, steps, g):  # pragma: no cover - compiled
    """Least upper bound a cell of group g (all groups if g < 0) needs to change some pixel's best or
    its group's class on the block (see :func:`_apply_pruned`)."""
    c = _INF
    for s in range(strip_min.shape[0]):
        c = min(c, strip_min[s])
        if steps.shape[0] > 0:
            for gg in range(group_min.shape[0]):
                if g < 0 or gg == g:
                    c = min(c, _next_step(steps, group_min[gg, s]))
    return c


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _candidates(ub, lb, ks, group, n_groups, floor, steps):  # pragma: no cover - compiled
    """Positions of the cells that may set some pixel's best level or their group's class, by
    decreasing upper bound, and ``low[g]``: the greatest lower bound over the block of a cell of
    group g (at least ``floor``).

    A cell whose upper bound is below the lower bound of another cell over the whole block (or at most
    the floor) is never the best. If it is also below the next class threshold (``steps``) above
    ``low`` of its group, it cannot change that group's class either, provided the group's best
    starts from ``low`` (:func:`_best_all`), which may come from the cell itself: its own level is at
    least its lower bound."""
    low = np.full(n_groups, floor, dtype=np.float32)
    for p in range(ks.shape[0]):
        g = group[ks[p]]
        low[g] = max(low[g], lb[p])
    low_all = floor
    for g in range(n_groups):
        low_all = max(low_all, low[g])
    keep = np.empty(ks.shape[0], dtype=np.int64)
    n = 0
    for p in range(ks.shape[0]):
        g = group[ks[p]]
        if ub[p] > floor and ub[p] >= max(low[g], min(low_all, _next_step(steps, low[g]))):
            keep[n] = p
            n += 1
    keep = keep[:n]
    return keep[np.argsort(-ub[keep])], low
