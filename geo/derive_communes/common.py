"""Constants of the derivation: source files, provinces, metric CRS, split-rule parameters, columns."""

from __future__ import annotations

from pathlib import Path

REFERENCE_DIR: Path = Path(__file__).resolve().parents[1] / "reference" / "communes_2009"
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
