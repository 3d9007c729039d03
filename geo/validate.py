"""Validation of a data package: every problem, with file, row/feature, what is wrong and what to do.

:func:`validate_package` never stops at the first problem: it reads every layer it can,
checks columns, values, geometries and coordinates, then the references between layers, and
returns the full list. :func:`check_package` returns the same findings together with the
cleaned frames, so that :func:`geo.package.load_package` reads each file only once.

Rows of CSV files are numbered as a spreadsheet shows them (the header is row 1, the first
data row is row 2); features of vector files are numbered from 1 in file order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo._check_codes import check_official_codes
from geo._check_layer import _check_layer
from geo._check_refs import _check_references
from geo._checks import _OTHER_FORMATS, DATASET_FILE, MAX_ROWS_PER_CHECK, _Findings, _Layer
from geo.crs import classify_lonlat, describe_coordinate_issue
from geo.errors import DataNotFoundError, Problem, UnreadableFileError
from geo.io import read_toml
from geo.schema import (
    DATASET_REQUIRED_FIELDS,
    DEFAULT_LAYOUT,
    LAYER_REQUIRED_FIELDS,
    LAYER_SCHEMAS,
    LAYOUTS,
    RASTER_LAYERS,
    DatasetMeta,
    LayerMeta,
    layer_schemas,
)

__all__ = ["MAX_ROWS_PER_CHECK", "PackageCheck", "check_layer_file", "check_package", "validate_package"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackageCheck:
    """Everything one validation run found.

    Parameters
    ----------
    root
        The package folder.
    meta
        Parsed ``dataset.toml`` (None when missing or unusable).
    frames
        Cleaned layers by key (``communes``, ``hamlets``, ``towers``, ``fibre_nodes``,
        ``fibre_routes``, ``roads``, ``survey``): typed columns, canonical category values,
        repaired geometries in EPSG:4326, index 0..n-1. Only layers that could be read.
    rasters
        Paths of the optional rasters that were found readable, by key.
    problems
        Every finding, errors and warnings, in the order found.
    """

    root: Path
    meta: DatasetMeta | None
    frames: Mapping[str, pd.DataFrame]
    rasters: Mapping[str, Path]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems of severity ``warning``."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def usable(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


# --------------------------------------------------------------------------- dataset.toml


def _layer_meta(key: str, table: Any, found: _Findings, *, present: bool) -> LayerMeta | None:
    where = f"[layers.{key}]"
    if not isinstance(table, dict):
        if present:
            found.add(
                "error",
                DATASET_FILE,
                where,
                f"no [layers.{key}] table for a layer the package holds",
                f'add [layers.{key}] with synthetic = true/false, source = "...", licence = "..."',
            )
        return None
    for name in LAYER_REQUIRED_FIELDS:
        if name not in table or table[name] in ("", None):
            found.add(
                "error",
                DATASET_FILE,
                where,
                f"field {name!r} is missing",
                f"add {name} = " + ("true or false" if name == "synthetic" else '"..."'),
            )
    if "synthetic" in table and not isinstance(table["synthetic"], bool):
        found.add(
            "error",
            DATASET_FILE,
            where,
            f"synthetic must be true or false, not {table['synthetic']!r}",
            "write synthetic = true (generated data) or synthetic = false (observed data)",
        )
    extra = {k: v for k, v in table.items() if k not in ("file", "synthetic", "source", "licence")}
    return LayerMeta(
        key=key,
        file=str(table.get("file", "")),
        synthetic=table.get("synthetic") is True,
        source=str(table.get("source", "")),
        licence=str(table.get("licence", "")),
        extra=extra,
    )


def _read_meta(root: Path, found: _Findings) -> dict[str, Any] | None:
    path = root / DATASET_FILE
    if not path.is_file():
        found.add(
            "error",
            DATASET_FILE,
            "",
            "file is missing",
            "add dataset.toml with name, province_name, province_code, boundary_vintage and a "
            "[layers.<key>] table per layer (see docs/DATA.md)",
        )
        return None
    try:
        doc, warnings = read_toml(path, display=DATASET_FILE)
    except (UnreadableFileError, DataNotFoundError) as exc:
        found.add(
            "error",
            DATASET_FILE,
            "",
            str(exc).removeprefix(f"{DATASET_FILE}: "),
            "fix the TOML syntax (quotes around text, key = value)",
        )
        return None
    found.items.extend(warnings)
    for name in DATASET_REQUIRED_FIELDS:
        value = doc.get(name)
        if not isinstance(value, str | int) or str(value).strip() == "":
            found.add(
                "error",
                DATASET_FILE,
                name,
                f"field {name!r} is missing or empty",
                f'add {name} = "..." at the top of dataset.toml',
            )
    layers = doc.get("layers", {})
    if not isinstance(layers, dict):
        found.add(
            "error",
            DATASET_FILE,
            "layers",
            "'layers' must be a table of [layers.<key>] tables",
            "write one [layers.<key>] table per layer",
        )
        doc["layers"] = {}
    _check_layout(doc, found)
    known = set(LAYER_SCHEMAS) | set(RASTER_LAYERS)
    for key in doc.get("layers", {}):
        if key not in known:
            found.add(
                "warning",
                DATASET_FILE,
                f"[layers.{key}]",
                f"unknown layer key {key!r} is ignored",
                f"use one of: {', '.join(sorted(known))}",
            )
    return doc


def _layout(doc: dict[str, Any] | None) -> str:
    """The package's layout as named in dataset.toml (``DEFAULT_LAYOUT`` when absent or invalid)."""
    value = str((doc or {}).get("layout", "")).strip()
    return value if value in LAYOUTS else DEFAULT_LAYOUT


def _check_layout(doc: dict[str, Any], found: _Findings) -> None:
    """Report a missing or unknown ``layout`` (the checks then assume the 2009 layout)."""
    value = doc.get("layout")
    names = ", ".join(f'"{v}"' for v in LAYOUTS)
    if value is None:
        found.add(
            "warning",
            DATASET_FILE,
            "layout",
            f"no layout named; the package is read as the pre-reform {DEFAULT_LAYOUT} commune layout",
            f'add layout = "..." at the top of dataset.toml: one of {names} ("2025-07" for the communes '
            "in force since 1 July 2025)",
        )
    elif str(value).strip() not in LAYOUTS:
        found.add(
            "error",
            DATASET_FILE,
            "layout",
            f"unknown layout {value!r}",
            f"use one of {names}",
        )


def _resolve(
    root: Path, key: str, defaults: tuple[str, ...], doc: dict[str, Any] | None, found: _Findings
) -> Path | None:
    table = (doc or {}).get("layers", {}).get(key)
    named = table.get("file") if isinstance(table, dict) else None
    if isinstance(named, str) and named.strip():
        path = root / named
        if root.resolve() not in path.resolve().parents:
            found.add(
                "error",
                DATASET_FILE,
                f"[layers.{key}]",
                f"file {named!r} is outside the package folder",
                "give a path relative to the package folder",
            )
            return None
        if not path.exists():
            found.add(
                "error",
                named,
                "",
                f"file named by [layers.{key}] in dataset.toml is missing",
                f"add the file, or correct [layers.{key}] file = ... in dataset.toml",
            )
            return None
        return path
    return next((root / d for d in defaults if (root / d).exists()), None)


def _build_meta(doc: dict[str, Any] | None, present: set[str], found: _Findings) -> DatasetMeta | None:
    if doc is None:
        return None
    tables = doc.get("layers", {})
    layers: dict[str, LayerMeta] = {}
    for key in [*LAYER_SCHEMAS, *RASTER_LAYERS]:
        meta = _layer_meta(key, tables.get(key), found, present=key in present)
        if meta is not None:
            layers[key] = meta
    return DatasetMeta(
        name=str(doc.get("name", "")),
        province_name=str(doc.get("province_name", "")),
        province_code=str(doc.get("province_code", "")),
        boundary_vintage=str(doc.get("boundary_vintage", "")),
        created=str(doc.get("created", "")),
        layers=layers,
        raw=doc,
        layout=_layout(doc),
    )


# --------------------------------------------------------------------------- rasters


def _check_raster(path: Path, rel: str, found: _Findings) -> bool:
    import rasterio
    import rasterio.errors
    from rasterio.warp import transform_bounds

    try:
        with rasterio.open(path) as src:
            crs, bounds, count = src.crs, src.bounds, src.count
    except rasterio.errors.RasterioIOError as exc:
        found.add("error", rel, "", f"cannot read the raster: {exc}", "save it as a GeoTIFF")
        return False
    if count < 1:
        found.add("error", rel, "", "the raster has no band", "save one band of values")
        return False
    if crs is None:
        found.add(
            "error", rel, "", "the raster declares no CRS", "save the GeoTIFF with its CRS (e.g. EPSG:4326)"
        )
        return False
    x0, y0, x1, y1 = transform_bounds(crs, "EPSG:4326", *bounds)
    issue = classify_lonlat([(x0 + x1) / 2], [(y0 + y1) / 2])[0]
    if issue != "ok":
        message, hint = describe_coordinate_issue(issue)
        found.add("error", rel, "", f"raster centre: {message}", hint)
        return False
    return True


def check_package(root: Path | str) -> PackageCheck:
    """Read and check every file of a data package; collect every problem.

    Parameters
    ----------
    root
        Folder of the package (``dataset.toml`` at its top).

    Returns
    -------
    PackageCheck
        Findings and cleaned frames (EPSG:4326). Never raises for bad data; a missing root
        is reported as one error.
    """
    root = Path(root)
    found = _Findings()
    if not root.is_dir():
        found.add(
            "error",
            str(root),
            "",
            "data package folder not found" if not root.exists() else "not a folder",
            "give the folder that holds dataset.toml",
        )
        return PackageCheck(root, None, {}, {}, tuple(found.items))
    doc = _read_meta(root, found)
    layers: dict[str, _Layer] = {}
    present: set[str] = set()
    for key, schema in layer_schemas(_layout(doc)).items():
        path = _resolve(root, key, schema.default_files, doc, found)
        if path is None:
            if schema.required and not _named_but_missing(doc, key):
                found.add(
                    "error",
                    schema.default_files[0],
                    "",
                    f"required layer {key!r} is missing",
                    f"add {schema.default_files[0]}{_OTHER_FORMATS.get(schema.geometry, '')}, or name the "
                    f"file in dataset.toml under [layers.{key}] as file = ...",
                )
            continue
        present.add(key)
        layer = _check_layer(schema, path, path.relative_to(root).as_posix(), found)
        if layer is not None:
            layers[key] = layer
    rasters: dict[str, Path] = {}
    for key, default in RASTER_LAYERS.items():
        path = _resolve(root, key, (default,), doc, found)
        if path is not None:
            present.add(key)
            if _check_raster(path, path.relative_to(root).as_posix(), found):
                rasters[key] = path
    meta = _build_meta(doc, present, found)
    _check_references(layers, found)
    if meta is not None and "communes" in layers:
        check_official_codes(layers["communes"], meta.layout, meta.province_code.strip(), found)
    frames = {k: v.cleaned for k, v in layers.items() if v.cleaned is not None}
    return PackageCheck(root, meta, frames, rasters, tuple(found.items))


def _named_but_missing(doc: dict[str, Any] | None, key: str) -> bool:
    table = (doc or {}).get("layers", {}).get(key)
    return isinstance(table, dict) and bool(str(table.get("file", "")).strip())


def validate_package(root: Path | str) -> list[Problem]:
    """Return every problem of the data package at ``root`` (errors and warnings).

    Parameters
    ----------
    root
        Folder of the package.

    Returns
    -------
    list of Problem
        Empty when the package is clean. The package is usable when no problem has
        severity ``"error"``.
    """
    return list(check_package(root).problems)


def check_layer_file(
    path: Path | str, key: str, *, layout: str = DEFAULT_LAYOUT, display: str | None = None
) -> tuple[pd.DataFrame | None, tuple[Problem, ...]]:
    """Read and check one layer file outside a package (e.g. planned sites for a scenario).

    The file is checked against the schema of layer ``key`` in ``layout`` exactly as inside a
    package (columns, values, coordinates, duplicate ids); references to other layers are not.

    Parameters
    ----------
    path
        The file (any format the layer accepts in a package).
    key
        Layer key, e.g. ``"towers"`` or ``"fibre_nodes"``.
    layout
        Administrative layout of the package the layer is meant for.
    display
        Name of the file in messages (default: its file name).

    Returns
    -------
    tuple
        The cleaned frame (None when the file could not be read) and every problem found.
    """
    schemas = layer_schemas(layout)
    if key not in schemas:
        raise KeyError(f"unknown layer {key!r}")
    found = _Findings()
    path = Path(path)
    if not path.is_file():
        found.add("error", display or str(path), "", "file not found", "give an existing file")
        return None, tuple(found.items)
    layer = _check_layer(schemas[key], path, display or path.name, found)
    return (layer.cleaned if layer is not None else None), tuple(found.items)
