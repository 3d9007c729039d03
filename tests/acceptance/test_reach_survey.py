"""Scene B ("reach and survey"): hand-summed road distances, survey fallbacks, priority and ranks.

The package is written by ``scenes.reach_scene`` / ``scenes.write_package`` and analysed once per
layout with ``python -m analysis gaps`` and ``python -m analysis fibre``. Every hamlet has full good
4G (LTE sites every 2.5 km), so only the fibre and survey flags fire. See README.md in this folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance import reference as ref
from tests.acceptance.scenes import (
    LAYOUTS,
    PackageIds,
    Scene,
    footprint,
    metric,
    metric_cells,
    reach_scene,
    write_package,
)
from tests.acceptance.support import (
    checks,
    flag,
    items,
    num,
    read_csv_rows,
    read_gpkg_table,
    run_cli,
    run_ok,
    text,
)

DIST_TOL_M = 0.5  # coordinates are stored to 1e-7° (~1 cm); distances are sums of exact legs

# Hand-summed road distances (docs/GAPS.md §1-2: hamlet spur + road + node spur, route distance).
# R1 runs along y = 3 km; N1 (OLT, "VNPT") stands 200 m north of R1 at x = 4 km, N2 (cabinet, "VTL")
# 200 m south of R1 at x = 0.2 km. Values: (distance m or None = no road path, node, hamlet spur m).
REACH: dict[str, tuple[float | None, str, float]] = {
    # 200 (N2 spur) + 600 (x 0.2 -> 0.8) + 100 (spur); via N1 it would be 200 + 3,200 + 100.
    "B-WEST": (200.0 + 600.0 + 100.0, "N2", 100.0),
    # Nearest road is fragment R3 (250 m) without a node; R1 is 600 m away, 350 m longer <= 500 m:
    # reattached to R1. 200 (N1 spur) + 1,500 (x 4.0 -> 2.5) + 600 (spur to R1).
    "B-FRAG-NEAR": (200.0 + 1500.0 + 600.0, "N1", 600.0),
    # Fragment R4 is 100 m away, R1 1,000 m: 900 m longer > 500 m, stays on R4: no road path.
    "B-FRAG-FAR": (None, "", 100.0),
    "B-DROP-LOW": (200.0 + 400.0 + 100.0, "N1", 100.0),
    "B-NOSURVEY": (200.0 + 200.0 + 200.0, "N1", 200.0),
    "B-DROP-880": (200.0 + 580.0 + 100.0, "N1", 100.0),  # 120 m inside drop reach
    "B-EXT-1120": (200.0 + 820.0 + 100.0, "N1", 100.0),  # 120 m beyond drop reach
    # R2 (x = 6 km) crosses R1 with no shared vertex: 200 + 2,000 (x 4 -> 6) + 1,000 (R2 y 3 -> 4) + 100.
    "B-X": (200.0 + 2000.0 + 1000.0 + 100.0, "N1", 100.0),
    "B-EXT-4880": (200.0 + 4580.0 + 100.0, "N1", 100.0),  # 120 m inside extendable
    "B-OUT-5120": (200.0 + 4820.0 + 100.0, "N1", 100.0),  # 120 m beyond extendable
    "B-OWN": (200.0 + 6500.0 + 100.0, "N1", 100.0),
}
NODE_OPERATOR = {"N1": "VinaPhone", "N2": "Viettel", "": ""}  # "VNPT" / "VTL" in fibre/nodes.geojson
NODE_TYPE = {"N1": "OLT", "N2": "cabinet", "": ""}

# Survey rows picked by hand (scenes.reach_scene): (level, date, ftth share, smartphone share).
SURVEY: dict[str, tuple[str, str, float | None, float | None]] = {
    "B-WEST": ("hamlet", "2025-03-01", 81 / 100, 81 / 100),
    "B-FRAG-NEAR": ("hamlet", "2025-03-01", 30 / 100, 60 / 100),  # row keyed by commune + hamlet name
    "B-FRAG-FAR": ("hamlet", "2025-06-01", 20 / 100, 50 / 100),  # latest of two rows (listed first)
    "B-DROP-LOW": ("hamlet", "2025-03-01", 79 / 100, 79 / 100),  # just below 0.80
    "B-NOSURVEY": ("none", "", None, None),  # no row, no commune-level row in B1
    "B-DROP-880": ("hamlet", "2025-03-01", 80 / 100, 80 / 100),  # exactly 0.80: not below
    "B-EXT-1120": ("hamlet", "2025-03-01", 50 / 100, 81 / 100),  # low FTTH, but not in drop reach
    "B-X": ("hamlet", "2025-03-01", 10 / 100, 95 / 100),
    "B-EXT-4880": ("commune", "2025-05-01", 120 / 300, 210 / 300),  # newer of B3's two commune rows
    "B-OUT-5120": ("commune", "2025-05-01", 120 / 300, 210 / 300),
    "B-OWN": ("hamlet", "2024-12-01", 90 / 100, 90 / 100),  # own row, older than the commune row
}

# Extension plan (docs/GAPS.md §2): the road graph is a tree, so the Steiner tree is the union of the
# paths from N1 to the planned hamlets: N1 spur 200 + R1 west 1,500 + spur 600 (B-FRAG-NEAR) + R1 east
# 6,500 (to x = 10.5) + 4 spurs of 100 + R2 1,000 + spur 100 (B-X) = 10,300 m.
PLAN_M = 200.0 + 1500.0 + 600.0 + 6500.0 + 4 * 100.0 + 1000.0 + 100.0
PLANNED = ("B-FRAG-NEAR", "B-EXT-1120", "B-X", "B-EXT-4880", "B-OUT-5120", "B-OWN")


@dataclass
class ReachRun:
    """One analysed package."""

    scene: Scene
    ids: PackageIds
    gaps: Path
    fibre: Path

    def label(self, key: str) -> str:
        """``B-X 'Ấp Ngã Tư' [8470102-03]`` for messages."""
        return f"{key} {self.scene.hamlet(key).name!r} [{self.ids.hamlet_id[key]}]"


@pytest.fixture(scope="module", params=LAYOUTS)
def reach(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ReachRun:
    """Scene B written in ``request.param`` layout, then `gaps` and `fibre` run once each."""
    base = tmp_path_factory.mktemp(f"reach-{request.param}")
    scene = reach_scene()
    ids = write_package(scene, base / "pkg", request.param)
    run_ok("gaps", ids.root, "--out", base / "gaps.csv")
    run_ok("fibre", ids.root, "--out", base / "fibre.gpkg")
    return ReachRun(scene, ids, base / "gaps.csv", base / "fibre.gpkg")


def _expected(run: ReachRun) -> dict[str, ref.GapResult]:
    out = {}
    for h in run.scene.hamlets:
        _, _, ftth, phone = SURVEY[h.key]
        inputs = ref.GapInputs(
            run.ids.hamlet_id[h.key],
            run.ids.commune_id[h.commune],
            h.households,
            1.0,
            0.0,
            ref.reach_class(REACH[h.key][0]),
            ftth,
            phone,
        )
        out[h.key] = ref.expected_gaps(inputs)
    return out


# ------------------------------------------------------------------------------------------------
def test_scene_design_every_hamlet_fully_good() -> None:
    """The scene, not the program: each footprint is >= 2 dB above the good edge (no signal flag), and
    every hand-summed distance is at least 100 m from 1,000 m and 5,000 m."""
    scene = reach_scene()
    cells = metric_cells(scene)
    with checks() as check:
        for h in scene.hamlets:
            xs, ys = ref.lattice_in(footprint(scene, h.key), 10.0)
            e = ref.expected_signal(cells, xs, ys, metric(h.x, h.y))
            check(h.key, "design: share good", 1.0, e.shares["good"])
            check.that(
                h.key, "design: margin above −95 dBm", e.margin_good_db >= 2.0, f"{e.margin_good_db:.2f} dB"
            )
            d = REACH[h.key][0]
            if d is not None:
                far = min(abs(d - ref.DROP_REACH_M), abs(d - ref.EXTENDABLE_M))
                check.that(h.key, "design: distance off the reach thresholds", far >= 100.0, f"{d} m")


def test_validate_accepts_the_package(reach: ReachRun, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/DATA.md "Checking a package": exit 0, no problem listed."""
    code = run_cli("validate", reach.ids.root)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(("ERROR", "WARNING"))]
    assert code == 0 and not lines, f"validate exit {code}: {lines}"


def test_fibre_reach_hand_summed(reach: ReachRun) -> None:
    """fibre_distance_m (road + both spurs), nearest node, its canonical operator, reach class
    (drop ≤ 1,000 m < extendable ≤ 5,000 m < out_of_reach, also no road path) and hamlet_spur_m."""
    rows = read_csv_rows(reach.gaps)
    with checks() as check:
        for key, (distance, node, spur) in REACH.items():
            who, g = reach.label(key), rows[reach.ids.hamlet_id[key]]
            check(who, "fibre_distance_m (hand-summed)", distance, num(g["fibre_distance_m"]), tol=DIST_TOL_M)
            check(who, "fibre_node_id (nearest by road)", node, text(g["fibre_node_id"]))
            check(who, "fibre_operator (alias -> canonical)", NODE_OPERATOR[node], text(g["fibre_operator"]))
            check(who, "fibre_reach_class", ref.reach_class(distance), g["fibre_reach_class"])
            check(who, "hamlet_spur_m", spur, num(g["hamlet_spur_m"]), tol=DIST_TOL_M)


def test_crossing_without_shared_vertex_is_a_junction(reach: ReachRun) -> None:
    """docs/GAPS.md §1: "points where two lines cross without a shared vertex" are nodes. Without that
    node B-X (on R2 only) would have no road path; with it, 3,300 m: extendable."""
    g = read_csv_rows(reach.gaps)[reach.ids.hamlet_id["B-X"]]
    with checks() as check:
        check(
            reach.label("B-X"),
            "fibre_distance_m across the crossing",
            3300.0,
            num(g["fibre_distance_m"]),
            tol=DIST_TOL_M,
        )
        check(reach.label("B-X"), "fibre_reach_class", "extendable", g["fibre_reach_class"])
        meta = {r["key"]: r["value"] for r in read_gpkg_table(reach.fibre, "metadata")}
        summary = meta.get("road_graph", "")
        # R1 + R2 (joined at the crossing), R3, R4: three pieces.
        check("metadata road_graph", "3 components", True, bool(re.search(r"\b3\b[^0-9]*component", summary)))


def test_fragment_reattachment(reach: ReachRun) -> None:
    """docs/GAPS.md §1 / Limitations: a hamlet nearest a fragment without fibre moves to a connected road
    when that spur is at most 500 m longer (B-FRAG-NEAR, 350 m), not beyond (B-FRAG-FAR, 900 m)."""
    rows = read_csv_rows(reach.gaps)
    near, far = rows[reach.ids.hamlet_id["B-FRAG-NEAR"]], rows[reach.ids.hamlet_id["B-FRAG-FAR"]]
    with checks() as check:
        check(
            reach.label("B-FRAG-NEAR"),
            "reattached: spur to R1",
            600.0,
            num(near["hamlet_spur_m"]),
            tol=DIST_TOL_M,
        )
        check(
            reach.label("B-FRAG-NEAR"),
            "reattached: distance",
            2300.0,
            num(near["fibre_distance_m"]),
            tol=DIST_TOL_M,
        )
        check(reach.label("B-FRAG-FAR"), "not reattached: no road path", None, num(far["fibre_distance_m"]))
        check(
            reach.label("B-FRAG-FAR"),
            "no road path is out_of_reach",
            "out_of_reach",
            far["fibre_reach_class"],
        )
        check(
            reach.label("B-FRAG-FAR"),
            "NO_FIBRE_REACH fires without a value",
            (True, None),
            (flag(far["no_fibre_flag"]), num(far["no_fibre_value"])),
        )


def test_survey_fallbacks(reach: ReachRun) -> None:
    """docs/GAPS.md §3 Indicators / docs/DATA.md survey: latest survey_date per hamlet; a row keyed by
    commune_id + hamlet_name; a hamlet without its own row uses its commune-level row; else none."""
    rows = read_csv_rows(reach.gaps)
    with checks() as check:
        for key, (level, date, ftth, phone) in SURVEY.items():
            who, g = reach.label(key), rows[reach.ids.hamlet_id[key]]
            check(who, "survey_level", level, g["survey_level"])
            check(who, "survey_date of the row used", date, text(g["survey_date"]))
            check(who, "ftth_share = households_ftth / households", ftth, num(g["ftth_share"]), tol=1e-9)
            check(
                who,
                "smartphone_share = adults_with_smartphone / adults",
                phone,
                num(g["smartphone_share"]),
                tol=1e-9,
            )


def test_survey_thresholds_at_exactly_0_80(reach: ReachRun) -> None:
    """LOW_FTTH_TAKEUP: drop reach and ftth_share < 0.80; LOW_SMARTPHONE: smartphone_share < 0.80.
    0.79 fires, 0.80 and 0.81 do not; low FTTH outside drop reach does not; no survey never fires."""
    rows = read_csv_rows(reach.gaps)
    cases = {
        "B-DROP-LOW": (True, True),  # 0.79 / 0.79, drop
        "B-DROP-880": (False, False),  # 0.80 / 0.80, drop
        "B-WEST": (False, False),  # 0.81 / 0.81, drop
        "B-EXT-1120": (False, False),  # FTTH 0.50 but extendable
        "B-NOSURVEY": (False, False),  # no survey data
        "B-FRAG-FAR": (False, True),  # smartphone 0.50 from the latest row
    }
    with checks() as check:
        for key, (ftth_fires, phone_fires) in cases.items():
            who, g = reach.label(key), rows[reach.ids.hamlet_id[key]]
            check(who, "LOW_FTTH_TAKEUP fires (< 0.80, drop only)", ftth_fires, flag(g["low_ftth_flag"]))
            check(who, "LOW_SMARTPHONE fires (< 0.80)", phone_fires, flag(g["low_smartphone_flag"]))
            check(who, "LOW_FTTH_TAKEUP threshold", ref.FTTH_MIN_SHARE, num(g["low_ftth_threshold"]))
            check(
                who, "LOW_SMARTPHONE threshold", ref.SMARTPHONE_MIN_SHARE, num(g["low_smartphone_threshold"])
            )


def test_priority_main_flag_and_ranks(reach: ReachRun) -> None:
    """Priority = Σ affected × severity; affected = largest per fired flag; main flag = largest
    contribution; ranks: priority, then more households, then hamlet_id (B-EXT-1120 and B-X tie at 40
    with 100 households; B-NOSURVEY and B-DROP-880 tie at 0 with 150)."""
    rows = read_csv_rows(reach.gaps)
    expected = _expected(reach)
    want = ref.ranks(
        [
            (
                reach.ids.hamlet_id[k],
                reach.ids.commune_id[reach.scene.hamlet(k).commune],
                e.priority,
                reach.scene.hamlet(k).households,
            )
            for k, e in expected.items()
        ]
    )
    with checks() as check:
        for key, exp in expected.items():
            who, g = reach.label(key), rows[reach.ids.hamlet_id[key]]
            check(who, "flags", exp.fired, items(g["flags"]))
            check(who, "n_flags", len(exp.fired), int(num(g["n_flags"]) or 0))
            check(who, "main_flag", exp.main_flag, text(g["main_flag"]))
            check(who, "priority_score", round(exp.priority, 6), num(g["priority_score"]), tol=1e-6)
            check(
                who,
                "affected_households",
                round(exp.affected_households, 6),
                num(g["affected_households"]),
                tol=1e-6,
            )
            province, commune = want[reach.ids.hamlet_id[key]]
            check(who, "rank_province", province, int(num(g["rank_province"]) or 0))
            check(who, "rank_commune", commune, int(num(g["rank_commune"]) or 0))
            check(
                who,
                "no signal flag (full good 4G)",
                (1.0, 0.0),
                (num(g["share_hh_good_4g"]), num(g["share_hh_no_4g"])),
            )
            operators = any(exp.flags[f] for f in ("no_mobile", "weak_mobile", "no_fibre"))
            community = any(exp.flags[f] for f in ("low_ftth", "low_smartphone"))
            check(who, "operator_action (who can act)", operators, flag(g["operator_action"]))
            check(who, "community_action (who can act)", community, flag(g["community_action"]))


def test_fibre_command_reach_layer_and_plan(reach: ReachRun) -> None:
    """`fibre`: the reach layer agrees with the hand sums; plan_status planned / no_road_path / empty;
    drops = round(households × 0.8); the plan is the 10,300 m tree; costs from the [costs] defaults."""
    reach_rows = {r["hamlet_id"]: r for r in read_gpkg_table(reach.fibre, "reach")}
    plan = read_gpkg_table(reach.fibre, "extension_plan")
    meta = {r["key"]: r["value"] for r in read_gpkg_table(reach.fibre, "metadata")}
    households = {h.key: h.households for h in reach.scene.hamlets}
    with checks() as check:
        for key, (distance, node, _) in REACH.items():
            who, r = reach.label(key), reach_rows[reach.ids.hamlet_id[key]]
            check(who, "reach: fibre_distance_m", distance, num(r["fibre_distance_m"]), tol=DIST_TOL_M)
            check(who, "reach: fibre_node_type", NODE_TYPE[node], text(r["fibre_node_type"]))
            status = "planned" if key in PLANNED else ("no_road_path" if distance is None else "")
            check(who, "reach: plan_status", status, text(r["plan_status"]))
            drops = round(households[key] * 0.8) if key in PLANNED else 0
            check(who, "reach: drops = households × 0.8, rounded", drops, int(num(r["drops"]) or 0))
        total = sum(float(r["length_m"]) for r in plan)
        check("extension_plan", "Σ length_m = the hand-summed tree (m)", PLAN_M, total, tol=1.0)
        n_drops = sum(round(households[k] * 0.8) for k in PLANNED)
        check(
            "metadata",
            "plan_cabinets (one per planned hamlet)",
            len(PLANNED),
            int(num(meta["plan_cabinets"]) or 0),
        )
        check("metadata", "plan_drops", n_drops, int(num(meta["plan_drops"]) or 0))
        check(
            "metadata", "plan_route_length_km", PLAN_M / 1000.0, num(meta["plan_route_length_km"]), tol=0.05
        )
        cable, cabinets, drop_cost = (
            PLAN_M / 1000.0 * 30_000_000.0,
            len(PLANNED) * 50_000_000.0,
            n_drops * 1_500_000.0,
        )
        check(
            "metadata",
            "plan_cable_cost_vnd (km × 30,000,000)",
            cable,
            num(meta["plan_cable_cost_vnd"]),
            tol=30_000.0,
        )
        check("metadata", "plan_cabinet_cost_vnd", cabinets, num(meta["plan_cabinet_cost_vnd"]))
        check("metadata", "plan_drop_cost_vnd", drop_cost, num(meta["plan_drop_cost_vnd"]))
        check(
            "metadata",
            "plan_total_cost_vnd",
            cable + cabinets + drop_cost,
            num(meta["plan_total_cost_vnd"]),
            tol=30_000.0,
        )
