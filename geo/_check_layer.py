"""Checks of one layer: columns, values, geometries and coordinates (private to :mod:`geo.validate`).

Rows of CSV files are numbered as a spreadsheet shows them (the header is row 1, the first
data row is row 2); features of vector files are numbered from 1 in file order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo._checks import _GEOMETRY_TYPES, _Findings, _is_missing, _Layer, _map_obj, _text
from geo.crs import WGS84, classify_lonlat, describe_coordinate_issue, representative_lonlat
from geo.errors import DataNotFoundError, UnreadableFileError
from geo.io import lonlat_columns, read_layer, read_table
from geo.schema import (
    HIGHWAY_CLASSES,
    Column,
    LayerSchema,
    accepted_values,
    alias_key,
    parse_category,
)


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
