"""Compiled diffraction loss of :mod:`analysis.terrain` (numba, cached on disk after the first run).

Computes, pixel by pixel, exactly the profile samples, ν values and Deygout losses of the numpy
reference (``terrain._diffraction_loss_numpy``) without building (pixels x samples) temporaries.
The same floating-point operations are done in the same order, so the principal edges and the
losses agree with the reference (to the last bit except where ``log10`` rounds differently).
Because ν has the sign of the height above the line, a first pass over a profile only compares
heights; square roots and divisions for ν are computed only for samples above the line. Before
its samples are read, each segment of ``_SEG`` samples is bounded by the maxima of the
``_TILE``-pixel tiles its samples fall in plus the largest earth bulge on it; a segment surely
below the line (with a margin far above rounding) is skipped: it is below the Deygout sub-paths'
lines too, so it changes nothing. Window rows are processed in parallel (``prange``).
"""

from __future__ import annotations

import numba
import numpy as np

_FLOAT_MAX = float(np.finfo(np.float64).max)
_TILE = 16
"""Pixels per side of the tiles whose maximum height bounds a profile segment."""
_SEG = 16
"""Samples per profile segment tested against the line before its samples are read."""


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
def _sub_path_nu(eff, x, live, s_lo, s_hi, x_a, h_a, x_b, h_b, wavelength):  # pragma: no cover - compiled
    """Max ν (> 0) of live samples ``s_lo..s_hi-1`` strictly between a and b; -1 if none is above."""
    span = x_b - x_a
    best = -1.0
    for s in range(s_lo, s_hi):
        if not live[s // _SEG]:
            continue
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
def _tile_max(dem, r_lo, r_hi, c_lo, c_hi):  # pragma: no cover - compiled
    """Max finite height of every ``_TILE`` x ``_TILE`` tile meeting rows/cols ``[lo, hi]``."""
    t0, u0 = r_lo // _TILE, c_lo // _TILE
    out = np.full((r_hi // _TILE - t0 + 1, c_hi // _TILE - u0 + 1), -np.inf)
    for r in range(r_lo, r_hi + 1):
        for c in range(c_lo, c_hi + 1):
            v = _finite(dem[r, c])
            if v > out[r // _TILE - t0, c // _TILE - u0]:
                out[r // _TILE - t0, c // _TILE - u0] = v
    return out


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _clamp_px(v, hi):  # pragma: no cover - compiled
    return int(min(max(np.rint(v), 0.0), hi - 1.0))


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _segment_below(
    tiles, t_org, u_org, sr, sc, di, dj, t_a, t_b, dist, h_tx, dh, bulge_div, h, w
):  # pragma: no cover - compiled
    """True when every sample with t in [t_a, t_b] surely lies below the line (bound with margin)."""
    ra, rb = _clamp_px(sr + t_a * di, h), _clamp_px(sr + t_b * di, h)
    ca, cb = _clamp_px(sc + t_a * dj, w), _clamp_px(sc + t_b * dj, w)
    z = -np.inf
    for ti in range(min(ra, rb) // _TILE - t_org, max(ra, rb) // _TILE - t_org + 1):
        for ui in range(min(ca, cb) // _TILE - u_org, max(ca, cb) // _TILE - u_org + 1):
            z = max(z, tiles[ti, ui])
    tm = min(max(0.5, t_a), t_b)
    bulge = tm * dist * (dist - tm * dist) / bulge_div
    line = min(h_tx + dh * t_a, h_tx + dh * t_b)
    margin = 1e-6 * (1.0 + abs(z) + abs(h_tx) + abs(h_tx + dh) + bulge)
    return z + bulge + margin < line


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _pixel_loss(
    dem,
    tiles,
    t_org,
    u_org,
    sr,
    sc,
    di,
    dj,
    res_m,
    h_tx,
    h_rx,
    wavelength,
    bulge_div,
    n,
    deygout,
    t_of,
    eff,
    x,
    above,
    live,
):  # pragma: no cover - compiled
    """Diffraction loss (dB) of one receiver at offset (di, dj) pixels from the transmitter.

    Samples of segments that lie surely below the line are skipped (``live`` False): they are
    below the Deygout sub-paths' lines too, which lie above the main line on either side of the
    principal edge, so they can neither be an edge nor change a loss.
    """
    h, w = dem.shape
    dist = max(np.hypot(di, dj), 0.5) * res_m
    dh = h_rx - h_tx
    blocked = False
    n_seg = (n + _SEG - 1) // _SEG
    for g in range(n_seg):
        s_lo = g * _SEG
        s_hi = min(s_lo + _SEG, n)
        live[g] = not _segment_below(
            tiles,
            t_org,
            u_org,
            sr,
            sc,
            di,
            dj,
            (s_lo + 1.0) / (n + 1.0),
            s_hi / (n + 1.0),
            dist,
            h_tx,
            dh,
            bulge_div,
            h,
            w,
        )
        if not live[g]:
            continue
        for s in range(s_lo, s_hi):
            t = t_of[s]
            pr = _clamp_px(sr + t * di, h)
            pc = _clamp_px(sc + t * dj, w)
            d1 = t * dist
            e = _finite(dem[pr, pc]) + d1 * (dist - d1) / bulge_div
            eff[s] = e
            x[s] = d1
            a = e - (h_tx + dh * t)
            above[s] = a
            if a > 0.0:
                blocked = True
    if not blocked:
        return 0.0
    best = -1.0
    p = 0
    for g in range(n_seg):
        if not live[g]:
            continue
        for s in range(g * _SEG, min(g * _SEG + _SEG, n)):
            if above[s] > 0.0:
                d1 = x[s]
                nu = above[s] * np.sqrt(2.0 * dist / (wavelength * d1 * (dist - d1)))
                if nu > best:
                    best = nu
                    p = s
    loss = _edge_loss_db(best)
    if deygout:
        x_p = x[p]
        e_p = eff[p]
        nu_l = _sub_path_nu(eff, x, live, 0, p, 0.0, h_tx, x_p, e_p, wavelength)
        if nu_l > 0.0:
            loss += _edge_loss_db(nu_l)
        nu_r = _sub_path_nu(eff, x, live, p + 1, n, x_p, e_p, dist, h_rx, wavelength)
        if nu_r > 0.0:
            loss += _edge_loss_db(nu_r)
    return loss


@numba.njit(cache=True, parallel=True, boundscheck=False)
def diffraction_window(
    dem, res_m, sr, sc, r0, c0, out, tx_height_m, rx_height_m, wavelength, bulge_div, n, deygout
):  # pragma: no cover - compiled
    """Fill ``out`` (window rows x cols, first pixel at grid (r0, c0)) with the loss in dB."""
    h, w = dem.shape
    rows, cols = out.shape
    srr, scc = min(max(sr, 0), h - 1), min(max(sc, 0), w - 1)
    h_tx = _finite(dem[srr, scc]) + tx_height_m
    r_lo, r_hi = min(r0, srr), max(r0 + rows - 1, srr)
    c_lo, c_hi = min(c0, scc), max(c0 + cols - 1, scc)
    tiles = _tile_max(dem, r_lo, r_hi, c_lo, c_hi)
    t_org, u_org = r_lo // _TILE, c_lo // _TILE
    n_seg = (n + _SEG - 1) // _SEG
    t_of = (np.arange(n) + 1.0) / (n + 1.0)
    for i in numba.prange(rows):
        eff = np.empty(n)
        x = np.empty(n)
        above = np.empty(n)
        live = np.empty(n_seg, dtype=np.bool_)
        r = r0 + i
        di = float(r - sr)
        for j in range(cols):
            c = c0 + j
            h_rx = _finite(dem[r, c]) + rx_height_m
            out[i, j] = _pixel_loss(
                dem,
                tiles,
                t_org,
                u_org,
                sr,
                sc,
                di,
                float(c - sc),
                res_m,
                h_tx,
                h_rx,
                wavelength,
                bulge_div,
                n,
                deygout,
                t_of,
                eff,
                x,
                above,
                live,
            )
