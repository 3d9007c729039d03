"""Synthetic road network (OSM-style ``highway`` classes) that connects every hamlet.

Three levels, all in EPSG:32648:

1. National roads (``trunk``: Quốc lộ 53, 54, 60) run between district seats through commune
   centres, from the province edge; provincial roads (``primary`` / ``secondary``, "Đường tỉnh 9xx")
   join the other district seats.
2. Commune centres are joined by a Delaunay-based network: the minimum spanning tree plus some
   short extra edges (``tertiary``, "Đường huyện …").
3. Inside each commune the hamlets are joined to each other and to the centre the same way
   (``unclassified`` "Đường liên ấp", ``residential`` in wards and townships, ``track`` to outlying
   hamlets), plus a few dead-end field tracks.

Every line starts and ends exactly on a node (a hamlet point or a province-edge point), so the
network is connected when endpoints are snapped. Alignments are schematic, not surveyed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import Delaunay, QhullError
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from datagen.geometry import METRIC_EPSG, wiggly_line

ROAD_COLUMNS: tuple[str, ...] = ("road_id", "highway", "name", "ref")

NationalRoute = tuple[str, str, float | None, tuple[str, ...], float | None]
"""(ref, name, entry bearing from the province edge or None, district seats in order, exit bearing or
None)."""

NATIONAL_ROUTES: tuple[NationalRoute, ...] = (
    # (ref, name, bearing_deg of the entry from the province edge, district seats in order, exit bearing)
    (
        "QL53",
        "Quốc lộ 53",
        330.0,
        ("Huyện Càng Long", "Thành phố Trà Vinh", "Huyện Cầu Ngang", "Huyện Duyên Hải"),
        None,
    ),
    (
        "QL54",
        "Quốc lộ 54",
        290.0,
        ("Huyện Cầu Kè", "Huyện Tiểu Cần", "Huyện Châu Thành", "Thành phố Trà Vinh"),
        None,
    ),
    ("QL60", "Quốc lộ 60", 40.0, ("Thành phố Trà Vinh", "Huyện Tiểu Cần", "Huyện Trà Cú"), 235.0),
)
"""Schematic national-road alignments through Trà Vinh's district seats (2009 layout)."""

PROVINCIAL_REFS: tuple[str, ...] = ("ĐT911", "ĐT912", "ĐT913", "ĐT914", "ĐT915", "ĐT916", "ĐT917", "ĐT918")


@dataclass(frozen=True)
class _Edge:
    a: str
    b: str
    highway: str
    name: str
    ref: str


def _delaunay_edges(xy: np.ndarray) -> list[tuple[int, int]]:
    """Return the unique edges of the Delaunay triangulation of ``xy`` (all pairs when < 4 points)."""
    n = len(xy)
    if n < 2:
        return []
    if n < 4:
        return list(itertools.combinations(range(n), 2))
    try:
        tri = Delaunay(xy)
    except QhullError:  # all points on a line: every pair is an edge
        return list(itertools.combinations(range(n), 2))
    edges: set[tuple[int, int]] = set()
    for s in tri.simplices:
        for i, j in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
            edges.add((min(i, j), max(i, j)))
    return sorted(edges)


def _mst_plus(ids: list[str], xy: np.ndarray, rng: np.random.Generator, *, extra_share: float) -> nx.Graph:
    """Return the minimum spanning tree of the Delaunay graph plus a share of its short extra edges."""
    full = nx.Graph()
    full.add_nodes_from(ids)
    for i, j in _delaunay_edges(xy):
        full.add_edge(ids[i], ids[j], length_m=float(np.hypot(*(xy[i] - xy[j]))))
    tree = nx.minimum_spanning_tree(full, weight="length_m", algorithm="kruskal")
    lengths = [d["length_m"] for _, _, d in full.edges(data=True)]
    cutoff = float(np.median(lengths)) * 1.2 if lengths else 0.0
    for a, b, d in sorted(full.edges(data=True), key=lambda e: (e[0], e[1])):
        if not tree.has_edge(a, b) and d["length_m"] <= cutoff and rng.random() < extra_share:
            tree.add_edge(a, b, **d)
    return tree


def edge_point(
    province: BaseGeometry, origin: Point, bearing_deg: float, *, inset_m: float = 60.0
) -> Point | None:
    """Return where a ray from ``origin`` (bearing clockwise from north) leaves ``province``.

    The point is moved ``inset_m`` back inside. ``None`` when the ray never leaves (should not happen).
    """
    theta = np.deg2rad(bearing_deg)
    direction = np.array([np.sin(theta), np.cos(theta)])
    ray = LineString(
        [(origin.x, origin.y), (origin.x + 80_000 * direction[0], origin.y + 80_000 * direction[1])]
    )
    crossing = ray.intersection(province.boundary)
    if crossing.is_empty:
        return None
    pts = [crossing] if crossing.geom_type == "Point" else list(getattr(crossing, "geoms", []))
    pts = [p for p in pts if p.geom_type == "Point"]
    if not pts:
        return None
    first = min(pts, key=origin.distance)
    dist = origin.distance(first) - inset_m
    return Point(origin.x + dist * direction[0], origin.y + dist * direction[1])


class _Network:
    """Collects nodes and typed edges; the first class given to an edge wins."""

    def __init__(self) -> None:
        self.nodes: dict[str, tuple[float, float]] = {}
        self.edges: dict[frozenset[str], _Edge] = {}

    def add_edge(self, a: str, b: str, highway: str, name: str = "", ref: str = "") -> None:
        key = frozenset((a, b))
        if a != b and key not in self.edges:
            self.edges[key] = _Edge(a, b, highway, name, ref)


def _centre_graph(centres: pd.DataFrame) -> nx.Graph:
    """Return the Delaunay graph of commune centres with ``length_m`` on each edge."""
    ids = centres["hamlet_id"].tolist()
    xy = centres[["x", "y"]].to_numpy()
    graph = nx.Graph()
    for i, j in _delaunay_edges(xy):
        graph.add_edge(ids[i], ids[j], length_m=float(np.hypot(*(xy[i] - xy[j]))))
    return graph


def _national_roads(
    net: _Network,
    graph: nx.Graph,
    seat_node: dict[str, str],
    province: BaseGeometry,
    routes: Sequence[NationalRoute],
) -> None:
    """Add the trunk roads of ``routes`` (e.g. :data:`NATIONAL_ROUTES`) through the commune-centre graph."""
    for ref, name, entry_bearing, seats, exit_bearing in routes:
        nodes = [seat_node[s] for s in seats if s in seat_node]
        if not nodes:
            continue
        for bearing, end in ((entry_bearing, nodes[0]), (exit_bearing, nodes[-1])):
            p = None if bearing is None else edge_point(province, Point(net.nodes[end]), bearing)
            if p is not None:
                node = f"edge-{ref}-{int(bearing or 0)}"
                net.nodes[node] = (p.x, p.y)
                net.add_edge(node, end, "trunk", name, ref)
        for a, b in itertools.pairwise(nodes):
            path = nx.shortest_path(graph, a, b, weight="length_m")
            for u, v in itertools.pairwise(path):
                net.add_edge(u, v, "trunk", name, ref)


def _provincial_roads(
    net: _Network, graph: nx.Graph, seat_node: dict[str, str], refs_in_order: Sequence[str]
) -> None:
    """Add "Đường tỉnh" roads between neighbouring district seats not joined by a national road.

    The first two refs of ``refs_in_order`` are ``primary``, the others ``secondary``.
    """
    seat_ids = sorted(seat_node.values())
    seat_xy = np.array([net.nodes[s] for s in seat_ids])
    refs = iter(refs_in_order)
    for i, j in _delaunay_edges(seat_xy):
        path = nx.shortest_path(graph, seat_ids[i], seat_ids[j], weight="length_m")
        hops = list(itertools.pairwise(path))
        if all(frozenset(h) in net.edges for h in hops):
            continue
        ref = next(refs, "")
        if not ref:
            break
        highway = "primary" if ref in refs_in_order[:2] else "secondary"
        for u, v in hops:
            net.add_edge(u, v, highway, f"Đường tỉnh {ref[2:]}", ref)


def _commune_level(
    net: _Network,
    centres: pd.DataFrame,
    seat_node: dict[str, str],
    province: BaseGeometry,
    rng: np.random.Generator,
    *,
    national_routes: Sequence[NationalRoute],
    provincial_refs: Sequence[str],
) -> None:
    """Add national, provincial and inter-commune roads between commune centres."""
    graph = _centre_graph(centres)
    _national_roads(net, graph, seat_node, province, national_routes)
    _provincial_roads(net, graph, seat_node, provincial_refs)
    district_of = dict(zip(centres["hamlet_id"], centres["district_name"], strict=True))
    local = _mst_plus(centres["hamlet_id"].tolist(), centres[["x", "y"]].to_numpy(), rng, extra_share=0.35)
    counter = itertools.count(1)
    for a, b in sorted(local.edges(), key=lambda e: (min(e), max(e))):
        if frozenset((a, b)) in net.edges:
            continue
        if district_of[a] == district_of[b]:
            net.add_edge(a, b, "tertiary", f"Đường huyện {next(counter):02d}", "")
        else:
            net.add_edge(a, b, "tertiary", "Đường liên xã", "")


def _hamlet_level(
    net: _Network, hamlets: pd.DataFrame, province: BaseGeometry, rng: np.random.Generator
) -> None:
    """Add roads between the hamlets of each commune and dead-end field tracks."""
    for _, group in hamlets.groupby("commune_id", sort=True):
        ids = group["hamlet_id"].tolist()
        xy = group[["x", "y"]].to_numpy()
        urban = bool(group["urban"].iloc[0])
        tree = _mst_plus(ids, xy, rng, extra_share=0.25)
        for a, b in sorted(tree.edges(), key=lambda e: (min(e), max(e))):
            length = float(np.hypot(*np.subtract(net.nodes[a], net.nodes[b])))
            if urban:
                net.add_edge(a, b, "residential", "", "")
            elif tree.degree(a) == 1 or tree.degree(b) == 1:
                net.add_edge(a, b, "track" if length > 2500 else "unclassified", "", "")
            else:
                net.add_edge(a, b, "unclassified", "Đường liên ấp", "")
        if urban:
            continue
        for hid, (x, y) in zip(ids, xy, strict=True):
            if rng.random() < 0.45:
                ang = rng.uniform(0, 2 * np.pi)
                dist = rng.uniform(300, 900)
                end = Point(x + dist * np.sin(ang), y + dist * np.cos(ang))
                if province.contains(end):
                    node = f"{hid}-t"
                    net.nodes[node] = (end.x, end.y)
                    net.add_edge(hid, node, "track", "", "")


_WIGGLE = {
    "trunk": 0.02,
    "primary": 0.03,
    "secondary": 0.04,
    "tertiary": 0.05,
    "unclassified": 0.07,
    "residential": 0.04,
    "track": 0.09,
}


def generate_roads(
    hamlets: gpd.GeoDataFrame,
    district_centres: gpd.GeoDataFrame,
    province: BaseGeometry,
    *,
    rng: np.random.Generator,
    national_routes: Sequence[NationalRoute] = NATIONAL_ROUTES,
    provincial_refs: Sequence[str] = PROVINCIAL_REFS,
) -> gpd.GeoDataFrame:
    """Draw the road layer.

    Parameters
    ----------
    hamlets
        Hamlets from :func:`datagen.hamlets.generate_hamlets` (EPSG:32648; columns ``hamlet_id``,
        ``commune_id``, ``district_name``, ``is_commune_centre``, ``urban``, ``x``, ``y``).
    district_centres
        District seats (EPSG:32648) with ``district_name`` and ``commune_id``.
    province
        Province outline (EPSG:32648), used for entry points and to keep field tracks inside.
    rng
        Random generator of the road layer.
    national_routes
        Trunk roads through district seats (default Trà Vinh's :data:`NATIONAL_ROUTES`).
    provincial_refs
        "ĐTnnn" refs given in turn to seat pairs not joined by a national road (default Trà Vinh's).

    Returns
    -------
    geopandas.GeoDataFrame
        ``road_id``, ``highway``, ``name``, ``ref`` and LineString geometry (EPSG:32648), one row per
        road segment between two nodes.
    """
    net = _Network()
    net.nodes.update(
        {h: (x, y) for h, x, y in zip(hamlets["hamlet_id"], hamlets["x"], hamlets["y"], strict=True)}
    )
    centres = hamlets[hamlets["is_commune_centre"]]
    centre_of = dict(zip(centres["commune_id"], centres["hamlet_id"], strict=True))
    seat_node = {
        d: centre_of[c]
        for d, c in zip(district_centres["district_name"], district_centres["commune_id"], strict=True)
    }
    _commune_level(
        net,
        centres,
        seat_node,
        province,
        rng,
        national_routes=national_routes,
        provincial_refs=provincial_refs,
    )
    _hamlet_level(net, hamlets, province, rng)
    order = {
        "trunk": 0,
        "primary": 1,
        "secondary": 2,
        "tertiary": 3,
        "unclassified": 4,
        "residential": 5,
        "track": 6,
    }
    edges = sorted(net.edges.values(), key=lambda e: (order[e.highway], e.ref, e.a, e.b))
    geoms = [
        wiggly_line(
            net.nodes[e.a],
            net.nodes[e.b],
            rng,
            wiggle=_WIGGLE[e.highway],
            max_vertices=6 if e.highway in ("trunk", "primary", "secondary") else 3,
        )
        for e in edges
    ]
    return gpd.GeoDataFrame(
        {
            "road_id": [f"R{i:05d}" for i in range(1, len(edges) + 1)],
            "highway": [e.highway for e in edges],
            "name": [e.name for e in edges],
            "ref": [e.ref for e in edges],
            "node_a": [e.a for e in edges],
            "node_b": [e.b for e in edges],
        },
        geometry=geoms,
        crs=METRIC_EPSG,
    )


def road_graph(roads: gpd.GeoDataFrame, *, decimals: int = 1) -> nx.Graph:
    """Return an undirected graph of ``roads`` with endpoints snapped by rounding.

    Parameters
    ----------
    roads
        LineStrings in a metric CRS (or in degrees with ``decimals=6``).
    decimals
        Endpoint coordinates are rounded to this many decimals to form node keys.

    Returns
    -------
    networkx.Graph
        Nodes are rounded ``(x, y)`` tuples; edges carry ``length`` (CRS units) and ``road_id``.
    """
    graph = nx.Graph()
    for rid, geom in zip(roads["road_id"], roads.geometry, strict=True):
        coords = np.asarray(geom.coords)
        a = tuple(np.round(coords[0], decimals))
        b = tuple(np.round(coords[-1], decimals))
        length = float(geom.length)
        if not graph.has_edge(a, b) or graph.edges[a, b]["length"] > length:
            graph.add_edge(a, b, length=length, road_id=rid)
    return graph
