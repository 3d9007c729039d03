"""A tiny data package in the 2025-07 layout (new Vĩnh Long, province 86): no districts.

``write_2025_package(root)`` writes the tiny package of ``tests/conftest.py`` and turns it into the
July-2025 layout the way ``tests/test_validate.py`` does (``layout = "2025-07"``, province 86,
official new codes and names, no ``district_name``), then adds two communes:

=====  =====  ==================  =====================  =====================  ===================
id     code   name                former_province        former_district        old_commune_codes
=====  =====  ==================  =====================  =====================  ===================
C1     29263  Phường Long Đức     Trà Vinh               Thành phố Trà Vinh     29236;29263
C2     29242  Phường Trà Vinh     Trà Vinh               Thành phố Trà Vinh     29239;29242;29260
C3     29461  Xã Trà Cú           Trà Vinh               Huyện Trà Cú           29461;29479;29485
C4     28807  Xã Giao Long        Bến Tre;Trà Vinh       Huyện Châu Thành       28807;28813;28828
=====  =====  ==================  =====================  =====================  ===================

C4 lists two former provinces (as a geometry-derived package does when a sliver of a neighbour
touches it); its hamlet H5 was in Bến Tre's Xã Giao Long, so it counts in Bến Tre. Hamlets carry
their former commune, as the Vĩnh Long generator writes them (``former_commune_code`` /
``former_commune_name``, ``former_district``, ``former_province``): H1 Xã Long Đức (29263), H2
Phường 4 (29236), H3 Phường 3 (29242), all Thành phố Trà Vinh; H4 Xã Ngãi Xuyên (29479, Huyện Trà
Cú, in C3); H5 Xã Giao Long (28813, Bến Tre's Huyện Châu Thành, in C4).

Survey (hamlet rows; C2's commune row is shadowed by H3):

====  ==========  ====  ======  ==========  ========
row   households  ftth  adults  smartphone  internet
====  ==========  ====  ======  ==========  ========
H1    100         70    300     220         250
H2    150         90    450     330         370
H3    180         130   520     400         440
H4    90          30    270     150         200
H5    60          20    180     90          120
====  ==========  ====  ======  ==========  ========

Former province Trà Vinh (C1–C3): FTTH 320 / 520, smartphone 1,100 / 1,540, internet 1,260 / 1,540;
Bến Tre (C4): 20 / 60, 90 / 180, 120 / 180.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import write_tiny_package

COMMUNES = "boundaries/communes.geojson"
HAMLETS = "boundaries/hamlets.geojson"

_C3 = [[106.40, 9.90], [106.45, 9.90], [106.45, 9.95], [106.40, 9.95], [106.40, 9.90]]
_C4 = [[106.45, 9.90], [106.50, 9.90], [106.50, 9.95], [106.45, 9.95], [106.45, 9.90]]

FORMER: dict[str, dict[str, str]] = {
    "C1": {
        "commune_code": "29263",
        "commune_name": "Phường Long Đức",
        "commune_type": "phường",
        "former_province": "Trà Vinh",
        "former_district": "Thành phố Trà Vinh",
        "old_commune_codes": "29236;29263",
    },
    "C2": {
        "commune_code": "29242",
        "commune_name": "Phường Trà Vinh",
        "commune_type": "phường",
        "former_province": "Trà Vinh",
        "former_district": "Thành phố Trà Vinh",
        "old_commune_codes": "29239;29242;29260",
    },
    "C3": {
        "commune_code": "29461",
        "commune_name": "Xã Trà Cú",
        "commune_type": "xã",
        "former_province": "Trà Vinh",
        "former_district": "Huyện Trà Cú",
        "old_commune_codes": "29461;29479;29485",
    },
    "C4": {
        "commune_code": "28807",
        "commune_name": "Xã Giao Long",
        "commune_type": "xã",
        "former_province": "Bến Tre;Trà Vinh",
        "former_district": "Huyện Châu Thành",
        "old_commune_codes": "28807;28813;28828",
    },
}
HAMLET_FORMER: dict[str, tuple[str, str]] = {
    "H1": ("29263", "Xã Long Đức"),
    "H2": ("29236", "Phường 4"),
    "H3": ("29242", "Phường 3"),
    "H4": ("29479", "Xã Ngãi Xuyên"),
    "H5": ("28813", "Xã Giao Long"),
}
HAMLET_FORMER_UNITS: dict[str, tuple[str, str]] = {
    "H1": ("Thành phố Trà Vinh", "Trà Vinh"),
    "H2": ("Thành phố Trà Vinh", "Trà Vinh"),
    "H3": ("Thành phố Trà Vinh", "Trà Vinh"),
    "H4": ("Huyện Trà Cú", "Trà Vinh"),
    "H5": ("Huyện Châu Thành", "Bến Tre"),
}

_SURVEY_EXTRA = (
    "H4,C3,Ấp Chông Nô,90,30,270,150,200,2026-10-01,synthetic\n"
    "H5,C4,Ấp Giao Lợi,60,20,180,90,120,2026-10-01,synthetic\n"
)


def _feature(props: dict[str, Any], geom_type: str, coords: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": geom_type, "coordinates": coords}}


def edit_features(root: Path, rel: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Load a GeoJSON file as dict, let ``change(doc)`` edit it, write it back."""
    path = root / rel
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _communes(doc: dict[str, Any]) -> None:
    template = dict(doc["features"][0]["properties"])
    doc["features"] += [
        _feature({**template, "commune_id": "C3", "population": 560, "households": 150}, "Polygon", [_C3]),
        _feature({**template, "commune_id": "C4", "population": 380, "households": 100}, "Polygon", [_C4]),
    ]
    for feature in doc["features"]:
        props = feature["properties"]
        props.pop("district_name", None)
        props.update(FORMER[props["commune_id"]])
        props["province_name"] = "Vĩnh Long"


def _hamlets(doc: dict[str, Any]) -> None:
    doc["features"] += [
        _feature(
            {
                "hamlet_id": "H4",
                "hamlet_name": "Ấp Chông Nô",
                "commune_id": "C3",
                "households": 150,
                "population": 560,
                "khmer_share": 0.6,
            },
            "Point",
            [106.42, 9.92],
        ),
        _feature(
            {
                "hamlet_id": "H5",
                "hamlet_name": "Ấp Giao Lợi",
                "commune_id": "C4",
                "households": 100,
                "population": 380,
                "khmer_share": 0.0,
            },
            "Point",
            [106.47, 9.93],
        ),
    ]
    for feature in doc["features"]:
        props = feature["properties"]
        props["former_commune_code"], props["former_commune_name"] = HAMLET_FORMER[props["hamlet_id"]]
        props["former_district"], props["former_province"] = HAMLET_FORMER_UNITS[props["hamlet_id"]]


def _roads(doc: dict[str, Any]) -> None:
    doc["features"].append(
        _feature(
            {"road_id": "R4", "highway": "residential", "name": "Đường Trà Cú"},
            "LineString",
            [[106.38, 9.92], [106.42, 9.92]],
        )
    )


def set_former(root: Path, commune_id: str, **props: str) -> None:
    """Change properties of one commune of a written package (e.g. a hostile ``former_district``)."""

    def change(doc: dict[str, Any]) -> None:
        for feature in doc["features"]:
            if feature["properties"]["commune_id"] == commune_id:
                feature["properties"].update(props)

    edit_features(root, COMMUNES, change)


def write_2025_package(root: Path) -> Path:
    """Write the tiny 2025-07 package (module docstring) under ``root`` and return ``root``."""
    write_tiny_package(root)
    toml = root / "dataset.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('layout = "2009"', 'layout = "2025-07"').replace(
        'province_code = "84"', 'province_code = "86"'
    )
    text = text.replace('province_name = "Trà Vinh"', 'province_name = "Vĩnh Long"')
    text = text.replace('boundary_vintage = "2009 layout"', 'boundary_vintage = "2025-07-01 layout (test)"')
    toml.write_text(text, encoding="utf-8")
    edit_features(root, COMMUNES, _communes)
    edit_features(root, HAMLETS, _hamlets)
    edit_features(root, "roads/roads.geojson", _roads)
    with open(root / "survey" / "hamlet_survey.csv", "a", encoding="utf-8") as fh:
        fh.write(_SURVEY_EXTRA)
    return root


def package_and_gaps(root: Path) -> tuple[Any, Any]:
    """Write the package under ``root``, load it and compute its gaps with the fast stand-in signal."""
    from analysis.gaps import compute_gaps
    from analysis.params import GapParams
    from geo.package import load_package

    pkg = load_package(write_2025_package(root))
    return pkg, compute_gaps(pkg, GapParams(), signal_model="standin")
