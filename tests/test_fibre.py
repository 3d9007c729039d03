"""Fibre reach (multi-source Dijkstra on roads) and the Steiner extension plan."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
import pytest
import shapely

from analysis.fibre import compute_reach, plan_extension, reach_class
from analysis.params import ReachParams, UnitCosts
from analysis.roadgraph import build_road_graph
from cli.main import main
from geo.errors import DataNotFoundError

UTM = 32648
X0, Y0 = 600_000.0, 1_090_000.0


def _frame(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=list(shapely.points(np.asarray(xy) + [X0, Y0])), crs=UTM).to_crs(
        4326
    )


def _roads(lines: list[list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    geoms = [shapely.LineString(np.asarray(c, float) + [X0, Y0]) for c in lines]
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))]}, geometry=geoms, crs=UTM)


# A plus-shaped network: arms of 4 km west/east/north, 12 km south, and a separate road far away.
PLUS = [
    [(-4000, 0), (0, 0), (4000, 0)],
    [(0, 0), (0, 4000)],
    [(0, 0), (0, -12_000)],
    [(30_000, 0), (31_000, 0)],
]
NODES = _frame(
    [
        {"node_id": "VT-1", "operator": "Viettel", "node_type": "OLT"},
        {"node_id": "VN-1", "operator": "VinaPhone", "node_type": "cabinet"},
        {"node_id": "VN-X", "operator": "VinaPhone", "node_type": "splice"},
    ],
    [(-4000, 50), (4000, 0), (0, 3000)],
)
HAMLETS = _frame(
    [
        {"hamlet_id": "H-west", "households": 100},  # 300 m from VT-1 along the road + 20 m spur
        {"hamlet_id": "H-north", "households": 60},  # on the north arm
        {"hamlet_id": "H-south", "households": 40},  # 10 km down the south arm
        {"hamlet_id": "H-far", "households": 10},  # on the separate road
        {"hamlet_id": "H-mid", "households": 80},  # south arm 2 km
    ],
    [(-3700, 20), (15, 3500), (0, -10_000), (30_500, 0), (-5, -2000)],
)


def _independent_distances(node_xy: dict[str, tuple[float, float]]) -> dict[str, float]:
    """networkx multi-source Dijkstra on the plus drawn by hand, spurs added by hand."""
    g = nx.Graph()
    pts = {"W": (-4000, 0), "O": (0, 0), "E": (4000, 0), "N": (0, 4000), "S": (0, -12_000)}
    for a, b in ("WO", "OE", "ON", "OS"):
        g.add_edge(a, b, w=math.dist(pts[a], pts[b]))
    feet = {  # name: (edge, offset from first end, spur)
        "VT-1": ("W", "O", 0.0, 50.0),
        "VN-1": ("E", "O", 0.0, 0.0),
        "H-west": ("W", "O", 300.0, 20.0),
        "H-north": ("O", "N", 3500.0, 15.0),
        "H-south": ("O", "S", 10_000.0, 0.0),
        "H-mid": ("O", "S", 2000.0, 5.0),
    }
    by_edge: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for name, (a, b, off, spur) in feet.items():
        by_edge.setdefault((a, b), []).append((off, name))
        g.add_edge(name, name + "@", w=spur)
    for (a, b), items in by_edge.items():
        g.remove_edge(a, b)
        chain = [(0.0, a), *sorted((o, n + "@") for o, n in items), (math.dist(pts[a], pts[b]), b)]
        for (o1, n1), (o2, n2) in zip(chain, chain[1:], strict=False):
            g.add_edge(n1, n2, w=o2 - o1)
    return nx.multi_source_dijkstra_path_length(g, set(node_xy), weight="w")


def test_reach_matches_networkx_multi_source_dijkstra() -> None:
    road = build_road_graph(_roads(PLUS), UTM)
    res = compute_reach(road, HAMLETS, NODES, params=ReachParams()).table
    want = _independent_distances({"VT-1": (0, 0), "VN-1": (0, 0)})
    for hid in ("H-west", "H-north", "H-south", "H-mid"):
        assert res.loc[hid, "fibre_distance_m"] == pytest.approx(want[hid], abs=0.01), hid
    assert res.loc["H-west", "fibre_distance_m"] == pytest.approx(50 + 300 + 20, abs=0.01)
    assert res.loc["H-west", "fibre_node_id"] == "VT-1"
    assert res.loc["H-north", "fibre_node_id"] == "VN-1"
    assert res.loc["H-west", "fibre_reach_class"] == "drop"
    assert res.loc["H-mid", "fibre_distance_m"] == pytest.approx(4000 + 2000 + 5, abs=0.01)
    assert res.loc["H-mid", "fibre_reach_class"] == "out_of_reach"
    assert res.loc["H-south", "fibre_reach_class"] == "out_of_reach"
    assert np.isnan(res.loc["H-far", "fibre_distance_m"]) and not res.loc["H-far", "road_connected"]
    assert res.loc["H-far", "fibre_node_id"] == ""


def test_reach_of_one_operator() -> None:
    road = build_road_graph(_roads(PLUS), UTM)
    res = compute_reach(road, HAMLETS, NODES, params=ReachParams(operator="Viettel")).table
    want = _independent_distances({"VT-1": (0, 0)})
    assert set(res["fibre_node_id"]) - {""} == {"VT-1"}
    assert res.loc["H-north", "fibre_distance_m"] == pytest.approx(want["H-north"], abs=0.01)
    with pytest.raises(DataNotFoundError, match="MobiFone"):
        compute_reach(road, HAMLETS, NODES, params=ReachParams(operator="MobiFone"))


def test_node_types_filter() -> None:
    road = build_road_graph(_roads(PLUS), UTM)
    with_splice = compute_reach(
        road, HAMLETS, NODES, params=ReachParams(node_types=("OLT", "cabinet", "splice"))
    )
    assert with_splice.table.loc["H-north", "fibre_node_id"] == "VN-X"


def test_reach_classes_at_the_boundaries() -> None:
    p = ReachParams(drop_reach_m=1000, extendable_m=5000)
    got = reach_class(np.array([0, 1000, 1000.01, 5000, 5000.01, np.nan, np.inf]), p)
    assert list(got) == [
        "drop",
        "drop",
        "extendable",
        "extendable",
        "out_of_reach",
        "out_of_reach",
        "out_of_reach",
    ]


def test_extension_plan_is_the_exact_tree_on_a_tree_network() -> None:
    road = build_road_graph(_roads(PLUS), UTM)
    reach = compute_reach(road, HAMLETS, NODES, params=ReachParams())
    costs = UnitCosts(
        cable_vnd_per_km=10_000_000, drop_vnd=1_000_000, cabinet_vnd=5_000_000, drop_takeup_share=0.5
    )
    plan = plan_extension(reach, HAMLETS, costs=costs)
    # targets: H-north, H-south, H-mid (all beyond 5 km); H-far has no road path. On a tree
    # network the optimal Steiner tree is unique and the approximation must find it: from VN-1
    # (spur 0) 4 km west to O, 10 km down the south arm (H-mid's foot on the way), 3.5 km up the
    # north arm, plus the hamlets' spurs 15 + 5 + 0 m. (VT-1 is as far from O, plus a 50 m spur.)
    assert plan.length_m == pytest.approx(4000 + 10_000 + 3500 + 15 + 5, abs=0.05)
    status = plan.hamlets.set_index("hamlet_id")["plan_status"].to_dict()
    assert status == {"H-north": "planned", "H-south": "planned", "H-far": "no_road_path", "H-mid": "planned"}
    assert plan.n_cabinets == 3 and plan.n_drops == 30 + 20 + 40
    assert plan.cable_cost_vnd == pytest.approx(plan.length_m / 1000 * 10_000_000)
    assert plan.total_cost_vnd == pytest.approx(plan.cable_cost_vnd + 3 * 5_000_000 + 90 * 1_000_000)
    routes = plan.routes.to_crs(UTM)
    assert routes.crs is not None and set(routes.geom_type) == {"LineString"}
    assert routes.length.sum() == pytest.approx(plan.length_m, abs=0.5)
    assert plan.summary()["hamlets_planned"] == 3


def test_empty_plan_when_everything_is_in_reach() -> None:
    road = build_road_graph(_roads(PLUS), UTM)
    near = HAMLETS.iloc[[0]]
    plan = plan_extension(compute_reach(road, near, NODES, params=ReachParams()), near, costs=UnitCosts())
    assert plan.length_m == 0 and plan.routes.empty and plan.total_cost_vnd == 0


def test_fibre_command_writes_reach_and_plan(
    tiny_package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fibre.gpkg"
    assert main(["fibre", str(tiny_package), "--out", str(out)]) == 0
    assert [name for name, _ in pyogrio.list_layers(out)] == [
        "reach",
        "extension_plan",
        "access_nodes",
        "metadata",
    ]
    reach = pyogrio.read_dataframe(out, layer="reach")
    assert set(reach["fibre_reach_class"]) <= {"drop", "extendable", "out_of_reach"}
    assert (reach["fibre_distance_m"] > 0).all()
    plan = pyogrio.read_dataframe(out, layer="extension_plan")
    assert (plan["length_m"] > 0).all()
    meta = dict(pyogrio.read_dataframe(out, layer="metadata").values.tolist())
    assert meta["param_costs_cable_vnd_per_km"] == "30000000.0" and "plan_total_cost_vnd" in meta
    assert "wrote" in capsys.readouterr().out
    # refuses to overwrite, exits 2 with a message
    assert main(["fibre", str(tiny_package), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["fibre", str(tiny_package), "--out", str(tmp_path / "f.csv")]) == 2
    assert ".gpkg" in capsys.readouterr().err
    assert main(["fibre", str(tiny_package), "--out", str(out), "--force", "--operator", "Nokia"]) == 2
    assert "not a known operator" in capsys.readouterr().err


def test_no_fibre_at_all_means_everything_out_of_reach() -> None:
    road = build_road_graph(_roads(PLUS), UTM)
    reach = compute_reach(road, HAMLETS, NODES.iloc[0:0], params=ReachParams())
    assert set(reach.table["fibre_reach_class"]) == {"out_of_reach"}
    assert reach.table["fibre_distance_m"].isna().all()
    plan = plan_extension(reach, HAMLETS, costs=UnitCosts())
    assert set(plan.hamlets["plan_status"]) == {"no_road_path"} and plan.length_m == 0
    with pytest.raises(DataNotFoundError, match="node_types"):
        compute_reach(road, HAMLETS, NODES, params=ReachParams(node_types=("POP",)))


def test_plan_branches_off_existing_routes() -> None:
    road = build_road_graph(_roads(PLUS), UTM)
    reach = compute_reach(road, HAMLETS, NODES, params=ReachParams())
    # an existing cable already runs from O 9 km down the south arm (20 m beside the road)
    cable = gpd.GeoDataFrame(
        {"route_id": ["FR-1"], "operator": ["VinaPhone"]},
        geometry=[shapely.LineString([(X0 + 20, Y0), (X0 + 20, Y0 - 9000)])],
        crs=UTM,
    )
    plan = plan_extension(reach, HAMLETS, costs=UnitCosts(), existing_routes=cable)
    # Cable may branch off at on-road nodes within 50 m of the cable: O and H-mid's spur foot
    # (0, -2000); there is no road node further down until H-south's foot at -10,000. So: H-mid
    # needs only its 5 m spur, H-south 8,000 m from H-mid's foot, H-north 3,500 + 15 m from O.
    assert plan.length_m == pytest.approx(3500 + 15 + 5 + 8000, abs=0.05)
    no_join = plan_extension(
        compute_reach(road, HAMLETS, NODES, params=ReachParams(route_join_m=0.0)),
        HAMLETS,
        costs=UnitCosts(),
        existing_routes=cable,
    )
    assert no_join.length_m == pytest.approx(4000 + 10_000 + 3500 + 15 + 5, abs=0.05)


def test_hamlet_on_a_road_fragment_moves_to_the_connected_network() -> None:
    # a 200 m track 10 m from the hamlet, disconnected; the west arm of the plus is 310 m away
    roads = _roads([*PLUS, [(-3000, 300), (-2800, 300)]])
    road = build_road_graph(roads, UTM)
    hamlet = _frame([{"hamlet_id": "H-track", "households": 30}], [(-2900, 310)])
    res = compute_reach(road, hamlet, NODES, params=ReachParams()).table
    assert res.loc["H-track", "hamlet_spur_m"] == pytest.approx(310, abs=0.01)
    assert res.loc["H-track", "fibre_distance_m"] == pytest.approx(50 + 1100 + 310, abs=0.01)
    stay = compute_reach(road, hamlet, NODES, params=ReachParams(fragment_reattach_m=200)).table
    assert np.isnan(stay.loc["H-track", "fibre_distance_m"])
    assert stay.loc["H-track", "hamlet_spur_m"] == pytest.approx(10, abs=0.01)
