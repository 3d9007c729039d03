"""Reference answers written from the documentation only (never from ``analysis/*.py``).

Radio: docs/COVERAGE.md "Propagation models", "Link budget and antennas", "Coverage classes".
Gaps: docs/GAPS.md §3 "Flags", "Priority", "Thresholds and their sources" (defaults of
``analysis/config/gaps.toml`` as the table in docs/GAPS.md lists them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# --- docs/COVERAGE.md "Coverage classes" (4G RSRP, dBm) and "Link budget" --------------------------
GOOD_DBM = -95.0
FAIR_DBM = -105.0
POOR_DBM = -115.0  # also the floor of the level raster ("a pixel no cell reaches holds the floor value")
CLASSES = ("none", "poor", "fair", "good")
RECEIVER_HEIGHT_M = 1.5  # "Receiver height 1.5 m"
SECTOR_AM_DB = 20.0  # "Am = 20 dB (TR 36.942 §4.2.1)"
DEFAULT_BEAMWIDTH_DEG = 65.0  # "θ3dB from beamwidth_deg (default 65°)"
DEFAULT_EIRP_4G_DBM = 59.0  # "EIRP defaults ... 4G 59 dBm"
DEFAULT_BANDWIDTH_4G_MHZ = 20.0  # "Bandwidth defaults 20 MHz (4G)"

# --- docs/GAPS.md "Thresholds and their sources" / "Flags" ------------------------------------------
NO_MOBILE_MAX_SHARE_NO_4G = 0.20
WEAK_MOBILE_MIN_SHARE_GOOD_4G = 0.80
DROP_REACH_M = 1000.0
EXTENDABLE_M = 5000.0
FTTH_MIN_SHARE = 0.80
SMARTPHONE_MIN_SHARE = 0.80
FRAGMENT_REATTACH_M = 500.0
SEVERITY = {
    "no_mobile": 1.0,
    "weak_mobile": 0.5,
    "no_fibre_out_of_reach": 0.8,
    "no_fibre_extendable": 0.4,
    "low_ftth": 0.3,
    "low_smartphone": 0.5,
}
FLAG_NAMES = {
    "no_mobile": "NO_MOBILE_COVERAGE",
    "weak_mobile": "WEAK_MOBILE_COVERAGE",
    "no_fibre": "NO_FIBRE_REACH",
    "low_ftth": "LOW_FTTH_TAKEUP",
    "low_smartphone": "LOW_SMARTPHONE",
}


# --- propagation (docs/COVERAGE.md "Propagation models") -------------------------------------------
def _a_hm(f_mhz: float, hm: float = RECEIVER_HEIGHT_M) -> float:
    """Hata mobile-antenna correction for a small / medium city (Hata 1980)."""
    lf = math.log10(f_mhz)
    return (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)


def hata_urban_db(f_mhz: float, hb_m: float, d_km: np.ndarray | float) -> np.ndarray:
    """Okumura-Hata urban loss (150-1500 MHz)."""
    lf, lh = math.log10(f_mhz), math.log10(hb_m)
    d = np.asarray(d_km, dtype=float)
    return 69.55 + 26.16 * lf - 13.82 * lh - _a_hm(f_mhz) + (44.9 - 6.55 * lh) * np.log10(d)


def cost231_urban_db(f_mhz: float, hb_m: float, d_km: np.ndarray | float, c_db: float = 0.0) -> np.ndarray:
    """COST-231 Hata loss (1500-2000 MHz), C = 0 dB (medium city)."""
    lf, lh = math.log10(f_mhz), math.log10(hb_m)
    d = np.asarray(d_km, dtype=float)
    return 46.3 + 33.9 * lf - 13.82 * lh - _a_hm(f_mhz) + (44.9 - 6.55 * lh) * np.log10(d) + c_db


def suburban_correction_db(f_mhz: float) -> float:
    """Okumura-Hata suburban correction, subtracted from the urban loss."""
    return 2.0 * math.log10(f_mhz / 28.0) ** 2 + 5.4


def open_correction_db(f_mhz: float) -> float:
    """Okumura-Hata open-area correction, subtracted from the urban loss."""
    lf = math.log10(f_mhz)
    return 4.78 * lf**2 - 18.33 * lf + 40.94


def free_space_db(f_mhz: float, d_km: np.ndarray | float) -> np.ndarray:
    """ITU-R P.525: 32.44 + 20 log f + 20 log d."""
    return 32.44 + 20.0 * math.log10(f_mhz) + 20.0 * np.log10(np.asarray(d_km, dtype=float))


def path_loss_db(f_mhz: float, hb_m: float, d_km: np.ndarray | float, environment: str) -> np.ndarray:
    """Model by band, environment correction, never less than free space (the engine's fallback)."""
    if 150.0 <= f_mhz < 1500.0:
        urban = hata_urban_db(f_mhz, hb_m, d_km)
    elif 1500.0 <= f_mhz <= 2000.0:
        urban = cost231_urban_db(f_mhz, hb_m, d_km)
    else:
        raise ValueError(f"the acceptance scenes use 150-2000 MHz only, not {f_mhz}")
    correction = {
        "urban": 0.0,
        "suburban": suburban_correction_db(f_mhz),
        "rural": open_correction_db(f_mhz),
    }[environment]
    return np.maximum(urban - correction, free_space_db(f_mhz, d_km))


# --- link budget (docs/COVERAGE.md "Link budget and antennas") -------------------------------------
def lte_power_per_re_dbm(eirp_dbm: float, bandwidth_mhz: float) -> float:
    """EIRP - 10 log10(N), N = 12 x RBs, RBs over 90 % of the channel (600 subcarriers in 10 MHz)."""
    subcarriers = 600.0 * bandwidth_mhz / 10.0
    return eirp_dbm - 10.0 * math.log10(subcarriers)


def sector_attenuation_db(off_boresight_deg: np.ndarray | float, beamwidth_deg: float) -> np.ndarray:
    """A(θ) = min(12 (θ/θ3dB)², Am) as a positive attenuation."""
    theta = np.asarray(off_boresight_deg, dtype=float)
    return np.minimum(12.0 * (theta / beamwidth_deg) ** 2, SECTOR_AM_DB)


@dataclass(frozen=True)
class RadioCell:
    """One evaluated 4G cell in metric coordinates (metres)."""

    cell_id: str
    operator: str  # canonical spelling
    x_m: float
    y_m: float
    height_m: float
    band_mhz: float
    eirp_dbm: float
    bandwidth_mhz: float
    azimuth_deg: float | None
    beamwidth_deg: float

    @property
    def p_re_dbm(self) -> float:
        """Reference power per resource element."""
        return lte_power_per_re_dbm(self.eirp_dbm, self.bandwidth_mhz)


def rsrp_dbm(
    cell: RadioCell, x_m: np.ndarray | float, y_m: np.ndarray | float, environment: str = "rural"
) -> np.ndarray:
    """RSRP = P_RE - L(d) - A(θ) at points (x_m, y_m); indoor loss and margin 0 (defaults)."""
    dx, dy = np.asarray(x_m, dtype=float) - cell.x_m, np.asarray(y_m, dtype=float) - cell.y_m
    d_km = np.hypot(dx, dy) / 1000.0
    level = cell.p_re_dbm - path_loss_db(cell.band_mhz, cell.height_m, d_km, environment)
    if cell.azimuth_deg is not None:
        bearing = np.degrees(np.arctan2(dx, dy))  # clockwise from (grid) north
        off = np.abs((bearing - cell.azimuth_deg + 180.0) % 360.0 - 180.0)
        level = level - sector_attenuation_db(off, cell.beamwidth_deg)
    return level


def best_levels(cells: Sequence[RadioCell], x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
    """Per-cell levels, shape (cells, points)."""
    return np.stack([rsrp_dbm(c, x_m, y_m) for c in cells])


def class_index(level_dbm: np.ndarray) -> np.ndarray:
    """0 none, 1 poor, 2 fair, 3 good (docs/COVERAGE.md table: good >=, fair >=, poor >=, none below)."""
    level = np.asarray(level_dbm)
    return (level >= POOR_DBM).astype(int) + (level >= FAIR_DBM) + (level >= GOOD_DBM)


def threshold_margin_db(level_dbm: np.ndarray, threshold_dbm: float) -> float:
    """Smallest distance (dB) of any level to a threshold."""
    return float(np.min(np.abs(np.asarray(level_dbm) - threshold_dbm)))


# --- gaps (docs/GAPS.md §3) -------------------------------------------------------------------------
@dataclass(frozen=True)
class GapInputs:
    """What a hamlet's flags depend on."""

    hamlet_id: str
    commune_id: str
    households: int
    share_good: float | None
    share_none: float | None
    reach_class: str  # drop / extendable / out_of_reach
    ftth_share: float | None
    smartphone_share: float | None


@dataclass(frozen=True)
class GapResult:
    """Expected flags, affected households (per flag) and priority of one hamlet."""

    flags: dict[str, bool]
    affected: dict[str, float]  # households affected per fired flag key
    contribution: dict[str, float]  # affected x severity per fired flag key

    @property
    def priority(self) -> float:
        """Σ households affected x severity over fired flags."""
        return sum(self.contribution.values())

    @property
    def affected_households(self) -> float:
        """The largest number of households affected by any one fired flag (0 without flags)."""
        return max(self.affected.values(), default=0.0)

    @property
    def main_flag(self) -> str:
        """The flag contributing most ("" without flags)."""
        if not self.contribution:
            return ""
        return FLAG_NAMES[max(self.contribution, key=lambda k: self.contribution[k])]

    @property
    def fired(self) -> set[str]:
        """Names of the fired flags."""
        return {FLAG_NAMES[k] for k, on in self.flags.items() if on}


def expected_gaps(h: GapInputs) -> GapResult:
    """Flags table of docs/GAPS.md §3, with the default thresholds and severities."""
    hh = float(h.households)
    flags = dict.fromkeys(FLAG_NAMES, False)
    affected: dict[str, float] = {}
    contribution: dict[str, float] = {}
    if h.share_none is not None and h.share_none > NO_MOBILE_MAX_SHARE_NO_4G:
        flags["no_mobile"] = True
        affected["no_mobile"] = hh * h.share_none
        contribution["no_mobile"] = affected["no_mobile"] * SEVERITY["no_mobile"]
    if h.share_good is not None and h.share_good < WEAK_MOBILE_MIN_SHARE_GOOD_4G and not flags["no_mobile"]:
        flags["weak_mobile"] = True
        affected["weak_mobile"] = hh * (1.0 - h.share_good)
        contribution["weak_mobile"] = affected["weak_mobile"] * SEVERITY["weak_mobile"]
    if h.reach_class != "drop":
        flags["no_fibre"] = True
        affected["no_fibre"] = hh
        key = "no_fibre_out_of_reach" if h.reach_class == "out_of_reach" else "no_fibre_extendable"
        contribution["no_fibre"] = hh * SEVERITY[key]
    if h.reach_class == "drop" and h.ftth_share is not None and h.ftth_share < FTTH_MIN_SHARE:
        flags["low_ftth"] = True
        affected["low_ftth"] = hh * (FTTH_MIN_SHARE - h.ftth_share)
        contribution["low_ftth"] = affected["low_ftth"] * SEVERITY["low_ftth"]
    if h.smartphone_share is not None and h.smartphone_share < SMARTPHONE_MIN_SHARE:
        flags["low_smartphone"] = True
        affected["low_smartphone"] = hh * (SMARTPHONE_MIN_SHARE - h.smartphone_share)
        contribution["low_smartphone"] = affected["low_smartphone"] * SEVERITY["low_smartphone"]
    return GapResult(flags, affected, contribution)


def reach_class(distance_m: float | None) -> str:
    """drop <= 1,000 m < extendable <= 5,000 m < out_of_reach (also: no road path)."""
    if distance_m is None:
        return "out_of_reach"
    if distance_m <= DROP_REACH_M:
        return "drop"
    return "extendable" if distance_m <= EXTENDABLE_M else "out_of_reach"


def ranks(rows: Sequence[tuple[str, str, float, int]]) -> dict[str, tuple[int, int]]:
    """(hamlet_id, commune_id, priority, households) -> {hamlet_id: (rank_province, rank_commune)}.

    Priority descending; ties: more households first, then hamlet_id; 1 = most urgent.
    """
    order = sorted(rows, key=lambda r: (-r[2], -r[3], r[0]))
    out: dict[str, tuple[int, int]] = {}
    seen: dict[str, int] = {}
    for position, (hid, cid, _, _) in enumerate(order, start=1):
        seen[cid] = seen.get(cid, 0) + 1
        out[hid] = (position, seen[cid])
    return out


# --- settlement footprints and household shares (docs/COVERAGE.md "Households per hamlet") ---------
HAMLET_RADIUS_M = 700.0


def lattice_in(polygon: Any, step_m: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Points of a regular ``step_m`` lattice inside ``polygon`` (for design margins)."""
    x0, y0, x1, y1 = polygon.bounds
    gx, gy = np.meshgrid(np.arange(x0 + step_m / 2, x1, step_m), np.arange(y0 + step_m / 2, y1, step_m))
    return _inside(polygon, gx.ravel(), gy.ravel())


def pixel_centres_in(polygon: Any, left: float, top: float, res: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the pixels of a north-up grid (top-left corner ``left``, ``top``) inside ``polygon``:
    "share of the footprint's pixels (pixel centre inside)"."""
    x0, y0, x1, y1 = polygon.bounds
    c0, c1 = math.floor((x0 - left) / res), math.ceil((x1 - left) / res)
    r0, r1 = math.floor((top - y1) / res), math.ceil((top - y0) / res)
    cols, rows = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1))
    return _inside(polygon, left + (cols.ravel() + 0.5) * res, top - (rows.ravel() + 0.5) * res)


def _inside(polygon: Any, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    keep = shapely.contains_xy(polygon, xs, ys)
    return xs[keep], ys[keep]


def snapped(cells: Sequence[RadioCell], left: float, top: float, res: float) -> list[RadioCell]:
    """Cells moved to the centre of their pixel ("Sites are snapped to the centre of their pixel")."""
    from dataclasses import replace

    out = []
    for c in cells:
        col, row = math.floor((c.x_m - left) / res), math.floor((top - c.y_m) / res)
        out.append(replace(c, x_m=left + (col + 0.5) * res, y_m=top - (row + 0.5) * res))
    return out


def median_class(shares: dict[str, float]) -> str:
    """The best class reached by at least half of the households."""
    reached = 0.0
    for name in reversed(CLASSES):
        reached += shares[name]
        if reached >= 0.5:
            return name
    return "none"


def class_shares(levels: np.ndarray) -> dict[str, float]:
    """Share of points per class."""
    cls = class_index(levels)
    return {name: float(np.mean(cls == i)) for i, name in enumerate(CLASSES)}


@dataclass(frozen=True)
class SignalExpectation:
    """Household shares per class over a footprint, per operator too, and threshold margins."""

    shares: dict[str, float]  # best of all operators: none / poor / fair / good
    operator_shares: dict[str, dict[str, float]]  # each operator's own best server
    margin_good_db: float  # min |level - (-95)| over the points
    margin_none_db: float  # min |level - (-115)|
    best_cell_at_point: str  # "" when no cell reaches the poor threshold at the hamlet point
    best_operator_at_point: str
    best_margin_at_point_db: float  # best minus second-best cell level at the point
    best_level_at_point_dbm: float | None  # None below the poor threshold

    @property
    def coverage_class(self) -> str:
        """Median household's class (best of all operators)."""
        return median_class(self.shares)

    @property
    def good_operators(self) -> set[str]:
        """Operators good on part of the footprint (``household_share_good`` > 0)."""
        return {op for op, sh in self.operator_shares.items() if sh["good"] > 0}

    @property
    def operators_good(self) -> int:
        """Operators whose representative (median) class is good."""
        return sum(median_class(sh) == "good" for sh in self.operator_shares.values())

    @property
    def status(self) -> str:
        """served / underserved / unserved (docs/COVERAGE.md "Hamlet status", defaults)."""
        classes = [median_class(sh) for sh in self.operator_shares.values()]
        if sum(c == "good" for c in classes) >= 1:
            return "served"
        return "unserved" if all(c == "none" for c in classes) else "underserved"


def expected_signal(
    cells: Sequence[RadioCell], xs: np.ndarray, ys: np.ndarray, point: tuple[float, float]
) -> SignalExpectation:
    """Best-server classes at the points ``xs, ys`` of one footprint."""
    levels = best_levels(cells, xs, ys)
    best = levels.max(axis=0)
    operators = sorted({c.operator for c in cells})
    per_op = {
        op: class_shares(levels[[i for i, c in enumerate(cells) if c.operator == op]].max(axis=0))
        for op in operators
    }
    at_point = best_levels(cells, np.array([point[0]]), np.array([point[1]]))[:, 0]
    order = np.argsort(-at_point, kind="stable")
    k = int(order[0])
    reached = bool(at_point[k] >= POOR_DBM)
    return SignalExpectation(
        class_shares(best),
        per_op,
        threshold_margin_db(best, GOOD_DBM),
        threshold_margin_db(best, POOR_DBM),
        cells[k].cell_id if reached else "",
        cells[k].operator if reached else "",
        float(at_point[k] - at_point[order[1]]) if len(cells) > 1 else math.inf,
        float(at_point[k]) if reached else None,
    )
