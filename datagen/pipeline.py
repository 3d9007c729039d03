"""Orchestration: read communes, generate each synthetic layer, write files and the manifest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from datagen import communes as communes_mod
from datagen.fibre import (
    NODE_COLUMNS,
    ROUTE_COLUMNS,
    fibre_road_distance_m,
    generate_fibre_nodes,
    generate_fibre_routes,
    road_network,
)
from datagen.geometry import METRIC_EPSG
from datagen.hamlets import HAMLET_COLUMNS, generate_hamlets
from datagen.manifest import LayerEntry, manifest_text, synthetic_layer, synthetic_source
from datagen.output import write_csv, write_geodataframe
from datagen.params import GeneratorParams
from datagen.rng import layer_rng
from datagen.roads import ROAD_COLUMNS, generate_roads
from datagen.survey import SURVEY_COLUMNS, generate_survey
from datagen.towers import SITE_COLUMNS, generate_sites
from geo.errors import DataNotFoundError, SchemaError

log = logging.getLogger(__name__)

CREATED = "2026-11-25"
"""Date recorded in ``dataset.toml`` (fixed so that re-runs are byte-identical)."""

COMMUNES_FILE = "boundaries/communes.geojson"
HAMLETS_FILE = "boundaries/hamlets.geojson"
SITES_FILE = "towers/sites.csv"
NODES_FILE = "fibre/nodes.geojson"
ROUTES_FILE = "fibre/routes.geojson"
ROADS_FILE = "roads/roads.geojson"
SURVEY_FILE = "survey/hamlet_survey.csv"

FIBRE_REACH_M = 3000.0
"""Road distance beyond which a hamlet is counted as beyond fibre reach in the summary."""

COMMUNES_SOURCE = "censusVN2009 (Marc Choisy & Lucie Contamin), 2009 census population"


def communes_layer_entry() -> LayerEntry:
    """Return the manifest entry of the real commune layer."""
    return LayerEntry(
        key="communes",
        file=COMMUNES_FILE,
        synthetic=False,
        source=COMMUNES_SOURCE,
        licence="MIT",
        licence_file="boundaries/LICENSE.censusVN2009",
        notes=(
            "2009 layout, 105 communes, low-resolution polygons. households derived as "
            "population / 3.8 (households_derived = true). commune_code_2025 / commune_name_2025 "
            "from dvhcvn/20250701 (MIT, boundaries/LICENSE.dvhcvn-20250701)."
        ),
        extra={"provenance": "boundaries/PROVENANCE.md"},
    )


def rebuild_communes(
    source: Path, *, params: GeneratorParams, code_mapping_2025: Path | None = None
) -> gpd.GeoDataFrame:
    """Re-import the commune layer from a censusVN2009 province GeoJSON (see :mod:`datagen.communes`)."""
    return communes_mod.communes_from_census(
        source, persons_per_household=params.persons_per_household, code_mapping_2025=code_mapping_2025
    )


def load_bundled_communes(root: Path) -> gpd.GeoDataFrame:
    """Read ``root/boundaries/communes.geojson`` as written by this generator.

    Raises
    ------
    DataNotFoundError
        When the file is missing (run with ``--communes-source`` first).
    SchemaError
        When a required column is missing.
    """
    path = root / COMMUNES_FILE
    if not path.is_file():
        raise DataNotFoundError(
            f"{path} not found; run `python -m datagen --communes-source <censusVN2009 geojson>` first"
        )
    gdf = gpd.read_file(path)
    missing = [c for c in communes_mod.COMMUNE_COLUMNS if c not in gdf.columns]
    if missing:
        raise SchemaError(f"{path}: missing columns {missing}")
    for col in ("commune_id", "commune_code", "commune_code_2025", "commune_name_2025"):
        gdf[col] = gdf[col].fillna("").astype(str)
    for col in ("population", "households"):
        gdf[col] = gdf[col].astype(np.int64)
    gdf["households_derived"] = gdf["households_derived"].astype(bool)
    return gdf.set_crs(4326, allow_override=True)


def write_communes(root: Path, communes: gpd.GeoDataFrame) -> Path:
    """Write the commune layer to ``root/boundaries/communes.geojson``."""
    metadata = {
        "synthetic": False,
        "source": COMMUNES_SOURCE,
        "licence": "MIT",
        "boundary_vintage": "2009 layout",
        "households_derived": "households = round(population / 3.8), 2009 census mean household size",
    }
    return write_geodataframe(
        root / COMMUNES_FILE,
        communes,
        columns=communes_mod.COMMUNE_COLUMNS,
        name="communes",
        metadata=metadata,
    )


def synthetic_metadata(params: GeneratorParams, what: str) -> dict[str, Any]:
    """Return the top-level ``metadata`` member of a generated GeoJSON file."""
    return {
        "synthetic": True,
        "source": synthetic_source(params),
        "licence": "CC0-1.0",
        "generator": f"python -m datagen --seed {params.seed}",
        "note": f"SYNTHETIC {what}: generated, calibrated to province-level figures only; not real data.",
    }


def write_roads(root: Path, roads: gpd.GeoDataFrame, *, metadata: dict[str, Any]) -> None:
    """Write the road layer (any CRS; stored in EPSG:4326) to ``root/roads/roads.geojson``."""
    write_geodataframe(
        root / ROADS_FILE, roads.to_crs(4326), columns=ROAD_COLUMNS, name="roads", metadata=metadata
    )


def write_fibre(
    root: Path,
    nodes: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame,
    *,
    node_metadata: dict[str, Any],
    route_metadata: dict[str, Any],
) -> None:
    """Write the fibre access nodes and routes (stored in EPSG:4326)."""
    write_geodataframe(
        root / NODES_FILE,
        nodes.to_crs(4326),
        columns=NODE_COLUMNS,
        name="fibre_nodes",
        metadata=node_metadata,
    )
    write_geodataframe(
        root / ROUTES_FILE,
        routes.to_crs(4326),
        columns=ROUTE_COLUMNS,
        name="fibre_routes",
        metadata=route_metadata,
    )


def generate_package(root: Path, *, params: GeneratorParams, communes: gpd.GeoDataFrame) -> dict[str, Any]:
    """Write every layer and ``dataset.toml`` under ``root``; return the calibration summary.

    Parameters
    ----------
    root
        Data package folder (created if missing); existing layer files are overwritten.
    params
        Generator parameters.
    communes
        The real commune layer (EPSG:4326), see :func:`load_bundled_communes`.

    Returns
    -------
    dict
        Figures achieved (sites, fibre commune share, rates, gaps), also written to ``dataset.toml``.
    """
    root.mkdir(parents=True, exist_ok=True)
    communes = communes.sort_values("commune_id", kind="stable").reset_index(drop=True)
    province = communes.to_crs(METRIC_EPSG).union_all()
    write_communes(root, communes)

    draw = generate_hamlets(communes, params=params, rng=layer_rng(params.seed, "hamlets"))
    hamlets = draw.hamlets
    write_geodataframe(
        root / HAMLETS_FILE,
        hamlets.to_crs(4326),
        columns=HAMLET_COLUMNS,
        name="hamlets",
        metadata=synthetic_metadata(params, "hamlets"),
    )

    roads = generate_roads(hamlets, draw.district_centres, province, rng=layer_rng(params.seed, "roads"))
    write_roads(root, roads, metadata=synthetic_metadata(params, "roads"))

    cells, zones = generate_sites(
        hamlets, communes, province, params=params, rng=layer_rng(params.seed, "towers")
    )
    write_csv(root / SITES_FILE, cells.to_dict(orient="records"), columns=SITE_COLUMNS)

    graph = road_network(roads)
    nodes = generate_fibre_nodes(
        hamlets, communes, draw.district_centres, graph, rng=layer_rng(params.seed, "fibre")
    )
    routes = generate_fibre_routes(nodes, graph)
    write_fibre(
        root,
        nodes,
        routes,
        node_metadata=synthetic_metadata(params, "fibre access nodes"),
        route_metadata=synthetic_metadata(params, "fibre routes"),
    )

    frame = pd.DataFrame(hamlets.drop(columns="geometry"))
    frame["fibre_dist_m"] = fibre_road_distance_m(graph, nodes, frame["hamlet_id"].tolist())
    frame["site_dist_m"] = nearest_active_site_m(frame, cells)
    survey, cal = generate_survey(frame, params=params, rng=layer_rng(params.seed, "survey"))
    write_csv(root / SURVEY_FILE, survey.to_dict(orient="records"), columns=SURVEY_COLUMNS)

    active = cells[cells["status"] == "active"]["site_id"].nunique()
    summary: dict[str, Any] = {
        "sites_active": int(active),
        "sites_planned": int(cells[cells["status"] == "planned"]["site_id"].nunique()),
        "cells": len(cells),
        "fibre_commune_share": round(nodes["commune_id"].nunique() / len(communes), 4),
        "ftth_household_share": round(cal.ftth_household_share, 5),
        "smartphone_adult_share": round(cal.smartphone_adult_share, 5),
        "internet_adult_share": round(cal.internet_adult_share, 5),
        "hamlets": len(hamlets),
        "hamlets_5km_from_active_site": int((frame["site_dist_m"] >= 5000).sum()),
        "hamlets_beyond_3km_fibre_by_road": int((frame["fibre_dist_m"] > FIBRE_REACH_M).sum()),
        "hamlets_low_ftth_despite_fibre_and_coverage": low_take_up_count(frame, survey),
        "gap_zone_hamlets": ",".join(z.hamlet_id for z in zones),
        "road_features": len(roads),
        "fibre_nodes": len(nodes),
    }
    (root / "dataset.toml").write_text(
        manifest_text(
            params=params,
            layers=_layer_entries(params, n_planned=summary["sites_planned"]),
            calibration=summary,
            created=CREATED,
        ),
        encoding="utf-8",
    )
    return summary


def low_take_up_count(frame: pd.DataFrame, survey: pd.DataFrame, *, max_share: float = 0.4) -> int:
    """Count hamlets with fibre (by road) and an active site within 1.5 km but FTTH share < ``max_share``."""
    rows = survey[survey["hamlet_id"] != ""].merge(
        frame[["hamlet_id", "fibre_dist_m", "site_dist_m"]], on="hamlet_id"
    )
    served = (rows["fibre_dist_m"] <= 1500) & (rows["site_dist_m"] <= 1500)
    low = rows["households_ftth"] < max_share * rows["households"]
    return int((served & low).sum())


def nearest_active_site_m(hamlets: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Return each hamlet's straight-line distance (metres, EPSG:32648) to the nearest active site."""
    sites = cells[cells["status"] == "active"].drop_duplicates("site_id")
    pts = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), crs=4326).to_crs(METRIC_EPSG)
    sx, sy = pts.x.to_numpy(), pts.y.to_numpy()
    hx, hy = hamlets["x"].to_numpy(), hamlets["y"].to_numpy()
    return np.array([np.hypot(sx - x, sy - y).min() for x, y in zip(hx, hy, strict=True)])


def _layer_entries(params: GeneratorParams, *, n_planned: int) -> list[LayerEntry]:
    return [
        communes_layer_entry(),
        synthetic_layer(
            "hamlets",
            HAMLETS_FILE,
            params,
            notes="~7-8 ấp/khóm per commune; households and population sum exactly to the commune's",
        ),
        synthetic_layer(
            "towers",
            SITES_FILE,
            params,
            notes=f"{params.n_sites} active sites (published figure) + {n_planned} planned; one row per cell",
        ),
        synthetic_layer(
            "fibre_nodes", NODES_FILE, params, notes="POP / OLT / cabinet; a cabinet in every commune"
        ),
        synthetic_layer(
            "fibre_routes", ROUTES_FILE, params, notes="backbone POP-OLT and access OLT-cabinet along roads"
        ),
        synthetic_layer("roads", ROADS_FILE, params, notes="schematic network joining every hamlet; not OSM"),
        synthetic_layer(
            "survey",
            SURVEY_FILE,
            params,
            notes="calibrated: FTTH 69.3% of households, smartphone 76% and internet 84% of adults",
        ),
    ]
