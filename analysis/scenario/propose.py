"""Proposals that open as scenarios: 4G sites for the hamlets a 2G / 3G switch-off leaves behind."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd

from analysis.scenario.evaluate import ScenarioResult
from analysis.scenario.model import Scenario
from analysis.site_planning import SITE_COLUMNS, SitePlan, plan_sites

__all__ = ["largest_operator", "proposal_scenario", "propose_sites_for_service_loss", "service_loss_hamlets"]


def service_loss_hamlets(result: ScenarioResult, *, include_weak: bool = False) -> list[str]:
    """Hamlets that lose all mobile service in the scenario (and, with ``include_weak``, those that
    drop to weak), in hamlet order."""
    if result.service is None:
        return []
    table = result.service.hamlets
    hit = table["hh_lose_all_service"] > 0
    if include_weak:
        hit |= table["hh_drop_to_weak"] > 0
    return table.loc[hit, "hamlet_id"].astype(str).tolist()


def largest_operator(cells: pd.DataFrame, technology: str = "4G") -> str:
    """The operator with the most sites of ``technology`` (ties: alphabetical)."""
    tech = cells[cells["technology"].astype(str).str.upper() == technology]
    counts = tech.groupby(tech["operator"].astype(str))["site_id"].nunique()
    return str(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])


def propose_sites_for_service_loss(
    result: ScenarioResult,
    *,
    n_sites: int,
    budget_vnd: float | None = None,
    include_weak: bool = False,
) -> SitePlan | None:
    """Up to ``n_sites`` new 4G sites that bring the most households of the hamlets the scenario's
    switch-off leaves without service (:func:`service_loss_hamlets`) to good 4G, planned on the
    scenario's cells (:func:`analysis.site_planning.plan_sites`). For one operator's switch-off the
    sites are that operator's and planned on its own coverage; for every operator, on the best
    server of any operator. None when no hamlet loses service.
    """
    targets = service_loss_hamlets(result, include_weak=include_weak)
    if not targets:
        return None
    base = result.baseline
    after = dataclasses.replace(base.pkg, cells=result.cells)
    operator = result.scenario.switch_off.operator if result.scenario.switch_off is not None else None
    return plan_sites(
        after,
        n_sites=n_sites,
        budget_vnd=budget_vnd,
        operator=operator,
        coverage_params=base.cparams,
        target_hamlet_ids=targets,
    )


def proposal_scenario(result: ScenarioResult, plan: SitePlan, *, name: str | None = None) -> Scenario:
    """The scenario with the proposed sites added (an all-operator plan's cells are given to the
    operator with most 4G sites; the best server of every operator, hence the gain, does not depend
    on whose they are)."""
    sites = plan.sites[[c for c in SITE_COLUMNS if c in plan.sites.columns] + ["geometry"]].copy()
    blank = sites["operator"].isna() | (sites["operator"].astype(str).str.strip() == "")
    if blank.any():
        sites.loc[blank, "operator"] = largest_operator(result.baseline.pkg.cells)
    old = result.scenario.added_sites
    added = sites if old is None else pd.concat([old, sites], ignore_index=True)
    return result.scenario.with_changes(
        name=name or f"{result.scenario.name} + {len(plan.summary)} 4G",
        added_sites=gpd.GeoDataFrame(added, geometry="geometry", crs=sites.crs),
    )
