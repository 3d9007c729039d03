"""Reach of each cell: its outline (the distance it reaches per direction within a loss budget), the
box around it and the outline's column span per pixel row."""

from __future__ import annotations

import numpy as np

from analysis._coverage_kernel._jit import _last_at_or_below, numba


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _trig():  # pragma: no cover - compiled
    """Sine and cosine of 0..359 degrees, (2, 360) float64."""
    trig = np.empty((2, 360), dtype=np.float64)
    trig[0] = np.sin(np.deg2rad(np.arange(360.0)))
    trig[1] = np.cos(np.deg2rad(np.arange(360.0)))
    return trig


@numba.njit(cache=True, nogil=True, boundscheck=False)
def reach_outlines(min_loss, loss_off, loss_len, budgets, az, bw, am, clip, steps_per_px, margin_px):
    """Compiled :func:`analysis.coverage_plan._reach_boxes` for every cell and budget at once.

    Cell k's least-loss table (ascending) is ``min_loss[loss_off[k] : loss_off[k] + loss_len[k]]``,
    its budgets ``budgets[:, k]`` (dB); ``az[k]`` is NaN for an omni cell. Per degree off boresight
    the reach is the last table step within the budget plus the sector gain, plus ``margin_px``.
    Returns, per budget b, the boxes (B, K, 4) (r0, r1, c0, c1 around the site, clipped to
    +-``clip[k]``) and the 360 outline vertices ``east``, ``north`` (B, K, 360) float32, in pixels.
    Directions use the angle-sum identities (within 1e-15 of ``np.sin``/``np.cos``).
    """
    table = (min_loss, loss_off, loss_len, budgets, az, bw, am, clip, steps_per_px, margin_px)
    n_budgets, n = budgets.shape
    boxes = np.empty((n_budgets, n, 4), dtype=np.int64)
    east = np.empty((n_budgets, n, 360), dtype=np.float32)
    north = np.empty((n_budgets, n, 360), dtype=np.float32)
    trig = _trig()
    q_of = np.empty(181, dtype=np.int64)
    for k in range(n):
        for b in range(n_budgets):
            _outline(k, b, table, trig, q_of, east[b, k], north[b, k], boxes[b, k])
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


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _outline(k, b, table, trig, q_of, east, north, box):  # pragma: no cover - compiled
    """Cell k's reach outline at budget b: the 360 vertices into ``east``/``north`` (float32) and the
    clipped box into ``box``. ``table`` holds the arguments of :func:`reach_outlines`; ``trig`` the
    sine and cosine of 0..359 degrees; ``q_of`` is scratch (181 entries).

    Per degree t off boresight the reach is the last step of the cell's least-loss table within the
    budget less the sector attenuation at t; as t grows the budget falls, and the step is found by
    galloping down from the previous one."""
    min_loss, loss_off, loss_len, budgets, az, bw, am, clip, steps_per_px, margin_px = table
    omni = np.isnan(az[k])
    a_rad = 0.0 if omni else np.deg2rad(az[k])
    s_az = np.sin(a_rad)
    c_az = np.cos(a_rad)
    lo = loss_off[k]
    hi = lo + loss_len[k]
    q = _last_at_or_below(min_loss, lo, hi, budgets[b, k])  # boresight (or omni)
    for t in range(181):
        if not omni and t > 0 and q >= 0:  # the budget falls with the angle
            x = budgets[b, k] - min(12.0 * (np.float64(t) / bw[k]) ** 2, am)
            if min_loss[lo + q] > x:  # the last step within it lies before q (the table ascends:
                step = 1  # the step walking down one by one would find), found by galloping down
                while q - step >= 0 and min_loss[lo + q - step] > x:
                    q -= step
                    step *= 2
                base = max(q - step, 0)
                q = base + _last_at_or_below(min_loss, lo + base, lo + q, x)
        q_of[t] = q
    e_min = np.inf
    e_max = -np.inf
    n_min = np.inf
    n_max = -np.inf
    for a in range(360):
        q = q_of[min(a, 360 - a)]
        r = 0.0 if q < 0 else q / steps_per_px + margin_px
        x = r * (trig[0, a] * c_az + trig[1, a] * s_az)
        y = r * (trig[1, a] * c_az - trig[0, a] * s_az)
        east[a] = x
        north[a] = y
        e_min = min(e_min, x)
        e_max = max(e_max, x)
        n_min = min(n_min, y)
        n_max = max(n_max, y)
    c = clip[k]
    box[0] = min(max(np.int64(np.floor(-n_max)), -c), c)
    box[1] = min(max(np.int64(np.ceil(-n_min)), -c), c)
    box[2] = min(max(np.int64(np.floor(e_min)), -c), c)
    box[3] = min(max(np.int64(np.ceil(e_max)), -c), c)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _outline_spans(east, north, box, at, lo, hi):  # pragma: no cover - compiled
    """Row spans of one outline (as :func:`row_spans`) into ``lo``/``hi`` from position ``at``."""
    r0 = box[0]
    n_rows = box[1] - r0 + 1
    c0 = box[2]
    c1 = box[3]
    for row in range(max(n_rows, 1)):
        lo[at + row] = 32767
        hi[at + row] = -32768
    n_vertices = east.shape[0]
    for a in range(n_vertices):
        b = a + 1 if a + 1 < n_vertices else 0
        x0 = east[a]
        y0 = -north[a]
        x1 = east[b]
        y1 = -north[b]
        ya = max(int(np.ceil(min(y0, y1))), r0)  # the rows the edge crosses, within the box
        yb = min(int(np.floor(max(y0, y1))), r0 + n_rows - 1)
        if y1 != y0:
            dx = x1 - x0  # float32, as in row_spans
            dy = y1 - y0
            for y in range(ya, yb + 1):
                xa = x0 + dx * (y - y0) / dy
                at_row = at + y - r0
                lo[at_row] = min(lo[at_row], max(int(np.floor(xa)), c0))
                hi[at_row] = max(hi[at_row], min(int(np.ceil(xa)), c1))
        else:
            for y in range(ya, yb + 1):
                at_row = at + y - r0
                lo[at_row] = min(lo[at_row], max(int(np.floor(min(x0, x1))), c0))
                hi[at_row] = max(hi[at_row], min(int(np.ceil(max(x0, x1))), c1))


@numba.njit(cache=True, parallel=True, nogil=True, boundscheck=False)
def reach_spans(min_loss, loss_off, loss_len, budgets, az, bw, am, clip, steps_per_px, margin_px):
    """:func:`reach_outlines` followed by :func:`row_spans`, for every budget, in parallel over the
    cells and without storing the outlines (each is drawn twice: for its box, then for its spans).

    Returns ``boxes`` (B, K, 4), ``start`` (B, K + 1) and ``lo``, ``hi`` (int16): cell k's row spans
    at budget b are ``lo[start[b, k] : start[b, k + 1]]`` (all budgets share ``lo`` and ``hi``).
    """  # pragma: no cover - compiled
    table = (min_loss, loss_off, loss_len, budgets, az, bw, am, clip, steps_per_px, margin_px)
    n_budgets, n = budgets.shape
    boxes = np.empty((n_budgets, n, 4), dtype=np.int64)
    trig = _trig()
    n_chunks = max(min(n, 64), 1)
    for c in numba.prange(n_chunks):
        q_of = np.empty(181, dtype=np.int64)
        east = np.empty(360, dtype=np.float32)
        north = np.empty(360, dtype=np.float32)
        for k in range(c, n, n_chunks):
            for b in range(n_budgets):
                _outline(k, b, table, trig, q_of, east, north, boxes[b, k])
    start = np.zeros((n_budgets, n + 1), dtype=np.int64)
    total = 0
    for b in range(n_budgets):
        start[b, 0] = total
        for k in range(n):
            total += max(boxes[b, k, 1] - boxes[b, k, 0] + 1, 1)
            start[b, k + 1] = total
    lohi = np.empty((total, 2), dtype=np.int16)  # a row's lo and hi side by side: one cache line
    lo = lohi[:, 0]
    hi = lohi[:, 1]
    for c in numba.prange(n_chunks):
        q_of = np.empty(181, dtype=np.int64)
        east = np.empty(360, dtype=np.float32)
        north = np.empty(360, dtype=np.float32)
        box = np.empty(4, dtype=np.int64)
        for k in range(c, n, n_chunks):
            for b in range(n_budgets):
                _outline(k, b, table, trig, q_of, east, north, box)
                _outline_spans(east, north, box, start[b, k], lo, hi)
    return boxes, start, lo, hi
