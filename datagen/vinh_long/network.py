"""Roads, base stations and fibre of the new Vĩnh Long, drawn with the Trà Vinh generator's rules.

The layer functions of :mod:`datagen.roads`, :mod:`datagen.towers` and :mod:`datagen.fibre` group by
``commune_id``; here they get the **units** (2009 commune × new commune) as communes, so that the
network is as dense as the Trà Vinh generator's, and the 2009 district seats of the three former
provinces. Base stations are placed per former province, each with its own calibrated count, with the
spacing rule scaled to its density (see :func:`spacing_scale`).
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from datagen.fibre import generate_fibre_nodes
from datagen.geometry import METRIC_EPSG
from datagen.roads import NationalRoute, generate_roads
from datagen.towers import (
    OPERATOR_SHARES,
    GapZone,
    cells_for_sites,
    choose_gap_zones,
    commune_of_points,
    five_g_sites,
    move_vietnamobile_to_towns,
    place_sites,
    plan_sites,
)
from datagen.vinh_long.calibration import (
    FORMER_PROVINCES,
    GAP_ZONE_ORDER,
    POP_DISTRICT,
    TRA_VINH,
    FormerProvince,
)

log = logging.getLogger(__name__)

SITE_COLUMNS_2025_EXTRA: tuple[str, ...] = ("former_province",)
"""Column added to ``towers/sites.csv``: the former province whose calibrated count the site is part of."""


def district_key(district: str, province: str) -> str:
    """Key of a 2009 district, unique over the three former provinces ("Huyện Châu Thành, Bến Tre")."""
    return f"{district}, {province}"


_BT, _TV, _VL = "Bến Tre", "Trà Vinh", "Vĩnh Long"

NATIONAL_ROUTES_2025: tuple[NationalRoute, ...] = (
    (
        "QL1",
        "Quốc lộ 1",
        300.0,
        (district_key("Thành phố Vĩnh Long", _VL), district_key("Thị xã Bình Minh", _VL)),
        225.0,
    ),
    (
        "QL53",
        "Quốc lộ 53",
        None,
        (
            district_key("Thành phố Vĩnh Long", _VL),
            district_key("Huyện Long Hồ", _VL),
            district_key("Huyện Vũng Liêm", _VL),
            district_key("Huyện Càng Long", _TV),
            district_key("Thành phố Trà Vinh", _TV),
            district_key("Huyện Cầu Ngang", _TV),
            district_key("Huyện Duyên Hải", _TV),
        ),
        None,
    ),
    (
        "QL54",
        "Quốc lộ 54",
        290.0,
        (
            district_key("Huyện Bình Tân", _VL),
            district_key("Thị xã Bình Minh", _VL),
            district_key("Huyện Trà Ôn", _VL),
            district_key("Huyện Cầu Kè", _TV),
            district_key("Huyện Tiểu Cần", _TV),
            district_key("Huyện Châu Thành", _TV),
            district_key("Thành phố Trà Vinh", _TV),
        ),
        None,
    ),
    (
        "QL57",
        "Quốc lộ 57",
        None,
        (
            district_key("Thành phố Vĩnh Long", _VL),
            district_key("Huyện Long Hồ", _VL),
            district_key("Huyện Mang Thít", _VL),
            district_key("Huyện Chợ Lách", _BT),
            district_key("Huyện Mỏ Cày Bắc", _BT),
            district_key("Huyện Mỏ Cày Nam", _BT),
            district_key("Huyện Thạnh Phú", _BT),
        ),
        None,
    ),
    (
        "QL60",
        "Quốc lộ 60",
        0.0,
        (
            district_key("Huyện Châu Thành", _BT),
            district_key("Thành phố Bến Tre", _BT),
            district_key("Huyện Mỏ Cày Nam", _BT),
            district_key("Huyện Châu Thành", _TV),
            district_key("Thành phố Trà Vinh", _TV),
            district_key("Huyện Tiểu Cần", _TV),
            district_key("Huyện Trà Cú", _TV),
        ),
        235.0,
    ),
)
"""Schematic national roads through the 2009 district seats of the new province (entry/exit bearings
towards the neighbouring provinces: Mỹ Thuận and Rạch Miễu bridges, Cần Thơ, Đồng Tháp, Sóc Trăng)."""

PROVINCIAL_REFS_2025: tuple[str, ...] = (
    "ĐT902",
    "ĐT883",
    "ĐT901",
    "ĐT884",
    "ĐT885",
    "ĐT887",
    "ĐT911",
    "ĐT912",
    "ĐT903",
    "ĐT904",
    "ĐT905",
    "ĐT906",
    "ĐT907",
    "ĐT908",
    "ĐT909",
    "ĐT910",
    "ĐT881",
    "ĐT882",
    "ĐT886",
    "ĐT888",
    "ĐT913",
    "ĐT914",
    "ĐT915",
    "ĐT916",
)
"""Provincial road refs given in turn to seat pairs not joined by a national road (names are schematic)."""


def generate_roads_2025(
    hamlets: gpd.GeoDataFrame,
    district_centres: gpd.GeoDataFrame,
    province: BaseGeometry,
    *,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Draw the road layer over the whole new province (:func:`datagen.roads.generate_roads`)."""
    return generate_roads(
        hamlets,
        district_centres,
        province,
        rng=rng,
        national_routes=NATIONAL_ROUTES_2025,
        provincial_refs=PROVINCIAL_REFS_2025,
    )


def spacing_scale(sites: int, area_km2: float, *, reference_sites: int, reference_area_km2: float) -> float:
    """Factor on the same-operator site spacing for a province denser than the reference.

    The Trà Vinh rule (1.1 km between two rural sites of one operator, 300 m in towns) fits Trà Vinh's
    0.52 sites per km²; at Vĩnh Long's 2.2 sites per km² one operator alone would need more room than
    the province has. The spacing is scaled by √(reference density / density), so that sites are packed
    as loosely as in Trà Vinh; 1 for provinces no denser than the reference.
    """
    density = sites / area_km2
    reference = reference_sites / reference_area_km2
    return min(1.0, math.sqrt(reference / density))


def _fp_units(units: gpd.GeoDataFrame, fp: FormerProvince) -> gpd.GeoDataFrame:
    mine = units[units["former_province_code"] == fp.code]
    return gpd.GeoDataFrame(
        {"commune_id": mine["unit_id"].to_numpy(), "commune_type": mine["type_2009"].to_numpy()},
        geometry=mine.geometry.values,
        crs=units.crs,
    )


def _keyed_plan(fp: FormerProvince) -> tuple[tuple[tuple[str, int, float, float], ...], set[str]]:
    plan = tuple((district_key(d, fp.name), n, lo, hi) for d, n, lo, hi in fp.gap_plan)
    return plan, {district_key(d, fp.name) for d in fp.coastal_gap_districts}


def generate_sites_2025(
    hamlets: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    communes_metric: gpd.GeoDataFrame,
    outlines: dict[str, BaseGeometry],
    targets: dict[str, int],
    *,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, list[GapZone], dict[str, float]]:
    """Draw the base-station layer, each former province with its own number of active sites.

    Parameters
    ----------
    hamlets
        From :func:`datagen.vinh_long.hamlets.generate_hamlets_2025` (EPSG:32648).
    units
        Generation units (EPSG:32648).
    communes_metric
        New communes (EPSG:32648) with ``commune_id``: a site's ``commune_id`` is the one it stands in.
    outlines
        Former province code -> its outline (EPSG:32648): its sites are placed inside it.
    targets
        Former province code -> active sites.
    rng
        Random generator of the tower layer.

    Returns
    -------
    (pandas.DataFrame, list of GapZone, dict)
        Cell rows (:data:`datagen.towers.SITE_COLUMNS` + ``former_province``), the gap zones and the
        spacing factor used per former province.
    """
    frame = pd.DataFrame(hamlets.drop(columns="geometry")).reset_index(drop=True)
    zones: list[GapZone] = []
    for fp in GAP_ZONE_ORDER:
        sub = frame[frame["former_province_code"] == fp.code].reset_index(drop=True)
        plan, coastal_only = _keyed_plan(fp)
        zones += choose_gap_zones(
            sub,
            _fp_units(units, fp),
            outlines[fp.code],
            rng,
            plan=plan,
            coastal_only=coastal_only,
            existing=zones,
        )
    ref_area = outlines[TRA_VINH.code].area / 1e6
    scales: dict[str, float] = {}
    placed = pd.DataFrame({"x": [], "y": [], "operator": []})
    actives = []
    for fp in FORMER_PROVINCES:
        sub = frame[frame["former_province_code"] == fp.code].reset_index(drop=True)
        scale = spacing_scale(
            targets[fp.code],
            outlines[fp.code].area / 1e6,
            reference_sites=targets[TRA_VINH.code],
            reference_area_km2=ref_area,
        )
        scales[fp.code] = scale
        active = place_sites(
            sub,
            _fp_units(units, fp),
            outlines[fp.code],
            zones,
            n_active=targets[fp.code],
            rng=rng,
            spacing_scale=scale,
            existing=placed,
        )
        active = move_vietnamobile_to_towns(active, rng)
        active["former_province"] = fp.name
        placed = pd.concat([placed, active[["x", "y", "operator"]]], ignore_index=True)
        actives.append(active)
    active = pd.concat(actives, ignore_index=True)
    active["status"] = "active"
    planned = _inside(plan_sites(frame, active, zones, rng=rng), frame, outline_of(outlines))
    planned["status"] = "planned"
    planned["former_province"] = planned["hamlet_id"].map(frame.set_index("hamlet_id")["former_province"])
    sites = pd.concat([active, planned], ignore_index=True)
    return _cells(sites, frame, communes_metric, rng), zones, scales


def outline_of(outlines: dict[str, BaseGeometry]) -> BaseGeometry:
    """The new province's outline: the union of the former provinces' outlines."""
    return shapely.union_all([outlines[fp.code] for fp in FORMER_PROVINCES])


def _inside(planned: pd.DataFrame, frame: pd.DataFrame, province: BaseGeometry) -> pd.DataFrame:
    """Pull planned sites drawn off the land (around coastal gap zones) back towards their hamlet.

    A site outside the province shrunk by 50 m moves to the first of 3/4, 1/2, 1/4 and 0 of its offset
    from its hamlet that is inside (the hamlet itself always is).
    """
    area = province.buffer(-50.0)
    shapely.prepare(area)
    at = frame.set_index("hamlet_id")
    out = planned.copy()
    for i, (hid, x, y) in enumerate(zip(out["hamlet_id"], out["x"], out["y"], strict=True)):
        if shapely.contains_xy(area, x, y):
            continue
        hx, hy = float(at.at[hid, "x"]), float(at.at[hid, "y"])
        for t in (0.75, 0.5, 0.25, 0.0):
            nx_, ny_ = hx + t * (x - hx), hy + t * (y - hy)
            if t == 0.0 or shapely.contains_xy(area, nx_, ny_):
                out.iloc[i, out.columns.get_loc("x")] = nx_
                out.iloc[i, out.columns.get_loc("y")] = ny_
                break
    return out


def _cells(
    sites: pd.DataFrame, frame: pd.DataFrame, communes_metric: gpd.GeoDataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Ids, communes, positions and cells of the placed sites (as :func:`datagen.towers.generate_sites`)."""
    sites["commune_id"] = commune_of_points(sites["x"].to_numpy(), sites["y"].to_numpy(), communes_metric)
    prefix = {op: p for op, p, _ in OPERATOR_SHARES}
    numbers = sites.groupby("operator").cumcount() + 1
    sites["site_id"] = [f"{prefix[o]}{n:04d}" for o, n in zip(sites["operator"], numbers, strict=True)]
    cities = {district_key(fp.city_district, fp.name) for fp in FORMER_PROVINCES}
    district = sites["hamlet_id"].map(frame.set_index("hamlet_id")["district_name"])
    sites["city"] = district.isin(cities).to_numpy() & sites["urban"].astype(bool).to_numpy()
    lonlat = gpd.GeoSeries(gpd.points_from_xy(sites["x"], sites["y"]), crs=METRIC_EPSG).to_crs(4326)
    sites["lon"], sites["lat"] = lonlat.x.round(6), lonlat.y.round(6)
    five_g: set[int] = set()
    for fp in FORMER_PROVINCES:
        city_active = sites.index[
            sites["city"] & (sites["status"] == "active") & (sites["former_province"] == fp.name)
        ].to_numpy()
        five_g |= five_g_sites(sites, city_active, rng)
    cells = cells_for_sites(sites, five_g_sites=five_g, rng=rng)
    cells["former_province"] = cells["site_id"].map(sites.set_index("site_id")["former_province"])
    return cells.sort_values(["site_id", "cell_id"], kind="stable").reset_index(drop=True)


def _olt_label(key: str, keys: list[str]) -> str:
    """Short district name for an OLT ("Trà Ôn"; "Châu Thành (Bến Tre)" where the stem repeats)."""
    district, province = key.rsplit(", ", 1)

    def stem(text: str) -> str:
        for prefix in ("Huyện ", "Thành phố ", "Thị xã "):
            if text.startswith(prefix):
                return text[len(prefix) :]
        return text

    same = [k for k in keys if stem(k.rsplit(", ", 1)[0]) == stem(district)]
    return f"{stem(district)} ({province})" if len(same) > 1 else stem(district)


def generate_fibre_nodes_2025(
    hamlets: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    district_centres: gpd.GeoDataFrame,
    graph: nx.Graph,
    *,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Draw POPs (Vĩnh Long city), OLTs (2009 district seats) and cabinets (every unit).

    Returns the nodes of :func:`datagen.fibre.generate_fibre_nodes` with ``commune_id`` set to the new
    commune (each node stands in its unit, so in that commune), ``unit_id`` kept as a helper, and POP /
    OLT names of the new province.
    """
    unit_frame = gpd.GeoDataFrame(
        {"commune_id": units["unit_id"].to_numpy(), "commune_name": units["commune_name"].to_numpy()},
        geometry=units.geometry.values,
        crs=units.crs,
    )
    mobifone = {district_key(d, fp.name) for fp in FORMER_PROVINCES for d in fp.mobifone_olt_districts}
    nodes = generate_fibre_nodes(
        hamlets,
        unit_frame,
        district_centres,
        graph,
        rng=rng,
        pop_district=district_key(POP_DISTRICT[1], POP_DISTRICT[0]),
        mobifone_olt_districts=mobifone,
    )
    keys = list(district_centres["district_name"])
    seat_of = dict(zip(district_centres["commune_id"], district_centres["district_name"], strict=True))
    names = nodes["name"].to_numpy(dtype=object)
    for i, (kind, op, unit) in enumerate(
        zip(nodes["node_type"], nodes["operator"], nodes["commune_id"], strict=True)
    ):
        if kind == "POP":
            names[i] = f"POP {op} Vĩnh Long"
        elif kind == "OLT":
            names[i] = f"OLT {op} {_olt_label(seat_of[unit], keys)}"
    nodes["name"] = names
    nodes["unit_id"] = nodes["commune_id"]
    nodes["commune_id"] = nodes["unit_id"].map(dict(zip(units["unit_id"], units["commune_id"], strict=True)))
    return nodes
