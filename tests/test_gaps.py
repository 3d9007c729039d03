"""Gap flags on a hand-built mini province where every flag, priority and rank is known."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.fibre import compute_reach
from analysis.gaps import (
    FLAG_INFO,
    GapFlag,
    commune_indicators,
    compute_gaps,
    flag_hamlets,
    hamlet_survey_indicators,
    output_columns,
    resolve_thresholds,
    signal_from_coverage_stats,
    standin_hamlet_signal,
)
from analysis.params import GapParams, default_gap_params
from analysis.roadgraph import build_road_graph
from geo.errors import ParameterError

UTM = 32648
X0, Y0 = 600_000.0, 1_090_000.0  # Trà Vinh, metres in EPSG:32648


def _gdf(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    pts = shapely.points(np.asarray(xy) + [X0, Y0])
    return gpd.GeoDataFrame(rows, geometry=list(pts), crs=UTM).to_crs(4326)


def mini_province() -> SimpleNamespace:
    """Two communes, five hamlets, one road with a fibre node at its west end, one stray road."""
    roads = gpd.GeoDataFrame(
        {"road_id": ["main", "stray"], "highway": ["tertiary", "track"]},
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 10_000, Y0)]),
            shapely.LineString([(X0 + 20_000, Y0), (X0 + 21_000, Y0)]),
        ],
        crs=UTM,
    ).to_crs(4326)
    hamlets = _gdf(
        [
            {
                "hamlet_id": "C1-A",
                "hamlet_name": "Ấp Chợ",
                "commune_id": "C1",
                "households": 100,
                "population": 400,
            },
            {
                "hamlet_id": "C1-B",
                "hamlet_name": "Ấp Bến Đình",
                "commune_id": "C1",
                "households": 200,
                "population": 800,
            },
            {
                "hamlet_id": "C1-C",
                "hamlet_name": "Ấp Sóc Ruộng",
                "commune_id": "C1",
                "households": 50,
                "population": 200,
            },
            {
                "hamlet_id": "C2-D",
                "hamlet_name": "Khóm Đầu Giồng",
                "commune_id": "C2",
                "households": 80,
                "population": 300,
            },
            {
                "hamlet_id": "C2-E",
                "hamlet_name": "Khóm 3",
                "commune_id": "C2",
                "households": 120,
                "population": 500,
            },
        ],
        [(500, 0), (3000, 200), (9000, 0), (20_500, 0), (800, 0)],
    )
    communes = gpd.GeoDataFrame(
        {
            "commune_id": ["C1", "C2"],
            "commune_name": ["Xã Long Đức", "Phường 1"],
            "district_name": ["Huyện Trà Cú", "Thành phố Trà Vinh"],
        },
        geometry=[
            shapely.box(X0 - 100, Y0 - 1000, X0 + 10_000, Y0 + 1000),
            shapely.box(X0 + 10_000, Y0 - 1000, X0 + 22_000, Y0 + 1000),
        ],
        crs=UTM,
    ).to_crs(4326)
    nodes = _gdf([{"node_id": "OLT-1", "operator": "VinaPhone", "node_type": "OLT"}], [(0, 0)])
    survey = pd.DataFrame(
        {
            "hamlet_id": ["C1-A", "C1-B", "", "C2-E", "C1-A"],
            "commune_id": ["C1", "C1", "C2", "C2", "C1"],
            "hamlet_name": ["", "", "Khóm Đầu Giồng", "", ""],
            "households": [100, 200, 80, 120, 100],
            "households_ftth": [50, 20, 72, 110, 10],
            "adults": [100, 100, 100, 100, 100],
            "adults_with_smartphone": [90, 60, 85, 95, 10],
            "survey_date": ["2025-06-01", "2025-06-01", "2025-06-01", "2025-06-01", "2024-01-01"],
            "source": ["synthetic"] * 5,
        }
    )
    signal = pd.DataFrame(
        {
            "share_hh_good_4g": [1.0, 0.5, 0.7, 0.9, 1.0],
            "share_hh_no_4g": [0.0, 0.4, 0.1, 0.0, 0.0],
            "good_4g_operators": ["Viettel", "Viettel", "", "MobiFone", "Viettel;VinaPhone"],
        },
        index=pd.Index(["C1-A", "C1-B", "C1-C", "C2-D", "C2-E"], name="hamlet_id"),
    )
    meta = SimpleNamespace(name="Mini province", boundary_vintage="test", layers={})
    cells = gpd.GeoDataFrame(
        {"operator": [], "status": [], "technology": [], "band_mhz": [], "height_m": []},
        geometry=[],
        crs=4326,
    )
    return SimpleNamespace(
        meta=meta,
        version="t1",
        roads=roads,
        hamlets=hamlets,
        communes=communes,
        fibre_nodes=nodes,
        survey=survey,
        cells=cells,
        metric_crs=UTM,
        signal=signal,
    )


@pytest.fixture(scope="module")
def gaps() -> gpd.GeoDataFrame:
    pkg = mini_province()
    return compute_gaps(pkg, GapParams(), signal=pkg.signal).set_index("hamlet_id", drop=False)


EXPECTED_FLAGS = {
    "C1-A": "LOW_FTTH_TAKEUP",
    "C1-B": "NO_MOBILE_COVERAGE;NO_FIBRE_REACH;LOW_SMARTPHONE",
    "C1-C": "WEAK_MOBILE_COVERAGE;NO_FIBRE_REACH",
    "C2-D": "NO_FIBRE_REACH",
    "C2-E": "",
}
# priority = Σ households affected × severity (defaults: 1.0, 0.5, 0.8/0.4, 0.3, 0.5)
EXPECTED_PRIORITY = {
    "C1-A": 100 * (0.8 - 0.5) * 0.3,  # 9.0
    "C1-B": 200 * 0.4 * 1.0 + 200 * 0.4 + 200 * (0.8 - 0.6) * 0.5,  # 180.0
    "C1-C": 50 * (1 - 0.7) * 0.5 + 50 * 0.8,  # 47.5
    "C2-D": 80 * 0.8,  # 64.0
    "C2-E": 0.0,
}


def test_every_flag_as_known(gaps: gpd.GeoDataFrame) -> None:
    assert gaps["flags"].to_dict() == EXPECTED_FLAGS
    assert gaps["n_flags"].to_dict() == {
        k: len([f for f in v.split(";") if f]) for k, v in EXPECTED_FLAGS.items()
    }


def test_priority_and_ranks(gaps: gpd.GeoDataFrame) -> None:
    for hid, score in EXPECTED_PRIORITY.items():
        assert gaps.loc[hid, "priority_score"] == pytest.approx(score, abs=0.05), hid
    assert gaps["rank_province"].to_dict() == {"C1-B": 1, "C2-D": 2, "C1-C": 3, "C1-A": 4, "C2-E": 5}
    assert gaps["rank_commune"].to_dict() == {"C1-B": 1, "C1-C": 2, "C1-A": 3, "C2-D": 1, "C2-E": 2}
    assert gaps.loc["C1-B", "main_flag"] == "NO_MOBILE_COVERAGE"
    assert gaps.loc["C2-D", "affected_households"] == 80


def test_values_and_thresholds(gaps: gpd.GeoDataFrame) -> None:
    b = gaps.loc["C1-B"]
    assert b["fibre_distance_m"] == pytest.approx(3200.0, abs=0.5)  # 3,000 m road + 200 m spur
    assert b["fibre_reach_class"] == "extendable" and b["fibre_node_id"] == "OLT-1"
    assert b["no_fibre_value"] == pytest.approx(3200.0, abs=0.5) and b["no_fibre_threshold"] == 1000.0
    assert b["no_mobile_value"] == 0.4 and b["no_mobile_threshold"] == 0.2
    assert b["low_smartphone_value"] == pytest.approx(0.6) and b["low_smartphone_threshold"] == 0.8
    # latest survey row wins for C1-A (2025: 50/100, not 2024: 10/100)
    assert gaps.loc["C1-A", "ftth_share"] == pytest.approx(0.5)
    assert gaps.loc["C1-C", "fibre_reach_class"] == "out_of_reach"
    assert gaps.loc["C1-C", "survey_level"] == "none"
    # D: matched by commune + hamlet name; no road path to the node -> NaN distance, out of reach
    d = gaps.loc["C2-D"]
    assert d["survey_level"] == "hamlet" and d["ftth_share"] == pytest.approx(0.9)
    assert np.isnan(d["fibre_distance_m"]) and d["fibre_reach_class"] == "out_of_reach"
    assert not d["low_ftth_flag"]  # no fibre there: not a usage gap


def test_actors(gaps: gpd.GeoDataFrame) -> None:
    assert gaps.loc["C1-A", "actors_vi"] == "Tổ công nghệ số cộng đồng"
    assert bool(gaps.loc["C1-A", "community_action"]) and not bool(gaps.loc["C1-A", "operator_action"])
    assert gaps.loc["C1-B", "actors_en"] == "Telecom operators; Community digital technology team"
    assert gaps.loc["C2-E", "actors_en"] == ""
    assert FLAG_INFO[GapFlag.LOW_SMARTPHONE].gap_kind == "device"


def test_explanations(gaps: gpd.GeoDataFrame) -> None:
    assert gaps.loc["C1-B", "explanation_vi"] == (
        "Ấp Bến Đình: 40% hộ chưa có sóng 4G; nút cáp quang gần nhất cách 3,2 km theo đường bộ; "
        "60% người lớn có điện thoại thông minh (ngưỡng 80%)"
    )
    assert gaps.loc["C1-B", "explanation_en"] == (
        "Ấp Bến Đình: 40% of households without 4G signal; nearest fibre node 3.2 km by road; "
        "60% of adults own a smartphone (threshold 80%)"
    )
    assert "không có đường bộ tới nút cáp quang" in gaps.loc["C2-D", "explanation_vi"]
    assert gaps.loc["C1-C", "explanation_en"].endswith("no survey data")
    assert gaps.loc["C2-E", "explanation_en"] == "Khóm 3: no gap at the current thresholds"


def test_columns_names_and_metadata(gaps: gpd.GeoDataFrame) -> None:
    assert tuple(gaps.columns) == output_columns()
    assert gaps.crs.to_epsg() == 4326
    assert gaps.loc["C1-A", "commune_name"] == "Xã Long Đức"
    meta = gaps.attrs["phusong"]
    assert meta["threshold_ftth_min_share"] == "0.8" and meta["threshold_basis"] == "national_target"
    assert "created_utc" in meta and meta["dataset"] == "Mini province"


def test_province_average_basis() -> None:
    pkg = mini_province()
    params = GapParams().with_overrides(
        thresholds=GapParams().thresholds.with_overrides(basis="province_average")
    )
    ind = hamlet_survey_indicators(pkg.hamlets, pkg.survey)
    th = resolve_thresholds(ind, params)
    # distinct rows in use: A(50/100), B(20/200), D(72/80), E(110/120) -> 252/500
    assert th.province_ftth_share == pytest.approx(252 / 500)
    assert th.ftth_min_share == pytest.approx(252 / 500)
    assert th.province_smartphone_share == pytest.approx((90 + 60 + 85 + 95) / 400)
    lower = resolve_thresholds(
        ind, params.with_overrides(thresholds=params.thresholds.with_overrides(basis="lower_of_both"))
    )
    assert lower.ftth_min_share == pytest.approx(252 / 500)
    out = compute_gaps(pkg, params, signal=pkg.signal).set_index("hamlet_id")
    assert out.loc["C1-A", "low_ftth_flag"]  # 0.50 is just below the 0.504 province average
    assert out.loc["C1-A", "low_ftth_threshold"] == pytest.approx(0.504)
    assert out.loc["C1-B", "low_smartphone_threshold"] == pytest.approx(0.825)


def test_commune_fallback_rows() -> None:
    pkg = mini_province()
    survey = pd.concat(
        [
            pkg.survey,
            pd.DataFrame(
                {
                    "hamlet_id": [""],
                    "commune_id": ["C1"],
                    "hamlet_name": [""],
                    "households": [1000],
                    "households_ftth": [300],
                    "adults": [2000],
                    "adults_with_smartphone": [1000],
                    "survey_date": ["2025-01-01"],
                    "source": ["commune office"],
                }
            ),
        ],
        ignore_index=True,
    )
    ind = hamlet_survey_indicators(pkg.hamlets, survey)
    assert ind.loc["C1-C", "survey_level"] == "commune" and ind.loc["C1-C", "ftth_share"] == 0.3
    assert ind.loc["C1-A", "survey_level"] == "hamlet"


def test_commune_indicators(gaps: gpd.GeoDataFrame) -> None:
    pkg = mini_province()
    com = commune_indicators(gaps.reset_index(drop=True), pkg.communes).set_index("commune_id")
    assert com.loc["C1", "hamlets"] == 3 and com.loc["C1", "flagged_hamlets"] == 3
    assert com.loc["C1", "n_no_fibre"] == 2 and com.loc["C2", "n_no_fibre"] == 1
    assert com.loc["C1", "priority_score"] == pytest.approx(9.0 + 180.0 + 47.5)
    assert com.loc["C1", "top_hamlet_name"] == "Ấp Bến Đình"
    assert com.loc["C1", "share_hh_fibre_reach"] == pytest.approx(100 / 350)
    assert com.loc["C2", "share_hh_good_4g"] == pytest.approx((0.9 * 80 + 1.0 * 120) / 200)
    # household-weighted no-4G share: C1 = (100 × 0 + 200 × 0.4 + 50 × 0.1) / 350
    assert com.loc["C1", "share_hh_no_4g"] == pytest.approx((200 * 0.4 + 50 * 0.1) / 350)
    assert com.loc["C2", "share_hh_no_4g"] == 0.0


def test_thresholds_change_flags() -> None:
    pkg = mini_province()
    p = GapParams()
    loose = p.with_overrides(reach=p.reach.with_overrides(drop_reach_m=5000.0, extendable_m=10_000.0))
    out = compute_gaps(pkg, loose, signal=pkg.signal).set_index("hamlet_id")
    assert "NO_FIBRE_REACH" not in out.loc["C1-B", "flags"]
    assert out.loc["C1-B", "fibre_reach_class"] == "drop"
    assert out.loc["C1-B", "low_ftth_flag"]  # now fibre is there, and 10% subscribe


def test_standin_signal_decreases_with_distance() -> None:
    pkg = mini_province()
    cells = _gdf(
        [
            {
                "operator": "Viettel",
                "status": "active",
                "technology": "4G",
                "band_mhz": 1800.0,
                "height_m": 30.0,
            },
            {
                "operator": "MobiFone",
                "status": "planned",
                "technology": "4G",
                "band_mhz": 1800.0,
                "height_m": 30.0,
            },
        ],
        [(500, 0), (20_500, 0)],
    )
    sig = standin_hamlet_signal(pkg.hamlets, cells, UTM)
    assert sig.loc["C1-A", "share_hh_good_4g"] == 1.0 and sig.loc["C1-A", "good_4g_operators"] == "Viettel"
    assert sig.loc["C2-D", "share_hh_no_4g"] == 1.0  # only a planned cell nearby
    assert (sig["share_hh_good_4g"] + sig["share_hh_no_4g"] <= 1.0).all()


def test_reach_agrees_with_compute_reach_operator_filter() -> None:
    pkg = mini_province()
    road = build_road_graph(pkg.roads, UTM)
    p = GapParams().reach.with_overrides(operator="Viettel")
    with pytest.raises(Exception, match="VinaPhone"):
        compute_reach(road, pkg.hamlets, pkg.fibre_nodes, params=p)


def test_default_config_matches_dataclasses() -> None:
    assert default_gap_params() == GapParams()
    with pytest.raises(ParameterError, match="ftth_min_share"):
        GapParams().thresholds.with_overrides(ftth_min_share=1.5)


def test_signal_from_coverage_engine_statistics() -> None:
    stats = pd.DataFrame(
        {
            "hamlet_id": ["H1", "H1", "H1", "H2", "H2", "H2", "H3", "H3", "H4"],
            "operator": ["all", "Viettel", "MobiFone", "all", "Viettel", "MobiFone", "all", "Viettel", "all"],
            "coverage_class": ["good", "good", "fair", "none", "none", "none", "fair", "fair", "outside"],
        }
    )
    sig = signal_from_coverage_stats(stats)
    assert sig.loc["H1", "share_hh_good_4g"] == 1.0 and sig.loc["H1", "good_4g_operators"] == "Viettel"
    assert sig.loc["H2", "share_hh_no_4g"] == 1.0 and sig.loc["H2", "share_hh_good_4g"] == 0.0
    assert sig.loc["H3", "share_hh_good_4g"] == 0.0 and sig.loc["H3", "share_hh_no_4g"] == 0.0
    assert np.isnan(sig.loc["H4", "share_hh_good_4g"])
    assert set(sig["signal_source"]) == {"coverage_engine"}
    pkg = mini_province()
    frame = pd.DataFrame(
        {
            "hamlet_id": ["C1-A", "C1-B"] * 2,
            "operator": ["all", "all", "Viettel", "Viettel"],
            "coverage_class": ["fair", "none", "fair", "none"],
        }
    )
    out = compute_gaps(pkg, GapParams(), signal=signal_from_coverage_stats(frame)).set_index("hamlet_id")
    assert out.loc["C1-A", "weak_mobile_flag"] and out.loc["C1-B", "no_mobile_flag"]
    assert (
        out.loc["C2-E", "signal_source"] == "none" and "no signal data" in out.loc["C2-E", "explanation_en"]
    )
    assert out.attrs["phusong"]["signal_source"].startswith("coverage engine")


def test_fractional_household_shares_reach_flags_and_explanations() -> None:
    shares = {  # (hamlet, operator): none, poor, fair, good household shares
        ("C1-A", "all"): (0.4, 0.1, 0.2, 0.3),
        ("C1-A", "Viettel"): (0.4, 0.1, 0.2, 0.3),
        ("C1-A", "MobiFone"): (1.0, 0.0, 0.0, 0.0),
        ("C1-B", "all"): (0.1, 0.1, 0.3, 0.5),
        ("C1-B", "MobiFone"): (0.1, 0.1, 0.3, 0.5),
    }
    frame = pd.DataFrame(
        [
            {
                "hamlet_id": h,
                "operator": op,
                "coverage_class": "fair",
                **{
                    f"household_share_{c}": v
                    for c, v in zip(("none", "poor", "fair", "good"), sh, strict=True)
                },
            }
            for (h, op), sh in shares.items()
        ]
    )
    sig = signal_from_coverage_stats(frame)
    assert sig.loc["C1-A", "share_hh_no_4g"] == 0.4 and sig.loc["C1-A", "share_hh_good_4g"] == 0.3
    assert (
        sig.loc["C1-A", "good_4g_operators"] == "Viettel"
        and sig.loc["C1-B", "good_4g_operators"] == "MobiFone"
    )
    out = compute_gaps(mini_province(), GapParams(), signal=sig).set_index("hamlet_id")
    assert out.loc["C1-A", "no_mobile_flag"] and out.loc["C1-A", "no_mobile_value"] == pytest.approx(0.4)
    assert "40% of households without 4G signal" in out.loc["C1-A", "explanation_en"]
    assert not out.loc["C1-B", "no_mobile_flag"] and out.loc["C1-B", "weak_mobile_flag"]
    assert out.loc["C1-B", "weak_mobile_value"] == pytest.approx(0.5)
    assert "only 50% of households with good 4G" in out.loc["C1-B", "explanation_en"]


_share = st.one_of(st.none(), st.floats(0, 1))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 500),  # households
            _share,
            _share,  # good 4G, no 4G (clipped below)
            st.one_of(st.none(), st.floats(0, 20_000)),  # fibre distance (None: no path)
            _share,
            _share,  # FTTH, smartphone
        ),
        min_size=1,
        max_size=8,
    )
)
def test_flags_follow_the_rules(rows: list[tuple]) -> None:
    params = GapParams()
    th = resolve_thresholds(
        pd.DataFrame(
            {
                "survey_row": [-1],
                "households_ftth": [0.0],
                "survey_households": [0.0],
                "adults_with_smartphone": [0.0],
                "adults": [0.0],
            }
        ),
        params,
    )
    ids = [f"H{i}" for i in range(len(rows))]
    hamlets = gpd.GeoDataFrame(
        {
            "hamlet_id": ids,
            "hamlet_name": ids,
            "commune_id": ["C"] * len(rows),
            "households": [r[0] for r in rows],
        },
        geometry=[shapely.Point(106.3, 9.9)] * len(rows),
        crs=4326,
    )
    good = [np.nan if r[1] is None else r[1] for r in rows]
    no4g = [np.nan if r[2] is None or r[1] is None else min(r[2], 1 - r[1]) for r in rows]
    dist = np.array([np.nan if r[3] is None else r[3] for r in rows])
    signal = pd.DataFrame(
        {"share_hh_good_4g": good, "share_hh_no_4g": no4g, "good_4g_operators": ""},
        index=pd.Index(ids, name="hamlet_id"),
    )
    from analysis.fibre import reach_class

    reach = pd.DataFrame(
        {
            "fibre_distance_m": dist,
            "fibre_node_id": "N",
            "fibre_operator": "X",
            "fibre_reach_class": reach_class(dist, params.reach),
            "hamlet_spur_m": 0.0,
        },
        index=pd.Index(ids, name="hamlet_id"),
    )
    ind = pd.DataFrame(
        {
            "ftth_share": [np.nan if r[4] is None else r[4] for r in rows],
            "smartphone_share": [np.nan if r[5] is None else r[5] for r in rows],
            "survey_level": "hamlet",
            "survey_date": "2025-01-01",
        },
        index=pd.Index(ids, name="hamlet_id"),
    )
    out = flag_hamlets(hamlets, signal=signal, reach=reach, indicators=ind, params=params, thresholds=th)
    sev = params.severity
    for i, row in out.iterrows():
        hh = row["households"]
        drop = row["fibre_reach_class"] == "drop"
        no_mob = bool(row["share_hh_no_4g"] > 0.2)
        assert row["no_mobile_flag"] == no_mob
        assert row["weak_mobile_flag"] == bool(row["share_hh_good_4g"] < 0.8 and not no_mob)
        assert row["no_fibre_flag"] == (not drop)
        assert row["low_ftth_flag"] == bool(drop and row["ftth_share"] < 0.8)
        assert row["low_smartphone_flag"] == bool(row["smartphone_share"] < 0.8)
        want = 0.0
        if no_mob:
            want += hh * row["share_hh_no_4g"] * sev.no_mobile
        if row["weak_mobile_flag"]:
            want += hh * (1 - row["share_hh_good_4g"]) * sev.weak_mobile
        if row["no_fibre_flag"]:
            out_of_reach = row["fibre_reach_class"] == "out_of_reach"
            want += hh * (sev.no_fibre_out_of_reach if out_of_reach else sev.no_fibre_extendable)
        if row["low_ftth_flag"]:
            want += hh * (0.8 - row["ftth_share"]) * sev.low_ftth
        if row["low_smartphone_flag"]:
            want += hh * (0.8 - row["smartphone_share"]) * sev.low_smartphone
        assert row["priority_score"] == pytest.approx(want, abs=0.051), i
        assert row["n_flags"] == len([f for f in row["flags"].split(";") if f])
        assert row["explanation_vi"].startswith(row["hamlet_name"] + ": ")
    assert sorted(out["rank_province"]) == list(range(1, len(rows) + 1))
    ranked = out.sort_values("rank_province")
    assert ranked["priority_score"].is_monotonic_decreasing


# --------------------------------------------------------------------------- 2025-07 layout


@pytest.fixture(scope="module")
def reform(tmp_path_factory: pytest.TempPathFactory):
    from tests.package_2025 import package_and_gaps

    return package_and_gaps(tmp_path_factory.mktemp("reform") / "pkg")


def test_2025_gap_table_carries_the_former_units(reform) -> None:
    pkg, gaps_2025 = reform
    former = [
        "former_province",
        "former_district",
        "old_commune_codes",
        "former_commune_code",
        "former_commune_name",
    ]
    assert tuple(gaps_2025.columns) == output_columns(former)
    cols = list(gaps_2025.columns)
    assert cols[cols.index("district_name") + 1 : cols.index("district_name") + 6] == former
    h5 = gaps_2025.set_index("hamlet_id").loc["H5"]
    # the hamlet's own former province (its commune C4 lists "Bến Tre;Trà Vinh")
    assert (h5["former_province"], h5["former_district"]) == ("Bến Tre", "Huyện Châu Thành")
    assert (h5["old_commune_codes"], h5["former_commune_code"], h5["former_commune_name"]) == (
        "28807;28813;28828",
        "28813",
        "Xã Giao Long",
    )
    assert set(gaps_2025["district_name"]) == {""}  # no districts since 1 July 2025


def test_2025_gap_table_takes_the_communes_former_units_where_hamlets_have_none(tmp_path) -> None:
    from geo.package import load_package
    from tests.package_2025 import HAMLETS, edit_features, write_2025_package

    root = write_2025_package(tmp_path / "pkg")

    def drop(doc: dict) -> None:
        for feature in doc["features"]:
            feature["properties"].pop("former_province")
            feature["properties"].pop("former_district")

    edit_features(root, HAMLETS, drop)
    pkg = load_package(root)
    table = compute_gaps(pkg, GapParams(), signal_model="standin").set_index("hamlet_id")
    assert table.loc["H5", "former_province"] == "Bến Tre;Trà Vinh"
    assert table.loc["H4", "former_district"] == "Huyện Trà Cú"


def test_2025_commune_table_carries_the_former_units(reform) -> None:
    pkg, gaps_2025 = reform
    table = commune_indicators(gaps_2025, pkg.communes).set_index("commune_id")
    assert table.loc["C3", "former_district"] == "Huyện Trà Cú"
    assert table.loc["C3", "old_commune_codes"] == "29461;29479;29485"
    assert table.loc["C4", "former_province"] == "Bến Tre;Trà Vinh"
    assert table.loc["C1", "hamlets"] == 2
