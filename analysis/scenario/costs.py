"""What a scenario costs, from configurable unit costs (defaults are labelled placeholders)."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.scenario.edits import programme_hamlets
from analysis.scenario.model import Scenario
from geo.errors import ParameterError

if TYPE_CHECKING:
    import geopandas as gpd
    import pyproj

    from analysis.fibre import ExtensionPlan
    from analysis.params import GapParams

__all__ = ["SHARED_MAST_RADIUS_M", "ScenarioCosts", "SiteUnitCosts", "scenario_costs", "site_unit_costs"]

#: An added site within this distance of another operator's existing site shares its mast.
SHARED_MAST_RADIUS_M = 30.0
_CONFIG = Path(__file__).resolve().parent.parent / "config" / "scenario_costs.toml"


@dataclass(frozen=True)
class SiteUnitCosts:
    """Cost of one new base-station site, VND, by how it is built.

    Attributes
    ----------
    shared_mast_vnd : float
        Equipment on an existing mast of another operator (infrastructure sharing).
    new_mast_vnd : float
        A new mast with its equipment.
    placeholder : bool
        True while the values are PhuSong's placeholders, not the province's own prices.
    note : str
        Where the values come from.
    """

    shared_mast_vnd: float
    new_mast_vnd: float
    placeholder: bool = True
    note: str = ""


def site_unit_costs(path: Path | None = None) -> SiteUnitCosts:
    """Site unit costs from ``analysis/config/scenario_costs.toml`` (or ``path``).

    Raises
    ------
    ParameterError
        The file lacks ``[sites]`` values or holds a negative cost.
    """
    path = path or _CONFIG
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read the unit costs ({exc})") from None
    sites = doc.get("sites", {})
    try:
        shared, new = float(sites["shared_mast_vnd"]), float(sites["new_mast_vnd"])
    except (KeyError, TypeError, ValueError):
        raise ParameterError(f"{path}: [sites] needs shared_mast_vnd and new_mast_vnd (VND)") from None
    if shared < 0 or new < 0:
        raise ParameterError(f"{path}: [sites] costs must not be negative")
    return SiteUnitCosts(shared, new, bool(sites.get("placeholder", True)), str(sites.get("note", "")))


@dataclass(frozen=True)
class ScenarioCosts:
    """Cost of a scenario by component, VND, and what each counts."""

    sites_vnd: float
    fibre_vnd: float
    programmes_vnd: float
    sites: pd.DataFrame
    """One row per added site: ``site_id``, ``operator``, ``kind`` (shared_mast / new_mast), ``cost_vnd``."""
    fibre_items: dict[str, float]
    programme_households: dict[str, float]
    placeholder: bool

    @property
    def total_vnd(self) -> float:
        """All components."""
        return self.sites_vnd + self.fibre_vnd + self.programmes_vnd

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers for tables, metadata and reports."""
        return {
            "sites_vnd": round(self.sites_vnd),
            "fibre_vnd": round(self.fibre_vnd),
            "programmes_vnd": round(self.programmes_vnd),
            "total_vnd": round(self.total_vnd),
            "new_mast_sites": int((self.sites["kind"] == "new_mast").sum()) if len(self.sites) else 0,
            "shared_mast_sites": int((self.sites["kind"] == "shared_mast").sum()) if len(self.sites) else 0,
            "fibre_items": dict(self.fibre_items),
            "programme_households": dict(self.programme_households),
            "unit_costs_are_placeholders": self.placeholder,
        }


def _site_kinds(
    existing: gpd.GeoDataFrame, crs: pyproj.CRS, added: gpd.GeoDataFrame | None, unit: SiteUnitCosts
) -> pd.DataFrame:
    """Kind and cost of each added site (grouped by ``site_id``)."""
    if added is None or len(added) == 0:
        return pd.DataFrame(columns=["site_id", "operator", "kind", "cost_vnd"])
    sites = added.groupby(added["site_id"].astype(str), sort=False).first()
    masts = existing.drop_duplicates(["site_id", "operator"])  # one point per operator on a mast
    metric = masts.geometry.to_crs(crs)
    old_xy = np.column_stack([metric.x.to_numpy(), metric.y.to_numpy()])
    old_op = masts["operator"].astype(str).str.casefold().to_numpy()
    old_site = set(masts["site_id"].astype(str))
    geo = (
        added.groupby(added["site_id"].astype(str), sort=False)
        .geometry.first()
        .set_crs(added.crs)
        .to_crs(crs)
    )
    kinds = []
    for sid, row in sites.iterrows():
        p = geo.loc[sid]
        d = np.hypot(old_xy[:, 0] - p.x, old_xy[:, 1] - p.y)
        other = old_op != str(row["operator"]).casefold()
        shared = str(sid) in old_site or bool(np.any((d <= SHARED_MAST_RADIUS_M) & other))
        kinds.append("shared_mast" if shared else "new_mast")
    out = pd.DataFrame(
        {"site_id": sites.index, "operator": sites["operator"].astype(str).to_numpy(), "kind": kinds}
    )
    out["cost_vnd"] = np.where(out["kind"] == "shared_mast", unit.shared_mast_vnd, unit.new_mast_vnd)
    return out


def scenario_costs(
    scenario: Scenario,
    *,
    cells: gpd.GeoDataFrame,
    metric_crs: pyproj.CRS,
    hamlets: pd.DataFrame,
    params: GapParams,
    fibre_plan: ExtensionPlan,
    new_drop_households: float = 0.0,
    site_costs: SiteUnitCosts | None = None,
) -> ScenarioCosts:
    """Costs of the scenario's added sites, fibre and programmes.

    Sites: one unit cost per added site (shared mast when it stands on, or within
    :data:`SHARED_MAST_RADIUS_M` of, another operator's existing site; new mast otherwise).
    Removals, moves, edits and switch-offs are costed at 0 (no published figure). Fibre: one cabinet
    per added access node (``[costs] cabinet_vnd`` of the gap parameters) and, when the extension
    plan is adopted, the plan's own total (cable, cabinets, drops). Programmes: households of the
    hamlets each runs in x its cost per household.
    """
    unit = site_costs or site_unit_costs()
    sites = _site_kinds(cells, metric_crs, scenario.added_sites, unit)
    fibre: dict[str, float] = {}
    unit_fibre = params.costs
    if scenario.added_fibre_nodes is not None and len(scenario.added_fibre_nodes):
        fibre["added_nodes_vnd"] = len(scenario.added_fibre_nodes) * unit_fibre.cabinet_vnd
    if scenario.added_fibre_routes is not None and len(scenario.added_fibre_routes):
        length_m = float(scenario.added_fibre_routes.to_crs(metric_crs).length.sum())
        fibre["added_routes_vnd"] = length_m / 1000.0 * unit_fibre.cable_vnd_per_km
    if new_drop_households > 0:
        fibre["drops_vnd"] = round(new_drop_households * unit_fibre.drop_takeup_share) * unit_fibre.drop_vnd
    if scenario.adopt_fibre_plan:
        fibre["extension_plan_vnd"] = float(fibre_plan.total_cost_vnd)
    households: dict[str, float] = {}
    programmes_vnd = 0.0
    hh = pd.to_numeric(hamlets["households"], errors="coerce").fillna(0.0)
    for prog in scenario.programmes:
        n = float(hh[programme_hamlets(hamlets, prog).to_numpy()].sum())
        households[prog.name] = n
        programmes_vnd += n * prog.cost_per_household_vnd
    return ScenarioCosts(
        float(sites["cost_vnd"].sum()) if len(sites) else 0.0,
        float(sum(fibre.values())),
        programmes_vnd,
        sites,
        fibre,
        households,
        unit.placeholder,
    )


def unit_costs_dict(unit: SiteUnitCosts) -> dict[str, Any]:
    """The unit costs as plain values (for metadata)."""
    return asdict(unit)
