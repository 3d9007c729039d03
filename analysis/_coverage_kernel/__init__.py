"""Compiled inner loop of :mod:`analysis.coverage` (numba, cached on disk after the first run).

The grid is cut into square blocks of ``BLOCK_PX`` (32) pixels; runs of ``_RUN`` (32) consecutive
blocks along a row are processed by one thread (neighbouring blocks share most of their cells, whose
data, loss tables and bearings then stay in cache), and the runs are dealt to chunks of about equal
work (:func:`_balanced_chunks`). Each block's pixels are written by one thread only. Results equal
the serial numpy reference (``analysis.coverage._accumulate_numpy``: ascending cell order, strict ``>``, so
ties go to the lowest cell index) except that the sector pattern is evaluated exactly instead of
from a 0.1-degree table (differences below 0.02 dB).

Per block, the cells whose count outline touches it (:func:`block_pairs` of the count spans) get
exact bounds of their level over the block (:func:`_bounds`): nearest/farthest distance, the
environments present, the angle range off boresight, and per-environment monotone envelopes of the
loss table. The other cells whose floor outline touches the block are below the count threshold on
all of it; they get bounds only where no cell of their group is surely at the threshold there
(:func:`_classify`). Then

* server count: a cell whose lower bound over the whole block is at or above the count threshold
  adds 1 to every pixel without being evaluated; one whose upper bound is below adds nothing; the
  others ("partial") are bounded again per 8-row strip and evaluated pixel by pixel only where a
  strip's bounds straddle the threshold (:func:`_count_rest`). Counts are capped at ``cap`` (254,
  the output saturates there): a block or strip whose every pixel has reached it is not counted
  further;
* best server and, with groups of cells (operators), each group's class, in one pass
  (:func:`_best_all`): candidates in decreasing order of upper bound are evaluated per 8-row strip
  only where they can raise (or tie) a pixel's best or the class of their group, until no later
  cell can (exact pruning; a group's class needs its best only up to the next class threshold).

A cell's window is its bounding box narrowed, row by row, to the span of its reach outline
(:func:`row_spans`; computed with the boxes by :func:`reach_spans`). Outside the province the
kernel writes the nodata values. Cell arrays are passed as one tuple ``cells = (rows, cols,
table_off, ref, az, bw)``; ``az < 0`` marks an omni cell.

Modules, by concern: ``_jit`` (numba without its BLAS probe, constants, shared helpers), ``reach``
(outlines, boxes, row spans), ``blocks`` (cells per block, work per thread), ``bounds`` (bounds of
a cell's level over a block), ``evaluate`` (count and best server of a block), ``accumulate`` (the
entry point) and ``histograms``.

numba's on-disk cache checks only the file a function is defined in: after editing one of these
modules, delete ``analysis/_coverage_kernel/__pycache__/*.nb[ci]`` (``make run`` does so when any of
them changed) or a caller in another module keeps the old compiled code of what it inlines.
"""

from analysis._coverage_kernel._jit import BLOCK_PX
from analysis._coverage_kernel.accumulate import accumulate_cells
from analysis._coverage_kernel.blocks import block_pairs
from analysis._coverage_kernel.histograms import class_counts, class_counts_at, classify_levels
from analysis._coverage_kernel.reach import reach_outlines, reach_spans, row_spans

__all__ = [
    "BLOCK_PX",
    "accumulate_cells",
    "block_pairs",
    "class_counts",
    "class_counts_at",
    "classify_levels",
    "reach_outlines",
    "reach_spans",
    "row_spans",
]
