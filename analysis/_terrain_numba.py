"""Compiled diffraction loss of :mod:`analysis.terrain` (numba, cached on disk after the first run).

Computes, pixel by pixel, exactly the profile samples, ν values and Deygout losses of the numpy
reference (``terrain._diffraction_loss_numpy``) without building (pixels x samples) temporaries.
The same floating-point operations are done in the same order, so the principal edges and the
losses agree with the reference (to the last bit except where ``log10`` rounds differently).
Because ν has the sign of the height above the line, a first pass over a profile only compares
heights; square roots and divisions for ν are computed only for samples above the line. Window
rows are processed in parallel.
"""

from __future__ import annotations

import numba
import numpy as np

_FLOAT_MAX = float(np.finfo(np.float64).max)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _finite(v):  # pragma: no cover - compiled
    """``np.nan_to_num`` of one height."""
    if np.isnan(v):
        return 0.0
    if np.isinf(v):
        return _FLOAT_MAX if v > 0 else -_FLOAT_MAX
    return np.float64(v)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _edge_loss_db(nu):  # pragma: no cover - compiled
    """ITU-R P.526 J(ν) for ν > 0, dB."""
    x = nu - 0.1
    return max(6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x), 0.0)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _sub_path_nu(eff, x, s_lo, s_hi, x_a, h_a, x_b, h_b, wavelength):  # pragma: no cover - compiled
    """Max ν (> 0) of samples ``s_lo..s_hi-1`` strictly between a and b; -1 if none is above."""
    span = x_b - x_a
    best = -1.0
    for s in range(s_lo, s_hi):
        xs = x[s]
        if not (xs > x_a and xs < x_b):
            continue
        above = eff[s] - (h_a + (h_b - h_a) * (xs - x_a) / span)
        if above > 0.0:
            nu = above * np.sqrt(2.0 * span / (wavelength * (xs - x_a) * (x_b - xs)))
            if nu > best:
                best = nu
    return best


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _pixel_loss(
    dem, sr, sc, di, dj, res_m, h_tx, h_rx, wavelength, bulge_div, n, deygout, eff, x
):  # pragma: no cover - compiled
    """Diffraction loss (dB) of one receiver at offset (di, dj) pixels from the transmitter."""
    h, w = dem.shape
    dist = max(np.hypot(di, dj), 0.5) * res_m
    dh = h_rx - h_tx
    blocked = False
    for s in range(n):
        t = (s + 1.0) / (n + 1.0)
        pr = int(min(max(np.rint(sr + t * di), 0.0), h - 1.0))
        pc = int(min(max(np.rint(sc + t * dj), 0.0), w - 1.0))
        d1 = t * dist
        e = _finite(dem[pr, pc]) + d1 * (dist - d1) / bulge_div
        eff[s] = e
        x[s] = d1
        if e - (h_tx + dh * t) > 0.0:
            blocked = True
    if not blocked:
        return 0.0
    best = -1.0
    p = 0
    for s in range(n):
        t = (s + 1.0) / (n + 1.0)
        above = eff[s] - (h_tx + dh * t)
        if above > 0.0:
            d1 = x[s]
            nu = above * np.sqrt(2.0 * dist / (wavelength * d1 * (dist - d1)))
            if nu > best:
                best = nu
                p = s
    loss = _edge_loss_db(best)
    if deygout:
        x_p = x[p]
        e_p = eff[p]
        nu_l = _sub_path_nu(eff, x, 0, p, 0.0, h_tx, x_p, e_p, wavelength)
        if nu_l > 0.0:
            loss += _edge_loss_db(nu_l)
        nu_r = _sub_path_nu(eff, x, p + 1, n, x_p, e_p, dist, h_rx, wavelength)
        if nu_r > 0.0:
            loss += _edge_loss_db(nu_r)
    return loss


@numba.njit(cache=True, parallel=True, boundscheck=False)
def diffraction_window(
    dem, res_m, sr, sc, r0, c0, out, tx_height_m, rx_height_m, wavelength, bulge_div, n, deygout
):  # pragma: no cover - compiled
    """Fill ``out`` (window rows x cols, first pixel at grid (r0, c0)) with the loss in dB."""
    h, w = dem.shape
    h_tx = _finite(dem[min(max(sr, 0), h - 1), min(max(sc, 0), w - 1)]) + tx_height_m
    rows, cols = out.shape
    for i in numba.prange(rows):
        eff = np.empty(n)
        x = np.empty(n)
        r = r0 + i
        di = float(r - sr)
        for j in range(cols):
            c = c0 + j
            h_rx = _finite(dem[r, c]) + rx_height_m
            out[i, j] = _pixel_loss(
                dem, sr, sc, di, float(c - sc), res_m, h_tx, h_rx, wavelength, bulge_div, n, deygout, eff, x
            )
