"""The loaded data package: one object the CLI and the app both use.

:func:`load_package` runs the full validation (:func:`geo.validate.check_package`), raises
:class:`geo.errors.ValidationError` with every problem when there is an error, and otherwise
returns a frozen :class:`DataPackage` with clean frames in EPSG:4326 and the warnings kept.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj

from geo.crs import metric_crs_for
from geo.errors import Problem, ValidationError
from geo.package_cache import load_cached, store
from geo.schema import DatasetMeta
from geo.store import JOURNAL_NAME, NON_DATA_DIRS, recover
from geo.validate import check_package

__all__ = ["DataPackage", "load_package", "package_digest", "package_version"]

logger = logging.getLogger(__name__)

VERSION_HEX_CHARS = 12
"""Length of :attr:`DataPackage.version` (hex digits of a SHA-256)."""


@dataclass(frozen=True)
class DataPackage:
    """A validated data package (one province).

    Every frame is in EPSG:4326 with index 0..n-1, columns as in ``docs/DATA.md``, category
    values canonical (``Operator``, ``Technology``, ... values), repaired geometries. Treat
    the frames as read-only: they may be shared between callers (copy before changing).

    Attributes
    ----------
    root : Path
        Package folder.
    meta : DatasetMeta
        Parsed ``dataset.toml``.
    communes : GeoDataFrame
        One (Multi)Polygon per commune.
    hamlets : GeoDataFrame
        Points or polygons; ``commune_id`` always filled (resolved from ``commune_code``).
    cells : GeoDataFrame
        One Point per cell (site columns repeated), plus ``lon``/``lat`` in degrees.
    fibre_nodes : GeoDataFrame
        Access node points.
    fibre_routes : GeoDataFrame or None
        Cable routes (lines) when the package has them.
    roads : GeoDataFrame
        Road centre lines with an OSM ``highway`` class.
    survey : DataFrame
        Survey rows; ``hamlet_id`` resolved from ``hamlet_name`` where possible,
        ``commune_id`` filled from the hamlet, ``level`` = ``"hamlet"`` or ``"commune"``.
    population_raster, dem : Path or None
        Optional GeoTIFFs.
    metric_crs : pyproj.CRS
        UTM zone of the communes' centroid (EPSG:32648 for Trà Vinh).
    version : str
        SHA-256 of the package files (paths and bytes), first 12 hex digits; a cache key.
    warnings : tuple of Problem
        Validation warnings (the package is usable; show them to the user).
    """

    root: Path
    meta: DatasetMeta
    communes: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    fibre_nodes: gpd.GeoDataFrame
    fibre_routes: gpd.GeoDataFrame | None
    roads: gpd.GeoDataFrame
    survey: pd.DataFrame
    population_raster: Path | None
    dem: Path | None
    metric_crs: pyproj.CRS
    version: str
    warnings: tuple[Problem, ...]

    @property
    def synthetic_layers(self) -> tuple[str, ...]:
        """Keys of the layers ``dataset.toml`` marks as synthetic."""
        return self.meta.synthetic_layers()


def package_version(root: Path) -> str:
    """First :data:`VERSION_HEX_CHARS` hex digits of :func:`package_digest` (shown to users)."""
    return package_digest(root)[:VERSION_HEX_CHARS]


def package_digest(root: Path) -> str:
    """Return the content hash of every file under ``root`` (hidden files skipped).

    The hash covers each file's path relative to ``root`` and its bytes, in sorted path
    order, so renaming, editing, adding or removing a file changes it. Saved scenarios
    (``scenarios/``) and published settings (``settings/``) are not package data and are left out:
    saving one does not change the version.

    Returns
    -------
    str
        The SHA-256, in hex.
    """
    digest = hashlib.sha256()
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
        and p.relative_to(root).parts[0] not in NON_DATA_DIRS
    )
    for path in files:
        rel = path.relative_to(root).as_posix().encode("utf-8")
        digest.update(len(rel).to_bytes(4, "big") + rel)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def load_package(root: Path | str) -> DataPackage:
    """Read, validate and return the data package at ``root``.

    Parameters
    ----------
    root
        Package folder (``dataset.toml`` at its top).

    Returns
    -------
    DataPackage
        Clean frames in EPSG:4326; ``warnings`` holds the non-blocking problems.

    Raises
    ------
    ValidationError
        When validation finds at least one error; ``problems`` lists all findings.
    """
    root = Path(root)
    if (root / JOURNAL_NAME).is_file():  # an import was killed mid-way: roll it back or complete it
        recover(root)
    digest = package_digest(root)
    cached = load_cached(root, digest, DataPackage)  # same files, same code: validated before
    if cached is not None and cached.version:
        for problem in cached.warnings:
            logger.info("%s", problem)
        return cached
    package = _validated(root, digest)
    store(root, digest, package)
    return package


def _validated(root: Path, digest: str) -> DataPackage:
    """Read and validate the package (raises :class:`ValidationError` on errors)."""
    check = check_package(root)
    if not check.usable or check.meta is None:
        raise ValidationError(list(check.problems))
    frames = check.frames
    for problem in check.warnings:
        logger.info("%s", problem)
    return DataPackage(
        root=root,
        meta=check.meta,
        communes=frames["communes"],
        hamlets=frames["hamlets"],
        cells=frames["towers"],
        fibre_nodes=frames["fibre_nodes"],
        fibre_routes=frames.get("fibre_routes"),
        roads=frames["roads"],
        survey=frames["survey"],
        population_raster=check.rasters.get("population_raster"),
        dem=check.rasters.get("dem"),
        metric_crs=metric_crs_for(frames["communes"]),
        version=digest[:VERSION_HEX_CHARS],
        warnings=check.warnings,
    )
