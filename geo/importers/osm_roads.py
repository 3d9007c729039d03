"""OSM-derived road exports (GeoJSON, GeoPackage, zipped Shapefile) -> ``roads/roads.geojson``.

Keeps ``highway`` and ``name`` (also ``name:vi``), explodes multi-part lines, clips to the
province boundary buffered by ``clip_buffer_km`` and gives every piece a stable
``road_id`` (the OSM id when the export has one: ``osm_id``, ``@id``, ``id``, ``osm_way_id``).
Features that are not lines, have no ``highway`` value, or lie outside the clip area are
counted in the report.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import utm_crs_for_lonlat
from geo.errors import ImportRejectedError, Problem
from geo.importers._common import (
    Converted,
    ImportOptions,
    gdf_to_geojson_bytes,
    imported_layer_meta,
    map_headers,
)
from geo.schema import HIGHWAY_CLASSES

__all__ = ["convert_osm_roads", "clip_to_province"]

_ALIASES = {
    "highway": ("highway", "fclass", "type", "road_type", "loai_duong", "loại đường"),
    "name": ("name", "name:vi", "ten", "tên", "ten_duong", "tên đường"),
    "road_id": ("osm_id", "@id", "id", "osm_way_id", "road_id", "way_id"),
}


def clip_to_province(
    gdf: gpd.GeoDataFrame, province: gpd.GeoDataFrame, *, buffer_km: float
) -> gpd.GeoDataFrame:
    """Clip lines (EPSG:4326) to the union of ``province`` buffered by ``buffer_km``."""
    area = province.geometry.union_all()
    crs = utm_crs_for_lonlat(*np.asarray(area.centroid.coords[0]))
    if buffer_km > 0:
        area = gpd.GeoSeries([area], crs=4326).to_crs(crs).buffer(buffer_km * 1000.0).to_crs(4326).iloc[0]
    clipped = gdf.clip(area)
    return clipped[~clipped.geometry.is_empty & clipped.geometry.notna()]


def _lines_only(gdf: gpd.GeoDataFrame, filename: str, report: list[str]) -> gpd.GeoDataFrame:
    parts = gdf.explode(index_parts=False, ignore_index=False)
    is_line = parts.geometry.geom_type.isin(["LineString", "LinearRing"])
    if not is_line.any():
        kinds = ", ".join(sorted(set(gdf.geometry.geom_type)))
        raise ImportRejectedError(f"{filename}: no line geometries (found {kinds}) -> export the road lines")
    if (~is_line).any():
        report.append(
            f"{int((~is_line).sum())} non-line part(s) left out "
            f"({', '.join(sorted(set(parts.geometry[~is_line].geom_type)))})"
        )
    return parts[is_line]


def convert_osm_roads(
    gdf: gpd.GeoDataFrame, filename: str, *, province: gpd.GeoDataFrame | None, options: ImportOptions
) -> Converted:
    """Convert an OSM road export (EPSG:4326) to the roads layer.

    Returns
    -------
    Converted
        ``roads/roads.geojson`` with ``road_id``, ``highway``, ``name``.
    """
    cols = map_headers([c for c in gdf.columns if c != gdf.geometry.name], _ALIASES, filename)
    if "highway" not in cols:
        raise ImportRejectedError(
            f"{filename}: no 'highway' column (OSM road class) in "
            f"{', '.join(map(str, gdf.columns))} -> export roads with the highway tag"
        )
    report: list[str] = [f"read {len(gdf)} feature(s) from {filename}"]
    problems: list[Problem] = []
    frame = gpd.GeoDataFrame(
        {
            "highway": gdf[cols["highway"]].fillna("").astype(str).str.strip().str.lower(),
            "name": gdf[cols["name"]].fillna("").astype(str).str.strip() if "name" in cols else "",
            "osm_id": gdf[cols["road_id"]].fillna("").astype(str).str.strip() if "road_id" in cols else "",
        },
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    empty = frame["highway"] == ""
    if empty.all():
        raise ImportRejectedError(f"{filename}: every feature has an empty 'highway' value")
    if empty.any():
        report.append(f"{int(empty.sum())} feature(s) without a highway value left out")
    frame = frame[~empty]
    unknown = ~frame["highway"].isin(HIGHWAY_CLASSES)
    if unknown.any():
        kinds = ", ".join(sorted(frame.loc[unknown, "highway"].unique())[:8])
        problems.append(
            Problem(
                "warning",
                filename,
                "highway",
                f"{int(unknown.sum())} feature(s) with highway "
                f"class(es) {kinds} are not roads PhuSong routes along; left out",
            )
        )
        frame = frame[~unknown]
    if frame.empty:
        raise ImportRejectedError(
            f"{filename}: no feature has a road highway class ({', '.join(HIGHWAY_CLASSES)})"
        )
    frame = _lines_only(frame, filename, report)
    if province is not None and not province.empty:
        before = len(frame)
        frame = clip_to_province(frame, province, buffer_km=options.clip_buffer_km)
        frame = _lines_only(frame, filename, []) if not frame.empty else frame
        if frame.empty:
            raise ImportRejectedError(
                f"{filename}: no road lies within {options.clip_buffer_km:g} km of the province"
            )
        report.append(
            f"clipped to the province (+{options.clip_buffer_km:g} km): {before} -> {len(frame)} line(s)"
        )
    frame = frame.reset_index(drop=True)
    frame["road_id"] = _road_ids(frame["osm_id"])
    out = gpd.GeoDataFrame(frame[["road_id", "highway", "name"]], geometry=frame.geometry.values, crs=4326)
    out = out[~shapely.is_empty(np.asarray(out.geometry.values, dtype=object))]
    report.append(f"{len(out)} road line(s), {out['highway'].nunique()} class(es)")
    meta = imported_layer_meta(
        "roads/roads.geojson",
        options,
        source=f"OpenStreetMap export {filename}",
        licence="ODbL-1.0 (© OpenStreetMap contributors)",
    )
    return Converted(
        files={"roads/roads.geojson": gdf_to_geojson_bytes(out, name="roads")},
        meta={"roads": meta},
        problems=problems,
        report=report,
        importer="osm_roads",
    )


def _road_ids(osm_ids: pd.Series) -> list[str]:
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(osm_ids):
        base = str(raw).strip()
        base = base.removeprefix("way/") if base else f"R{i + 1:06d}"
        base = base if base.startswith(("R", "w", "W")) else f"w{base}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids
