"""Evaluate a scenario against its baseline: coverage, fibre reach, flags, KPIs, before and after.

:func:`compute_baseline` runs the analysis of the package once (4G coverage by operator and its
statistics, fibre reach and extension plan, survey indicators, the thresholds, gaps and KPIs).
:func:`evaluate_scenario` applies a scenario's changes on copies and recomputes only what they
touch: 4G coverage only when a 4G cell changed, fibre reach only when access nodes changed, the
survey indicators only for programmes. The scenario is judged by the baseline's thresholds (a
programme that raises the province average must not move the bar it is measured against).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from analysis.coverage import OperatorCoverage, Scene, build_scene, compute_coverage_by_operator
from analysis.coverage_params import CoverageParams, default_coverage_params
from analysis.coverage_stats import CoverageStats, StatisticsInputs, coverage_statistics, prepare_statistics
from analysis.coverage_update import update_coverage_by_operator, update_statistics
from analysis.fibre import FibreAnalysis, ReachResult, analyse_fibre, compute_reach
from analysis.gaps import (
    ResolvedThresholds,
    compute_gaps,
    hamlet_survey_indicators,
    hamlets_with_communes,
    resolve_thresholds,
    signal_from_coverage_stats,
)
from analysis.kpi import KpiSnapshot, KpiTargets, compute_kpis
from analysis.params import GapParams
from analysis.scenario.compare import compare_communes, compare_hamlets, summarise
from analysis.scenario.costs import ScenarioCosts, SiteUnitCosts, scenario_costs
from analysis.scenario.edits import CellChanges, apply_cell_changes, apply_fibre_changes, apply_programmes
from analysis.scenario.model import Scenario
from analysis.scenario.service import ServiceLoss, service_loss, technology_coverage
from analysis.scenario.survey import apply_programmes_to_survey

if TYPE_CHECKING:
    from geo.package import DataPackage

__all__ = ["Baseline", "ScenarioResult", "compute_baseline", "evaluate_scenario"]

log = logging.getLogger(__name__)

#: The technology the signal flags and KPIs are defined for.
SIGNAL_TECHNOLOGY = "4G"


@dataclass(frozen=True, eq=False)
class Baseline:
    """The analysis of a package as it is: what every scenario is compared with."""

    pkg: DataPackage
    params: GapParams
    cparams: CoverageParams
    targets: KpiTargets
    scene: Scene
    statistics_inputs: StatisticsInputs
    coverage: OperatorCoverage
    stats: CoverageStats
    fibre: FibreAnalysis
    hamlets: gpd.GeoDataFrame
    indicators: pd.DataFrame
    thresholds: ResolvedThresholds
    gaps: gpd.GeoDataFrame
    kpis: KpiSnapshot
    timings_s: dict[str, float]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def technology_coverage(self) -> dict[str, OperatorCoverage]:
        """Coverage by operator of 2G, 3G and 4G (computed on first use, then kept)."""
        if "technologies" not in self._cache:
            others = technology_coverage(
                self.scene, self.pkg.cells, params=self.cparams, skip=(SIGNAL_TECHNOLOGY,)
            )
            self._cache["technologies"] = {**others, SIGNAL_TECHNOLOGY: self.coverage}
        return dict(self._cache["technologies"])


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario's after-state and its comparison with the baseline.

    Attributes
    ----------
    hamlets : DataFrame
        One row per hamlet, before/after columns (:func:`analysis.scenario.compare.compare_hamlets`).
    communes : DataFrame
        One row per commune (:func:`analysis.scenario.compare.compare_communes`).
    summary : dict
        Headline numbers (:func:`analysis.scenario.compare.summarise`) and the costs.
    """

    scenario: Scenario
    baseline: Baseline
    cells: gpd.GeoDataFrame
    changes: CellChanges
    fibre_nodes: gpd.GeoDataFrame
    coverage: OperatorCoverage
    stats: CoverageStats
    reach: ReachResult
    indicators: pd.DataFrame
    survey: pd.DataFrame
    gaps: gpd.GeoDataFrame
    kpis: KpiSnapshot
    hamlets: pd.DataFrame
    communes: pd.DataFrame
    costs: ScenarioCosts
    summary: dict[str, Any]
    timings_s: dict[str, float]
    service: ServiceLoss | None = None


def compute_baseline(
    pkg: DataPackage,
    params: GapParams,
    *,
    cparams: CoverageParams | None = None,
    targets: KpiTargets | None = None,
) -> Baseline:
    """Analyse the package as it is (about as long as the coverage and gaps commands together)."""
    cparams = cparams or default_coverage_params()
    targets = targets or KpiTargets()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    scene = build_scene(pkg.communes, pkg.metric_crs, resolution_m=cparams.resolution_m, params=cparams)
    inputs = prepare_statistics(scene, pkg.hamlets, params=cparams)
    timings["scene_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cov = compute_coverage_by_operator(scene, pkg.cells, technology=SIGNAL_TECHNOLOGY, params=cparams)
    stats = coverage_statistics(scene, cov, pkg.hamlets, params=cparams, prepared=inputs)
    timings["coverage_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fibre = analyse_fibre(pkg, params)
    timings["fibre_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    hamlets = hamlets_with_communes(pkg)
    indicators = hamlet_survey_indicators(hamlets, pkg.survey)
    thresholds = resolve_thresholds(indicators, params)
    gaps = compute_gaps(
        pkg,
        params,
        signal=signal_from_coverage_stats(stats.hamlets),
        reach=fibre.reach,
        indicators=indicators,
        thresholds=thresholds,
    )
    kpis = _kpis(pkg, gaps, pkg.survey, pkg.fibre_nodes, targets)
    timings["gaps_kpis_s"] = time.perf_counter() - t0
    return Baseline(
        pkg, params, cparams, targets, scene, inputs, cov, stats, fibre, hamlets, indicators, thresholds,
        gaps, kpis, timings,
    )  # fmt: skip


def _kpis(
    pkg: DataPackage, gaps: pd.DataFrame, survey: pd.DataFrame, nodes: pd.DataFrame, targets: KpiTargets
) -> KpiSnapshot:
    return compute_kpis(
        gaps, communes=pkg.communes, survey=survey, fibre_nodes=nodes, targets=targets, layout=pkg.meta.layout
    )


def _coverage_after(
    base: Baseline, cells: gpd.GeoDataFrame, changes: CellChanges
) -> tuple[OperatorCoverage, CoverageStats]:
    """4G coverage and statistics after the cell changes: the baseline's when no 4G cell changed,
    else recomputed only where the changed cells reach (:mod:`analysis.coverage_update`; equal to a
    full recompute bit for bit)."""
    if SIGNAL_TECHNOLOGY not in changes.technologies:
        return base.coverage, base.stats
    update = update_coverage_by_operator(
        base.scene, base.coverage, cells, technology=SIGNAL_TECHNOLOGY, params=base.cparams
    )
    stats = update_statistics(
        base.scene, base.stats, update, prepared=base.statistics_inputs, params=base.cparams
    )
    return update.coverage, stats


def planned_hamlets(base: Baseline) -> gpd.GeoDataFrame:
    """Hamlets the baseline's fibre extension plan connects (one cabinet each), with geometry."""
    plan = base.fibre.plan.hamlets
    ids = set(plan.loc[plan["plan_status"] == "planned", "hamlet_id"].astype(str))
    ham = base.hamlets
    return ham[ham["hamlet_id"].astype(str).isin(ids)][["hamlet_id", "geometry"]]


def _reach_after(base: Baseline, nodes: gpd.GeoDataFrame) -> ReachResult:
    if nodes is base.pkg.fibre_nodes:
        return base.fibre.reach
    road = base.fibre.reach.network.road
    return compute_reach(
        road, base.pkg.hamlets, nodes, params=base.params.reach, max_spur_m=base.params.roads.max_spur_m
    )


def evaluate_scenario(
    base: Baseline, scenario: Scenario, *, site_costs: SiteUnitCosts | None = None
) -> ScenarioResult:
    """Apply ``scenario`` to copies of the baseline's inputs and compare the results.

    Raises
    ------
    ParameterError
        The scenario names sites, cells, hamlets or communes the package does not have, or reuses
        an existing id (the message names the entry).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cells, changes = apply_cell_changes(base.pkg.cells, scenario)
    cov, stats = _coverage_after(base, cells, changes)
    timings["coverage_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nodes = apply_fibre_changes(
        base.pkg.fibre_nodes,
        scenario,
        planned_hamlets=planned_hamlets(base) if scenario.adopt_fibre_plan else None,
    )
    reach = _reach_after(base, nodes)
    timings["fibre_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    indicators = apply_programmes(base.indicators, base.hamlets, scenario.programmes)
    survey = apply_programmes_to_survey(base.pkg.survey, base.indicators, base.hamlets, scenario.programmes)
    after_pkg = dataclasses.replace(base.pkg, cells=cells, fibre_nodes=nodes, survey=survey)
    gaps = compute_gaps(
        after_pkg,
        base.params,
        signal=signal_from_coverage_stats(stats.hamlets),
        reach=reach,
        indicators=indicators,
        thresholds=base.thresholds,
    )
    gaps.attrs["phusong"] = {**gaps.attrs.get("phusong", {}), "scenario": scenario.name}
    kpis = _kpis(base.pkg, gaps, survey, nodes, base.targets)
    hamlets = compare_hamlets(base.gaps, gaps)
    timings["gaps_kpis_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    service = _service_after(base, scenario, cells, changes, cov)
    if service is not None:
        hamlets = hamlets.merge(service.hamlets.drop(columns="households"), on="hamlet_id", how="left")
    timings["service_s"] = time.perf_counter() - t0
    communes = compare_communes(hamlets, base.pkg.communes)
    costs = scenario_costs(
        scenario,
        new_drop_households=_new_drop_households(
            hamlets, planned_hamlets(base) if scenario.adopt_fibre_plan else None
        ),
        cells=base.pkg.cells,
        metric_crs=base.pkg.metric_crs,
        hamlets=base.hamlets,
        params=base.params,
        fibre_plan=base.fibre.plan,
        site_costs=site_costs,
    )
    summary = summarise(hamlets, base.kpis, kpis, costs)
    log.info("scenario %r evaluated: %s", scenario.name, {k: round(v, 2) for k, v in timings.items()})
    return ScenarioResult(
        scenario, base, cells, changes, nodes, cov, stats, reach, indicators, survey, gaps, kpis, hamlets,
        communes, costs, summary, timings, service,
    )  # fmt: skip


def _new_drop_households(hamlets: pd.DataFrame, planned: gpd.GeoDataFrame | None) -> float:
    """Households of hamlets brought within drop reach, less those the adopted plan connects (its
    total already counts their drops)."""
    before = hamlets["fibre_reach_class_before"].astype(str)
    after = hamlets["fibre_reach_class_after"].astype(str)
    new = (after == "drop") & (before != "drop")
    if planned is not None:
        new &= ~hamlets["hamlet_id"].astype(str).isin(set(planned["hamlet_id"].astype(str)))
    return float(pd.to_numeric(hamlets.loc[new, "households"], errors="coerce").fillna(0).sum())


def _service_after(
    base: Baseline, scenario: Scenario, cells: gpd.GeoDataFrame, changes: CellChanges, cov: OperatorCoverage
) -> ServiceLoss | None:
    """Service loss when the scenario switches a technology off or changes 2G / 3G cells."""
    touched = changes.technologies & {"2G", "3G"}
    if scenario.switch_off is None and not touched:
        return None
    before = base.technology_coverage()
    after = {**before, SIGNAL_TECHNOLOGY: cov}
    if touched:
        fresh = technology_coverage(base.scene, cells, params=base.cparams, only=tuple(sorted(touched)))
        for tech in touched:
            after.pop(tech, None)
        after.update(fresh)
    off = scenario.switch_off
    return service_loss(
        base.scene,
        base.statistics_inputs,
        before,
        after,
        params=base.cparams,
        technologies=off.technologies if off else (),
        operator=off.operator if off else None,
    )
