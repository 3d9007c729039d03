"""Which cells touch which block of the grid, and how blocks are dealt to threads."""

from __future__ import annotations

import numpy as np

from analysis._coverage_kernel._jit import _RUN, _clip_box, numba


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _block_row_cols(k, bi, rows, cols, boxes, spans, height, width, block):  # pragma: no cover - compiled
    """Range of pixel columns (ja, jb), inclusive, that cell k's row spans cover in block row ``bi``
    (ja > jb: none)."""
    start, lo, hi = spans
    i0, i1, j0, j1 = _clip_box(boxes[k], rows[k], cols[k], height, width)
    c_lo = 32767
    c_hi = -32768
    for i in range(max(bi * block, i0), min((bi + 1) * block, i1)):
        at = start[k] + i - rows[k] - boxes[k, 0]
        if lo[at] <= hi[at]:
            c_lo = min(c_lo, np.int64(lo[at]))
            c_hi = max(c_hi, np.int64(hi[at]))
    if c_lo > c_hi:
        return 1, 0
    return max(cols[k] + c_lo, j0), min(cols[k] + c_hi, j1 - 1)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _block_rows(rows, cols, boxes, height, width, block):  # pragma: no cover - compiled
    """Per cell, its first row of blocks and, as offsets ``at`` (cell k: ``at[k] .. at[k + 1]``), one
    entry per row of blocks its box covers; and the running count of entries per row of blocks."""
    n_cells = rows.shape[0]
    n_br = (height + block - 1) // block
    first = np.zeros(n_cells, dtype=np.int64)
    at = np.zeros(n_cells + 1, dtype=np.int64)
    in_row = np.zeros(n_br + 1, dtype=np.int64)
    for k in range(n_cells):
        i0, i1, j0, j1 = _clip_box(boxes[k], rows[k], cols[k], height, width)
        n = 0
        if i0 < i1 and j0 < j1:
            first[k] = i0 // block
            n = (i1 - 1) // block - first[k] + 1
            for bi in range(first[k], first[k] + n):
                in_row[bi + 1] += 1
        at[k + 1] = at[k] + n
    for bi in range(n_br):
        in_row[bi + 1] += in_row[bi]
    return first, at, in_row


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _bucket(first, at, in_row, col_lo, col_hi):  # pragma: no cover - compiled
    """The (cell, first and last block column) entries of :func:`block_pairs`, grouped by row of
    blocks, cells ascending within a row."""
    bucket = np.empty(in_row[-1], dtype=np.int32)
    bucket_lo = np.empty(in_row[-1], dtype=np.int32)
    bucket_hi = np.empty(in_row[-1], dtype=np.int32)
    put = in_row[:-1].copy()
    for k in range(first.shape[0]):
        for r in range(at[k + 1] - at[k]):
            bi = first[k] + r
            bucket[put[bi]] = k
            bucket_lo[put[bi]] = col_lo[at[k] + r]
            bucket_hi[put[bi]] = col_hi[at[k] + r]
            put[bi] += 1
    return bucket, bucket_lo, bucket_hi


@numba.njit(cache=True, parallel=True, nogil=True, boundscheck=False)
def block_pairs(rows, cols, boxes, spans, height, width, block):  # pragma: no cover - compiled
    """CSR lists of the cells whose reach outline (row ``spans``, see :func:`row_spans`, within
    ``boxes``) touches each ``block``-pixel square: ``(start, cell)``.

    Cells appear in ascending order within each block. Parallel: first over the cells (the block
    columns each one covers per row of blocks, reading its spans in order), then over rows of blocks.
    """
    n_br = (height + block - 1) // block
    n_bc = (width + block - 1) // block
    n_cells = rows.shape[0]
    first, at, in_row = _block_rows(rows, cols, boxes, height, width, block)
    col_lo = np.empty(at[n_cells], dtype=np.int32)
    col_hi = np.empty(at[n_cells], dtype=np.int32)
    n_chunks = max(min(n_cells, 64), 1)
    for c in numba.prange(n_chunks):
        for k in range(c, n_cells, n_chunks):
            for r in range(at[k + 1] - at[k]):
                ja, jb = _block_row_cols(k, first[k] + r, rows, cols, boxes, spans, height, width, block)
                col_lo[at[k] + r] = ja // block if ja <= jb else 1
                col_hi[at[k] + r] = jb // block if ja <= jb else 0
    bucket, bucket_lo, bucket_hi = _bucket(first, at, in_row, col_lo, col_hi)
    per = np.zeros(n_br * n_bc + 1, dtype=np.int64)
    for bi in numba.prange(n_br):
        for e in range(in_row[bi], in_row[bi + 1]):
            for bj in range(bucket_lo[e], bucket_hi[e] + 1):
                per[bi * n_bc + bj + 1] += 1
    for b in range(n_br * n_bc):
        per[b + 1] += per[b]
    cell = np.empty(per[-1], dtype=np.int32)
    for bi in numba.prange(n_br):
        fill = per[bi * n_bc : (bi + 1) * n_bc].copy()
        for e in range(in_row[bi], in_row[bi + 1]):
            for bj in range(bucket_lo[e], bucket_hi[e] + 1):
                cell[fill[bj]] = bucket[e]
                fill[bj] += 1
    return per, cell


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _balanced_chunks(pair_start, count_start, n_blocks, n_runs, n_chunks):  # pragma: no cover - compiled
    """Runs of ``_RUN`` blocks dealt to ``n_chunks`` chunks of about equal work (largest first, each
    to the least loaded chunk; work estimated from the cells whose floor and count outlines touch
    the blocks), as CSR ``(start, run)``, runs ascending within a chunk."""
    cost = np.zeros(n_runs, dtype=np.int64)
    for b in range(n_blocks):
        cost[b // _RUN] += (pair_start[b + 1] - pair_start[b]) + 4 * (count_start[b + 1] - count_start[b])
    load = np.zeros(n_chunks, dtype=np.int64)
    owner = np.empty(n_runs, dtype=np.int64)
    for run in np.argsort(-cost, kind="mergesort"):
        c = np.argmin(load)
        owner[run] = c
        load[c] += cost[run] + 1
    start = np.zeros(n_chunks + 1, dtype=np.int64)
    for run in range(n_runs):
        start[owner[run] + 1] += 1
    for c in range(n_chunks):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    chunk_run = np.empty(n_runs, dtype=np.int64)
    for run in range(n_runs):
        chunk_run[fill[owner[run]]] = run
        fill[owner[run]] += 1
    return start, chunk_run
