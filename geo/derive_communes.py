"""Derive polygons of the 124 communes of the new Vĩnh Long (86) from 2009 commune polygons.

No public geometry of the communes created on 1 July 2025 exists. The new Vĩnh Long is the union of
the former provinces Bến Tre (83), Trà Vinh (84) and Vĩnh Long (86), whose 2009 commune polygons
ship in ``geo/reference/communes_2009/`` (censusVN2009, MIT). The derivation:

1. **Match** every 2009 polygon ("piece") to its pre-reform (2025-03) GSO code, in this order:

   * ``manual``: a row of ``manual_matches.csv`` (province, 2009 district, 2009 commune -> code),
     each with the legal change it rests on (mergers 2019–2024, new towns, spellings);
   * ``code``: the source's own best-effort code ``gso_ma_xa`` (commune + district name matched);
   * ``name``: equal normalised name (:func:`geo.names.normalize_name`) among the pre-reform
     communes of the province that no other piece claimed, kept only if the code is nearest to the
     code range of the pieces of the same 2009 district matched by ``code`` (among the ranges of the
     province's districts): GSO numbers communes by district and keeps the number when a commune
     moves district, and the old → new mapping has no district names. A tie is broken by the unit
     type (xã / phường / thị trấn).

   A piece matched by none is reported (with the reason) and allocated as below.
2. **Dissolve** through the old → new mapping (:func:`geo.admin_units.load_old_to_new`): a piece
   whose old code(s) feed one new commune goes to it whole.
3. **Split** (rule :data:`SPLIT_RULE`): a piece whose old code feeds two new communes (``n_targets
   = 2``; the split line is not published) is divided so that every point goes to the target whose
   *whole* parts (pieces feeding only that target) are nearest — a Voronoi diagram of the targets'
   outlines (:func:`split_by_nearest_parts`). A piece with no code (merged 2019–2024 into a
   neighbour that the sources do not name) is allocated the same way among the new communes of its
   matched neighbours in the same 2009 district (one candidate: whole). Every new commune receiving
   such a part carries a ``geometry_note``.

Holes smaller than :data:`MAX_GAP_FILL_M2` inside a new commune that no other commune covers are
gaps between the generalised source polygons and are filled. Areas are computed in
:data:`METRIC_CRS` (UTM 48N). 2009 population of a divided piece is allocated
by area share (largest remainder, so totals are kept exactly). Overlaps between source polygons
(the low-resolution layer overlaps by ~0.4 % of its area) are kept as they are and measured.

Run ``python -m geo.derive_communes --out DIR`` to write ``DIR/communes_2025.geojson`` and
``DIR/old_unit_parts.csv`` and print the report.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.admin_units import load_new_units, load_old_to_new
from geo.errors import DataNotFoundError, InvalidGeometryError, ParameterError, PhuSongError, SchemaError
from geo.io import read_vector
from geo.names import fold_diacritics, normalize_name

__all__ = [
    "METRIC_CRS",
    "NEW_PROVINCE_CODE",
    "FORMER_PROVINCES",
    "REFERENCE_DIR",
    "SPLIT_RULE",
    "DerivationReport",
    "Derivation",
    "load_communes_2009",
    "load_manual_matches",
    "match_pieces",
    "split_by_nearest_parts",
    "allocate_pieces",
    "fill_small_gaps",
    "OUTPUT_COLUMNS",
    "PARTS_COLUMNS",
    "derive_communes",
    "overlap_area_m2",
    "format_report",
    "write_outputs",
    "main",
]

REFERENCE_DIR: Path = Path(__file__).resolve().parent / "reference" / "communes_2009"
"""Shipped 2009 polygons of the three former provinces and ``manual_matches.csv``."""

SOURCE_FILES: dict[str, str] = {
    "83": "communes_2009_ben_tre.geojson",
    "84": "communes_2009_tra_vinh.geojson",
    "86": "communes_2009_vinh_long.geojson",
}
MANUAL_MATCHES_FILE = "manual_matches.csv"

NEW_PROVINCE_CODE = "86"
NEW_PROVINCE_NAME = "Vĩnh Long"
FORMER_PROVINCES: tuple[str, ...] = ("83", "84", "86")
"""Pre-reform province codes merged into the new Vĩnh Long (Bến Tre, Trà Vinh, Vĩnh Long)."""

METRIC_CRS = "EPSG:32648"
"""WGS 84 / UTM zone 48N: areas, distances and the split rule are computed in metres here."""

SPLIT_RULE = "nearest_whole_part"
"""Name of the split rule written to ``old_unit_parts.csv`` and the notes."""

SEED_SPACING_M = 50.0
"""Spacing of the points sampled on the targets' outlines for the split rule."""

NEIGHBOUR_TOLERANCE_M = 25.0
"""Gap tolerated between two pieces that share a border (the source is generalised)."""

MIN_SHARED_BORDER_M = 100.0
"""Shorter shared borders (corner touches) do not make two pieces neighbours."""

MAX_GAP_FILL_M2 = 250_000.0
"""Holes inside a new commune smaller than this (0.25 km2) that no other commune covers are gaps
between the generalised source polygons and are filled (the filled area is reported)."""

GRID_DEG = 1e-6
"""Output coordinates are snapped to this grid (6 decimals, ~0.1 m) keeping polygons valid."""

_SOURCE_COLUMNS = (
    "commune_id",
    "gso_ma_tinh",
    "province_vn",
    "district_vn",
    "commune_vn",
    "pop_2009",
    "gso_ma_xa",
)
_MANUAL_COLUMNS = (
    "province_code",
    "district_2009",
    "commune_2009",
    "old_commune_code",
    "old_commune_name",
    "reason",
)

OUTPUT_COLUMNS = (
    "commune_code",
    "commune_name",
    "commune_type",
    "province_code",
    "province_name",
    "former_province",
    "former_district",
    "old_commune_codes",
    "population_2009",
    "area_km2",
    "geometry_note",
)
PARTS_COLUMNS = (
    "old_commune_code",
    "old_commune_name",
    "new_commune_code",
    "new_commune_name",
    "area_km2",
    "area_share",
    "rule",
)


# ============================================================================= loaders (I/O)


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


# ============================================================================= matching


def _key(name: str) -> str:
    """Name key keeping the type prefix ("xa long duc")."""
    return normalize_name(name, drop_prefix=False)


def _unit_type(name: str) -> str:
    """Folded unit type of a commune name: "xa", "phuong", "thi tran", "dac khu" or ""."""
    folded = fold_diacritics(name).strip()
    for prefix in ("thi tran", "phuong", "dac khu", "xa"):
        if folded == prefix or folded.startswith(prefix + " "):
            return prefix
    return ""


def _manual_rows(
    communes: pd.DataFrame, known: Mapping[str, str], manual: pd.DataFrame
) -> tuple[list[dict[str, str]], list[str]]:
    """Rows for the pieces named in ``manual``, and the manual rows that match no piece."""
    piece_keys = {
        (p, _key(d), _key(c)): pid
        for pid, p, d, c in zip(
            communes["piece_id"],
            communes["province_code"],
            communes["district_vn"],
            communes["commune_vn"],
            strict=True,
        )
    }
    rows: list[dict[str, str]] = []
    problems: list[str] = []
    for m in manual.itertuples(index=False):
        if known.get(m.old_commune_code) != m.province_code:
            raise SchemaError(
                f"manual match {m.commune_2009} ({m.district_2009}): {m.old_commune_code} is not a "
                f"pre-reform commune of province {m.province_code}"
            )
        pid = piece_keys.get((m.province_code, _key(m.district_2009), _key(m.commune_2009)))
        if pid is None:
            problems.append(
                f"manual match row {m.commune_2009} ({m.district_2009}, {m.province_code}) matches no polygon"
            )
            continue
        rows.append(
            {"piece_id": pid, "old_commune_code": m.old_commune_code, "method": "manual", "reason": m.reason}
        )
    return rows, problems


def _code_rows(
    communes: pd.DataFrame, known: Mapping[str, str], done: set[str]
) -> tuple[list[dict[str, str]], dict[str, tuple[int, int]]]:
    """Rows for pieces whose own ``gso_ma_xa`` is a pre-reform code of their province, and the code
    range (min, max) of those pieces per ``province|district``."""
    rows: list[dict[str, str]] = []
    ranges: dict[str, tuple[int, int]] = {}
    for pid, prov, district, code in zip(
        communes["piece_id"],
        communes["province_code"],
        communes["district_vn"],
        communes["gso_ma_xa"],
        strict=True,
    ):
        if pid in done or not code or known.get(code) != prov:
            continue
        rows.append({"piece_id": pid, "old_commune_code": code, "method": "code", "reason": ""})
        key = f"{prov}|{district}"
        lo, hi = ranges.get(key, (int(code), int(code)))
        ranges[key] = (min(lo, int(code)), max(hi, int(code)))
    return rows, ranges


def _range_distance(code: int, span: tuple[int, int]) -> int:
    return max(span[0] - code, 0, code - span[1])


def _name_candidates(
    name: str, candidates: list[tuple[str, str]], district: str, ranges: Mapping[str, tuple[int, int]]
) -> tuple[list[tuple[str, str]], str]:
    """Candidates whose code is nearest to the piece's district code range (among the ranges of the
    province's districts), then of the piece's unit type; the reason if none or several are left."""
    cands = candidates
    span = ranges.get(district)
    if span is not None:
        province = district.split("|", 1)[0] + "|"
        spans = {d: r for d, r in ranges.items() if d.startswith(province)}

        def nearest(code: str) -> bool:
            mine = _range_distance(int(code), spans[district])
            return all(mine <= _range_distance(int(code), r) for r in spans.values())

        cands = [c for c in cands if nearest(c[0])]
    if len(cands) > 1:
        cands = [c for c in cands if _unit_type(c[1]) == _unit_type(name)] or cands
    if not cands:
        where = f" near the district's code range {span[0]}-{span[1]}" if span else ""
        return cands, (
            f"no unclaimed pre-reform commune of that name in the province{where} "
            "(merged, renamed or split since 2009)"
        )
    if len(cands) > 1:
        return cands, "ambiguous name: " + ", ".join(f"{c} {n}" for c, n in cands)
    return cands, ""


def match_pieces(
    communes: pd.DataFrame, old_units: pd.DataFrame, manual: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Match each 2009 piece to pre-reform (2025-03) commune code(s).

    Parameters
    ----------
    communes : pandas.DataFrame
        Pieces as from :func:`load_communes_2009` (geometry not used).
    old_units : pandas.DataFrame
        Pre-reform communes of the former provinces: ``commune_code``, ``commune_name``,
        ``province_code`` (e.g. ``official_units("2025-03", FORMER_PROVINCES)``).
    manual : pandas.DataFrame
        As from :func:`load_manual_matches`.

    Returns
    -------
    matches : pandas.DataFrame
        One row per (piece, code), in piece order: ``piece_id``, ``old_commune_code`` ("" when
        unmatched), ``method`` ("manual", "code", "name" or "unmatched") and ``reason`` (the manual
        reason, or why unmatched).
    problems : list of str
        Manual rows that match no piece (stale rows); empty when all is well.

    Raises
    ------
    SchemaError
        A manual row names a code that is not a pre-reform commune of its province.
    """
    known = dict(zip(old_units["commune_code"], old_units["province_code"], strict=True))
    rows, problems = _manual_rows(communes, known, manual)
    done = {r["piece_id"] for r in rows}
    code_rows, ranges = _code_rows(communes, known, done)
    rows += code_rows
    done |= {r["piece_id"] for r in code_rows}
    claimed = {r["old_commune_code"] for r in rows}

    by_name: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for code, name, prov in zip(
        old_units["commune_code"], old_units["commune_name"], old_units["province_code"], strict=True
    ):
        if code not in claimed:
            by_name[(prov, normalize_name(name))].append((code, name))
    tentative: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for pid, prov, district, name in zip(
        communes["piece_id"],
        communes["province_code"],
        communes["district_vn"],
        communes["commune_vn"],
        strict=True,
    ):
        if pid in done:
            continue
        cands, reason = _name_candidates(
            name, by_name.get((prov, normalize_name(name)), []), f"{prov}|{district}", ranges
        )
        if reason:
            reasons[pid] = reason
        else:
            tentative[pid] = cands[0][0]
    twice = {code for code in tentative.values() if list(tentative.values()).count(code) > 1}
    for pid, code in tentative.items():
        if code in twice:
            reasons[pid] = f"name matches code {code} together with another polygon"
        else:
            rows.append({"piece_id": pid, "old_commune_code": code, "method": "name", "reason": ""})
            done.add(pid)
    rows += [
        {"piece_id": pid, "old_commune_code": "", "method": "unmatched", "reason": reasons[pid]}
        for pid in communes["piece_id"]
        if pid not in done
    ]
    order = {pid: i for i, pid in enumerate(communes["piece_id"])}
    matches = pd.DataFrame(rows, columns=["piece_id", "old_commune_code", "method", "reason"])
    matches = matches.sort_values("piece_id", key=lambda s: s.map(order), kind="stable")
    return matches.reset_index(drop=True), problems


# ============================================================================= the split rule


def _outline_points(geom: BaseGeometry, spacing_m: float) -> np.ndarray:
    """Points every ``spacing_m`` (at most) along the outline of ``geom`` (an (n, 2) array)."""
    boundary = shapely.segmentize(geom.boundary, spacing_m)
    return np.asarray(shapely.get_coordinates(boundary), dtype=float)


def split_by_nearest_parts(
    polygon: BaseGeometry, seeds: Mapping[str, BaseGeometry], *, spacing_m: float = SEED_SPACING_M
) -> dict[str, BaseGeometry]:
    """Divide ``polygon`` among targets: each point goes to the target whose seed geometry is nearest.

    The seeds are the targets' *whole* parts. Distances to a seed are measured to its outline,
    sampled every ``spacing_m``; the division is the Voronoi diagram of those samples, merged per
    target and clipped to ``polygon``. Inputs in a metric CRS.

    Parameters
    ----------
    polygon : shapely geometry
        The (Multi)Polygon to divide.
    seeds : mapping of str to shapely geometry
        Target id -> its whole parts. A target with an empty seed gets nothing.
    spacing_m : float, default 50
        Sampling step along the seeds' outlines (the dividing line is exact to about this).

    Returns
    -------
    dict of str to shapely geometry
        Target id -> its part (possibly empty), for every target in ``seeds``. The parts do not
        overlap and their union is ``polygon``.

    Raises
    ------
    ParameterError
        No seed geometry at all, or a non-positive spacing.
    InvalidGeometryError
        ``polygon`` is empty or invalid.
    """
    if spacing_m <= 0:
        raise ParameterError(f"spacing_m must be positive, got {spacing_m}")
    if polygon.is_empty or not polygon.is_valid:
        raise InvalidGeometryError("split_by_nearest_parts: polygon is empty or invalid")
    ids = list(seeds)
    live = [t for t in ids if not seeds[t].is_empty]
    if not live:
        raise ParameterError("split_by_nearest_parts: no target has a seed geometry")
    empty = Polygon()
    if len(live) == 1:
        return {t: (polygon if t == live[0] else empty) for t in ids}
    coords, labels = [], []
    for index, target in enumerate(live):
        pts = _outline_points(seeds[target], spacing_m)
        coords.append(pts)
        labels.append(np.full(len(pts), index))
    xy = np.vstack(coords)
    lab = np.concatenate(labels)
    xy, first = np.unique(np.round(xy, 3), axis=0, return_index=True)  # shared outlines: one label
    lab = lab[first]
    extent = shapely.box(*shapely.union(polygon.envelope, shapely.multipoints(xy).envelope).bounds).buffer(
        1000.0
    )
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=extent, ordered=True)
    )
    parts: dict[str, BaseGeometry] = {}
    for index, target in enumerate(live):
        region = _union_cells(cells[lab == index])
        parts[target] = shapely.make_valid(shapely.intersection(polygon, region))
    # Exact partition: the biggest part is what the others leave (no gaps from floating point).
    biggest = max(live, key=lambda t: parts[t].area)
    others = shapely.union_all([parts[t] for t in live if t != biggest])
    parts[biggest] = shapely.make_valid(shapely.difference(polygon, others))
    return {t: _polygonal(parts.get(t, empty)) for t in ids}


def _union_cells(cells: np.ndarray) -> BaseGeometry:
    """Union of Voronoi cells (a polygonal coverage); falls back to a snapped union if GEOS balks."""
    try:
        return shapely.coverage_union_all(cells)
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.make_valid(cells), grid_size=1e-6)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal part of ``geom`` (intersections may add lines or points)."""
    if geom.is_empty:
        return Polygon()
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, (Polygon, MultiPolygon))]
    if not polys:
        return Polygon()
    return shapely.union_all(polys)


# ============================================================================= allocation


@dataclass
class DerivationReport:
    """What the derivation did, for the printed report and the tests.

    Attributes
    ----------
    n_pieces : int
        2009 polygons read.
    pieces_by_method : dict
        Method ("manual", "code", "name", "unmatched") -> number of polygons.
    unmatched : list of dict
        One per polygon with no pre-reform code: ``piece_id``, ``province``, ``district``,
        ``commune``, ``reason`` and ``allocation`` (where its area went).
    codes_without_polygon : list of dict
        Pre-reform codes of the former provinces that no polygon matched: ``code``, ``name``,
        ``new_commune``.
    split_units : list of dict
        Old units divided by the split rule: ``code``, ``name``, ``shares`` (new name -> share).
    approximated : dict
        New commune code -> its ``geometry_note``.
    manual_problems : list of str
        Manual match rows that matched no polygon.
    source_union_km2, output_area_km2, output_union_km2 : float
        Area of the union of the 2009 polygons, sum of the new communes' areas and their union.
    source_overlap_km2, output_overlap_km2 : float
        Sum of pairwise intersection areas among source polygons and among new communes.
    population_2009_source, population_2009_output : int
        Census totals before and after (equal by construction).
    gap_fill_km2 : float
        Area of the small gaps between source polygons filled inside new communes.
    """

    n_pieces: int = 0
    pieces_by_method: dict[str, int] = field(default_factory=dict)
    unmatched: list[dict[str, str]] = field(default_factory=list)
    codes_without_polygon: list[dict[str, str]] = field(default_factory=list)
    split_units: list[dict[str, Any]] = field(default_factory=list)
    approximated: dict[str, str] = field(default_factory=dict)
    manual_problems: list[str] = field(default_factory=list)
    source_union_km2: float = 0.0
    output_area_km2: float = 0.0
    output_union_km2: float = 0.0
    source_overlap_km2: float = 0.0
    output_overlap_km2: float = 0.0
    population_2009_source: int = 0
    population_2009_output: int = 0
    gap_fill_km2: float = 0.0


@dataclass
class Derivation:
    """Result of :func:`derive_communes`.

    Attributes
    ----------
    communes : geopandas.GeoDataFrame
        The new communes (columns :data:`OUTPUT_COLUMNS`, EPSG:4326, MultiPolygon).
    parts : pandas.DataFrame
        One row per (old commune, new commune) pair of the mapping (columns :data:`PARTS_COLUMNS`).
    pieces : geopandas.GeoDataFrame
        One row per (2009 piece, new commune) part, metric CRS: ``piece_id``, ``new_commune_code``,
        ``rule`` ("whole", :data:`SPLIT_RULE`, or ``"unattributed:" + rule``), ``population_2009``.
    report : DerivationReport
        Counts and figures.
    """

    communes: gpd.GeoDataFrame
    parts: pd.DataFrame
    pieces: gpd.GeoDataFrame
    report: DerivationReport


def _neighbours(pieces_m: gpd.GeoDataFrame) -> dict[str, set[str]]:
    """Pieces sharing at least :data:`MIN_SHARED_BORDER_M` of border (within the tolerance)."""
    geoms = pieces_m.geometry.values
    ids = pieces_m["piece_id"].to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=NEIGHBOUR_TOLERANCE_M)
    keep = left != right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(
            shapely.boundary(geoms[left]), shapely.buffer(geoms[right], NEIGHBOUR_TOLERANCE_M)
        )
    )
    out: dict[str, set[str]] = defaultdict(set)
    for a, b, length in zip(left, right, shared, strict=True):
        if length >= MIN_SHARED_BORDER_M:
            out[str(ids[a])].add(str(ids[b]))
            out[str(ids[b])].add(str(ids[a]))
    return out


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to ``weights`` that sum to ``total``."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() <= 0:
        out = [0] * len(w)
        if total and len(w):
            out[0] = total
        return out
    exact = total * w / w.sum()
    floor = np.floor(exact).astype(int)
    rest = total - int(floor.sum())
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[:rest]] += 1
    return [int(v) for v in floor]


def allocate_pieces(
    pieces_m: gpd.GeoDataFrame,
    matches: pd.DataFrame,
    mapping: pd.DataFrame,
    *,
    spacing_m: float = SEED_SPACING_M,
) -> gpd.GeoDataFrame:
    """Allocate every 2009 piece (or part of it) to new communes.

    Parameters
    ----------
    pieces_m : geopandas.GeoDataFrame
        Pieces in a metric CRS with ``piece_id``, ``province_code``, ``district_vn``, ``pop_2009``.
    matches : pandas.DataFrame
        From :func:`match_pieces`.
    mapping : pandas.DataFrame
        Old → new pairs (:func:`geo.admin_units.load_old_to_new`) of the former provinces.
    spacing_m : float, default 50
        Passed to :func:`split_by_nearest_parts`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per non-empty (piece, new commune) part, plus zero-area rows for targets a split
        gave nothing: ``piece_id``, ``new_commune_code``, ``rule``, ``population_2009``, geometry.

    Raises
    ------
    InvalidGeometryError
        A piece must be divided among targets none of which has a whole part.
    """
    targets_of = (
        mapping.groupby("old_commune_code")["new_commune_code"].agg(lambda s: sorted(set(s))).to_dict()
    )
    codes_of: dict[str, list[str]] = defaultdict(list)
    for pid, code in zip(matches["piece_id"], matches["old_commune_code"], strict=True):
        if code:
            codes_of[pid].append(code)
    geom_of = dict(zip(pieces_m["piece_id"], pieces_m.geometry.values, strict=True))
    district_of = dict(
        zip(pieces_m["piece_id"], pieces_m["province_code"] + "|" + pieces_m["district_vn"], strict=True)
    )
    pop_of = dict(zip(pieces_m["piece_id"], pieces_m["pop_2009"], strict=True))

    piece_targets: dict[str, list[str]] = {}
    for pid in pieces_m["piece_id"]:
        if codes_of.get(pid):
            piece_targets[pid] = sorted({t for c in codes_of[pid] for t in targets_of.get(c, [])})
    whole: dict[str, list[BaseGeometry]] = defaultdict(list)
    for pid, targets in piece_targets.items():
        if len(targets) == 1:
            whole[targets[0]].append(geom_of[pid])
    seeds = {t: shapely.union_all(g) for t, g in whole.items()}

    neighbours = _neighbours(pieces_m)
    records: list[dict[str, Any]] = []
    for pid in pieces_m["piece_id"]:
        geom = geom_of[pid]
        if pid in piece_targets:
            targets, prefix = piece_targets[pid], ""
        else:
            targets = sorted(
                {
                    t
                    for n in neighbours.get(pid, set())
                    if district_of[n] == district_of[pid] and n in piece_targets
                    for t in piece_targets[n]
                }
            )
            prefix = "unattributed:"
        if not targets:
            raise InvalidGeometryError(
                f"2009 polygon {pid}: no code and no matched neighbour in its district"
            )
        if len(targets) == 1:
            parts = {targets[0]: geom}
            rule = prefix + "whole"
        else:
            have = {t: seeds.get(t, Polygon()) for t in targets}
            if all(g.is_empty for g in have.values()):
                raise InvalidGeometryError(
                    f"2009 polygon {pid}: split among {', '.join(targets)}, none of which has a whole part"
                )
            parts = split_by_nearest_parts(geom, have, spacing_m=spacing_m)
            rule = prefix + SPLIT_RULE
        areas = [parts[t].area for t in targets]
        pops = _largest_remainder(int(pop_of[pid]), areas)
        for target, pop in zip(targets, pops, strict=True):
            records.append(
                {
                    "piece_id": pid,
                    "new_commune_code": target,
                    "rule": rule,
                    "population_2009": pop,
                    "geometry": parts[target],
                }
            )
    return gpd.GeoDataFrame(records, geometry="geometry", crs=pieces_m.crs)


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


# ============================================================================= report and output


def format_report(report: DerivationReport) -> str:
    """Human-readable derivation report (the CLI prints it)."""
    lines = [
        f"2009 polygons read: {report.n_pieces}",
        "matched: " + ", ".join(f"{k} {v}" for k, v in sorted(report.pieces_by_method.items())),
        f"polygons without a pre-reform code: {len(report.unmatched)}",
    ]
    for u in report.unmatched:
        lines.append(
            f"  - {u['commune']} ({u['district']}, {u['province']}) [{u['piece_id']}]: {u['reason']}"
        )
        lines.append(f"      allocated: {u['allocation']}")
    lines.append(f"pre-reform codes with no polygon: {len(report.codes_without_polygon)}")
    for c in report.codes_without_polygon:
        lines.append(
            f"  - {c['code']} {c['name']} -> {c['new_commune']}: "
            "created after 2009 from land of a neighbour; that land stays with the neighbour's polygon"
        )
    for problem in report.manual_problems:
        lines.append(f"manual match problem: {problem}")
    lines.append(f"old units split by the {SPLIT_RULE} rule: {len(report.split_units)}")
    for s in report.split_units:
        shares = ", ".join(f"{k} {v:.1%}" for k, v in s["shares"].items())
        lines.append(f"  - {s['code']} {s['name']}: {shares}")
    lines.append(f"new communes with an approximated or inferred part: {len(report.approximated)}")
    for code, note in report.approximated.items():
        lines.append(f"  - {code}: {note}")
    diff = (
        (report.output_area_km2 - report.source_union_km2) / report.source_union_km2
        if report.source_union_km2
        else 0
    )
    lines += [
        f"area: union of 2009 polygons {report.source_union_km2:.1f} km2; new communes sum "
        f"{report.output_area_km2:.1f} km2 ({diff:+.2%}), union {report.output_union_km2:.1f} km2",
        f"overlaps (sum of pairwise intersections): source {report.source_overlap_km2:.2f} km2, "
        f"new communes {report.output_overlap_km2:.2f} km2",
        f"gaps between source polygons filled inside new communes (holes < {MAX_GAP_FILL_M2 / 1e6:g} km2): "
        f"{report.gap_fill_km2:.2f} km2",
        f"population 2009: source {report.population_2009_source:,}, "
        f"new communes {report.population_2009_output:,}",
    ]
    return "\n".join(lines)


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), 6) + 0.0 for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def _json_value(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def write_outputs(result: Derivation, out_dir: Path) -> tuple[Path, Path]:
    """Write ``communes_2025.geojson`` and ``old_unit_parts.csv`` into ``out_dir`` (created if needed).

    Returns
    -------
    tuple of Path
        The two files written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    features = []
    for record, geom in zip(
        result.communes[list(OUTPUT_COLUMNS)].to_dict(orient="records"), result.communes.geometry, strict=True
    ):
        mapping = shapely.geometry.mapping(geom)
        features.append(
            json.dumps(
                {
                    "type": "Feature",
                    "properties": {k: _json_value(v) for k, v in record.items()},
                    "geometry": {
                        "type": mapping["type"],
                        "coordinates": _round_coords(mapping["coordinates"]),
                    },
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
        )
    head = {
        "type": "FeatureCollection",
        "name": "communes_2025",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "metadata": {
            "source": "derived by geo/derive_communes.py from censusVN2009 2009 commune polygons "
            "(Marc Choisy & Lucie Contamin, MIT) and the dvhcvn/20250701 old->new mapping (MIT)",
            "synthetic": False,
            "approximate": "see geometry_note",
        },
    }
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',\n"features":[\n' + ",\n".join(features) + "\n]}\n"
    geojson = out_dir / "communes_2025.geojson"
    geojson.write_text(text, encoding="utf-8")
    csv_path = out_dir / "old_unit_parts.csv"
    parts = result.parts.copy()
    parts["area_km2"] = parts["area_km2"].round(4)
    parts["area_share"] = parts["area_share"].round(6)
    parts.to_csv(csv_path, index=False, encoding="utf-8", lineterminator="\n")
    return geojson, csv_path


# ============================================================================= CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo.derive_communes",
        description="Derive the 124 commune polygons of the new Vĩnh Long (86) from 2009 polygons.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    parser.add_argument(
        "--source-dir", type=Path, default=None, help="folder of the three 2009 GeoJSON files"
    )
    parser.add_argument("--manual", type=Path, default=None, help="manual matches CSV")
    return parser


def _check_out(out: Path) -> None:
    data_dir = (Path(__file__).resolve().parents[1] / "data").resolve()
    target = out.resolve()
    if target == data_dir or data_dir in target.parents:
        raise ParameterError(f"--out {str(out)!r} is inside the data package {data_dir}; write elsewhere")
    if target.exists() and not target.is_dir():
        raise ParameterError(f"--out {str(out)!r} exists and is not a folder")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the derivation; return 0, or 2 with a message on stderr for bad input."""
    args = _parser().parse_args(argv)
    try:
        _check_out(args.out)
        result = derive_communes(
            load_communes_2009(args.source_dir),
            load_manual_matches(args.manual),
            load_new_units(),
            load_old_to_new(),
        )
        geojson, csv_path = write_outputs(result, args.out)
    except PhuSongError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write to {str(args.out)!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(format_report(result.report))
    print(f"wrote {geojson} and {csv_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
