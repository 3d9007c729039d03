"""Deterministic writers: GeoJSON and CSV whose bytes depend only on their content.

GDAL's writers add timestamps-free but version-dependent formatting; the generator writes the
files itself so that the same seed gives byte-identical output on any machine.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

COORD_DECIMALS = 6
"""Decimals kept for lon/lat (≈ 0.1 m at the equator)."""


def _round_coords(obj: Any, decimals: int) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [_clean_number(round(float(v), decimals)) for v in obj]
        return [_round_coords(v, decimals) for v in obj]
    return obj


def _clean_number(value: float) -> float:
    """Turn ``-0.0`` into ``0.0`` so that equal numbers print equally."""
    return 0.0 if value == 0 else value


def geometry_to_json(geom: BaseGeometry, *, decimals: int = COORD_DECIMALS) -> dict[str, Any]:
    """Return a GeoJSON geometry mapping with coordinates rounded to ``decimals``.

    Parameters
    ----------
    geom
        Shapely geometry in EPSG:4326 (lon, lat).
    decimals
        Decimal places kept.
    """
    mapping = shapely.geometry.mapping(geom)
    return {"type": mapping["type"], "coordinates": _round_coords(mapping["coordinates"], decimals)}


def _json_value(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def feature_collection_text(
    features: Iterable[tuple[Mapping[str, Any], BaseGeometry]],
    *,
    name: str,
    metadata: Mapping[str, Any],
) -> str:
    """Serialise features to GeoJSON text, one feature per line.

    Parameters
    ----------
    features
        ``(properties, geometry)`` pairs; geometry in EPSG:4326.
    name
        Layer name (the ``name`` member GDAL reads as layer name).
    metadata
        Foreign top-level member ``metadata`` (source, licence, ``synthetic`` flag).

    Returns
    -------
    str
        RFC 7946 FeatureCollection text (CRS is implicitly OGC:CRS84).
    """
    head = {"type": "FeatureCollection", "name": name, "metadata": dict(metadata)}
    lines = [json.dumps(head, ensure_ascii=False, sort_keys=False)[:-1] + ', "features": [']
    rows = []
    for props, geom in features:
        feat = {
            "type": "Feature",
            "properties": {k: _json_value(v) for k, v in props.items()},
            "geometry": geometry_to_json(geom),
        }
        rows.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    lines.append(",\n".join(rows))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def write_feature_collection(
    path: Path,
    features: Iterable[tuple[Mapping[str, Any], BaseGeometry]],
    *,
    name: str,
    metadata: Mapping[str, Any],
) -> Path:
    """Write :func:`feature_collection_text` to ``path`` (UTF-8, ``\\n`` line ends)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feature_collection_text(features, name=name, metadata=metadata), encoding="utf-8")
    return path


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        return repr(float(value))
    return str(_json_value(value))


def csv_text(rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str]) -> str:
    """Serialise rows to CSV text (UTF-8, ``\\n`` line ends, no BOM).

    Parameters
    ----------
    rows
        Mappings with at least the keys in ``columns``; ``None`` and NaN become empty cells.
    columns
        Column order of the header.

    Notes
    -----
    CSV readers do not agree on comment lines, so provenance goes into a ``source`` column and
    ``dataset.toml`` rather than a ``#`` header. Floats are written with ``repr`` (shortest
    round-trip form) so that output bytes depend only on values.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in columns])
    return buf.getvalue()


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str]) -> Path:
    """Write :func:`csv_text` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(rows, columns=columns), encoding="utf-8")
    return path


def write_geodataframe(
    path: Path,
    gdf: Any,
    *,
    columns: Sequence[str],
    name: str,
    metadata: Mapping[str, Any],
) -> Path:
    """Write ``columns`` of a GeoDataFrame (EPSG:4326) as a deterministic FeatureCollection."""
    records = gdf[list(columns)].to_dict(orient="records")
    return write_feature_collection(
        path, zip(records, gdf.geometry, strict=True), name=name, metadata=metadata
    )
