"""Fibre access nodes (points) or cable routes (lines) -> ``fibre/nodes.geojson`` / ``fibre/routes.geojson``.

Points become nodes (``node_id``, ``operator``, ``node_type``, ``name``, ``commune_id``), lines
become routes (``route_id``, ``operator``, ``route_type``); operator and type spellings are
normalised by the package validator's alias maps (VNPT -> VinaPhone, "tủ cáp" -> cabinet).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.errors import ImportRejectedError
from geo.importers._common import (
    Converted,
    ImportOptions,
    gdf_to_geojson_bytes,
    imported_layer_meta,
    map_headers,
)

__all__ = ["convert_fibre"]

_NODE_ALIASES = {
    "node_id": ("id", "mã nút", "ma_nut", "node id", "mã node"),
    "operator": ("nhà mạng", "doanh nghiệp", "operator", "owner", "chủ sở hữu"),
    "node_type": ("loại", "loại nút", "type", "node type", "kind"),
    "name": ("tên", "ten", "name"),
    "commune_id": ("mã xã", "ma_xa", "commune id"),
}
_ROUTE_ALIASES = {
    "route_id": ("id", "mã tuyến", "ma_tuyen", "route id"),
    "operator": ("nhà mạng", "doanh nghiệp", "operator", "owner"),
    "route_type": ("loại", "loại tuyến", "type", "route type", "tier"),
}


def _table(
    gdf: gpd.GeoDataFrame,
    aliases: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    prefix: str,
    filename: str,
) -> gpd.GeoDataFrame:
    cols = map_headers([c for c in gdf.columns if c != gdf.geometry.name], aliases, filename)
    missing = [c for c in required if c not in cols]
    if missing:
        raise ImportRejectedError(
            f"{filename}: missing column(s) {', '.join(missing)} (file has: "
            f"{', '.join(c for c in gdf.columns if c != gdf.geometry.name)})"
        )
    out = pd.DataFrame({canon: gdf[col].fillna("").astype(str).str.strip() for canon, col in cols.items()})
    id_col = next(iter(aliases))
    if id_col not in out.columns:
        out.insert(0, id_col, [f"{prefix}{i + 1:05d}" for i in range(len(out))])
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.values, crs=4326)


def convert_fibre(gdf: gpd.GeoDataFrame, filename: str, *, options: ImportOptions) -> Converted:
    """Convert a fibre upload (EPSG:4326) to the nodes or the routes layer, by geometry type."""
    kinds = set(gdf.geometry.geom_type)
    if kinds <= {"Point"}:
        out = _table(gdf, _NODE_ALIASES, ("operator", "node_type"), "N", filename)
        path, key = "fibre/nodes.geojson", "fibre_nodes"
    elif kinds <= {"LineString", "MultiLineString"}:
        out = _table(gdf, _ROUTE_ALIASES, ("operator",), "F", filename)
        path, key = "fibre/routes.geojson", "fibre_routes"
    else:
        raise ImportRejectedError(
            f"{filename}: fibre files hold either node points or route lines, found "
            f"{', '.join(sorted(kinds))} -> one kind per file"
        )
    return Converted(
        files={path: gdf_to_geojson_bytes(out, name=key)},
        meta={
            key: imported_layer_meta(
                path,
                options,
                source=f"fibre import {filename}",
                licence="provided by the operator (internal use)",
            )
        },
        report=[f"{len(out)} fibre {'node' if key == 'fibre_nodes' else 'route'}(s) from {filename}"],
        importer="fibre",
    )
