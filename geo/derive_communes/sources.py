"""The shipped inputs: 2009 commune polygons of the three former provinces, and the manual matches."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.derive_communes.common import (
    _MANUAL_COLUMNS,
    _SOURCE_COLUMNS,
    MANUAL_MATCHES_FILE,
    REFERENCE_DIR,
    SOURCE_FILES,
)
from geo.errors import DataNotFoundError, InvalidGeometryError, SchemaError
from geo.io import read_vector


def _nfc(value: Any) -> str:
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def load_communes_2009(source_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Read the 2009 commune polygons of Bến Tre, Trà Vinh and Vĩnh Long (one row per piece).

    Parameters
    ----------
    source_dir : Path, optional
        Folder holding the three ``communes_2009_*.geojson`` files (default: the shipped copy).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; ``piece_id`` ("83:8110101": province code and the source's commune id),
        ``province_code`` (pre-reform GSO code), ``province_vn``, ``district_vn``, ``commune_vn``,
        ``pop_2009`` (int), ``gso_ma_xa`` (5-digit code or "") and ``geometry``.

    Raises
    ------
    DataNotFoundError, UnreadableFileError, CRSError, SchemaError
        A file is missing, unreadable, without CRS, or lacks a column.
    """
    folder = REFERENCE_DIR if source_dir is None else Path(source_dir)
    frames = []
    for province, name in SOURCE_FILES.items():
        path = folder / name
        if not path.is_file():
            raise DataNotFoundError(f"{path}: 2009 commune polygons missing")
        gdf = read_vector(path)
        missing = [c for c in _SOURCE_COLUMNS if c not in gdf.columns]
        if missing:
            raise SchemaError(f"{name}: missing column(s) {', '.join(missing)}")
        frame = pd.DataFrame({c: gdf[c].map(_nfc) for c in _SOURCE_COLUMNS if c != "pop_2009"})
        frame["pop_2009"] = pd.to_numeric(gdf["pop_2009"], errors="coerce")
        if frame["pop_2009"].isna().any():
            raise SchemaError(f"{name}: pop_2009 holds missing or non-numeric values")
        frame["pop_2009"] = frame["pop_2009"].astype("int64")
        wrong = frame["gso_ma_tinh"] != province
        if wrong.any():
            raise SchemaError(f"{name}: gso_ma_tinh must be {province!r} on every row")
        frame = frame.rename(columns={"gso_ma_tinh": "province_code"})
        frame.insert(0, "piece_id", province + ":" + frame["commune_id"])
        frames.append(gpd.GeoDataFrame(frame, geometry=gdf.geometry.values, crs=gdf.crs))
    communes = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    if communes["piece_id"].duplicated().any():
        raise SchemaError("2009 polygons: duplicate commune_id within a province")
    if (~communes.geometry.is_valid | communes.geometry.is_empty).any():
        raise InvalidGeometryError("2009 polygons: invalid or empty geometry")
    return communes.drop(columns="commune_id")


def load_manual_matches(path: Path | None = None) -> pd.DataFrame:
    """Read ``manual_matches.csv``: 2009 pieces matched by hand to pre-reform codes.

    Parameters
    ----------
    path : Path, optional
        CSV with columns ``province_code``, ``district_2009``, ``commune_2009``,
        ``old_commune_code``, ``old_commune_name`` and ``reason`` (default: the shipped file).

    Returns
    -------
    pandas.DataFrame
        Text columns, NFC, codes zero-padded.

    Raises
    ------
    DataNotFoundError, SchemaError
        Missing file, missing column, malformed code or a row without a reason.
    """
    path = REFERENCE_DIR / MANUAL_MATCHES_FILE if path is None else Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: manual matches file missing")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SchemaError(f"{path.name}: not a UTF-8 CSV ({exc})") from None
    missing = [c for c in _MANUAL_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(f"{path.name}: missing column(s) {', '.join(missing)}")
    frame = frame[list(_MANUAL_COLUMNS)].map(_nfc)
    frame["province_code"] = frame["province_code"].str.zfill(2)
    bad = ~frame["old_commune_code"].str.fullmatch(r"\d{5}") | ~frame["province_code"].str.fullmatch(r"\d{2}")
    if bad.any():
        raise SchemaError(f"{path.name}: row {int(np.flatnonzero(bad)[0]) + 2}: codes must be 2 and 5 digits")
    empty = frame["reason"] == ""
    if empty.any():
        raise SchemaError(f"{path.name}: row {int(np.flatnonzero(empty)[0]) + 2}: every match needs a reason")
    return frame
