"""Provisional loader of the commune layer for the app, until ``geo.package.load_package`` lands.

Reads ``boundaries/communes.geojson`` of a data package (EPSG:4326). Replaced by
:func:`geo.package.load_package` as soon as that module exists; keep this helper thin.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd

from geo.errors import CRSError, DataNotFoundError, SchemaError

__all__ = ["COMMUNES_FILE", "files_version", "read_communes"]

COMMUNES_FILE = "boundaries/communes.geojson"
_REQUIRED = ("commune_id", "commune_name", "district_name")


def files_version(root: Path | str) -> str:
    """A short content hash of every file under ``root`` (cache key for the app)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_communes(root: Path | str) -> gpd.GeoDataFrame:
    """Read the commune polygons of the data package at ``root`` in EPSG:4326.

    Raises
    ------
    DataNotFoundError
        If ``boundaries/communes.geojson`` is missing.
    SchemaError
        If a required column is missing.
    CRSError
        If the layer has no CRS.
    """
    path = Path(root) / COMMUNES_FILE
    if not path.is_file():
        raise DataNotFoundError(f"{path}: missing; a data package needs {COMMUNES_FILE}")
    gdf = gpd.read_file(path)
    missing = [c for c in _REQUIRED if c not in gdf.columns]
    if missing:
        raise SchemaError(f"{path}: missing column(s) {', '.join(missing)}")
    if gdf.crs is None:
        raise CRSError(f"{path}: no CRS; save it as EPSG:4326")
    return gdf.to_crs(4326).reset_index(drop=True)
