"""Fibre under a budget (issue 12 §4): the order worked out by hand, budgets, lazy = plain greedy, CLI.

The hand-built scene (UTM 48N metres from E 600,000 m, N 1,090,000 m; every hamlet and the OLT sit
on a road, so the spurs are 0)::

    W2 (-2520,0) ── W1 (-2400,0) ─────────── VT-1 (0,0) ── NEAR (60,0) ───── BIG (2000,0) ──┤ (3000,0)
    150 households   150 households          OLT Viettel    30 (drop reach)   400 households
                                                 │
                                             SMALL (0,500), 50 households; EMPTY (0,1800), 0 households
                                                 │ (0,2000)
    FAR (20500,0), 80 households, on a separate road: no road path.

Unit costs: cable 10,000,000 VND/km (10,000 per m), cabinet 5,000,000, drop 100,000, take-up 0.5
(drops: BIG 200, W1 75, W2 75, SMALL 25). ``drop_reach_m`` = 100 m, so NEAR is in drop reach and the
candidates are BIG, W1, W2, SMALL (EMPTY has no households, FAR no road path).

Alone (cable + cabinet + drops, VND; households per million VND):

    BIG    2,000 m: 20,000,000 + 5,000,000 + 20,000,000 = 45,000,000   400/45.0 = 8.889
    W1     2,400 m: 24,000,000 + 5,000,000 +  7,500,000 = 36,500,000   150/36.5 = 4.110
    SMALL    500 m:  5,000,000 + 5,000,000 +  2,500,000 = 12,500,000    50/12.5 = 4.000
    W2     2,520 m: 25,200,000 + 5,000,000 +  7,500,000 = 37,700,000   150/37.7 = 3.979

1. BIG (best ratio). Its cable (the east road) is on nobody else's way: nothing changes.
2. W1 (4.110 > 4.000 > 3.979).
3. W2 now needs only the 120 m from W1's cabinet: 1,200,000 + 5,000,000 + 7,500,000 = 13,700,000,
   150/13.7 = 10.949: W2 before SMALL (4.000). A queue that re-checks only its top would go wrong
   here: its stale entries are SMALL 4.000 above W2 3.979, SMALL's price is unchanged, so it would
   take SMALL. Costs only fall, so stale ratios are too low, never too high.
4. SMALL, 12,500,000.

Cumulative cost 45,000,000 / 81,500,000 / 95,200,000 / 107,700,000 VND; households 400 / 550 / 700 /
750; new cable 2,000 + 2,400 + 120 + 500 = 5,020 m.

Budgets (the rule: best ratio among the hamlets that fit in what is left; the others are passed
over): 95,200,000 -> BIG, W1, W2 (exactly spent). 60,000,000 -> BIG (15,000,000 left: W1 and W2 do
not fit), then SMALL: 57,500,000. 40,000,000 -> BIG does not fit, W1 does (3,500,000 left), then
nothing: W1 alone.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from analysis.fibre import ReachResult, compute_reach
from analysis.fibre_budget import NODE_COLUMNS, plan_fibre_budget
from analysis.params import ReachParams, UnitCosts
from analysis.roadgraph import build_road_graph
from cli.main import main
from geo.errors import ParameterError
from tests.acceptance.support import read_csv_rows

UTM = 32648
X0, Y0 = 600_000.0, 1_090_000.0
OGRINFO = shutil.which("ogrinfo")

COSTS = UnitCosts(cable_vnd_per_km=10_000_000, drop_vnd=100_000, cabinet_vnd=5_000_000, drop_takeup_share=0.5)
PARAMS = ReachParams(drop_reach_m=100.0, extendable_m=5000.0)


def _frame(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    pts = shapely.points(np.asarray(xy, float) + [X0, Y0])
    return gpd.GeoDataFrame(rows, geometry=list(pts), crs=UTM).to_crs(4326)


def _roads(lines: list[list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    geoms = [shapely.LineString(np.asarray(c, float) + [X0, Y0]) for c in lines]
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))]}, geometry=geoms, crs=UTM)


ROADS = _roads([[(0, 0), (3000, 0)], [(0, 0), (-3000, 0)], [(0, 0), (0, 2000)], [(20_000, 0), (21_000, 0)]])
NODES = _frame([{"node_id": "VT-1", "operator": "Viettel", "node_type": "OLT"}], [(0, 0)])
HAMLETS = _frame(
    [
        {"hamlet_id": "BIG", "households": 400, "commune_id": "C1"},
        {"hamlet_id": "SMALL", "households": 50, "commune_id": "C1"},
        {"hamlet_id": "W2", "households": 150, "commune_id": "C2"},
        {"hamlet_id": "W1", "households": 150, "commune_id": "C2"},
        {"hamlet_id": "NEAR", "households": 30, "commune_id": "C1"},
        {"hamlet_id": "EMPTY", "households": 0, "commune_id": "C1"},
        {"hamlet_id": "FAR", "households": 80, "commune_id": "C3"},
    ],
    [(2000, 0), (0, 500), (-2520, 0), (-2400, 0), (60, 0), (0, 1800), (20_500, 0)],
)


@pytest.fixture(scope="module")
def reach() -> ReachResult:
    return compute_reach(build_road_graph(ROADS, UTM), HAMLETS, NODES, params=PARAMS)


def _plan(reach: ReachResult, **kw):  # noqa: ANN202
    kw.setdefault("budget_vnd", None)
    kw.setdefault("max_hamlets", None)
    return plan_fibre_budget(reach, HAMLETS, costs=COSTS, nodes=NODES, **kw)


# --------------------------------------------------------------------------------------------------
# the hand-computed order


def test_order_costs_and_totals_equal_the_hand_computed_ones(reach: ReachResult) -> None:
    plan = _plan(reach)
    c = plan.choices
    assert c["hamlet_id"].tolist() == ["BIG", "W1", "W2", "SMALL"]
    assert c["order"].tolist() == [1, 2, 3, 4]
    assert c["marginal_cable_m"].tolist() == pytest.approx([2000, 2400, 120, 500], abs=0.05)
    assert c["cable_cost_vnd"].tolist() == [20_000_000, 24_000_000, 1_200_000, 5_000_000]
    assert c["drops"].tolist() == [200, 75, 75, 25]
    assert c["drop_cost_vnd"].tolist() == [20_000_000, 7_500_000, 7_500_000, 2_500_000]
    assert c["cabinet_cost_vnd"].tolist() == [5_000_000] * 4
    assert c["marginal_cost_vnd"].tolist() == [45_000_000, 36_500_000, 13_700_000, 12_500_000]
    assert c["cumulative_cost_vnd"].tolist() == [45_000_000, 81_500_000, 95_200_000, 107_700_000]
    assert c["cumulative_households"].tolist() == [400, 550, 700, 750]
    assert c["households_per_million_vnd"].tolist() == pytest.approx(
        [400 / 45, 150 / 36.5, 150 / 13.7, 50 / 12.5], abs=0.001
    )
    assert c["from_node_id"].tolist() == ["VT-1", "VT-1", "PLANF-W1", "VT-1"]
    assert c["operator"].tolist() == ["Viettel"] * 4
    assert c["fibre_reach_class"].tolist() == ["extendable"] * 4
    assert plan.n_candidates == 4 and plan.n_no_road_path == 1 and plan.next_candidate is None
    s = plan.summary()
    assert s["hamlets_chosen"] == 4 and s["households_reached"] == 750
    assert s["total_cost_vnd"] == 107_700_000 and s["route_length_km"] == pytest.approx(5.02, abs=1e-3)


def test_routes_follow_the_roads_and_cabinets_are_fibre_node_rows(reach: ReachResult) -> None:
    plan = _plan(reach)
    routes = plan.routes
    assert routes.crs.to_epsg() == 4326 and set(routes.geom_type) == {"LineString"}
    assert routes["route_id"].tolist() == ["PLANF-R0001", "PLANF-R0002", "PLANF-R0003", "PLANF-R0004"]
    metric = routes.to_crs(UTM)
    assert metric.length.tolist() == pytest.approx([2000, 2400, 120, 500], abs=0.05)
    # W2's cable runs from W1's cabinet to W2, along the west road
    start, end = shapely.get_coordinates(metric.geometry.iloc[2])[[0, -1]] - [X0, Y0]
    assert start == pytest.approx([-2400, 0], abs=0.01) and end == pytest.approx([-2520, 0], abs=0.01)
    cab = plan.cabinets
    assert cab.columns.tolist()[: len(NODE_COLUMNS)] == list(NODE_COLUMNS)
    assert cab["node_id"].tolist() == ["PLANF-BIG", "PLANF-W1", "PLANF-W2", "PLANF-SMALL"]
    assert set(cab["node_type"]) == {"cabinet"} and set(cab["operator"]) == {"Viettel"}
    assert cab["commune_id"].tolist() == ["C1", "C2", "C2", "C1"]
    where = HAMLETS.set_index("hamlet_id").geometry
    for row in cab.itertuples():
        h = where[row.node_id.removeprefix("PLANF-")]
        assert (row.lon, row.lat) == pytest.approx((h.x, h.y), abs=1e-7)


@pytest.mark.parametrize(
    ("budget", "max_hamlets", "chosen", "spent"),
    [
        (95_200_000, None, ["BIG", "W1", "W2"], 95_200_000),  # exactly spent
        (60_000_000, None, ["BIG", "SMALL"], 57_500_000),  # W1, W2 passed over, SMALL fits
        (40_000_000, None, ["W1"], 36_500_000),  # BIG does not fit at all
        (None, 2, ["BIG", "W1"], 81_500_000),
        (1e12, 3, ["BIG", "W1", "W2"], 95_200_000),
        (1_000_000, None, [], 0),
        (None, 0, [], 0),
    ],
)
def test_budget_and_count_limits(reach: ReachResult, budget, max_hamlets, chosen, spent) -> None:
    plan = _plan(reach, budget_vnd=budget, max_hamlets=max_hamlets)
    assert plan.choices["hamlet_id"].tolist() == chosen
    assert plan.total_cost_vnd == spent
    if budget is not None:
        assert plan.total_cost_vnd <= budget
    assert len(plan.routes) == len(plan.cabinets) == len(chosen)


def test_next_candidate_names_the_best_one_left(reach: ReachResult) -> None:
    plan = _plan(reach, budget_vnd=60_000_000)
    assert plan.next_candidate == {
        "hamlet_id": "W1",
        "households": 150,
        "marginal_cable_m": 2400.0,
        "marginal_cost_vnd": 36_500_000,
        "households_per_million_vnd": pytest.approx(150 / 36.5, abs=0.001),
    }


def test_new_cable_may_branch_off_an_existing_route(reach: ReachResult) -> None:
    # a VinaPhone cable 20 m beside the north road from y = 100 to 600 m: SMALL's spur foot (0, 500)
    # is within route_join_m (50 m), the junction at (0, 0) is not (102 m). SMALL then costs its
    # cabinet and drops only: 7,500,000 VND, 50/7.5 = 6.667 per million, second after BIG.
    cable = gpd.GeoDataFrame(
        {"route_id": ["FR-1"], "operator": ["VinaPhone"]},
        geometry=[shapely.LineString([(X0 + 20, Y0 + 100), (X0 + 20, Y0 + 600)])],
        crs=UTM,
    )
    plan = _plan(reach, existing_routes=cable)
    c = plan.choices.set_index("hamlet_id")
    assert plan.choices["hamlet_id"].tolist() == ["BIG", "SMALL", "W1", "W2"]
    assert c.loc["SMALL", "marginal_cost_vnd"] == 7_500_000 and c.loc["SMALL", "marginal_cable_m"] == 0
    assert c.loc["SMALL", "from_node_id"] == "route:FR-1" and c.loc["SMALL", "operator"] == "VinaPhone"
    assert plan.cabinets.set_index("node_id").loc["PLANF-SMALL", "operator"] == "VinaPhone"
    assert len(plan.routes) == 3  # no new cable to SMALL


def test_operator_comes_from_the_reach_table_without_the_nodes_layer(reach: ReachResult) -> None:
    plan = plan_fibre_budget(reach, HAMLETS, costs=COSTS, budget_vnd=None, max_hamlets=1)
    assert plan.choices["operator"].tolist() == ["Viettel"]


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"budget_vnd": -1.0, "max_hamlets": None}, "budget"),
        ({"budget_vnd": math.nan, "max_hamlets": None}, "budget"),
        ({"budget_vnd": None, "max_hamlets": -1}, "number of hamlets"),
    ],
)
def test_bad_limits_are_refused(reach: ReachResult, kw: dict, needle: str) -> None:
    with pytest.raises(ParameterError, match=needle):
        plan_fibre_budget(reach, HAMLETS, costs=COSTS, **kw)


def test_hamlets_must_be_those_of_the_reach(reach: ReachResult) -> None:
    with pytest.raises(ParameterError, match="not those"):
        plan_fibre_budget(reach, HAMLETS.iloc[::-1], costs=COSTS, budget_vnd=None, max_hamlets=None)


# --------------------------------------------------------------------------------------------------
# the lazy greedy equals a plain greedy that recomputes everything after every choice


def _plain_greedy(
    reach: ReachResult, hamlets: gpd.GeoDataFrame, costs: UnitCosts, budget: float | None, max_h: int | None
) -> list[tuple[str, float, float]]:
    """Multi-source Dijkstra (networkx) from the whole network after every choice; every hamlet
    re-priced; the best ratio among those that fit. Returns (hamlet_id, cable m, cost VND)."""
    g = reach.network.to_networkx()
    network = {int(n) for n in reach.access_nodes}
    hh = hamlets["households"].to_numpy(float)
    table = reach.table
    left = [
        i
        for i in range(len(hamlets))
        if table["fibre_reach_class"].iat[i] in reach.params.plan_classes
        and table["road_connected"].iat[i]
        and hh[i] > 0
    ]
    fixed = costs.cabinet_vnd + np.round(hh * costs.drop_takeup_share) * costs.drop_vnd
    remaining = math.inf if budget is None else budget
    out: list[tuple[str, float, float]] = []
    while left and (max_h is None or len(out) < max_h):
        dist, paths = nx.multi_source_dijkstra(g, network, weight="weight_m")
        best, best_ratio = None, -1.0
        for i in left:
            node = int(reach.hamlet_nodes[i])
            if node not in dist:
                continue
            cost = round(dist[node] * costs.cable_vnd_per_km / 1000) + fixed[i]
            if cost > remaining + 1e-6:
                continue
            ratio = hh[i] / cost if cost > 0 else math.inf
            if ratio > best_ratio:
                best, best_ratio = (i, dist[node], cost), ratio
        if best is None:
            break
        i, cable, cost = best
        out.append((str(table.index[i]), cable, cost))
        remaining -= cost
        network |= set(paths[int(reach.hamlet_nodes[i])])
        left.remove(i)
    return out


def _random_instance(rng: np.random.Generator) -> tuple[ReachResult, gpd.GeoDataFrame, UnitCosts]:
    n = 4
    xy = np.stack(np.meshgrid(np.arange(n), np.arange(n)), -1).reshape(-1, 2) * 1000.0
    xy += rng.uniform(-250, 250, xy.shape)
    idx = np.arange(n * n).reshape(n, n)
    pairs = [(idx[i, j], idx[i, j + 1]) for i in range(n) for j in range(n - 1)]
    pairs += [(idx[i, j], idx[i + 1, j]) for i in range(n - 1) for j in range(n)]
    pairs += [
        (idx[i, j], idx[i + 1, j + 1]) for i in range(n - 1) for j in range(n - 1) if rng.random() < 0.3
    ]
    kept = [p for p in pairs if rng.random() < 0.8]
    roads = _roads([[tuple(xy[a]), tuple(xy[b])] for a, b in kept])
    k_nodes = int(rng.integers(1, 3))
    nodes = _frame(
        [
            {"node_id": f"N{i}", "operator": ["Viettel", "VNPT"][i % 2], "node_type": "OLT"}
            for i in range(k_nodes)
        ],
        [tuple(p) for p in rng.uniform(-200, 3200, (k_nodes, 2))],
    )
    k = int(rng.integers(5, 10))
    hamlets = _frame(
        [{"hamlet_id": f"H{i}", "households": int(rng.integers(0, 400))} for i in range(k)],
        [tuple(p) for p in rng.uniform(-300, 3300, (k, 2))],
    )
    costs = UnitCosts(
        cable_vnd_per_km=float(rng.uniform(5e6, 60e6)),
        drop_vnd=float(rng.uniform(0, 2e6)),
        cabinet_vnd=float(rng.choice([0.0, rng.uniform(0, 80e6)])),
        drop_takeup_share=float(rng.uniform(0.3, 1.0)),
    )
    params = ReachParams(drop_reach_m=float(rng.uniform(0, 500)), extendable_m=5000.0)
    return compute_reach(build_road_graph(roads, UTM), hamlets, nodes, params=params), hamlets, costs


@pytest.mark.parametrize("seed", range(30))
def test_lazy_greedy_equals_the_plain_greedy_on_random_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reach, hamlets, costs = _random_instance(rng)
    unlimited = plan_fibre_budget(reach, hamlets, costs=costs, budget_vnd=None, max_hamlets=None)
    total = unlimited.total_cost_vnd
    for budget, max_h in ((None, None), (total * rng.uniform(0.2, 0.8), None), (None, 2), (total / 3, 3)):
        got = plan_fibre_budget(reach, hamlets, costs=costs, budget_vnd=budget, max_hamlets=max_h)
        want = _plain_greedy(reach, hamlets, costs, budget, max_h)
        assert got.choices["hamlet_id"].tolist() == [w[0] for w in want], (seed, budget, max_h)
        assert got.choices["marginal_cable_m"].tolist() == pytest.approx([w[1] for w in want], abs=0.05)
        assert got.choices["marginal_cost_vnd"].tolist() == pytest.approx([w[2] for w in want], abs=1)
        if budget is not None:
            assert got.total_cost_vnd <= budget
        cum = got.choices["cumulative_cost_vnd"].to_numpy()
        assert cum == pytest.approx(np.cumsum(got.choices["marginal_cost_vnd"].to_numpy()))


def test_the_hand_scene_matches_the_plain_greedy_too(reach: ReachResult) -> None:
    want = _plain_greedy(reach, HAMLETS, COSTS, None, None)
    assert [w[0] for w in want] == ["BIG", "W1", "W2", "SMALL"]
    assert [w[2] for w in want] == [45_000_000, 36_500_000, 13_700_000, 12_500_000]


# --------------------------------------------------------------------------------------------------
# the command


def test_plan_fibre_command_writes_a_plan_that_opens_as_a_scenario(
    tiny_package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.gpkg"
    assert main(["plan-fibre", str(tiny_package), "--budget", "1e9", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cum_cost_VND" in printed and "plan_fibre_nodes.csv" in printed
    assert [name for name, _ in pyogrio.list_layers(out)] == ["hamlets", "routes", "cabinets", "metadata"]
    ham = pyogrio.read_dataframe(out, layer="hamlets")
    assert len(ham) >= 1 and ham["order"].tolist() == list(range(1, len(ham) + 1))
    assert ham["cumulative_cost_vnd"].iloc[-1] <= 1e9
    assert set(ham.geom_type) == {"Point"}
    nodes_csv = tmp_path / "plan_fibre_nodes.csv"
    with nodes_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(NODE_COLUMNS)
    assert [r["node_id"] for r in rows] == ["PLANF-" + h for h in ham["hamlet_id"]]
    if OGRINFO is not None:  # Debian gdal-bin; CI images without it still check the file with pyogrio
        proc = subprocess.run(
            [OGRINFO, "-ro", "-so", "-al", str(out)], capture_output=True, check=False, timeout=60
        )
        assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
        for layer in ("hamlets", "routes", "cabinets"):
            assert f"Layer name: {layer}".encode() in proc.stdout
        assert f"Feature Count: {len(ham)}".encode() in proc.stdout
    scen = tmp_path / "scenario"
    routes = tmp_path / "plan_fibre_routes.geojson"
    args = [
        "scenario",
        str(tiny_package),
        "--add-fibre-nodes",
        str(nodes_csv),
        "--add-fibre-routes",
        str(routes),
    ]
    assert main([*args, "--out", str(scen)]) == 0
    after = read_csv_rows(scen / "hamlets.csv")
    for hid in ham["hamlet_id"]:
        assert after[hid]["fibre_reach_class_before"] != "drop"
        assert after[hid]["fibre_reach_class_after"] == "drop", hid
    # the scenario costs the plan as the plan does: cabinets + cable per km + drops (to rounding)
    summary = json.loads((scen / "summary.json").read_text(encoding="utf-8"))
    assert summary["costs"]["fibre_vnd"] == pytest.approx(ham["cumulative_cost_vnd"].iloc[-1], abs=1000)


@pytest.mark.skipif(OGRINFO is None, reason="Debian gdal-bin (ogrinfo) is not installed")
def test_ogrinfo_reads_an_empty_plan(tiny_package: Path, tmp_path: Path) -> None:
    out = tmp_path / "none.gpkg"
    assert main(["plan-fibre", str(tiny_package), "--budget", "1000", "--out", str(out)]) == 0
    proc = subprocess.run(
        [OGRINFO, "-ro", "-so", "-al", str(out)], capture_output=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert b"Feature Count: 0" in proc.stdout
    assert pd.read_csv(tmp_path / "none_fibre_nodes.csv").columns.tolist() == list(NODE_COLUMNS)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--budget", "abc"], "not an amount of VND"),
        (["--budget", "-5"], "above 0"),
        (["--budget", "nan"], "above 0"),
        (["--budget", "0"], "above 0"),
        (["--hamlets", "0"], "at least 1"),
        (["--hamlets", "two"], "whole number"),
        ([], "--budget"),
        (["--budget", "1e9", "--operator", "Nokia"], "not a known operator"),
        (["--budget", "1e9", "--operator", "MobiFone"], "MobiFone"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    tiny_package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    out = tmp_path / "plan.gpkg"
    assert main(["plan-fibre", str(tiny_package), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not out.exists()


def test_existing_outputs_are_not_overwritten_without_force(
    tiny_package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.gpkg"
    (tmp_path / "plan_fibre_nodes.csv").write_text("keep", encoding="utf-8")
    assert main(["plan-fibre", str(tiny_package), "--budget", "1e9", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "plan_fibre_nodes.csv").read_text(encoding="utf-8") == "keep" and not out.exists()
    assert main(["plan-fibre", str(tiny_package), "--budget", "1e9", "--out", str(out), "--force"]) == 0
    assert (tmp_path / "plan_fibre_nodes.csv").read_text(encoding="utf-8").startswith("node_id,")
    assert main(["plan-fibre", str(tiny_package), "--budget", "1e9", "--out", str(tmp_path / "p.csv")]) == 2
    assert ".gpkg" in capsys.readouterr().err
