"""A small 2025-07 data package (new Vĩnh Long, province 86) for importing tables keyed by old communes.

``write_old_communes_package(root)`` writes the tiny package of ``tests/conftest.py`` and turns it
into the July-2025 layout (``layout = "2025-07"``, province 86, official new codes and names, no
``district_name``; see ``tests/test_validate.py`` ``_as_2025``) with four communes side by side
(0.05° squares from 106.30° E, 9.90–9.95° N) and hamlets that carry their pre-reform commune:

=====  =====  ================  ===================================  ===============================
id     code   name              old communes (2025-03) that fed it   hamlets (former commune)
=====  =====  ================  ===================================  ===============================
C1     29263  Phường Long Đức   29236 Phường 4, 29263 Xã Long Đức    H1 Ấp Chợ (29263),
                                                                     H2 Khóm 4 (29236)
C2     29242  Phường Trà Vinh   29239 Phường 1, 29242 Phường 3,      H3 Khóm 3 (29242)
                                29260 Phường 9
C3     29719  Xã Tam Bình       29719 Thị trấn Tam Bình (part),      H4 Khóm 1 (29719),
                                29755 Xã Mỹ Thạnh Trung              H6 Ấp Mỹ Phú (29755)
C4     29836  Xã Trà Côn        29719 Thị trấn Tam Bình (part),      H5 Khóm 2 (29719),
                                29827 Xã Nhơn Bình, 29836 Xã Trà     H7 Ấp Chợ (29827),
                                Côn, 29839 Xã Tân Mỹ                 H8 Ấp Trà Mẹt (29836)
=====  =====  ================  ===================================  ===============================

Thị trấn Tam Bình (29719) was split between Xã Tam Bình and Xã Trà Côn (``n_targets`` 2 in
:func:`geo.admin_units.load_old_to_new`); its hamlets hold 300 households on the Tam Bình side (H4)
and 100 on the Trà Côn side (H5), so its counts divide 0.75 / 0.25 by households.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import write_tiny_package

COMMUNES = "boundaries/communes.geojson"
HAMLETS = "boundaries/hamlets.geojson"
SURVEY = "survey/hamlet_survey.csv"
SITES = "towers/sites.csv"

#: (commune_id, code, name, type, former_province, former_district, old codes)
COMMUNE_ROWS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("C1", "29263", "Phường Long Đức", "phường", "Trà Vinh", "Thành phố Trà Vinh", "29236;29263"),
    ("C2", "29242", "Phường Trà Vinh", "phường", "Trà Vinh", "Thành phố Trà Vinh", "29239;29242;29260"),
    ("C3", "29719", "Xã Tam Bình", "xã", "Vĩnh Long", "Huyện Tam Bình", "29719;29755"),
    (
        "C4",
        "29836",
        "Xã Trà Côn",
        "xã",
        "Vĩnh Long",
        "Huyện Tam Bình;Huyện Trà Ôn",
        "29719;29827;29836;29839",
    ),
)

#: (hamlet_id, name, commune_id, former code, former name, households, lon)
HAMLET_ROWS: tuple[tuple[str, str, str, str, str, int, float], ...] = (
    ("H1", "Ấp Chợ", "C1", "29263", "Xã Long Đức", 120, 106.31),
    ("H2", "Khóm 4", "C1", "29236", "Phường 4", 180, 106.34),
    ("H3", "Khóm 3", "C2", "29242", "Phường 3", 200, 106.38),
    ("H4", "Khóm 1", "C3", "29719", "Thị trấn Tam Bình", 300, 106.41),
    ("H6", "Ấp Mỹ Phú", "C3", "29755", "Xã Mỹ Thạnh Trung", 150, 106.44),
    ("H5", "Khóm 2", "C4", "29719", "Thị trấn Tam Bình", 100, 106.46),
    ("H7", "Ấp Chợ", "C4", "29827", "Xã Nhơn Bình", 140, 106.47),
    ("H8", "Ấp Trà Mẹt", "C4", "29836", "Xã Trà Côn", 160, 106.49),
)

SURVEY_CSV = """\
hamlet_id,commune_id,hamlet_name,households,households_ftth,adults,adults_with_smartphone,survey_date,source
H1,C1,Ấp Chợ,100,70,300,220,2025-10-01,test
H3,C2,Khóm 3,180,130,520,400,2025-10-01,test
"""


def _square(lon0: float) -> list[list[list[float]]]:
    lon1 = round(lon0 + 0.05, 2)
    return [[[lon0, 9.90], [lon1, 9.90], [lon1, 9.95], [lon0, 9.95], [lon0, 9.90]]]


def _feature(props: dict[str, Any], geom_type: str, coords: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": geom_type, "coordinates": coords}}


def _write_collection(path: Path, features: list[dict[str, Any]]) -> None:
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def commune_households() -> dict[str, int]:
    """Households per commune id: the sum over its hamlets."""
    out: dict[str, int] = {}
    for _hid, _name, cid, _code, _former, households, _lon in HAMLET_ROWS:
        out[cid] = out.get(cid, 0) + households
    return out


def write_old_communes_package(root: Path) -> Path:
    """Write the 2025-07 test package (see the module docstring) under ``root`` and return ``root``."""
    write_tiny_package(root)
    toml = root / "dataset.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        .replace('layout = "2009"', 'layout = "2025-07"')
        .replace('province_code = "84"', 'province_code = "86"')
        .replace('province_name = "Trà Vinh"', 'province_name = "Vĩnh Long"')
        .replace('boundary_vintage = "2009 layout"', 'boundary_vintage = "2025-07-01 layout"'),
        encoding="utf-8",
    )
    households = commune_households()
    communes = [
        _feature(
            {
                "commune_id": cid,
                "commune_code": code,
                "commune_name": name,
                "province_name": "Vĩnh Long",
                "commune_type": kind,
                "former_province": former_province,
                "former_district": former_district,
                "old_commune_codes": old_codes,
                "population": households[cid] * 4,
                "households": households[cid],
            },
            "Polygon",
            _square(round(106.30 + 0.05 * i, 2)),
        )
        for i, (cid, code, name, kind, former_province, former_district, old_codes) in enumerate(COMMUNE_ROWS)
    ]
    _write_collection(root / COMMUNES, communes)
    hamlets = [
        _feature(
            {
                "hamlet_id": hid,
                "hamlet_name": name,
                "commune_id": cid,
                "former_commune_code": code,
                "former_commune_name": former,
                "households": n,
                "population": n * 4,
            },
            "Point",
            [lon, 9.92],
        )
        for hid, name, cid, code, former, n, lon in HAMLET_ROWS
    ]
    _write_collection(root / HAMLETS, hamlets)
    (root / SURVEY).write_text(SURVEY_CSV, encoding="utf-8")
    return root
