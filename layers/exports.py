"""Vector and table exports: GeoPackage, GeoJSON, KML, zipped Shapefile, CSV and XLSX.

Every export keeps Vietnamese diacritics and carries metadata (source data, date, thresholds):

=========  ======================================================================================
format     metadata and encoding
=========  ======================================================================================
GPKG       one layer per frame with GDAL layer metadata, plus a ``metadata`` table (key, value)
GeoJSON    RFC 7946 FeatureCollection (EPSG:4326) with a foreign member ``"metadata"``; UTF-8
KML        KML 2.2 (Google Earth): one Folder per layer, ``name``/``description`` per Placemark,
           every attribute in ``ExtendedData``; metadata in the Document's ``ExtendedData``
SHP.ZIP    one Shapefile per layer, UTF-8 ``.cpg``, field names ≤ 10 characters by the documented
           :data:`SHAPEFILE_FIELDS` mapping (``<layer>_fields.csv`` inside the zip), texts cut at
           254 bytes on a character boundary, ``metadata.txt``
CSV        UTF-8 with BOM (Excel shows Vietnamese correctly), ``lon``/``lat`` for points or
           ``wkt`` otherwise, ``meta_*`` columns; cells that a spreadsheet would run as a formula
           get a leading ``'``
XLSX       one sheet per layer plus a ``metadata`` sheet; formula-safe like CSV
=========  ======================================================================================

Functions return bytes (for ``st.download_button``) or write the one file they are told to write;
the format follows from the file extension.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import ParameterError

__all__ = [
    "ExportFormat",
    "EXTENSIONS",
    "SHAPEFILE_FIELDS",
    "format_from_path",
    "neutralise_formulas",
    "shapefile_field_map",
    "export_bytes",
    "write_export",
]

log = logging.getLogger(__name__)

ExportFormat = Literal["gpkg", "geojson", "kml", "shp.zip", "csv", "xlsx"]

EXTENSIONS: dict[str, ExportFormat] = {
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".kml": "kml",
    ".shp.zip": "shp.zip",
    ".csv": "csv",
    ".xlsx": "xlsx",
}
"""File extension -> format."""

SINGLE_LAYER: frozenset[str] = frozenset({"geojson", "csv"})

SHAPEFILE_FIELDS: dict[str, str] = {
    # hamlet gaps
    "hamlet_id": "hamlet_id",
    "hamlet_name": "hamlet_nm",
    "commune_id": "commune_id",
    "commune_name": "commune_nm",
    "district_name": "district",
    # former units of a 2025-07 package (analysis/grouping.py)
    "former_province": "former_prv",
    "former_district": "former_dst",
    "old_commune_codes": "old_codes",
    "former_commune_code": "old_cmcode",
    "former_commune_name": "old_cmname",
    "households": "households",
    "population": "population",
    "share_hh_good_4g": "hh_good4g",
    "share_hh_no_4g": "hh_no4g",
    "good_4g_operators": "good4g_ops",
    "signal_source": "sig_source",
    "fibre_distance_m": "fibre_m",
    "fibre_node_id": "fibre_node",
    "fibre_operator": "fibre_op",
    "fibre_node_type": "fibre_type",
    "fibre_reach_class": "reach_cls",
    "hamlet_spur_m": "spur_m",
    "road_connected": "road_conn",
    "ftth_share": "ftth_shr",
    "smartphone_share": "phone_shr",
    "survey_level": "survey_lvl",
    "survey_date": "survey_dt",
    "flags": "flags",
    "n_flags": "n_flags",
    "main_flag": "main_flag",
    "no_mobile_flag": "nomob_f",
    "no_mobile_value": "nomob_v",
    "no_mobile_threshold": "nomob_t",
    "weak_mobile_flag": "weak_f",
    "weak_mobile_value": "weak_v",
    "weak_mobile_threshold": "weak_t",
    "no_fibre_flag": "nofib_f",
    "no_fibre_value": "nofib_v",
    "no_fibre_threshold": "nofib_t",
    "low_ftth_flag": "lftth_f",
    "low_ftth_value": "lftth_v",
    "low_ftth_threshold": "lftth_t",
    "low_smartphone_flag": "lphone_f",
    "low_smartphone_value": "lphone_v",
    "low_smartphone_threshold": "lphone_t",
    "affected_households": "affect_hh",
    "priority_score": "priority",
    "rank_province": "rank_prov",
    "rank_commune": "rank_comm",
    "operator_action": "op_action",
    "community_action": "com_action",
    "actors_vi": "actors_vi",
    "actors_en": "actors_en",
    "explanation_vi": "expl_vi",
    "explanation_en": "expl_en",
    # fibre reach and extension plan
    "plan_status": "plan_stat",
    "drops": "drops",
    "route_id": "route_id",
    "length_m": "length_m",
    "cable_cost_vnd": "cable_vnd",
    # commune roll-up
    "hamlets": "hamlets",
    "flagged_hamlets": "flagged_h",
    "share_hh_fibre_reach": "hh_fibre",
    "n_no_mobile": "n_nomob",
    "n_weak_mobile": "n_weak",
    "n_no_fibre": "n_nofib",
    "n_low_ftth": "n_lftth",
    "n_low_smartphone": "n_lphone",
    "top_hamlet_id": "top_id",
    "top_hamlet_name": "top_name",
}
"""Documented long -> short (≤ 10 character) field names for Shapefiles (see docs/GAPS.md).
Columns not listed are cut to 10 characters and made unique with a numeric suffix."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DBF_TEXT_BYTES = 254


def format_from_path(path: Path | str) -> ExportFormat:
    """Export format from a file name (``.shp.zip`` is one extension).

    Raises
    ------
    ParameterError
        The extension is not one of :data:`EXTENSIONS`.
    """
    name = Path(path).name.lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext) and len(name) > len(ext):
            return EXTENSIONS[ext]
    raise ParameterError(
        f"cannot tell the export format of {Path(path).name!r}; use one of "
        f"{', '.join(EXTENSIONS)} (e.g. gaps.gpkg)"
    )


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` where text cells starting with ``= + - @`` (or tab / CR) get a leading ``'``.

    Numeric, boolean and date columns are left as they are, so numbers stay numbers.
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[col] = series.map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            )
    return out


def shapefile_field_map(columns: list[str] | pd.Index) -> dict[str, str]:
    """Long -> short (≤ 10 characters, unique case-insensitively) name for each column."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        if col == "geometry":
            continue
        short = SHAPEFILE_FIELDS.get(col, str(col)[:10])
        base, n = short, 1
        while short.lower() in taken:
            suffix = str(n)
            short = base[: 10 - len(suffix)] + suffix
            n += 1
        taken.add(short.lower())
        out[str(col)] = short
    return out


# ---------------------------------------------------------------------------------------------


def _as_layers(
    data: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame], default: str
) -> dict[str, gpd.GeoDataFrame]:
    layers = {default: data} if isinstance(data, pd.DataFrame) else dict(data)
    if not layers:
        raise ParameterError("nothing to export: no layer given")
    for name, gdf in layers.items():
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None:
            raise ParameterError(f"layer {name!r} must be a GeoDataFrame with a CRS")
    return {name: gdf.to_crs(4326) for name, gdf in layers.items()}


def _plain(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns writable by OGR: no objects other than text, ids as text."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_object_dtype(s):
            out[col] = s.map(
                lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            )
    return out


def export_bytes(
    data: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame],
    fmt: ExportFormat,
    *,
    metadata: Mapping[str, str],
    layer: str = "layer",
) -> bytes:
    """Encode one or more layers in ``fmt``.

    Parameters
    ----------
    data
        One GeoDataFrame (named ``layer``) or ``{layer name: GeoDataFrame}``; any CRS (written in
        EPSG:4326).
    fmt
        ``gpkg``, ``geojson``, ``kml``, ``shp.zip``, ``csv`` or ``xlsx``. GeoJSON and CSV hold
        one layer.
    metadata
        ``{key: text}`` written with the data (source data, creation date, thresholds...).
    layer
        Name of a single layer.

    Raises
    ------
    ParameterError
        Unknown format, or several layers for a one-layer format.
    """
    layers = _as_layers(data, layer)
    if fmt in SINGLE_LAYER and len(layers) > 1:
        raise ParameterError(
            f"{fmt} holds one layer; got {len(layers)} ({', '.join(layers)}); "
            "use .gpkg, .kml, .shp.zip or .xlsx"
        )
    meta = {str(k): str(v) for k, v in metadata.items()}
    writers = {
        "gpkg": _gpkg,
        "geojson": _geojson,
        "kml": _kml,
        "shp.zip": _shp_zip,
        "csv": _csv,
        "xlsx": _xlsx,
    }
    if fmt not in writers:
        raise ParameterError(f"unknown export format {fmt!r}; use one of {', '.join(writers)}")
    return writers[fmt](layers, meta)


def write_export(
    data: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame],
    path: Path | str,
    *,
    metadata: Mapping[str, str],
    layer: str = "layer",
    overwrite: bool = False,
) -> Path:
    """Write one export file, format from the extension; the file appears complete or not at all.

    Raises
    ------
    ParameterError
        Unknown extension, the file exists and ``overwrite`` is false, or its folder is missing.
    """
    target = Path(path)
    fmt = format_from_path(target)
    if target.exists() and not overwrite:
        raise ParameterError(f"{target} already exists; choose another name or overwrite (--force)")
    if not target.parent.is_dir():
        raise ParameterError(f"folder {target.parent} does not exist")
    payload = export_bytes(data, fmt, metadata=metadata, layer=layer)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
    try:
        with open(tmp, "xb") as fh:  # default permissions (umask), unlike mkstemp's 0600
            fh.write(payload)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("wrote %s (%d bytes)", target, len(payload))
    return target


# ---------------------------------------------------------------------------------------------
# writers


def _gpkg(layers: dict[str, gpd.GeoDataFrame], meta: dict[str, str]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="phusong-export-") as tmp:
        path = Path(tmp) / "export.gpkg"
        for i, (name, gdf) in enumerate(layers.items()):
            # GeoPackage 1.2 so that older GDAL (Debian's ogrinfo, QGIS LTR) reads it without warning
            opts = {"dataset_options": {"VERSION": "1.2"}} if i == 0 else {}
            pyogrio.write_dataframe(
                _plain(gdf),
                path,
                layer=name,
                driver="GPKG",
                layer_metadata=meta,
                geometry_type=_geometry_type(gdf),
                **opts,
            )
        table = pd.DataFrame({"key": list(meta), "value": list(meta.values())})
        pyogrio.write_dataframe(table, path, layer="metadata", driver="GPKG")
        return path.read_bytes()


def _geometry_type(gdf: gpd.GeoDataFrame) -> str | None:
    types = set(gdf.geometry.dropna().geom_type)
    if len(types) == 1:
        return types.pop()
    if not types:
        return "Unknown"
    return None


def _geojson(layers: dict[str, gpd.GeoDataFrame], meta: dict[str, str]) -> bytes:
    ((name, gdf),) = layers.items()
    with tempfile.TemporaryDirectory(prefix="phusong-export-") as tmp:
        path = Path(tmp) / "export.geojson"
        pyogrio.write_dataframe(_plain(gdf), path, layer=name, driver="GeoJSON", RFC7946="YES")
        doc = json.loads(path.read_text(encoding="utf-8"))
    doc["metadata"] = meta
    return json.dumps(doc, ensure_ascii=False, indent=None).encode("utf-8")


def _text_cut(value: object, limit: int = _DBF_TEXT_BYTES) -> object:
    if not isinstance(value, str):
        return value
    raw = value.encode("utf-8")
    if len(raw) <= limit:
        return value
    cut = raw[: limit - 3].decode("utf-8", errors="ignore")
    return cut + "…"


def _shp_zip(layers: dict[str, gpd.GeoDataFrame], meta: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with (
        tempfile.TemporaryDirectory(prefix="phusong-export-") as tmp,
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        for name, gdf in layers.items():
            fields = shapefile_field_map(gdf.columns)
            out = _plain(gdf).rename(columns=fields)
            for col in out.columns:
                if pd.api.types.is_bool_dtype(out[col]):
                    out[col] = out[col].astype(int)
                elif col != out.geometry.name and pd.api.types.is_object_dtype(out[col]):
                    out[col] = out[col].map(_text_cut)
            pyogrio.write_dataframe(
                out,
                Path(tmp) / f"{name}.shp",
                driver="ESRI Shapefile",
                encoding="UTF-8",
                geometry_type=_geometry_type(gdf) or "Unknown",
            )
            for part in sorted(Path(tmp).glob(f"{name}.*")):
                zf.write(part, part.name)
            mapping = pd.DataFrame({"field": list(fields.values()), "column": list(fields)})
            zf.writestr(f"{name}_fields.csv", mapping.to_csv(index=False).encode("utf-8-sig"))
        zf.writestr("metadata.txt", "".join(f"{k}: {v}\n" for k, v in meta.items()).encode("utf-8"))
    return buf.getvalue()


def _table(gdf: gpd.GeoDataFrame, meta: dict[str, str]) -> pd.DataFrame:
    geom = gdf.geometry
    frame = pd.DataFrame(gdf.drop(columns=geom.name))
    if len(geom) and (geom.geom_type == "Point").all():
        frame["lon"] = np.round(geom.x, 7)
        frame["lat"] = np.round(geom.y, 7)
    else:
        frame["wkt"] = shapely.to_wkt(geom.to_numpy(), rounding_precision=7)
    frame["meta_dataset"] = f"{meta.get('dataset', '')} {meta.get('dataset_version', '')}".strip()
    frame["meta_created_utc"] = meta.get("created_utc", "")
    frame["meta_thresholds"] = "; ".join(
        f"{k.removeprefix('threshold_')}={v}" for k, v in meta.items() if k.startswith("threshold_")
    )
    return neutralise_formulas(frame)


def _csv(layers: dict[str, gpd.GeoDataFrame], meta: dict[str, str]) -> bytes:
    ((_, gdf),) = layers.items()
    return _table(gdf, meta).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _xlsx(layers: dict[str, gpd.GeoDataFrame], meta: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, gdf in layers.items():
            _table(gdf, meta).to_excel(xw, sheet_name=name[:31], index=False)
        table = pd.DataFrame({"key": list(meta), "value": list(meta.values())})
        neutralise_formulas(table).to_excel(xw, sheet_name="metadata", index=False)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# KML

_KML_NS = "http://www.opengis.net/kml/2.2"
_NAME_COLUMNS = ("hamlet_name", "name", "commune_name", "route_id", "node_id", "hamlet_id")
_STYLES = {"gap": "ff1400e6", "ok": "ff3cb371", "line": "ff0080ff"}  # aabbggrr


def _kml(layers: dict[str, gpd.GeoDataFrame], meta: dict[str, str]) -> bytes:
    ET.register_namespace("", _KML_NS)
    root = ET.Element(f"{{{_KML_NS}}}kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", meta.get("title", "PhuSong export"))
    _sub(doc, "description", "\n".join(f"{k}: {v}" for k, v in meta.items()))
    # KML 2.2 schema order within a Feature: name, description, StyleSelector, ExtendedData
    for sid, colour in _STYLES.items():
        style = _sub(doc, "Style", id=sid)
        _sub(_sub(style, "IconStyle"), "color", colour)
        line = _sub(style, "LineStyle")
        _sub(line, "color", colour)
        _sub(line, "width", "3" if sid == "line" else "2")
        _sub(_sub(style, "PolyStyle"), "color", "40" + colour[2:])
    _extended(doc, meta)
    for name, gdf in layers.items():
        folder = _sub(doc, "Folder")
        _sub(folder, "name", name)
        for row in _plain(gdf).itertuples(index=False):
            _placemark(folder, row._asdict(), gdf.geometry.name)
    tree = ET.ElementTree(root)
    buf = io.BytesIO()
    tree.write(buf, encoding="utf-8", xml_declaration=True)
    return buf.getvalue()


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{_KML_NS}}}{tag}", attrib)
    if text is not None:
        el.text = text
    return el


def _extended(parent: ET.Element, values: Mapping[str, object]) -> None:
    ext = _sub(parent, "ExtendedData")
    for key, value in values.items():
        data = _sub(ext, "Data", name=str(key))
        _sub(
            data,
            "value",
            "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value),
        )


def _placemark(folder: ET.Element, row: dict[str, Any], geom_col: str) -> None:
    geom = row.pop(geom_col)
    pm = _sub(folder, "Placemark")
    label = next((row[c] for c in _NAME_COLUMNS if c in row and row[c] not in (None, "")), "")
    _sub(pm, "name", str(label))
    desc = row.get("explanation_vi") or row.get("explanation_en")
    if desc:
        _sub(pm, "description", str(desc))
    if geom is not None and geom.geom_type.endswith("LineString"):
        _sub(pm, "styleUrl", "#line")
    else:
        _sub(pm, "styleUrl", "#gap" if int(row.get("n_flags", 0) or 0) > 0 else "#ok")
    _extended(pm, row)
    if geom is not None and not geom.is_empty:
        _kml_geometry(pm, geom)


def _coords(coords: np.ndarray) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y in np.asarray(coords)[:, :2])


def _kml_geometry(parent: ET.Element, geom: shapely.Geometry) -> None:
    kind = geom.geom_type
    if kind == "Point":
        _sub(_sub(parent, "Point"), "coordinates", _coords(np.array(geom.coords)))
    elif kind == "LineString":
        _sub(_sub(parent, "LineString"), "coordinates", _coords(np.array(geom.coords)))
    elif kind == "Polygon":
        poly = _sub(parent, "Polygon")
        outer = _sub(_sub(poly, "outerBoundaryIs"), "LinearRing")
        _sub(outer, "coordinates", _coords(np.array(geom.exterior.coords)))
        for ring in geom.interiors:
            inner = _sub(_sub(poly, "innerBoundaryIs"), "LinearRing")
            _sub(inner, "coordinates", _coords(np.array(ring.coords)))
    else:
        multi = _sub(parent, "MultiGeometry")
        for part in shapely.get_parts(geom):
            _kml_geometry(multi, part)
