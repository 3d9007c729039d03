"""The result of the derivation (Derivation, DerivationReport), its printed report and its two files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.derive_communes.common import MAX_GAP_FILL_M2, OUTPUT_COLUMNS, SPLIT_RULE


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
