"""Empirical path-loss models, vectorised over numpy arrays.

Every function takes distances in kilometres, frequencies in MHz and antenna heights in metres
above ground, broadcasts its inputs like a numpy ufunc and returns the basic transmission loss in
dB (float64 unless the distance array is float32). ``log`` is ``log10`` throughout.

Models and their published validity ranges
------------------------------------------

===========================  ===============  ==============  ===========  =============
model                        f (MHz)          hb (m)          hm (m)       d (km)
===========================  ===============  ==============  ===========  =============
free space                   any > 0          --              --           any > 0
Okumura-Hata (Hata 1980)     150 - 1500       30 - 200        1 - 10       1 - 20
COST-231 Hata                1500 - 2000      30 - 200        1 - 10       1 - 20
3GPP TR 38.901 RMa (7.4.1)   500 - 30000      10 - 150        1 - 10       0.01 - 10 (LOS), 5 (NLOS)
3GPP TR 38.901 UMa (7.4.1)   500 - 100000     25 (10 - 150)   1.5 - 22.5   0.01 - 5
===========================  ===============  ==============  ===========  =============

With ``strict=True`` any input outside these ranges raises :class:`geo.errors.ModelRangeError`.
With ``strict=False`` (what the coverage engine uses) frequency must still lie in the model's band
(the model is chosen by band, see :func:`model_for_band`), heights must be positive and distances
are extrapolated with the same formula, with the documented fallback that the loss is never below
free-space loss (this matters below ~0.4 km, where Hata extrapolated to short range would
otherwise predict less loss than free space). Base-station heights below 30 m are common on
Vietnamese macro sites (20-45 m); the Hata family is then extrapolated, as planning tools do.

Environment codes (``ENV_RURAL``, ``ENV_SUBURBAN``, ``ENV_URBAN``) select the area correction;
arrays of codes may be passed so that every pixel carries its own environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.errors import ModelRangeError

__all__ = [
    "ENV_RURAL",
    "ENV_SUBURBAN",
    "ENV_URBAN",
    "ENVIRONMENT_NAMES",
    "ModelName",
    "ModelRange",
    "MODEL_RANGES",
    "fspl_db",
    "hata_mobile_correction_db",
    "hata_area_correction_db",
    "okumura_hata_db",
    "cost231_hata_db",
    "tr38901_rma_db",
    "tr38901_uma_db",
    "model_for_band",
    "path_loss_db",
]

ENV_RURAL = 0
"""Environment code: rural / open area (Hata "open")."""
ENV_SUBURBAN = 1
"""Environment code: suburban."""
ENV_URBAN = 2
"""Environment code: urban (Hata medium-size city)."""
ENVIRONMENT_NAMES: dict[str, int] = {"rural": ENV_RURAL, "suburban": ENV_SUBURBAN, "urban": ENV_URBAN}

ModelName = Literal["fspl", "hata", "cost231", "tr38901"]
_SPEED_OF_LIGHT_M_S = 299_792_458.0


@dataclass(frozen=True)
class ModelRange:
    """Published validity range of one model (inclusive bounds)."""

    f_mhz: tuple[float, float]
    hb_m: tuple[float, float]
    hm_m: tuple[float, float]
    d_km: tuple[float, float]


MODEL_RANGES: dict[str, ModelRange] = {
    "hata": ModelRange((150.0, 1500.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0)),
    "cost231": ModelRange((1500.0, 2000.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0)),
    "tr38901_rma": ModelRange((500.0, 30000.0), (10.0, 150.0), (1.0, 10.0), (0.01, 10.0)),
    "tr38901_uma": ModelRange((500.0, 100000.0), (10.0, 150.0), (1.5, 22.5), (0.01, 5.0)),
}


def _check_range(
    name: str, d_km: NDArray[np.floating], f_mhz: ArrayLike, hb_m: ArrayLike, hm_m: ArrayLike, strict: bool
) -> None:
    rng = MODEL_RANGES[name]
    f = np.asarray(f_mhz, dtype=float)
    if np.any(f < rng.f_mhz[0]) or np.any(f > rng.f_mhz[1]):
        raise ModelRangeError(
            f"{name}: frequency {_span(f)} MHz outside the model band {rng.f_mhz[0]:g}-{rng.f_mhz[1]:g} MHz"
        )
    hb = np.asarray(hb_m, dtype=float)
    hm = np.asarray(hm_m, dtype=float)
    if np.any(hb <= 0) or np.any(hm <= 0):
        raise ModelRangeError(
            f"{name}: antenna heights must be positive (hb {_span(hb)} m, hm {_span(hm)} m)"
        )
    if np.any(np.asarray(d_km) <= 0):
        raise ModelRangeError(f"{name}: distances must be positive")
    if not strict:
        return
    for label, values, (lo, hi), unit in (
        ("base-station height", hb, rng.hb_m, "m"),
        ("mobile height", hm, rng.hm_m, "m"),
        ("distance", np.asarray(d_km, dtype=float), rng.d_km, "km"),
    ):
        if np.any(values < lo) or np.any(values > hi):
            raise ModelRangeError(
                f"{name}: {label} {_span(values)} {unit} outside validity range {lo:g}-{hi:g} {unit}"
            )


def _span(values: NDArray[np.floating]) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g}"


def _as_distance(d_km: ArrayLike) -> NDArray[np.floating]:
    d = np.asarray(d_km)
    if d.dtype != np.float32:
        d = d.astype(np.float64, copy=False)
    return d


def fspl_db(d_km: ArrayLike, f_mhz: ArrayLike) -> NDArray[np.floating]:
    """Free-space path loss.

    .. math:: L = 32.44 + 20\\log f + 20\\log d

    Parameters
    ----------
    d_km : array_like
        Distance, km (> 0).
    f_mhz : array_like
        Frequency, MHz (> 0).

    Returns
    -------
    ndarray
        Loss in dB. Source: ITU-R P.525 (with d in km, f in MHz).
    """
    d = _as_distance(d_km)
    if np.any(d <= 0) or np.any(np.asarray(f_mhz) <= 0):
        raise ModelRangeError("free-space loss needs positive distance and frequency")
    return (32.44 + 20.0 * np.log10(np.asarray(f_mhz, dtype=float))) + 20.0 * np.log10(d)


def hata_mobile_correction_db(f_mhz: ArrayLike, hm_m: ArrayLike) -> NDArray[np.floating]:
    """Hata mobile-antenna correction a(hm) for a small/medium city.

    .. math:: a(h_m) = (1.1\\log f - 0.7) h_m - (1.56\\log f - 0.8)
    """
    lf = np.log10(np.asarray(f_mhz, dtype=float))
    return (1.1 * lf - 0.7) * np.asarray(hm_m, dtype=float) - (1.56 * lf - 0.8)


def hata_area_correction_db(f_mhz: ArrayLike) -> NDArray[np.floating]:
    """Corrections subtracted from the urban loss, indexed by environment code.

    Returns an array ``[..., 3]`` with the correction for rural/open, suburban and urban:
    open ``4.78 (log f)^2 - 18.33 log f + 40.94``, suburban ``2 (log(f/28))^2 + 5.4``, urban 0.
    Source: Hata (1980), IEEE Trans. Veh. Technol. 29(3).
    """
    f = np.asarray(f_mhz, dtype=float)
    lf = np.log10(f)
    rural = 4.78 * lf**2 - 18.33 * lf + 40.94
    suburban = 2.0 * np.log10(f / 28.0) ** 2 + 5.4
    return np.stack([rural, suburban, np.zeros_like(rural)], axis=-1)


def _hata_family_db(
    d: NDArray[np.floating],
    f_mhz: ArrayLike,
    hb_m: ArrayLike,
    hm_m: ArrayLike,
    environment: ArrayLike,
    *,
    a_db: float,
    b_db: float,
    c_urban_db: float,
) -> NDArray[np.floating]:
    f = np.asarray(f_mhz, dtype=float)
    hb = np.asarray(hb_m, dtype=float)
    lhb = np.log10(hb)
    intercept = a_db + b_db * np.log10(f) - 13.82 * lhb - hata_mobile_correction_db(f, hm_m)
    slope = 44.9 - 6.55 * lhb
    env = np.asarray(environment)
    corrections = hata_area_correction_db(f)
    corrections = corrections - np.stack(
        [np.zeros_like(f), np.zeros_like(f), np.full_like(f, c_urban_db)], -1
    )
    if corrections.ndim == 1:
        corr = np.take(corrections, env)
    else:
        corr = np.take_along_axis(corrections, env[..., None].astype(np.intp), axis=-1)[..., 0]
    loss = intercept + slope * np.log10(d) - corr
    return np.maximum(loss, fspl_db(d, f))


def okumura_hata_db(
    d_km: ArrayLike,
    f_mhz: ArrayLike,
    hb_m: ArrayLike,
    hm_m: ArrayLike,
    environment: ArrayLike = ENV_URBAN,
    *,
    strict: bool = True,
) -> NDArray[np.floating]:
    """Okumura-Hata median path loss (150-1500 MHz).

    .. math::
        L_u = 69.55 + 26.16\\log f - 13.82\\log h_b - a(h_m) + (44.9 - 6.55\\log h_b)\\log d

    suburban :math:`L_u - 2(\\log(f/28))^2 - 5.4`, open/rural
    :math:`L_u - 4.78(\\log f)^2 + 18.33\\log f - 40.94`, a(hm) for a small/medium city.

    Parameters
    ----------
    d_km, f_mhz, hb_m, hm_m : array_like
        Distance (km), frequency (MHz), base-station and mobile antenna heights (m).
    environment : array_like of int
        ``ENV_RURAL`` (open), ``ENV_SUBURBAN`` or ``ENV_URBAN``; may be a per-pixel array.
    strict : bool, keyword-only
        Raise :class:`ModelRangeError` outside the published range (see module docstring); when
        False, extrapolate and never return less than free-space loss.

    Returns
    -------
    ndarray
        Loss in dB. Source: M. Hata, IEEE Trans. VT-29(3), 1980.
    """
    d = _as_distance(d_km)
    _check_range("hata", d, f_mhz, hb_m, hm_m, strict)
    return _hata_family_db(d, f_mhz, hb_m, hm_m, environment, a_db=69.55, b_db=26.16, c_urban_db=0.0)


def cost231_hata_db(
    d_km: ArrayLike,
    f_mhz: ArrayLike,
    hb_m: ArrayLike,
    hm_m: ArrayLike,
    environment: ArrayLike = ENV_URBAN,
    *,
    c_urban_db: float = 0.0,
    strict: bool = True,
) -> NDArray[np.floating]:
    """COST-231 Hata median path loss (1500-2000 MHz).

    .. math::
        L = 46.3 + 33.9\\log f - 13.82\\log h_b - a(h_m) + (44.9 - 6.55\\log h_b)\\log d + C

    ``C`` = 0 dB for medium-sized cities and suburban centres, 3 dB for metropolitan centres
    (``c_urban_db``; applied to urban pixels only). COST-231 defines no open-area variant; for
    suburban and rural pixels the Okumura-Hata suburban / open corrections evaluated at ``f`` are
    subtracted from the C = 0 loss (a common extension, documented in docs/COVERAGE.md).

    Parameters
    ----------
    d_km, f_mhz, hb_m, hm_m : array_like
        Distance (km), frequency (MHz), base-station and mobile antenna heights (m).
    environment : array_like of int
        Environment code(s), see module docstring.
    c_urban_db : float, keyword-only
        0 (medium city) or 3 (metropolitan centre).
    strict : bool, keyword-only
        As for :func:`okumura_hata_db`.

    Returns
    -------
    ndarray
        Loss in dB. Source: COST Action 231 final report (1999), ch. 4.4.
    """
    if c_urban_db not in (0.0, 3.0):
        raise ModelRangeError(f"COST-231 C must be 0 or 3 dB, got {c_urban_db}")
    d = _as_distance(d_km)
    _check_range("cost231", d, f_mhz, hb_m, hm_m, strict)
    return _hata_family_db(d, f_mhz, hb_m, hm_m, environment, a_db=46.3, b_db=33.9, c_urban_db=c_urban_db)


def _d3d_m(d_km: NDArray[np.floating], hb_m: ArrayLike, hm_m: ArrayLike) -> NDArray[np.floating]:
    dz = np.asarray(hb_m, dtype=float) - np.asarray(hm_m, dtype=float)
    return np.sqrt((d_km * 1000.0) ** 2 + dz**2)


def tr38901_rma_db(
    d_km: ArrayLike,
    f_mhz: ArrayLike,
    hb_m: ArrayLike,
    hm_m: ArrayLike,
    *,
    los: bool = False,
    building_height_m: float = 5.0,
    street_width_m: float = 20.0,
    strict: bool = True,
) -> NDArray[np.floating]:
    """3GPP TR 38.901 (v17) Table 7.4.1-1 rural macro (RMa) path loss.

    LOS: ``PL1 = 20 log(40 pi d3D fc / 3) + min(0.03 h^1.72, 10) log d3D - min(0.044 h^1.72, 14.77)
    + 0.002 log(h) d3D`` up to the breakpoint ``dBP = 2 pi hBS hUT fc / c``, then
    ``PL1(dBP) + 40 log(d3D / dBP)``. NLOS: ``max(PL_LOS, PL')`` with
    ``PL' = 161.04 - 7.1 log W + 7.5 log h - (24.37 - 3.7 (h/hBS)^2) log hBS
    + (43.42 - 3.1 log hBS)(log d3D - 3) + 20 log fc - (3.2 (log 11.75 hUT)^2 - 4.97)``
    (fc in GHz, distances in m, h average building height, W street width).

    Parameters
    ----------
    d_km, f_mhz, hb_m, hm_m : array_like
        2-D distance (km), frequency (MHz), BS and UT heights (m).
    los : bool, keyword-only
        Line-of-sight formula; default NLOS (coverage planning's conservative choice).
    building_height_m, street_width_m : float, keyword-only
        h and W of the model (defaults 5 m and 20 m as in the TR).
    strict : bool, keyword-only
        Raise outside 0.01-10 km (LOS) / 0.01-5 km (NLOS) and the height ranges.

    Returns
    -------
    ndarray
        Loss in dB (no shadow fading).
    """
    d = _as_distance(d_km)
    _check_range("tr38901_rma", d, f_mhz, hb_m, hm_m, strict)
    if strict and not los and np.any(d > 5.0):
        raise ModelRangeError("tr38901_rma: NLOS distance above 5 km")
    fc = np.asarray(f_mhz, dtype=float) / 1000.0
    hb = np.asarray(hb_m, dtype=float)
    hm = np.asarray(hm_m, dtype=float)
    h = building_height_m
    d3 = _d3d_m(d, hb, hm)

    def pl1(dist: NDArray[np.floating]) -> NDArray[np.floating]:
        return (
            20 * np.log10(40 * np.pi * dist * fc / 3)
            + min(0.03 * h**1.72, 10.0) * np.log10(dist)
            - min(0.044 * h**1.72, 14.77)
            + 0.002 * np.log10(h) * dist
        )

    d_bp = 2 * np.pi * hb * hm * fc * 1e9 / _SPEED_OF_LIGHT_M_S
    d2 = d * 1000.0
    pl_los = np.where(d2 <= d_bp, pl1(d3), pl1(np.broadcast_to(d_bp, d3.shape)) + 40 * np.log10(d3 / d_bp))
    if los:
        return pl_los.astype(d.dtype, copy=False)
    pl_n = (
        161.04
        - 7.1 * np.log10(street_width_m)
        + 7.5 * np.log10(h)
        - (24.37 - 3.7 * (h / hb) ** 2) * np.log10(hb)
        + (43.42 - 3.1 * np.log10(hb)) * (np.log10(d3) - 3)
        + 20 * np.log10(fc)
        - (3.2 * np.log10(11.75 * hm) ** 2 - 4.97)
    )
    return np.maximum(pl_los, pl_n).astype(d.dtype, copy=False)


def tr38901_uma_db(
    d_km: ArrayLike,
    f_mhz: ArrayLike,
    hb_m: ArrayLike,
    hm_m: ArrayLike,
    *,
    los: bool = False,
    strict: bool = True,
) -> NDArray[np.floating]:
    """3GPP TR 38.901 (v17) Table 7.4.1-1 urban macro (UMa) path loss.

    LOS: ``28.0 + 22 log d3D + 20 log fc`` up to ``d'BP = 4 h'BS h'UT fc / c`` (effective heights
    ``h - 1 m``), then ``28.0 + 40 log d3D + 20 log fc - 9 log(d'BP^2 + (hBS - hUT)^2)``.
    NLOS: ``max(PL_LOS, 13.54 + 39.08 log d3D + 20 log fc - 0.6 (hUT - 1.5))``.
    fc in GHz, distances in metres.

    Parameters
    ----------
    d_km, f_mhz, hb_m, hm_m : array_like
        2-D distance (km), frequency (MHz), BS and UT heights (m).
    los : bool, keyword-only
        Line-of-sight formula; default NLOS.
    strict : bool, keyword-only
        Raise outside 0.01-5 km and the height ranges.

    Returns
    -------
    ndarray
        Loss in dB (no shadow fading).
    """
    d = _as_distance(d_km)
    _check_range("tr38901_uma", d, f_mhz, hb_m, hm_m, strict)
    fc = np.asarray(f_mhz, dtype=float) / 1000.0
    hb = np.asarray(hb_m, dtype=float)
    hm = np.asarray(hm_m, dtype=float)
    d3 = _d3d_m(d, hb, hm)
    d_bp = 4 * (hb - 1.0) * (hm - 1.0) * fc * 1e9 / _SPEED_OF_LIGHT_M_S
    lfc = 20 * np.log10(fc)
    pl_los = np.where(
        d * 1000.0 <= d_bp,
        28.0 + 22 * np.log10(d3) + lfc,
        28.0 + 40 * np.log10(d3) + lfc - 9 * np.log10(d_bp**2 + (hb - hm) ** 2),
    )
    if los:
        return pl_los.astype(d.dtype, copy=False)
    pl_n = 13.54 + 39.08 * np.log10(d3) + lfc - 0.6 * (hm - 1.5)
    return np.maximum(pl_los, pl_n).astype(d.dtype, copy=False)


def model_for_band(f_mhz: float) -> ModelName:
    """Choose the propagation model for a carrier frequency.

    150-1500 MHz: Okumura-Hata; 1500-2000 MHz: COST-231 Hata; 2000-30000 MHz (the 2100, 2600 and
    3500 MHz bands): 3GPP TR 38.901 (UMa on urban pixels, RMa elsewhere).

    Raises
    ------
    ModelRangeError
        Below 150 MHz or above 30 GHz.
    """
    if 150.0 <= f_mhz < 1500.0:
        return "hata"
    if 1500.0 <= f_mhz <= 2000.0:
        return "cost231"
    if 2000.0 < f_mhz <= 30000.0:
        return "tr38901"
    raise ModelRangeError(f"no propagation model for {f_mhz:g} MHz (supported 150-30000 MHz)")


def path_loss_db(
    d_km: ArrayLike,
    f_mhz: float,
    hb_m: float,
    hm_m: float,
    environment: ArrayLike,
    *,
    model: ModelName | None = None,
    c_urban_db: float = 0.0,
    strict: bool = False,
) -> NDArray[np.floating]:
    """Path loss of one transmitter with the model chosen for its band.

    Parameters
    ----------
    d_km : array_like
        Horizontal distance, km.
    f_mhz, hb_m, hm_m : float
        Carrier frequency (MHz), base-station and receiver heights above ground (m).
    environment : array_like of int
        Environment code per element of ``d_km`` (broadcastable).
    model : {"fspl", "hata", "cost231", "tr38901"}, optional, keyword-only
        Override the per-band choice of :func:`model_for_band`.
    c_urban_db : float, keyword-only
        COST-231 metropolitan correction for urban pixels (0 or 3 dB).
    strict : bool, keyword-only
        Passed to the model; default lenient (extrapolate, floor at free space).

    Returns
    -------
    ndarray
        Loss in dB, same shape as the broadcast inputs.
    """
    name = model or model_for_band(float(f_mhz))
    if name == "fspl":
        return fspl_db(d_km, f_mhz) + np.zeros(np.shape(environment))
    if name == "hata":
        return okumura_hata_db(d_km, f_mhz, hb_m, hm_m, environment, strict=strict)
    if name == "cost231":
        return cost231_hata_db(d_km, f_mhz, hb_m, hm_m, environment, c_urban_db=c_urban_db, strict=strict)
    if name == "tr38901":
        env = np.asarray(environment)
        rma = tr38901_rma_db(d_km, f_mhz, hb_m, hm_m, strict=strict)
        if not np.any(env == ENV_URBAN):
            return rma + np.zeros(env.shape, dtype=rma.dtype)
        uma = tr38901_uma_db(d_km, f_mhz, hb_m, hm_m, strict=strict)
        return np.where(env == ENV_URBAN, uma, rma)
    raise ModelRangeError(f"unknown propagation model {name!r}")
