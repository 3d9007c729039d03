"""Orchestration of the new Vĩnh Long package: derive communes, draw each layer, write every file."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from datagen.fibre import (
    fibre_road_distance_m,
    generate_fibre_routes,
    road_network,
)
from datagen.geometry import METRIC_EPSG
from datagen.output import write_csv, write_geodataframe
from datagen.params import GeneratorParams
from datagen.pipeline import (
    COMMUNES_FILE,
    FIBRE_REACH_M,
    HAMLETS_FILE,
    SITES_FILE,
    SURVEY_FILE,
    low_take_up_count,
    nearest_active_site_m,
    synthetic_metadata,
    write_fibre,
    write_roads,
)
from datagen.rng import layer_rng
from datagen.survey import Calibration
from datagen.towers import SITE_COLUMNS
from datagen.vinh_long import manifest
from datagen.vinh_long.calibration import FORMER_PROVINCES, site_targets
from datagen.vinh_long.hamlets import (
    HAMLET_COLUMNS_2025,
    check_hamlets_inside,
    generate_hamlets_2025,
    hamlets_for_output,
    khmer_share_by,
)
from datagen.vinh_long.network import (
    SITE_COLUMNS_2025_EXTRA,
    generate_fibre_nodes_2025,
    generate_roads_2025,
    generate_sites_2025,
)
from datagen.vinh_long.survey import SURVEY_COLUMNS_2025, generate_survey_2025
from datagen.vinh_long.units import (
    COMMUNE_COLUMNS_2025,
    Sources,
    communes_layer,
    generation_units,
    load_sources,
)

log = logging.getLogger(__name__)

PROVINCE = "vinh-long-2025"
"""Value of ``--province`` that selects this generator."""

PARTS_FILE = "boundaries/old_unit_parts.csv"
"""Area of each (old commune, new commune) pair of the derivation (read by the crosswalk)."""

OUTLINE_HOLE_MAX_M2 = 1_000_000.0
"""Holes smaller than this (gaps between generalised 2009 polygons) are filled in province outlines."""


def outline(geoms: Any) -> BaseGeometry:
    """Union of polygons (EPSG:32648) with holes smaller than :data:`OUTLINE_HOLE_MAX_M2` filled."""
    union = shapely.union_all(list(geoms))
    polys = []
    for poly in shapely.get_parts(union):
        if isinstance(poly, Polygon):
            keep = [r for r in poly.interiors if Polygon(r).area >= OUTLINE_HOLE_MAX_M2]
            polys.append(Polygon(poly.exterior, keep))
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _metadata(params: GeneratorParams, what: str) -> dict[str, Any]:
    """The ``metadata`` member of a generated GeoJSON file of this package."""
    return {**synthetic_metadata(params, what), "generator": f"{manifest.COMMAND} --seed {params.seed}"}


def _write_communes(root: Path, communes: gpd.GeoDataFrame) -> None:
    write_geodataframe(
        root / COMMUNES_FILE,
        communes,
        columns=COMMUNE_COLUMNS_2025,
        name="communes",
        metadata={
            "synthetic": False,
            "source": manifest.COMMUNES_SOURCE,
            "licence": "MIT",
            "boundary_vintage": manifest.BOUNDARY_VINTAGE,
            "population": "2009 census (population_year = 2009), not projected",
            "households_derived": "households = round(population / 3.8), 2009 census mean household size",
            "approximate": "see geometry_note and boundaries/PROVENANCE.md",
        },
    )


def _write_parts(root: Path, sources: Sources) -> None:
    parts = sources.derivation.parts.copy()
    parts["area_km2"] = parts["area_km2"].round(4)
    parts["area_share"] = parts["area_share"].round(6)
    write_csv(root / PARTS_FILE, parts.to_dict(orient="records"), columns=list(parts.columns))


def _share(num: pd.Series, den: pd.Series) -> float:
    return round(float(num.sum() / den.sum()), 5)


def _achieved(
    *,
    hamlets: gpd.GeoDataFrame,
    frame: pd.DataFrame,
    cells: pd.DataFrame,
    nodes: gpd.GeoDataFrame,
    survey: pd.DataFrame,
    calibration: dict[str, Calibration],
    scales: dict[str, float],
    n_zones: dict[str, int],
) -> dict[str, dict[str, Any]]:
    """Achieved figures per former province (keyed by its ``dataset.toml`` key)."""
    sites = cells.drop_duplicates("site_id")
    khmer = khmer_share_by(hamlets, "former_province_code")
    with_node = set(frame.loc[frame["unit_id"].isin(set(nodes["unit_id"])), "former_key"])
    out: dict[str, dict[str, Any]] = {}
    for fp in FORMER_PROVINCES:
        mine = frame[frame["former_province_code"] == fp.code]
        keys = set(mine["former_key"])
        cal = calibration[fp.code]
        out[fp.key] = {
            "sites_active": int(
                ((sites["former_province"] == fp.name) & (sites["status"] == "active")).sum()
            ),
            "sites_planned": int(
                ((sites["former_province"] == fp.name) & (sites["status"] == "planned")).sum()
            ),
            "site_spacing_scale": round(float(scales[fp.code]), 4),
            "gap_zones": int(n_zones[fp.code]),
            "ftth_household_share": round(cal.ftth_household_share, 5),
            "smartphone_adult_share": round(cal.smartphone_adult_share, 5),
            "internet_adult_share": round(cal.internet_adult_share, 5),
            "khmer_share": round(float(khmer[fp.code]), 5),
            "hamlets": len(mine),
            "former_communes": len(keys),
            "fibre_former_commune_share": round(len(keys & with_node) / len(keys), 4),
            "hamlets_5km_from_active_site": int((mine["site_dist_m"] >= 5000).sum()),
            "hamlets_beyond_3km_fibre_by_road": int((mine["fibre_dist_m"] > FIBRE_REACH_M).sum()),
        }
    return out


def generate_vinh_long_package(root: Path, *, params: GeneratorParams) -> dict[str, Any]:
    """Write the new Vĩnh Long package (layout 2025-07) under ``root``; return the summary.

    Parameters
    ----------
    root
        Package folder (created if missing); existing files of the package are overwritten.
    params
        Seed and shared parameters (``n_sites`` and the three ``target_*`` are not used: the targets
        are per former province, :mod:`datagen.vinh_long.calibration`).

    Returns
    -------
    dict
        Totals and, per former province, targets and achieved figures (also in ``dataset.toml``).
    """
    start = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    sources = load_sources()
    communes = communes_layer(sources.derivation, persons_per_household=params.persons_per_household)
    units = generation_units(sources, communes)
    communes_metric = communes.to_crs(METRIC_EPSG)
    province = outline(communes_metric.geometry.values)
    pieces = sources.communes_2009.to_crs(METRIC_EPSG)
    outlines = {
        fp.code: outline(pieces.loc[pieces["province_code"] == fp.code].geometry.values)
        for fp in FORMER_PROVINCES
    }
    population = {str(k): int(v) for k, v in pieces.groupby("province_code")["pop_2009"].sum().items()}
    site_figures = site_targets(population)
    targets = {code: int(fig.value) for code, fig in site_figures.items()}
    _write_communes(root, communes)
    _write_parts(root, sources)
    log.info("communes and units: %.1f s", time.perf_counter() - start)

    draw = generate_hamlets_2025(units, params=params, rng=layer_rng(params.seed, "hamlets"))
    hamlets = draw.hamlets
    written = hamlets_for_output(hamlets)
    check_hamlets_inside(written, communes)
    write_geodataframe(
        root / HAMLETS_FILE,
        written,
        columns=HAMLET_COLUMNS_2025,
        name="hamlets",
        metadata=_metadata(params, "hamlets"),
    )
    roads = generate_roads_2025(hamlets, draw.district_centres, province, rng=layer_rng(params.seed, "roads"))
    write_roads(root, roads, metadata=_metadata(params, "roads"))
    log.info("hamlets and roads: %.1f s", time.perf_counter() - start)

    cells, zones, scales = generate_sites_2025(
        hamlets, units, communes_metric, outlines, targets, rng=layer_rng(params.seed, "towers")
    )
    write_csv(
        root / SITES_FILE, cells.to_dict(orient="records"), columns=[*SITE_COLUMNS, *SITE_COLUMNS_2025_EXTRA]
    )
    log.info("sites: %.1f s", time.perf_counter() - start)

    graph = road_network(roads)
    nodes = generate_fibre_nodes_2025(
        hamlets, units, draw.district_centres, graph, rng=layer_rng(params.seed, "fibre")
    )
    routes = generate_fibre_routes(nodes, graph)
    write_fibre(
        root,
        nodes,
        routes,
        node_metadata=_metadata(params, "fibre access nodes"),
        route_metadata=_metadata(params, "fibre routes"),
    )
    log.info("fibre: %.1f s", time.perf_counter() - start)

    frame = pd.DataFrame(hamlets.drop(columns="geometry"))
    frame["fibre_dist_m"] = fibre_road_distance_m(graph, nodes, frame["hamlet_id"].tolist())
    frame["site_dist_m"] = nearest_active_site_m(frame, cells)
    survey, calibration = generate_survey_2025(frame, params=params, rng=layer_rng(params.seed, "survey"))
    write_csv(root / SURVEY_FILE, survey.to_dict(orient="records"), columns=SURVEY_COLUMNS_2025)

    zone_fp = dict(zip(frame["hamlet_id"], frame["former_province_code"], strict=True))
    n_zones = {fp.code: sum(1 for z in zones if zone_fp[z.hamlet_id] == fp.code) for fp in FORMER_PROVINCES}
    per_fp = _achieved(
        hamlets=hamlets,
        frame=frame,
        cells=cells,
        nodes=nodes,
        survey=survey,
        calibration=calibration,
        scales=scales,
        n_zones=n_zones,
    )
    counts = survey[
        ["households", "households_ftth", "adults", "adults_with_smartphone", "adults_internet_users"]
    ]
    sites = cells.drop_duplicates("site_id")
    totals: dict[str, Any] = {
        "communes": len(communes),
        "sites_active": int((sites["status"] == "active").sum()),
        "sites_planned": int((sites["status"] == "planned").sum()),
        "cells": len(cells),
        "fibre_commune_share": round(nodes["commune_id"].nunique() / len(communes), 4),
        "ftth_household_share": _share(counts["households_ftth"], counts["households"]),
        "smartphone_adult_share": _share(counts["adults_with_smartphone"], counts["adults"]),
        "internet_adult_share": _share(counts["adults_internet_users"], counts["adults"]),
        "hamlets": len(hamlets),
        "hamlets_5km_from_active_site": int((frame["site_dist_m"] >= 5000).sum()),
        "hamlets_beyond_3km_fibre_by_road": int((frame["fibre_dist_m"] > FIBRE_REACH_M).sum()),
        "hamlets_low_ftth_despite_fibre_and_coverage": low_take_up_count(frame, survey),
        "survey_rows": len(survey),
        "survey_commune_level_rows": int((survey["hamlet_id"] == "").sum()),
        "gap_zone_hamlets": ",".join(z.hamlet_id for z in zones),
        "road_features": len(roads),
        "fibre_nodes": len(nodes),
        "fibre_routes": len(routes),
    }
    manifest.write_texts(
        root,
        params=params,
        sources=sources,
        communes=communes,
        site_figures=site_figures,
        population=population,
        totals=totals,
        per_fp=per_fp,
    )
    log.info("total: %.1f s", time.perf_counter() - start)
    return {**totals, **{f"{key}.{k}": v for key, fig in per_fp.items() for k, v in fig.items()}}
