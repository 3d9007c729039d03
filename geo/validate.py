"""Validation of a data package: every problem, with file, row/feature, what is wrong and what to do.

:func:`validate_package` never stops at the first problem: it reads every layer it can,
checks columns, values, geometries and coordinates, then the references between layers, and
returns the full list. :func:`check_package` returns the same findings together with the
cleaned frames, so that :func:`geo.package.load_package` reads each file only once.

Rows of CSV files are numbered as a spreadsheet shows them (the header is row 1, the first
data row is row 2); features of vector files are numbered from 1 in file order.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.crs import WGS84, classify_lonlat, describe_coordinate_issue, representative_lonlat
from geo.errors import DataNotFoundError, Problem, Severity, UnreadableFileError
from geo.io import LayerRead, lonlat_columns, read_layer, read_table, read_toml
from geo.names import normalize_name
from geo.schema import (
    DATASET_REQUIRED_FIELDS,
    HIGHWAY_CLASSES,
    LAYER_REQUIRED_FIELDS,
    LAYER_SCHEMAS,
    RASTER_LAYERS,
    Column,
    DatasetMeta,
    LayerMeta,
    LayerSchema,
    accepted_values,
    alias_key,
    parse_category,
)

__all__ = ["MAX_ROWS_PER_CHECK", "PackageCheck", "check_package", "validate_package"]

logger = logging.getLogger(__name__)

#: Problems listed one by one per file and check; the rest are summarised in one more line.
MAX_ROWS_PER_CHECK = 10

DATASET_FILE = "dataset.toml"

_PROVINCE_TOLERANCE_DEG = 0.002
"""A site or node this far outside the union of communes (≈ 220 m at 10° N) is not flagged."""

_HAMLET_TOLERANCE_DEG = 0.002
"""A hamlet point this far outside its commune polygon (≈ 220 m) is not flagged."""

_SITE_SPREAD_DEG = 0.001
"""Cells of one site further apart than this (sum of lon and lat spreads, ≈ 110 m) are flagged."""

_HOUSEHOLD_SUM_TOLERANCE = 0.05
"""Relative difference between a commune's households and the sum over its hamlets that is tolerated."""

_OTHER_FORMATS: Mapping[str, str] = {
    g: " (or .gpkg / .shp.zip / .csv)" for g in ("polygon", "point", "point_or_polygon", "line")
}

_GEOMETRY_TYPES: Mapping[str, tuple[str, ...]] = {
    "polygon": ("Polygon", "MultiPolygon"),
    "point": ("Point",),
    "point_or_polygon": ("Point", "Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
}


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


class _Findings:
    """Collects problems; caps per-row findings of one check at MAX_ROWS_PER_CHECK lines."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, severity: Severity, file: str, where: str, message: str, hint: str = "") -> None:
        self.items.append(Problem(severity, file, where, message, hint))

    def rows(
        self,
        severity: Severity,
        layer: _Layer,
        positions: np.ndarray | list[int],
        message: Callable[[int], str],
        hint: str,
    ) -> None:
        """Add one problem per flagged row position (0-based), summarising beyond the cap."""
        positions = [int(p) for p in positions]
        for pos in positions[:MAX_ROWS_PER_CHECK]:
            self.add(severity, layer.rel, layer.label(pos), message(pos), hint)
        rest = positions[MAX_ROWS_PER_CHECK:]
        if rest:
            numbers = ", ".join(str(layer.number(p)) for p in rest[:40]) + (", ..." if len(rest) > 40 else "")
            self.add(
                severity,
                layer.rel,
                f"{len(rest)} more {layer.unit}s",
                f"the same kind of problem in {len(rest)} more {layer.unit}s ({numbers}); "
                f"the first of them: {message(rest[0])}",
                hint,
            )


@dataclass
class _Layer:
    """A layer while it is being checked (mutable working state, never returned)."""

    schema: LayerSchema
    rel: str
    frame: pd.DataFrame
    unit: str  # "row" (CSV) or "feature"
    read: LayerRead | None = None
    ids: pd.Series | None = None
    clean: dict[str, pd.Series] = field(default_factory=dict)
    cleaned: pd.DataFrame | None = None
    id_name: str | None = None

    def number(self, pos: int) -> int:
        return pos + 2 if self.unit == "row" else pos + 1

    def label(self, pos: int) -> str:
        text = f"{self.unit} {self.number(pos)}"
        key = self.id_name or self.schema.id_column
        if self.ids is not None and key is not None:
            value = self.ids.iloc[pos]
            if isinstance(value, str) and value:
                text += f", {key} {value}"
        return text


# --------------------------------------------------------------------------- values


def _text(series: pd.Series) -> pd.Series:
    """Return cells as stripped ``str`` or None; whole floats print without ``.0``."""
    if pd.api.types.is_float_dtype(series.dtype):
        finite = series.dropna()
        if len(finite) and np.all(np.mod(finite.to_numpy(dtype=float), 1.0) == 0):
            series = series.astype("Int64")
    na, nat = pd.NA, pd.NaT
    values = [  # inlined _is_missing (a per-cell call is the package load's hot spot); str fast path
        (v.strip() or None)
        if type(v) is str
        else None
        if v is None or v is na or v is nat or (isinstance(v, float) and v != v)
        else (str(v).strip() or None)
        for v in series.to_numpy(dtype=object)
    ]
    return pd.Series(values, index=series.index, dtype=object)


def _map_obj(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """Apply ``func`` to every cell; return an object Series that keeps None (no dtype inference)."""
    values = [func(v) for v in series.to_numpy(dtype=object)]
    return pd.Series(values, index=series.index, dtype=object)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT


def _numbers(text: pd.Series, *, decimal_comma: bool) -> pd.Series:
    cleaned = text.map(lambda v: v.replace(",", ".") if decimal_comma and isinstance(v, str) else v)
    return pd.to_numeric(cleaned, errors="coerce").astype(float)


def _check_numeric(layer: _Layer, col: Column, text: pd.Series, found: _Findings) -> pd.Series:
    decimal_comma = layer.read.decimal_comma if layer.read is not None else False
    values = _numbers(text, decimal_comma=decimal_comma)
    values = values.where(np.isfinite(values.to_numpy(dtype=float)))  # "1e999", "inf": not usable numbers
    present = text.notna().to_numpy()
    bad = np.flatnonzero(present & values.isna().to_numpy())
    found.rows(
        "error",
        layer,
        bad,
        lambda p: f"{col.name} is not a number: {text.iloc[p]!r}",
        f"write {col.name} as a plain number"
        + (f" in {col.unit}" if col.unit else "")
        + " (decimal point '.', no thousands separator)",
    )
    arr = values.to_numpy()
    with np.errstate(invalid="ignore"):
        if col.kind == "int":
            _flag(
                found,
                layer,
                arr < 0,
                lambda p: f"{col.name} is negative ({arr[p]:g})",
                f"{col.name} counts {col.unit}; it must be 0 or more",
            )
            _flag(
                found,
                layer,
                (arr >= 0) & (np.mod(arr, 1.0) != 0),
                lambda p: f"{col.name} is not a whole number ({arr[p]:g})",
                f"{col.name} counts {col.unit}; round it to a whole number",
            )
        elif col.kind == "share":
            _flag(
                found,
                layer,
                (arr < 0) | (arr > 1),
                lambda p: f"{col.name} = {arr[p]:g} is not between 0 and 1",
                "write a share as a fraction 0–1 (a percentage such as 35 must be written 0.35)",
            )
        else:
            lo = -np.inf if col.min_value is None else col.min_value
            hi = np.inf if col.max_value is None else col.max_value
            unit = f" {col.unit}" if col.unit else ""
            _flag(
                found,
                layer,
                (arr < lo) | (arr > hi),
                lambda p: f"{col.name} = {arr[p]:g}{unit} is outside the accepted range {lo:g}–{hi:g}{unit}",
                f"check the value and its unit ({col.unit or 'see docs/DATA.md'})",
            )
    return values


def _flag(
    found: _Findings, layer: _Layer, mask: np.ndarray, message: Callable[[int], str], hint: str
) -> None:
    found.rows("error", layer, np.flatnonzero(mask), message, hint)


def _check_category(layer: _Layer, col: Column, text: pd.Series, found: _Findings) -> pd.Series:
    assert col.category is not None
    cls = col.category
    uniques: dict[str, str | None] = {}
    for value in text.dropna().unique():
        member = parse_category(cls, value)
        uniques[value] = None if member is None else str(member.value)
    parsed = _map_obj(text, lambda v: None if _is_missing(v) else uniques[v])
    bad = np.flatnonzero(text.notna().to_numpy() & parsed.isna().to_numpy())
    found.rows(
        "error",
        layer,
        bad,
        lambda p: f"unknown {col.name} {text.iloc[p]!r}",
        f"use one of: {accepted_values(cls)}",
    )
    return parsed


def _check_highway(layer: _Layer, text: pd.Series, found: _Findings) -> pd.Series:
    known = {alias_key(h): h for h in HIGHWAY_CLASSES}
    mapped = _map_obj(text, lambda v: None if _is_missing(v) else known.get(alias_key(v), v))
    unknown = np.flatnonzero(text.notna().to_numpy() & ~mapped.isin(HIGHWAY_CLASSES).to_numpy())
    found.rows(
        "warning",
        layer,
        unknown,
        lambda p: f"unknown highway class {text.iloc[p]!r}",
        "use an OSM highway class such as trunk, primary, secondary, tertiary, unclassified, "
        "residential, track, path",
    )
    return mapped


def _check_date(layer: _Layer, col: Column, text: pd.Series, found: _Findings) -> pd.Series:
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(text.notna().to_numpy() & parsed.isna().to_numpy())
    found.rows(
        "error",
        layer,
        bad,
        lambda p: f"{col.name} {text.iloc[p]!r} is not a date YYYY-MM-DD",
        "write dates as ISO YYYY-MM-DD, e.g. 2026-10-10",
    )
    return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None).astype(object)


def _check_ids(layer: _Layer, col: Column, text: pd.Series, found: _Findings) -> None:
    dup = text.notna() & text.duplicated(keep=False)
    if not dup.any():
        return
    first: dict[str, int] = {}
    for pos, value in zip(np.flatnonzero(dup.to_numpy()), text[dup], strict=True):
        first.setdefault(value, int(pos))
    later = [int(p) for p in np.flatnonzero((dup & text.duplicated(keep="first")).to_numpy())]
    found.rows(
        "error",
        layer,
        later,
        lambda p: (
            f"duplicate {col.name} {text.iloc[p]!r} (also at {layer.unit} "
            f"{layer.number(first[text.iloc[p]])})"
        ),
        f"give every {layer.unit} its own {col.name}",
    )


def _check_column(layer: _Layer, col: Column, found: _Findings) -> pd.Series:
    text = _text(layer.frame[col.name])
    if col.required:
        missing = np.flatnonzero(text.isna().to_numpy())
        found.rows(
            "error",
            layer,
            missing,
            lambda p: f"{col.name} is empty",
            f"fill in {col.name} (required, see docs/DATA.md)",
        )
    if col.kind == "id":
        _check_ids(layer, col, text, found)
        return text
    if col.kind in ("int", "float", "share"):
        return _check_numeric(layer, col, text, found)
    if col.kind == "category":
        return _check_category(layer, col, text, found)
    if col.kind == "highway":
        return _check_highway(layer, text, found)
    if col.kind == "date":
        return _check_date(layer, col, text, found)
    return text


def _check_columns(layer: _Layer, found: _Findings) -> None:
    schema, frame = layer.schema, layer.frame
    present = set(frame.columns)
    missing = [c.name for c in schema.columns if c.required and c.name not in present]
    if schema.geometry == "latlon":
        missing += [c for c in ("lat", "lon") if c not in present]
    for group in schema.any_of:
        if not present.intersection(group):
            missing.append(" or ".join(group))
    if missing:
        shown = ", ".join(str(c) for c in frame.columns if c != "geometry")
        found.add(
            "error",
            layer.rel,
            "header",
            f"missing required column(s): {', '.join(missing)}",
            f"add them (columns found: {shown or 'none'}); see docs/DATA.md",
        )
    if schema.id_column and schema.id_column in present:
        layer.ids = _text(frame[schema.id_column])
    for col in schema.columns:
        if col.name in present:
            layer.clean[col.name] = _check_column(layer, col, found)


# --------------------------------------------------------------------------- geometry


def _coordinate_problems(layer: _Layer, x: np.ndarray, y: np.ndarray, found: _Findings) -> np.ndarray:
    """Flag coordinates that cannot be in Vietnam; return the mask of usable ones."""
    issues = classify_lonlat(x, y)
    for issue in ("swapped", "projected", "outside"):
        message, hint = describe_coordinate_issue(issue)  # type: ignore[arg-type]
        found.rows(
            "error",
            layer,
            np.flatnonzero(issues == issue),
            functools.partial(_coord_message, message, x, y),
            hint,
        )
    return issues == "ok"


def _empty_message(name: str, _pos: int) -> str:
    return f"{name} is empty"


def _coord_message(message: str, x: np.ndarray, y: np.ndarray, pos: int) -> str:
    return f"{message}: lon {x[pos]:.6g}, lat {y[pos]:.6g}"


def _latlon_geometry(layer: _Layer, found: _Findings) -> gpd.GeoSeries | None:
    frame = layer.frame
    if "lat" not in frame.columns or "lon" not in frame.columns:
        return None
    coords: dict[str, np.ndarray] = {}
    for name in ("lon", "lat"):
        col = Column(name, "float", unit="deg")
        text = _text(frame[name])
        found.rows(
            "error",
            layer,
            np.flatnonzero(text.isna().to_numpy()),
            functools.partial(_empty_message, name),
            "fill in lat and lon in WGS 84 decimal degrees",
        )
        coords[name] = _check_numeric(layer, col, text, found).to_numpy()
    x, y = coords["lon"], coords["lat"]
    _coordinate_problems(layer, x, y, found)
    geoms = shapely.points(x, y)
    geoms[np.isnan(x) | np.isnan(y)] = None
    return gpd.GeoSeries(geoms, index=frame.index, crs=WGS84)


def _to_wgs84(layer: _Layer, geoms: gpd.GeoSeries, found: _Findings) -> gpd.GeoSeries:
    crs = layer.read.crs if layer.read is not None else None
    if crs is None:
        x, y = representative_lonlat(geoms.values)
        looks_deg = bool(np.all(classify_lonlat(x[~np.isnan(x)], y[~np.isnan(y)]) == "ok"))
        found.add(
            "error",
            layer.rel,
            "",
            "the file declares no coordinate reference system (CRS)",
            (
                "the coordinates look like lon/lat degrees: save the layer with EPSG:4326 (add the .prj)"
                if looks_deg
                else "declare the CRS the coordinates were made in (add a .prj / SRS), "
                "or reproject to EPSG:4326"
            ),
        )
        return geoms.set_crs(WGS84, allow_override=True)
    geoms = geoms.set_crs(crs, allow_override=True)
    if crs.equals(WGS84):
        return geoms
    try:
        return geoms.to_crs(WGS84)
    except pyproj.exceptions.ProjError as exc:
        found.add(
            "error",
            layer.rel,
            "",
            f"cannot reproject from {crs.name} to EPSG:4326: {exc}",
            "save the layer in EPSG:4326",
        )
        return geoms.set_crs(WGS84, allow_override=True)


def _repair(layer: _Layer, geoms: np.ndarray, found: _Findings) -> np.ndarray:
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = np.flatnonzero(present & ~shapely.is_valid(geoms))
    if invalid.size == 0:
        return geoms
    reasons = {int(p): shapely.is_valid_reason(geoms[p]) for p in invalid}
    fixed = geoms.copy()
    fixed[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    found.rows(
        "warning",
        layer,
        invalid,
        lambda p: f"invalid geometry ({reasons[p]}); repaired with make_valid",
        "check the feature's outline, and fix it at the source so the repair is not needed",
    )
    return fixed


def _vector_geometry(layer: _Layer, found: _Findings) -> gpd.GeoSeries:
    assert isinstance(layer.frame, gpd.GeoDataFrame)
    geoms = _to_wgs84(layer, layer.frame.geometry, found)
    arr = np.asarray(geoms.values, dtype=object)
    missing = np.flatnonzero(shapely.is_missing(arr) | shapely.is_empty(arr))
    found.rows(
        "error",
        layer,
        missing,
        lambda p: "geometry is empty, missing or unreadable",
        "give the feature a geometry (or delete the row)",
    )
    allowed = _GEOMETRY_TYPES[layer.schema.geometry]
    kinds = np.array([g.geom_type if g is not None else "" for g in arr], dtype=object)
    wrong = np.flatnonzero((kinds != "") & ~np.isin(kinds, [*allowed, ""]) & ~shapely.is_empty(arr))
    found.rows(
        "error",
        layer,
        wrong,
        lambda p: f"geometry is a {kinds[p]}; expected {' or '.join(allowed)}",
        "store this layer with the geometry type docs/DATA.md gives",
    )
    x, y = representative_lonlat(arr)
    present = np.flatnonzero(~np.isnan(x))
    _coordinate_problems(_SubsetLayer(layer, present), x[present], y[present], found)
    return gpd.GeoSeries(_repair(layer, arr, found), index=layer.frame.index, crs=WGS84)


class _SubsetLayer(_Layer):
    """View of a layer whose positions 0..k-1 map to original positions ``where``."""

    def __init__(self, layer: _Layer, where: np.ndarray) -> None:
        super().__init__(layer.schema, layer.rel, layer.frame, layer.unit, layer.read, layer.ids)
        self._where = where

    def number(self, pos: int) -> int:
        return super().number(int(self._where[pos]))

    def label(self, pos: int) -> str:
        return super().label(int(self._where[pos]))


# --------------------------------------------------------------------------- one layer


def _read(schema: LayerSchema, path: Path, rel: str, found: _Findings) -> _Layer | None:
    try:
        read = (
            read_table(path, display=rel)
            if schema.geometry in ("none", "latlon")
            else read_layer(path, display=rel, layer=schema.key)
        )
    except (UnreadableFileError, DataNotFoundError) as exc:
        reason = str(exc).removeprefix(f"{rel}: ")
        found.add(
            "error",
            rel,
            "",
            f"cannot read the file: {reason}",
            "check that the file is complete and in the format its name says (see docs/DATA.md)",
        )
        return None
    found.items.extend(read.warnings)
    frame = read.frame.copy()
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    renamed = {c: str(c).strip().lower() for c in frame.columns if c != geom_name}
    frame = frame.rename(columns=renamed)
    if schema.geometry == "latlon":
        lonlat = lonlat_columns(frame.columns)
        if lonlat is not None:
            frame = frame.rename(columns={lonlat[0]: "lon", lonlat[1]: "lat"})
    twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if twice:
        found.add(
            "error",
            rel,
            "header",
            f"column(s) named more than once: {', '.join(twice)}",
            "give every column its own name (names are compared in lower case); only the first is read",
        )
        frame = frame.loc[:, ~frame.columns.duplicated()]
    unit = "row" if path.name.lower().endswith(".csv") else "feature"
    return _Layer(schema, rel, frame.reset_index(drop=True), unit, read)


def _finish(layer: _Layer, geometry: gpd.GeoSeries | None) -> pd.DataFrame:
    frame = layer.frame.drop(
        columns=[layer.frame.geometry.name]
        if geometry is not None and isinstance(layer.frame, gpd.GeoDataFrame)
        else []
    )
    frame = pd.DataFrame(frame)
    for col in layer.schema.columns:
        value = layer.clean.get(col.name)
        if value is None:
            value = pd.Series(
                np.nan if col.kind in ("int", "float", "share") else None,
                index=frame.index,
                dtype=float if col.kind in ("int", "float", "share") else object,
            )
        elif col.kind == "int" and np.isfinite(value.to_numpy(dtype=float)).all():
            value = value.astype("int64")
        frame[col.name] = value
    if layer.schema.geometry == "latlon" and "lon" in layer.clean:
        frame["lon"], frame["lat"] = layer.clean["lon"], layer.clean["lat"]
    if geometry is None:
        return frame.reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=geometry.values, crs=WGS84).reset_index(drop=True)


def _check_layer(schema: LayerSchema, path: Path, rel: str, found: _Findings) -> _Layer | None:
    layer = _read(schema, path, rel, found)
    if layer is None:
        return None
    if len(layer.frame) == 0:
        if schema.required:
            found.add(
                "error", rel, "", f"the layer has no {layer.unit}s", f"add the data: {schema.key} is required"
            )
        else:
            found.add(
                "warning", rel, "", f"the layer has no {layer.unit}s", "add the data, or remove the file"
            )
        attributes = [c for c in layer.frame.columns if c != "geometry"]
        if not attributes:  # e.g. a FeatureCollection with no feature: nothing more to check
            return None
    _check_columns(layer, found)
    geometry: gpd.GeoSeries | None = None
    if schema.geometry == "latlon":
        geometry = _latlon_geometry(layer, found)
        if geometry is not None:
            layer.clean["lon"] = pd.Series(shapely.get_x(geometry.values), index=layer.frame.index)
            layer.clean["lat"] = pd.Series(shapely.get_y(geometry.values), index=layer.frame.index)
    elif schema.geometry != "none":
        geometry = _vector_geometry(layer, found)
    layer.cleaned = _finish(layer, geometry)
    return layer


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


# --------------------------------------------------------------------------- cross-layer checks


def _located(geoms: np.ndarray) -> np.ndarray:
    """True for geometries present and inside Vietnam (the others are already reported as errors)."""
    x, y = representative_lonlat(geoms)
    return np.asarray(classify_lonlat(x, y) == "ok", dtype=bool)


def _ref_layer(layer: _Layer, *, ids: pd.Series | None = None, id_name: str | None = None) -> _Layer:
    """A view of a checked layer for messages, optionally labelled by another id column."""
    view = _Layer(layer.schema, layer.rel, layer.frame, layer.unit, layer.read, layer.ids)
    if ids is not None:
        view.ids, view.id_name = ids, id_name
    return view


def _not_more(layer: _Layer, part: str, whole: str, found: _Findings, hint: str) -> None:
    frame = layer.cleaned
    if frame is None or part not in frame.columns or whole not in frame.columns:
        return
    a = pd.to_numeric(frame[part], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(frame[whole], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(a > b)
    found.rows("error", layer, bad, lambda p: f"{part} ({a[p]:g}) is more than {whole} ({b[p]:g})", hint)


def _commune_keys(layer: _Layer, communes: _Layer | None, found: _Findings, *, required: bool) -> pd.Series:
    """Resolve a layer's ``commune_id`` (or ``commune_code``) against the communes; flag unknown keys."""
    frame = layer.cleaned
    assert frame is not None
    cid = (
        frame["commune_id"]
        if "commune_id" in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    if communes is None or communes.cleaned is None or "commune_id" not in communes.cleaned.columns:
        return cid
    known = set(communes.cleaned["commune_id"].dropna())
    comm_file = communes.rel
    code = frame["commune_code"] if "commune_code" in frame.columns else None
    if code is not None and "commune_code" in communes.cleaned.columns:
        codes = communes.cleaned.dropna(subset=["commune_code"])
        codes = codes[~codes["commune_code"].duplicated(keep=False)]
        by_code = dict(zip(codes["commune_code"], codes["commune_id"], strict=True))
        from_code = _map_obj(code, lambda c: None if _is_missing(c) else by_code.get(c))
        bad_code = np.flatnonzero((cid.isna() & code.notna() & from_code.isna()).to_numpy())
        found.rows(
            "error",
            layer,
            bad_code,
            lambda p: f"commune_code {code.iloc[p]!r} matches no commune in {comm_file}",
            f"use a commune_code (or commune_id) that {comm_file} holds",
        )
        cid = cid.where(cid.notna(), from_code)
    unknown = np.flatnonzero((cid.notna() & ~cid.isin(known)).to_numpy())
    found.rows(
        "error",
        layer,
        unknown,
        lambda p: f"commune_id {cid.iloc[p]!r} is not in {comm_file}",
        f"use a commune_id that {comm_file} holds (or fix the commune layer)",
    )
    if required:
        none = np.flatnonzero((cid.isna() & (code.isna() if code is not None else True)).to_numpy())
        found.rows(
            "error",
            layer,
            none,
            lambda p: "names no commune (commune_id and commune_code are empty)",
            "fill in the commune_id of the commune this row belongs to",
        )
    return cid.where(cid.isin(known), None).astype(object)


def _check_hamlets(hamlets: _Layer, communes: _Layer | None, found: _Findings) -> None:
    frame = hamlets.cleaned
    assert frame is not None
    frame["commune_id"] = _commune_keys(hamlets, communes, found, required=True)
    _not_more(
        hamlets, "households", "population", found, "a household has at least one person; check both counts"
    )
    if communes is None or communes.cleaned is None or not isinstance(frame, gpd.GeoDataFrame):
        return
    comm = communes.cleaned.drop_duplicates("commune_id").set_index("commune_id")
    has = frame["commune_id"].notna().to_numpy() & _located(np.asarray(frame.geometry.values, dtype=object))
    pos = np.flatnonzero(has)
    if pos.size:
        polys = np.asarray(comm.geometry.reindex(frame["commune_id"].iloc[pos]).values, dtype=object)
        pts = np.asarray(frame.geometry.values, dtype=object)[pos]
        inside = shapely.dwithin(polys, pts, _HAMLET_TOLERANCE_DEG)
        names = frame["commune_id"].iloc[pos].map(comm["commune_name"]) if "commune_name" in comm else None
        out = pos[~inside & ~shapely.is_missing(polys)]
        found.rows(
            "warning",
            hamlets,
            out,
            lambda p: (
                f"lies outside its commune {frame['commune_id'].iloc[p]}"
                + (f" ({names.loc[p]})" if names is not None else "")
            ),
            "check the hamlet's location and its commune_id",
        )
    _check_household_sums(hamlets, communes, found)


def _check_household_sums(hamlets: _Layer, communes: _Layer, found: _Findings) -> None:
    frame, comm = hamlets.cleaned, communes.cleaned
    assert frame is not None and comm is not None
    if "households" not in frame.columns or "households" not in comm.columns:
        return
    sums = pd.to_numeric(frame["households"], errors="coerce").groupby(frame["commune_id"]).sum()
    total = pd.to_numeric(comm["households"], errors="coerce").to_numpy(dtype=float)
    summed = comm["commune_id"].map(sums).to_numpy(dtype=float)
    no_hamlets = np.flatnonzero(comm["commune_id"].notna().to_numpy() & np.isnan(summed))
    found.rows(
        "warning",
        communes,
        no_hamlets,
        lambda p: f"commune has no hamlet in {hamlets.rel}",
        "add its hamlets; hamlet-level analysis skips this commune",
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(summed - total) / np.maximum(total, 1.0)
    off = np.flatnonzero(rel > _HOUSEHOLD_SUM_TOLERANCE)
    found.rows(
        "warning",
        communes,
        off,
        lambda p: (
            f"households ({total[p]:g}) differ from the sum over its hamlets ({summed[p]:g}) "
            f"by {100 * rel[p]:.0f}%"
        ),
        f"make the hamlets' households add up to the commune's (tolerance "
        f"{100 * _HOUSEHOLD_SUM_TOLERANCE:.0f}%)",
    )


def _check_survey(survey: _Layer, hamlets: _Layer | None, communes: _Layer | None, found: _Findings) -> None:
    frame = survey.cleaned
    assert frame is not None
    hid, name = frame["hamlet_id"].copy(), frame["hamlet_name"]
    cid = _commune_keys(survey, communes, found, required=False)
    if hamlets is not None and hamlets.cleaned is not None and "hamlet_id" in hamlets.cleaned.columns:
        ham = hamlets.cleaned.dropna(subset=["hamlet_id"]).drop_duplicates("hamlet_id")
        ham_commune = dict(zip(ham["hamlet_id"], ham["commune_id"], strict=True))
        unknown = np.flatnonzero((hid.notna() & ~hid.isin(ham_commune)).to_numpy())
        found.rows(
            "error",
            survey,
            unknown,
            lambda p: f"hamlet_id {hid.iloc[p]!r} is not in {hamlets.rel}",
            f"use a hamlet_id of {hamlets.rel}, or give commune_id and hamlet_name instead",
        )
        by_name = {
            (c, normalize_name(n)): h
            for h, c, n in zip(ham["hamlet_id"], ham["commune_id"], ham["hamlet_name"], strict=True)
        }
        need = (hid.isna() & name.notna() & cid.notna()).to_numpy()
        resolved = pd.Series(
            [
                by_name.get((c, normalize_name(n))) if m else None
                for c, n, m in zip(cid, name, need, strict=True)
            ],
            index=frame.index,
            dtype=object,
        )
        unmatched = np.flatnonzero(need & resolved.isna().to_numpy())
        found.rows(
            "error",
            survey,
            unmatched,
            lambda p: f"no hamlet named {name.iloc[p]!r} in commune {cid.iloc[p]}",
            f"fix the hamlet_name or give the hamlet_id from {hamlets.rel}",
        )
        hid = hid.where(hid.notna(), resolved)
        own = _map_obj(hid, lambda h: None if _is_missing(h) else ham_commune.get(h))
        clash = np.flatnonzero((own.notna() & cid.notna() & (own != cid)).to_numpy())
        found.rows(
            "error",
            survey,
            clash,
            lambda p: f"hamlet {hid.iloc[p]} belongs to commune {own.iloc[p]}, the row says {cid.iloc[p]}",
            "correct commune_id (or leave it empty: the hamlet's commune is used)",
        )
        cid = cid.where(cid.notna(), own)
    orphan = np.flatnonzero(
        (
            hid.isna()
            & cid.isna()
            & frame["hamlet_id"].isna()
            & (frame["commune_id"].isna() if "commune_id" in frame else True)
        ).to_numpy()
    )
    found.rows(
        "error",
        survey,
        orphan,
        lambda p: "names neither a hamlet_id nor a commune_id",
        "give the hamlet_id, or commune_id (+ hamlet_name); commune-level rows give commune_id only",
    )
    frame["hamlet_id"], frame["commune_id"] = hid.astype(object), cid.astype(object)
    frame["level"] = np.where(hid.notna(), "hamlet", "commune")
    tip = "a part cannot exceed the whole: check both counts of the row"
    for part, whole in (
        ("households_ftth", "households"),
        ("adults_with_smartphone", "adults"),
        ("adults_internet_users", "adults"),
    ):
        _not_more(survey, part, whole, found, tip)


def _province(communes: _Layer | None) -> Any:
    if communes is None or communes.cleaned is None or not isinstance(communes.cleaned, gpd.GeoDataFrame):
        return None
    geoms = np.asarray(communes.cleaned.geometry.values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if geoms.size == 0:
        return None
    province = shapely.union_all(shapely.make_valid(geoms))
    shapely.prepare(province)
    return province


def _check_towers(towers: _Layer, province: Any, found: _Findings) -> None:
    frame = towers.cleaned
    assert frame is not None
    if "site_id" not in frame.columns or not isinstance(frame, gpd.GeoDataFrame):
        return
    site = frame["site_id"]
    first = np.flatnonzero((site.notna() & ~site.duplicated()).to_numpy())
    view = _ref_layer(towers, ids=site, id_name="site_id")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if province is not None:
        ok = first[_located(geoms[first])]
        outside = ok[~shapely.dwithin(province, geoms[ok], _PROVINCE_TOLERANCE_DEG)]
        found.rows(
            "warning",
            view,
            outside,
            lambda p: f"site is outside the province (lon {geoms[p].x:.5f}, lat {geoms[p].y:.5f})",
            "check its coordinates; a site just across the border may be kept on purpose",
        )
    _check_site_consistency(frame, site, first, view, found)


def _check_site_consistency(
    frame: pd.DataFrame, site: pd.Series, first: np.ndarray, view: _Layer, found: _Findings
) -> None:
    """Warn where the cells of one site disagree on the site columns (operator, status, height, place)."""
    grouped = frame.groupby("site_id", sort=False)
    disagree: dict[str, list[str]] = {}
    for col in ("operator", "status", "height_m"):
        if col in frame.columns:
            for key in grouped[col].nunique()[lambda n: n > 1].index:
                disagree.setdefault(key, []).append(col)
    spread_deg = (grouped["lon"].max() - grouped["lon"].min()) + (grouped["lat"].max() - grouped["lat"].min())
    for key in spread_deg[spread_deg > _SITE_SPREAD_DEG].index:
        disagree.setdefault(key, []).append("location (more than ≈100 m apart)")
    odd_pos = [int(p) for p in first if site.iloc[p] in disagree]
    found.rows(
        "warning",
        view,
        odd_pos,
        lambda p: f"the cells of this site disagree on {', '.join(disagree[site.iloc[p]])}",
        "repeat the same operator, status, height_m, lat and lon on every cell row of a site",
    )


def _check_nodes(nodes: _Layer, communes: _Layer | None, province: Any, found: _Findings) -> None:
    frame = nodes.cleaned
    assert frame is not None
    if "commune_id" in frame.columns:
        frame["commune_id"] = _commune_keys(nodes, communes, found, required=False)
    if province is None or not isinstance(frame, gpd.GeoDataFrame):
        return
    geoms = np.asarray(frame.geometry.values, dtype=object)
    ok = np.flatnonzero(_located(geoms))
    outside = ok[~shapely.dwithin(province, geoms[ok], _PROVINCE_TOLERANCE_DEG)]
    found.rows(
        "warning",
        nodes,
        outside,
        lambda p: "node is outside the province",
        "check its coordinates; a node just across the border may be kept on purpose",
    )


def _check_references(layers: Mapping[str, _Layer], found: _Findings) -> None:
    """Checks between layers: keys that must exist, counts that must agree, locations."""
    usable = {k: v for k, v in layers.items() if v.cleaned is not None}
    communes = usable.get("communes")
    if communes is not None:
        _not_more(
            communes,
            "households",
            "population",
            found,
            "a household has at least one person; check both counts",
        )
    province = _province(communes)
    if "hamlets" in usable:
        _check_hamlets(usable["hamlets"], communes, found)
    if "survey" in usable:
        _check_survey(usable["survey"], usable.get("hamlets"), communes, found)
    if "towers" in usable:
        _check_towers(usable["towers"], province, found)
    if "fibre_nodes" in usable:
        _check_nodes(usable["fibre_nodes"], communes, province, found)


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
    for key, schema in LAYER_SCHEMAS.items():
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
