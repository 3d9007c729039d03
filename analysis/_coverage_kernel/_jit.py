"""numba, loaded without its BLAS probe; the kernel's constants and its smallest shared helpers."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType

import numpy as np


class _RefuseScipyLinalg(importlib.abc.MetaPathFinder):
    """Import finder that makes ``scipy.linalg`` unavailable, while it is installed, to the thread
    that installed it only: other threads (the app runs pages in several) import it as usual."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if threading.get_ident() != self.thread:
            return None
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

_INF = np.float32(np.inf)
_SLACK_DB = np.float32(0.01)  # float32 rounding of the interpolated level (< 1e-4 dB), with margin
_SLACK_DEG = 0.01  # float32 bearings of the kernel vs float64 corners
_SUB_PX = 8  # rows per strip of a block: bounds per strip before evaluating (count, best)
_W = 32  # block side in pixels: rows of blocks are evaluated in fixed-length (vectorised) loops
BLOCK_PX = _W
_RUN = 32  # blocks processed in a row by one thread (cache locality)


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
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


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _wrap(x):  # pragma: no cover - compiled
    """Angle difference (within +-720 degrees) wrapped into (-180, 180] degrees (no fmod: hot path)."""
    while x > 180.0:
        x -= 360.0
    while x <= -180.0:
        x += 360.0
    return x


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
