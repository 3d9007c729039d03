"""Compiled inner loop of :mod:`analysis.coverage` (numba, cached on disk after the first run).

The grid is cut into square blocks (``block`` pixels, 32 by default) processed in parallel; each
block's pixels are written by one thread only. Results equal the serial numpy reference
(``coverage._accumulate_numpy``: ascending cell order, strict ``>``, so ties go to the lowest cell
index) except that the sector pattern is evaluated exactly instead of from a 0.1-degree table
(differences below 0.02 dB).

Per block, every cell whose floor window touches it (:func:`block_pairs`) gets exact bounds of its
level over the block (:func:`_bounds`): nearest/farthest distance, the environments present, the
angle range off boresight, and per-environment monotone envelopes of its loss table. Then

* server count: a cell whose lower bound over the whole block is at or above the count threshold
  adds 1 to every pixel without being evaluated; one whose upper bound is below adds nothing; the
  others ("partial") are bounded again per 8-row strip and evaluated pixel by pixel only where a
  strip's bounds straddle the threshold;
* best server, per group of cells (operator): cells in decreasing order of upper bound are evaluated
  (per 8-row strip, skipping strips they cannot improve) until the next upper bound is below the
  block's weakest current best (no later cell can change any pixel: exact pruning).

A cell's window is its bounding box narrowed, row by row, to the span of its reach outline
(:func:`row_spans`). Pixels outside the province are never updated. Cell arrays are passed as one
tuple ``cells = (rows, cols, table_off, ref, az, bw)``; ``az < 0`` marks an omni cell.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType

import numpy as np


class _RefuseScipyLinalg(importlib.abc.MetaPathFinder):
    """Import finder that makes ``scipy.linalg`` unavailable while it is installed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "scipy.linalg" or fullname.startswith("scipy.linalg."):
            raise ImportError(f"{fullname} is not needed by the coverage kernel")
        return None


@contextlib.contextmanager
def _without_scipy_linalg() -> Iterator[None]:
    """Numba's numpy support probes ``scipy.linalg.cython_blas`` when it loads (about 0.1-0.2 s of the
    CLI's start-up). The kernels here use no BLAS (no ``np.dot``, ``np.linalg``, ``np.cov``), so the
    probe is made to fail while numba loads; numba then only disables its BLAS-backed functions.
    ``scipy.linalg`` imports normally afterwards (and is used as is if it was imported before)."""
    finder = _RefuseScipyLinalg()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


with _without_scipy_linalg():
    import numba
    import numba.np.arraymath  # noqa: F401  (numpy support; holds the BLAS probe)

_OUTSIDE = np.uint8(255)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _signal(flat, off, r, n, e, a, brg, inv, am):  # pragma: no cover - compiled
    """Level of one cell at squared pixel distance ``n`` in environment ``e``."""
    pos = max(np.sqrt(np.float32(n)), np.float32(0.5)) * np.float32(4.0)
    q = np.int64(pos)
    w = pos - np.float32(q)
    base = off + 3 * q + e
    ub = np.uint64(base)
    lo = flat[ub]
    v = r - (lo + w * (flat[ub + np.uint64(3)] - lo))
    if a >= 0.0 and n > 0:  # the site's own pixel gets boresight gain
        t = abs(brg - a)
        t = min(t, np.float32(360.0) - t)
        v -= min(np.float32(12.0) * (t * inv) * (t * inv), am)
    return v


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _clip_box(box, sr, sc, h, w):  # pragma: no cover - compiled
    return (max(sr + box[0], 0), min(sr + box[1] + 1, h), max(sc + box[2], 0), min(sc + box[3] + 1, w))


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _last_at_or_below(table, lo, hi, x):  # pragma: no cover - compiled
    """Index of the last entry of the ascending ``table[lo:hi]`` that is <= x, relative to lo; -1 if
    none (``np.searchsorted(table[lo:hi], x, side="right") - 1``)."""
    a = lo
    b = hi
    while a < b:
        m = (a + b) // 2
        if table[m] <= x:
            a = m + 1
        else:
            b = m
    return a - 1 - lo


@numba.njit(cache=True, nogil=True, boundscheck=False)
def reach_outlines(min_loss, loss_off, loss_len, budgets, az, bw, am, clip, steps_per_px, margin_px):
    """Compiled :func:`analysis.coverage._reach_boxes` for every cell and budget at once.

    Cell k's least-loss table (ascending) is ``min_loss[loss_off[k] : loss_off[k] + loss_len[k]]``,
    its budgets ``budgets[:, k]`` (dB); ``az[k]`` is NaN for an omni cell. Per degree off boresight
    the reach is the last table step within the budget plus the sector gain, plus ``margin_px``.
    Returns, per budget b, the boxes (B, K, 4) (r0, r1, c0, c1 around the site, clipped to
    +-``clip[k]``) and the 360 outline vertices ``east``, ``north`` (B, K, 360) float32, in pixels.
    Directions use the angle-sum identities (within 1e-15 of ``np.sin``/``np.cos``).
    """
    n_budgets, n = budgets.shape
    boxes = np.empty((n_budgets, n, 4), dtype=np.int64)
    east = np.empty((n_budgets, n, 360), dtype=np.float32)
    north = np.empty((n_budgets, n, 360), dtype=np.float32)
    sin_rel = np.sin(np.deg2rad(np.arange(360.0)))
    cos_rel = np.cos(np.deg2rad(np.arange(360.0)))
    q_of = np.empty(181, dtype=np.int64)  # reach step per degree off boresight, 0..180
    for k in range(n):
        omni = np.isnan(az[k])
        a_rad = 0.0 if omni else np.deg2rad(az[k])
        s_az = np.sin(a_rad)
        c_az = np.cos(a_rad)
        lo = loss_off[k]
        hi = lo + loss_len[k]
        for b in range(n_budgets):
            q = _last_at_or_below(min_loss, lo, hi, budgets[b, k])  # boresight (or omni)
            for t in range(181):
                if not omni and t > 0:  # the budget falls with the angle: walk down
                    x = budgets[b, k] - min(12.0 * (np.float64(t) / bw[k]) ** 2, am)
                    while q >= 0 and min_loss[lo + q] > x:
                        q -= 1
                q_of[t] = q
            e_min = np.inf
            e_max = -np.inf
            n_min = np.inf
            n_max = -np.inf
            for a in range(360):
                q = q_of[min(a, 360 - a)]
                r = 0.0 if q < 0 else q / steps_per_px + margin_px
                x = r * (sin_rel[a] * c_az + cos_rel[a] * s_az)
                y = r * (cos_rel[a] * c_az - sin_rel[a] * s_az)
                east[b, k, a] = x
                north[b, k, a] = y
                e_min = min(e_min, x)
                e_max = max(e_max, x)
                n_min = min(n_min, y)
                n_max = max(n_max, y)
            c = clip[k]
            boxes[b, k, 0] = min(max(np.int64(np.floor(-n_max)), -c), c)
            boxes[b, k, 1] = min(max(np.int64(np.ceil(-n_min)), -c), c)
            boxes[b, k, 2] = min(max(np.int64(np.floor(e_min)), -c), c)
            boxes[b, k, 3] = min(max(np.int64(np.ceil(e_max)), -c), c)
    return boxes, east, north


@numba.njit(cache=True, nogil=True, boundscheck=False)
def row_spans(east, north, boxes):  # pragma: no cover - compiled
    """Per cell and box row, the column offsets (lo, hi) where the reach outline crosses that row.

    ``east``/``north`` (K, M) are the outline vertices in pixels; rows are pixel-centre lines
    ``y = boxes[k, 0] + row`` (south positive). Spans are clipped to the box; ``lo > hi`` marks a row
    the outline does not reach. Returns ``(start, lo, hi)``: cell k's rows are
    ``lo[start[k]:start[k + 1]]`` (int16, ragged).
    """
    n_cells, n_vertices = east.shape
    start = np.zeros(n_cells + 1, dtype=np.int64)
    for k in range(n_cells):
        start[k + 1] = start[k] + max(boxes[k, 1] - boxes[k, 0] + 1, 1)
    lo = np.full(start[n_cells], 32767, dtype=np.int16)
    hi = np.full(start[n_cells], -32768, dtype=np.int16)
    for k in range(n_cells):
        r0 = boxes[k, 0]
        n_rows = boxes[k, 1] - r0 + 1
        c0 = boxes[k, 2]
        c1 = boxes[k, 3]
        for a in range(n_vertices):
            b = a + 1 if a + 1 < n_vertices else 0
            x0 = east[k, a]
            y0 = -north[k, a]
            x1 = east[k, b]
            y1 = -north[k, b]
            for y in range(int(np.ceil(min(y0, y1))), int(np.floor(max(y0, y1))) + 1):
                row = y - r0
                if row < 0 or row >= n_rows:
                    continue
                if y1 != y0:
                    xa = x0 + (x1 - x0) * (y - y0) / (y1 - y0)
                    xb = xa
                else:
                    xa = min(x0, x1)
                    xb = max(x0, x1)
                at = start[k] + row
                lo[at] = min(lo[at], max(int(np.floor(xa)), c0))
                hi[at] = max(hi[at], min(int(np.ceil(xb)), c1))
    return start, lo, hi


_INF = np.float32(np.inf)
_SLACK_DB = np.float32(0.01)  # float32 rounding of the interpolated level (< 1e-4 dB), with margin
_SLACK_DEG = 0.01  # float32 bearings of the kernel vs float64 corners
_SUB_PX = 8  # rows per strip of a block: bounds per strip before evaluating (count, best)


@numba.njit(cache=True, nogil=True, boundscheck=False, fastmath=True)
def _rows_min(a, r0, r1):  # pragma: no cover - compiled
    """Least value of rows [r0, r1) of a 2-D float32 array without NaN (vectorised; numpy's min checks
    every element for NaN)."""
    m = _INF
    for i in range(r0, r1):
        row = a[i]
        for j in range(row.shape[0]):
            m = min(m, row[j])
    return m


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _cell_blocks(k, rows, cols, boxes, spans, height, width, block, n_bc, per, cell, fill):
    """Visit the blocks that cell k's row spans touch: count them in ``per`` or, when ``fill``, write
    k into ``cell`` at ``per`` (the running fill position of each block)."""  # pragma: no cover - compiled
    start, lo, hi = spans
    i0, i1, j0, j1 = _clip_box(boxes[k], rows[k], cols[k], height, width)
    if i0 >= i1 or j0 >= j1:
        return
    sr = rows[k]
    sc = cols[k]
    for bi in range(i0 // block, (i1 - 1) // block + 1):
        c_lo = 32767
        c_hi = -32768
        for i in range(max(bi * block, i0), min((bi + 1) * block, i1)):
            at = start[k] + i - sr - boxes[k, 0]
            if lo[at] <= hi[at]:
                c_lo = min(c_lo, np.int64(lo[at]))
                c_hi = max(c_hi, np.int64(hi[at]))
        if c_lo > c_hi:
            continue
        ja = max(sc + c_lo, j0)
        jb = min(sc + c_hi, j1 - 1)
        if ja > jb:
            continue
        for bj in range(ja // block, jb // block + 1):
            b = bi * n_bc + bj
            if fill:
                cell[per[b]] = k
                per[b] += 1
            else:
                per[b + 1] += 1


@numba.njit(cache=True, nogil=True, boundscheck=False)
def block_pairs(rows, cols, boxes, spans, height, width, block):  # pragma: no cover - compiled
    """CSR lists of the cells whose reach outline (row ``spans``, see :func:`row_spans`, within
    ``boxes``) touches each ``block``-pixel square: ``(start, cell)``.

    Cells appear in ascending order within each block.
    """
    n_br = (height + block - 1) // block
    n_bc = (width + block - 1) // block
    n_cells = rows.shape[0]
    per = np.zeros(n_br * n_bc + 1, dtype=np.int64)
    cell = np.empty(0, dtype=np.int32)
    for k in range(n_cells):
        _cell_blocks(k, rows, cols, boxes, spans, height, width, block, n_bc, per, cell, False)
    for b in range(n_br * n_bc):
        per[b + 1] += per[b]
    fill = per[:-1].copy()
    cell = np.empty(per[-1], dtype=np.int32)
    for k in range(n_cells):
        _cell_blocks(k, rows, cols, boxes, spans, height, width, block, n_bc, fill, cell, True)
    return per, cell


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _wrap(x):  # pragma: no cover - compiled
    """Angle difference (within +-720 degrees) wrapped into (-180, 180] degrees (no fmod: hot path)."""
    while x > 180.0:
        x -= 360.0
    while x <= -180.0:
        x += 360.0
    return x


@numba.njit(cache=True, nogil=True, boundscheck=False)
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


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _bounds(k, bi0, bi1, bj0, bj1, env_bits, cells, box, n_steps, lower, upper, bearing, radius, am, cutoff):
    """Bounds (ub, lb) of cell k's level over the block rows [bi0, bi1) x cols [bj0, bj1), env in bits.

    ``lb`` is -inf when the block is not wholly inside the cell's box or table.
    """  # pragma: no cover - compiled
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
def _apply(
    k,
    bi0,
    bj0,
    r0,
    r1,
    c0,
    c1,
    env,
    best,
    server,
    count,
    do_count,
    cells,
    box,
    spans,
    bearing,
    radius,
    flat,
    am,
    thr,
):
    """Evaluate cell k on the block's pixels [r0, r1) x [c0, c1) (block coordinates) inside its span;
    update best (ties: lowest k) and, when ``do_count``, the count. Return the evaluations."""
    rows, cols, table_off, ref, az, bw = cells  # pragma: no cover - compiled
    sr = rows[k] - bi0
    sc = cols[k] - bj0
    i0 = max(r0, sr + box[0])
    i1 = min(r1, sr + box[1] + 1)
    j0 = max(c0, sc + box[2])
    j1 = min(c1, sc + box[3] + 1)
    if i0 >= i1 or j0 >= j1:
        return 0
    inv = np.float32(1.0) / bw[k]
    kk = np.int32(k)
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
        best_row = best[i]
        server_row = server[i]
        count_row = count[i]
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
        evaluations += jb - ja
    return evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _count_only(k, bi0, bj0, r0, r1, c0, c1, env, count, cells, box, spans, bearing, radius, flat, am, thr):
    """Add cell k's server count on the block's pixels [r0, r1) x [c0, c1) (block coordinates) inside
    its count span; return evaluations."""
    rows, cols, table_off, ref, az, bw = cells  # pragma: no cover - compiled
    sr = rows[k] - bi0
    sc = cols[k] - bj0
    i0 = max(r0, sr + box[0])
    i1 = min(r1, sr + box[1] + 1)
    j0 = max(c0, sc + box[2])
    j1 = min(c1, sc + box[3] + 1)
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
def _count_partial(k, bi0, bi1, bj0, bj1, bits, env, count, cells, box, spans, args, sub):
    """Server count of cell k on a block it reaches only in part: per strip of ``sub`` rows, bounds
    first (whole strip counted, or skipped), pixel evaluation only where the bounds straddle the
    threshold. Return evaluations."""  # pragma: no cover - compiled
    n_steps, flat, lower, upper, bearing, radius, am, _, _, _, _, _, thr = args
    evaluations = 0
    for si0 in range(bi0, bi1, sub):
        si1 = min(si0 + sub, bi1)
        for sj0 in range(bj0, bj1, bj1 - bj0):  # full-width strips: long rows, few cache misses
            sj1 = bj1
            u, lo = _bounds(
                k, si0, si1, sj0, sj1, bits, cells, box, n_steps, lower, upper, bearing, radius, am, thr
            )
            if u < thr:
                continue
            if lo >= thr:
                count[si0 - bi0 : si1 - bi0, sj0 - bj0 : sj1 - bj0] += np.uint16(1)
                continue
            evaluations += _count_only(
                k,
                bi0,
                bj0,
                si0 - bi0,
                si1 - bi0,
                sj0 - bj0,
                sj1 - bj0,
                env,
                count,
                cells,
                box,
                spans,
                bearing,
                radius,
                flat,
                am,
                thr,
            )
    return evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _load_block(env, inside, bi0, bi1, bj0, bj1, floor):  # pragma: no cover - compiled
    """Block copies: environment (0 outside), best (floor; +inf outside, never updated), env bit set."""
    h = bi1 - bi0
    w = bj1 - bj0
    env_l = np.zeros((h, w), dtype=np.uint8)
    best_l = np.empty((h, w), dtype=np.float32)
    bits = 0
    for i in range(h):
        for j in range(w):
            if inside[bi0 + i, bj0 + j]:
                e = env[bi0 + i, bj0 + j]
                env_l[i, j] = e
                bits |= 1 << e
                best_l[i, j] = floor
            else:
                best_l[i, j] = _INF
    return env_l, best_l, bits


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _inside_box(box, cells, k, bi0, bi1, bj0, bj1):  # pragma: no cover - compiled
    """Whether the block lies wholly inside cell k's box."""
    sr = cells[0][k]
    sc = cells[1][k]
    return bi0 >= sr + box[0] and bi1 - 1 <= sr + box[1] and bj0 >= sc + box[2] and bj1 - 1 <= sc + box[3]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _classify(
    ks,
    bi0,
    bi1,
    bj0,
    bj1,
    bits,
    cells,
    n_steps,
    lower,
    upper,
    bearing,
    radius,
    am,
    boxes_count,
    boxes_floor,
    floor,
    thr,
):  # pragma: no cover - compiled
    """Per candidate cell: upper bound in the block, whether its count needs evaluating ("partial"),
    and the number of cells that reach ``thr`` on every pixel of the block."""
    n = ks.shape[0]
    ub = np.empty(n, dtype=np.float32)
    lb = np.empty(n, dtype=np.float32)
    partial = np.zeros(n, dtype=np.bool_)
    sure = 0
    for p in range(n):
        k = ks[p]
        u, lo = _bounds(
            k,
            bi0,
            bi1,
            bj0,
            bj1,
            bits,
            cells,
            boxes_floor[k],
            n_steps,
            lower,
            upper,
            bearing,
            radius,
            am,
            floor,
        )
        ub[p] = u
        lb[p] = lo
        if u < thr:
            continue
        if _inside_box(boxes_floor[k], cells, k, bi0, bi1, bj0, bj1) and _inside_box(
            boxes_count[k], cells, k, bi0, bi1, bj0, bj1
        ):
            uc, lc = u, lo  # same rectangle, same bounds
        else:
            uc, lc = _bounds(
                k,
                bi0,
                bi1,
                bj0,
                bj1,
                bits,
                cells,
                boxes_count[k],
                n_steps,
                lower,
                upper,
                bearing,
                radius,
                am,
                thr,
            )
        if lc >= thr:
            sure += 1
        elif uc >= thr:
            partial[p] = True
    return ub, lb, partial, sure


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _apply_pruned(k, bi0, bj0, bits, env, best, server, count, do_count, cells, args, sub, strip_min):
    """:func:`_apply` per strip of ``sub`` rows of the block, skipping strips where the cell's upper
    bound is below the strip's weakest best (their count, when ``do_count``, is still added, from
    bounds where they decide it). ``strip_min[s]`` holds the weakest best of strip ``s`` and is kept up
    to date. Return evaluations."""  # pragma: no cover - compiled
    (
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
        _,
        thr,
    ) = args
    h, w = best.shape
    evaluations = 0
    for r0 in range(0, h, sub):
        r1 = min(r0 + sub, h)
        for c0 in range(0, w, w):  # full-width strips: long rows, few cache misses
            c1 = w
            weakest = strip_min[r0 // sub]
            cut = min(weakest, thr) if do_count else weakest
            u, lo = _bounds(
                k,
                bi0 + r0,
                bi0 + r1,
                bj0 + c0,
                bj0 + c1,
                bits,
                cells,
                boxes_floor[k],
                n_steps,
                lower,
                upper,
                bearing,
                radius,
                am,
                cut,
            )
            if u >= weakest:  # may raise (or tie) some pixel's best
                evaluations += _apply(
                    k,
                    bi0,
                    bj0,
                    r0,
                    r1,
                    c0,
                    c1,
                    env,
                    best,
                    server,
                    count,
                    do_count,
                    cells,
                    boxes_floor[k],
                    spans_floor,
                    bearing,
                    radius,
                    flat,
                    am,
                    thr,
                )
                strip_min[r0 // sub] = _rows_min(best, r0, r1)
            elif do_count and u >= thr:
                if lo >= thr:
                    count[r0:r1, c0:c1] += np.uint16(1)
                else:
                    evaluations += _count_only(
                        k,
                        bi0,
                        bj0,
                        r0,
                        r1,
                        c0,
                        c1,
                        env,
                        count,
                        cells,
                        boxes_count[k],
                        spans_count,
                        bearing,
                        radius,
                        flat,
                        am,
                        thr,
                    )
    return evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _best_of_group(
    g, order, ub, ks, partial, applied, bi0, bj0, bits, env_l, base_l, count_l, cells, group, args
):
    """Best level and server on the block from the cells of group ``g`` (pruned); return
    ``(best, server, evaluations)``. Marks the cells it evaluates in ``applied`` (their count is
    added on the way when ``partial``)."""  # pragma: no cover - compiled
    (
        n_steps,
        flat,
        lower,
        upper,
        bearing,
        radius,
        am,
        boxes_count,
        boxes_floor,
        sc,
        spans_floor,
        floor,
        thr,
    ) = args
    best_l = base_l.copy()
    server_l = np.full(best_l.shape, -1, dtype=np.int32)
    evaluations = 0
    n_strips = (best_l.shape[0] + _SUB_PX - 1) // _SUB_PX
    strip_min = np.empty(n_strips, dtype=np.float32)
    for s in range(n_strips):
        strip_min[s] = _rows_min(best_l, s * _SUB_PX, min((s + 1) * _SUB_PX, best_l.shape[0]))
    for o in range(order.shape[0]):
        p = order[o]
        k = ks[p]
        if group[k] != g:
            continue
        u = ub[p]
        if u <= floor:
            break  # cannot beat the floor (equal levels never update)
        low = _INF
        for s in range(n_strips):
            low = min(low, strip_min[s])
        if u < low:
            break  # cannot beat any pixel's best, nor can the weaker cells after it
        evaluations += _apply_pruned(
            k, bi0, bj0, bits, env_l, best_l, server_l, count_l, partial[p], cells, args, _SUB_PX, strip_min
        )
        applied[p] = True
    return best_l, server_l, evaluations


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _classes(level, thresholds, out):  # pragma: no cover - compiled
    """Class per pixel: how many (ascending) thresholds the level reaches (as ``classify_rsrp``)."""
    h, w = level.shape
    for i in range(h):
        for j in range(w):
            c = 0
            for t in thresholds:
                c += level[i, j] >= t
            out[i, j] = c


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _candidates(ub, lb, ks, group, n_groups, floor):  # pragma: no cover - compiled
    """Positions of the cells that may set some pixel's best level in their group, by decreasing upper
    bound. A cell whose upper bound is below the lower bound of another cell of its group over the
    whole block (or at most the floor) can never be that group's best on the block."""
    low = np.full(n_groups, floor, dtype=np.float32)
    for p in range(ks.shape[0]):
        g = group[ks[p]]
        low[g] = max(low[g], lb[p])
    keep = np.empty(ks.shape[0], dtype=np.int64)
    n = 0
    for p in range(ks.shape[0]):
        if ub[p] > floor and ub[p] >= low[group[ks[p]]]:
            keep[n] = p
            n += 1
    keep = keep[:n]
    return keep[np.argsort(-ub[keep])]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _block(
    b,
    n_bc,
    block,
    env,
    inside,
    best,
    server,
    count,
    class_groups,
    thresholds,
    pair_start,
    pair_cell,
    cells,
    group,
    args,
):
    """Process one block (its pixels are written by this call only); return the evaluations."""
    n_steps, flat, lower, upper, bearing, radius, am, boxes_count, boxes_floor, spans_count, _, floor, thr = (
        args  # pragma: no cover - compiled
    )
    height, width = best.shape
    bi0 = (b // n_bc) * block
    bj0 = (b % n_bc) * block
    bi1 = min(bi0 + block, height)
    bj1 = min(bj0 + block, width)
    env_l, base_l, bits = _load_block(env, inside, bi0, bi1, bj0, bj1, floor)
    if bits == 0:  # wholly outside the province
        best[bi0:bi1, bj0:bj1] = floor
        server[bi0:bi1, bj0:bj1] = -1
        return 0
    count_l = np.zeros(base_l.shape, dtype=np.uint16)
    p0 = pair_start[b]
    ks = pair_cell[p0 : pair_start[b + 1]]
    ub, lb, partial, sure = _classify(
        ks,
        bi0,
        bi1,
        bj0,
        bj1,
        bits,
        cells,
        n_steps,
        lower,
        upper,
        bearing,
        radius,
        am,
        boxes_count,
        boxes_floor,
        floor,
        thr,
    )
    order = _candidates(ub, lb, ks, group, class_groups.shape[0], floor)
    applied = np.zeros(ks.shape[0], dtype=np.bool_)
    evaluations = 0
    n_groups = class_groups.shape[0]
    for g in range(n_groups):
        best_g, server_g, e = _best_of_group(
            g, order, ub, ks, partial, applied, bi0, bj0, bits, env_l, base_l, count_l, cells, group, args
        )
        evaluations += e
        if n_groups > 1:
            _classes(best_g, thresholds, class_groups[g, bi0:bi1, bj0:bj1])
        if g == 0:
            best_l = best_g
            server_l = server_g
        else:  # strictly better only: ties stay with the lower group (cells are ordered by group)
            better = best_g > best_l
            best_l = np.where(better, best_g, best_l)
            server_l = np.where(better, server_g, server_l)
    for p in range(ks.shape[0]):
        if partial[p] and not applied[p]:
            k = ks[p]
            evaluations += _count_partial(
                k, bi0, bi1, bj0, bj1, bits, env_l, count_l, cells, boxes_count[k], spans_count, args, _SUB_PX
            )
    best[bi0:bi1, bj0:bj1] = np.where(best_l == _INF, floor, best_l)
    server[bi0:bi1, bj0:bj1] = server_l
    count[bi0:bi1, bj0:bj1] = count_l + np.uint16(sure)
    return evaluations


@numba.njit(cache=True, parallel=True, boundscheck=False)
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
    block,
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

    ``group`` (per cell, 0..G-1, cells ordered by group) splits the cells, e.g. by operator: with
    ``class_groups`` (uint8) of shape (G, H, W) and G > 1 it also receives each group's class (number
    of ``thresholds``, ascending, at or below the group's best level; any value outside the province).
    Every block of ``best`` and ``server`` is written (they may come uninitialised): the floor and -1
    where no cell reaches; ``count`` must come zeroed (blocks wholly outside the province keep it).
    """
    height, width = best.shape
    n_bc = (width + block - 1) // block
    n_blocks = ((height + block - 1) // block) * n_bc
    n_chunks = min(n_blocks, 256)
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
        for b in range(c, n_blocks, n_chunks):  # interleaved: balanced work across threads
            total += _block(
                b,
                n_bc,
                block,
                env,
                inside,
                best,
                server,
                count,
                class_groups,
                thresholds,
                pair_start,
                pair_cell,
                cells,
                group,
                args,
            )
        done[c] = total
    return done.sum()
