"""Orchestration: read communes, generate each synthetic layer, write files and the manifest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from datagen import communes as communes_mod
from datagen.manifest import LayerEntry, manifest_text
from datagen.output import write_geodataframe
from datagen.params import GeneratorParams
from geo.errors import DataNotFoundError, SchemaError

log = logging.getLogger(__name__)

CREATED = "2026-11-25"
"""Date recorded in ``dataset.toml`` (fixed so that re-runs are byte-identical)."""

COMMUNES_FILE = "boundaries/communes.geojson"

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


def generate_package(root: Path, *, params: GeneratorParams, communes: gpd.GeoDataFrame) -> dict[str, Any]:
    """Write every layer and ``dataset.toml`` under ``root``; return a summary of figures."""
    root.mkdir(parents=True, exist_ok=True)
    write_communes(root, communes)
    layers = [communes_layer_entry()]
    calibration: dict[str, float] = {}
    (root / "dataset.toml").write_text(
        manifest_text(params=params, layers=layers, calibration=calibration, created=CREATED),
        encoding="utf-8",
    )
    return {"communes": len(communes), "population": int(communes["population"].sum())}
