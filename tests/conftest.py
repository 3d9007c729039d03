"""Shared fixtures.

``tiny_package``
    A complete, valid data package written in code under ``tmp_path`` (no GDAL writes, a few
    milliseconds): 2 communes (C1, C2 side by side near Trà Vinh city), 3 hamlets (H1, H2 in
    C1; H3 in C2), 2 sites with 4 cells (S1: three 4G Viettel sectors; S2: one omni 3G
    VinaPhone cell), 1 fibre node (N1, OLT in C1), 3 roads joining the hamlets, 4 survey rows
    (one per hamlet and one commune-level row for C2). Returns the package root ``Path``;
    each test gets its own copy, so tests may break files freely.
    ``tests/conftest.py::write_tiny_package(root)`` writes the same package anywhere.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Tests read packages fresh (they spy on validation, break files, compare messages); the per-user
# package cache (geo/package_cache.py) is tested on its own with a temporary directory. Set here, at
# import, so that CLI and app subprocesses started by tests inherit it.
os.environ["PHUSONG_PACKAGE_CACHE"] = "0"

# Accounts and the audit log (auth/config.py) live in the user's config folder by default: the suite
# never touches the real ones. No users file here means demo mode, as on a fresh machine; tests of
# sign-in point PHUSONG_USERS / PHUSONG_AUDIT at files of their own.
_AUTH_DIR = Path(tempfile.mkdtemp(prefix="phusong-test-auth-"))
os.environ["PHUSONG_USERS"] = str(_AUTH_DIR / "users.json")
os.environ["PHUSONG_AUDIT"] = str(_AUTH_DIR / "audit.jsonl")


@pytest.fixture(autouse=True)
def _keep_main_module() -> Any:
    """Streamlit's AppTest replaces ``sys.modules["__main__"]`` and never puts it back; a process
    spawned afterwards (multiprocessing "spawn") would then re-run the last page script."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main

_C1 = [[106.30, 9.90], [106.35, 9.90], [106.35, 9.95], [106.30, 9.95], [106.30, 9.90]]
_C2 = [[106.35, 9.90], [106.40, 9.90], [106.40, 9.95], [106.35, 9.95], [106.35, 9.90]]

TINY_DATASET_TOML = """\
name = "Tiny test province"
province_name = "Trà Vinh"
province_code = "84"
boundary_vintage = "2009 layout"
layout = "2009"
created = "2026-11-25"

[layers.communes]
file = "boundaries/communes.geojson"
synthetic = false
source = "test fixture"
licence = "CC0-1.0"

[layers.hamlets]
synthetic = true
source = "test fixture"
licence = "CC0-1.0"

[layers.towers]
synthetic = true
source = "test fixture"
licence = "CC0-1.0"

[layers.fibre_nodes]
synthetic = true
source = "test fixture"
licence = "CC0-1.0"

[layers.roads]
synthetic = true
source = "test fixture"
licence = "CC0-1.0"

[layers.survey]
synthetic = true
source = "test fixture"
licence = "CC0-1.0"
"""

TINY_SITES_CSV = """\
site_id,cell_id,operator,lat,lon,height_m,status,technology,band_mhz,azimuth_deg,beamwidth_deg,eirp_dbm,bandwidth_mhz
S1,S1-1,Viettel,9.925,106.325,30,active,4G,1800,0,65,61,10
S1,S1-2,Viettel,9.925,106.325,30,active,4G,1800,120,65,61,10
S1,S1-3,Viettel,9.925,106.325,30,active,4G,1800,240,65,61,10
S2,S2-1,VinaPhone,9.93,106.375,25,active,3G,2100,,,58,5
"""

TINY_SURVEY_CSV = """\
hamlet_id,commune_id,hamlet_name,households,households_ftth,adults,adults_with_smartphone,adults_internet_users,survey_date,source
H1,C1,Ấp Chợ,100,70,300,220,250,2026-10-01,synthetic
H2,C1,Ấp Giồng Lớn,150,90,450,330,370,2026-10-01,synthetic
H3,C2,Khóm 3,180,130,520,400,440,2026-10-01,synthetic
,C2,,200,140,580,450,490,2026-10-01,synthetic
"""


def _feature(props: dict[str, Any], geom_type: str, coords: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": geom_type, "coordinates": coords}}


def _collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=0)


def tiny_features() -> dict[str, list[dict[str, Any]]]:
    """Return the GeoJSON features of the tiny package by file (relative path)."""
    commune = {"district_name": "Thành phố Trà Vinh", "province_name": "Trà Vinh", "commune_type": "xã"}
    return {
        "boundaries/communes.geojson": [
            _feature(
                {
                    "commune_id": "C1",
                    "commune_code": "29263",
                    "commune_name": "Xã Long Đức",
                    **commune,
                    "population": 1100,
                    "households": 300,
                },
                "Polygon",
                [_C1],
            ),
            _feature(
                {
                    "commune_id": "C2",
                    "commune_code": "",
                    "commune_name": "Phường 1",
                    **commune,
                    "commune_type": "phường",
                    "population": 750,
                    "households": 200,
                },
                "Polygon",
                [_C2],
            ),
        ],
        "boundaries/hamlets.geojson": [
            _feature(
                {
                    "hamlet_id": "H1",
                    "hamlet_name": "Ấp Chợ",
                    "commune_id": "C1",
                    "households": 120,
                    "population": 440,
                    "khmer_share": 0.1,
                },
                "Point",
                [106.31, 9.92],
            ),
            _feature(
                {
                    "hamlet_id": "H2",
                    "hamlet_name": "Ấp Giồng Lớn",
                    "commune_id": "C1",
                    "households": 180,
                    "population": 660,
                    "khmer_share": 0.6,
                },
                "Point",
                [106.34, 9.93],
            ),
            _feature(
                {
                    "hamlet_id": "H3",
                    "hamlet_name": "Khóm 3",
                    "commune_id": "C2",
                    "households": 200,
                    "population": 750,
                    "khmer_share": 0.0,
                },
                "Point",
                [106.38, 9.92],
            ),
        ],
        "fibre/nodes.geojson": [
            _feature(
                {
                    "node_id": "N1",
                    "operator": "VNPT",
                    "node_type": "OLT",
                    "name": "OLT Long Đức",
                    "commune_id": "C1",
                },
                "Point",
                [106.32, 9.925],
            ),
        ],
        "roads/roads.geojson": [
            _feature(
                {"road_id": "R1", "highway": "tertiary", "name": "Đường 3/2"},
                "LineString",
                [[106.31, 9.92], [106.34, 9.93]],
            ),
            _feature(
                {"road_id": "R2", "highway": "residential", "name": None},
                "LineString",
                [[106.34, 9.93], [106.38, 9.92]],
            ),
            _feature(
                {"road_id": "R3", "highway": "track", "name": None},
                "LineString",
                [[106.32, 9.925], [106.31, 9.92]],
            ),
        ],
    }


def write_tiny_package(root: Path) -> Path:
    """Write the tiny valid package under ``root`` and return ``root``."""
    for rel, features in tiny_features().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_collection(features), encoding="utf-8")
    for rel, text in (
        ("dataset.toml", TINY_DATASET_TOML),
        ("towers/sites.csv", TINY_SITES_CSV),
        ("survey/hamlet_survey.csv", TINY_SURVEY_CSV),
    ):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def tiny_package(tmp_path: Path) -> Path:
    """A valid 2-commune data package in a fresh temporary folder (see module docstring)."""
    return write_tiny_package(tmp_path / "pkg")
