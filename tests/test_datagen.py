"""Tests of the bundled Trà Vinh data package and of the seeded generator (``datagen``).

The bundled files are checked as shipped (counts, sums, calibration, connectivity, gaps); the
generator is checked on small inputs (determinism, exact sums, calibration solver). The full run
(~7 s) is not repeated here.
"""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from datagen.communes import commune_type_from_name, households_from_population
from datagen.geometry import sample_points_in_polygon, wiggly_line
from datagen.hamlets import apportion, generate_hamlets
from datagen.names import hamlet_names
from datagen.output import csv_text, feature_collection_text
from datagen.params import GeneratorParams
from datagen.pipeline import generate_package, load_bundled_communes
from datagen.rng import layer_rng
from datagen.survey import solve_offset
from datagen.towers import operator_counts
from geo.errors import ParameterError, SchemaError

DATA = Path(__file__).resolve().parent.parent / "examples" / "tra-vinh-2009"
METRIC = 32648


@pytest.fixture(scope="module")
def communes() -> gpd.GeoDataFrame:
    return load_bundled_communes(DATA)


@pytest.fixture(scope="module")
def hamlets() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "boundaries/hamlets.geojson")


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    return pd.read_csv(DATA / "towers/sites.csv", dtype={"commune_id": str, "site_id": str})


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(DATA / "survey/hamlet_survey.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def roads() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "roads/roads.geojson")


@pytest.fixture(scope="module")
def nodes() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "fibre/nodes.geojson")


@pytest.fixture(scope="module")
def road_graph_m(roads: gpd.GeoDataFrame) -> tuple[nx.Graph, np.ndarray, list[tuple[float, float]]]:
    """Road graph in EPSG:32648 from the shipped file, endpoints snapped to 1 m."""
    metric = roads.to_crs(METRIC)
    graph = nx.Graph()
    for geom in metric.geometry:
        a = tuple(np.round(geom.coords[0], 0))
        b = tuple(np.round(geom.coords[-1], 0))
        graph.add_edge(a, b, length=geom.length)
    keys = list(graph.nodes)
    return graph, np.array(keys), keys


# --- real communes -------------------------------------------------------------------------------


def test_communes_are_the_105_of_tra_vinh_with_diacritics(communes: gpd.GeoDataFrame) -> None:
    assert len(communes) == 105
    assert communes["commune_id"].is_unique
    assert int(communes["population"].sum()) == 999_470
    assert set(communes["province_name"]) == {"Trà Vinh"}
    names = set(communes["commune_name"])
    assert {"Xã Long Đức", "Thị trấn Cầu Kè", "Phường 1", "Xã Ngũ Lạc"} <= names
    assert "Huyện Trà Cú" in set(communes["district_name"])
    for text in list(communes["commune_name"]) + list(communes["district_name"]):
        assert unicodedata.normalize("NFC", text) == text
    assert communes["commune_type"].value_counts().to_dict() == {"xã": 85, "thị trấn": 11, "phường": 9}


def test_commune_households_are_derived_from_population(communes: gpd.GeoDataFrame) -> None:
    expected = np.maximum(np.rint(communes["population"] / 3.8), 1).astype(int)
    assert (communes["households"].to_numpy() == expected.to_numpy()).all()
    assert communes["households_derived"].all()


def test_commune_codes_are_five_digits_or_empty(communes: gpd.GeoDataFrame) -> None:
    codes = communes["commune_code"]
    assert codes.map(lambda c: c == "" or (len(c) == 5 and c.isdigit())).all()
    assert (codes != "").sum() == 98
    assert ((communes["commune_code_2025"] != "") <= (codes != "")).all()
    row = communes.set_index("commune_id").loc["8170115"]
    assert (row["commune_code"], row["commune_code_2025"], row["commune_name_2025"]) == (
        "29263",
        "29263",
        "Phường Long Đức",
    )


def test_commune_type_from_name() -> None:
    assert commune_type_from_name("Thị trấn Trà Cú") == "thị trấn"
    assert commune_type_from_name("Phường 7") == "phường"
    assert commune_type_from_name(unicodedata.normalize("NFD", "Xã Đại An")) == "xã"
    with pytest.raises(SchemaError, match="prefix"):
        commune_type_from_name("Ấp Chợ")


def test_households_from_population_never_zero() -> None:
    assert households_from_population(np.array([0, 2, 38]), persons_per_household=3.8).tolist() == [1, 1, 10]


# --- hamlets ------------------------------------------------------------------------------------


def test_hamlet_households_and_population_sum_to_commune(
    communes: gpd.GeoDataFrame, hamlets: gpd.GeoDataFrame
) -> None:
    assert hamlets["hamlet_id"].is_unique
    sums = hamlets.groupby("commune_id")[["households", "population"]].sum()
    ref = communes.set_index("commune_id")[["households", "population"]]
    assert set(sums.index) == set(ref.index)
    pd.testing.assert_frame_equal(sums.sort_index(), ref.sort_index(), check_dtype=False)
    per_commune = hamlets.groupby("commune_id").size()
    assert 7.0 <= per_commune.mean() <= 8.0
    assert per_commune.min() >= 3


def test_hamlets_lie_in_their_commune_with_plausible_names(
    communes: gpd.GeoDataFrame, hamlets: gpd.GeoDataFrame
) -> None:
    joined = gpd.sjoin(hamlets, communes[["commune_id", "geometry"]], predicate="within")
    assert len(joined) == len(hamlets)
    assert (joined["commune_id_left"] == joined["commune_id_right"]).all()
    assert hamlets["hamlet_name"].str.match(r"^(Ấp|Khóm) \S").all()
    assert hamlets.groupby("commune_id")["hamlet_name"].apply(lambda s: s.is_unique).all()
    urban = hamlets["commune_id"].map(communes.set_index("commune_id")["commune_type"]) != "xã"
    assert hamlets.loc[urban, "hamlet_name"].str.startswith("Khóm ").all()
    assert hamlets["hamlet_name"].isin(["Ấp Sóc Chuối", "Ấp Ô Rồm", "Ấp Trà Sất"]).any()


def test_khmer_share_is_province_like(hamlets: gpd.GeoDataFrame) -> None:
    share = (hamlets["khmer_share"] * hamlets["population"]).sum() / hamlets["population"].sum()
    assert share == pytest.approx(0.31, abs=0.01)
    by_district = hamlets.groupby("district_name").apply(
        lambda g: (g["khmer_share"] * g["population"]).sum() / g["population"].sum(), include_groups=False
    )
    assert by_district["Huyện Trà Cú"] > 0.45 > by_district["Huyện Càng Long"]
    assert hamlets["khmer_share"].between(0, 1).all()
    assert hamlets["poor_household_share"].between(0, 1).all()


# --- towers -------------------------------------------------------------------------------------


def test_sites_1227_active_unique_with_operator_shares(cells: pd.DataFrame) -> None:
    assert cells["cell_id"].is_unique
    sites = cells.drop_duplicates("site_id")
    assert len(sites) == cells.groupby("site_id")[["lat", "lon", "operator", "status"]].nunique().shape[0]
    active = sites[sites["status"] == "active"]
    assert len(active) == 1227
    assert 5 <= (sites["status"] == "planned").sum() <= 20
    shares = active["operator"].value_counts(normalize=True)
    assert shares["Viettel"] == pytest.approx(0.45, abs=0.01)
    assert shares["VinaPhone"] == pytest.approx(0.29, abs=0.02)
    assert shares["MobiFone"] == pytest.approx(0.245, abs=0.02)
    assert (cells["source"] == "synthetic (PhuSong datagen)").all()


def test_cells_are_mostly_three_sector_4g_with_legacy_and_city_5g(
    cells: pd.DataFrame, communes: gpd.GeoDataFrame
) -> None:
    tech = cells["technology"].value_counts(normalize=True)
    assert tech["4G"] > 0.5 and tech["2G"] > 0.03 and tech["3G"] > 0.03
    assert set(cells.loc[cells["technology"] == "4G", "band_mhz"]) <= {900.0, 1800.0, 2100.0}
    assert set(cells.loc[cells["technology"] == "5G", "band_mhz"]) == {3500.0}
    city = set(communes.loc[communes["district_name"] == "Thành phố Trà Vinh", "commune_id"])
    assert cells.loc[cells["technology"] == "5G", "commune_id"].isin(city).all()
    sectored = cells[cells["technology"] == "4G"]
    assert sectored["azimuth_deg"].between(0, 360).all() and (sectored["beamwidth_deg"] == 65).all()
    assert sectored["eirp_dbm"].between(55, 62).all()
    assert cells.loc[cells["status"] == "active", "height_m"].between(10, 50).all()
    omni = cells[cells["azimuth_deg"].isna()]
    assert len(omni) > 0 and (omni["technology"] == "2G").all()


def test_site_density_follows_population(cells: pd.DataFrame, communes: gpd.GeoDataFrame) -> None:
    active = cells[cells["status"] == "active"].drop_duplicates("site_id")
    per_commune = active.groupby("commune_id").size().reindex(communes["commune_id"], fill_value=0)
    assert (per_commune > 0).all()
    pop = communes.set_index("commune_id")["population"]
    assert np.corrcoef(per_commune.to_numpy(), pop.reindex(per_commune.index).to_numpy())[0, 1] > 0.4


def test_some_hamlets_are_5_to_10_km_from_any_active_site(
    cells: pd.DataFrame, hamlets: gpd.GeoDataFrame
) -> None:
    active = cells[cells["status"] == "active"].drop_duplicates("site_id")
    sites = gpd.GeoSeries(gpd.points_from_xy(active["lon"], active["lat"]), crs=4326).to_crs(METRIC)
    h = hamlets.to_crs(METRIC)
    dist_m, _ = cKDTree(np.column_stack([sites.x, sites.y])).query(
        np.column_stack([h.geometry.x, h.geometry.y])
    )
    far = h[dist_m >= 5000]
    assert 3 <= len(far) <= 40
    assert dist_m.max() < 10_000
    assert set(far["district_name"]) & {"Huyện Duyên Hải", "Huyện Trà Cú"}
    assert np.median(dist_m) < 1500


# --- roads --------------------------------------------------------------------------------------


def test_every_hamlet_is_on_one_connected_road_network(
    roads: gpd.GeoDataFrame, hamlets: gpd.GeoDataFrame, road_graph_m: tuple
) -> None:
    graph, xy, keys = road_graph_m
    assert nx.number_connected_components(graph) == 1
    h = hamlets.to_crs(METRIC)
    dist_m, idx = cKDTree(xy).query(np.column_stack([h.geometry.x, h.geometry.y]))
    assert dist_m.max() < 2.0  # every hamlet is a road node
    assert len({keys[i] for i in idx}) == len(hamlets)
    assert roads["road_id"].is_unique
    assert set(roads["highway"]) <= {
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "track",
    }
    assert {"Quốc lộ 53", "Quốc lộ 54", "Quốc lộ 60"} <= set(roads["name"])
    assert len(roads) < 15_000 and (DATA / "roads/roads.geojson").stat().st_size < 8_000_000


# --- fibre --------------------------------------------------------------------------------------


def test_fibre_node_in_every_commune(nodes: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> None:
    assert nodes["node_id"].is_unique
    joined = gpd.sjoin(nodes, communes[["commune_id", "geometry"]], predicate="within")
    assert (joined["commune_id_left"] == joined["commune_id_right"]).all()
    assert set(joined["commune_id_right"]) == set(communes["commune_id"])
    assert set(nodes["node_type"]) == {"POP", "OLT", "cabinet"}
    assert set(nodes["operator"]) <= {"Viettel", "VinaPhone", "MobiFone"}


def test_some_hamlets_are_beyond_fibre_reach_by_road(
    nodes: gpd.GeoDataFrame, hamlets: gpd.GeoDataFrame, road_graph_m: tuple
) -> None:
    graph, xy, keys = road_graph_m
    tree = cKDTree(xy)
    n = nodes.to_crs(METRIC)
    _, node_idx = tree.query(np.column_stack([n.geometry.x, n.geometry.y]))
    dist = nx.multi_source_dijkstra_path_length(graph, {keys[i] for i in node_idx}, weight="length")
    h = hamlets.to_crs(METRIC)
    _, h_idx = tree.query(np.column_stack([h.geometry.x, h.geometry.y]))
    reach_m = np.array([dist[keys[i]] for i in h_idx])
    beyond = (reach_m > 3000).mean()
    assert 0.02 <= beyond <= 0.12


def test_fibre_routes_follow_roads(roads: gpd.GeoDataFrame) -> None:
    routes = gpd.read_file(DATA / "fibre/routes.geojson")
    assert routes["route_id"].is_unique
    assert set(routes["route_type"]) == {"backbone", "access"}
    tree = shapely.STRtree(roads.to_crs(METRIC).geometry.to_numpy())
    for geom in routes.to_crs(METRIC).geometry.iloc[::25]:
        vertices = shapely.points(np.asarray(geom.coords))
        _, dist_m = tree.query_nearest(vertices, return_distance=True)
        assert dist_m.max() < 1.0  # every cable vertex is on a road


# --- survey and calibration ---------------------------------------------------------------------


def test_survey_rows_are_consistent(survey: pd.DataFrame, hamlets: gpd.GeoDataFrame) -> None:
    counts = survey[
        ["households", "households_ftth", "adults", "adults_with_smartphone", "adults_internet_users"]
    ].astype(int)
    assert (counts["households_ftth"] <= counts["households"]).all()
    assert (counts["adults_with_smartphone"] <= counts["adults_internet_users"]).all()
    assert (counts["adults_internet_users"] <= counts["adults"]).all()
    assert survey["survey_date"].str.match(r"^2023-\d\d-\d\d$").all()
    assert (survey["source"] == "synthetic (PhuSong datagen)").all()
    hamlet_rows = survey[survey["hamlet_id"] != ""]
    commune_rows = survey[survey["hamlet_id"] == ""]
    assert hamlet_rows["hamlet_id"].is_unique and 1 <= len(commune_rows) <= 5
    covered = set(hamlet_rows["hamlet_id"]) | set(
        hamlets.loc[hamlets["commune_id"].isin(commune_rows["commune_id"]), "hamlet_id"]
    )
    assert covered == set(hamlets["hamlet_id"])
    assert int(counts["households"].sum()) == int(hamlets["households"].sum())


def test_calibration_targets_are_met(survey: pd.DataFrame, nodes: gpd.GeoDataFrame) -> None:
    c = (
        survey[["households", "households_ftth", "adults", "adults_with_smartphone", "adults_internet_users"]]
        .astype(int)
        .sum()
    )
    assert c["households_ftth"] / c["households"] == pytest.approx(0.693, abs=0.005)
    assert c["adults_with_smartphone"] / c["adults"] == pytest.approx(0.76, abs=0.005)
    assert c["adults_internet_users"] / c["adults"] == pytest.approx(0.84, abs=0.005)
    assert c["adults"] / gpd.read_file(DATA / "boundaries/hamlets.geojson")[
        "population"
    ].sum() == pytest.approx(0.70, abs=0.01)
    meta = tomllib.loads((DATA / "dataset.toml").read_text(encoding="utf-8"))
    achieved = meta["calibration"]["achieved"]
    assert achieved["sites_active"] == 1227 and achieved["fibre_commune_share"] == 1.0
    assert achieved["ftth_household_share"] == pytest.approx(c["households_ftth"] / c["households"], abs=1e-4)


def test_take_up_is_lower_in_khmer_and_remote_hamlets_and_varies(
    survey: pd.DataFrame, hamlets: gpd.GeoDataFrame
) -> None:
    rows = survey[survey["hamlet_id"] != ""].merge(hamlets[["hamlet_id", "khmer_share", "district_name"]])
    rows["ftth"] = rows["households_ftth"].astype(int) / rows["households"].astype(int)
    khmer = rows[rows["khmer_share"] > 0.6]
    kinh = rows[rows["khmer_share"] < 0.1]
    assert khmer["ftth"].mean() < kinh["ftth"].mean() - 0.08
    city = rows[rows["district_name"] == "Thành phố Trà Vinh"]["ftth"].mean()
    assert city > rows["ftth"].mean() + 0.05
    assert rows["ftth"].min() < 0.25 and rows["ftth"].max() > 0.9


# --- dataset.toml and synthetic marking ---------------------------------------------------------


def test_dataset_toml_marks_synthetic_layers() -> None:
    meta = tomllib.loads((DATA / "dataset.toml").read_text(encoding="utf-8"))
    assert meta["province_name"] == "Trà Vinh" and meta["province_code"] == "84"
    assert meta["boundary_vintage"] == "2009 layout"
    layers = meta["layers"]
    assert set(layers) == {"communes", "hamlets", "towers", "fibre_nodes", "fibre_routes", "roads", "survey"}
    assert layers["communes"]["synthetic"] is False and layers["communes"]["licence"] == "MIT"
    for key, layer in layers.items():
        assert (DATA / layer["file"]).is_file(), key
        assert (DATA / layer.get("licence_file", "LICENSE")).is_file(), key
        if key != "communes":
            assert layer["synthetic"] is True and layer["seed"] == meta["generator"]["seed"], key
            if layer["file"].endswith(".geojson"):
                head = (DATA / layer["file"]).read_text(encoding="utf-8").split("\n", 1)[0]
                assert '"synthetic": true' in head, key


# --- generator functions ------------------------------------------------------------------------


@given(total=st.integers(0, 100_000), weights=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None)
def test_apportion_sums_exactly(total: int, weights: list[float]) -> None:
    parts = apportion(total, np.array(weights))
    assert parts.sum() == total and (parts >= 0).all()
    quota = total * np.array(weights) / sum(weights)
    assert np.all(np.abs(parts - quota) < 1.0 + 1e-9)


def test_apportion_rejects_bad_weights() -> None:
    with pytest.raises(ValueError):
        apportion(10, np.array([0.0, 0.0]))


def test_solve_offset_hits_a_monotone_target() -> None:
    x = np.linspace(-3, 3, 101)

    def rate(a: float) -> float:
        return float((1 / (1 + np.exp(-(a + x)))).mean())

    a = solve_offset(rate, 0.693)
    assert rate(a) == pytest.approx(0.693, abs=1e-9)


def test_sample_points_stay_inside_and_spread() -> None:
    square = Polygon([(0, 0), (5000, 0), (5000, 5000), (0, 5000)])
    pts = sample_points_in_polygon(square, 25, np.random.default_rng(1))
    assert shapely.contains_xy(square.buffer(-100), pts[:, 0], pts[:, 1]).all()
    nearest, _ = cKDTree(pts).query(pts, k=2)
    assert nearest[:, 1].min() > 300  # best-candidate sampling keeps points apart


def test_wiggly_line_keeps_its_end_points() -> None:
    line = wiggly_line((0.0, 0.0), (3000.0, 400.0), np.random.default_rng(3))
    assert line.coords[0] == (0.0, 0.0) and line.coords[-1] == (3000.0, 400.0)
    assert len(line.coords) > 2


def test_hamlet_names_are_distinct_and_urban_are_khom() -> None:
    rng = np.random.default_rng(5)
    assert hamlet_names(4, urban=True, khmer_shares=np.zeros(4), coastal=False, rng=rng) == [
        "Khóm 1",
        "Khóm 2",
        "Khóm 3",
        "Khóm 4",
    ]
    names = hamlet_names(
        40, urban=False, khmer_shares=np.ones(40), coastal=False, rng=np.random.default_rng(6)
    )
    assert len(set(names)) == 40 and all(n.startswith("Ấp ") for n in names)


def test_operator_counts_are_exact() -> None:
    counts = operator_counts(1227)
    assert sum(counts.values()) == 1227 and counts["Viettel"] == 552


def test_params_are_validated() -> None:
    with pytest.raises(ParameterError, match="target_ftth_household_share"):
        GeneratorParams(target_ftth_household_share=1.5)


def _small_communes(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return communes[communes["district_name"].isin(["Thành phố Trà Vinh", "Huyện Cầu Kè"])]


def test_generate_hamlets_is_deterministic(communes: gpd.GeoDataFrame) -> None:
    small = _small_communes(communes)
    params = GeneratorParams()
    a = generate_hamlets(small, params=params, rng=layer_rng(7, "hamlets")).hamlets
    b = generate_hamlets(small, params=params, rng=layer_rng(7, "hamlets")).hamlets
    c = generate_hamlets(small, params=params, rng=layer_rng(8, "hamlets")).hamlets
    pd.testing.assert_frame_equal(a, b)
    assert not a["x"].equals(c["x"])
    assert (
        a.groupby("commune_id")["households"].sum().to_dict()
        == small.set_index("commune_id")["households"].to_dict()
    )


def test_generate_package_is_byte_identical_for_a_seed(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    small = _small_communes(communes)
    params = GeneratorParams(seed=11, n_sites=90)
    runs = []
    for name in ("a", "b"):
        root = tmp_path / name
        summary = generate_package(root, params=params, communes=small)
        runs.append(
            {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
        )
    assert runs[0] == runs[1]
    assert summary["sites_active"] == 90 and summary["fibre_commune_share"] == 1.0
    assert summary["ftth_household_share"] == pytest.approx(0.693, abs=0.005)
    assert len(runs[0]) == 8  # dataset.toml + 7 layers


def test_deterministic_writers() -> None:
    point = shapely.Point(106.1234567, 9.7654321)
    text = feature_collection_text([({"a": "Ấp Chợ"}, point)], name="x", metadata={"synthetic": True})
    assert "Ấp Chợ" in text and "[106.123457,9.765432]" in text
    assert csv_text([{"a": 1.5, "b": None}], columns=["a", "b"]) == "a,b\n1.5,\n"


@pytest.mark.slow
def test_bundled_data_is_what_the_generator_writes(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    """``python -m datagen`` with the default seed reproduces the shipped files byte for byte."""
    generate_package(tmp_path, params=GeneratorParams(), communes=communes)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 8
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), (
            f"{rel} is stale: run python -m datagen --province tra-vinh-2009"
        )


# --- command line -------------------------------------------------------------------------------


def _square(lon: float, lat: float, size_deg: float = 0.04) -> dict[str, object]:
    ring = [
        [lon, lat],
        [lon + size_deg, lat],
        [lon + size_deg, lat + size_deg],
        [lon, lat + size_deg],
        [lon, lat],
    ]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def _census_file(path: Path) -> Path:
    """A censusVN2009-like province file with three communes (two districts)."""
    import json

    rows = [
        (8170101, "Phường 1", "Thành phố Trà Vinh", 7708, "29239", 106.30, 9.90),
        (8170115, "Xã Long Đức", "Thành phố Trà Vinh", 15074, None, 106.34, 9.90),
        (8170701, "Thị trấn Cầu Kè", "Huyện Cầu Kè", 6343, "29308", 106.30, 9.94),
    ]
    features = [
        {
            "type": "Feature",
            "properties": {
                "commune_id": cid,
                "commune_vn": name,
                "district_vn": district,
                "pop_2009": pop,
                "gso_ma_xa": code,
            },
            "geometry": _square(lon, lat),
        }
        for cid, name, district, pop, code, lon, lat in rows
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_cli_reimports_communes_and_generates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datagen.cli import main

    src = _census_file(tmp_path / "census.geojson")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(
        "old_ma_tinh,old_ten_tinh,new_ma_tinh,old_ma_xa,old_ten_xa,new_ma_xa,new_ten_xa,n_targets\n"
        "84,Tỉnh Trà Vinh,86,29239,Phường 1,29242,Phường Trà Vinh,1\n",
        encoding="utf-8",
    )
    out = tmp_path / "pkg"
    code = main(
        [
            "--province",
            "tra-vinh-2009",
            "--communes-source",
            str(src),
            "--code-mapping-2025",
            str(mapping),
            "--out",
            str(out),
            "--seed",
            "3",
            "--sites",
            "25",
        ]
    )
    assert code == 0, capsys.readouterr().err
    communes = load_bundled_communes(out)
    assert communes["commune_code"].tolist() == ["29239", "", "29308"]
    assert communes["commune_code_2025"].tolist() == ["29242", "", ""]
    assert communes["commune_type"].tolist() == ["phường", "xã", "thị trấn"]
    assert communes["households"].tolist() == [2028, 3967, 1669]
    cells = pd.read_csv(out / "towers/sites.csv")
    assert cells.loc[cells["status"] == "active", "site_id"].nunique() == 25
    meta = tomllib.loads((out / "dataset.toml").read_text(encoding="utf-8"))
    assert meta["calibration"]["achieved"]["fibre_commune_share"] == 1.0


def test_cli_reports_missing_communes_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datagen.cli import main

    assert main(["--province", "tra-vinh-2009", "--out", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "communes.geojson not found" in err and "--communes-source" in err


def test_site_placement_refuses_more_sites_than_fit() -> None:
    from datagen.towers import place_sites

    square = Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    communes = gpd.GeoDataFrame(
        {"commune_id": ["c1"], "commune_type": ["phường"]}, geometry=[square], crs=METRIC
    )
    hamlets = pd.DataFrame(
        {
            "hamlet_id": ["c1-01", "c1-02"],
            "commune_id": ["c1", "c1"],
            "population": [900, 700],
            "urban": [True, True],
            "x": [300.0, 700.0],
            "y": [500.0, 500.0],
        }
    )
    sites = place_sites(hamlets, communes, square, [], n_active=12, rng=np.random.default_rng(2))
    assert len(sites) == 12 and sites["operator"].value_counts()["Viettel"] == 5
    with pytest.raises(ParameterError, match="ask for fewer sites"):
        place_sites(hamlets, communes, square, [], n_active=500, rng=np.random.default_rng(2))
