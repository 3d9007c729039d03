"""Downlink link budget: reference-signal power, sector antenna pattern, RSRP.

All powers in dBm, gains and losses in dB, angles in degrees (bearings clockwise from north).

The quantity mapped per technology is the one each technology's coverage is judged on:

* 4G LTE: RSRP, the power of one reference-signal resource element (15 kHz subcarrier);
* 5G NR: SS-RSRP per resource element (30 kHz subcarrier spacing by default);
* 3G UMTS: CPICH RSCP, the pilot channel (a fixed share of the total power);
* 2G GSM: RxLev of the BCCH carrier (full carrier power).

The raster products call all of them "RSRP" for brevity; docs/COVERAGE.md lists the per-technology
thresholds.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.errors import ParameterError

__all__ = [
    "subcarrier_count",
    "reference_power_dbm",
    "relative_angle_deg",
    "sector_gain_db",
    "rsrp_dbm",
]

_SUBCARRIER_SPACING_KHZ = {"4G": 15.0, "5G": 30.0}
_OCCUPIED_FRACTION = {"4G": 0.9, "5G": 0.9828}
"""LTE uses 90% of the channel (50 RB x 12 subcarriers in 10 MHz, 3GPP TS 36.101 Table 5.6-1);
NR 273 RB x 12 x 30 kHz in 100 MHz (TS 38.101-1 Table 5.3.2-1) is 98.3%."""


def subcarrier_count(technology: str, bandwidth_mhz: ArrayLike) -> NDArray[np.float64]:
    """Number of occupied subcarriers (resource elements per OFDM symbol).

    Parameters
    ----------
    technology : {"4G", "5G"}
        OFDM technology.
    bandwidth_mhz : array_like
        Channel bandwidth, MHz (> 0).

    Returns
    -------
    ndarray
        Subcarriers, e.g. 600 for 10 MHz LTE, 1200 for 20 MHz, 3276 for 100 MHz NR at 30 kHz.
    """
    if technology not in _SUBCARRIER_SPACING_KHZ:
        raise ParameterError(f"subcarriers are defined for 4G/5G only, not {technology!r}")
    bw = np.asarray(bandwidth_mhz, dtype=float)
    if np.any(~(bw > 0)):
        raise ParameterError("bandwidth_mhz must be positive")
    scs_khz = _SUBCARRIER_SPACING_KHZ[technology]
    per_rb = 12.0 * scs_khz / 1000.0
    n_rb = np.floor(bw * _OCCUPIED_FRACTION[technology] / per_rb + 1e-9)
    return n_rb * 12.0


def reference_power_dbm(
    eirp_dbm: ArrayLike, technology: str, bandwidth_mhz: ArrayLike, *, pilot_share_db: float = -10.0
) -> NDArray[np.float64]:
    """EIRP of the reference quantity of each technology.

    Parameters
    ----------
    eirp_dbm : array_like
        Total EIRP of the cell at boresight (transmit power + antenna gain - feeder loss), dBm.
    technology : {"2G", "3G", "4G", "5G"}
        Radio technology.
    bandwidth_mhz : array_like
        Carrier bandwidth, MHz (used for 4G/5G).
    pilot_share_db : float, keyword-only
        3G CPICH power relative to total power (default -10 dB, i.e. 10%).

    Returns
    -------
    ndarray
        4G/5G: EIRP per resource element ``EIRP - 10 log10(N_subcarriers)``; 3G: CPICH EIRP;
        2G: the BCCH carrier EIRP (unchanged).

    Examples
    --------
    >>> float(reference_power_dbm(59.0, "4G", 10.0))  # 46 dBm + 15 dBi - 2 dB over 10 MHz
    31.21848749616356
    """
    eirp = np.asarray(eirp_dbm, dtype=float)
    if technology in ("4G", "5G"):
        return eirp - 10.0 * np.log10(subcarrier_count(technology, bandwidth_mhz))
    if technology == "3G":
        return eirp + pilot_share_db
    if technology == "2G":
        return eirp + 0.0
    raise ParameterError(f"unknown technology {technology!r} (expected 2G, 3G, 4G or 5G)")


def relative_angle_deg(bearing_deg: ArrayLike, azimuth_deg: ArrayLike) -> NDArray[np.floating]:
    """Absolute angle between a bearing and the antenna boresight, folded into 0-180 degrees."""
    diff = np.abs(np.asarray(bearing_deg) - np.asarray(azimuth_deg)) % 360.0
    return np.minimum(diff, 360.0 - diff)


def sector_gain_db(
    theta_deg: ArrayLike, *, beamwidth_deg: ArrayLike = 65.0, max_attenuation_db: float = 20.0
) -> NDArray[np.floating]:
    """Horizontal sector antenna pattern relative to boresight (3GPP).

    .. math:: A(\\theta) = -\\min\\left(12 (\\theta / \\theta_{3dB})^2, A_m\\right)

    Parameters
    ----------
    theta_deg : array_like
        Angle off boresight, degrees (any sign; folded into -180..180).
    beamwidth_deg : array_like, keyword-only
        Half-power beamwidth θ3dB, degrees (default 65).
    max_attenuation_db : float, keyword-only
        Front-to-back ratio Am, dB (default 20; 3GPP TR 36.942 §4.2.1 uses 20, TR 38.901 30).

    Returns
    -------
    ndarray
        Gain in dB, 0 on boresight, -3 dB at ±θ3dB/2, never below -Am.
    """
    bw = np.asarray(beamwidth_deg, dtype=float)
    if np.any(~(bw > 0)) or np.any(bw > 360):
        raise ParameterError("beamwidth_deg must be in (0, 360]")
    if not (0 < max_attenuation_db < 100 and math.isfinite(max_attenuation_db)):
        raise ParameterError(f"max_attenuation_db must be in (0, 100), got {max_attenuation_db}")
    theta = relative_angle_deg(theta_deg, 0.0)
    return -np.minimum(12.0 * (theta / bw) ** 2, max_attenuation_db)


def rsrp_dbm(
    reference_power_dbm: ArrayLike,
    path_loss_db: ArrayLike,
    *,
    pattern_gain_db: ArrayLike = 0.0,
    indoor_loss_db: float = 0.0,
    margin_db: float = 0.0,
) -> NDArray[np.floating]:
    """Received reference-signal power.

    .. math:: RSRP = P_{RE} - L + A(\\theta) - L_{indoor} - M

    Parameters
    ----------
    reference_power_dbm : array_like
        EIRP of the reference quantity (see :func:`reference_power_dbm`), dBm.
    path_loss_db : array_like
        Propagation loss (and terrain diffraction loss), dB.
    pattern_gain_db : array_like, keyword-only
        Antenna pattern gain relative to boresight (≤ 0), dB.
    indoor_loss_db : float, keyword-only
        Outdoor-to-indoor penetration loss, dB (0 for outdoor coverage).
    margin_db : float, keyword-only
        Shadow-fading / reliability margin, dB.

    Returns
    -------
    ndarray
        RSRP in dBm.
    """
    return (
        np.asarray(reference_power_dbm)
        - np.asarray(path_loss_db)
        + np.asarray(pattern_gain_db)
        - indoor_loss_db
        - margin_db
    )
