"""Road graph: nodes, edges, snapping, components and spur attachment against hand-built graphs."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from analysis.params import RoadGraphParams
from analysis.roadgraph import attach_network, attach_points, build_road_graph
from geo.errors import DataNotFoundError, InvalidGeometryError

UTM = 32648
X0, Y0 = 600_000.0, 1_090_000.0


def _roads(lines: list[list[tuple[float, float]]], *, wgs84: bool = True) -> gpd.GeoDataFrame:
    geoms = [shapely.LineString(np.asarray(c, dtype=float) + [X0, Y0]) for c in lines]
    gdf = gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))]}, geometry=geoms, crs=UTM)
    return gdf.to_crs(4326) if wgs84 else gdf


# A crossing without a shared vertex (L1 x L2), a shared interior vertex (L3), a near miss to snap
# (L4 starts 1 m from L1's end), a T junction on a segment interior (L6) and a separate piece (L5).
HAND_LINES = [
    [(0, 0), (1000, 0), (2000, 0)],  # L1
    [(1500, -500), (1500, 500)],  # L2
    [(1000, 0), (1000, 800)],  # L3
    [(2000, 1), (2600, 1)],  # L4
    [(5000, 0), (6000, 0)],  # L5
    [(500, 300), (500, 0)],  # L6
]


def hand_graph() -> nx.Graph:
    """The same network drawn by hand (coordinates after snapping C to the middle of the gap)."""
    pts = {
        "A": (0, 0),
        "T": (500, 0),
        "B": (1000, 0),
        "X": (1500, 0),
        "C": (2000, 0.5),
        "D": (1000, 800),
        "E": (1500, -500),
        "F": (1500, 500),
        "G": (2600, 1),
        "H": (500, 300),
        "P": (5000, 0),
        "Q": (6000, 0),
    }
    g = nx.Graph()
    for a, b in ["AT", "TB", "BX", "XC", "BD", "EX", "XF", "CG", "TH", "PQ"]:
        g.add_edge(a, b, w=math.dist(pts[a], pts[b]))
    nx.set_node_attributes(g, pts, "xy")
    return g


def _edge_set(rg) -> set[tuple]:  # type: ignore[no-untyped-def]
    out = set()
    for u, v, length in zip(rg.edge_u, rg.edge_v, rg.edge_length_m, strict=True):
        a = tuple(np.round(rg.node_xy_m[u] - [X0, Y0], 3))
        b = tuple(np.round(rg.node_xy_m[v] - [X0, Y0], 3))
        out.add((min(a, b), max(a, b), round(float(length), 3)))
    return out


def test_nodes_and_edges_match_hand_graph() -> None:
    rg = build_road_graph(_roads(HAND_LINES, wgs84=False), UTM, params=RoadGraphParams(snap_tolerance_m=2.0))
    hand = hand_graph()
    expected = set()
    for a, b, d in hand.edges(data=True):
        pa, pb = tuple(float(v) for v in hand.nodes[a]["xy"]), tuple(float(v) for v in hand.nodes[b]["xy"])
        expected.add((min(pa, pb), max(pa, pb), round(d["w"], 3)))
    assert _edge_set(rg) == expected
    assert rg.n_nodes == 12 and rg.graph.number_of_edges() == 10
    assert all("length_m" in d and "road_id" in d for _, _, d in rg.graph.edges(data=True))


def test_components_report() -> None:
    rg = build_road_graph(_roads(HAND_LINES), UTM)
    rep = rg.components
    assert rep.n_components == 2
    assert rep.nodes == (10, 2)
    assert rep.length_m[1] == pytest.approx(1000.0, abs=0.01)
    assert "2 disconnected components" in rep.summary()


def test_snap_tolerance_decides_the_near_miss() -> None:
    tight = build_road_graph(_roads(HAND_LINES), UTM, params=RoadGraphParams(snap_tolerance_m=0.5))
    assert tight.components.n_components == 3  # L4 is now its own piece


def test_crossings_can_be_left_unnoded() -> None:
    rg = build_road_graph(
        _roads(HAND_LINES[:2], wgs84=False), UTM, params=RoadGraphParams(node_crossings=False)
    )
    assert rg.components.n_components == 2  # an overpass: no junction


def _points(xy: list[tuple[float, float]]) -> np.ndarray:
    return np.asarray(xy, dtype=float) + [X0, Y0]


def test_spur_distances_match_independent_networkx() -> None:
    rg = build_road_graph(_roads(HAND_LINES), UTM)
    pts = [(250, 40), (1510, 300), (5500, -20), (1030, 400), (700, -5)]
    att = attach_points(rg, _points(pts))
    np.testing.assert_allclose(att.spur_m, [40, 10, 20, 30, 5], atol=0.01)
    net = attach_network(rg, att)
    got = dijkstra(net.csr, directed=False, indices=net.point_node)[:, net.point_node]
    # independent: split the hand graph's edges at the spur feet by hand
    g = hand_graph()
    splits = {
        "p0": ("A", "T", 250, 40),
        "p1": ("X", "F", 300, 10),
        "p2": ("P", "Q", 500, 20),
        "p3": ("B", "D", 400, 30),
        "p4": ("T", "B", 200, 5),
    }
    for name, (a, b, off, spur) in splits.items():
        w = g.edges[a, b]["w"]
        g.remove_edge(a, b)
        g.add_edge(a, name + "r", w=off)
        g.add_edge(name + "r", b, w=w - off)
        g.add_edge(name, name + "r", w=spur)
    names = list(splits)
    for i, s in enumerate(names):
        lengths = nx.single_source_dijkstra_path_length(g, s, weight="w")
        for j, t in enumerate(names):
            want = lengths.get(t, math.inf)
            assert got[i, j] == pytest.approx(want, abs=0.01), (s, t)
    assert got[0, 1] == pytest.approx(40 + 250 + 500 + 500 + 300 + 10, abs=0.01)
    assert got[0, 4] == pytest.approx(40 + 250 + 200 + 5, abs=0.01)  # along the shared-ish line
    assert math.isinf(got[0, 2])  # the separate piece


def test_two_points_on_one_edge_go_straight_along_it() -> None:
    rg = build_road_graph(_roads([[(0, 0), (1000, 0)]]), UTM)
    net = attach_network(rg, attach_points(rg, _points([(300, 10), (700, -10), (100, 0)])))
    d = dijkstra(net.csr, directed=False, indices=net.point_node)[:, net.point_node]
    assert d[0, 1] == pytest.approx(10 + 400 + 10, abs=0.01)
    assert d[0, 2] == pytest.approx(10 + 200, abs=0.01)
    g = net.to_networkx()
    assert nx.shortest_path_length(
        g, int(net.point_node[0]), int(net.point_node[1]), weight="weight_m"
    ) == pytest.approx(d[0, 1])


def test_bad_geometry_names_the_road() -> None:
    roads = _roads([[(0, 0), (10, 0)]])
    bad = gpd.GeoDataFrame({"road_id": ["R9"]}, geometry=[shapely.Point(106.3, 9.9)], crs=4326)
    with pytest.raises(InvalidGeometryError, match="R9"):
        build_road_graph(
            gpd.GeoDataFrame(
                {"road_id": ["R0", "R9"]}, geometry=list(roads.geometry) + list(bad.geometry), crs=4326
            ),
            UTM,
        )
    with pytest.raises(DataNotFoundError):
        build_road_graph(gpd.GeoDataFrame({"road_id": []}, geometry=[], crs=4326), UTM)


@st.composite
def grid_roads(draw: st.DrawFn) -> tuple[list[list[tuple[float, float]]], list[tuple[float, float]]]:
    n = draw(st.integers(2, 5))
    step = draw(st.floats(100, 800))
    xs = [i * step for i in range(n)]
    lines = [[(x, 0.0), (x, xs[-1])] for x in xs] + [[(0.0, y), (xs[-1], y)] for y in xs]
    drop = draw(st.sets(st.integers(0, len(lines) - 1), max_size=len(lines) - 2))
    lines = [ln for i, ln in enumerate(lines) if i not in drop]
    pts = draw(
        st.lists(
            st.tuples(st.floats(-200, xs[-1] + 200), st.floats(-200, xs[-1] + 200)), min_size=2, max_size=5
        )
    )
    return lines, pts


@settings(max_examples=25, deadline=None)
@given(grid_roads())
def test_road_distance_matches_networkx_and_is_at_least_straight(case) -> None:  # type: ignore[no-untyped-def]
    lines, pts = case
    rg = build_road_graph(_roads(lines, wgs84=False), UTM)
    net = attach_network(rg, attach_points(rg, _points(pts)))
    d = dijkstra(net.csr, directed=False, indices=net.point_node)[:, net.point_node]
    g = net.to_networkx()
    for i in range(len(pts)):
        ref = nx.single_source_dijkstra_path_length(g, int(net.point_node[i]), weight="weight_m")
        for j in range(len(pts)):
            want = ref.get(int(net.point_node[j]), math.inf)
            assert d[i, j] == pytest.approx(want, abs=1e-6)
            if math.isfinite(d[i, j]):
                assert d[i, j] >= math.dist(pts[i], pts[j]) - 1e-6


def test_diagonal_crossing_without_shared_vertex() -> None:
    rg = build_road_graph(_roads([[(0, 0), (1000, 1000)], [(0, 1000), (1000, 0)]]), UTM)
    assert rg.n_nodes == 5 and rg.n_edges == 4
    np.testing.assert_allclose(rg.edge_length_m, [math.hypot(500, 500)] * 4, atol=0.01)
    centre = rg.node_xy_m[np.argmax(np.bincount(np.concatenate([rg.edge_u, rg.edge_v])))] - [X0, Y0]
    np.testing.assert_allclose(centre, [500, 500], atol=0.01)
    assert nx.shortest_path_length(rg.graph, 0, 1, weight="length_m") > 0
