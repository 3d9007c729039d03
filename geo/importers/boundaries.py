"""Commune and hamlet boundaries (GeoJSON, GeoPackage, zipped Shapefile, any CRS).

The upload is read by :func:`geo.importers._common.read_upload_vector`: reprojected to
EPSG:4326 from any CRS including VN-2000 ones (EPSG:3405 UTM 48N, EPSG:9205–9218 TM-3 zones,
or a ``+proj=tmerc ... +towgs84=...`` definition in the ``.prj``), ``.cpg`` honoured, names in
the legacy VNI / TCVN3 encodings detected and refused with a conversion hint.

Attribute columns are mapped from common names (below). Attributes the new file lacks
(population, households, district, GSO code...) are carried over from the package's current
layer, matched by id or else by name (:func:`geo.importers.survey.match_key`); a hamlet
without a commune id is placed in the commune polygon that contains it.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import ImportRejectedError, Problem
from geo.importers._common import (
    Converted,
    ImportOptions,
    gdf_to_geojson_bytes,
    imported_layer_meta,
    map_headers,
)
from geo.importers.survey import match_key
from geo.schema import CommuneType, parse_category

__all__ = [
    "COMMUNE_ALIASES",
    "HAMLET_ALIASES",
    "commune_type_from_name",
    "convert_communes",
    "convert_hamlets",
]

COMMUNE_ALIASES: dict[str, tuple[str, ...]] = {
    "commune_id": ("ma_xa", "maxa", "mã xã", "ma_dvhc", "commune id", "id_xa"),
    "commune_code": ("ma_gso", "gso_code", "code", "mã gso"),
    "commune_name": ("ten_xa", "tenxa", "tên xã", "name", "ten", "name_3", "xa", "xã", "commune"),
    "district_name": ("huyen", "ten_huyen", "tên huyện", "name_2", "district", "huyện"),
    "province_name": ("tinh", "ten_tinh", "tên tỉnh", "name_1", "province", "tỉnh"),
    "commune_type": ("loai", "loại", "type", "engtype_3", "type_3", "cap"),
    "population": ("dan_so", "danso", "dân số", "pop", "population_2019"),
    "households": ("so_ho", "soho", "số hộ", "hh"),
}
HAMLET_ALIASES: dict[str, tuple[str, ...]] = {
    "hamlet_id": ("ma_ap", "mã ấp", "id", "hamlet id", "ma_thon"),
    "hamlet_name": ("ten_ap", "tên ấp", "name", "ten", "ap", "ấp", "thon", "thôn", "hamlet"),
    "commune_id": ("ma_xa", "mã xã", "commune id"),
    "commune_name": ("ten_xa", "tên xã", "xa", "xã", "commune"),
    "households": ("so_ho", "số hộ", "hh"),
    "population": ("dan_so", "dân số", "pop"),
    "khmer_share": ("ty_le_khmer", "tỷ lệ khmer", "khmer"),
    "poor_household_share": ("ty_le_ho_ngheo", "tỷ lệ hộ nghèo", "poor_share"),
}
_COMMUNE_OUT = (
    "commune_id",
    "commune_code",
    "commune_name",
    "district_name",
    "province_name",
    "commune_type",
    "population",
    "households",
)
_HAMLET_OUT = (
    "hamlet_id",
    "hamlet_name",
    "commune_id",
    "households",
    "population",
    "khmer_share",
    "poor_household_share",
)


def commune_type_from_name(name: str) -> str:
    """Commune type from a name prefix.

    "Xã Long Đức" -> "xã", "Phường 1" / "P.1" -> "phường", "Thị trấn Càng Long" / "TT ..." -> "thị trấn".
    """
    from geo.names import fold_diacritics

    folded = fold_diacritics(str(name)).strip()
    for prefix, kind in (
        ("thi tran", CommuneType.THI_TRAN),
        ("tt", CommuneType.THI_TRAN),
        ("phuong", CommuneType.PHUONG),
        ("p.", CommuneType.PHUONG),
        ("xa", CommuneType.XA),
    ):
        if folded.startswith(prefix) and (len(folded) == len(prefix) or not folded[len(prefix)].isalpha()):
            return kind.value
    return ""


def _mapped(gdf: gpd.GeoDataFrame, aliases: dict[str, tuple[str, ...]], filename: str) -> pd.DataFrame:
    cols = map_headers([c for c in gdf.columns if c != gdf.geometry.name], aliases, filename)
    out = pd.DataFrame(index=gdf.index)
    for canon in aliases:
        if canon in cols:
            out[canon] = gdf[cols[canon]].map(
                lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
            )
    return out


def _carry(
    new: pd.DataFrame,
    old: pd.DataFrame | None,
    key: str,
    fields: tuple[str, ...],
    name_col: str,
    report: list[str],
) -> pd.DataFrame:
    """Fill empty/missing ``fields`` of ``new`` from ``old`` matched by ``key`` or else by name."""
    if old is None or old.empty:
        return new
    old = old.astype({c: str for c in old.columns if c in fields or c in (key, name_col)})
    by_id = {str(r[key]): r for _, r in old.iterrows()} if key in old.columns else {}
    by_name: dict[str, list[Any]] = {}
    for _, r in old.iterrows():
        by_name.setdefault(match_key(r.get(name_col, "")), []).append(r)
    filled = 0
    new = new.copy()
    for f in fields:
        if f not in new.columns:
            new[f] = ""
    for idx, row in new.iterrows():
        ref = by_id.get(row.get(key, "")) if row.get(key, "") else None
        if ref is None:
            cands = by_name.get(match_key(row.get(name_col, "")), [])
            ref = cands[0] if len(cands) == 1 else None
        if ref is None:
            continue
        for f in fields:
            if new.at[idx, f] == "" and f in ref.index and str(ref[f]) not in ("", "nan", "None"):
                new.at[idx, f] = str(ref[f])
                filled += 1
    if filled:
        report.append(f"{filled} missing attribute value(s) carried over from the current layer")
    return new


def _number_or_text(value: str) -> Any:
    try:
        num = float(value)
    except (TypeError, ValueError):
        return value
    return int(num) if num.is_integer() else num


def _finish(
    frame: pd.DataFrame,
    gdf: gpd.GeoDataFrame,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    filename: str,
    label: str,
) -> gpd.GeoDataFrame:
    problems = []
    for col in required:
        empty = frame[col] == "" if col in frame.columns else pd.Series(True, index=frame.index)
        if empty.any():
            feats = ", ".join(str(i) for i in np.flatnonzero(empty.to_numpy())[:5])
            problems.append(
                f"{filename}: {int(empty.sum())} {label}(s) have no {col} (feature {feats}) and no "
                "match in the current layer to take it from -> add the column"
            )
    if problems:
        raise ImportRejectedError("\n".join(problems))
    out = frame[[c for c in columns if c in frame.columns]].copy()
    for c in ("population", "households", "khmer_share", "poor_household_share"):
        if c in out.columns:
            out[c] = out[c].map(_number_or_text)
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.values, crs=4326)


def convert_communes(
    gdf: gpd.GeoDataFrame,
    filename: str,
    *,
    current: gpd.GeoDataFrame | None,
    province_name: str,
    options: ImportOptions,
) -> Converted:
    """Convert a commune boundary upload (EPSG:4326) to ``boundaries/communes.geojson``."""
    kinds = set(gdf.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise ImportRejectedError(
            f"{filename}: commune boundaries must be polygons, found {', '.join(sorted(kinds))}"
        )
    report = [f"read {len(gdf)} polygon(s) from {filename}"]
    frame = _mapped(gdf, COMMUNE_ALIASES, filename)
    if "commune_name" not in frame.columns:
        raise ImportRejectedError(
            f"{filename}: no commune name column (e.g. commune_name, ten_xa, NAME_3) in "
            f"{', '.join(c for c in gdf.columns if c != gdf.geometry.name)}"
        )
    cur = None if current is None else pd.DataFrame(current.drop(columns=current.geometry.name))
    frame = _carry(frame, cur, "commune_id", _COMMUNE_OUT, "commune_name", report)
    if (frame["province_name"] == "").any():
        frame.loc[frame["province_name"] == "", "province_name"] = province_name
    types = [parse_category(CommuneType, t) if t else None for t in frame["commune_type"]]
    frame["commune_type"] = [
        t.value if t else commune_type_from_name(n) for t, n in zip(types, frame["commune_name"], strict=True)
    ]
    out = _finish(
        frame,
        gdf,
        _COMMUNE_OUT,
        ("commune_id", "commune_name", "district_name", "commune_type", "population", "households"),
        filename,
        "commune",
    )
    meta = imported_layer_meta(
        "boundaries/communes.geojson",
        options,
        source=f"boundary import {filename}",
        licence="provided by the province",
    )
    return Converted(
        files={"boundaries/communes.geojson": gdf_to_geojson_bytes(out, name="communes")},
        meta={"communes": meta},
        report=report,
        importer="boundaries",
    )


def convert_hamlets(
    gdf: gpd.GeoDataFrame,
    filename: str,
    *,
    current: gpd.GeoDataFrame | None,
    communes: gpd.GeoDataFrame,
    options: ImportOptions,
) -> Converted:
    """Convert a hamlet upload (points or polygons, EPSG:4326) to ``boundaries/hamlets.geojson``."""
    kinds = set(gdf.geometry.geom_type)
    if not kinds <= {"Point", "Polygon", "MultiPolygon"}:
        raise ImportRejectedError(
            f"{filename}: hamlets must be points or polygons, found {', '.join(sorted(kinds))}"
        )
    report = [f"read {len(gdf)} hamlet(s) from {filename}"]
    problems: list[Problem] = []
    frame = _mapped(gdf, HAMLET_ALIASES, filename)
    if "hamlet_name" not in frame.columns:
        raise ImportRejectedError(f"{filename}: no hamlet name column (e.g. hamlet_name, ten_ap, name)")
    if "commune_id" not in frame.columns or (frame["commune_id"] == "").any():
        frame = _place_in_communes(frame, gdf, communes, report)
    cur = None if current is None else pd.DataFrame(current.drop(columns=current.geometry.name))
    frame = _carry(frame, cur, "hamlet_id", _HAMLET_OUT, "hamlet_name", report)
    missing_id = frame["hamlet_id"] == ""
    if missing_id.any():
        counters: dict[str, int] = {}
        for idx in frame.index[missing_id]:
            cid = frame.at[idx, "commune_id"]
            counters[cid] = counters.get(cid, 0) + 1
            frame.at[idx, "hamlet_id"] = f"{cid}-N{counters[cid]:02d}"
        report.append(f"{int(missing_id.sum())} hamlet id(s) generated as <commune_id>-Nnn")
    out = _finish(
        frame, gdf, _HAMLET_OUT, ("hamlet_name", "commune_id", "households", "population"), filename, "hamlet"
    )
    meta = imported_layer_meta(
        "boundaries/hamlets.geojson",
        options,
        source=f"hamlet import {filename}",
        licence="provided by the province",
    )
    return Converted(
        files={"boundaries/hamlets.geojson": gdf_to_geojson_bytes(out, name="hamlets")},
        meta={"hamlets": meta},
        problems=problems,
        report=report,
        importer="boundaries",
    )


def _place_in_communes(
    frame: pd.DataFrame, gdf: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, report: list[str]
) -> pd.DataFrame:
    frame = frame.copy()
    if "commune_id" not in frame.columns:
        frame["commune_id"] = ""
    pts = gpd.GeoDataFrame(geometry=gdf.geometry.representative_point().values, crs=4326, index=frame.index)
    joined = gpd.sjoin(pts, communes[["commune_id", communes.geometry.name]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    empty = frame["commune_id"] == ""
    frame.loc[empty, "commune_id"] = joined.loc[empty, "commune_id"].fillna("").astype(str)
    report.append(f"{int(empty.sum())} hamlet(s) placed in the commune polygon containing them")
    return frame
