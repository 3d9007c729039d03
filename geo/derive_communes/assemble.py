"""The new communes assembled: pieces dissolved, small gaps filled, overlaps measured, notes written."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.derive_communes.common import (
    FORMER_PROVINCES,
    GRID_DEG,
    MAX_GAP_FILL_M2,
    METRIC_CRS,
    NEW_PROVINCE_CODE,
    PARTS_COLUMNS,
    SEED_SPACING_M,
    SPLIT_RULE,
)
from geo.derive_communes.matching import _unit_type, match_pieces
from geo.derive_communes.report import Derivation, DerivationReport
from geo.derive_communes.splitting import allocate_pieces
from geo.errors import InvalidGeometryError, SchemaError


def _multipolygon(geom: BaseGeometry) -> MultiPolygon:
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(part.geoms)
    return MultiPolygon(polys)


def _snap(geom: BaseGeometry) -> MultiPolygon:
    """Valid MultiPolygon with coordinates on the :data:`GRID_DEG` grid (6 decimals)."""
    valid = shapely.make_valid(geom)
    try:
        snapped = shapely.set_precision(valid, GRID_DEG)
    except shapely.errors.GEOSException:  # GEOS cannot snap some near-degenerate rings: round, then repair
        snapped = shapely.make_valid(shapely.transform(valid, lambda xy: np.round(xy, 6)))
    out = _multipolygon(shapely.make_valid(snapped))
    if not out.is_valid:
        out = _multipolygon(shapely.make_valid(out))
    return out


def fill_small_gaps(
    geoms: Sequence[BaseGeometry], *, max_area_m2: float = MAX_GAP_FILL_M2
) -> tuple[list[BaseGeometry], float]:
    """Fill holes smaller than ``max_area_m2`` that no other geometry of ``geoms`` covers.

    Parameters
    ----------
    geoms : sequence of shapely geometry
        (Multi)Polygons in a metric CRS, e.g. the dissolved new communes.
    max_area_m2 : float, default 250,000
        Larger holes are kept (they may be real).

    Returns
    -------
    filled : list of shapely geometry
        The geometries, small uncovered holes filled.
    area_m2 : float
        Total area added.
    """
    arr = np.asarray(list(geoms), dtype=object)
    tree = shapely.STRtree(arr)
    out: list[BaseGeometry] = []
    added = 0.0
    for index, geom in enumerate(arr):
        polys = []
        for poly in shapely.get_parts(geom):
            keep = []
            for ring in poly.interiors:
                hole = Polygon(ring)
                if hole.area >= max_area_m2:
                    keep.append(ring)
                    continue
                others = [j for j in tree.query(hole, predicate="intersects") if j != index]
                if any(shapely.intersection(hole, arr[j]).area > 1.0 for j in others):
                    keep.append(ring)
                else:
                    added += hole.area
            polys.append(Polygon(poly.exterior, keep))
        out.append(shapely.union_all(polys) if polys else geom)
    return out, added


def overlap_area_m2(geoms: Iterable[BaseGeometry]) -> float:
    """Sum of the pairwise intersection areas of ``geoms`` (metric CRS), each pair counted once."""
    arr = np.asarray(list(geoms), dtype=object)
    if len(arr) < 2:
        return 0.0
    left, right = shapely.STRtree(arr).query(arr, predicate="intersects")
    keep = left < right
    return float(shapely.area(shapely.intersection(arr[left[keep]], arr[right[keep]])).sum())


def _strip_province_type(name: str) -> str:
    for prefix in ("Tỉnh ", "Thành phố "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _commune_type(name: str) -> str:
    return {"xa": "xã", "phuong": "phường", "dac khu": "đặc khu", "thi tran": "thị trấn"}.get(
        _unit_type(name), ""
    )


def _old_unit_parts(
    allocated: gpd.GeoDataFrame, matches: pd.DataFrame, mapping: pd.DataFrame
) -> pd.DataFrame:
    """Area of each (old code, new code) pair of the mapping.

    A piece matched to k codes that all feed one target counts 1/k for each (does not happen with
    the shipped manual matches; documented convention).
    """
    codes_of: dict[str, list[str]] = defaultdict(list)
    for pid, code in zip(matches["piece_id"], matches["old_commune_code"], strict=True):
        if code:
            codes_of[pid].append(code)
    targets_of = mapping.groupby("old_commune_code")["new_commune_code"].agg(set).to_dict()
    area: dict[tuple[str, str], float] = defaultdict(float)
    for pid, target, geom in zip(
        allocated["piece_id"], allocated["new_commune_code"], allocated.geometry, strict=True
    ):
        sharing = [c for c in codes_of.get(pid, []) if target in targets_of.get(c, set())]
        for code in sharing:
            area[(code, target)] += geom.area / len(sharing)
    rows = []
    for m in mapping.itertuples(index=False):
        total = sum(area.get((m.old_commune_code, t), 0.0) for t in targets_of[m.old_commune_code])
        a = area.get((m.old_commune_code, m.new_commune_code), 0.0)
        if total > 0:
            share = a / total
            area_km2: float = a / 1e6
        else:  # no polygon for this old unit: whole units keep share 1, splits an equal share
            share = 1.0 / m.n_targets
            area_km2 = float("nan")
        rows.append(
            {
                "old_commune_code": m.old_commune_code,
                "old_commune_name": m.old_commune_name,
                "new_commune_code": m.new_commune_code,
                "new_commune_name": m.new_commune_name,
                "area_km2": area_km2,
                "area_share": share,
                "rule": "whole" if m.n_targets == 1 else SPLIT_RULE,
            }
        )
    return pd.DataFrame(rows, columns=list(PARTS_COLUMNS))


def _notes(
    allocated: gpd.GeoDataFrame, pieces: pd.DataFrame, parts: pd.DataFrame, mapping: pd.DataFrame
) -> dict[str, str]:
    """``geometry_note`` per new commune that is a target of a split old unit or got part of an
    unattributed piece (one sentence per such old unit or piece, "; "-joined)."""
    notes: dict[str, list[str]] = defaultdict(list)
    province_of = dict(
        zip(mapping["old_commune_code"], mapping["old_province_name"].map(_strip_province_type), strict=False)
    )
    for code, group in parts[parts["rule"] == SPLIT_RULE].groupby("old_commune_code", sort=True):
        old = f"{code} {group['old_commune_name'].iloc[0]} ({province_of[code]})"
        targets = " and ".join(group["new_commune_name"])
        for target, km2, share in zip(
            group["new_commune_code"], group["area_km2"], group["area_share"], strict=True
        ):
            if km2 > 0:
                text = (
                    f"approximated: holds {km2:.2f} km2 ({share:.0%}) of old unit {old}, which was split "
                    f"between {targets}; the split line is not published, drawn here by the {SPLIT_RULE} "
                    f"rule (each point goes to the target whose whole parts are nearest)"
                )
            else:
                text = (
                    f"listed as receiving part of old unit {old}, split between {targets}; the {SPLIT_RULE} "
                    f"rule gives it nothing (its whole parts are farther from every point of that unit)"
                )
            notes[str(target)].append(text)
    info = pieces.set_index("piece_id")
    unattributed = allocated[allocated["rule"].str.startswith("unattributed:")]
    for pid, group in unattributed.groupby("piece_id", sort=False):
        row = info.loc[pid]
        where = f"{row['commune_vn']} ({row['district_vn']}, {row['province_vn']}, 2009)"
        why = "has no pre-reform code (merged 2019-2024 into a neighbour the sources at hand do not name)"
        live = group[group.geometry.area > 0]
        if len(live) == 1:
            notes[str(live["new_commune_code"].iloc[0])].append(
                f"inferred: includes {where}, which {why}; all its matched neighbours in its district "
                "are here"
            )
            continue
        total = float(live.geometry.area.sum())
        for target, geom in zip(live["new_commune_code"], live.geometry, strict=True):
            notes[str(target)].append(
                f"approximated: holds {geom.area / 1e6:.2f} km2 ({geom.area / total:.0%}) of {where}, "
                f"which {why}; divided among the communes of its matched neighbours by the {SPLIT_RULE} rule"
            )
    return {code: "; ".join(texts) for code, texts in notes.items()}


def derive_communes(
    communes_2009: gpd.GeoDataFrame,
    manual: pd.DataFrame,
    new_units: pd.DataFrame,
    mapping: pd.DataFrame,
    *,
    spacing_m: float = SEED_SPACING_M,
) -> Derivation:
    """Derive the new communes of Vĩnh Long (86) from the 2009 polygons (pure: frames in, frames out).

    Parameters
    ----------
    communes_2009 : geopandas.GeoDataFrame
        As from :func:`load_communes_2009` (EPSG:4326).
    manual : pandas.DataFrame
        As from :func:`load_manual_matches`.
    new_units : pandas.DataFrame
        As from :func:`geo.admin_units.load_new_units`.
    mapping : pandas.DataFrame
        As from :func:`geo.admin_units.load_old_to_new`.
    spacing_m : float, default 50
        Sampling step of the split rule.

    Returns
    -------
    Derivation
        New communes, old-unit parts, piece allocation and report.

    Raises
    ------
    SchemaError, InvalidGeometryError
        Inconsistent inputs (see :func:`match_pieces`, :func:`allocate_pieces`).
    """
    mapping = mapping[mapping["old_province_code"].isin(FORMER_PROVINCES)].reset_index(drop=True)
    outside = sorted(set(mapping["new_commune_code"]) - set(new_units["commune_code"]))
    if outside or not (mapping["new_province_code"] == NEW_PROVINCE_CODE).all():
        raise SchemaError("mapping: the former provinces must map into new province 86 only")
    units86 = new_units[new_units["province_code"] == NEW_PROVINCE_CODE].reset_index(drop=True)
    old_units = mapping.drop_duplicates("old_commune_code").rename(
        columns={
            "old_commune_code": "commune_code",
            "old_commune_name": "commune_name",
            "old_province_code": "province_code",
        }
    )[["commune_code", "commune_name", "province_code"]]
    matches, problems = match_pieces(communes_2009, old_units, manual)
    pieces_m = communes_2009.to_crs(METRIC_CRS)
    allocated = allocate_pieces(pieces_m, matches, mapping, spacing_m=spacing_m)
    parts = _old_unit_parts(allocated, matches, mapping)

    names = dict(zip(units86["commune_code"], units86["commune_name"], strict=True))
    missing = sorted(set(names) - set(allocated.loc[~allocated.geometry.is_empty, "new_commune_code"]))
    if missing:
        raise InvalidGeometryError(f"new communes without any geometry: {', '.join(missing)}")
    notes = _notes(allocated, communes_2009, parts, mapping)
    info = communes_2009.set_index("piece_id")
    old_by_new = mapping.groupby("new_commune_code")["old_commune_code"].agg(
        lambda s: ";".join(sorted(set(s)))
    )

    dissolved = [
        shapely.union_all(allocated.geometry.values[(allocated["new_commune_code"] == code).to_numpy()])
        for code in units86["commune_code"]
    ]
    filled, gap_fill_m2 = fill_small_gaps(dissolved)
    records = []
    for unit, geom_m in zip(units86.itertuples(index=False), filled, strict=True):
        mine = allocated[(allocated["new_commune_code"] == unit.commune_code) & (allocated.geometry.area > 0)]
        contributing = info.loc[mine["piece_id"].unique()]
        records.append(
            {
                "commune_code": unit.commune_code,
                "commune_name": unit.commune_name,
                "commune_type": _commune_type(unit.commune_name),
                "province_code": NEW_PROVINCE_CODE,
                "province_name": _strip_province_type(unit.province_name),
                "former_province": ";".join(sorted(set(contributing["province_vn"]))),
                "former_district": ";".join(sorted(set(contributing["district_vn"]))),
                "old_commune_codes": old_by_new.get(unit.commune_code, ""),
                "population_2009": int(mine["population_2009"].sum()),
                "area_km2": round(geom_m.area / 1e6, 3),
                "geometry_note": notes.get(unit.commune_code, ""),
                "geometry": geom_m,
            }
        )
    out_m = gpd.GeoDataFrame(records, geometry="geometry", crs=METRIC_CRS)
    out = out_m.to_crs("EPSG:4326")
    out["geometry"] = [_snap(g) for g in out.geometry.values]

    report = _report(communes_2009, pieces_m, matches, mapping, allocated, parts, out, notes, problems, names)
    report.gap_fill_km2 = gap_fill_m2 / 1e6
    return Derivation(communes=out, parts=parts, pieces=allocated, report=report)


def _report(
    communes_2009: gpd.GeoDataFrame,
    pieces_m: gpd.GeoDataFrame,
    matches: pd.DataFrame,
    mapping: pd.DataFrame,
    allocated: gpd.GeoDataFrame,
    parts: pd.DataFrame,
    out: gpd.GeoDataFrame,
    notes: dict[str, str],
    problems: list[str],
    names: Mapping[str, str],
) -> DerivationReport:
    info = communes_2009.set_index("piece_id")
    per_piece = matches.drop_duplicates("piece_id")
    report = DerivationReport(n_pieces=len(communes_2009), manual_problems=list(problems))
    report.pieces_by_method = {k: int(v) for k, v in per_piece["method"].value_counts().items()}
    for m in per_piece[per_piece["method"] == "unmatched"].itertuples(index=False):
        row = info.loc[m.piece_id]
        got = allocated[(allocated["piece_id"] == m.piece_id)]
        total = sum(g.area for g in got.geometry) or 1.0
        allocation = ", ".join(
            f"{names[t]} {g.area / total:.0%}"
            for t, g in zip(got["new_commune_code"], got.geometry, strict=True)
        )
        report.unmatched.append(
            {
                "piece_id": m.piece_id,
                "province": row["province_vn"],
                "district": row["district_vn"],
                "commune": row["commune_vn"],
                "reason": m.reason,
                "allocation": allocation,
            }
        )
    matched_codes = set(matches["old_commune_code"]) - {""}
    first = mapping.drop_duplicates("old_commune_code")
    for m in first[~first["old_commune_code"].isin(matched_codes)].itertuples(index=False):
        targets = mapping.loc[mapping["old_commune_code"] == m.old_commune_code, "new_commune_name"]
        report.codes_without_polygon.append(
            {
                "code": m.old_commune_code,
                "name": f"{m.old_commune_name} ({m.old_province_name})",
                "new_commune": ", ".join(targets),
            }
        )
    for code, group in parts[parts["rule"] != "whole"].groupby("old_commune_code", sort=True):
        report.split_units.append(
            {
                "code": code,
                "name": str(group["old_commune_name"].iloc[0]),
                "shares": dict(zip(group["new_commune_name"], group["area_share"].round(4), strict=True)),
            }
        )
    report.approximated = dict(sorted(notes.items()))
    out_m = out.to_crs(METRIC_CRS)
    report.source_union_km2 = shapely.union_all(pieces_m.geometry.values).area / 1e6
    report.output_area_km2 = float(out_m.geometry.area.sum() / 1e6)
    report.output_union_km2 = shapely.union_all(out_m.geometry.values).area / 1e6
    report.source_overlap_km2 = overlap_area_m2(pieces_m.geometry.values) / 1e6
    report.output_overlap_km2 = overlap_area_m2(out_m.geometry.values) / 1e6
    report.population_2009_source = int(communes_2009["pop_2009"].sum())
    report.population_2009_output = int(out["population_2009"].sum())
    return report
