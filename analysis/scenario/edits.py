"""Apply a scenario's changes to a package's frames (copies; the package is never modified)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.scenario.model import Programme, Scenario
from geo.errors import ParameterError

__all__ = [
    "CellChanges",
    "apply_cell_changes",
    "apply_fibre_changes",
    "apply_programmes",
    "programme_hamlets",
]


@dataclass(frozen=True)
class CellChanges:
    """Which cells a scenario touched (ids), whatever the technology."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]
    switched_off: tuple[str, ...]
    technologies: frozenset[str]
    """Technologies of the changed cells, before and after the change."""

    @property
    def any(self) -> bool:
        """True when some cell changed."""
        return bool(self.added or self.removed or self.modified or self.switched_off)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def _match_operator(values: pd.Series, operator: str | None) -> pd.Series:
    if operator is None:
        return pd.Series(True, index=values.index)
    known = sorted(set(_text(values)))
    hit = [v for v in known if v.casefold() == operator.strip().casefold()]
    if not hit:
        raise ParameterError(f"scenario: operator {operator!r} has no cells (operators: {', '.join(known)})")
    return _text(values) == hit[0]


def apply_cell_changes(cells: gpd.GeoDataFrame, scenario: Scenario) -> tuple[gpd.GeoDataFrame, CellChanges]:
    """The package's cells with the scenario's site changes applied, and the ids it changed.

    Order of application: remove sites, move sites, edit cells, switch off technologies, add the
    planned sites (appended after the existing cells, in their file order, and on the air: a cell
    the file marks ``planned`` is evaluated as ``active``, since the scenario tests it as built).

    Raises
    ------
    ParameterError
        A removed, moved or edited site / cell does not exist, an added cell id is already used,
        or the switch-off names an operator without cells.
    """
    touches_existing = bool(
        scenario.removed_sites
        or scenario.moved_sites
        or scenario.cell_edits
        or scenario.switch_off is not None
    )
    if not touches_existing:  # only additions (the common case): no copy of the existing cells
        return _with_added(cells, cells, scenario, removed=[], modified=set(), off=[])
    out = cells.copy()
    site = _text(out["site_id"])
    cell = _text(out["cell_id"])
    removed_ids: list[str] = []
    for i, sid in enumerate(scenario.removed_sites):
        hit = site == sid
        if not hit.any():
            raise ParameterError(f"scenario: remove_sites[{i}]: site {sid!r} is not in towers/sites.csv")
        removed_ids += cell[hit].tolist()
    keep = ~site.isin(scenario.removed_sites)
    out, site, cell = out[keep], site[keep], cell[keep]
    modified: set[str] = set()
    for i, move in enumerate(scenario.moved_sites):
        hit = site == move.site_id
        if not hit.any():
            raise ParameterError(f"scenario: move_sites[{i}]: site {move.site_id!r} is not in the package")
        out.loc[hit, "lon"] = move.lon
        out.loc[hit, "lat"] = move.lat
        out.loc[hit, out.geometry.name] = shapely.points(
            np.full(int(hit.sum()), move.lon), np.full(int(hit.sum()), move.lat)
        )
        modified.update(cell[hit])
    for i, edit in enumerate(scenario.cell_edits):
        hit = cell == edit.cell_id
        if not hit.any():
            raise ParameterError(f"scenario: edit_cells[{i}]: cell {edit.cell_id!r} is not in the package")
        for key, value in edit.values.items():
            out.loc[hit, key] = value
        modified.add(edit.cell_id)
    off: list[str] = []
    if scenario.switch_off is not None and scenario.switch_off.technologies:
        tech = _text(out["technology"]).str.upper()
        hit = tech.isin(scenario.switch_off.technologies) & _match_operator(
            out["operator"], scenario.switch_off.operator
        )
        off = cell[hit].tolist()
        out, cell = out[~hit], cell[~hit]
    return _with_added(cells, out, scenario, removed=removed_ids, modified=modified, off=off)


def _with_added(
    cells: gpd.GeoDataFrame,
    out: gpd.GeoDataFrame,
    scenario: Scenario,
    *,
    removed: list[str],
    modified: set[str],
    off: list[str],
) -> tuple[gpd.GeoDataFrame, CellChanges]:
    """``out`` (the existing cells after removals, moves, edits and the switch-off) with the
    scenario's planned sites appended, and what changed."""
    removed_ids = removed
    added: list[str] = []
    if scenario.added_sites is not None and len(scenario.added_sites):
        new = (
            scenario.added_sites.to_crs(out.crs)
            if scenario.added_sites.crs != out.crs
            else scenario.added_sites
        )
        new_ids = _text(new["cell_id"])
        existing = cells["cell_id"].to_numpy(dtype=object)  # ids are text already (validated layer)
        clash = new_ids[np.isin(new_ids.to_numpy(dtype=object), existing)]
        if len(clash):
            row = int(clash.index[0]) + 2
            raise ParameterError(
                f"scenario sites.csv row {row}: cell_id {clash.iloc[0]!r} already exists in the package; "
                "give planned cells new ids"
            )
        added = new_ids.tolist()
        new = new.assign(status="active")  # a scenario tests its sites as built, whatever their status
        out = pd.concat([out, new[[c for c in new.columns if c in out.columns]]], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry=cells.geometry.name, crs=cells.crs).reset_index(drop=True)
    modified -= set(removed_ids) | set(off)
    touched = set(removed_ids) | set(off) | modified
    techs: set[str] = set()
    if touched:
        techs |= set(_text(cells.loc[_text(cells["cell_id"]).isin(touched), "technology"]).str.upper())
    if modified:
        techs |= set(_text(out.loc[_text(out["cell_id"]).isin(modified), "technology"]).str.upper())
    if added:
        techs |= set(_text(new["technology"]).str.upper())
    changes = CellChanges(
        tuple(added), tuple(removed_ids), tuple(sorted(modified)), tuple(off), frozenset(techs)
    )
    return out, changes


def apply_fibre_changes(
    nodes: gpd.GeoDataFrame, scenario: Scenario, *, planned_hamlets: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Access nodes with the scenario's added nodes and, when it adopts the extension plan, one
    cabinet per planned hamlet (``node_id`` ``PLAN-<hamlet_id>``, at the hamlet).

    ``planned_hamlets``: the hamlets the baseline plan connects (``hamlet_id``, geometry,
    ``operator`` optional), required when the plan is adopted.
    """
    parts = [nodes]
    if scenario.added_fibre_nodes is not None and len(scenario.added_fibre_nodes):
        new = scenario.added_fibre_nodes.to_crs(nodes.crs)
        clash = _text(new["node_id"]).isin(set(_text(nodes["node_id"])))
        if clash.any():
            row = int(np.flatnonzero(clash.to_numpy())[0]) + 2
            raise ParameterError(f"scenario fibre_nodes.csv row {row}: node_id already exists in the package")
        parts.append(new)
    if scenario.adopt_fibre_plan:
        if planned_hamlets is None:
            raise ParameterError("scenario adopts the fibre extension plan, but no plan was given")
        points = planned_hamlets.to_crs(nodes.crs).geometry.representative_point()
        cab = gpd.GeoDataFrame(
            {
                "node_id": ["PLAN-" + str(h) for h in planned_hamlets["hamlet_id"]],
                "operator": planned_hamlets["operator"].to_numpy()
                if "operator" in planned_hamlets
                else _most_common(nodes["operator"]),
                "node_type": "cabinet",
                "name": "planned (fibre extension plan)",
            },
            geometry=points.to_numpy(),
            crs=nodes.crs,
        )
        parts.append(cab)
    if len(parts) == 1:
        return nodes
    merged = pd.concat([p[[c for c in p.columns if c in nodes.columns]] for p in parts], ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry=nodes.geometry.name, crs=nodes.crs)


def _most_common(values: pd.Series) -> str:
    counts = _text(values).value_counts()
    return str(counts.index[0]) if len(counts) else ""


def programme_hamlets(hamlets: pd.DataFrame, programme: Programme) -> pd.Series:
    """Boolean per hamlet: the programme runs there (named hamlet, or a hamlet of a named commune).

    Raises
    ------
    ParameterError
        A named hamlet or commune is not in the package.
    """
    hid = _text(hamlets["hamlet_id"])
    cid = _text(hamlets["commune_id"])
    missing = [h for h in programme.hamlet_ids if h not in set(hid)]
    if missing:
        raise ParameterError(
            f"programme {programme.name!r}: hamlet(s) {', '.join(missing[:5])} not in the package"
        )
    missing = [c for c in programme.commune_ids if c not in set(cid)]
    if missing:
        raise ParameterError(
            f"programme {programme.name!r}: commune(s) {', '.join(missing[:5])} not in the package"
        )
    return hid.isin(programme.hamlet_ids) | cid.isin(programme.commune_ids)


def apply_programmes(
    indicators: pd.DataFrame, hamlets: pd.DataFrame, programmes: tuple[Programme, ...]
) -> pd.DataFrame:
    """Survey indicators after the programmes: each adds its points to the shares of its hamlets.

    Shares are capped at 1; the counts follow the shares (``adults_with_smartphone = share x
    adults``, ``households_ftth = share x survey_households``) so that roll-ups recompute shares
    from counts. A hamlet without survey data stays without (a programme cannot invent a baseline).

    Parameters
    ----------
    indicators
        :func:`analysis.gaps.hamlet_survey_indicators` output (indexed by ``hamlet_id``).
    """
    out = indicators.copy()
    hid = _text(hamlets["hamlet_id"])
    for prog in programmes:
        where = pd.Index(hid[programme_hamlets(hamlets, prog).to_numpy()])
        where = where.intersection(out.index)
        if prog.smartphone_points:
            share = (out.loc[where, "smartphone_share"] + prog.smartphone_points / 100.0).clip(upper=1.0)
            out.loc[where, "smartphone_share"] = share
            out.loc[where, "adults_with_smartphone"] = share * out.loc[where, "adults"]
        if prog.ftth_points:
            share = (out.loc[where, "ftth_share"] + prog.ftth_points / 100.0).clip(upper=1.0)
            out.loc[where, "ftth_share"] = share
            out.loc[where, "households_ftth"] = share * out.loc[where, "survey_households"]
    return out
