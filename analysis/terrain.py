"""Terrain: line of sight and knife-edge diffraction over a DEM (ITU-R P.526, Deygout).

The DEM is an array of terrain heights (m above a common datum) on the coverage grid. For a
transmitter at pixel ``(row, col)`` and every receiver pixel of a window, the path profile is
sampled about once per pixel, at most 256 times (nearest DEM pixel), the earth bulge for an
effective earth radius ``k * 6371 km`` (k = 4/3, standard atmosphere) is added, and the Fresnel-Kirchhoff
parameter of every sample is

.. math:: \\nu = h \\sqrt{\\frac{2 d}{\\lambda d_1 d_2}}

where h is the height of the profile above the straight line between the antennas. The loss of a
single edge is ITU-R P.526-15 eq. (31):

.. math:: J(\\nu) = 6.9 + 20 \\log\\left(\\sqrt{(\\nu - 0.1)^2 + 1} + \\nu - 0.1\\right), \\quad \\nu > -0.78

The Deygout method takes the edge with the largest ν (principal edge), then the largest-ν edge
between the transmitter and the principal edge and between the principal edge and the receiver,
and adds their losses. The empirical models (Hata, COST-231, TR 38.901) already contain the loss of
typical, unobstructed ground, so an edge only adds loss where it rises **above** the line of sight
(ν > 0); on flat ground the result therefore equals the no-terrain result exactly. This convention
means the loss jumps from 0 to J(0) = 6.0 dB at grazing incidence.

:func:`diffraction_loss_db` runs the compiled kernel of :mod:`analysis._terrain_numba` (same
samples, ν and edges, pixel by pixel); ``_diffraction_loss_numpy`` is the reference it is tested
against and the fallback when numba is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from analysis._parallel import KERNEL_LOCK
from geo.errors import ParameterError

__all__ = ["EARTH_RADIUS_M", "knife_edge_loss_db", "diffraction_loss_db", "line_of_sight"]

EARTH_RADIUS_M = 6_371_000.0
_SPEED_OF_LIGHT_M_S = 299_792_458.0
_MAX_SAMPLES_PER_CHUNK = 4_000_000

log = logging.getLogger(__name__)


def knife_edge_loss_db(nu: NDArray[np.floating]) -> NDArray[np.floating]:
    """ITU-R P.526 single knife-edge loss J(ν), dB (0 for ν ≤ -0.78)."""
    nu = np.asarray(nu, dtype=float)
    x = nu - 0.1
    with np.errstate(divide="ignore"):
        loss = 6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x)
    return np.where(nu > -0.78, np.maximum(loss, 0.0), 0.0)


def _profile_nu(
    dem_m: NDArray[np.floating],
    res_m: float,
    site_rc: tuple[int, int],
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    *,
    tx_height_m: float,
    rx_height_m: float,
    f_mhz: float,
    k_factor: float,
    n_samples: int,
) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float, NDArray
]:
    """Sample the profiles of many receivers; return ν, effective heights, distances, endpoints."""
    h, w = dem_m.shape
    sr, sc = site_rc
    z_tx = float(np.nan_to_num(dem_m[min(max(sr, 0), h - 1), min(max(sc, 0), w - 1)]))
    di = (rows - sr).astype(float)
    dj = (cols - sc).astype(float)
    dist = np.maximum(np.hypot(di, dj), 0.5) * res_m  # (P,)
    t = np.arange(1, n_samples + 1, dtype=float) / (n_samples + 1)  # (S,)
    pr = np.clip(np.rint(sr + t[None, :] * di[:, None]), 0, h - 1).astype(np.intp)
    pc = np.clip(np.rint(sc + t[None, :] * dj[:, None]), 0, w - 1).astype(np.intp)
    z = np.nan_to_num(dem_m[pr, pc].astype(float))  # (P, S)
    d1 = t[None, :] * dist[:, None]
    d2 = dist[:, None] - d1
    eff = z + d1 * d2 / (2.0 * k_factor * EARTH_RADIUS_M)
    h_tx = z_tx + tx_height_m
    h_rx = np.nan_to_num(dem_m[rows, cols].astype(float)) + rx_height_m  # (P,)
    line = h_tx + (h_rx - h_tx)[:, None] * t[None, :]
    wavelength = _SPEED_OF_LIGHT_M_S / (f_mhz * 1e6)
    nu = (eff - line) * np.sqrt(2.0 * dist[:, None] / (wavelength * d1 * d2))
    return nu, eff, d1, dist, h_tx, h_rx


def _sub_path_nu(
    eff: NDArray[np.float64],
    x: NDArray[np.float64],
    x_a: NDArray[np.float64],
    h_a: NDArray[np.float64],
    x_b: NDArray[np.float64],
    h_b: NDArray[np.float64],
    wavelength: float,
) -> NDArray[np.float64]:
    """Max ν of samples strictly between points a and b (per row); -inf where there are none."""
    span = (x_b - x_a)[:, None]
    inside = (x > x_a[:, None]) & (x < x_b[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        line = h_a[:, None] + (h_b - h_a)[:, None] * (x - x_a[:, None]) / span
        da = x - x_a[:, None]
        db = x_b[:, None] - x
        nu = (eff - line) * np.sqrt(2.0 * span / (wavelength * da * db))
    nu = np.where(inside, nu, -np.inf)
    return nu.max(axis=1, initial=-np.inf)


def diffraction_loss_db(
    dem_m: NDArray[np.floating],
    res_m: float,
    site_rc: tuple[int, int],
    window: tuple[slice, slice],
    *,
    tx_height_m: float,
    rx_height_m: float,
    f_mhz: float,
    k_factor: float = 4.0 / 3.0,
    method: str = "deygout",
    max_samples: int = 256,
) -> NDArray[np.float32]:
    """Diffraction loss from transmitter ``site_rc`` to every pixel of ``window``.

    Parameters
    ----------
    dem_m : ndarray (rows, cols)
        Terrain height, m, on the coverage grid (NaN read as 0 m).
    res_m : float
        Pixel size, m.
    site_rc : (int, int)
        Row and column of the transmitter pixel (may lie outside the grid; heights are clamped).
    window : (slice, slice)
        Receiver rows and columns (grid indices, ``slice(start, stop)``).
    tx_height_m, rx_height_m : float, keyword-only
        Antenna heights above ground, m.
    f_mhz : float, keyword-only
        Frequency, MHz.
    k_factor : float, keyword-only
        Effective earth-radius factor (default 4/3).
    method : {"deygout", "single"}, keyword-only
        Three-edge Deygout or the principal edge only.
    max_samples : int, keyword-only
        Samples per profile: one per pixel of the window's extent, at most this many (default 256,
        i.e. a sample every 39 m on a 10 km path at 25 m pixels).

    Returns
    -------
    ndarray of float32
        Loss in dB (≥ 0), shape of the window; 0 where the path is unobstructed.
    """
    _check(method, res_m, f_mhz, tx_height_m, rx_height_m, k_factor)
    _check_window(dem_m, window)
    kernel = _compiled_kernel()
    if kernel is None:
        return _diffraction_loss_numpy(
            dem_m,
            res_m,
            site_rc,
            window,
            tx_height_m=tx_height_m,
            rx_height_m=rx_height_m,
            f_mhz=f_mhz,
            k_factor=k_factor,
            method=method,
            max_samples=max_samples,
        )
    r0, r1, c0, c1 = window[0].start, window[0].stop, window[1].start, window[1].stop
    out = np.zeros((max(r1 - r0, 0), max(c1 - c0, 0)), dtype=np.float32)
    if out.size == 0:
        return out
    sr, sc = (int(v) for v in site_rc)
    with KERNEL_LOCK:  # shared with the coverage kernel
        kernel(
            np.ascontiguousarray(dem_m),
            float(res_m),
            sr,
            sc,
            int(r0),
            int(c0),
            out,
            float(tx_height_m),
            float(rx_height_m),
            _SPEED_OF_LIGHT_M_S / (f_mhz * 1e6),
            2.0 * k_factor * EARTH_RADIUS_M,
            _n_samples(r0, r1, c0, c1, sr, sc, max_samples),
            method == "deygout",
        )
    return out


def _check(method: str, res_m: float, f_mhz: float, tx_m: float, rx_m: float, k_factor: float) -> None:
    """Raise ParameterError for an unknown method or a non-positive parameter."""
    if method not in ("deygout", "single"):
        raise ParameterError(f"diffraction method must be 'deygout' or 'single', got {method!r}")
    if not (res_m > 0 and f_mhz > 0 and tx_m > 0 and rx_m > 0 and k_factor > 0):
        raise ParameterError("diffraction: resolution, frequency, heights and k must be positive")


def _check_window(dem_m: NDArray[np.floating], window: tuple[slice, slice]) -> None:
    """Raise ParameterError unless the window's receivers lie on the DEM."""
    if dem_m.ndim != 2:
        raise ParameterError(f"diffraction: DEM must be 2-D, got shape {dem_m.shape}")
    for sl, size in zip(window, dem_m.shape, strict=True):
        if sl.start is None or sl.stop is None or sl.step not in (None, 1):
            raise ParameterError("diffraction: window slices need a start and a stop, step 1")
        if sl.stop > sl.start and (sl.start < 0 or sl.stop > size):
            raise ParameterError(f"diffraction: window {window} is not inside the DEM {dem_m.shape}")


def _n_samples(r0: int, r1: int, c0: int, c1: int, sr: int, sc: int, max_samples: int) -> int:
    """Samples per profile: the window's largest L1 pixel offset from the site, 4..max_samples."""
    max_px = max(abs(r0 - sr), abs(r1 - 1 - sr), 1) + max(abs(c0 - sc), abs(c1 - 1 - sc), 1)
    return max(4, min(max_px, max_samples))


def _compiled_kernel() -> Callable[..., None] | None:
    """The compiled kernel, or None when numba is not installed (the numpy reference is used)."""
    try:
        from analysis._terrain_numba import diffraction_window
    except ImportError:  # numba is a pinned requirement; the numpy path keeps working without it
        log.warning("numba not available; using the slower numpy terrain path")
        return None
    return diffraction_window  # type: ignore[no-any-return]


def _diffraction_loss_numpy(
    dem_m: NDArray[np.floating],
    res_m: float,
    site_rc: tuple[int, int],
    window: tuple[slice, slice],
    *,
    tx_height_m: float,
    rx_height_m: float,
    f_mhz: float,
    k_factor: float = 4.0 / 3.0,
    method: str = "deygout",
    max_samples: int = 256,
) -> NDArray[np.float32]:
    """Reference implementation of :func:`diffraction_loss_db` (numpy, (pixels, samples) chunks)."""
    _check(method, res_m, f_mhz, tx_height_m, rx_height_m, k_factor)
    rr = np.arange(window[0].start, window[0].stop)
    cc = np.arange(window[1].start, window[1].stop)
    out = np.zeros((rr.size, cc.size), dtype=np.float32)
    if out.size == 0:
        return out
    sr, sc = site_rc
    n_samples = _n_samples(int(rr[0]), int(rr[-1]) + 1, int(cc[0]), int(cc[-1]) + 1, sr, sc, max_samples)
    rows_per_chunk = max(1, _MAX_SAMPLES_PER_CHUNK // (n_samples * cc.size))
    wavelength = _SPEED_OF_LIGHT_M_S / (f_mhz * 1e6)
    for start in range(0, rr.size, rows_per_chunk):
        sub = rr[start : start + rows_per_chunk]
        rows = np.repeat(sub, cc.size)
        cols = np.tile(cc, sub.size)
        nu, eff, x, dist, h_tx, h_rx = _profile_nu(
            dem_m,
            res_m,
            site_rc,
            rows,
            cols,
            tx_height_m=tx_height_m,
            rx_height_m=rx_height_m,
            f_mhz=f_mhz,
            k_factor=k_factor,
            n_samples=n_samples,
        )
        p = nu.argmax(axis=1)
        nu_p = nu[np.arange(nu.shape[0]), p]
        loss = np.where(nu_p > 0, knife_edge_loss_db(nu_p), 0.0)
        if method == "deygout" and np.any(nu_p > 0):
            x_p = x[np.arange(x.shape[0]), p]
            e_p = eff[np.arange(eff.shape[0]), p]
            zeros = np.zeros_like(x_p)
            nu_l = _sub_path_nu(eff, x, zeros, np.full_like(x_p, h_tx), x_p, e_p, wavelength)
            nu_r = _sub_path_nu(eff, x, x_p, e_p, dist, h_rx, wavelength)
            for nu_s in (nu_l, nu_r):
                loss += np.where((nu_p > 0) & (nu_s > 0), knife_edge_loss_db(np.maximum(nu_s, -1.0)), 0.0)
        out[start : start + sub.size] = loss.reshape(sub.size, cc.size)
    return out


def line_of_sight(
    dem_m: NDArray[np.floating],
    res_m: float,
    site_rc: tuple[int, int],
    window: tuple[slice, slice],
    *,
    tx_height_m: float,
    rx_height_m: float,
    f_mhz: float = 1800.0,
    k_factor: float = 4.0 / 3.0,
) -> NDArray[np.bool_]:
    """True where no terrain sample rises above the straight line between the antennas."""
    loss = diffraction_loss_db(
        dem_m,
        res_m,
        site_rc,
        window,
        tx_height_m=tx_height_m,
        rx_height_m=rx_height_m,
        f_mhz=f_mhz,
        k_factor=k_factor,
        method="single",
    )
    return loss == 0.0
