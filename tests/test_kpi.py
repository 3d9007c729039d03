"""Leadership KPIs on a hand-built mini province whose answers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.kpi import (
    KpiKey,
    KpiStatus,
    KpiTargets,
    compute_kpis,
    higher_is_better,
    survey_rows_by_commune,
    targets_from_gap_params,
)
from analysis.params import GapParams, GapThresholds
from geo.errors import ParameterError, SchemaError


@pytest.fixture
def communes() -> pd.DataFrame:
    """Three communes in two districts (geometry is not needed by the KPIs)."""
    return pd.DataFrame({
        "commune_id": ["c1", "c2", "c3"],
        "commune_name": ["Xã An", "Xã Bình", "Phường Cầu"],
        "district_name": ["Huyện Trà Cú", "Huyện Trà Cú", "Thành phố Trà Vinh"],
    })


@pytest.fixture
def gaps() -> pd.DataFrame:
    """Four hamlets: 1000 households, 650 with good 4G, 260 without 4G, two flagged (500 households)."""
    return pd.DataFrame({
        "hamlet_id": ["h1", "h2", "h3", "h4"],
        "hamlet_name": ["Ấp Chợ", "Ấp Mới", "Khóm 3", "Ấp Đông"],
        "commune_id": ["c1", "c1", "c2", "c3"],
        "households": [100, 300, 200, 400],
        "share_hh_good_4g": [1.0, 0.5, 0.0, 1.0],
        "share_hh_no_4g": [0.0, 0.2, 1.0, 0.0],
        "fibre_reach_class": ["drop", "out_of_reach", "extendable", "drop"],
        "flags": ["", "NO_FIBRE_REACH;LOW_SMARTPHONE", "NO_MOBILE_COVERAGE;NO_FIBRE_REACH", ""],
        "affected_households": [0, 300, 200, 0],
    })


@pytest.fixture
def survey() -> pd.DataFrame:
    """h1 by id; h2 twice (the 2023 row wins); c2 and c3 by commune-level rows."""
    return pd.DataFrame({
        "hamlet_id": ["h1", "h2", "h2", "", None],
        "commune_id": [None, "c1", "c1", "c2", "c3"],
        "hamlet_name": ["", "", "", "", ""],
        "households": [50, 100, 80, 200, 100],
        "households_ftth": [40, 10, 20, 100, 90],
        "adults": [100, 200, 150, 400, 200],
        "adults_with_smartphone": [90, 100, 120, 300, 190],
        "adults_internet_users": [80, 150, 100, 300, 150],
        "survey_date": ["2023-01-01", "2022-01-01", "2023-01-01", "2023-01-01", "2023-01-01"],
        "source": ["synthetic"] * 5,
    })


def test_province_kpis_match_hand_computation(gaps, communes, survey):
    snap = compute_kpis(gaps, communes=communes, survey=survey)
    # good 4G: (100*1 + 300*0.5 + 200*0 + 400*1) / 1000
    assert snap.get(KpiKey.GOOD_4G).value == pytest.approx(0.65)
    # no 4G: (300*0.2 + 200*1.0) / 1000
    no4g = snap.get(KpiKey.NO_4G)
    assert no4g.value == pytest.approx(0.26) and (no4g.numerator, no4g.denominator) == (260, 1000)
    # FTTH: ratio of sums over h1, h2 (2023 row), c2, c3 = (40+20+100+90)/(50+80+200+100)
    ftth = snap.get("ftth")
    assert ftth.value == pytest.approx(250 / 430)
    assert (ftth.numerator, ftth.denominator) == (250, 430)
    assert snap.get(KpiKey.SMARTPHONE).value == pytest.approx(700 / 850)
    assert snap.get(KpiKey.INTERNET).value == pytest.approx(630 / 850)
    # communes with a hamlet within drop reach: c1 (h1) and c3 (h4), not c2
    assert snap.get(KpiKey.COMMUNES_FIBRE).value == pytest.approx(2 / 3)
    assert snap.get(KpiKey.UNDERSERVED_HAMLETS).value == 2
    assert snap.get(KpiKey.HOUSEHOLDS_AFFECTED).value == 500
    assert snap.flag_counts == {"NO_FIBRE_REACH": 2, "LOW_SMARTPHONE": 1, "NO_MOBILE_COVERAGE": 1}


def test_status_and_gap_against_targets(gaps, communes, survey):
    snap = compute_kpis(gaps, communes=communes, survey=survey)
    ftth = snap.get(KpiKey.FTTH)
    assert ftth.target == 0.8 and ftth.status is KpiStatus.NOT_MET
    assert ftth.gap == pytest.approx(0.8 - 250 / 430)
    smart = snap.get(KpiKey.SMARTPHONE)
    assert smart.status is KpiStatus.MET and smart.gap == 0.0
    assert snap.get(KpiKey.INTERNET).status is KpiStatus.NO_TARGET
    assert snap.get(KpiKey.INTERNET).gap is None
    hamlets = snap.get(KpiKey.UNDERSERVED_HAMLETS)
    assert not hamlets.higher_is_better and not hamlets.is_share
    assert hamlets.status is KpiStatus.NOT_MET and hamlets.gap == 2.0


def test_district_table_and_district_kpis(gaps, communes, survey):
    snap = compute_kpis(gaps, communes=communes, survey=survey)
    table = snap.districts.set_index("district_name")
    assert list(table.index) == ["Huyện Trà Cú", "Thành phố Trà Vinh"]
    tra_cu = table.loc["Huyện Trà Cú"]
    assert tra_cu["communes"] == 2 and tra_cu["hamlets"] == 3 and tra_cu["households"] == 600
    assert tra_cu["good_4g"] == pytest.approx(250 / 600)
    assert tra_cu["no_4g"] == pytest.approx(260 / 600) and tra_cu["households_no_4g"] == 260
    assert table.loc["Thành phố Trà Vinh", "no_4g"] == 0.0
    assert tra_cu["ftth"] == pytest.approx(160 / 330)
    assert tra_cu["communes_fibre"] == pytest.approx(0.5)
    assert tra_cu["underserved_hamlets"] == 2 and tra_cu["households_affected"] == 500
    city = {k.key: k for k in snap.district_kpis("Thành phố Trà Vinh")}
    assert city[KpiKey.NO_4G].value == 0.0 and city[KpiKey.NO_4G].status is KpiStatus.MET
    assert city[KpiKey.FTTH].value == pytest.approx(0.9) and city[KpiKey.FTTH].status is KpiStatus.MET
    assert city[KpiKey.UNDERSERVED_HAMLETS].status is KpiStatus.MET
    with pytest.raises(KeyError, match="no district"):
        snap.district_kpis("Huyện Cầu Kè")


def test_commune_table_covers_every_commune(gaps, communes, survey):
    extra = pd.concat([communes, pd.DataFrame({"commune_id": ["c4"], "commune_name": ["Xã Trống"],
                                                "district_name": ["Huyện Trà Cú"]})], ignore_index=True)
    snap = compute_kpis(gaps, communes=extra, survey=survey)
    row = snap.communes.set_index("commune_id").loc["c4"]
    assert row["hamlets"] == 0 and math.isnan(row["good_4g"]) and math.isnan(row["ftth"])
    # a commune with no hamlet has no fibre: 2 of 4
    assert snap.get(KpiKey.COMMUNES_FIBRE).value == pytest.approx(0.5)


def test_commune_row_is_ignored_where_hamlet_rows_exist(communes):
    survey = pd.DataFrame({
        "hamlet_id": ["h1", ""], "commune_id": ["c1", "c1"], "hamlet_name": ["", ""],
        "households": [10, 1000], "households_ftth": [5, 1000], "adults": [20, 2000],
        "adults_with_smartphone": [10, 2000], "survey_date": ["2023-01-01", "2023-01-01"],
    })
    rows = survey_rows_by_commune(survey, pd.Series({"h1": "c1"}))
    assert list(rows["level"]) == ["hamlet"] and rows["households"].sum() == 10


def test_rows_matched_by_name_are_deduplicated_by_normalised_name():
    survey = pd.DataFrame({
        "hamlet_id": ["", ""], "commune_id": ["c1", "c1"], "hamlet_name": ["Ấp Chợ", "ap cho"],
        "households": [10, 20], "households_ftth": [1, 2], "adults": [20, 40],
        "adults_with_smartphone": [5, 6], "survey_date": ["2022-05-01", "2023-05-01"],
    })
    rows = survey_rows_by_commune(survey, pd.Series(dtype=object))
    assert len(rows) == 1 and rows["households"].iloc[0] == 20


def test_without_survey_the_survey_kpis_have_no_data(gaps, communes):
    snap = compute_kpis(gaps, communes=communes, survey=None)
    assert snap.get(KpiKey.FTTH).status is KpiStatus.NO_DATA
    assert snap.get(KpiKey.FTTH).gap is None
    with pytest.raises(KeyError):
        snap.get(KpiKey.INTERNET)
    assert snap.get(KpiKey.GOOD_4G).value == pytest.approx(0.65)


def test_missing_signal_column_leaves_good_4g_without_data(gaps, communes):
    snap = compute_kpis(gaps.drop(columns="share_hh_good_4g"), communes=communes)
    assert snap.get(KpiKey.GOOD_4G).status is KpiStatus.NO_DATA
    assert snap.get(KpiKey.NO_4G).status is KpiStatus.NO_DATA  # signal unknown everywhere


def test_missing_no_4g_column_leaves_no_4g_without_data(gaps, communes):
    """No ``share_hh_no_4g``: no data, never a 0 % that would read as "no dead zone"."""
    snap = compute_kpis(gaps.drop(columns="share_hh_no_4g"), communes=communes)
    no4g = snap.get(KpiKey.NO_4G)
    assert no4g.status is KpiStatus.NO_DATA and no4g.gap is None and no4g.denominator == 0
    assert snap.get(KpiKey.GOOD_4G).value == pytest.approx(0.65)


@pytest.fixture
def dead_zone() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A dead-zone hamlet (100 households), a covered one (300) and one of unknown signal (500)."""
    communes = pd.DataFrame({"commune_id": ["c1", "c2"],
                             "district_name": ["Huyện Cầu Kè", "Huyện Duyên Hải"]})
    gaps = pd.DataFrame({
        "hamlet_id": ["dead", "covered", "unknown"], "commune_id": ["c1", "c2", "c2"],
        "households": [100, 300, 500], "share_hh_good_4g": [0.0, 1.0, math.nan],
        "share_hh_no_4g": [1.0, 0.0, math.nan], "flags": ["NO_MOBILE_COVERAGE", "", ""],
    })
    return gaps, communes


def test_no_4g_is_a_household_share_over_hamlets_with_known_signal(dead_zone):
    gaps, communes = dead_zone
    snap = compute_kpis(gaps, communes=communes)
    no4g = snap.get(KpiKey.NO_4G)
    # 100 * 1.0 / (100 + 300): the 500 households of unknown signal are in neither sum
    assert no4g.value == pytest.approx(0.25)
    assert (no4g.numerator, no4g.denominator) == (100, 400)
    assert snap.districts["households_no_4g"].sum() == 100
    assert snap.districts["households"].sum() == 900
    assert no4g.is_share and not no4g.higher_is_better and not higher_is_better(KpiKey.NO_4G)
    # same denominator rule as good 4G
    good = snap.get(KpiKey.GOOD_4G)
    assert good.denominator == no4g.denominator and good.value == pytest.approx(0.75)


def test_no_4g_status_against_a_target_of_zero(dead_zone):
    gaps, communes = dead_zone
    snap = compute_kpis(gaps, communes=communes)
    no4g = snap.get(KpiKey.NO_4G)
    assert no4g.target == 0.0 and no4g.status is KpiStatus.NOT_MET
    assert no4g.gap == pytest.approx(0.25)
    covered = compute_kpis(gaps.assign(share_hh_no_4g=[0.0, 0.0, math.nan]), communes=communes)
    assert covered.get(KpiKey.NO_4G).value == 0.0
    assert covered.get(KpiKey.NO_4G).status is KpiStatus.MET and covered.get(KpiKey.NO_4G).gap == 0.0
    tolerant = compute_kpis(gaps, communes=communes, targets=KpiTargets(no_4g_household_share=0.3))
    assert tolerant.get(KpiKey.NO_4G).status is KpiStatus.MET
    strict = compute_kpis(gaps, communes=communes, targets=KpiTargets(no_4g_household_share=0.2))
    assert strict.get(KpiKey.NO_4G).status is KpiStatus.NOT_MET
    assert strict.get(KpiKey.NO_4G).gap == pytest.approx(0.05)


def test_no_4g_district_breakdown_adds_up(dead_zone):
    gaps, communes = dead_zone
    snap = compute_kpis(gaps, communes=communes)
    table = snap.districts.set_index("district_name")
    assert table.loc["Huyện Cầu Kè", "no_4g"] == 1.0 and table.loc["Huyện Cầu Kè", "households_no_4g"] == 100
    duyen_hai = table.loc["Huyện Duyên Hải"]
    assert duyen_hai["no_4g"] == 0.0 and duyen_hai["households_no_4g"] == 0
    assert duyen_hai["hh_no_4g_known"] == 300 and duyen_hai["households"] == 800
    province = snap.get(KpiKey.NO_4G)
    assert table["hh_no_4g"].sum() == province.numerator
    assert table["hh_no_4g_known"].sum() == province.denominator
    assert table["hh_no_4g"].sum() / table["hh_no_4g_known"].sum() == pytest.approx(province.value)
    kpis = {k.key: k for k in snap.district_kpis("Huyện Cầu Kè")}
    assert kpis[KpiKey.NO_4G].status is KpiStatus.NOT_MET and kpis[KpiKey.NO_4G].numerator == 100
    communes_no4g = snap.communes.set_index("commune_id")["households_no_4g"]
    assert communes_no4g.to_dict() == {"c1": 100, "c2": 0}


def test_households_without_4g_are_rounded_in_the_tables(communes):
    gaps = pd.DataFrame({"hamlet_id": ["a", "b"], "commune_id": ["c1", "c1"], "households": [7, 3],
                         "share_hh_good_4g": [0.5, 0.5], "share_hh_no_4g": [0.3, 0.3], "flags": ["", ""]})
    snap = compute_kpis(gaps, communes=communes)
    no4g = snap.get(KpiKey.NO_4G)
    assert no4g.numerator == pytest.approx(3.0) and no4g.value == pytest.approx(0.3)
    row = snap.communes.set_index("commune_id").loc["c1"]
    assert row["households_no_4g"] == 3 and row["hh_no_4g"] == pytest.approx(3.0)


def test_every_kpi_is_computed_in_display_order(gaps, communes, survey):
    snap = compute_kpis(gaps, communes=communes, survey=survey)
    assert [k.key for k in snap.kpis] == [
        KpiKey.GOOD_4G, KpiKey.NO_4G, KpiKey.FTTH, KpiKey.SMARTPHONE, KpiKey.INTERNET,
        KpiKey.COMMUNES_FIBRE, KpiKey.UNDERSERVED_HAMLETS, KpiKey.HOUSEHOLDS_AFFECTED,
    ]
    assert [k.key for k in snap.kpis] == list(KpiKey)
    for key in KpiKey:
        assert key.value in snap.districts and key.value in snap.communes, key


def test_met_when_every_hamlet_is_served(communes):
    served = pd.DataFrame({"hamlet_id": ["a", "b"], "commune_id": ["c1", "c3"], "households": [10, 10],
                           "share_hh_good_4g": [1.0, 1.0], "share_hh_no_4g": [0.0, 0.0],
                           "fibre_reach_class": ["drop", "drop"], "flags": ["", ""]})
    snap = compute_kpis(served, communes=communes.iloc[[0, 2]])
    keys = (KpiKey.GOOD_4G, KpiKey.NO_4G, KpiKey.COMMUNES_FIBRE, KpiKey.UNDERSERVED_HAMLETS,
            KpiKey.HOUSEHOLDS_AFFECTED)
    for key in keys:
        assert snap.get(key).status is KpiStatus.MET, key


def test_missing_columns_are_named(gaps, communes, survey):
    with pytest.raises(SchemaError, match="households"):
        compute_kpis(gaps.drop(columns="households"), communes=communes)
    with pytest.raises(SchemaError, match="flags"):
        compute_kpis(gaps.drop(columns="flags"), communes=communes)
    with pytest.raises(SchemaError, match="district_name"):
        compute_kpis(gaps, communes=communes.drop(columns="district_name"))
    with pytest.raises(SchemaError, match="adults_with_smartphone"):
        compute_kpis(gaps, communes=communes, survey=survey.drop(columns="adults_with_smartphone"))


def test_inputs_are_not_mutated(gaps, communes, survey):
    before = (gaps.copy(), communes.copy(), survey.copy())
    compute_kpis(gaps, communes=communes, survey=survey)
    for original, frame in zip(before, (gaps, communes, survey), strict=True):
        pd.testing.assert_frame_equal(original, frame)


def test_targets_are_validated_and_follow_gap_params():
    with pytest.raises(ParameterError, match="ftth_household_share"):
        KpiTargets(ftth_household_share=1.5)
    with pytest.raises(ParameterError, match="max_underserved_hamlets"):
        KpiTargets(max_underserved_hamlets=-1)
    with pytest.raises(ParameterError, match="no_4g_household_share"):
        KpiTargets(no_4g_household_share=-0.1)
    params = GapParams(thresholds=GapThresholds(ftth_min_share=0.6, smartphone_min_share=0.7))
    targets = targets_from_gap_params(params)
    assert targets.ftth_household_share == 0.6 and targets.smartphone_adult_share == 0.7
    assert targets.communes_fibre_share == 1.0 and targets.no_4g_household_share == 0.0
    based = targets_from_gap_params(params, base=KpiTargets(no_4g_household_share=0.05))
    assert based.no_4g_household_share == 0.05 and based.target_for(KpiKey.NO_4G) == 0.05
    default = KpiTargets()
    assert default.target_for(KpiKey.SMARTPHONE) == 0.8 and default.target_for(KpiKey.INTERNET) is None
    assert default.target_for(KpiKey.NO_4G) == 0.0
    assert {key: default.target_for(key) is not None for key in KpiKey} == {
        key: key is not KpiKey.INTERNET for key in KpiKey
    }


def test_custom_targets_change_the_status(gaps, communes, survey):
    snap = compute_kpis(gaps, communes=communes, survey=survey, targets=KpiTargets(ftth_household_share=0.5))
    assert snap.get(KpiKey.FTTH).status is KpiStatus.MET


def test_a_commune_holding_a_fibre_node_has_fibre(gaps, communes):
    nodes = pd.DataFrame({"node_id": ["n1"], "commune_id": ["c2"]})
    snap = compute_kpis(gaps, communes=communes, fibre_nodes=nodes)
    assert snap.get(KpiKey.COMMUNES_FIBRE).value == pytest.approx(1.0)
    assert snap.communes.set_index("commune_id").loc["c2", "fibre_node"]


def test_fibre_nodes_without_commune_id_are_placed_by_location(gaps, communes):
    import geopandas as gpd
    from shapely.geometry import Point, box

    polys = gpd.GeoDataFrame(communes, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 2, 2)], crs=4326)
    nodes = gpd.GeoDataFrame({"node_id": ["n1"], "commune_id": [""]}, geometry=[Point(1.5, 0.5)], crs=4326)
    snap = compute_kpis(gaps, communes=polys, fibre_nodes=nodes)
    has_node = snap.communes.set_index("commune_id")["fibre_node"].to_dict()
    assert has_node == {"c1": False, "c2": True, "c3": False}


@st.composite
def _scenes(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n_communes = draw(st.integers(1, 5))
    communes = pd.DataFrame({"commune_id": [f"c{i}" for i in range(n_communes)],
                             "district_name": [f"Huyện {i % 2}" for i in range(n_communes)]})
    n = draw(st.integers(1, 12))
    households = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    good = draw(st.lists(st.one_of(st.floats(0, 1), st.just(math.nan)), min_size=n, max_size=n))
    no4g = [math.nan if math.isnan(g) else draw(st.floats(0, 1 - g)) for g in good]
    gaps = pd.DataFrame({
        "hamlet_id": [f"h{i}" for i in range(n)],
        "commune_id": [f"c{draw(st.integers(0, n_communes - 1))}" for _ in range(n)],
        "households": households,
        "share_hh_good_4g": good,
        "share_hh_no_4g": no4g,
        "fibre_reach_class": draw(st.lists(st.sampled_from(["drop", "extendable", "out_of_reach"]),
                                           min_size=n, max_size=n)),
        "flags": draw(st.lists(st.sampled_from(["", "NO_FIBRE_REACH", "LOW_SMARTPHONE;NO_MOBILE_COVERAGE"]),
                               min_size=n, max_size=n)),
    })
    rows = []
    for i in range(n):
        hh = draw(st.integers(1, 300))
        adults = draw(st.integers(1, 900))
        rows.append({"hamlet_id": f"h{i}", "households": hh, "households_ftth": draw(st.integers(0, hh)),
                     "adults": adults, "adults_with_smartphone": draw(st.integers(0, adults)),
                     "survey_date": "2023-10-10"})
    return gaps, communes, pd.DataFrame(rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenes())
def test_shares_are_bounded_and_districts_add_up_to_the_province(scene):
    gaps, communes, survey = scene
    snap = compute_kpis(gaps, communes=communes, survey=survey)
    for kpi in snap.kpis:
        if kpi.is_share and math.isfinite(kpi.value):
            assert -1e-12 <= kpi.value <= 1 + 1e-12
            assert kpi.value == pytest.approx(kpi.numerator / kpi.denominator)
    for column in ("households", "hh_signal_known", "hh_good_4g", "hh_no_4g_known", "hh_no_4g",
                   "households_ftth", "adults_with_smartphone", "underserved_hamlets", "households_affected",
                   "hamlets", "communes"):
        assert snap.districts[column].sum() == pytest.approx(snap.communes[column].sum()), column
    known = gaps["share_hh_good_4g"].notna()
    no4g = snap.get(KpiKey.NO_4G)
    assert no4g.denominator == pytest.approx(gaps.loc[known, "households"].sum())
    assert no4g.denominator == snap.get(KpiKey.GOOD_4G).denominator
    assert no4g.numerator == pytest.approx((gaps["households"] * gaps["share_hh_no_4g"]).sum())
    assert snap.districts["hh_no_4g"].sum() == pytest.approx(no4g.numerator)
    if math.isfinite(no4g.value):
        assert no4g.value + snap.get(KpiKey.GOOD_4G).value <= 1 + 1e-9
    assert snap.get(KpiKey.UNDERSERVED_HAMLETS).value == int((gaps["flags"] != "").sum())
    assert snap.get(KpiKey.FTTH).denominator == survey["households"].sum()
