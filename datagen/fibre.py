"""Synthetic fibre access network: POPs, OLTs and cabinets (``fibre/nodes``) and routes along roads.

Each operator has a POP in the provincial city, OLTs at district seats and street cabinets in every
commune (at the commune centre and at populous hamlets near it). Routes follow the road network:
``backbone`` from the POP to each OLT, ``access`` from the nearest OLT to each cabinet. Outlying
hamlets get no cabinet, so some stay more than 3 km by road from any node (beyond fibre reach).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from datagen.geometry import METRIC_EPSG
from geo.errors import ParameterError

NODE_COLUMNS: tuple[str, ...] = ("node_id", "operator", "node_type", "name", "commune_id")
ROUTE_COLUMNS: tuple[str, ...] = ("route_id", "operator", "route_type", "from_node", "to_node", "length_m")

FIBRE_OPERATORS: tuple[tuple[str, str], ...] = (("Viettel", "VTL"), ("VinaPhone", "VNP"), ("MobiFone", "MBF"))
"""Fixed-broadband operators (VNPT's brand is written VinaPhone, as for sites)."""

MOBIFONE_OLT_DISTRICTS: frozenset[str] = frozenset(
    {"Thành phố Trà Vinh", "Huyện Càng Long", "Huyện Tiểu Cần", "Huyện Trà Cú"}
)
"""MobiFone's smaller fixed network has OLTs only in these districts (and at its POP)."""

CABINET_RADIUS_M = 5000.0
"""Cabinets go only to hamlets within this road distance of their commune centre."""

HOUSEHOLDS_PER_CABINET = 450
"""About one cabinet per operator per this many households (Viettel, VinaPhone)."""

ROAD_COST = {
    "trunk": 0.6,
    "primary": 0.7,
    "secondary": 0.8,
    "tertiary": 0.9,
    "unclassified": 1.0,
    "residential": 1.0,
    "track": 1.6,
}
"""Cable routing cost per metre relative to a commune road (cables prefer main roads)."""


def road_network(roads: gpd.GeoDataFrame) -> nx.Graph:
    """Return the road graph keyed by node id (``node_a`` / ``node_b``), EPSG:32648 lengths in metres.

    Nodes carry ``xy``; edges carry ``length_m``, ``cost`` (length × :data:`ROAD_COST`), ``road_id``
    and ``geometry``.
    """
    graph = nx.Graph()
    for row in roads.itertuples(index=False):
        length = float(row.geometry.length)
        coords = row.geometry.coords
        graph.add_node(row.node_a, xy=tuple(coords[0]))
        graph.add_node(row.node_b, xy=tuple(coords[-1]))
        graph.add_edge(
            row.node_a,
            row.node_b,
            length_m=length,
            cost=length * ROAD_COST[row.highway],
            road_id=row.road_id,
            geometry=row.geometry,
        )
    return graph


def _offset_point(x: float, y: float, rng: np.random.Generator, within: BaseGeometry) -> Point:
    """Return a point 20–60 m from ``(x, y)`` inside ``within`` (the road node itself if none found)."""
    for _ in range(20):
        ang = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(20, 60)
        p = Point(x + dist * np.sin(ang), y + dist * np.cos(ang))
        if within.contains(p):
            return p
    return Point(x, y)


def _node(
    rows: list[dict[str, object]],
    prefix: str,
    op: str,
    kind: str,
    name: str,
    commune_id: str,
    road_node: str,
    point: Point,
) -> None:
    n = sum(1 for r in rows if r["operator"] == op and r["node_type"] == kind) + 1
    code = {"POP": "POP", "OLT": "OLT", "cabinet": "CAB"}[kind]
    rows.append(
        {
            "node_id": f"{prefix}-{code}-{n:03d}",
            "operator": op,
            "node_type": kind,
            "name": name,
            "commune_id": commune_id,
            "road_node": road_node,
            "geometry": point,
        }
    )


def _cabinets_for_commune(
    rows: list[dict[str, object]],
    group: pd.DataFrame,
    commune_name: str,
    polygon: BaseGeometry,
    dist_from_centre: dict[str, float],
    rng: np.random.Generator,
) -> None:
    """Add the cabinets of one commune: its centre always, populous near hamlets by households."""
    centre = group[group["is_commune_centre"]].iloc[0]
    near = group[[dist_from_centre.get(h, np.inf) <= CABINET_RADIUS_M for h in group["hamlet_id"]]]
    near = near[~near["is_commune_centre"]]
    urban = bool(centre["urban"])
    for op, prefix in FIBRE_OPERATORS:
        if op == "MobiFone" and not urban:
            continue
        if op != "MobiFone" or rng.random() < 0.8:
            _node(
                rows,
                prefix,
                op,
                "cabinet",
                f"Tủ cáp {centre['hamlet_name']}, {commune_name}",
                str(centre["commune_id"]),
                str(centre["hamlet_id"]),
                _offset_point(centre["x"], centre["y"], rng, polygon),
            )
        if op == "MobiFone" or near.empty:
            continue
        extra = int(
            np.clip(
                np.rint(group["households"].sum() / HOUSEHOLDS_PER_CABINET * rng.uniform(0.6, 1.1)) - 1,
                0,
                len(near),
            )
        )
        if extra == 0:
            continue
        w = near["households"].to_numpy(dtype=float)
        for idx in rng.choice(near.index.to_numpy(), size=extra, replace=False, p=w / w.sum()):
            h = near.loc[idx]
            _node(
                rows,
                prefix,
                op,
                "cabinet",
                f"Tủ cáp {h['hamlet_name']}, {commune_name}",
                str(h["commune_id"]),
                str(h["hamlet_id"]),
                _offset_point(h["x"], h["y"], rng, polygon),
            )


def generate_fibre_nodes(
    hamlets: gpd.GeoDataFrame,
    communes: pd.DataFrame,
    district_centres: gpd.GeoDataFrame,
    graph: nx.Graph,
    *,
    rng: np.random.Generator,
    pop_district: str | None = None,
    mobifone_olt_districts: Collection[str] = MOBIFONE_OLT_DISTRICTS,
) -> gpd.GeoDataFrame:
    """Draw POPs, OLTs and cabinets.

    Parameters
    ----------
    hamlets
        Hamlets (EPSG:32648) from :func:`datagen.hamlets.generate_hamlets`.
    communes
        ``commune_id``, ``commune_name``, ``district_name``.
    district_centres
        District seats (EPSG:32648) with ``district_name`` and ``commune_id``.
    graph
        Road graph from :func:`road_network`.
    rng
        Random generator of the fibre layer.
    pop_district
        District whose seat holds the POPs; default the first "Thành phố …" district (else the first).
    mobifone_olt_districts
        Districts where MobiFone has an OLT besides its POP (default Trà Vinh's).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`NODE_COLUMNS`, ``road_node`` (the road node it hangs off) and Point geometry
        (EPSG:32648). Every commune has at least one cabinet.
    """
    frame = pd.DataFrame(hamlets.drop(columns="geometry"))
    centre_of = frame[frame["is_commune_centre"]].set_index("commune_id")
    names = communes.set_index("commune_id")["commune_name"]
    polygons = communes.to_crs(METRIC_EPSG).set_index("commune_id").geometry
    rows: list[dict[str, object]] = []
    seats = district_centres.sort_values("district_name")
    if pop_district is not None:
        cities = seats[seats["district_name"] == pop_district]
        if cities.empty:
            raise ParameterError(f"no district seat named {pop_district!r} for the POPs")
    else:
        cities = seats[seats["district_name"].str.startswith("Thành phố")]
    city = (cities if not cities.empty else seats).iloc[0]
    for op, prefix in FIBRE_OPERATORS:
        c = centre_of.loc[city["commune_id"]]
        _node(
            rows,
            prefix,
            op,
            "POP",
            f"POP {op} Trà Vinh",
            str(city["commune_id"]),
            str(c["hamlet_id"]),
            _offset_point(c["x"], c["y"], rng, polygons[city["commune_id"]]),
        )
        for _, seat in seats.iterrows():
            small = op == "MobiFone" and seat["district_name"] not in mobifone_olt_districts
            if small and seat["commune_id"] != city["commune_id"]:
                continue
            c = centre_of.loc[seat["commune_id"]]
            stem = (
                str(seat["district_name"]).split(" ", 1)[1]
                if seat["district_name"].startswith("Huyện")
                else "Trà Vinh"
            )
            _node(
                rows,
                prefix,
                op,
                "OLT",
                f"OLT {op} {stem}",
                str(seat["commune_id"]),
                str(c["hamlet_id"]),
                _offset_point(c["x"], c["y"], rng, polygons[seat["commune_id"]]),
            )
    for commune_id, group in frame.groupby("commune_id", sort=True):
        centre_id = str(centre_of.at[commune_id, "hamlet_id"])
        dist = nx.single_source_dijkstra_path_length(
            graph, centre_id, cutoff=CABINET_RADIUS_M, weight="length_m"
        )
        _cabinets_for_commune(rows, group, str(names[commune_id]), polygons[commune_id], dist, rng)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=METRIC_EPSG)


def _path_line(graph: nx.Graph, path: list[str]) -> LineString:
    """Join the road geometries along ``path`` into one LineString oriented from its first node."""
    coords: list[tuple[float, float]] = [graph.nodes[path[0]]["xy"]]
    for u, v in itertools.pairwise(path):
        part = list(graph.edges[u, v]["geometry"].coords)
        if part[0] != graph.nodes[u]["xy"]:
            part.reverse()
        coords.extend(part[1:])
    return LineString(coords)


def generate_fibre_routes(nodes: gpd.GeoDataFrame, graph: nx.Graph) -> gpd.GeoDataFrame:
    """Route cables along roads: POP→OLT (``backbone``) and nearest OLT→cabinet (``access``).

    Parameters
    ----------
    nodes
        Fibre nodes from :func:`generate_fibre_nodes` (``road_node`` column).
    graph
        Road graph from :func:`road_network` (edge ``cost`` is minimised).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`ROUTE_COLUMNS` and LineString geometry (EPSG:32648); ``length_m`` in metres.
    """
    rows: list[dict[str, object]] = []
    for op, prefix in FIBRE_OPERATORS:
        mine = nodes[nodes["operator"] == op]
        pop = mine[mine["node_type"] == "POP"].iloc[0]
        olts = mine[mine["node_type"] == "OLT"]
        for _, olt in olts.iterrows():
            if olt["road_node"] != pop["road_node"]:
                path = nx.shortest_path(graph, pop["road_node"], olt["road_node"], weight="cost")
                rows.append(_route(rows, prefix, op, "backbone", pop, olt, _path_line(graph, path)))
        _, paths = nx.multi_source_dijkstra(graph, set(olts["road_node"]), weight="cost")
        for _, cab in mine[mine["node_type"] == "cabinet"].iterrows():
            path = paths[cab["road_node"]]  # from the nearest OLT's road node to the cabinet's
            if len(path) < 2:
                continue  # cabinet beside its OLT
            olt = olts[olts["road_node"] == path[0]].iloc[0]
            rows.append(_route(rows, prefix, op, "access", olt, cab, _path_line(graph, path)))
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=METRIC_EPSG)


def _route(
    rows: list[dict[str, object]],
    prefix: str,
    op: str,
    kind: str,
    a: pd.Series,
    b: pd.Series,
    line: LineString,
) -> dict[str, object]:
    n = sum(1 for r in rows if r["operator"] == op) + 1
    return {
        "route_id": f"{prefix}-FR-{n:04d}",
        "operator": op,
        "route_type": kind,
        "from_node": a["node_id"],
        "to_node": b["node_id"],
        "length_m": round(float(line.length), 1),
        "geometry": line,
    }


def fibre_road_distance_m(graph: nx.Graph, nodes: gpd.GeoDataFrame, hamlet_ids: list[str]) -> np.ndarray:
    """Return each hamlet's road distance (metres) to the nearest fibre node of any operator."""
    dist = nx.multi_source_dijkstra_path_length(graph, set(nodes["road_node"]), weight="length_m")
    return np.array([dist.get(h, np.inf) for h in hamlet_ids])
