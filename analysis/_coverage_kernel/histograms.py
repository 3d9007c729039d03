"""Class histograms per unit and the classification of a level raster, in one pass each."""

from __future__ import annotations

import numpy as np

from analysis._coverage_kernel._jit import numba


@numba.njit(cache=True, nogil=True, boundscheck=False)
def class_counts(unit, classes, n_units, n_classes):  # pragma: no cover - compiled
    """Per unit, the number of pixels in each class: ``out[unit[i], classes[i]]`` summed over the
    pixels whose unit is in [0, n_units) and class below ``n_classes`` (int64, (n_units, n_classes))."""
    out = np.zeros((n_units, n_classes), dtype=np.int64)
    for i in range(unit.shape[0]):
        u = unit[i]
        c = classes[i]
        if 0 <= u < n_units and c < n_classes:
            out[u, c] += 1
    return out


@numba.njit(cache=True, nogil=True, boundscheck=False)
def class_counts_at(pix, unit, classes, n_units, n_classes):  # pragma: no cover - compiled
    """:func:`class_counts` of the pixels ``pix`` of the flat raster ``classes`` (unit ``unit[i]`` for
    pixel ``pix[i]``), without gathering them first."""
    out = np.zeros((n_units, n_classes), dtype=np.int64)
    for i in range(pix.shape[0]):
        u = unit[i]
        c = classes[pix[i]]
        if 0 <= u < n_units and c < n_classes:
            out[u, c] += 1
    return out


@numba.njit(cache=True, nogil=True, boundscheck=False)
def classify_levels(levels, thresholds, nodata, nodata_class):  # pragma: no cover - compiled
    """:func:`analysis.coverage.classify_rsrp` of a flat float32 raster in one pass (no temporaries):
    the number of ascending ``thresholds`` reached, ``len(thresholds)`` where NaN, ``nodata_class``
    where the level is ``nodata``."""
    out = np.empty(levels.shape[0], dtype=np.uint8)
    n_thresholds = thresholds.shape[0]
    for i in range(levels.shape[0]):
        v = levels[i]
        if v == nodata:
            out[i] = nodata_class
        elif np.isnan(v):
            out[i] = n_thresholds
        else:
            c = 0
            for t in thresholds:
                c += v >= t
            out[i] = c
    return out
