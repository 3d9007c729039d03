"""The plan: :func:`plan_sites` and its output layers."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
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
    TECHNOLOGIES,
    CoverageParams,
    default_coverage_params,
)
from analysis.coverage_stats import StatisticsInputs, prepare_statistics
from analysis.params import GapThresholds, default_gap_params
from analysis.site_planning._common import _NONE, PLAN_COLUMNS, SITE_COLUMNS
from analysis.site_planning.candidates import _candidates, _considered
from analysis.site_planning.cover import GreedyResult, greedy_max_coverage
from analysis.site_planning.matrix import _coverage_matrix, _layer_code
from analysis.site_planning.params import (
    PlanningParams,
    _check,
    _finite,
    default_planning_params,
    known_operator,
)
from analysis.site_planning.targets import PlanTargets, _targets

if TYPE_CHECKING:
    from geo.package import DataPackage

log = logging.getLogger(__name__)


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
    target_hamlet_ids: Collection[str] | None = None,
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
    target_hamlet_ids : collection of str, optional, keyword-only
        Plan for these hamlets instead of the signal-flagged ones (e.g. the hamlets a 2G / 3G
        switch-off leaves without service); their not-good households are the items.
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
    targets = _targets(prepared, classes, scene.grid, thresholds, population, only=target_hamlet_ids)
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
