"""Acceptance scenes: hand-laid data packages written from docs/DATA.md with json / csv / plain text.

Coordinates are laid out in kilometres on a local plane whose origin is UTM 48N (EPSG:32648)
E 600,000 m, N 1,080,000 m (about 105.92° E, 9.77° N, Trà Vinh's UTM zone); ``x`` is east, ``y``
north. Every distance and bearing the tests expect is computed on that plane, which is the metric CRS
the documentation says the analysis works in. The files store WGS 84 lon/lat (7 decimals, ~1 cm).

``write_package(scene, root, layout)`` writes one scene as a package. ``layout`` is the boundary
layout (docs/DATA.md "Layouts"), written as ``layout = ...`` in dataset.toml: ``"2009"`` communes
carry ``district_name``; the ``"2025-07"`` branch writes the province as the new Vĩnh Long (86) and
real official codes and names of its communes (``OFFICIAL_XA_2025``) as keys, no ``district_name``
and ``former_district`` instead. Every scene runs in both layouts.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from tests.acceptance.reference import (
    DEFAULT_BANDWIDTH_4G_MHZ,
    DEFAULT_BEAMWIDTH_DEG,
    DEFAULT_EIRP_4G_DBM,
    HAMLET_RADIUS_M,
    RadioCell,
)

LAYOUTS: tuple[str, ...] = ("2009", "2025-07")

ORIGIN_E_M = 600_000.0
ORIGIN_N_M = 1_080_000.0
METRIC_EPSG = 32648
_TO_LONLAT = Transformer.from_crs(METRIC_EPSG, 4326, always_xy=True)

PROVINCE_NAME = "Trà Vinh"
PROVINCE_CODE = "84"
#: In the 2025-07 layout the province is the new Vĩnh Long and communes carry official codes and
#: names of the July-2025 list (docs/DATA.md "Layouts", the official-code checks): real rural
#: communes of province 86, given to the scenes' communes in order (types stay "xã").
PROVINCE_2025 = ("Vĩnh Long", "86")
OFFICIAL_XA_2025: tuple[tuple[str, str], ...] = (
    ("29410", "Xã Hòa Minh"),
    ("29467", "Xã Tập Sơn"),
    ("29461", "Xã Trà Cú"),
    ("29489", "Xã Hàm Giang"),
    ("29416", "Xã Cầu Ngang"),
    ("29455", "Xã Hiệp Mỹ"),
)


def metric(x_km: float, y_km: float) -> tuple[float, float]:
    """Local km -> UTM 48N metres."""
    return ORIGIN_E_M + 1000.0 * x_km, ORIGIN_N_M + 1000.0 * y_km


def lonlat(x_km: float, y_km: float) -> tuple[float, float]:
    """Local km -> (lon, lat) rounded to 7 decimals."""
    lon, lat = _TO_LONLAT.transform(*metric(x_km, y_km))
    return round(lon, 7), round(lat, 7)


@dataclass(frozen=True)
class Commune:
    """A rectangular commune x0..x1 × y0..y1 km."""

    key: str
    name: str
    commune_type: str  # xã / phường / thị trấn
    district: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Hamlet:
    """A point hamlet, or a square polygon hamlet of half side ``half_km`` centred on (x, y)."""

    key: str
    name: str
    commune: str
    x: float
    y: float
    households: int
    half_km: float | None = None


@dataclass(frozen=True)
class Cell:
    """One row of towers/sites.csv, spelled as the file will carry it (aliases allowed)."""

    site_id: str
    cell_id: str
    operator: str
    x: float
    y: float
    height_m: float
    status: str
    technology: str
    band_mhz: float
    azimuth_deg: float | None = None
    beamwidth_deg: float | None = None
    eirp_dbm: float | None = None
    bandwidth_mhz: float | None = None


@dataclass(frozen=True)
class Road:
    """A road centre line through local km points."""

    road_id: str
    highway: str
    points: tuple[tuple[float, float], ...]
    name: str = ""


@dataclass(frozen=True)
class Node:
    """A fibre access node."""

    node_id: str
    operator: str
    node_type: str
    x: float
    y: float
    commune: str


@dataclass(frozen=True)
class SurveyRow:
    """A survey row keyed by hamlet id (``by="id"``), by commune + hamlet name (``"name"``) or a
    commune-level row (``"commune"``, ``hamlet`` unused)."""

    by: str
    commune: str
    hamlet: str | None
    households: int
    households_ftth: int
    adults: int
    adults_with_smartphone: int
    survey_date: str


@dataclass(frozen=True)
class Scene:
    """A whole package in local coordinates."""

    name: str
    communes: tuple[Commune, ...]
    hamlets: tuple[Hamlet, ...]
    cells: tuple[Cell, ...]
    roads: tuple[Road, ...]
    nodes: tuple[Node, ...]
    survey: tuple[SurveyRow, ...]

    def hamlet(self, key: str) -> Hamlet:
        """The hamlet with symbolic key ``key``."""
        return next(h for h in self.hamlets if h.key == key)

    def commune(self, key: str) -> Commune:
        """The commune with symbolic key ``key``."""
        return next(c for c in self.communes if c.key == key)


@dataclass
class PackageIds:
    """The identifiers a written package uses for the scene's symbolic keys."""

    root: Path
    layout: str
    commune_id: dict[str, str] = field(default_factory=dict)
    hamlet_id: dict[str, str] = field(default_factory=dict)

    def hamlet_key(self, hamlet_id: str) -> str:
        """Symbolic key of a written hamlet id."""
        return next(k for k, v in self.hamlet_id.items() if v == hamlet_id)


def _square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return [list(lonlat(x, y)) for x, y in corners]


def _feature(props: dict[str, Any], geom_type: str, coords: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": geom_type, "coordinates": coords}}


def _write_geojson(path: Path, features: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _dataset_toml(scene: Scene, layout: str) -> str:
    vintage = {"2009": "2009 layout", "2025-07": "2025-07-01 layout"}[layout]
    head = [
        f'name = "{scene.name}"',
        f'province_name = "{PROVINCE_NAME if layout == "2009" else PROVINCE_2025[0]}"',
        f'province_code = "{PROVINCE_CODE if layout == "2009" else PROVINCE_2025[1]}"',
        f'boundary_vintage = "{vintage}"',
        f'layout = "{layout}"',  # docs/DATA.md "Layouts"
        'created = "2026-11-25"',
    ]
    files = {
        "communes": "boundaries/communes.geojson",
        "hamlets": "boundaries/hamlets.geojson",
        "towers": "towers/sites.csv",
        "fibre_nodes": "fibre/nodes.geojson",
        "roads": "roads/roads.geojson",
        "survey": "survey/hamlet_survey.csv",
    }
    body = []
    for key, rel in files.items():
        body += [
            "",
            f"[layers.{key}]",
            f'file = "{rel}"',
            "synthetic = true",
            'source = "PhuSong acceptance test (hand-laid)"',
            'licence = "CC0-1.0"',
        ]
    return "\n".join(head + body) + "\n"


def _assign_ids(scene: Scene, root: Path, layout: str) -> PackageIds:
    ids = PackageIds(root=root, layout=layout)
    for n, c in enumerate(scene.communes, start=1):
        # 2009: censusVN2009-style 7-digit keys; 2025-07: 5-digit GSO codes of the new communes.
        ids.commune_id[c.key] = f"84701{n:02d}" if layout == "2009" else OFFICIAL_XA_2025[n - 1][0]
    for c in scene.communes:
        members = [h for h in scene.hamlets if h.commune == c.key]
        for nn, h in enumerate(members, start=1):
            ids.hamlet_id[h.key] = f"{ids.commune_id[c.key]}-{nn:02d}"
    return ids


def _official_name(code: str) -> str:
    return dict(OFFICIAL_XA_2025)[code]


def _commune_features(scene: Scene, ids: PackageIds, layout: str) -> list[dict[str, Any]]:
    features = []
    for c in scene.communes:
        households = sum(h.households for h in scene.hamlets if h.commune == c.key)
        props: dict[str, Any] = {
            "commune_id": ids.commune_id[c.key],
            "commune_code": ids.commune_id[c.key] if layout != "2009" else "",
            "commune_name": c.name if layout == "2009" else _official_name(ids.commune_id[c.key]),
            "province_name": PROVINCE_NAME if layout == "2009" else PROVINCE_2025[0],
            "commune_type": c.commune_type,
            "population": households * 4,
            "households": households,
        }
        if layout == "2009":
            props["district_name"] = c.district
        else:
            props["former_district"] = c.district
        features.append(_feature(props, "Polygon", [_square(*c.box)]))
    return features


def _hamlet_features(scene: Scene, ids: PackageIds, layout: str) -> list[dict[str, Any]]:
    features = []
    for h in scene.hamlets:
        commune = scene.commune(h.commune)
        props: dict[str, Any] = {
            "hamlet_id": ids.hamlet_id[h.key],
            "hamlet_name": h.name,
            "commune_id": ids.commune_id[h.commune],
            "hamlet_type": "ấp",
            "households": h.households,
            "population": h.households * 4,
        }
        if layout == "2009":
            props["district_name"] = commune.district
        if h.half_km is None:
            features.append(_feature(props, "Point", list(lonlat(h.x, h.y))))
        else:
            s = h.half_km
            features.append(_feature(props, "Polygon", [_square(h.x - s, h.y - s, h.x + s, h.y + s)]))
    return features


def write_package(scene: Scene, root: Path, layout: str) -> PackageIds:
    """Write ``scene`` as a data package under ``root`` (docs/DATA.md) and return its identifiers."""
    if layout not in ("2009", "2025-07"):
        raise ValueError(f"unknown layout {layout!r}")
    root.mkdir(parents=True, exist_ok=True)
    ids = _assign_ids(scene, root, layout)
    (root / "dataset.toml").write_text(_dataset_toml(scene, layout), encoding="utf-8")
    _write_geojson(root / "boundaries/communes.geojson", _commune_features(scene, ids, layout))
    _write_geojson(root / "boundaries/hamlets.geojson", _hamlet_features(scene, ids, layout))
    site_header = [
        "site_id",
        "cell_id",
        "operator",
        "lat",
        "lon",
        "height_m",
        "status",
        "technology",
        "band_mhz",
        "azimuth_deg",
        "beamwidth_deg",
        "eirp_dbm",
        "bandwidth_mhz",
    ]
    site_rows = []
    for c in scene.cells:
        lon, lat = lonlat(c.x, c.y)
        site_rows.append(
            [
                c.site_id,
                c.cell_id,
                c.operator,
                lat,
                lon,
                c.height_m,
                c.status,
                c.technology,
                c.band_mhz,
                c.azimuth_deg,
                c.beamwidth_deg,
                c.eirp_dbm,
                c.bandwidth_mhz,
            ]
        )
    _write_csv(root / "towers/sites.csv", site_header, site_rows)
    _write_geojson(
        root / "fibre/nodes.geojson",
        [
            _feature(
                {
                    "node_id": n.node_id,
                    "operator": n.operator,
                    "node_type": n.node_type,
                    "commune_id": ids.commune_id[n.commune],
                },
                "Point",
                list(lonlat(n.x, n.y)),
            )
            for n in scene.nodes
        ],
    )
    _write_geojson(
        root / "roads/roads.geojson",
        [
            _feature(
                {"road_id": r.road_id, "highway": r.highway, "name": r.name},
                "LineString",
                [list(lonlat(x, y)) for x, y in r.points],
            )
            for r in scene.roads
        ],
    )
    survey_header = [
        "hamlet_id",
        "commune_id",
        "hamlet_name",
        "households",
        "households_ftth",
        "adults",
        "adults_with_smartphone",
        "survey_date",
        "source",
    ]
    survey_rows = []
    for s in scene.survey:
        hamlet = scene.hamlet(s.hamlet) if s.hamlet else None
        hid = ids.hamlet_id[hamlet.key] if (hamlet and s.by == "id") else ""
        name = hamlet.name if (hamlet and s.by in ("id", "name")) else ""
        survey_rows.append(
            [
                hid,
                ids.commune_id[s.commune],
                name,
                s.households,
                s.households_ftth,
                s.adults,
                s.adults_with_smartphone,
                s.survey_date,
                "acceptance test",
            ]
        )
    _write_csv(root / "survey/hamlet_survey.csv", survey_header, survey_rows)
    return ids


# --------------------------------------------------------------------------------------------------
# Scene A, "radio": one omni and one three-sector LTE 1800 site in the west, hamlets placed on the
# class boundaries they test, two remote hamlets ~20 km east (one beside a 2G site and a planned 4G
# site). Each hamlet also has its own 300 m road stub with a cabinet (0.5 km: drop) except A-PLAN
# (2.2 km: extendable) and A-NONE (a stub without any node: out of reach, no road path).
# --------------------------------------------------------------------------------------------------
S_OMNI = (4.0125, 6.0125)  # a pixel centre of the 25 m grid (km on the 25 m lattice + 12.5 m)
S_SEC = (5.0125, 11.0125)
SEC_AZIMUTHS = (0.0, 120.0, 240.0)
_SIN60 = 3**0.5 / 2


def _polar(origin: tuple[float, float], d_km: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``d_km`` from ``origin`` at a bearing clockwise from north (rounded to 1 m)."""
    b = math.radians(bearing_deg)
    return round(origin[0] + d_km * math.sin(b), 3), round(origin[1] + d_km * math.cos(b), 3)


def radio_scene() -> Scene:
    """Scene A (see tests/acceptance/README.md)."""
    d1, d2, d3 = "Huyện Cầu Ngang", "Huyện Duyên Hải", "Huyện Trà Cú"
    communes = (
        Commune("A1", "Xã Hiệp Hòa", "xã", d1, (0.0, 0.0, 9.5, 14.0)),
        Commune("A2", "Xã Long Khánh", "xã", d2, (9.5, 0.0, 18.0, 14.0)),
        Commune("A3", "Xã Đôn Xuân", "xã", d3, (18.0, 0.0, 26.0, 14.0)),
    )
    hamlets = (
        # Point hamlets at (distance km, bearing °) from the omni site; their 700 m discs are whole.
        Hamlet("A-GOOD", "Ấp Chợ", "A1", *_polar(S_OMNI, 1.4, 180.0), 120),
        Hamlet("A-GOOD90", "Ấp Giồng Lớn", "A1", *_polar(S_OMNI, 2.954, 90.0), 100),
        Hamlet("A-GOOD60", "Ấp Sóc Chuối", "A1", *_polar(S_OMNI, 3.314, 150.0), 100),
        Hamlet("A-FAIR", "Ấp Bến Đình", "A1", *_polar(S_OMNI, 4.85, 200.0), 100),
        # 400 m squares 1.8 km from the sector site: on sector 1's boresight, and midway between
        # sectors 1 and 2 (60° off both: 12 (60/65)² = 10.2 dB down).
        Hamlet("A-SEC-BORE", "Ấp Phú Thọ", "A1", S_SEC[0], S_SEC[1] + 1.8, 100, half_km=0.2),
        Hamlet(
            "A-SEC-NULL",
            "Ấp Rạch Giồng",
            "A1",
            round(S_SEC[0] + 1.8 * _SIN60, 3),
            S_SEC[1] + 0.9,
            100,
            half_km=0.2,
        ),
        Hamlet("A-POOR", "Ấp Cây Da", "A2", *_polar(S_OMNI, 8.8, 120.0), 200),
        Hamlet("A-NONE10", "Ấp Kinh Xáng", "A2", *_polar(S_OMNI, 12.26, 75.0), 100),
        Hamlet("A-NONE40", "Ấp Ô Đùng", "A2", *_polar(S_OMNI, 12.63, 105.0), 100),
        Hamlet("A-NONE", "Ấp Xa Xôi", "A3", 24.5, 6.0, 150),
        Hamlet("A-PLAN", "Ấp Mới", "A3", 24.5, 11.0, 100),
    )
    cells: list[Cell] = [
        # Omni: operator alias "VTL" (Viettel), technology alias "LTE", EIRP / bandwidth left to the
        # documented 4G defaults (59 dBm over 20 MHz).
        Cell("VT-OMNI", "VT-OMNI-L18-0", "VTL", *S_OMNI, 30.0, "active", "LTE", 1800.0),
    ]
    for k, az in enumerate(SEC_AZIMUTHS, start=1):
        # Three sectors: operator alias "Mobifone" (MobiFone), 55 dBm over 20 MHz, 65° beamwidth.
        cells.append(
            Cell(
                "MB-SEC",
                f"MB-SEC-L18-{k}",
                "Mobifone",
                *S_SEC,
                25.0,
                "active",
                "4G",
                1800.0,
                az,
                65.0,
                55.0,
                20.0,
            )
        )
    # Beside A-PLAN: a 2G-only site (aliases "VNPT", "GSM") and a planned 4G site; neither is 4G coverage.
    cells.append(
        Cell("VN-2G", "VN-2G-G09-0", "VNPT", 24.7, 11.2, 30.0, "active", "GSM", 900.0, eirp_dbm=56.0)
    )
    cells.append(
        Cell("VT-PLAN", "VT-PLAN-L18-0", "Viettel", 24.3, 10.8, 30.0, "planned", "4G", 1800.0, eirp_dbm=59.0)
    )
    roads: list[Road] = []
    nodes: list[Node] = []
    node_ops = ("VNPT", "Viettel", "Mobifone", "VTL")
    for i, h in enumerate(hamlets):
        if h.key == "A-PLAN":
            roads.append(Road(f"RA-{i:02d}", "unclassified", ((h.x, h.y + 0.1), (h.x - 2.0, h.y + 0.1))))
            nodes.append(Node(f"NA-{i:02d}", "VNPT", "OLT", h.x - 2.0, h.y + 0.2, h.commune))
            continue
        roads.append(Road(f"RA-{i:02d}", "residential", ((h.x, h.y + 0.1), (h.x + 0.3, h.y + 0.1))))
        if h.key != "A-NONE":
            nodes.append(Node(f"NA-{i:02d}", node_ops[i % 4], "cabinet", h.x + 0.3, h.y + 0.2, h.commune))
    survey = [
        SurveyRow("id", h.commune, h.key, 100, 90, 200, 100 if h.key == "A-FAIR" else 180, "2025-09-01")
        for h in hamlets
        if h.key != "A-SEC-NULL"
    ]
    return Scene(
        "Acceptance scene A (radio)",
        communes,
        hamlets,
        tuple(cells),
        tuple(roads),
        tuple(nodes),
        tuple(survey),
    )


# --------------------------------------------------------------------------------------------------
# Scene B, "reach and survey": one straight 12 km road R1 (y = 3 km), a crossing road R2 (x = 6 km,
# no shared vertex), two 1 km fragments R3 / R4 without fibre, an OLT (N1) and a cabinet (N2);
# LTE sites every 2.5 km so that every hamlet is fully "good" (no signal flag).
# --------------------------------------------------------------------------------------------------
def reach_scene() -> Scene:
    """Scene B (see tests/acceptance/README.md)."""
    communes = (
        Commune("B1", "Xã Long Đức", "xã", "Huyện Châu Thành", (0.0, 0.0, 4.4, 6.0)),
        Commune("B2", "Xã Nguyệt Hóa", "xã", "Huyện Châu Thành", (4.4, 0.0, 7.5, 6.0)),
        Commune("B3", "Xã Hòa Lợi", "xã", "Huyện Châu Thành", (7.5, 0.0, 12.0, 6.0)),
    )
    hamlets = (
        Hamlet("B-WEST", "Ấp Tây", "B1", 0.8, 3.1, 120),
        Hamlet("B-FRAG-NEAR", "Ấp Giồng Cát", "B1", 2.5, 3.6, 200),
        Hamlet("B-FRAG-FAR", "Ấp Bàu Sen", "B1", 2.5, 2.0, 100),
        Hamlet("B-DROP-LOW", "Ấp Đa Lộc", "B1", 3.6, 3.1, 100),
        Hamlet("B-NOSURVEY", "Ấp Sâm Bua", "B1", 4.2, 2.8, 150),
        Hamlet("B-DROP-880", "Ấp Hòa Hảo", "B2", 4.58, 2.9, 150),
        Hamlet("B-EXT-1120", "Ấp Bình La", "B2", 4.82, 3.1, 100),
        Hamlet("B-X", "Ấp Ngã Tư", "B2", 6.1, 4.0, 100),
        Hamlet("B-EXT-4880", "Ấp Cồn Cù", "B3", 8.58, 3.1, 100),
        Hamlet("B-OUT-5120", "Ấp Xoài Xiêm", "B3", 8.82, 2.9, 200),
        Hamlet("B-OWN", "Ấp Trà Kháo", "B3", 10.5, 3.1, 100),
    )
    cells = tuple(
        Cell(
            f"VT-B{k}",
            f"VT-B{k}-L18-0",
            "Viettel",
            x,
            3.5,
            30.0,
            "active",
            "4G",
            1800.0,
            eirp_dbm=59.0,
            bandwidth_mhz=20.0,
        )
        for k, x in enumerate((0.5, 3.0, 5.5, 8.0, 10.5), start=1)
    )
    roads = (
        Road("R1", "tertiary", ((0.0, 3.0), (12.0, 3.0)), "Đường tỉnh 911"),
        Road("R2", "unclassified", ((6.0, 0.5), (6.0, 5.5)), "Đường huyện 04"),
        Road("R3", "track", ((2.0, 3.85), (3.0, 3.85))),
        Road("R4", "track", ((2.0, 1.9), (3.0, 1.9))),
    )
    nodes = (
        Node("N1", "VNPT", "OLT", 4.0, 3.2, "B1"),
        Node("N2", "VTL", "cabinet", 0.2, 2.8, "B1"),
    )
    survey = (
        SurveyRow("id", "B1", "B-WEST", 100, 81, 100, 81, "2025-03-01"),
        SurveyRow("name", "B1", "B-FRAG-NEAR", 100, 30, 100, 60, "2025-03-01"),
        SurveyRow("id", "B1", "B-FRAG-FAR", 100, 20, 100, 50, "2025-06-01"),  # newer, listed first
        SurveyRow("id", "B1", "B-FRAG-FAR", 100, 90, 100, 90, "2024-01-10"),
        SurveyRow("id", "B1", "B-DROP-LOW", 100, 79, 100, 79, "2025-03-01"),
        SurveyRow("id", "B2", "B-DROP-880", 100, 80, 100, 80, "2025-03-01"),
        SurveyRow("id", "B2", "B-EXT-1120", 100, 50, 100, 81, "2025-03-01"),
        SurveyRow("id", "B2", "B-X", 100, 10, 100, 95, "2025-03-01"),
        SurveyRow("commune", "B3", None, 400, 360, 400, 360, "2023-05-01"),  # older commune row
        SurveyRow("commune", "B3", None, 300, 120, 300, 210, "2025-05-01"),  # newer: 0.40 / 0.70
        SurveyRow("id", "B3", "B-OWN", 100, 90, 100, 90, "2024-12-01"),  # own row beats the commune row
    )
    return Scene("Acceptance scene B (reach and survey)", communes, hamlets, cells, roads, nodes, survey)


# --------------------------------------------------------------------------------------------------
# Scene geometry in the metric CRS, for the expected values
# --------------------------------------------------------------------------------------------------
# docs/DATA.md towers/sites.csv: operators and the aliases it names ("VNPT", "Mobifone", "VTL");
# technology aliases GSM, UMTS, LTE, NR.
CANONICAL_OPERATOR = {
    "Viettel": "Viettel",
    "VTL": "Viettel",
    "VinaPhone": "VinaPhone",
    "VNPT": "VinaPhone",
    "MobiFone": "MobiFone",
    "Mobifone": "MobiFone",
}
CANONICAL_TECHNOLOGY = {"2G": "2G", "GSM": "2G", "3G": "3G", "UMTS": "3G", "4G": "4G", "LTE": "4G"}


def metric_cells(scene: Scene) -> list[RadioCell]:
    """The active 4G cells of ``scene`` as the reference model sees them (defaults filled in)."""
    out = []
    for c in scene.cells:
        if c.status != "active" or CANONICAL_TECHNOLOGY[c.technology] != "4G":
            continue
        x, y = metric(c.x, c.y)
        out.append(
            RadioCell(
                c.cell_id,
                CANONICAL_OPERATOR[c.operator],
                x,
                y,
                c.height_m,
                c.band_mhz,
                DEFAULT_EIRP_4G_DBM if c.eirp_dbm is None else c.eirp_dbm,
                DEFAULT_BANDWIDTH_4G_MHZ if c.bandwidth_mhz is None else c.bandwidth_mhz,
                c.azimuth_deg,
                DEFAULT_BEAMWIDTH_DEG if c.beamwidth_deg is None else c.beamwidth_deg,
            )
        )
    return out


def commune_polygon(c: Commune) -> Polygon:
    """Commune rectangle in metres."""
    (x0, y0), (x1, y1) = metric(c.box[0], c.box[1]), metric(c.box[2], c.box[3])
    return box(x0, y0, x1, y1)


def footprint(scene: Scene, key: str) -> Polygon:
    """Settlement footprint (docs/COVERAGE.md "Households per hamlet"): a polygon hamlet keeps its
    polygon; a point hamlet gets its Voronoi cell among the point hamlets of its commune ∩ a 700 m disc
    ∩ the commune polygon."""
    h = scene.hamlet(key)
    if h.half_km is not None:
        (x0, y0), (x1, y1) = (
            metric(h.x - h.half_km, h.y - h.half_km),
            metric(h.x + h.half_km, h.y + h.half_km),
        )
        return box(x0, y0, x1, y1)
    here = Point(*metric(h.x, h.y))
    area = here.buffer(HAMLET_RADIUS_M, quad_segs=64).intersection(commune_polygon(scene.commune(h.commune)))
    for other in scene.hamlets:
        if other.key != h.key and other.commune == h.commune and other.half_km is None:
            there = Point(*metric(other.x, other.y))
            # Voronoi cell = intersection of the half-planes nearer to ``here`` than to each other point.
            mid = ((here.x + there.x) / 2, (here.y + there.y) / 2)
            norm = here.distance(there)
            nx, ny = (here.x - there.x) / norm, (here.y - there.y) / norm
            big = 1e5
            px, py = -ny, nx
            half = Polygon(
                [
                    (mid[0] + px * big, mid[1] + py * big),
                    (mid[0] + px * big + nx * big, mid[1] + py * big + ny * big),
                    (mid[0] - px * big + nx * big, mid[1] - py * big + ny * big),
                    (mid[0] - px * big, mid[1] - py * big),
                ]
            )
            area = area.intersection(half)
    return area
