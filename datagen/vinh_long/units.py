"""The real layer (the 124 derived communes) and the units the synthetic layers are drawn in.

A **unit** is the part of one 2009 commune polygon (a "piece" of :mod:`geo.derive_communes`) that lies
in one new commune: a 2009 commune that went whole into a new commune is one unit, one that was split
between two new communes is two. Hamlets, floor sites, cabinets and commune roads are drawn per unit as
the Trà Vinh generator draws them per commune, so every hamlet has one former commune (its old unit)
and one new commune. A unit's polygon is its part of the 2009 polygon, clipped to its new commune and
with the other new communes cut out (the 2009 polygons overlap slightly), so that a point drawn in it
lies in exactly one new commune.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from datagen.communes import commune_type_from_name, households_from_population
from datagen.geometry import METRIC_EPSG
from datagen.hamlets import apportion
from geo.admin_units import load_new_units, load_old_to_new, official_units
from geo.derive_communes import (
    FORMER_PROVINCES,
    Derivation,
    derive_communes,
    load_communes_2009,
    load_manual_matches,
    match_pieces,
)
from geo.errors import InvalidGeometryError, SchemaError

log = logging.getLogger(__name__)

POPULATION_YEAR = 2009
"""Census year of ``population`` in the commune layer (no growth is applied)."""

COMMUNE_COLUMNS_2025: tuple[str, ...] = (
    "commune_id",
    "commune_code",
    "commune_name",
    "province_name",
    "commune_type",
    "former_province",
    "former_district",
    "old_commune_codes",
    "population",
    "population_year",
    "households",
    "households_derived",
    "area_km2",
    "geometry_note",
)
"""Columns of ``boundaries/communes.geojson`` in the 2025-07 package (no ``district_name``)."""

COMMUNE_TYPE_2025: dict[str, str] = {"xã": "xã", "phường": "phường", "đặc khu": "xã"}
"""Type of a new unit -> ``CommuneType`` of the package. A special zone (đặc khu) has no
``CommuneType``: it is written as the nearest one, "xã" (rural, one tier under the province). The new
Vĩnh Long has none."""


@dataclass(frozen=True)
class Sources:
    """Inputs of the real layer, read once.

    Attributes
    ----------
    communes_2009
        2009 polygons of the three former provinces (:func:`geo.derive_communes.load_communes_2009`).
    derivation
        The derived new communes, their parts and the report.
    matches
        2009 polygon -> pre-reform code(s) (:func:`geo.derive_communes.match_pieces`).
    mapping
        Old -> new commune pairs of the former provinces (:func:`geo.admin_units.load_old_to_new`).
    """

    communes_2009: gpd.GeoDataFrame
    derivation: Derivation
    matches: pd.DataFrame
    mapping: pd.DataFrame


def load_sources() -> Sources:
    """Read the shipped 2009 polygons and code tables and derive the 124 new communes (offline, ~1 s)."""
    communes_2009 = load_communes_2009()
    manual = load_manual_matches()
    mapping = load_old_to_new()
    derivation = derive_communes(communes_2009, manual, load_new_units(), mapping)
    matches, problems = match_pieces(communes_2009, official_units("2025-03", FORMER_PROVINCES), manual)
    for problem in problems:
        log.warning("manual match problem: %s", problem)
    mapping = mapping[mapping["old_province_code"].isin(FORMER_PROVINCES)].reset_index(drop=True)
    return Sources(communes_2009, derivation, matches, mapping)


def communes_layer(derivation: Derivation, *, persons_per_household: float) -> gpd.GeoDataFrame:
    """Return the commune layer of the package (EPSG:4326, :data:`COMMUNE_COLUMNS_2025`).

    ``commune_id`` = ``commune_code`` = the official 5-digit code; ``population`` is the 2009 census
    population of the commune's territory (``population_2009`` of the derivation); ``households`` is
    derived from it (``households_derived`` = true).

    Raises
    ------
    SchemaError
        A new unit has a type with no ``CommuneType`` counterpart.
    """
    src = derivation.communes
    unknown = sorted(set(src["commune_type"]) - set(COMMUNE_TYPE_2025))
    if unknown:
        raise SchemaError(f"derived communes: unknown commune type(s) {unknown}")
    population = src["population_2009"].astype(np.int64).to_numpy()
    out = gpd.GeoDataFrame(
        {
            "commune_id": src["commune_code"].astype(str),
            "commune_code": src["commune_code"].astype(str),
            "commune_name": src["commune_name"].astype(str),
            "province_name": src["province_name"].astype(str),
            "commune_type": src["commune_type"].map(COMMUNE_TYPE_2025),
            "former_province": src["former_province"].astype(str),
            "former_district": src["former_district"].astype(str),
            "old_commune_codes": src["old_commune_codes"].astype(str),
            "population": population,
            "population_year": POPULATION_YEAR,
            "households": households_from_population(population, persons_per_household=persons_per_household),
            "households_derived": True,
            "area_km2": src["area_km2"].astype(float),
            "geometry_note": src["geometry_note"].fillna("").astype(str),
        },
        geometry=src.geometry.values,
        crs=src.crs,
    )
    return out.sort_values("commune_id", kind="stable").reset_index(drop=True)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of ``geom`` (made valid), as one (Multi)Polygon; empty when none."""
    polys: list[Polygon] = []
    for part in shapely.get_parts(shapely.make_valid(geom)):
        if isinstance(part, Polygon) and part.area > 0:
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(p for p in part.geoms if p.area > 0)
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _former_codes(sources: Sources) -> tuple[dict[str, list[str]], dict[str, set[str]], dict[str, str]]:
    """2009 polygon -> its pre-reform codes; old code -> new codes it feeds; old code -> its name."""
    codes_of: dict[str, list[str]] = defaultdict(list)
    for pid, code in zip(sources.matches["piece_id"], sources.matches["old_commune_code"], strict=True):
        if code:
            codes_of[str(pid)].append(str(code))
    mapping = sources.mapping
    targets_of = mapping.groupby("old_commune_code")["new_commune_code"].agg(set).to_dict()
    names = dict(zip(mapping["old_commune_code"], mapping["old_commune_name"], strict=False))
    return codes_of, targets_of, names


def _unit_polygon(
    part: BaseGeometry, own: BaseGeometry, others: list[BaseGeometry]
) -> tuple[BaseGeometry, str]:
    """Clip a part to its new commune and cut the other communes out; fall back when nothing is left."""
    inside = _polygonal(part.intersection(own))
    exclusive = _polygonal(inside.difference(shapely.union_all(others))) if others else inside
    if not exclusive.is_empty and exclusive.area >= 1.0:
        return exclusive, "exclusive"
    if not inside.is_empty:
        return inside, "shared"
    return _polygonal(part), "part"


def generation_units(sources: Sources, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one row per populated (2009 polygon, new commune) part, EPSG:32648.

    Parameters
    ----------
    sources
        From :func:`load_sources`.
    communes
        The commune layer from :func:`communes_layer` (EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit_id``, ``piece_id``, ``piece_order``, ``commune_id`` / ``commune_name`` (new),
        ``former_commune_code`` ("" for the 2009 polygons with no pre-reform code),
        ``former_commune_name`` (its pre-reform name, else the 2009 name), ``former_split`` (the old
        commune was split between new ones), ``former_district`` / ``former_province`` (2009),
        ``former_province_code``, ``district_key`` ("Huyện Châu Thành, Bến Tre": 2009 districts are
        unique only within a province), ``name_2009``, ``type_2009`` ("xã", "phường", "thị trấn"),
        ``rule`` (of the derivation), ``population`` (2009, from the derivation), ``households`` (the
        commune's derived households apportioned to its units by population, at least 1 each),
        ``area_km2``, ``geometry_kind`` ("exclusive", else "shared" / "part" when overlaps leave
        nothing) and the unit polygon. Sorted by new commune, then 2009 polygon order.

    Raises
    ------
    InvalidGeometryError
        Units do not add up to their commune's population.
    """
    pieces = sources.communes_2009.set_index("piece_id")
    order = {pid: i for i, pid in enumerate(sources.communes_2009["piece_id"])}
    codes_of, targets_of, old_names = _former_codes(sources)
    metric = communes.to_crs(METRIC_EPSG)
    polygons = dict(zip(metric["commune_id"], metric.geometry.values, strict=True))
    tree = shapely.STRtree(metric.geometry.values)
    ids = metric["commune_id"].to_numpy()
    parts = sources.derivation.pieces
    parts = parts[parts["population_2009"] > 0]
    rows: list[dict[str, object]] = []
    for pid, code, rule, pop, geom in zip(
        parts["piece_id"],
        parts["new_commune_code"],
        parts["rule"],
        parts["population_2009"],
        parts.geometry,
        strict=True,
    ):
        own = polygons[code]
        near = tree.query(geom, predicate="intersects")
        others = [metric.geometry.values[j] for j in near if ids[j] != code]
        polygon, kind = _unit_polygon(geom, own, others)
        piece = pieces.loc[pid]
        former = sorted(c for c in codes_of.get(str(pid), []) if code in targets_of.get(c, set()))
        former_code = former[0] if former else ""
        rows.append(
            {
                "unit_id": f"{pid}>{code}",
                "piece_id": str(pid),
                "piece_order": order[pid],
                "commune_id": str(code),
                "former_commune_code": former_code,
                "former_commune_name": old_names[former_code] if former_code else str(piece["commune_vn"]),
                "former_split": bool(former_code) and len(targets_of.get(former_code, set())) > 1,
                "former_district": str(piece["district_vn"]),
                "former_province": str(piece["province_vn"]),
                "former_province_code": str(piece["province_code"]),
                "district_key": f"{piece['district_vn']}, {piece['province_vn']}",
                "name_2009": str(piece["commune_vn"]),
                "type_2009": commune_type_from_name(str(piece["commune_vn"])),
                "rule": str(rule),
                "population": int(pop),
                "area_km2": round(polygon.area / 1e6, 4),
                "geometry_kind": kind,
                "geometry": polygon,
            }
        )
    units = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_EPSG)
    names = dict(zip(communes["commune_id"], communes["commune_name"], strict=True))
    units.insert(4, "commune_name", units["commune_id"].map(names))
    units = units.sort_values(["commune_id", "piece_order"], kind="stable").reset_index(drop=True)
    _apportion_households(units, communes)
    kinds = units["geometry_kind"].value_counts().to_dict()
    log.info("%d units in %d new communes (%s)", len(units), units["commune_id"].nunique(), kinds)
    return units


def _apportion_households(units: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> None:
    """Add ``households``: each commune's households split among its units by population (≥ 1 each)."""
    ref = communes.set_index("commune_id")
    households = np.zeros(len(units), dtype=np.int64)
    for code, idx in units.groupby("commune_id", sort=True).groups.items():
        pos = units.index.get_indexer(idx)
        pop = units["population"].to_numpy()[pos]
        if int(pop.sum()) != int(ref.at[code, "population"]):
            raise InvalidGeometryError(
                f"commune {code}: its parts hold {int(pop.sum())} persons, "
                f"the commune {ref.at[code, 'population']}"
            )
        total = int(ref.at[code, "households"])
        households[pos] = apportion(total - len(pos), pop.astype(float)) + 1
    units["households"] = households


def district_seats(units: pd.DataFrame) -> dict[str, str]:
    """Return ``district_key -> unit_id`` of each 2009 district seat.

    The seat is the township named like the district, else "Phường 1" of a city or town, else the most
    populous township or ward of the district (as :func:`datagen.hamlets.seat_commune_ids`); a seat
    commune split between new communes is represented by its most populous unit.
    """
    seats: dict[str, str] = {}
    for key, group in units.groupby("district_key", sort=True):
        district = str(group["former_district"].iloc[0])
        stem = district.split(" ", 1)[1] if district.startswith("Huyện ") else ""
        named = group[group["name_2009"] == f"Thị trấn {stem}"]
        if named.empty:
            named = group[group["name_2009"] == "Phường 1"]
        if named.empty:
            urban = group[group["type_2009"] != "xã"]
            named = (urban if not urban.empty else group).sort_values("population", ascending=False)
        piece = named.iloc[0]["piece_id"]
        own = group[group["piece_id"] == piece].sort_values(
            ["population", "unit_id"], ascending=[False, True]
        )
        seats[str(key)] = str(own.iloc[0]["unit_id"])
    return seats
