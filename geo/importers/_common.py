"""Shared pieces of the importers: reading uploads safely, header mapping, writing layer files.

Importers turn an uploaded file into the bytes of one data-package layer file
(docs/DATA.md) plus the ``[layers.<key>]`` table of ``dataset.toml``; the
package validator then decides whether the would-be package is usable.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.crs import WGS84
from geo.errors import ImportRejectedError, Problem
from geo.safety import (
    ImportLimits,
    check_feature_count,
    check_in_vietnam,
    decode_text,
    detect_legacy_encoding,
    extract_zip_safely,
    legacy_encoding_error,
    parse_json_safely,
    safe_zip_members,
)
from geo.schema import alias_key

__all__ = [
    "ImportOptions",
    "Converted",
    "LayerTarget",
    "LAYER_TARGETS",
    "read_upload_table",
    "read_upload_vector",
    "map_headers",
    "frame_to_csv_bytes",
    "gdf_to_geojson_bytes",
    "update_layer_table",
    "require_headers",
    "read_dataset_toml",
    "layer_file",
]


@dataclass(frozen=True)
class ImportOptions:
    """Options of one import.

    Parameters
    ----------
    site_cluster_m : float, default 150
        OpenCelliD: cells of one operator closer than this (single linkage) form one site, metres.
    clip_buffer_km : float, default 5
        Towers and roads further than this outside the province boundary are left out, km.
    skip_unmatched : bool, default False
        Survey: import the matched rows and list the unmatched/ambiguous ones instead of refusing.
    source : str
        Overrides the ``source`` written to dataset.toml ("" = describe the upload).
    licence : str
        Overrides the ``licence`` written to dataset.toml ("" = importer default).
    importer : str
        "auto" or a specific importer for the layer ("opencellid", "operator_sheet").
    replace_all : bool, default False
        Operator sheets: replace the whole towers layer instead of only the rows of the
        operators present in the sheet.
    limits : ImportLimits
        Size, feature-count, archive and JSON-depth limits.
    """

    site_cluster_m: float = 150.0
    clip_buffer_km: float = 5.0
    skip_unmatched: bool = False
    source: str = ""
    licence: str = ""
    importer: str = "auto"
    replace_all: bool = False
    limits: ImportLimits = field(default_factory=ImportLimits)


@dataclass
class Converted:
    """What an importer produced.

    Parameters
    ----------
    files : dict of str to bytes
        Package-relative path -> new file content.
    meta : dict of str to dict
        ``[layers.<key>]`` tables to write into dataset.toml.
    problems : list of Problem
        Findings about the upload (errors refuse the import; warnings are shown).
    report : list of str
        Human-readable lines for the preview (dedupe counts, clustering, matches).
    importer : str
        Which importer ran.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    importer: str = ""


@dataclass(frozen=True)
class LayerTarget:
    """Where a CLI layer name lands in the package."""

    keys: tuple[str, ...]  # dataset.toml layer keys it may write
    id_columns: tuple[str, ...]  # row key for the preview diff


LAYER_TARGETS: Mapping[str, LayerTarget] = {
    "boundaries": LayerTarget(("communes",), ("commune_id",)),
    "hamlets": LayerTarget(("hamlets",), ("hamlet_id",)),
    "towers": LayerTarget(("towers",), ("cell_id",)),
    "fibre": LayerTarget(("fibre_nodes", "fibre_routes"), ("node_id", "route_id")),
    "roads": LayerTarget(("roads",), ("road_id",)),
    "survey": LayerTarget(("survey",), ("hamlet_id", "commune_id", "hamlet_name")),
}


# ---------------------------------------------------------------- tables


def _sniff_delimiter(lines: list[str]) -> str:
    counts = {d: max((line.count(d) for line in lines), default=0) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _header_index(rows: list[list[str]], header_keys: frozenset[str]) -> int:
    """Index of the header row: the first of the first 10 rows naming two known columns (else 0).

    Spreadsheets from provincial offices often start with a title ("DANH SÁCH TRẠM BTS...")
    and a blank line above the real header.
    """
    if not header_keys:
        return 0
    for i, row in enumerate(rows[:10]):
        if sum(1 for v in row if alias_key(v) in header_keys) >= 2:
            return i
    return 0


def _read_csv_text(text: str, filename: str, header_keys: frozenset[str]) -> pd.DataFrame:
    if not text.strip():
        raise ImportRejectedError(f"{filename}: file is empty -> export the layer again")
    text = text.lstrip("\ufeff")
    head = [line for line in text.splitlines()[:10] if line.strip()]
    sep = _sniff_delimiter(head)
    first = [next(csv.reader([line], delimiter=sep)) for line in head]
    skip_lines = 0
    idx = _header_index(first, header_keys)
    if idx:
        skip_lines = text.splitlines().index(head[idx])
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=True,
            skiprows=skip_lines,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise ImportRejectedError(f"{filename}: not a readable CSV table: {str(exc).strip()}") from exc
    return frame


def _xlsx_rows(data: bytes, filename: str, limits: ImportLimits) -> list[list[Any]]:
    import openpyxl  # local: only spreadsheets need it

    safe_zip_members(data, filename, limits=limits)
    xml_errors = (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except xml_errors as exc:
        raise ImportRejectedError(
            f"{filename}: not a readable XLSX workbook ({exc}) -> save it again from Excel"
        ) from exc
    try:
        for ws in wb.worksheets:
            rows = _sheet_rows(ws, filename, limits)
            if rows:
                return rows
    except xml_errors as exc:  # read-only sheets are parsed lazily
        raise ImportRejectedError(
            f"{filename}: not a readable XLSX workbook ({exc}) -> save it again from Excel"
        ) from exc
    finally:
        wb.close()
    raise ImportRejectedError(
        f"{filename}: the workbook has no sheet with data -> put the table on the first sheet"
    )


def _sheet_rows(ws: Any, filename: str, limits: ImportLimits) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for row in ws.iter_rows(values_only=True):
        if any(v is not None and str(v).strip() != "" for v in row):
            rows.append(list(row))
            if len(rows) > limits.max_features + 1:
                check_feature_count(len(rows) - 1, filename, limits=limits)
    return rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    return str(value).strip()


def read_upload_table(
    data: bytes, filename: str, kind: str, *, limits: ImportLimits, header_keys: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Read a CSV or XLSX upload as a DataFrame of stripped text cells.

    Parameters
    ----------
    data : bytes
        The upload (already checked with :func:`geo.safety.check_upload_bytes`).
    filename : str
        For messages.
    kind : str
        "text" (CSV) or "xlsx".
    limits : ImportLimits
        Row limit.
    header_keys : frozenset of str
        :func:`geo.schema.alias_key` forms of known column names; the header is the first of
        the first 10 rows naming two of them (title rows above it are skipped), else row 1.

    Returns
    -------
    pandas.DataFrame
        Original header names (stripped), text cells ("" when empty); at least one row.
    """
    if kind == "xlsx":
        rows = _xlsx_rows(data, filename, limits)
        start = _header_index([[_cell_text(v) for v in r] for r in rows], header_keys)
        header = [_cell_text(v) or f"column_{i + 1}" for i, v in enumerate(rows[start])]
        body = [
            [_cell_text(v) for v in r[: len(header)]] + [""] * (len(header) - len(r))
            for r in rows[start + 1 :]
        ]
        frame = pd.DataFrame(body, columns=header, dtype=object)
    else:
        frame = _read_csv_text(decode_text(data, filename), filename, header_keys)
        frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame = frame.apply(lambda s: s.astype(str).str.strip())
    check_feature_count(len(frame), filename, limits=limits)
    _refuse_legacy_cells(frame, filename)
    return frame


def _refuse_legacy_cells(frame: pd.DataFrame, filename: str) -> None:
    texts = [str(c) for c in frame.columns]
    for col in frame.columns:
        values = frame[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            texts += [v for v in values.dropna().head(2000).map(str) if re.search(r"[A-Za-z]", v)]
    legacy = detect_legacy_encoding(texts)
    if legacy is None:
        # text once decoded as Windows-1258 hides VNI's tone bytes; look at it as Latin-1 too
        recoded = []
        for t in texts:
            try:
                recoded.append(t.encode("cp1258").decode("latin-1"))
            except UnicodeError:
                continue
        legacy = detect_legacy_encoding(recoded) if recoded != texts else None
    if legacy:
        raise legacy_encoding_error(filename, legacy)


def map_headers(
    columns: Iterable[str], aliases: Mapping[str, tuple[str, ...]], filename: str
) -> dict[str, str]:
    """Map a table's header names to canonical names using an alias table.

    Matching ignores case, diacritics, spaces and punctuation ("Kinh độ" == "kinh_do" == "KINH DO").
    A column named exactly like a canonical name wins over columns matching one of its aliases
    (``commune_id`` next to ``commune_code``).

    Returns
    -------
    dict
        canonical name -> original column name, for the columns found.

    Raises
    ------
    ImportRejectedError
        If two columns map to the same canonical name.
    """
    lookup: dict[str, str] = {}
    for canon, names in aliases.items():
        for a in names:
            lookup.setdefault(alias_key(a), canon)
    lookup.update({alias_key(canon): canon for canon in aliases})  # a canonical name is never an alias
    cols = list(columns)
    exact = {
        lookup[alias_key(c)]
        for c in cols
        if alias_key(c) in lookup and alias_key(c) == alias_key(lookup[alias_key(c)])
    }
    found: dict[str, str] = {}
    for col in cols:
        key = alias_key(col)
        if key not in lookup:
            continue
        canon = lookup[key]
        if canon in exact and alias_key(col) != alias_key(canon):
            continue  # the column named exactly like the canonical one wins over an alias
        if canon in found:
            raise ImportRejectedError(
                f"{filename}: columns '{found[canon]}' and '{col}' both mean '{canon}' -> keep one of them"
            )
        found[canon] = col
    return found


def require_headers(
    found: Mapping[str, str],
    required: Iterable[str],
    aliases: Mapping[str, tuple[str, ...]],
    columns: Iterable[str],
    filename: str,
) -> None:
    """Refuse a table missing required columns, listing the accepted header names."""
    missing = [c for c in required if c not in found]
    if missing:
        accepted = "; ".join(
            f"{m}: " + ", ".join(f"'{a}'" for a in dict.fromkeys((m, *aliases[m][:4]))) for m in missing
        )
        raise ImportRejectedError(
            f"{filename}: missing column(s) {', '.join(missing)} (file has: {', '.join(map(str, columns))}) "
            f"-> name them e.g. {accepted}"
        )


# ---------------------------------------------------------------- vectors


def _crs_from_geojson(doc: Mapping[str, Any], filename: str) -> pyproj.CRS:
    crs_member = doc.get("crs")
    if not crs_member:
        return WGS84
    try:
        name = crs_member["properties"]["name"]
        return pyproj.CRS.from_user_input(name)
    except (KeyError, TypeError, pyproj.exceptions.CRSError) as exc:
        raise ImportRejectedError(f"{filename}: unreadable 'crs' member {crs_member!r}") from exc


def _check_geojson(doc: Any, filename: str, limits: ImportLimits) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        what = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise ImportRejectedError(f"{filename}: not a GeoJSON FeatureCollection (top level is {what!r})")
    features = doc.get("features")
    if not isinstance(features, list):
        raise ImportRejectedError(f"{filename}: GeoJSON 'features' is missing or not a list")
    check_feature_count(len(features), filename, limits=limits)
    bad = [i for i, f in enumerate(features) if not isinstance(f, dict) or f.get("type") != "Feature"]
    if bad:
        raise ImportRejectedError(f"{filename}: item(s) {_few(bad)} of 'features' are not GeoJSON Features")
    missing = [i for i, f in enumerate(features) if not f.get("geometry")]
    if missing:
        raise ImportRejectedError(
            f"{filename}: {len(missing)} feature(s) have no geometry (feature {_few(missing)}) "
            "-> remove them or draw their geometry"
        )
    return features


def _few(items: list[Any], n: int = 5) -> str:
    text = ", ".join(str(i) for i in items[:n])
    return text + (f" and {len(items) - n} more" if len(items) > n else "")


def read_upload_vector(
    data: bytes, filename: str, kind: str, *, limits: ImportLimits
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read a GeoJSON / GeoPackage / zipped Shapefile upload and return it in EPSG:4326.

    The bytes have passed :func:`geo.safety.check_upload_bytes`. GeoJSON is parsed
    here first (depth, truncation, NaN, features without geometry); archives are
    extracted with :func:`geo.safety.extract_zip_safely`. Reading itself uses
    :func:`geo.io.read_layer` (``.cpg`` honoured). Projected CRSs, VN-2000 included,
    are reprojected; a VN-2000 CRS lacking datum-shift parameters gives a warning.

    Returns
    -------
    (GeoDataFrame, list of Problem)
        Features in EPSG:4326 (at least one, each with a geometry) and reading warnings.
    """
    from geo.io import read_layer  # the package's own reader (honours .cpg, detects cp1258)

    notes: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="phusong-upload-") as tmp:
        tmpdir = Path(tmp)
        if kind == "text":
            doc = parse_json_safely(data, filename, limits=limits)
            _check_geojson(doc, filename, limits)
            declared = _crs_from_geojson(doc, filename)
            path = tmpdir / "upload.geojson"
            path.write_bytes(data)
        elif kind == "zip":
            path = _zipped_shapefile(data, filename, tmpdir, limits)
            declared = None
        else:
            path = tmpdir / "upload.gpkg"
            path.write_bytes(data)
            declared = None
        read = read_layer(path, display=filename)
        gdf = read.frame
        notes += [p for p in read.warnings if "Windows-1258" not in p.message]
        crs = read.crs if read.crs is not None else declared
        gdf = _to_wgs84(gdf, crs, filename, notes)
    check_feature_count(len(gdf), filename, limits=limits)
    _refuse_missing_geometry(gdf, filename)
    _refuse_legacy_cells(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), filename)
    x, y = _rep_xy(gdf)
    check_in_vietnam(x, y, filename)
    return gdf, notes


def _zipped_shapefile(data: bytes, filename: str, tmpdir: Path, limits: ImportLimits) -> Path:
    extracted = extract_zip_safely(data, filename, tmpdir, limits=limits)
    shps = [p for p in extracted if p.suffix.lower() == ".shp"]
    gpkgs = [p for p in extracted if p.suffix.lower() in (".gpkg", ".geojson", ".json")]
    if not shps and len(gpkgs) == 1:
        return gpkgs[0]
    if not shps:
        raise ImportRejectedError(
            f"{filename}: the archive holds no .shp file -> zip the .shp with its .shx, .dbf, .prj and .cpg"
        )
    if len(shps) > 1:
        raise ImportRejectedError(
            f"{filename}: the archive holds {len(shps)} shapefiles "
            f"({_few([p.name for p in shps])}) -> one layer per archive"
        )
    shp = shps[0]
    for ext in (".shx", ".dbf"):
        if not any(p.name.lower() == shp.stem.lower() + ext for p in extracted):
            raise ImportRejectedError(
                f"{filename}: {shp.stem}{ext} is missing from the archive -> zip every part of the shapefile"
            )
    # hand geo.io a clean zip holding only the checked, extracted parts
    clean = tmpdir / "upload.shp.zip"
    with zipfile.ZipFile(clean, "w") as zf:
        for part in extracted:
            if part.stem.lower() == shp.stem.lower():
                zf.write(part, arcname=part.name)
    return clean


def _vn2000_without_shift(crs: pyproj.CRS) -> bool:
    """True for a VN-2000 (or VN-2000-like TM-3) CRS whose transformation to WGS 84 is unknown.

    VN-2000 uses the WGS 84 ellipsoid, so without TOWGS84 parameters PROJ treats it as WGS 84
    and positions shift by ~200-400 m in the south. EPSG-coded VN-2000 CRSs are fine.
    """
    if crs.to_epsg() is not None or crs.is_geographic and crs.equals(WGS84):
        return False
    wkt = crs.to_wkt("WKT1_GDAL")
    if re.search(r"TOWGS84\[", wkt):
        return False
    named = re.search(r"VN[-_ ]?2000|Vietnam[-_ ]2000", wkt, re.IGNORECASE) is not None
    op = crs.coordinate_operation if crs.is_projected else None
    params = {p.name: p.value for p in op.params} if op is not None else {}
    datum = crs.datum.name.replace("_", " ") if crs.datum is not None else ""
    tm3_like = (
        op is not None
        and "transverse mercator" in op.method_name.lower()
        and abs(float(params.get("Scale factor at natural origin", 0)) - 0.9999) < 1e-9
        and 102 <= float(params.get("Longitude of natural origin", 0)) <= 118
        and crs.ellipsoid is not None
        and "WGS" in crs.ellipsoid.name.upper().replace(" ", "")
        and datum not in ("WGS 84", "World Geodetic System 1984")
    )
    return named or tm3_like


def _to_wgs84(
    gdf: gpd.GeoDataFrame, crs: pyproj.CRS | None, filename: str, notes: list[Problem]
) -> gpd.GeoDataFrame:
    if crs is None:
        x, y = _rep_xy(gdf)
        finite = np.isfinite(x) & np.isfinite(y)
        if finite.any() and (np.abs(x[finite]) <= 180).all() and (np.abs(y[finite]) <= 90).all():
            notes.append(
                Problem(
                    "warning",
                    filename,
                    "",
                    "no CRS declared; coordinates read as lon/lat WGS 84",
                    "include the .prj file",
                )
            )
            return gdf.set_crs(WGS84, allow_override=True)
        raise ImportRejectedError(
            f"{filename}: no CRS declared (.prj missing) and coordinates are not degrees (projected metres?) "
            "-> include the .prj file, e.g. VN-2000 / TM-3 or EPSG:32648"
        )
    crs = pyproj.CRS(crs)
    if _vn2000_without_shift(crs):
        notes.append(
            Problem(
                "warning",
                filename,
                "CRS",
                f"the CRS '{crs.name}' looks like VN-2000 but has no datum-shift (TOWGS84) parameters; "
                "positions "
                "may be off by a few hundred metres",
                "use the EPSG code in the .prj (e.g. EPSG:9209 VN-2000 / TM-3 105-30, "
                "EPSG:3405 VN-2000 / UTM 48N) "
                "or a definition with +towgs84",
            )
        )
    if not crs.equals(WGS84):
        try:
            gdf = gdf.set_crs(crs, allow_override=True).to_crs(WGS84)
        except (pyproj.exceptions.ProjError, pyproj.exceptions.CRSError, ValueError) as exc:
            raise ImportRejectedError(
                f"{filename}: cannot reproject from {crs.name} to EPSG:4326: {exc}"
            ) from exc
    else:
        gdf = gdf.set_crs(WGS84, allow_override=True)
    return gdf


def _refuse_missing_geometry(gdf: gpd.GeoDataFrame, filename: str) -> None:
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    bad = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if bad.size:
        raise ImportRejectedError(
            f"{filename}: {bad.size} feature(s) have no (or an empty / unparsable) geometry "
            f"(feature {_few(bad.tolist())}) -> remove them or fix their geometry"
        )


def _rep_xy(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    bounds = shapely.bounds(np.asarray(gdf.geometry.values, dtype=object))
    return (bounds[:, 0] + bounds[:, 2]) / 2.0, (bounds[:, 1] + bounds[:, 3]) / 2.0


# ---------------------------------------------------------------- writing


def imported_layer_meta(
    file: str, options: ImportOptions, *, source: str, licence: str, **extra: Any
) -> dict[str, Any]:
    """The ``dataset.toml`` entry of a layer imported from real data (not synthetic).

    ``options.source`` / ``options.licence`` given by the user win over the importer's defaults;
    ``extra`` adds importer-specific keys (e.g. ``crowd_sourced``, ``notes``).
    """
    return {
        "file": file,
        "synthetic": False,
        "source": options.source or source,
        "licence": options.licence or licence,
        "imported": dt.date.today().isoformat(),
        **extra,
    }


def frame_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (no BOM, "\\n" line ends) of a table, for the data package."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def gdf_to_geojson_bytes(gdf: gpd.GeoDataFrame, *, name: str) -> bytes:
    """GeoJSON FeatureCollection (EPSG:4326, coordinates rounded to 7 decimals ≈ 1 cm)."""
    out = gdf.to_crs(WGS84) if gdf.crs is not None and not pyproj.CRS(gdf.crs).equals(WGS84) else gdf
    geoms = shapely.transform(np.asarray(out.geometry.values, dtype=object), lambda xy: np.round(xy, 7))
    props = pd.DataFrame(out.drop(columns=out.geometry.name))
    features = []
    for i, geom in enumerate(geoms):
        row = {k: _json_value(v) for k, v in props.iloc[i].items()}
        features.append({"type": "Feature", "properties": row, "geometry": shapely.geometry.mapping(geom)})
    doc = {"type": "FeatureCollection", "name": name, "features": features}
    return (
        json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        .replace('},{"type":"Feature"', '},\n{"type":"Feature"')
        .encode()
    )


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (list, dict, str, bool)):
        return value
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def update_layer_table(toml_text: str, key: str, values: Mapping[str, Any]) -> str:
    """Return ``dataset.toml`` text with the ``[layers.<key>]`` table replaced by ``values``.

    Other tables, comments and formatting are kept. The result is parsed again to
    make sure it is valid TOML.
    """
    header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    lines = toml_text.splitlines()
    start = end = None
    for i, line in enumerate(lines):
        m = header_re.match(line)
        if not m:
            continue
        if start is not None:
            end = i
            break
        if m.group(1).replace(" ", "") in (f"layers.{key}", f'layers."{key}"'):
            start = i
    block = [f"[layers.{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    if start is None:
        out = lines + ([""] if lines and lines[-1].strip() else []) + block
    else:
        end = end if end is not None else len(lines)
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        out = lines[:start] + block + lines[end:]
    text = "\n".join(out) + "\n"
    tomllib.loads(text)
    return text


def read_dataset_toml(root: Path) -> tuple[str, dict[str, Any]]:
    """Text and parsed content of ``dataset.toml`` of the package at ``root``."""
    path = root / "dataset.toml"
    if not path.is_file():
        raise ImportRejectedError(f"{root}: no dataset.toml; is this a PhuSong data package?")
    text = path.read_text(encoding="utf-8-sig")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejectedError(f"{path}: not valid TOML: {exc}") from exc


def layer_file(root: Path, doc: Mapping[str, Any], key: str) -> str:
    """Package-relative path of a layer file: dataset.toml's ``file`` or the schema default."""
    from geo.schema import LAYER_SCHEMAS

    declared = doc.get("layers", {}).get(key, {}).get("file")
    if declared:
        return str(declared)
    for candidate in LAYER_SCHEMAS[key].default_files:
        if (root / candidate).is_file():
            return candidate
    return LAYER_SCHEMAS[key].default_files[0]
