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
    return pd.DataFrame(
        {
            "commune_id": ["c1", "c2", "c3"],
            "commune_name": ["Xã An", "Xã Bình", "Phường Cầu"],
            "district_name": ["Huyện Trà Cú", "Huyện Trà Cú", "Thành phố Trà Vinh"],
        }
    )


@pytest.fixture
def gaps() -> pd.DataFrame:
    """Four hamlets: 1000 households, 650 with good 4G, 260 without 4G, two flagged (500 households)."""
    return pd.DataFrame(
        {
            "hamlet_id": ["h1", "h2", "h3", "h4"],
            "hamlet_name": ["Ấp Chợ", "Ấp Mới", "Khóm 3", "Ấp Đông"],
            "commune_id": ["c1", "c1", "c2", "c3"],
            "households": [100, 300, 200, 400],
            "share_hh_good_4g": [1.0, 0.5, 0.0, 1.0],
            "share_hh_no_4g": [0.0, 0.2, 1.0, 0.0],
            "fibre_reach_class": ["drop", "out_of_reach", "extendable", "drop"],
            "flags": ["", "NO_FIBRE_REACH;LOW_SMARTPHONE", "NO_MOBILE_COVERAGE;NO_FIBRE_REACH", ""],
            "affected_households": [0, 300, 200, 0],
        }
    )


@pytest.fixture
def survey() -> pd.DataFrame:
    """h1 by id; h2 twice (the 2023 row wins); c2 and c3 by commune-level rows."""
    return pd.DataFrame(
        {
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
        }
    )


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
    extra = pd.concat(
        [
            communes,
            pd.DataFrame(
                {"commune_id": ["c4"], "commune_name": ["Xã Trống"], "district_name": ["Huyện Trà Cú"]}
            ),
        ],
        ignore_index=True,
    )
    snap = compute_kpis(gaps, communes=extra, survey=survey)
    row = snap.communes.set_index("commune_id").loc["c4"]
    assert row["hamlets"] == 0 and math.isnan(row["good_4g"]) and math.isnan(row["ftth"])
    # a commune with no hamlet has no fibre: 2 of 4
    assert snap.get(KpiKey.COMMUNES_FIBRE).value == pytest.approx(0.5)


def test_commune_row_is_ignored_where_hamlet_rows_exist(communes):
    survey = pd.DataFrame(
        {
            "hamlet_id": ["h1", ""],
            "commune_id": ["c1", "c1"],
            "hamlet_name": ["", ""],
            "households": [10, 1000],
            "households_ftth": [5, 1000],
            "adults": [20, 2000],
            "adults_with_smartphone": [10, 2000],
            "survey_date": ["2023-01-01", "2023-01-01"],
        }
    )
    rows = survey_rows_by_commune(survey, pd.Series({"h1": "c1"}))
    assert list(rows["level"]) == ["hamlet"] and rows["households"].sum() == 10


def test_rows_matched_by_name_are_deduplicated_by_normalised_name():
    survey = pd.DataFrame(
        {
            "hamlet_id": ["", ""],
            "commune_id": ["c1", "c1"],
            "hamlet_name": ["Ấp Chợ", "ap cho"],
            "households": [10, 20],
            "households_ftth": [1, 2],
            "adults": [20, 40],
            "adults_with_smartphone": [5, 6],
            "survey_date": ["2022-05-01", "2023-05-01"],
        }
    )
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
    communes = pd.DataFrame(
        {"commune_id": ["c1", "c2"], "district_name": ["Huyện Cầu Kè", "Huyện Duyên Hải"]}
    )
    gaps = pd.DataFrame(
        {
            "hamlet_id": ["dead", "covered", "unknown"],
            "commune_id": ["c1", "c2", "c2"],
            "households": [100, 300, 500],
            "share_hh_good_4g": [0.0, 1.0, math.nan],
            "share_hh_no_4g": [1.0, 0.0, math.nan],
            "flags": ["NO_MOBILE_COVERAGE", "", ""],
        }
    )
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
    gaps = pd.DataFrame(
        {
            "hamlet_id": ["a", "b"],
            "commune_id": ["c1", "c1"],
            "households": [7, 3],
            "share_hh_good_4g": [0.5, 0.5],
            "share_hh_no_4g": [0.3, 0.3],
            "flags": ["", ""],
        }
    )
    snap = compute_kpis(gaps, communes=communes)
    no4g = snap.get(KpiKey.NO_4G)
    assert no4g.numerator == pytest.approx(3.0) and no4g.value == pytest.approx(0.3)
    row = snap.communes.set_index("commune_id").loc["c1"]
    assert row["households_no_4g"] == 3 and row["hh_no_4g"] == pytest.approx(3.0)


def test_every_kpi_is_computed_in_display_order(gaps, communes, survey):
    snap = compute_kpis(gaps, communes=communes, survey=survey)
    assert [k.key for k in snap.kpis] == [
        KpiKey.GOOD_4G,
        KpiKey.NO_4G,
        KpiKey.FTTH,
        KpiKey.SMARTPHONE,
        KpiKey.INTERNET,
        KpiKey.COMMUNES_FIBRE,
        KpiKey.UNDERSERVED_HAMLETS,
        KpiKey.HOUSEHOLDS_AFFECTED,
    ]
    assert [k.key for k in snap.kpis] == list(KpiKey)
    for key in KpiKey:
        assert key.value in snap.districts and key.value in snap.communes, key


def test_met_when_every_hamlet_is_served(communes):
    served = pd.DataFrame(
        {
            "hamlet_id": ["a", "b"],
            "commune_id": ["c1", "c3"],
            "households": [10, 10],
            "share_hh_good_4g": [1.0, 1.0],
            "share_hh_no_4g": [0.0, 0.0],
            "fibre_reach_class": ["drop", "drop"],
            "flags": ["", ""],
        }
    )
    snap = compute_kpis(served, communes=communes.iloc[[0, 2]])
    keys = (
        KpiKey.GOOD_4G,
        KpiKey.NO_4G,
        KpiKey.COMMUNES_FIBRE,
        KpiKey.UNDERSERVED_HAMLETS,
        KpiKey.HOUSEHOLDS_AFFECTED,
    )
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
    communes = pd.DataFrame(
        {
            "commune_id": [f"c{i}" for i in range(n_communes)],
            "district_name": [f"Huyện {i % 2}" for i in range(n_communes)],
        }
    )
    n = draw(st.integers(1, 12))
    households = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    good = draw(st.lists(st.one_of(st.floats(0, 1), st.just(math.nan)), min_size=n, max_size=n))
    no4g = [math.nan if math.isnan(g) else draw(st.floats(0, 1 - g)) for g in good]
    gaps = pd.DataFrame(
        {
            "hamlet_id": [f"h{i}" for i in range(n)],
            "commune_id": [f"c{draw(st.integers(0, n_communes - 1))}" for _ in range(n)],
            "households": households,
            "share_hh_good_4g": good,
            "share_hh_no_4g": no4g,
            "fibre_reach_class": draw(
                st.lists(st.sampled_from(["drop", "extendable", "out_of_reach"]), min_size=n, max_size=n)
            ),
            "flags": draw(
                st.lists(
                    st.sampled_from(["", "NO_FIBRE_REACH", "LOW_SMARTPHONE;NO_MOBILE_COVERAGE"]),
                    min_size=n,
                    max_size=n,
                )
            ),
        }
    )
    rows = []
    for i in range(n):
        hh = draw(st.integers(1, 300))
        adults = draw(st.integers(1, 900))
        rows.append(
            {
                "hamlet_id": f"h{i}",
                "households": hh,
                "households_ftth": draw(st.integers(0, hh)),
                "adults": adults,
                "adults_with_smartphone": draw(st.integers(0, adults)),
                "survey_date": "2023-10-10",
            }
        )
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
    for column in (
        "households",
        "hh_signal_known",
        "hh_good_4g",
        "hh_no_4g_known",
        "hh_no_4g",
        "households_ftth",
        "adults_with_smartphone",
        "underserved_hamlets",
        "households_affected",
        "hamlets",
        "communes",
    ):
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


# --------------------------------------------------------------------------- 2025-07 layout: former units


@pytest.fixture(scope="module")
def reform(tmp_path_factory: pytest.TempPathFactory):
    """The tiny 2025-07 package (tests/package_2025.py) and its KPIs by former province."""
    from tests.package_2025 import package_and_gaps

    pkg, gaps_2025 = package_and_gaps(tmp_path_factory.mktemp("reform") / "pkg")
    snap = compute_kpis(
        gaps_2025,
        communes=pkg.communes,
        survey=pkg.survey,
        fibre_nodes=pkg.fibre_nodes,
        layout=pkg.meta.layout,
    )
    return pkg, snap


def test_2025_default_breakdown_is_by_former_province_hand_computed(reform) -> None:
    _, snap = reform
    assert snap.layout == "2025-07" and snap.group_column == "former_province"
    assert list(snap.levels) == ["former_province", "former_district"]
    table = snap.districts.set_index("former_province")
    assert list(table.index) == ["Bến Tre", "Trà Vinh"]
    assert "district_name" not in snap.districts and "district_name" not in snap.communes
    # Trà Vinh: C1-C3, hamlets H1-H4 (120 + 180 + 200 + 150 households), survey rows H1-H4
    tv = table.loc["Trà Vinh"]
    assert (tv["communes"], tv["hamlets"], tv["households"]) == (3, 4, 650)
    assert tv["ftth"] == pytest.approx(320 / 520)
    assert tv["smartphone"] == pytest.approx(1100 / 1540)
    assert tv["internet"] == pytest.approx(1260 / 1540)
    # Bến Tre: C4 lists "Bến Tre;Trà Vinh"; its only hamlet H5 was in Bến Tre's Xã Giao Long (28813)
    bt = table.loc["Bến Tre"]
    assert (bt["communes"], bt["hamlets"], bt["households"]) == (1, 1, 100)
    assert (bt["ftth"], bt["smartphone"], bt["internet"]) == pytest.approx((20 / 60, 90 / 180, 120 / 180))
    c4 = snap.communes.set_index("commune_id").loc["C4"]
    assert (c4["former_province"], c4["former_province_rule"]) == ("Bến Tre", "households")
    # every commune counted once: the groups add up to the province
    assert snap.get(KpiKey.FTTH).value == pytest.approx(340 / 580)
    assert table["households"].sum() == snap.get(KpiKey.HOUSEHOLDS_AFFECTED).denominator == 750
    assert table["communes"].sum() == 4


def test_2025_former_districts_are_keyed_with_their_province(reform) -> None:
    _, snap = reform
    table = snap.levels["former_district"]
    assert [tuple(r) for r in table[["former_province", "former_district"]].itertuples(index=False)] == [
        ("Bến Tre", "Huyện Châu Thành"),
        ("Trà Vinh", "Huyện Trà Cú"),
        ("Trà Vinh", "Thành phố Trà Vinh"),
    ]
    tra_cu = {k.key: k for k in snap.group_kpis(("Trà Vinh", "Huyện Trà Cú"), level="former_district")}
    assert tra_cu[KpiKey.FTTH].value == pytest.approx(30 / 90)
    city = {k.key: k for k in snap.group_kpis(("Trà Vinh", "Thành phố Trà Vinh"), level="former_district")}
    assert city[KpiKey.FTTH].value == pytest.approx((70 + 90 + 130) / (100 + 150 + 180))
    bt = {k.key: k for k in snap.district_kpis("Bến Tre")}
    assert bt[KpiKey.SMARTPHONE].value == pytest.approx(0.5)
    with pytest.raises(KeyError, match="no former province named 'Sóc Trăng'"):
        snap.district_kpis("Sóc Trăng")
    with pytest.raises(KeyError, match="keyed by former_province, former_district"):
        snap.group_kpis("Huyện Trà Cú", level="former_district")


def test_pre_reform_snapshot_names_its_group(gaps, communes, survey) -> None:
    snap = compute_kpis(gaps, communes=communes, survey=survey)
    assert snap.group_column == "district_name" and snap.layout == "2009"
    assert list(snap.levels) == ["district_name"] and snap.levels["district_name"] is snap.districts
    assert list(snap.communes.columns[:3]) == ["commune_id", "commune_name", "district_name"]
    with pytest.raises(KeyError, match="no district named"):
        snap.district_kpis("Huyện Cầu Kè")


def test_2025_package_without_former_units_has_province_figures_only(gaps, communes) -> None:
    snap = compute_kpis(gaps, communes=communes.drop(columns="district_name"), layout="2025-07")
    assert snap.group_column is None and snap.levels == {} and snap.districts.empty
    assert snap.get(KpiKey.GOOD_4G).value == pytest.approx(0.65)
    with pytest.raises(KeyError, match="no breakdown"):
        snap.district_kpis("Trà Vinh")
    # a district_name kept in a 2025-07 package is never a current unit
    assert compute_kpis(gaps, communes=communes, layout="2025-07").group_column is None


def test_published_figures_come_with_source_and_year() -> None:
    from analysis.kpi import load_published_figures

    figures = {(f.former_province, f.indicator): f for f in load_published_figures()}
    assert {k: f.value for k, f in figures.items()} == {
        ("Trà Vinh", "internet"): 0.84,
        ("Trà Vinh", "smartphone"): 0.76,
        ("Trà Vinh", "ftth"): 0.693,
        ("Vĩnh Long", "mobile_subscriptions_per_100"): 130.0,
    }
    assert all(f.new_province_code == "86" and f.source and f.year >= 2022 for f in figures.values())
    assert figures[("Vĩnh Long", "mobile_subscriptions_per_100")].year == 2022
    assert not figures[("Vĩnh Long", "mobile_subscriptions_per_100")].is_share
    assert "69,3%" in figures[("Trà Vinh", "ftth")].wording_vi


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('indicator = "gdp"', "indicator 'gdp' is not one of"),
        ("value = 1.5", "ftth is a share between 0 and 1"),
        ('year = "2023"', "year must be a whole number"),
        ('source = " "', "source must not be empty"),
    ],
)
def test_published_figures_are_validated(row: str, message: str) -> None:
    from analysis.kpi import load_published_figures

    base = {
        "new_province_code": '"86"',
        "former_province": '"Trà Vinh"',
        "former_province_code": '"84"',
        "indicator": '"ftth"',
        "value": "0.693",
        "year": "2023",
        "source": '"x"',
        "wording_vi": '"x"',
        "basis_en": '"x"',
    }
    key, value = row.split(" = ")
    base[key] = value
    text = "[[figure]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items())
    with pytest.raises(ParameterError, match=message):
        load_published_figures(text)
    with pytest.raises(ParameterError, match="lacks wording_vi"):
        load_published_figures(text.replace("wording_vi", "note"))


def test_former_provinces_beside_their_published_figures(reform) -> None:
    from analysis.grouping import former_provinces_of
    from analysis.kpi import former_province_comparison

    pkg, snap = reform
    table = former_province_comparison(
        snap, province_code=pkg.meta.province_code, former_provinces=former_provinces_of("86")
    )
    rows = {(r.former_province, r.indicator): r for r in table.itertuples(index=False)}
    assert list(dict.fromkeys(table["former_province"])) == ["Bến Tre", "Trà Vinh", "Vĩnh Long"]
    ftth = rows[("Trà Vinh", "ftth")]
    assert (ftth.value, ftth.published, ftth.year) == (pytest.approx(320 / 520), 0.693, 2023)
    assert math.isnan(rows[("Bến Tre", "internet")].published) and rows[("Bến Tre", "internet")].source == ""
    subs = rows[("Vĩnh Long", "mobile_subscriptions_per_100")]
    assert math.isnan(subs.value) and subs.published == 130 and not subs.is_share and subs.year == 2022
    # Vĩnh Long has no commune in this package: only its published figure is listed
    assert [i for p, i in rows if p == "Vĩnh Long"] == ["mobile_subscriptions_per_100"]
    # another province: no published figure; a former province with nothing either side keeps one row
    other = former_province_comparison(snap, province_code="91", former_provinces=["Kiên Giang"])
    assert other["published"].isna().all()
    assert other.loc[other["former_province"] == "Kiên Giang", "indicator"].tolist() == [""]
