"""New-site planning: where up to N new sites bring the most households of under-served hamlets to
good coverage (issue 12 §4). The full description, with the objective and the guarantee, is in
``docs/PLANNING.md``.

Pipeline of :func:`plan_sites`
------------------------------
1. **Today.** The coverage engine (:mod:`analysis.coverage`, default or given parameters) predicts
   the best-server level of the planned-for operator (``operator``) or, without one, of every
   operator; pixels are classified with the technology's thresholds.
2. **Targets.** Per hamlet, the household shares per class over its settlement footprint, exactly
   as :mod:`analysis.coverage_stats` computes them (same footprint pixels, same population
   weighting). A hamlet is *under-served* when the signal flags of :mod:`analysis.gaps` fire on those
   shares: ``NO_MOBILE_COVERAGE`` (share without coverage above ``no_mobile_max_share_no_4g``) or
   ``WEAK_MOBILE_COVERAGE`` (share at good below ``weak_mobile_min_share_good_4g``), thresholds from
   :class:`analysis.params.GapThresholds`. Its *not-good households* ``households × (1 − good
   share)`` sit on the footprint pixels that are not good today, each pixel holding the hamlet's
   households times its weight share. The *items* of the covering problem are these pixels (a pixel
   in two hamlets' footprints carries both hamlets' households, counted once).
3. **Candidates**, in this order (ties in the greedy go to the earlier one): existing masts where the
   planned-for operator (without one: no operator) has no cell of the technology (infrastructure
   sharing, the host mast's height), then the centres of the under-served hamlets, then the nodes of
   a square grid over their footprints (new masts). Only candidates in the province and within
   reach of an item are kept; one per pixel.
4. **Coverage matrix.** Each candidate's cells (one sector per configured azimuth) are run through
   the engine alone (:func:`analysis.coverage.compute_coverage`) over a window of the grid around
   the site as large as the distance at which they could still reach the good threshold; the
   candidate covers an item where its level is good (:func:`analysis.coverage.classify_rsrp`).
   Since the item is not good today and the best server is the maximum over cells, the item is
   good after the plan exactly when some chosen candidate covers it.
5. **Choice.** Greedy maximum coverage with lazy re-evaluation (CELF, :func:`greedy_max_coverage`):
   each step adds the candidate with the largest marginal gain in households (ties: lowest
   candidate index) among those whose cost fits the budget left, until ``n_sites`` sites are chosen,
   no candidate fits or no candidate gains anything. The objective is a weighted coverage function
   (monotone submodular), so greedy reaches at least ``1 − 1/e`` of the optimum for a number of
   sites; :func:`exact_max_coverage` solves the integer program with scipy's HiGHS for small
   instances (tests, checks).

The result (:class:`SitePlan`) lists the chosen sites in the ``towers/sites.csv`` format (one row
per cell, ``status = planned``, site ids ``PLAN-001``...) with each site's marginal gain, the
cumulative gain, its cost and the hamlets it serves.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import math
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree
from shapely import points

from analysis.coverage import (
    NODATA_CLASS,
    Grid,
    Scene,
    build_scene,
    classify_rsrp,
    compute_coverage,
    compute_coverage_by_operator,
)
from analysis.coverage_params import (
    CLASS_NAMES,
    TECHNOLOGIES,
    CoverageParams,
    TechnologyParams,
    default_coverage_params,
)
from analysis.coverage_stats import StatisticsInputs, footprint_class_shares, prepare_statistics
from analysis.linkbudget import reference_power_dbm
from analysis.params import GapThresholds, default_gap_params
from analysis.propagation import path_loss_db
from geo.errors import ParameterError
from geo.schema import Operator, parse_category

if TYPE_CHECKING:
    from geo.package import DataPackage

__all__ = [
    "KINDS",
    "SITE_COLUMNS",
    "PLAN_COLUMNS",
    "TechnologyAntenna",
    "PlanningParams",
    "default_planning_params",
    "planning_params_from_mapping",
    "planning_params_from_toml",
    "GreedyResult",
    "ExactResult",
    "greedy_max_coverage",
    "exact_max_coverage",
    "PlanTargets",
    "CoverageProblem",
    "SitePlan",
    "plan_sites",
    "known_operator",
]

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("shared-mast", "new-mast")
"""``shared-mast``: new cells on an existing mast (co-location); ``new-mast``: a new mast."""

SITE_COLUMNS: tuple[str, ...] = (
    "site_id",
    "cell_id",
    "operator",
    "lat",
    "lon",
    "height_m",
    "status",
    "technology",
    "band_mhz",
    "azimuth_deg",
    "beamwidth_deg",
    "eirp_dbm",
    "bandwidth_mhz",
    "commune_id",
    "source",
)
"""The ``towers/sites.csv`` columns of :attr:`SitePlan.sites` (docs/DATA.md), in order."""

PLAN_COLUMNS: tuple[str, ...] = (
    "plan_rank",
    "kind",
    "candidate_id",
    "candidate_origin",
    "host_site_id",
    "host_operator",
    "marginal_gain_households",
    "cumulative_households",
    "cost_vnd",
    "cumulative_cost_vnd",
    "hamlets_served",
    "hamlets_served_count",
)
"""Site-level plan columns after :data:`SITE_COLUMNS` (repeated on each cell of a site, like the
site columns of ``towers/sites.csv``: sum them over sites, not cells)."""

_GOOD = CLASS_NAMES.index("good")
_NONE = CLASS_NAMES.index("none")
_ORIGIN_MAST, _ORIGIN_CENTRE, _ORIGIN_GRID = "existing mast", "hamlet centre", "grid"
_REACH_SLACK_DB = 0.5  # the engine's loss table interpolates (<= 0.12 dB): reach a little farther
_REACH_MARGIN_PX = 2  # site snapping and the last partial pixel


# ---------------------------------------------------------------------------------------------
# parameters


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ParameterError(message)


def _finite(value: object, lo: float, hi: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and lo <= value <= hi
    )


@dataclass(frozen=True)
class TechnologyAntenna:
    """Carrier and EIRP of the planned cells of one technology.

    Parameters
    ----------
    technology : str
        "2G", "3G", "4G" or "5G".
    band_mhz : float
        Carrier frequency of the planned cells, MHz.
    bandwidth_mhz : float
        Carrier bandwidth, MHz.
    eirp_dbm_by_band : tuple of (float, float)
        (band MHz, EIRP dBm) pairs: total EIRP of a cell on that band at boresight.
    """

    technology: str
    band_mhz: float
    bandwidth_mhz: float
    eirp_dbm_by_band: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        name = f"[antenna.{self.technology}]"
        _check(self.technology in TECHNOLOGIES, f"{name}: unknown technology")
        _check(_finite(self.band_mhz, 100.0, 100_000.0), f"{name}: band_mhz must be in [100, 100000] MHz")
        _check(_finite(self.bandwidth_mhz, 0.1, 400.0), f"{name}: bandwidth_mhz must be in [0.1, 400] MHz")
        for band, eirp in self.eirp_dbm_by_band:
            _check(_finite(band, 100.0, 100_000.0), f"{name}: eirp_dbm band {band!r} is not a band in MHz")
            _check(_finite(eirp, 1.0, 99.0), f"{name}: eirp_dbm for {band:g} MHz must be in [1, 99] dBm")
        self.eirp_dbm  # noqa: B018 - the carrier must have an EIRP

    @property
    def eirp_dbm(self) -> float:
        """EIRP of a planned cell on ``band_mhz``, dBm."""
        for band, eirp in self.eirp_dbm_by_band:
            if band == self.band_mhz:
                return float(eirp)
        have = ", ".join(f"{b:g}" for b, _ in self.eirp_dbm_by_band) or "none"
        raise ParameterError(
            f"[antenna.{self.technology}]: no eirp_dbm for band {self.band_mhz:g} MHz (have {have})"
        )


_DEFAULT_ANTENNAS = (
    TechnologyAntenna(
        "4G", 1800.0, 20.0, ((700.0, 59.0), (900.0, 59.0), (1800.0, 59.0), (2100.0, 59.0), (2600.0, 59.0))
    ),
    TechnologyAntenna("5G", 3500.0, 100.0, ((2600.0, 77.0), (3500.0, 77.0))),
    TechnologyAntenna("3G", 2100.0, 5.0, ((900.0, 56.0), (2100.0, 56.0))),
    TechnologyAntenna("2G", 900.0, 0.2, ((900.0, 56.0), (1800.0, 56.0))),
)
_COST_NOTE = (
    "PLACEHOLDERS, not prices: replace them with the province's own unit costs before using the budget"
)


@dataclass(frozen=True)
class PlanningParams:
    """Candidate antennas, candidate sources and unit costs (defaults: ``analysis/config/planning.toml``).

    Parameters
    ----------
    height_m : float
        Antenna height of a new mast, m.
    azimuths_deg : tuple of float
        One sector per azimuth (clockwise from north), deg.
    beamwidth_deg : float
        Horizontal half-power beamwidth of each sector, deg.
    shared_mast_use_site_height : bool
        On an existing mast, put the antennas at the highest ``height_m`` it carries today (else
        ``height_m``).
    antennas : tuple of TechnologyAntenna
        Carrier, bandwidth and EIRP per band of each technology.
    shared_masts, hamlet_centres, grid : bool
        Which candidate sources are used.
    grid_spacing_m : float
        Step of the candidate grid over the under-served hamlets, m.
    shared_mast_vnd, new_mast_vnd : float
        Cost of one site on an existing mast / on a new mast, VND. PLACEHOLDERS (``cost_note``).
    cost_note : str
        What the costs are (written into every output).
    """

    height_m: float = 30.0
    azimuths_deg: tuple[float, ...] = (0.0, 120.0, 240.0)
    beamwidth_deg: float = 65.0
    shared_mast_use_site_height: bool = True
    antennas: tuple[TechnologyAntenna, ...] = _DEFAULT_ANTENNAS
    shared_masts: bool = True
    hamlet_centres: bool = True
    grid: bool = True
    grid_spacing_m: float = 1000.0
    shared_mast_vnd: float = 700_000_000.0
    new_mast_vnd: float = 1_800_000_000.0
    cost_note: str = _COST_NOTE

    def __post_init__(self) -> None:
        _check(_finite(self.height_m, 1.0, 300.0), "[antenna] height_m must be in [1, 300] m")
        _check(
            0 < len(self.azimuths_deg) <= 12 and all(_finite(a, 0.0, 360.0) for a in self.azimuths_deg),
            "[antenna] azimuths_deg must list 1 to 12 angles in [0, 360] deg",
        )
        _check(_finite(self.beamwidth_deg, 1.0, 360.0), "[antenna] beamwidth_deg must be in [1, 360] deg")
        _check(
            _finite(self.grid_spacing_m, 25.0, 50_000.0),
            "[candidates] grid_spacing_m must be in [25, 50000] m",
        )
        for name in ("shared_mast_vnd", "new_mast_vnd"):
            _check(_finite(getattr(self, name), 0.0, 1e15), f"[costs] {name} must be a number >= 0 VND")
        techs = [a.technology for a in self.antennas]
        _check(len(set(techs)) == len(techs), "[antenna]: a technology is listed twice")
        _check(
            self.shared_masts or self.hamlet_centres or self.grid,
            "[candidates]: every candidate source is off",
        )

    def antenna(self, technology: str) -> TechnologyAntenna:
        """The planned cells' carrier of ``technology``; :class:`ParameterError` if none is configured."""
        for a in self.antennas:
            if a.technology == technology:
                return a
        have = ", ".join(a.technology for a in self.antennas)
        raise ParameterError(f"no [antenna.{technology}] in the planning parameters (have {have})")

    def cost_vnd(self, kind: str) -> float:
        """Unit cost of one site of ``kind`` (see :data:`KINDS`), VND."""
        return float(self.shared_mast_vnd if kind == "shared-mast" else self.new_mast_vnd)

    def with_overrides(self, **changes: Any) -> PlanningParams:
        """A validated copy with some fields replaced."""
        return dataclasses.replace(self, **changes)


_SECTIONS: dict[str, dict[str, str]] = {
    "antenna": {
        "height_m": "height_m",
        "azimuths_deg": "azimuths_deg",
        "beamwidth_deg": "beamwidth_deg",
        "shared_mast_use_site_height": "shared_mast_use_site_height",
    },
    "candidates": {
        "shared_masts": "shared_masts",
        "hamlet_centres": "hamlet_centres",
        "grid": "grid",
        "grid_spacing_m": "grid_spacing_m",
    },
    "costs": {"note": "cost_note", "shared_mast_vnd": "shared_mast_vnd", "new_mast_vnd": "new_mast_vnd"},
}


def _antenna_from_mapping(
    tech: str, values: Mapping[str, Any], base: TechnologyAntenna | None
) -> TechnologyAntenna:
    unknown = set(values) - {"band_mhz", "bandwidth_mhz", "eirp_dbm"}
    _check(not unknown, f"[antenna.{tech}]: unknown key(s) {', '.join(sorted(unknown))}")
    eirp = values.get("eirp_dbm")
    if eirp is not None:
        _check(isinstance(eirp, Mapping), f"[antenna.{tech}] eirp_dbm must be a table band -> dBm")
        try:
            by_band = tuple((float(b), v) for b, v in eirp.items())
        except ValueError:
            raise ParameterError(
                f'[antenna.{tech}] eirp_dbm: keys must be bands in MHz, e.g. "1800"'
            ) from None
    else:
        by_band = base.eirp_dbm_by_band if base else ()
    band = values.get("band_mhz", base.band_mhz if base else None)
    width = values.get("bandwidth_mhz", base.bandwidth_mhz if base else None)
    _check(band is not None and width is not None, f"[antenna.{tech}] needs band_mhz and bandwidth_mhz")
    return TechnologyAntenna(tech, band, width, by_band)  # type: ignore[arg-type]


def planning_params_from_mapping(
    data: Mapping[str, Any], *, base: PlanningParams | None = None
) -> PlanningParams:
    """Build :class:`PlanningParams` from the structure of ``planning.toml``; missing entries keep
    ``base`` (default: the dataclass defaults).

    Raises
    ------
    ParameterError
        Unknown sections or keys, wrong types, values out of range.
    """
    base = base or PlanningParams()
    unknown = set(data) - set(_SECTIONS)
    _check(not unknown, f"planning parameters: unknown section(s) {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    antennas = {a.technology: a for a in base.antennas}
    for section, keys in _SECTIONS.items():
        values = data.get(section, {})
        _check(isinstance(values, Mapping), f"[{section}] must be a table")
        for key, value in values.items():
            if section == "antenna" and key in TECHNOLOGIES:
                _check(isinstance(value, Mapping), f"[antenna.{key}] must be a table")
                antennas[key] = _antenna_from_mapping(key, value, antennas.get(key))
                continue
            _check(key in keys, f"[{section}]: unknown key {key!r}")
            changes[keys[key]] = value
    if "azimuths_deg" in changes:
        _check(isinstance(changes["azimuths_deg"], list), "[antenna] azimuths_deg must be a list of angles")
        changes["azimuths_deg"] = tuple(changes["azimuths_deg"])
    for flag_name in ("shared_mast_use_site_height", "shared_masts", "hamlet_centres", "grid"):
        if flag_name in changes:
            _check(isinstance(changes[flag_name], bool), f"{flag_name} must be true or false")
    if "cost_note" in changes:
        changes["cost_note"] = str(changes["cost_note"])
    changes["antennas"] = tuple(antennas.values())
    return dataclasses.replace(base, **changes)


def planning_params_from_toml(path: Path | str, *, base: PlanningParams | None = None) -> PlanningParams:
    """Read a TOML file laid out like ``analysis/config/planning.toml`` (missing entries keep ``base``)."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read planning parameters: {exc.strerror}") from None
    return planning_params_from_mapping(data, base=base)


def default_planning_params() -> PlanningParams:
    """The bundled defaults from ``analysis/config/planning.toml``."""
    text = resources.files("analysis.config").joinpath("planning.toml").read_text(encoding="utf-8")
    return planning_params_from_mapping(tomllib.loads(text))


def known_operator(name: str) -> str:
    """The canonical name of an operator (aliases such as "VNPT" accepted).

    Raises
    ------
    ParameterError
        ``name`` is not a licensed operator; the message lists the valid names.
    """
    op = parse_category(Operator, name)
    if op is None:
        raise ParameterError(
            f"operator {name!r} is not a known operator; use one of {', '.join(o.value for o in Operator)}"
        )
    return str(op.value)


# ---------------------------------------------------------------------------------------------
# maximum coverage: greedy (lazy) and exact


@dataclass(frozen=True)
class GreedyResult:
    """Sites chosen by :func:`greedy_max_coverage`, in the order they were chosen.

    Attributes
    ----------
    chosen : tuple of int
        Candidate rows.
    gains : tuple of float
        Marginal gain of each choice (weight newly covered).
    costs : tuple of float
        Cost of each choice (0 without costs).
    evaluations : int
        Marginal gains computed (the lazy variant computes far fewer than ``k × candidates``).
    stop : str
        Why it stopped: ``"k"`` (k chosen), ``"budget"`` (no candidate fits the budget left),
        ``"no gain"`` (nothing left to cover) or ``"no candidate"``.
    """

    chosen: tuple[int, ...]
    gains: tuple[float, ...]
    costs: tuple[float, ...]
    evaluations: int
    stop: str

    @property
    def total_gain(self) -> float:
        """Weight covered by all choices."""
        return float(sum(self.gains))

    @property
    def total_cost(self) -> float:
        """Cost of all choices."""
        return float(sum(self.costs))


@dataclass(frozen=True)
class ExactResult:
    """Optimum of the integer program of :func:`exact_max_coverage`.

    Attributes
    ----------
    chosen : tuple of int
        Candidate rows of the optimal choice (ascending).
    total_gain : float
        Weight they cover.
    optimal : bool
        HiGHS proved optimality (False: time limit; ``total_gain`` is then the best found).
    message : str
        The solver's status message.
    """

    chosen: tuple[int, ...]
    total_gain: float
    optimal: bool
    message: str


def _as_csr(matrix: ArrayLike | sp.sparray | sp.spmatrix) -> sp.csr_array:
    out = sp.csr_array(matrix, dtype=bool)
    out.sum_duplicates()
    out.sort_indices()
    return out


def _problem_inputs(
    matrix: ArrayLike | sp.sparray | sp.spmatrix,
    weights: ArrayLike,
    k: int,
    costs: ArrayLike | None,
    budget: float | None,
) -> tuple[sp.csr_array, NDArray[np.float64], NDArray[np.float64]]:
    csr = _as_csr(matrix)
    w = np.asarray(weights, dtype=np.float64).ravel()
    _check(w.shape == (csr.shape[1],), f"weights: {len(w)} values for {csr.shape[1]} items")
    _check(bool(np.all(np.isfinite(w) & (w >= 0))), "weights must be finite and >= 0")
    _check(isinstance(k, int | np.integer) and k >= 0, f"k must be an integer >= 0, got {k!r}")
    c = np.zeros(csr.shape[0]) if costs is None else np.asarray(costs, dtype=np.float64).ravel()
    _check(c.shape == (csr.shape[0],), f"costs: {len(c)} values for {csr.shape[0]} candidates")
    _check(bool(np.all(np.isfinite(c) & (c >= 0))), "costs must be finite and >= 0")
    if budget is not None:
        _check(costs is not None, "a budget needs costs")
        _check(_finite(float(budget), 0.0, math.inf), f"budget must be a number >= 0, got {budget!r}")
    return csr, w, c


def greedy_max_coverage(
    matrix: ArrayLike | sp.sparray | sp.spmatrix,
    weights: ArrayLike,
    k: int,
    costs: ArrayLike | None = None,
    budget: float | None = None,
    *,
    lazy: bool = True,
) -> GreedyResult:
    """Greedy weighted maximum coverage, with lazy re-evaluation (CELF).

    Each step adds the candidate whose newly covered items weigh most (ties: the lowest candidate
    row) among the candidates whose cost fits the budget left; it stops after ``k`` choices, when
    no candidate fits or when the best gain is 0. The lazy variant keeps every candidate's last
    gain in a heap as an upper bound (gains only shrink as items get covered: submodularity) and
    re-evaluates only the top until the top is fresh; it returns exactly the choices of the plain
    variant (``lazy=False``, every gain recomputed at every step).

    Parameters
    ----------
    matrix : array_like or scipy sparse, shape (candidates, items)
        True where a candidate covers an item.
    weights : array_like, shape (items,)
        Weight of each item (>= 0), e.g. households.
    k : int
        Most candidates to choose.
    costs : array_like, shape (candidates,), optional
        Cost of each candidate (>= 0).
    budget : float, optional
        Total cost not to exceed (needs ``costs``).
    lazy : bool, keyword-only
        CELF (default) or plain greedy.

    Returns
    -------
    GreedyResult

    Raises
    ------
    ParameterError
        Shapes disagree, negative weights or costs, a budget without costs.
    """
    csr, w, c = _problem_inputs(matrix, weights, k, costs, budget)
    left = math.inf if budget is None else float(budget)
    covered = np.zeros(csr.shape[1], dtype=bool)
    indptr, indices = csr.indptr, csr.indices
    evaluations = 0

    def gain(i: int) -> float:
        nonlocal evaluations
        evaluations += 1
        items = indices[indptr[i] : indptr[i + 1]]
        return float(w[items[~covered[items]]].sum())

    chosen: list[int] = []
    gains: list[float] = []
    stop = "k"
    alive = np.ones(csr.shape[0], dtype=bool)
    heap: list[tuple[float, int, int]] = [
        (-math.inf, i, -1) for i in range(csr.shape[0])
    ]  # (-bound, row, step)
    while len(chosen) < k:
        alive &= c <= left
        if lazy:
            pick, best = _lazy_step(heap, alive, len(chosen), gain)
        else:
            pick, best = _plain_step(alive, gain)
        if pick < 0:
            stop = "budget" if budget is not None and csr.shape[0] > len(chosen) else "no candidate"
            break
        if best <= 0.0:
            stop = "no gain"
            break
        chosen.append(pick)
        gains.append(best)
        alive[pick] = False
        covered[indices[indptr[pick] : indptr[pick + 1]]] = True
        left -= c[pick]
    return GreedyResult(tuple(chosen), tuple(gains), tuple(float(c[i]) for i in chosen), evaluations, stop)


def _plain_step(alive: NDArray[np.bool_], gain: Callable[[int], float]) -> tuple[int, float]:
    rows = np.nonzero(alive)[0]
    if not len(rows):
        return -1, 0.0
    values = np.array([gain(int(i)) for i in rows])
    j = int(np.argmax(values))  # first maximum: lowest row on ties
    return int(rows[j]), float(values[j])


def _lazy_step(
    heap: list[tuple[float, int, int]], alive: NDArray[np.bool_], step: int, gain: Callable[[int], float]
) -> tuple[int, float]:
    """Pop until the top of the heap was evaluated at this step (ties: lowest row, the heap order)."""
    while heap:
        neg_bound, i, seen = heap[0]
        if not alive[i]:
            heapq.heappop(heap)
            continue
        if seen == step:
            heapq.heappop(heap)
            return i, -neg_bound
        heapq.heapreplace(heap, (-gain(i), i, step))
    return -1, 0.0


def _merged_items(csr: sp.csr_array, w: NDArray[np.float64]) -> tuple[sp.csc_array, NDArray[np.float64]]:
    """Items covered by the same candidates merged into one (weights summed); uncovered items dropped."""
    csc = sp.csc_array(csr)
    csc.sort_indices()
    groups: dict[bytes, int] = {}
    group_of = np.empty(csc.shape[1], dtype=np.int64)
    for j in range(csc.shape[1]):
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        group_of[j] = groups.setdefault(rows.tobytes(), len(groups)) if len(rows) else -1
    keep = group_of >= 0
    merged_w = np.bincount(group_of[keep], weights=w[keep], minlength=len(groups)).astype(np.float64)
    first = np.unique(group_of[keep], return_index=True)[1]
    columns = np.nonzero(keep)[0][first]
    return sp.csc_array(csc[:, columns]), merged_w


def exact_max_coverage(
    matrix: ArrayLike | sp.sparray | sp.spmatrix,
    weights: ArrayLike,
    k: int,
    costs: ArrayLike | None = None,
    budget: float | None = None,
    *,
    time_limit_s: float = 60.0,
) -> ExactResult:
    """Optimal weighted maximum coverage by integer programming (scipy.optimize.milp, HiGHS).

    maximise Σ_i w_i y_i subject to y_i ≤ Σ_{c covers i} x_c, Σ_c x_c ≤ k, Σ_c cost_c x_c ≤ budget,
    x binary, 0 ≤ y ≤ 1. Items covered by the same candidates are merged first. Meant for small
    instances (tests, checks of the greedy choice): the solve time grows quickly with size.

    Parameters
    ----------
    matrix, weights, k, costs, budget
        As for :func:`greedy_max_coverage`.
    time_limit_s : float, keyword-only
        Solver time limit, s.

    Returns
    -------
    ExactResult
    """
    csr, w, c = _problem_inputs(matrix, weights, k, costs, budget)
    n = csr.shape[0]
    if n == 0 or k == 0:
        return ExactResult((), 0.0, True, "trivial")
    cover, merged_w = _merged_items(csr, w)
    m = cover.shape[1]
    # rows: y_j - sum_c cover[c, j] x_c <= 0 (one per merged item), sum x <= k, sum cost x <= budget
    link = sp.hstack([-cover.T.astype(np.float64), sp.eye_array(m)], format="csr")
    rows = [link, sp.csr_array(np.concatenate([np.ones(n), np.zeros(m)])[None, :])]
    upper = [np.zeros(m), np.array([float(k)])]
    if budget is not None:
        rows.append(sp.csr_array(np.concatenate([c, np.zeros(m)])[None, :]))
        upper.append(np.array([float(budget)]))
    constraint = LinearConstraint(sp.vstack(rows, format="csr"), -np.inf, np.concatenate(upper))
    result = milp(
        c=np.concatenate([np.zeros(n), -merged_w]),
        constraints=constraint,
        integrality=np.concatenate([np.ones(n), np.zeros(m)]),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": float(time_limit_s), "mip_rel_gap": 0.0},
    )
    if result.x is None:
        return ExactResult((), 0.0, False, str(result.message))
    chosen = tuple(int(i) for i in np.nonzero(result.x[:n] > 0.5)[0])
    return ExactResult(chosen, _covered_weight(csr, w, chosen), result.status == 0, str(result.message))


def _covered_weight(csr: sp.csr_array, w: NDArray[np.float64], chosen: Sequence[int]) -> float:
    covered = np.zeros(csr.shape[1], dtype=bool)
    for i in chosen:
        covered[csr.indices[csr.indptr[i] : csr.indptr[i + 1]]] = True
    return float(w[covered].sum())


# ---------------------------------------------------------------------------------------------
# targets: under-served hamlets and their not-good pixels


@dataclass(frozen=True)
class PlanTargets:
    """The under-served hamlets and the pixels whose households the plan tries to bring to good.

    Attributes
    ----------
    hamlets : DataFrame
        One row per under-served hamlet: ``row`` (row in the statistics' hamlets), ``hamlet_id``,
        ``hamlet_name``, ``commune_id``, ``households``, ``share_good``, ``share_none``,
        ``not_good_households`` (households × (1 − share_good)), ``flag``.
    item_pixels : ndarray of int64
        Flat grid index of each item (sorted, unique): a footprint pixel not good today.
    item_households : ndarray of float64
        Households on each item (summed over the hamlets whose footprint holds it).
    element_item, element_hamlet : ndarray of int64
        Per (hamlet, pixel) element, sorted by item: its item and its row in ``hamlets``.
    element_households : ndarray of float64
        Households of that hamlet on that pixel.
    """

    hamlets: pd.DataFrame
    item_pixels: NDArray[np.int64]
    item_households: NDArray[np.float64]
    element_item: NDArray[np.int64]
    element_hamlet: NDArray[np.int64]
    element_households: NDArray[np.float64]

    @property
    def element_ptr(self) -> NDArray[np.int64]:
        """Start of each item's elements (CSR pointer, length items + 1)."""
        return np.searchsorted(self.element_item, np.arange(len(self.item_pixels) + 1)).astype(np.int64)


def _pixel_weights(
    pix: NDArray[np.int64],
    unit: NDArray[np.int64],
    inside: NDArray[np.bool_],
    n: int,
    population: NDArray[np.floating] | None,
) -> NDArray[np.float64]:
    """Share of its hamlet's households on each footprint pixel, as coverage_stats spreads them:
    uniform over the pixels inside the province, or by population where the footprint holds some."""
    ones = inside.astype(np.float64)
    count = np.bincount(unit, weights=ones, minlength=n)
    share = np.divide(ones, count[unit], out=np.zeros_like(ones), where=count[unit] > 0)
    if population is None:
        return share
    pop = np.clip(np.nan_to_num(np.asarray(population).ravel()[pix].astype(np.float64)), 0, None) * ones
    total = np.bincount(unit, weights=pop, minlength=n)
    weighted = np.divide(pop, total[unit], out=np.zeros_like(pop), where=total[unit] > 0)
    return np.where(total[unit] > 0, weighted, share)


def _targets(
    prepared: StatisticsInputs,
    classes: NDArray[np.uint8],
    grid: Grid,
    thresholds: GapThresholds,
    population: NDArray[np.floating] | None,
) -> PlanTargets:
    """Under-served hamlets (the signal flags of analysis.gaps on the coverage_stats shares) and the
    households on their footprint pixels that are not good today."""
    ham = prepared.hamlets
    n = len(ham)
    shares = footprint_class_shares(
        prepared.footprints,
        grid,
        {"today": classes},
        anchors_xy=prepared.anchors_xy,
        population=population,
        pixels=prepared.pixels,
    )["today"]
    hh = pd.to_numeric(ham["households"], errors="coerce").fillna(0).to_numpy(dtype=float)
    good, none = shares[:, _GOOD], shares[:, _NONE]
    known = ~np.isnan(shares).any(axis=1)
    no_mobile = known & (none > thresholds.no_mobile_max_share_no_4g)
    weak = known & ~no_mobile & (good < thresholds.weak_mobile_min_share_good_4g)
    flagged = np.nonzero((no_mobile | weak) & (hh > 0))[0]
    pix, unit = prepared.pixels
    cls = classes.ravel()[pix]
    weight = _pixel_weights(pix, unit, cls != NODATA_CLASS, n, population)
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[flagged] = np.arange(len(flagged))
    take = (row_of[unit] >= 0) & (cls != NODATA_CLASS) & (cls != _GOOD) & (weight > 0)
    e_pix, e_ham = pix[take], row_of[unit[take]]
    e_hh = hh[unit[take]] * weight[take]
    item_pixels, e_item = np.unique(e_pix, return_inverse=True)
    order = np.argsort(e_item, kind="stable")
    table = pd.DataFrame(
        {
            "row": flagged,
            "hamlet_id": ham["hamlet_id"].astype(str).to_numpy()[flagged],
            "hamlet_name": (
                ham["hamlet_name"].astype(str) if "hamlet_name" in ham else ham["hamlet_id"].astype(str)
            ).to_numpy()[flagged],
            "commune_id": ham["commune_id"].astype(str).to_numpy()[flagged],
            "households": hh[flagged],
            "share_good": good[flagged],
            "share_none": none[flagged],
            "not_good_households": hh[flagged] * (1.0 - good[flagged]),
            "flag": np.where(no_mobile[flagged], "NO_MOBILE_COVERAGE", "WEAK_MOBILE_COVERAGE"),
        }
    )
    return PlanTargets(
        table,
        item_pixels.astype(np.int64),
        np.bincount(e_item, weights=e_hh, minlength=len(item_pixels)).astype(np.float64),
        e_item[order].astype(np.int64),
        e_ham[order].astype(np.int64),
        e_hh[order],
    )


# ---------------------------------------------------------------------------------------------
# candidates


def _considered(cells: gpd.GeoDataFrame, include_planned: bool) -> NDArray[np.bool_]:
    status = cells["status"].astype(str)
    mask = status == "active"
    if include_planned:
        mask |= status == "planned"
    return mask.to_numpy()


def _good_reach_px(
    antenna: TechnologyAntenna, height_m: float, params: CoverageParams, technology: str
) -> int:
    """Pixels beyond which a planned cell cannot reach the good threshold at boresight in the least
    lossy environment (the engine's models, :func:`analysis.propagation.path_loss_db`), plus margin."""
    res = params.resolution_m
    cap_px = max(1, int(params.max_radius_km * 1000.0 / res))
    d_km = np.maximum(np.arange(cap_px + 1, dtype=np.float64), 0.5) * res / 1000.0
    least = np.min(
        [
            path_loss_db(
                d_km,
                antenna.band_mhz,
                height_m,
                params.receiver_height_m,
                np.full(d_km.shape, env, dtype=np.uint8),
                c_urban_db=params.cost231_urban_c_db,
            )
            for env in (0, 1, 2)
        ],
        axis=0,
    )
    envelope = np.minimum.accumulate(least[::-1])[::-1]
    ref = float(
        reference_power_dbm(
            antenna.eirp_dbm, technology, antenna.bandwidth_mhz, pilot_share_db=params.pilot_share_db
        )
    )
    budget = (
        ref - params.indoor_loss_db - params.margin_db - params.tech(technology).good_dbm + _REACH_SLACK_DB
    )
    return max(int(np.searchsorted(envelope, budget, side="right")) - 1, 0) + _REACH_MARGIN_PX


def _site_table(cells: gpd.GeoDataFrame, grid: Grid, considered: NDArray[np.bool_]) -> pd.DataFrame:
    """One row per existing mast (site_id with a considered cell): location, height, operator."""
    metric = cells[considered].to_crs(grid.crs)
    frame = pd.DataFrame(
        {
            "site_id": metric["site_id"].astype(str).to_numpy(),
            "operator": metric["operator"].astype(str).to_numpy(),
            "x": metric.geometry.x.to_numpy(),
            "y": metric.geometry.y.to_numpy(),
            "height_m": pd.to_numeric(metric["height_m"], errors="coerce").to_numpy(dtype=float),
        }
    )
    return (
        frame.groupby("site_id", sort=True)
        .agg(operator=("operator", "first"), x=("x", "first"), y=("y", "first"), height_m=("height_m", "max"))
        .reset_index()
    )


def _shared_masts(
    cells: gpd.GeoDataFrame,
    grid: Grid,
    *,
    operator: str | None,
    technology: str,
    include_planned: bool,
) -> pd.DataFrame:
    """Existing masts without a (considered) cell of ``technology`` of ``operator`` (any operator
    when None), sorted by site id."""
    considered = _considered(cells, include_planned)
    if not considered.any():
        return pd.DataFrame(columns=["site_id", "operator", "x", "y", "height_m"])
    sites = _site_table(cells, grid, considered)
    has = considered & (cells["technology"].astype(str) == technology).to_numpy()
    if operator is not None:
        has &= (cells["operator"].astype(str) == operator).to_numpy()
    served = set(cells["site_id"].astype(str).to_numpy()[has])
    return sites[~sites["site_id"].isin(served)].reset_index(drop=True)


def _candidate_frame(
    xy: NDArray[np.float64],
    origin: str,
    kind: str,
    grid: Grid,
    heights: NDArray[np.float64],
    hosts: pd.DataFrame | None,
) -> pd.DataFrame:
    row, col = grid.rowcol(xy[:, 0], xy[:, 1])
    frame = pd.DataFrame(
        {
            "kind": kind,
            "origin": origin,
            "host_site_id": "" if hosts is None else hosts["site_id"].to_numpy(),
            "host_operator": "" if hosts is None else hosts["operator"].to_numpy(),
            "x_m": xy[:, 0],
            "y_m": xy[:, 1],
            "row": row,
            "col": col,
            "height_m": heights,
        }
    )
    return frame


def _candidates(
    scene: Scene,
    targets: PlanTargets,
    prepared: StatisticsInputs,
    cells: gpd.GeoDataFrame,
    *,
    operator: str | None,
    technology: str,
    planning: PlanningParams,
    params: CoverageParams,
    include_planned: bool,
) -> pd.DataFrame:
    """Candidate sites: shared masts, hamlet centres, grid nodes; in the province, near an item,
    one per pixel (first kept), with ids ``C00001``... and costs."""
    grid = scene.grid
    item_r, item_c = np.divmod(targets.item_pixels, grid.width)
    parts: list[pd.DataFrame] = []
    if planning.shared_masts:
        masts = _shared_masts(
            cells, grid, operator=operator, technology=technology, include_planned=include_planned
        )
        heights = masts["height_m"].to_numpy(dtype=float)
        if not planning.shared_mast_use_site_height:
            heights = np.full(len(masts), planning.height_m)
        heights = np.where(np.isfinite(heights) & (heights > 0), heights, planning.height_m)
        xy = masts[["x", "y"]].to_numpy(dtype=float).reshape(-1, 2)
        parts.append(_candidate_frame(xy, _ORIGIN_MAST, "shared-mast", grid, heights, masts))
    if planning.hamlet_centres:
        xy = prepared.anchors_xy[targets.hamlets["row"].to_numpy(dtype=np.int64)].reshape(-1, 2)
        xy = xy[np.isfinite(xy).all(axis=1)]
        r, c = grid.rowcol(xy[:, 0], xy[:, 1])
        xy = np.column_stack(grid.centres(r, c))
        parts.append(
            _candidate_frame(xy, _ORIGIN_CENTRE, "new-mast", grid, np.full(len(xy), planning.height_m), None)
        )
    if planning.grid and len(targets.item_pixels):
        s = planning.grid_spacing_m
        cx, cy = grid.centres(item_r, item_c)
        nodes = np.unique(np.column_stack([np.round(cx / s), np.round(cy / s)]), axis=0) * s
        r, c = grid.rowcol(nodes[:, 0], nodes[:, 1])
        xy = np.column_stack(grid.centres(r, c))
        parts.append(
            _candidate_frame(xy, _ORIGIN_GRID, "new-mast", grid, np.full(len(xy), planning.height_m), None)
        )
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else _candidate_frame(np.zeros((0, 2)), "", "", grid, np.zeros(0), None)
    )
    on_grid = (
        (frame["row"] >= 0) & (frame["row"] < grid.height) & (frame["col"] >= 0) & (frame["col"] < grid.width)
    )
    frame = frame[on_grid.to_numpy()]
    frame = frame[scene.inside[frame["row"].to_numpy(), frame["col"].to_numpy()]]
    frame = frame.drop_duplicates(["row", "col"], keep="first")
    if len(targets.item_pixels) and len(frame):
        tree = cKDTree(np.column_stack([item_r, item_c]).astype(float))
        antenna = planning.antenna(technology)
        reach = {h: _good_reach_px(antenna, h, params, technology) for h in sorted(set(frame["height_m"]))}
        dist, _ = tree.query(frame[["row", "col"]].to_numpy(dtype=float), k=1)
        frame = frame[dist <= frame["height_m"].map(reach).to_numpy()]
    else:
        frame = frame.iloc[:0]
    frame = frame.reset_index(drop=True)
    frame.insert(0, "candidate_id", [f"C{i + 1:05d}" for i in range(len(frame))])
    frame["cost_vnd"] = [planning.cost_vnd(k) for k in frame["kind"]]
    log.info("plan-sites: %d candidates (%s)", len(frame), frame["origin"].value_counts().to_dict())
    return frame


# ---------------------------------------------------------------------------------------------
# coverage matrix


def _layer_code(technology: str, band_mhz: float) -> str:
    """``L18`` for LTE 1800 (the bundled cell-id form ``<site>-<layer>-<sector>``)."""
    letter = {"2G": "G", "3G": "U", "4G": "L", "5G": "N"}[technology]
    return f"{letter}{int(round(band_mhz / 100.0)):02d}"


def _candidate_cells(
    candidates: pd.DataFrame, grid: Grid, *, technology: str, planning: PlanningParams, operator: str
) -> gpd.GeoDataFrame:
    """The cells of every candidate (one per azimuth, rows ``[len(az) i, len(az) (i + 1))``), at the
    centre of the candidate's pixel (where the engine puts it), in the grid CRS."""
    antenna = planning.antenna(technology)
    az = np.asarray(planning.azimuths_deg, dtype=float)
    n, k = len(candidates), len(az)
    x, y = grid.centres(candidates["row"].to_numpy(), candidates["col"].to_numpy())
    ids = np.repeat(candidates["candidate_id"].to_numpy(dtype=str), k)
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"{c}-{j}" for c, j in zip(ids, np.tile(np.arange(1, k + 1), n), strict=True)],
            "site_id": ids,
            "operator": operator,
            "status": "planned",
            "technology": technology,
            "band_mhz": antenna.band_mhz,
            "height_m": np.repeat(candidates["height_m"].to_numpy(dtype=float), k),
            "azimuth_deg": np.tile(az, n),
            "beamwidth_deg": planning.beamwidth_deg,
            "eirp_dbm": antenna.eirp_dbm,
            "bandwidth_mhz": antenna.bandwidth_mhz,
        },
        geometry=points(np.repeat(x, k), np.repeat(y, k)),
        crs=grid.crs,
    )


def _window_scene(scene: Scene, rows: slice, cols: slice) -> Scene:
    """The part of ``scene`` in a window of its grid (same pixels, same environment)."""
    g = scene.grid
    r0, r1, c0, c1 = rows.start, rows.stop, cols.start, cols.stop
    grid = Grid(
        g.crs, g.left_m + c0 * g.resolution_m, g.top_m - r0 * g.resolution_m, g.resolution_m, c1 - c0, r1 - r0
    )
    return Scene(
        grid,
        np.ascontiguousarray(scene.inside[rows, cols]),
        np.ascontiguousarray(scene.commune[rows, cols]),
        np.ascontiguousarray(scene.environment[rows, cols]),
        scene.communes,
    )


def _coverage_matrix(
    scene: Scene,
    candidates: pd.DataFrame,
    targets: PlanTargets,
    *,
    technology: str,
    planning: PlanningParams,
    params: CoverageParams,
) -> sp.csr_array:
    """Candidates × items: True where the candidate's cells alone reach good (engine over a window)."""
    grid = scene.grid
    tech = params.tech(technology)
    antenna = planning.antenna(technology)
    k = len(planning.azimuths_deg)
    cells = _candidate_cells(candidates, grid, technology=technology, planning=planning, operator="PLAN")
    reach = {h: _good_reach_px(antenna, h, params, technology) for h in sorted(set(candidates["height_m"]))}
    items = targets.item_pixels
    with _quiet_engine():
        chunks = _evaluate(scene, candidates, cells, items, tech, params, reach, k)
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in chunks], dtype=np.int64)]).astype(np.int64)
    indices = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    data = np.ones(len(indices), dtype=bool)
    return sp.csr_array((data, indices, indptr), shape=(len(candidates), len(items)))


@contextmanager
def _quiet_engine() -> Iterator[None]:
    """Drop the engine's per-run INFO lines logged by this thread (one per candidate)."""
    thread = threading.get_ident()
    engine = logging.getLogger("analysis.coverage")

    def keep(record: logging.LogRecord) -> bool:
        return record.thread != thread or record.levelno > logging.INFO

    engine.addFilter(keep)
    try:
        with _one_kernel_thread():
            yield
    finally:
        engine.removeFilter(keep)


@contextmanager
def _one_kernel_thread() -> Iterator[None]:
    """Run the compiled kernels on one thread in this thread: thousands of small windows gain
    nothing from parallel blocks and lose much at their barriers when the cores are busy."""
    try:
        import numba
    except ImportError:  # the engine falls back to numpy
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _evaluate(
    scene: Scene,
    candidates: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    items: NDArray[np.int64],
    tech: TechnologyParams,
    params: CoverageParams,
    reach: dict[float, int],
    k: int,
) -> list[NDArray[np.int64]]:
    """Per candidate, the items where its ``k`` cells alone reach good (engine over a window),
    evaluated by height (the engine memoises its loss tables and bearing kernels in small caches)."""
    grid = scene.grid
    chunks: list[NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)] * len(candidates)
    heights = candidates["height_m"].to_numpy(dtype=float)
    site_rows, site_cols = candidates["row"].to_numpy(), candidates["col"].to_numpy()
    for i in np.argsort(heights, kind="stable").tolist():
        r, c, radius = int(site_rows[i]), int(site_cols[i]), reach[float(heights[i])]
        rows = slice(max(r - radius, 0), min(r + radius + 1, grid.height))
        cols = slice(max(c - radius, 0), min(c + radius + 1, grid.width))
        window = _window_scene(scene, rows, cols)
        result = compute_coverage(
            window,
            cells.iloc[k * i : k * (i + 1)],
            technology=tech.technology,
            params=params,
            include_planned=True,
        )
        wr, wc = np.nonzero(classify_rsrp(result.rsrp_dbm, tech) == _GOOD)
        flat = (wr + rows.start).astype(np.int64) * grid.width + (wc + cols.start)
        pos = np.searchsorted(items, flat)
        hit = pos < len(items)
        hit[hit] = items[pos[hit]] == flat[hit]
        chunks[i] = pos[hit].astype(np.int64)
    return chunks


# ---------------------------------------------------------------------------------------------
# the plan


@dataclass(frozen=True)
class CoverageProblem:
    """The covering problem :func:`plan_sites` solved (for checks: e.g. :func:`exact_max_coverage`).

    Attributes
    ----------
    candidates : DataFrame
        One row per candidate (grid CRS ``x_m``, ``y_m``; ``row``, ``col``; ``kind``; ``cost_vnd``).
    matrix : scipy.sparse.csr_array of bool
        Candidates × items (:attr:`PlanTargets.item_pixels`).
    targets : PlanTargets
    """

    candidates: pd.DataFrame
    matrix: sp.csr_array
    targets: PlanTargets

    @property
    def weights(self) -> NDArray[np.float64]:
        """Households per item."""
        return self.targets.item_households

    @property
    def costs(self) -> NDArray[np.float64]:
        """Cost per candidate, VND."""
        return self.candidates["cost_vnd"].to_numpy(dtype=float)


@dataclass(frozen=True)
class SitePlan:
    """Result of :func:`plan_sites`.

    Attributes
    ----------
    sites : GeoDataFrame
        EPSG:4326, one row per planned cell: :data:`SITE_COLUMNS` then :data:`PLAN_COLUMNS`.
    summary : DataFrame
        One row per planned site (the site columns of ``sites`` without the cell columns).
    candidates : GeoDataFrame
        EPSG:4326 points, one row per candidate: ``candidate_id``, ``kind``, ``origin``,
        ``host_site_id``, ``host_operator``, ``height_m``, ``cost_vnd``, ``gain_alone_households``
        (households it would bring to good on its own) and ``plan_rank`` (0 = not chosen).
    hamlets : GeoDataFrame
        EPSG:4326 anchor points of the under-served hamlets: ``hamlet_id``, ``hamlet_name``,
        ``commune_id``, ``households``, ``flag``, ``share_good_before``, ``not_good_households``,
        ``gained_households``, ``share_good_after`` and ``planned_sites`` (";"-joined site ids).
    greedy : GreedyResult
    problem : CoverageProblem
    metadata : dict of str to str
        Parameters, sources, counts and timings (written into the exports).
    """

    sites: gpd.GeoDataFrame
    summary: pd.DataFrame
    candidates: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame
    greedy: GreedyResult
    problem: CoverageProblem
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def target_households(self) -> float:
        """Households of the under-served hamlets not at good coverage today."""
        return float(self.problem.targets.item_households.sum())

    @property
    def gained_households(self) -> float:
        """Households the chosen sites bring to good coverage."""
        return self.greedy.total_gain


def _base_classes(
    scene: Scene,
    cells: gpd.GeoDataFrame,
    *,
    technology: str,
    operator: str | None,
    params: CoverageParams,
    include_planned: bool,
) -> NDArray[np.uint8]:
    """Class per pixel today: the operator's own best server, or every operator's; class "none"
    everywhere when it has no cell of the technology."""
    mask = _considered(cells, include_planned) & (cells["technology"].astype(str) == technology).to_numpy()
    if operator is not None:
        mask &= (cells["operator"].astype(str) == operator).to_numpy()
    tech = params.tech(technology)
    if not mask.any():
        return np.where(scene.inside, np.uint8(_NONE), NODATA_CLASS).astype(np.uint8)
    if operator is not None:
        raster = compute_coverage(
            scene,
            cells,
            technology=technology,
            params=params,
            operator=operator,
            include_planned=include_planned,
        )
    else:
        raster = compute_coverage_by_operator(
            scene, cells, technology=technology, params=params, include_planned=include_planned
        ).combined
    return classify_rsrp(raster.rsrp_dbm, tech)


def _population(pkg: DataPackage, grid: Grid) -> NDArray[np.float32] | None:
    if pkg.population_raster is None:
        return None
    from geo.raster import read_raster_to_grid

    return read_raster_to_grid(
        pkg.population_raster,
        transform=grid.transform,
        crs=grid.crs,
        shape=grid.shape,
        resampling="bilinear",
        fill=0.0,
    )


def _attribute(greedy: GreedyResult, problem: CoverageProblem) -> list[NDArray[np.float64]]:
    """Per chosen site, households gained per under-served hamlet (its marginal gain, split)."""
    t = problem.targets
    ptr = t.element_ptr
    covered = np.zeros(len(t.item_pixels), dtype=bool)
    m = problem.matrix
    out = []
    for i in greedy.chosen:
        items = m.indices[m.indptr[i] : m.indptr[i + 1]]
        new = items[~covered[items]]
        covered[new] = True
        starts, stops = ptr[new], ptr[new + 1]
        elems = (
            np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
            if len(new)
            else np.zeros(0, dtype=np.int64)
        )
        out.append(
            np.bincount(
                t.element_hamlet[elems], weights=t.element_households[elems], minlength=len(t.hamlets)
            ).astype(np.float64)
        )
    return out


def _to_lonlat(
    x: NDArray[np.float64], y: NDArray[np.float64], crs: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pts = gpd.GeoSeries(points(x, y), crs=crs).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def _site_rows(
    greedy: GreedyResult,
    problem: CoverageProblem,
    per_hamlet: list[NDArray[np.float64]],
    scene: Scene,
    *,
    technology: str,
    operator: str | None,
    planning: PlanningParams,
    source: str,
    status: str,
) -> gpd.GeoDataFrame:
    """The chosen sites in the towers/sites.csv format, one row per cell."""
    antenna = planning.antenna(technology)
    cand = problem.candidates.iloc[list(greedy.chosen)].reset_index(drop=True)
    grid = scene.grid
    layer = _layer_code(technology, antenna.band_mhz)
    lon, lat = _to_lonlat(cand["x_m"].to_numpy(dtype=float), cand["y_m"].to_numpy(dtype=float), grid.crs)
    commune = scene.commune[cand["row"].to_numpy(), cand["col"].to_numpy()]
    commune_ids = (
        scene.communes["commune_id"].astype(str).to_numpy() if "commune_id" in scene.communes else None
    )
    hamlet_ids = problem.targets.hamlets["hamlet_id"].to_numpy(dtype=str)
    records = []
    cumulative = cumulative_cost = 0.0
    for rank, (gain, cost) in enumerate(zip(greedy.gains, greedy.costs, strict=True), start=1):
        c = cand.iloc[rank - 1]
        cumulative += gain
        cumulative_cost += cost
        by_hamlet = per_hamlet[rank - 1]
        served = np.nonzero(by_hamlet > 1e-9)[0]
        served = served[np.argsort(-by_hamlet[served], kind="stable")]
        site_id = f"PLAN-{rank:03d}"
        site = {
            "site_id": site_id,
            "operator": operator or "",
            "lat": round(float(lat[rank - 1]), 7),  # 1 cm: the same pixel as the candidate's
            "lon": round(float(lon[rank - 1]), 7),
            "height_m": float(c["height_m"]),
            "status": status,
            "technology": technology,
            "band_mhz": antenna.band_mhz,
            "beamwidth_deg": planning.beamwidth_deg,
            "eirp_dbm": antenna.eirp_dbm,
            "bandwidth_mhz": antenna.bandwidth_mhz,
            "commune_id": commune_ids[commune[rank - 1]]
            if commune_ids is not None and commune[rank - 1] >= 0
            else "",
            "source": source,
            "plan_rank": rank,
            "kind": c["kind"],
            "candidate_id": c["candidate_id"],
            "candidate_origin": c["origin"],
            "host_site_id": c["host_site_id"],
            "host_operator": c["host_operator"],
            "marginal_gain_households": round(gain, 2),
            "cumulative_households": round(cumulative, 2),
            "cost_vnd": cost,
            "cumulative_cost_vnd": cumulative_cost,
            "hamlets_served": ";".join(hamlet_ids[served]),
            "hamlets_served_count": len(served),
        }
        for sector, az in enumerate(planning.azimuths_deg, start=1):
            records.append({**site, "cell_id": f"{site_id}-{layer}-{sector}", "azimuth_deg": float(az)})
    columns = [*SITE_COLUMNS, *PLAN_COLUMNS]
    frame = pd.DataFrame(records, columns=columns)
    return gpd.GeoDataFrame(
        frame, geometry=points(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)), crs=4326
    )


def _hamlet_layer(
    problem: CoverageProblem, per_hamlet: list[NDArray[np.float64]], prepared: StatisticsInputs, grid: Grid
) -> gpd.GeoDataFrame:
    t = problem.targets.hamlets
    gained = np.sum(per_hamlet, axis=0) if per_hamlet else np.zeros(len(t))
    sites = [
        ";".join(f"PLAN-{rank:03d}" for rank, g in enumerate(per_hamlet, start=1) if g[h] > 1e-9)
        for h in range(len(t))
    ]
    hh = t["households"].to_numpy(dtype=float)
    after = t["share_good"].to_numpy(dtype=float) + np.divide(
        gained, hh, out=np.zeros_like(gained), where=hh > 0
    )
    xy = prepared.anchors_xy[t["row"].to_numpy(dtype=np.int64)].reshape(-1, 2)
    frame = pd.DataFrame(
        {
            "hamlet_id": t["hamlet_id"],
            "hamlet_name": t["hamlet_name"],
            "commune_id": t["commune_id"],
            "households": hh,
            "flag": t["flag"],
            "share_good_before": t["share_good"].round(4),
            "not_good_households": t["not_good_households"].round(2),
            "gained_households": np.round(gained, 2),
            "share_good_after": np.round(np.minimum(after, 1.0), 4),
            "planned_sites": sites,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=points(xy[:, 0], xy[:, 1]), crs=grid.crs).to_crs(4326)


def _candidate_layer(problem: CoverageProblem, greedy: GreedyResult, grid: Grid) -> gpd.GeoDataFrame:
    cand = problem.candidates
    m, w = problem.matrix, problem.weights
    alone = np.array([w[m.indices[m.indptr[i] : m.indptr[i + 1]]].sum() for i in range(m.shape[0])])
    rank = np.zeros(len(cand), dtype=np.int64)
    rank[list(greedy.chosen)] = np.arange(1, len(greedy.chosen) + 1)
    frame = pd.DataFrame(
        {
            "candidate_id": cand["candidate_id"],
            "kind": cand["kind"],
            "origin": cand["origin"],
            "host_site_id": cand["host_site_id"],
            "host_operator": cand["host_operator"],
            "height_m": cand["height_m"].astype(float),
            "cost_vnd": cand["cost_vnd"].astype(float),
            "gain_alone_households": np.round(alone, 2),
            "plan_rank": rank,
        }
    )
    geom = points(cand["x_m"].to_numpy(dtype=float), cand["y_m"].to_numpy(dtype=float))
    return gpd.GeoDataFrame(frame, geometry=geom, crs=grid.crs).to_crs(4326)


class _Clock:
    """Wall time of each phase since the previous one (``clock("name")``), s."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self._last
        self._last = now
        log.info("plan-sites: %s %.2f s", name, self.timings[name])


def _check_request(n_sites: int, budget_vnd: float | None, technology: str) -> None:
    _check(
        isinstance(n_sites, int | np.integer) and not isinstance(n_sites, bool) and 1 <= n_sites <= 1000,
        f"number of sites must be an integer from 1 to 1000, got {n_sites!r}",
    )
    if budget_vnd is not None:
        _check(
            _finite(budget_vnd, 0.0, 1e18) and budget_vnd > 0,
            f"budget must be a positive number of VND, got {budget_vnd!r}",
        )
    _check(technology in TECHNOLOGIES, f"unknown technology {technology!r} (use {', '.join(TECHNOLOGIES)})")


def plan_sites(
    pkg: DataPackage,
    *,
    n_sites: int,
    budget_vnd: float | None = None,
    operator: str | None = None,
    technology: str = "4G",
    coverage_params: CoverageParams | None = None,
    planning: PlanningParams | None = None,
    thresholds: GapThresholds | None = None,
    include_planned: bool = False,
    plan_date: date | None = None,
    cell_status: str = "planned",
) -> SitePlan:
    """Choose up to ``n_sites`` new sites that bring the most households of under-served hamlets to
    good coverage (see the module docstring and docs/PLANNING.md).

    Parameters
    ----------
    pkg : DataPackage
        A loaded data package.
    n_sites : int, keyword-only
        Most sites to choose (1..1000).
    budget_vnd : float, optional, keyword-only
        Total cost not to exceed, VND (unit costs from ``planning``: PLACEHOLDERS by default).
    operator : str, optional, keyword-only
        Plan for this operator (aliases accepted): its own coverage today, its own cells; default:
        the best server of every operator.
    technology : str, keyword-only
        "4G" (default), or "2G", "3G", "5G".
    coverage_params : CoverageParams, optional, keyword-only
        Engine parameters (default ``analysis/config/coverage.toml``).
    planning : PlanningParams, optional, keyword-only
        Candidate antennas and costs (default ``analysis/config/planning.toml``).
    thresholds : GapThresholds, optional, keyword-only
        Signal flag thresholds (default ``analysis/config/gaps.toml``).
    include_planned : bool, keyword-only
        Count cells with status "planned" as on air today (and their masts as existing).
    plan_date : date, optional, keyword-only
        Date written into ``source`` (default today).
    cell_status : {"planned", "active"}, keyword-only
        ``status`` of the planned cells in :attr:`SitePlan.sites` (default "planned"; "active" for
        tools that evaluate active cells only, such as the scenario's added sites).

    Returns
    -------
    SitePlan

    Raises
    ------
    ParameterError
        Bad number of sites, budget, technology or operator, or bad parameters.
    """
    _check_request(n_sites, budget_vnd, technology)
    _check(
        cell_status in ("planned", "active"), f"cell status must be planned or active, got {cell_status!r}"
    )
    phase = _Clock()

    op = known_operator(operator) if operator is not None else None
    params = coverage_params or default_coverage_params()
    planning = planning or default_planning_params()
    planning.antenna(technology).eirp_dbm  # noqa: B018 - fail before any work
    thresholds = thresholds or default_gap_params().thresholds
    scene = build_scene(pkg.communes, pkg.metric_crs, resolution_m=params.resolution_m, params=params)
    population = _population(pkg, scene.grid)
    classes = _base_classes(
        scene, pkg.cells, technology=technology, operator=op, params=params, include_planned=include_planned
    )
    phase("coverage today")
    prepared = prepare_statistics(scene, pkg.hamlets, params=params)
    targets = _targets(prepared, classes, scene.grid, thresholds, population)
    phase("under-served hamlets")
    candidates = _candidates(
        scene,
        targets,
        prepared,
        pkg.cells,
        operator=op,
        technology=technology,
        planning=planning,
        params=params,
        include_planned=include_planned,
    )
    phase("candidates")
    matrix = _coverage_matrix(
        scene, candidates, targets, technology=technology, planning=planning, params=params
    )
    phase("coverage matrix")
    problem = CoverageProblem(candidates, matrix, targets)
    greedy = greedy_max_coverage(matrix, targets.item_households, n_sites, problem.costs, budget_vnd)
    phase("greedy")
    per_hamlet = _attribute(greedy, problem)
    source = f"PhuSong plan-sites {(plan_date or date.today()).isoformat()}"
    sites = _site_rows(
        greedy,
        problem,
        per_hamlet,
        scene,
        technology=technology,
        operator=op,
        planning=planning,
        source=source,
        status=cell_status,
    )
    summary = pd.DataFrame(sites.drop(columns=["geometry", "cell_id", "azimuth_deg"])).drop_duplicates(
        "site_id"
    )
    metadata = _metadata(
        pkg,
        problem,
        greedy,
        technology=technology,
        operator=op,
        n_sites=n_sites,
        budget_vnd=budget_vnd,
        planning=planning,
    )
    metadata.update({f"time_{k.replace(' ', '_')}_s": f"{v:.2f}" for k, v in phase.timings.items()})
    return SitePlan(
        sites,
        summary.reset_index(drop=True),
        _candidate_layer(problem, greedy, scene.grid),
        _hamlet_layer(problem, per_hamlet, prepared, scene.grid),
        greedy,
        problem,
        metadata,
    )


def _metadata(
    pkg: DataPackage,
    problem: CoverageProblem,
    greedy: GreedyResult,
    *,
    technology: str,
    operator: str | None,
    n_sites: int,
    budget_vnd: float | None,
    planning: PlanningParams,
) -> dict[str, str]:
    meta = pkg.meta
    origins = problem.candidates["origin"].value_counts().to_dict()
    return {
        "title": f"PhuSong site plan: {getattr(meta, 'name', '')}",
        "dataset": str(getattr(meta, "name", "")),
        "dataset_version": str(getattr(pkg, "version", "")),
        "technology": technology,
        "operator": operator or "all operators (best server)",
        "sites_requested": str(n_sites),
        "budget_vnd": "" if budget_vnd is None else f"{budget_vnd:.0f}",
        "sites_chosen": str(len(greedy.chosen)),
        "stop_reason": greedy.stop,
        "underserved_hamlets": str(len(problem.targets.hamlets)),
        "target_households": f"{problem.targets.item_households.sum():.1f}",
        "gained_households": f"{greedy.total_gain:.1f}",
        "candidates": str(len(problem.candidates)),
        **{f"candidates_{k.replace(' ', '_')}": str(v) for k, v in origins.items()},
        "greedy_evaluations": str(greedy.evaluations),
        "cost_note": planning.cost_note,
        "cost_shared_mast_vnd": f"{planning.shared_mast_vnd:.0f}",
        "cost_new_mast_vnd": f"{planning.new_mast_vnd:.0f}",
    }
