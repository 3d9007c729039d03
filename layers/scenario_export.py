"""A scenario's results as files: before/after tables, the changed layers, the scenario itself."""

from __future__ import annotations

import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.scenario.evaluate import ScenarioResult
from analysis.scenario.files import SITE_COLUMNS, scenario_files
from layers.exports import export_bytes
from layers.scenario_report import build_scenario_pdf

__all__ = ["scenario_layers", "scenario_metadata", "write_scenario_outputs"]


def scenario_metadata(result: ScenarioResult) -> dict[str, str]:
    """Export metadata: package, version, scenario, what the figures are, placeholders."""
    pkg = result.baseline.pkg
    costs = result.costs
    meta = {
        "title": f"PhuSong scenario: {result.scenario.name}",
        "dataset": str(pkg.meta.name),
        "dataset_version": str(pkg.version),
        "scenario": result.scenario.name,
        "scenario_base_version": result.scenario.base_version,
        "hh_good_4g": "households x share of the hamlet's households at good 4G (coverage engine)",
        "flags": "gap flags of analysis/gaps.py, judged by the baseline's thresholds",
        "unit_costs": "PLACEHOLDER unit costs (analysis/config/scenario_costs.toml); replace with the "
        "province's own prices"
        if costs.placeholder
        else "unit costs of analysis/config/scenario_costs.toml",
    }
    synthetic = pkg.synthetic_layers
    if synthetic:
        meta["synthetic_layers"] = ", ".join(synthetic)
    return meta


def _points(frame: pd.DataFrame, geometry: gpd.GeoSeries) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geometry.to_numpy(), crs=geometry.crs)


def scenario_layers(result: ScenarioResult) -> dict[str, gpd.GeoDataFrame]:
    """GIS layers of a scenario (EPSG:4326).

    ``hamlet_changes``: hamlets whose indicators or flags changed, with the before/after columns;
    ``new_sites``: the added cells; ``removed_cells``: cells removed or switched off;
    ``moved_cells``: cells at their new place; ``new_fibre_nodes`` / ``new_fibre_routes``: added
    access nodes and cable routes.
    """
    base = result.baseline
    out: dict[str, gpd.GeoDataFrame] = {}
    ham = base.hamlets.set_index(base.hamlets["hamlet_id"].astype(str)).geometry
    changed = result.hamlets[result.hamlets["changed"]]
    geom = gpd.GeoSeries(ham.reindex(changed["hamlet_id"].astype(str)).to_numpy(), crs=base.hamlets.crs)
    out["hamlet_changes"] = _points(changed, geom.representative_point())
    cells = result.cells
    ids = cells["cell_id"].astype(str)
    if result.changes.added:
        new = cells[ids.isin(result.changes.added)]
        out["new_sites"] = gpd.GeoDataFrame(
            new[[c for c in SITE_COLUMNS if c in new] + ["geometry"]], crs=cells.crs
        )
    gone = set(result.changes.removed) | set(result.changes.switched_off)
    if gone:
        old = base.pkg.cells[base.pkg.cells["cell_id"].astype(str).isin(gone)].copy()
        old["change"] = np.where(
            old["cell_id"].astype(str).isin(result.changes.removed), "removed", "switched_off"
        )
        out["removed_cells"] = gpd.GeoDataFrame(
            old[[c for c in (*SITE_COLUMNS, "change") if c in old] + ["geometry"]], crs=cells.crs
        )
    if result.changes.modified:
        mod = cells[ids.isin(result.changes.modified)]
        out["modified_cells"] = gpd.GeoDataFrame(
            mod[[c for c in SITE_COLUMNS if c in mod] + ["geometry"]], crs=cells.crs
        )
    nodes = result.fibre_nodes
    if nodes is not base.pkg.fibre_nodes:
        new_nodes = nodes[
            ~nodes["node_id"].astype(str).isin(set(base.pkg.fibre_nodes["node_id"].astype(str)))
        ]
        out["new_fibre_nodes"] = gpd.GeoDataFrame(new_nodes, crs=nodes.crs)
    routes = result.scenario.added_fibre_routes
    if routes is not None and len(routes):
        out["new_fibre_routes"] = gpd.GeoDataFrame(routes, crs=routes.crs)
    return {k: v.to_crs(4326) for k, v in out.items()}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _write(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _located(frame: pd.DataFrame, units: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """``frame`` with the representative point of its unit (hamlet or commune) as geometry."""
    geom = units.set_index(units[key].astype(str)).geometry
    points = gpd.GeoSeries(
        geom.reindex(frame[key].astype(str)).to_numpy(), crs=units.crs
    ).representative_point()
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=points.to_numpy(), crs=units.crs).to_crs(
        4326
    )


def write_scenario_outputs(result: ScenarioResult, out_dir: Path, *, lang: str = "vi") -> list[Path]:
    """Write a scenario's outputs into ``out_dir`` (created; existing files of the same names are
    replaced, each atomically) and return their paths.

    Files: ``hamlets.csv`` and ``communes.csv`` (before/after), ``changes.xlsx`` (both tables, one
    sheet each), ``changes.gpkg`` (:func:`scenario_layers`), ``towers_after.csv`` (the package's
    ``towers/sites.csv`` after the scenario), ``summary.json``, ``scenario.pdf`` (the one-page report
    in ``lang``) and the scenario itself
    (``scenario.json`` and its layers) so it can be run again.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = scenario_metadata(result)
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = out_dir / name
        _write(path, data)
        written.append(path)

    base = result.baseline
    hamlets = _located(result.hamlets, base.hamlets, "hamlet_id")
    communes = _located(result.communes, base.pkg.communes, "commune_id")
    put("hamlets.csv", export_bytes(hamlets, "csv", metadata=meta, layer="hamlets"))
    put("communes.csv", export_bytes(communes, "csv", metadata=meta, layer="communes"))
    put("changes.xlsx", export_bytes({"hamlets": hamlets, "communes": communes}, "xlsx", metadata=meta))
    layers = scenario_layers(result)
    put("changes.gpkg", export_bytes(layers, "gpkg", metadata=meta))
    towers = pd.DataFrame(result.cells.drop(columns=result.cells.geometry.name))
    extra = [c for c in towers if c not in SITE_COLUMNS and towers[c].notna().any()]  # e.g. former_province
    towers = towers[[c for c in SITE_COLUMNS if c in towers] + extra]
    put("towers_after.csv", towers.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    summary = {"scenario": result.scenario.name, **_clean(result.summary), "timings_s": result.timings_s}
    put(
        "summary.json",
        (json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default) + "\n").encode(),
    )
    put("scenario.pdf", build_scenario_pdf(result, lang=lang))
    for name, data in scenario_files(result.scenario).items():
        put(name, data)
    return written
