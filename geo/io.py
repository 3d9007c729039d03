"""Reading data-package files: text decoding, CSV tables, vector layers and ``dataset.toml``.

Supported vector formats: GeoJSON, GeoPackage, Shapefile (plain or zipped, ``.cpg`` honoured)
and CSV with ``lat``/``lon`` columns or a WKT ``geometry`` column. Text is expected in UTF-8
(with or without BOM); a file that is not UTF-8 is read as Windows-1258 (``cp1258``, the usual
legacy Vietnamese code page) and a warning is returned with it.

Every reader raises :class:`geo.errors.UnreadableFileError` (or
:class:`geo.errors.DataNotFoundError`) with the file name and the reason; they never return
half-read data silently.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import re
import tomllib
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from geo.crs import WGS84
from geo.errors import CRSError, DataNotFoundError, Problem, UnreadableFileError

__all__ = [
    "DecodedText",
    "LayerRead",
    "VECTOR_SUFFIXES",
    "decode_text",
    "encode_cp1258",
    "lonlat_columns",
    "read_layer",
    "read_table",
    "read_toml",
    "read_vector",
    "wkt_column",
]

logger = logging.getLogger(__name__)

#: File name endings :func:`read_layer` understands.
VECTOR_SUFFIXES: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".shp.zip", ".zip", ".shp", ".csv")

_OGR_ERRORS: tuple[type[BaseException], ...] = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.CRSError,
    zipfile.BadZipFile,
    UnicodeError,
    OSError,
)

_LAT_NAMES = ("lat", "latitude", "vi_do", "vido", "y")
_LON_NAMES = ("lon", "long", "lng", "longitude", "kinh_do", "kinhdo", "x")
_WKT_NAMES = ("geometry", "wkt", "geom", "the_geom")


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from bytes.

    Parameters
    ----------
    text
        The text, NFC-normalised.
    encoding
        ``"utf-8"``, ``"utf-8-sig"`` (UTF-8 with BOM), ``"utf-16"`` or ``"cp1258"``.
    """

    text: str
    encoding: str

    @property
    def is_legacy(self) -> bool:
        """True when the text was not Unicode and was read as Windows-1258."""
        return self.encoding == "cp1258"


@dataclass(frozen=True)
class LayerRead:
    """One layer as read from disk, before validation.

    Parameters
    ----------
    frame
        A GeoDataFrame in the file's own CRS (``crs`` may be None) for vector files, or a
        DataFrame of text cells for tables.
    crs
        CRS declared by the file (WGS 84 for CSV and GeoJSON by their specifications);
        None when the file declares none (a Shapefile without ``.prj``, an undefined SRS).
    encoding
        Encoding of the attribute text, e.g. ``"utf-8"`` or ``"cp1258"``.
    decimal_comma
        True for ``;``- or tab-separated CSV, where ``9,93`` is a decimal number.
    warnings
        Problems found while reading that do not stop the read (legacy encoding, ...).
    """

    frame: pd.DataFrame
    crs: pyproj.CRS | None
    encoding: str
    decimal_comma: bool = False
    warnings: tuple[Problem, ...] = ()


def _legacy_warning(display: str) -> Problem:
    return Problem(
        "warning",
        display,
        "",
        "text is not UTF-8; read it as Windows-1258 (cp1258)",
        "check that Vietnamese names look right, then save the file as UTF-8",
    )


def decode_text(data: bytes, *, source: str = "") -> DecodedText:
    """Decode file bytes: UTF-8 (BOM or not) or UTF-16 with BOM first, else Windows-1258.

    Parameters
    ----------
    data
        Raw file content.
    source
        File name for error messages.

    Returns
    -------
    DecodedText
        NFC-normalised text and the encoding used (check ``is_legacy`` to warn the user).

    Raises
    ------
    UnreadableFileError
        When the bytes are binary (NUL bytes) or neither UTF-8 nor Windows-1258.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedText(unicodedata.normalize("NFC", data.decode("utf-16")), "utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(f"{source}: starts like UTF-16 text but is not: {exc.reason}") from exc
    if b"\x00" in data:
        raise UnreadableFileError(f"{source}: binary data (NUL bytes), not a text file")
    if data.startswith(codecs.BOM_UTF8):
        body, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    else:
        body, encoding = data, "utf-8"
    try:
        return DecodedText(unicodedata.normalize("NFC", body.decode("utf-8")), encoding)
    except UnicodeDecodeError as utf8_exc:
        try:
            text = body.decode("cp1258")
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(
                f"{source}: text is neither UTF-8 (bad byte at offset {utf8_exc.start}) "
                f"nor Windows-1258 (bad byte at offset {exc.start})"
            ) from exc
        return DecodedText(unicodedata.normalize("NFC", text), "cp1258")


def encode_cp1258(text: str) -> bytes:
    """Encode ``text`` as Windows-1258, decomposing tone marks the code page lacks precomposed.

    Windows-1258 has precomposed base letters (â, ă, ê, ô, ơ, ư, đ) but writes tone marks as
    combining characters, so "Đức" becomes ``Đ`` + ``ư`` + combining acute + ``c``.

    Raises
    ------
    UnicodeEncodeError
        For characters outside Vietnamese/Latin-1 that Windows-1258 cannot represent.
    """
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        out += _encode_cp1258_char(ch)
    return bytes(out)


def _encode_cp1258_char(ch: str) -> bytes:
    """Encode one character as a precomposed base letter plus combining tone marks."""
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    # compose the base with the subset of marks the code page has precomposed (Ặ = Ă + dot below)
    for size in range(len(marks), -1, -1):
        for chosen in itertools.combinations(range(len(marks)), size):
            head = unicodedata.normalize("NFC", base + "".join(marks[i] for i in chosen))
            rest = "".join(m for i, m in enumerate(marks) if i not in chosen)
            try:
                return head.encode("cp1258") + rest.encode("cp1258")
            except UnicodeEncodeError:
                continue
    raise UnicodeEncodeError("cp1258", ch, 0, 1, "not representable in Windows-1258")


def _read_bytes(path: Path, display: str) -> bytes:
    if not path.exists():
        raise DataNotFoundError(f"{display}: file not found")
    if path.is_dir():
        raise UnreadableFileError(f"{display}: is a folder, not a file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"{display}: cannot read: {exc.strerror or exc}") from exc


def read_toml(path: Path, *, display: str | None = None) -> tuple[dict[str, Any], tuple[Problem, ...]]:
    """Read a TOML file such as ``dataset.toml``.

    Returns
    -------
    (dict, tuple of Problem)
        The parsed document and reading warnings (legacy encoding).

    Raises
    ------
    DataNotFoundError, UnreadableFileError
        Missing file; bad encoding or TOML syntax (with line and column).
    """
    display = display or path.name
    decoded = decode_text(_read_bytes(path, display), source=display)
    try:
        doc = tomllib.loads(decoded.text)
    except tomllib.TOMLDecodeError as exc:
        raise UnreadableFileError(f"{display}: not valid TOML: {exc}") from exc
    warnings = (_legacy_warning(display),) if decoded.is_legacy else ()
    return doc, warnings


def _sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _clean_header(names: list[Any]) -> list[str]:
    return [str(n).strip().lstrip("\ufeff").strip().lower() for n in names]


def read_table(path: Path, *, display: str | None = None) -> LayerRead:
    """Read a CSV file as a table of text cells (no type conversion).

    Parameters
    ----------
    path
        CSV file, comma-, semicolon- or tab-separated (detected from the header line).
    display
        Name used in messages (path relative to the data package).

    Returns
    -------
    LayerRead
        ``frame`` holds stripped strings ("" for empty cells); header names are stripped and
        lower-cased. ``crs`` is None (a table has no geometry).

    Raises
    ------
    DataNotFoundError, UnreadableFileError
    """
    display = display or path.name
    decoded = decode_text(_read_bytes(path, display), source=display)
    if not decoded.text.strip():
        raise UnreadableFileError(f"{display}: file is empty (no header row)")
    delimiter = _sniff_delimiter(decoded.text)
    try:
        frame = pd.read_csv(
            io.StringIO(decoded.text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise UnreadableFileError(f"{display}: not a readable CSV table: {str(exc).strip()}") from exc
    frame.columns = _clean_header(list(frame.columns))
    frame = frame.apply(lambda s: s.str.strip())
    warnings = (_legacy_warning(display),) if decoded.is_legacy else ()
    return LayerRead(frame, None, decoded.encoding, decimal_comma=delimiter != ",", warnings=warnings)


def lonlat_columns(columns: list[str] | pd.Index) -> tuple[str, str] | None:
    """Return the ``(lon, lat)`` column names of a table, or None.

    Accepts ``lon``/``lat`` and common variants (``longitude``, ``lng``, ``kinh_do``/``vi_do``,
    ``x``/``y``) in lower case.
    """
    names = list(columns)
    lon = next((n for n in _LON_NAMES if n in names), None)
    lat = next((n for n in _LAT_NAMES if n in names), None)
    return (lon, lat) if lon and lat else None


def wkt_column(columns: list[str] | pd.Index) -> str | None:
    """Return the name of a WKT geometry column (``geometry``, ``wkt``, ...) or None."""
    return next((n for n in _WKT_NAMES if n in list(columns)), None)


def _numbers(series: pd.Series, *, decimal_comma: bool) -> pd.Series:
    text = series.astype(str).str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text.where(text != "", None), errors="coerce")


def _vector_from_table(table: LayerRead, display: str) -> LayerRead:
    frame = table.frame
    lonlat = lonlat_columns(frame.columns)
    if lonlat is not None:
        lon = _numbers(frame[lonlat[0]], decimal_comma=table.decimal_comma).to_numpy(dtype=float)
        lat = _numbers(frame[lonlat[1]], decimal_comma=table.decimal_comma).to_numpy(dtype=float)
        geoms = shapely.points(lon, lat)
        geoms[np.isnan(lon) | np.isnan(lat)] = None
        attrs = frame.drop(columns=list(lonlat))
    else:
        col = wkt_column(frame.columns)
        if col is None:
            raise UnreadableFileError(
                f"{display}: CSV has neither lat/lon columns nor a WKT 'geometry' column"
            )
        text = frame[col].where(frame[col] != "", None).to_numpy(dtype=object)
        geoms = shapely.from_wkt(text, on_invalid="ignore")
        attrs = frame.drop(columns=[col])
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=WGS84)
    return LayerRead(gdf, WGS84, table.encoding, table.decimal_comma, table.warnings)


def _codec_from_cpg(text: str) -> str | None:
    """Map the content of a ``.cpg`` file ("UTF-8", "1258", "ANSI 1252") to a Python codec."""
    raw = text.strip().upper().replace("ANSI", "").strip()
    if re.fullmatch(r"\d{3,5}", raw):
        raw = "utf-8" if raw == "65001" else f"cp{raw}"
    raw = {"88591": "latin-1", "ISO88591": "latin-1"}.get(raw.replace("-", ""), raw)
    try:
        return codecs.lookup(raw).name
    except LookupError:
        return None


def _decode_latin1_cells(values: Any, codec: str) -> Any:
    if isinstance(values, str):
        raw = values.encode("latin-1")
        return unicodedata.normalize("NFC", raw.decode(codec))
    return values


def _shapefile_text_codec(frame: pd.DataFrame, cpg: str | None, display: str) -> tuple[str, list[Problem]]:
    """Choose the codec of DBF text read byte-for-byte as Latin-1; warn on guesses."""
    notes: list[Problem] = []
    if cpg is not None:
        codec = _codec_from_cpg(cpg)
        if codec is not None:
            return codec, notes
        notes.append(
            Problem(
                "warning",
                display,
                ".cpg",
                f"unknown code page {cpg.strip()!r} in .cpg",
                "write UTF-8 in the .cpg file (and save the DBF as UTF-8)",
            )
        )
    blob = "\n".join(
        [str(c) for c in frame.columns]
        + [
            v
            for col in frame.columns
            if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])
            for v in frame[col].dropna().astype(str)
        ]
    ).encode("latin-1", errors="replace")
    try:
        blob.decode("utf-8")
        return "utf-8", notes
    except UnicodeDecodeError:
        notes.append(_legacy_warning(display))
        return "cp1258", notes


def _read_shapefile(source: str, *, cpg: str | None, display: str) -> LayerRead:
    # GDAL's own CP1258 recoding drops characters, so text is read byte-for-byte as Latin-1
    # and decoded here with the code page the .cpg names (or detected: UTF-8, else cp1258).
    gdf = pyogrio.read_dataframe(source, encoding="latin1", on_invalid="ignore")
    codec, notes = _shapefile_text_codec(gdf, cpg, display)
    geom_name = gdf.geometry.name
    renamed = {c: _decode_latin1_cells(c, codec) for c in gdf.columns if c != geom_name}
    gdf = gdf.rename(columns=renamed)
    for col in renamed.values():
        if gdf[col].dtype == object or pd.api.types.is_string_dtype(gdf[col]):
            gdf[col] = gdf[col].map(lambda v: _decode_latin1_cells(v, codec)).astype(object)
    return LayerRead(gdf, _crs_or_none(gdf), codec, warnings=tuple(notes))


def _crs_or_none(gdf: gpd.GeoDataFrame) -> pyproj.CRS | None:
    return None if gdf.crs is None else pyproj.CRS(gdf.crs)


def _read_zipped_shapefile(path: Path, display: str) -> LayerRead:
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.startswith("__MACOSX")]
        shps = [n for n in names if n.lower().endswith(".shp")]
        if not shps:
            raise UnreadableFileError(f"{display}: the zip archive contains no .shp file")
        shp = sorted(shps)[0]
        stem = shp[:-4]
        cpg_name = next((n for n in names if n.lower() == f"{stem.lower()}.cpg"), None)
        cpg = zf.read(cpg_name).decode("ascii", errors="replace") if cpg_name else None
    read = _read_shapefile(f"/vsizip/{path.resolve()}/{shp}", cpg=cpg, display=display)
    if len(shps) > 1:
        note = Problem(
            "warning",
            display,
            "",
            f"zip holds {len(shps)} shapefiles; read only {shp}",
            "put one layer per zip archive",
        )
        return LayerRead(read.frame, read.crs, read.encoding, warnings=(*read.warnings, note))
    return read


def _read_ogr_text(path: Path, display: str, *, layer: str | None) -> LayerRead:
    """GeoJSON: decode the text ourselves (UTF-8, else cp1258) and hand UTF-8 bytes to GDAL."""
    decoded = decode_text(_read_bytes(path, display), source=display)
    data = decoded.text.encode("utf-8")
    gdf = pyogrio.read_dataframe(io.BytesIO(data), on_invalid="ignore")
    warnings = (_legacy_warning(display),) if decoded.is_legacy else ()
    return LayerRead(gdf, _crs_or_none(gdf), decoded.encoding, warnings=warnings)


def _read_gpkg(path: Path, display: str, *, layer: str | None) -> LayerRead:
    layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    if not layers:
        raise UnreadableFileError(f"{display}: the GeoPackage holds no layer")
    chosen = layer if layer in layers else layers[0]
    gdf = pyogrio.read_dataframe(path, layer=chosen, on_invalid="ignore")
    notes: tuple[Problem, ...] = ()
    if len(layers) > 1:
        notes = (
            Problem(
                "warning",
                display,
                "",
                f"GeoPackage holds {len(layers)} layers; read {chosen!r}",
                f"name the layer {layer!r} or keep one layer per file",
            ),
        )
    return LayerRead(gdf, _crs_or_none(gdf), "utf-8", warnings=notes)


def read_layer(path: Path, *, display: str | None = None, layer: str | None = None) -> LayerRead:
    """Read a vector layer in its own CRS, without validating it.

    Parameters
    ----------
    path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.shp.zip``/``.zip`` or ``.csv``
        (``lat``/``lon`` columns, or a WKT ``geometry`` column; WGS 84 by contract).
    display
        Name used in messages (path relative to the data package).
    layer
        Preferred layer name inside a GeoPackage (default: the first layer).

    Returns
    -------
    LayerRead
        The frame in the file's CRS (``crs`` None when the file declares none). Unparsable
        geometries and CSV rows without coordinates have a missing (None) geometry.

    Raises
    ------
    DataNotFoundError, UnreadableFileError
    """
    display = display or path.name
    if not path.exists():
        raise DataNotFoundError(f"{display}: file not found")
    # GDAL reports recoverable trouble (a feature it could not parse) as Python warnings;
    # they become Problems here instead of leaking to the console.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read = _read_any(path, display, layer=layer)
    gdal_notes = tuple(
        Problem(
            "warning",
            display,
            "",
            f"GDAL: {str(w.message).strip()}",
            "the file may be partly malformed; check the features reported missing or empty",
        )
        for w in caught
        if issubclass(w.category, RuntimeWarning)
    )
    for w in caught:
        if not issubclass(w.category, RuntimeWarning):
            logger.debug("while reading %s: %s", display, w.message)
    if not gdal_notes:
        return read
    return LayerRead(read.frame, read.crs, read.encoding, read.decimal_comma, (*read.warnings, *gdal_notes))


def _read_any(path: Path, display: str, *, layer: str | None) -> LayerRead:
    name = path.name.lower()
    try:
        if name.endswith(".csv"):
            return _vector_from_table(read_table(path, display=display), display)
        if name.endswith(".zip"):
            return _read_zipped_shapefile(path, display)
        if name.endswith(".shp"):
            cpg_path = path.with_suffix(".cpg")
            cpg = cpg_path.read_text(encoding="ascii", errors="replace") if cpg_path.exists() else None
            return _read_shapefile(str(path), cpg=cpg, display=display)
        if name.endswith(".gpkg"):
            return _read_gpkg(path, display, layer=layer)
        if name.endswith((".geojson", ".json")):
            return _read_ogr_text(path, display, layer=layer)
    except _OGR_ERRORS as exc:
        raise UnreadableFileError(f"{display}: cannot read: {_ogr_reason(exc)}") from exc
    raise UnreadableFileError(f"{display}: unsupported file type; use one of {', '.join(VECTOR_SUFFIXES)}")


def _ogr_reason(exc: BaseException) -> str:
    text = str(exc).split("; It might help", 1)[0].strip()
    text = re.sub(r"'?/vsizip/[^']*'?|'?/vsimem/[^']*'?", "the file", text)
    return text or type(exc).__name__


def read_vector(path: Path | str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer and return it in EPSG:4326 (lon/lat degrees).

    Reading warnings (legacy encoding, extra layers) are logged. Use :func:`read_layer` to
    receive them as :class:`geo.errors.Problem` instead.

    Raises
    ------
    DataNotFoundError, UnreadableFileError
        Missing or unreadable file.
    CRSError
        The file declares no CRS (e.g. a Shapefile without ``.prj``).
    """
    path = Path(path)
    read = read_layer(path, display=path.name, layer=layer)
    for note in read.warnings:
        logger.warning("%s", note)
    if read.crs is None:
        raise CRSError(f"{path.name}: no CRS declared; add a .prj / SRS, e.g. EPSG:4326 for lon/lat")
    gdf = read.frame
    if not read.crs.equals(WGS84):
        gdf = gdf.to_crs(WGS84)
    return gdf
