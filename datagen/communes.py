"""The real layer: Trà Vinh commune polygons (2009 layout) with 2009 census population.

Source: censusVN2009 (Marc Choisy & Lucie Contamin, MIT), converted in
``shared/data/admin_communes_2009``. Optional enrichment with the 1 July 2025 commune codes from
dvhcvn/20250701 (MIT). District outlines are never taken from the GPL-3.0 dvhcvn files; when needed
they are dissolved from these communes (:func:`districts_from_communes`).
"""

from __future__ import annotations

import csv
import logging
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataNotFoundError, SchemaError

log = logging.getLogger(__name__)

PROVINCE_NAME = "Trà Vinh"
PROVINCE_CODE = "84"

COMMUNE_COLUMNS: tuple[str, ...] = (
    "commune_id",
    "commune_code",
    "commune_name",
    "district_name",
    "province_name",
    "commune_type",
    "population",
    "households",
    "households_derived",
    "commune_code_2025",
    "commune_name_2025",
)

_TYPE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("Thị trấn ", "thị trấn"),
    ("Phường ", "phường"),
    ("Xã ", "xã"),
)

_SOURCE_COLUMNS = ("commune_id", "commune_vn", "district_vn", "pop_2009", "gso_ma_xa", "geometry")


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC with surrounding white space removed."""
    return unicodedata.normalize("NFC", str(text)).strip()


def commune_type_from_name(name: str) -> str:
    """Return ``"xã"``, ``"phường"`` or ``"thị trấn"`` from a commune name's prefix.

    Raises
    ------
    SchemaError
        When the name starts with none of "Xã ", "Phường ", "Thị trấn ".
    """
    text = nfc(name)
    for prefix, kind in _TYPE_PREFIXES:
        if text.startswith(prefix):
            return kind
    raise SchemaError(f"commune name {name!r} has no 'Xã', 'Phường' or 'Thị trấn' prefix")


def households_from_population(population: np.ndarray, *, persons_per_household: float) -> np.ndarray:
    """Return derived household counts: ``round(population / persons_per_household)``, at least 1.

    Parameters
    ----------
    population
        Persons per commune.
    persons_per_household
        Average household size (persons).
    """
    households = np.rint(np.asarray(population, dtype=float) / persons_per_household).astype(np.int64)
    return np.maximum(households, 1)


def read_code_mapping_2025(path: Path) -> dict[str, tuple[str, str]]:
    """Read the dvhcvn/20250701 old→new mapping: ``old_ma_xa -> (new_ma_xa, new_ten_xa)``.

    Old communes that were split between several new units (``n_targets > 1``) are left out,
    because one code cannot represent them.
    """
    if not path.is_file():
        raise DataNotFoundError(f"2025 code mapping not found: {path}")
    out: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["n_targets"] != "1":
                continue
            out[row["old_ma_xa"]] = (row["new_ma_xa"], nfc(row["new_ten_xa"]))
    return out


def communes_from_census(
    source: Path,
    *,
    persons_per_household: float,
    code_mapping_2025: Path | None = None,
) -> gpd.GeoDataFrame:
    """Build the bundled communes layer from a censusVN2009 province GeoJSON.

    Parameters
    ----------
    source
        ``communes_2009_<province>.geojson`` (EPSG:4326) with fields ``commune_id``, ``commune_vn``,
        ``district_vn``, ``pop_2009``, ``gso_ma_xa``.
    persons_per_household
        Average household size used to derive ``households``.
    code_mapping_2025
        Optional ``ward_mapping_old_to_new_2025-07-01.csv`` to add ``commune_code_2025`` and
        ``commune_name_2025`` where ``commune_code`` matches.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per commune in :data:`COMMUNE_COLUMNS` order, EPSG:4326, sorted by ``commune_id``.
    """
    if not source.is_file():
        raise DataNotFoundError(f"commune source not found: {source}")
    raw = gpd.read_file(source)
    missing = [c for c in _SOURCE_COLUMNS if c not in raw.columns]
    if missing:
        raise SchemaError(f"{source}: missing columns {missing}")
    raw = raw.to_crs(4326) if raw.crs is not None and raw.crs.to_epsg() != 4326 else raw
    names = raw["commune_vn"].map(nfc)
    codes = raw["gso_ma_xa"].map(lambda v: "" if v is None or pd.isna(v) else str(v).strip().zfill(5))
    population = raw["pop_2009"].astype(np.int64).to_numpy()
    mapping = read_code_mapping_2025(code_mapping_2025) if code_mapping_2025 is not None else {}
    new = [mapping.get(code, ("", "")) if code else ("", "") for code in codes]
    out = gpd.GeoDataFrame(
        {
            "commune_id": raw["commune_id"].astype(np.int64).astype(str),
            "commune_code": codes,
            "commune_name": names,
            "district_name": raw["district_vn"].map(nfc),
            "province_name": PROVINCE_NAME,
            "commune_type": names.map(commune_type_from_name),
            "population": population,
            "households": households_from_population(population, persons_per_household=persons_per_household),
            "households_derived": True,
            "commune_code_2025": [n[0] for n in new],
            "commune_name_2025": [n[1] for n in new],
        },
        geometry=raw.geometry.values,
        crs="EPSG:4326",
    )
    out = out.sort_values("commune_id", kind="stable").reset_index(drop=True)
    log.info(
        "read %d communes (%d with a GSO code, %d with a 2025 code)",
        len(out),
        int((out["commune_code"] != "").sum()),
        int((out["commune_code_2025"] != "").sum()),
    )
    return out


def districts_from_communes(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve district outlines from commune polygons (EPSG:4326 in, EPSG:4326 out).

    Returns one row per ``district_name`` with summed ``population`` and ``households``.
    """
    grouped = communes.dissolve(
        by="district_name", aggfunc={"population": "sum", "households": "sum"}, sort=True
    )
    return grouped.reset_index()
