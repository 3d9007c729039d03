"""Every threshold comparison against its documentation line, at the threshold and on each side.

docs/COVERAGE.md: classes "good ≥ / fair ≥ / poor ≥ / none below"; a pixel that no cell reaches at
the poor threshold is class none with server −1; hamlet status served / underserved / unserved.
docs/GAPS.md: NO_MOBILE_COVERAGE when ``share_hh_no_4g`` > 0.20, WEAK_MOBILE_COVERAGE when
``share_hh_good_4g`` < 0.80, reach ``drop`` ≤ 1,000 m < ``extendable`` ≤ 5,000 m < ``out_of_reach``,
LOW_FTTH_TAKEUP / LOW_SMARTPHONE when the share is < 0.80.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from analysis.coverage import (
    NODATA_RSRP,
    build_scene,
    classify_rsrp,
    compute_coverage,
    compute_coverage_by_operator,
)
from analysis.coverage_params import CLASS_NAMES, CoverageParams, TechnologyParams, default_coverage_params
from analysis.coverage_stats import _median_class, coverage_statistics, hamlet_status
from analysis.fibre import reach_class
from analysis.gaps import compute_gaps, signal_from_coverage_stats
from analysis.params import GapParams, ReachParams
from tests.test_coverage import CRS, RES, X0, Y0, _cells, _communes
from tests.test_gaps import mini_province

F32 = np.float32
NONE, POOR, FAIR, GOOD = range(4)


def _below(value: float) -> float:
    return float(np.nextafter(F32(value), F32(-np.inf)))


def _above(value: float) -> float:
    return float(np.nextafter(F32(value), F32(np.inf)))


# ------------------------------------------------------------------------------------------------
# classes


@pytest.mark.parametrize("tech", default_coverage_params().technologies, ids=lambda t: t.technology)
def test_classes_at_each_threshold_and_on_each_side(tech: TechnologyParams) -> None:
    for code, threshold in enumerate(tech.thresholds_dbm, start=1):  # poor, fair, good: "≥"
        levels = np.array([_below(threshold), threshold, _above(threshold)], dtype=np.float32)
        got = classify_rsrp(levels, tech).tolist()
        assert got == [code - 1, code, code], f"{tech.technology} threshold {threshold}: {got}"


@pytest.mark.parametrize("tech", default_coverage_params().technologies, ids=lambda t: t.technology)
def test_floor_is_the_float32_just_below_poor(tech: TechnologyParams) -> None:
    assert tech.floor_dbm < tech.poor_dbm
    assert float(np.nextafter(F32(tech.floor_dbm), F32(np.inf))) == tech.poor_dbm
    assert classify_rsrp(np.array([tech.floor_dbm], np.float32), tech).tolist() == [NONE]
    assert classify_rsrp(np.array([NODATA_RSRP], np.float32), tech).tolist() == [255]


# ------------------------------------------------------------------------------------------------
# the engine: pixels no cell reaches are none, with server -1, on every path


WEAK = {"eirp_dbm": 30.0}  # a low-power cell: its reach at −115 dBm is a few km, the scene is 12 km


@pytest.fixture(scope="module")
def params() -> CoverageParams:
    return default_coverage_params().with_overrides(resolution_m=RES)


@pytest.fixture(scope="module")
def scene(params: CoverageParams):
    return build_scene(_communes(), CRS, resolution_m=RES, params=params)


def _weak_cells(two_operators: bool = False) -> gpd.GeoDataFrame:
    rows = [{"x": X0 + 1_050.0, "y": Y0 + 1_050.0, **WEAK}]
    if two_operators:
        rows.append({"x": X0 + 2_050.0, "y": Y0 + 1_050.0, "operator": "MobiFone", "site_id": "S2", **WEAK})
    return _cells(rows)


def _paths(scene, params: CoverageParams):
    """(name, level, server, classes per operator or None) of every engine path."""
    tech = params.tech("4G")
    flat = np.zeros(scene.grid.shape, np.float32)  # a flat DEM forces the numpy reference path
    one = _weak_cells()
    two = _weak_cells(two_operators=True)
    compiled = compute_coverage(scene, one, technology="4G", params=params)
    numpy_path = compute_coverage(scene, one, technology="4G", params=params, dem_m=flat)
    by_op = compute_coverage_by_operator(scene, two, technology="4G", params=params)
    by_op_numpy = compute_coverage_by_operator(scene, two, technology="4G", params=params, dem_m=flat)
    for name, raster, classes in (
        ("compiled", compiled, None),
        ("numpy", numpy_path, None),
        ("by operator, compiled", by_op.combined, by_op.classes_by_operator),
        ("by operator, numpy", by_op_numpy.combined, by_op_numpy.classes_by_operator),
    ):
        yield name, raster.rsrp_dbm, raster.server, classify_rsrp(raster.rsrp_dbm, tech), classes


def test_unreached_pixels_are_none_with_server_minus_one_on_every_path(scene, params) -> None:
    tech = params.tech("4G")
    inside = scene.inside
    for name, level, server, classes, per_op in _paths(scene, params):
        none = inside & (classes == NONE)
        assert none.sum() > inside.sum() // 2, f"{name}: the far side of the scene must be class none"
        assert (inside & (classes == POOR)).any(), f"{name}: a ring of poor coverage must remain"
        assert np.array_equal(none, inside & (server == -1)), f"{name}: server −1 exactly where class none"
        assert np.all(level[none] == F32(tech.floor_dbm)), f"{name}: none pixels hold the floor"
        assert np.all(level[inside & ~none] >= F32(tech.poor_dbm)), name
        if per_op is not None:
            for op, op_classes in per_op.items():
                assert (op_classes[inside] == NONE).any(), f"{name} {op}: per-operator class none"
                # each operator alone is never better than the best of all operators
                assert np.all(op_classes[inside] <= classes[inside]), f"{name} {op}"


def test_a_level_exactly_at_the_poor_threshold_is_poor(scene, params) -> None:
    """Move the poor threshold onto a level the engine computed: that pixel is poor, lower ones none."""
    base = compute_coverage(scene, _weak_cells(), technology="4G", params=params)
    inside = scene.inside & (base.server >= 0)
    candidates = np.unique(base.rsrp_dbm[inside & (base.rsrp_dbm < -110) & (base.rsrp_dbm > -114)])
    level = float(candidates[len(candidates) // 2])  # a float32 level some pixels hold exactly
    tech = params.tech("4G")
    moved = TechnologyParams("4G", tech.eirp_dbm, tech.bandwidth_mhz, tech.good_dbm, tech.fair_dbm, level)
    shifted = params.with_overrides(
        technologies=tuple(moved if t.technology == "4G" else t for t in params.technologies)
    )
    flat = np.zeros(scene.grid.shape, np.float32)
    for dem in (None, flat):
        out = compute_coverage(scene, _weak_cells(), technology="4G", params=shifted, dem_m=dem)
        at = scene.inside & (out.rsrp_dbm == F32(level))
        assert at.any(), "some pixel holds the level exactly"
        assert np.all(out.server[at] >= 0) and np.all(classify_rsrp(out.rsrp_dbm[at], moved) == POOR)
        below = scene.inside & (base.rsrp_dbm < F32(level))
        assert np.all(out.server[below] == -1) and np.all(classify_rsrp(out.rsrp_dbm[below], moved) == NONE)


# ------------------------------------------------------------------------------------------------
# statistics: median class, status, and a hamlet beyond every cell's reach


def test_median_class_is_the_best_class_reached_by_at_least_half() -> None:
    shares = np.array(
        [
            [0.0, 0.0, 0.5, 0.5],  # exactly half good: good
            [0.0, 0.0, 0.5 + 1e-6, 0.5 - 1e-6],  # just under half good: fair
            [0.5, 0.5, 0.0, 0.0],  # exactly half at poor or better: poor
            [0.5 + 1e-6, 0.5 - 1e-6, 0.0, 0.0],  # under half reach poor: none
        ]
    )
    assert _median_class(shares).tolist() == [GOOD, FAIR, POOR, NONE]


def test_hamlet_status_on_each_side_of_its_thresholds() -> None:
    params = default_coverage_params()  # served: ≥ 1 operator good; unserved: best class < poor
    best = np.array([NONE, POOR, FAIR, GOOD, GOOD, -1])
    good_ops = np.array([0, 0, 0, 0, 1, 0])
    assert hamlet_status(best, good_ops, params).tolist() == [
        "unserved",
        "underserved",
        "underserved",
        "underserved",  # good class but no operator counted good (served needs served_min_operators)
        "served",
        "outside",
    ]


def test_a_hamlet_beyond_every_cell_is_none_unserved_and_flagged(scene, params) -> None:
    hamlets = gpd.GeoDataFrame(
        {
            "hamlet_id": ["near", "far"],
            "hamlet_name": ["Ấp Gần", "Ấp Xa"],
            "commune_id": ["A", "B"],
            "households": [100, 80],
        },
        geometry=[Point(X0 + 1_050.0, Y0 + 1_050.0), Point(X0 + 11_000.0, Y0 + 11_000.0)],
        crs=CRS,
    )
    result = compute_coverage_by_operator(scene, _weak_cells(), technology="4G", params=params)
    stats = coverage_statistics(scene, result, hamlets, params=params)
    rows = stats.hamlets[stats.hamlets["operator"] == "all"].set_index("hamlet_id")
    far = rows.loc["far"]
    assert far["household_share_none"] == 1.0 and far["coverage_class"] == "none"
    assert far["status"] == "unserved"
    assert np.isnan(far["best_rsrp_dbm"]) and far["best_cell_id"] == ""
    assert rows.loc["near", "status"] != "unserved" and rows.loc["near", "household_share_none"] == 0.0
    communes = stats.communes[stats.communes["operator"] == "all"].set_index("commune_id")
    assert communes.loc["B", "area_share_none"] > 0.5
    signal = signal_from_coverage_stats(stats.hamlets)
    assert signal.loc["far", "share_hh_no_4g"] == 1.0 and signal.loc["far", "share_hh_good_4g"] == 0.0


# ------------------------------------------------------------------------------------------------
# gap flags and reach classes


def _gaps_with(signal_rows: dict[str, tuple[float, float]], smartphones: int, ftth: int) -> pd.DataFrame:
    """Gaps of the mini province with the given (good, none) shares; C1-A's survey row set by hand."""
    pkg = mini_province()
    signal = pkg.signal.copy()
    for hamlet, (good, none) in signal_rows.items():
        signal.loc[hamlet, ["share_hh_good_4g", "share_hh_no_4g"]] = [good, none]
    survey = pkg.survey.copy()
    survey.loc[0, ["adults", "adults_with_smartphone", "households", "households_ftth"]] = [
        100,
        smartphones,
        100,
        ftth,
    ]
    pkg.survey = survey
    return compute_gaps(pkg, GapParams(), signal=signal).set_index("hamlet_id")


@pytest.mark.parametrize(
    ("share_none", "fires"),
    [(0.2 - 1e-9, False), (0.2, False), (0.2 + 1e-9, True)],
    ids=["below", "at", "above"],
)
def test_no_mobile_fires_strictly_above_its_threshold(share_none: float, fires: bool) -> None:
    gaps = _gaps_with({"C1-A": (0.5, share_none)}, smartphones=90, ftth=90)
    assert bool(gaps.loc["C1-A", "no_mobile_flag"]) is fires, (share_none, gaps.loc["C1-A", "flags"])
    assert bool(gaps.loc["C1-A", "weak_mobile_flag"]) is not fires  # weak only where no_mobile is not


@pytest.mark.parametrize(
    ("share_good", "fires"),
    [(0.8 - 1e-9, True), (0.8, False), (0.8 + 1e-9, False)],
    ids=["below", "at", "above"],
)
def test_weak_mobile_fires_strictly_below_its_threshold(share_good: float, fires: bool) -> None:
    gaps = _gaps_with({"C1-A": (share_good, 0.0)}, smartphones=90, ftth=90)
    assert bool(gaps.loc["C1-A", "weak_mobile_flag"]) is fires, (share_good, gaps.loc["C1-A", "flags"])


@pytest.mark.parametrize(
    ("count", "fires"), [(79, True), (80, False), (81, False)], ids=["below", "at", "above"]
)
def test_survey_flags_fire_strictly_below_080(count: int, fires: bool) -> None:
    gaps = _gaps_with({}, smartphones=count, ftth=count)
    row = gaps.loc["C1-A"]  # 500 m from the OLT by road: class drop, so LOW_FTTH_TAKEUP applies
    assert row["fibre_reach_class"] == "drop"
    assert row["smartphone_share"] == count / 100 and row["ftth_share"] == count / 100
    assert bool(row["low_smartphone_flag"]) is fires and bool(row["low_ftth_flag"]) is fires, row["flags"]


def test_reach_classes_at_and_around_1000_and_5000_m() -> None:
    p = ReachParams()
    d = np.array([999.999, 1000.0, 1000.001, 4999.999, 5000.0, 5000.001, np.inf, np.nan])
    assert reach_class(d, p).tolist() == [
        "drop",
        "drop",
        "extendable",
        "extendable",
        "extendable",
        "out_of_reach",
        "out_of_reach",
        "out_of_reach",
    ]


def test_class_names_are_worst_first() -> None:
    assert CLASS_NAMES == ("none", "poor", "fair", "good")


def test_standin_signal_no_4g_means_below_the_usable_level() -> None:
    """The stand-in model (docs/GAPS.md §5): "no usable 4G < −115 dBm", strictly below."""
    from analysis.gaps import standin_hamlet_signal
    from analysis.params import StandInSignalParams

    pkg = mini_province()
    no_cells = standin_hamlet_signal(pkg.hamlets, pkg.cells, pkg.metric_crs)
    assert (no_cells["share_hh_no_4g"] == 1.0).all() and (no_cells["share_hh_good_4g"] == 0.0).all()
    one = gpd.GeoDataFrame(
        {
            "operator": ["Viettel"],
            "status": ["active"],
            "technology": ["4G"],
            "band_mhz": [1800.0],
            "height_m": [30.0],
            "eirp_dbm": [61.0],
            "bandwidth_mhz": [10.0],
        },
        geometry=[pkg.hamlets.geometry.iloc[0]],  # on hamlet C1-A
        crs=4326,
    )
    base = standin_hamlet_signal(pkg.hamlets, one, pkg.metric_crs)
    assert base.loc["C1-A", "share_hh_no_4g"] == 0.0
    assert base.loc["C2-D", "share_hh_no_4g"] == 1.0  # 20 km away: below −115 dBm at all 9 samples
    # move the usable level exactly onto C1-A's weakest sample: at the level is usable, just above is not
    from analysis.fibre import point_xy_m
    from analysis.gap_signal import _best_rsrp_per_operator, _sample_points

    centre = point_xy_m(pkg.hamlets.iloc[[0]], pkg.metric_crs)
    samples = _sample_points(centre, StandInSignalParams().hamlet_radius_m).reshape(-1, 2)
    levels = _best_rsrp_per_operator(one, ["Viettel"], samples, pkg.metric_crs, StandInSignalParams())[0]
    weakest = float(levels.min())
    at = StandInSignalParams(usable_rsrp_dbm=weakest, good_rsrp_dbm=max(weakest, -105.0))
    above = StandInSignalParams(usable_rsrp_dbm=weakest + 1e-6, good_rsrp_dbm=max(weakest + 1e-6, -105.0))
    assert (
        standin_hamlet_signal(pkg.hamlets.iloc[[0]], one, pkg.metric_crs, params=at)["share_hh_no_4g"].iloc[0]
        == 0
    )
    below = standin_hamlet_signal(pkg.hamlets.iloc[[0]], one, pkg.metric_crs, params=above)["share_hh_no_4g"]
    assert below.iloc[0] > 0  # the weakest ring sample is now below the usable level
