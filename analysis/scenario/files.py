"""A scenario as files (``scenario.json`` + layers) and back; layers are checked as in a package."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analysis.scenario.model import Scenario, scenario_from_document, scenario_to_document
from geo.errors import ParameterError, ValidationError
from geo.schema import SITE_CSV_COLUMNS
from geo.validate import check_layer_file

__all__ = ["read_layer", "scenario_files", "scenario_from_files"]

#: Columns written for the added sites (the towers/sites.csv columns, in docs/DATA.md order).
SITE_COLUMNS = SITE_CSV_COLUMNS
NODE_COLUMNS = ("node_id", "operator", "node_type", "name", "commune_id", "lon", "lat")
ROUTE_COLUMNS = ("route_id", "operator", "route_type")


def read_layer(data: bytes | Path, key: str, *, layout: str, display: str) -> gpd.GeoDataFrame:
    """Read and check a layer given to a scenario (planned sites, fibre nodes).

    Raises
    ------
    ValidationError
        Every problem (file, row, field, what to fix) when the layer has errors.
    """
    if isinstance(data, Path):
        frame, problems = check_layer_file(data, key, layout=layout, display=display)
    else:
        with tempfile.TemporaryDirectory(prefix="phusong-scenario-") as tmp:
            path = Path(tmp) / Path(display).name
            path.write_bytes(data)
            frame, problems = check_layer_file(path, key, layout=layout, display=display)
    if frame is None or any(p.severity == "error" for p in problems):
        raise ValidationError(list(problems))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def _csv(frame: pd.DataFrame, columns: tuple[str, ...]) -> bytes:
    cols = [c for c in columns if c in frame.columns]
    text = pd.DataFrame(frame[cols]).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _nodes_csv(frame: gpd.GeoDataFrame) -> bytes:
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out["lon"], out["lat"] = frame.geometry.x.round(7), frame.geometry.y.round(7)
    return _csv(out, NODE_COLUMNS)


def scenario_files(scenario: Scenario, *, now: datetime | None = None) -> dict[str, bytes]:
    """The files of a scenario: ``scenario.json`` (UTF-8, names as written) and its layers."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scenario = scenario.with_changes(created_utc=scenario.created_utc or stamp, updated_utc=stamp)
    doc = scenario_to_document(scenario)
    files = {"scenario.json": (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")}
    if scenario.added_sites is not None and len(scenario.added_sites):
        files["sites.csv"] = _csv(scenario.added_sites, SITE_COLUMNS)
    if scenario.added_fibre_nodes is not None and len(scenario.added_fibre_nodes):
        files["fibre_nodes.csv"] = _nodes_csv(scenario.added_fibre_nodes)
    if scenario.added_fibre_routes is not None and len(scenario.added_fibre_routes):
        routes = scenario.added_fibre_routes.to_crs(4326)
        cols = [c for c in ROUTE_COLUMNS if c in routes] + [routes.geometry.name]
        files["fibre_routes.geojson"] = gpd.GeoDataFrame(routes[cols]).to_json(drop_id=True).encode("utf-8")
    return files


def scenario_from_files(files: Mapping[str, bytes], *, layout: str, display: str = "scenario") -> Scenario:
    """Read a scenario from its files (as :func:`scenario_files` writes them).

    Raises
    ------
    ParameterError, ValidationError
        The document or a layer is wrong (the message names the file, row and field).
    """
    if "scenario.json" not in files:
        raise ParameterError(f"{display}: scenario.json is missing")
    try:
        doc = json.load(io.TextIOWrapper(io.BytesIO(files["scenario.json"]), encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(f"{display}/scenario.json: not a JSON document ({exc})") from None
    sites = nodes = routes = None
    if "sites.csv" in files:
        sites = read_layer(files["sites.csv"], "towers", layout=layout, display=f"{display}/sites.csv")
    if "fibre_nodes.csv" in files:
        nodes = read_layer(
            files["fibre_nodes.csv"], "fibre_nodes", layout=layout, display=f"{display}/fibre_nodes.csv"
        )
    if "fibre_routes.geojson" in files:
        routes = read_layer(
            files["fibre_routes.geojson"],
            "fibre_routes",
            layout=layout,
            display=f"{display}/fibre_routes.geojson",
        )
    return scenario_from_document(doc, added_sites=sites, added_fibre_nodes=nodes, added_fibre_routes=routes)
