"""Tests of the new Vĩnh Long package (``python -m datagen --province vinh-long-2025``).

The package is generated once per module (~10 s) into a temporary folder and checked as written:
the 124 official communes, validation, hamlets inside their new commune with a former commune,
exact sums, site counts per former province, survey calibration per former province, the labels of
``dataset.toml`` and the provenance files. A second full run checks that the bytes repeat.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from datagen.cli import main
from datagen.params import GeneratorParams
from datagen.vinh_long.calibration import BEN_TRE, FORMER_PROVINCES, TRA_VINH, VINH_LONG, site_targets
from datagen.vinh_long.network import spacing_scale
from datagen.vinh_long.package import generate_vinh_long_package
from geo.admin_units import REFERENCE_DIR as ADMIN_CODES_DIR
from geo.admin_units import load_old_to_new, official_units
from geo.derive_communes import REFERENCE_DIR as COMMUNES_2009_DIR
from geo.derive_communes import load_communes_2009
from geo.errors import ParameterError
from geo.validate import validate_package

SEED = 20261125
METRIC = 32648
COUNTS = ["households", "households_ftth", "adults", "adults_with_smartphone", "adults_internet_users"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vinh_long") / "pkg"
    generate_vinh_long_package(root, params=GeneratorParams(seed=SEED))
    return root


@pytest.fixture(scope="module")
def communes(package: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(package / "boundaries/communes.geojson")


@pytest.fixture(scope="module")
def hamlets(package: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(package / "boundaries/hamlets.geojson")
    for col in ("commune_id", "commune_code", "former_commune_code"):
        frame[col] = frame[col].fillna("").astype(str)
    return frame


@pytest.fixture(scope="module")
def cells(package: Path) -> pd.DataFrame:
    return pd.read_csv(package / "towers/sites.csv", dtype={"commune_id": str, "site_id": str})


@pytest.fixture(scope="module")
def survey(package: Path) -> pd.DataFrame:
    return pd.read_csv(package / "survey/hamlet_survey.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def meta(package: Path) -> dict:
    return tomllib.loads((package / "dataset.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def population_2009() -> dict[str, int]:
    pieces = load_communes_2009()
    return {str(k): int(v) for k, v in pieces.groupby("province_code")["pop_2009"].sum().items()}


# --- communes (real, derived) --------------------------------------------------------------------


def test_communes_are_the_124_official_communes(communes: gpd.GeoDataFrame, population_2009: dict) -> None:
    official = official_units("2025-07", "86")
    assert len(communes) == 124
    assert communes["commune_id"].tolist() == sorted(official["commune_code"])
    assert (communes["commune_id"] == communes["commune_code"]).all()
    names = dict(zip(official["commune_code"], official["commune_name"], strict=True))
    assert (communes["commune_name"] == communes["commune_code"].map(names)).all()
    assert "district_name" not in communes.columns
    assert set(communes["province_name"]) == {"Vĩnh Long"}
    assert set(communes["commune_type"]) <= {"xã", "phường"}
    assert (communes["former_province"] != "").all() and (communes["former_district"] != "").all()
    assert int(communes["population"].sum()) == sum(population_2009.values())
    assert set(communes["population_year"]) == {2009}
    expected = np.maximum(np.rint(communes["population"] / 3.8), 1).astype(int)
    assert (communes["households"] == expected).all() and communes["households_derived"].all()
    assert 0 < (communes["geometry_note"].fillna("") != "").sum() < 124


def test_package_validates_without_errors_or_warnings(package: Path) -> None:
    problems = validate_package(package)
    assert [str(p) for p in problems] == []


def test_provenance_and_licences_are_copied(package: Path, communes: gpd.GeoDataFrame) -> None:
    text = (package / "boundaries/PROVENANCE.md").read_text(encoding="utf-8")
    for needle in (
        "censusVN2009",
        "dvhcvn/20250701",
        "MIT",
        "nearest_whole_part",
        "polygons without a pre-reform",
    ):
        assert needle in text, needle
    assert (package / "boundaries/LICENSE.censusVN2009").read_bytes() == (
        COMMUNES_2009_DIR / "LICENSE.censusVN2009"
    ).read_bytes()
    assert (package / "boundaries/LICENSE.dvhcvn-20250701").read_bytes() == (
        ADMIN_CODES_DIR / "LICENSE.dvhcvn-20250701"
    ).read_bytes()
    assert "CC0" in (package / "LICENSE").read_text(encoding="utf-8")
    parts = pd.read_csv(package / "boundaries/old_unit_parts.csv", dtype=str)
    assert set(parts["new_commune_code"]) == set(communes["commune_id"])


# --- hamlets ------------------------------------------------------------------------------------


def test_each_hamlet_lies_in_its_new_commune_only(
    hamlets: gpd.GeoDataFrame, communes: gpd.GeoDataFrame
) -> None:
    assert hamlets["hamlet_id"].is_unique
    joined = gpd.sjoin(hamlets, communes[["commune_id", "geometry"]], predicate="within")
    assert len(joined) == len(hamlets)  # each in exactly one commune
    assert (joined["commune_id_left"] == joined["commune_id_right"]).all()
    assert (hamlets["commune_code"] == hamlets["commune_id"]).all()
    assert hamlets.groupby("commune_id")["hamlet_name"].apply(lambda s: s.is_unique).all()
    assert hamlets.groupby("commune_id")["is_commune_centre"].sum().eq(1).all()


def test_each_hamlet_carries_its_former_commune(hamlets: gpd.GeoDataFrame) -> None:
    assert (hamlets["former_commune_name"] != "").all()
    assert (hamlets["former_district"] != "").all()
    assert set(hamlets["former_province"]) == {fp.name for fp in FORMER_PROVINCES}
    coded = hamlets[hamlets["former_commune_code"] != ""]
    assert coded["former_commune_code"].str.fullmatch(r"\d{5}").all()
    assert len(coded) > 0.95 * len(hamlets)  # only 2009 communes without a pre-reform code have none
    pairs = set(zip(*(load_old_to_new()[c] for c in ("old_commune_code", "new_commune_code")), strict=True))
    assert set(zip(coded["former_commune_code"], coded["commune_id"], strict=True)) <= pairs
    uncoded = hamlets[hamlets["former_commune_code"] == ""]
    assert (uncoded["former_province"] == BEN_TRE.name).all()


def test_household_and_population_sums_per_new_commune(
    hamlets: gpd.GeoDataFrame, communes: gpd.GeoDataFrame
) -> None:
    sums = hamlets.groupby("commune_id")[["households", "population"]].sum().sort_index()
    ref = communes.set_index("commune_id")[["households", "population"]].sort_index()
    pd.testing.assert_frame_equal(sums, ref, check_dtype=False)
    assert (hamlets["households"] <= hamlets["population"]).all() and (hamlets["households"] > 0).all()


def test_khmer_shares_per_former_province(hamlets: gpd.GeoDataFrame) -> None:
    share = (hamlets["khmer_share"] * hamlets["population"]).groupby(hamlets["former_province"]).sum()
    share = share / hamlets.groupby("former_province")["population"].sum()
    assert share[TRA_VINH.name] == pytest.approx(0.31, abs=0.01)
    assert share[VINH_LONG.name] == pytest.approx(0.02, abs=0.003)
    assert share[BEN_TRE.name] == pytest.approx(0.001, abs=0.001)
    vl = hamlets[hamlets["former_province"] == VINH_LONG.name]
    by_district = (vl["khmer_share"] * vl["population"]).groupby(vl["former_district"]).sum() / vl.groupby(
        "former_district"
    )["population"].sum()
    assert by_district["Huyện Trà Ôn"] > by_district["Huyện Long Hồ"]


# --- sites, roads, fibre --------------------------------------------------------------------------


def test_site_counts_per_former_province_equal_the_calibration(
    cells: pd.DataFrame, population_2009: dict, meta: dict
) -> None:
    sites = cells.drop_duplicates("site_id")
    assert len(sites) == cells.groupby("site_id")[["lat", "lon", "operator", "status"]].nunique().shape[0]
    active = sites[sites["status"] == "active"].groupby("former_province").size().to_dict()
    others = (VINH_LONG, TRA_VINH)
    density = (3233 + 1227) / sum(population_2009[fp.code] for fp in others)
    ben_tre = round(population_2009[BEN_TRE.code] * density)
    assert active == {VINH_LONG.name: 3233, TRA_VINH.name: 1227, BEN_TRE.name: ben_tre}
    assert meta["calibration"]["ben_tre"]["sites"]["value"] == ben_tre
    assert 5 <= (sites["status"] == "planned").sum() <= 20
    assert cells["cell_id"].is_unique and (cells["source"] == "synthetic (PhuSong datagen)").all()


def test_sites_stand_in_their_former_province(cells: pd.DataFrame) -> None:
    sites = cells[cells["status"] == "active"].drop_duplicates("site_id")
    points = gpd.GeoDataFrame(
        sites[["site_id", "former_province"]],
        geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
        crs=4326,
    ).to_crs(METRIC)
    pieces = load_communes_2009().to_crs(METRIC)[["province_vn", "geometry"]]
    nearest = gpd.sjoin_nearest(points, pieces, how="left").drop_duplicates("site_id")
    assert (nearest["province_vn"] == nearest["former_province"]).mean() > 0.995


def test_roads_are_connected_and_small(package: Path, hamlets: gpd.GeoDataFrame) -> None:
    roads = gpd.read_file(package / "roads/roads.geojson").to_crs(METRIC)
    graph = nx.Graph()
    for geom in roads.geometry:
        graph.add_edge(tuple(np.round(geom.coords[0], 0)), tuple(np.round(geom.coords[-1], 0)))
    assert nx.number_connected_components(graph) == 1
    nodes = set(graph.nodes)
    h = hamlets.to_crs(METRIC)
    assert all((round(x, 0), round(y, 0)) in nodes for x, y in zip(h.geometry.x, h.geometry.y, strict=True))
    assert {"Quốc lộ 53", "Quốc lộ 54", "Quốc lộ 57", "Quốc lộ 60"} <= set(roads["name"])
    assert len(roads) < 15_000 and (package / "roads/roads.geojson").stat().st_size < 8_000_000


def test_fibre_node_in_every_new_commune(package: Path, communes: gpd.GeoDataFrame) -> None:
    nodes = gpd.read_file(package / "fibre/nodes.geojson")
    assert nodes["node_id"].is_unique
    joined = gpd.sjoin(nodes, communes[["commune_id", "geometry"]], predicate="within")
    assert (joined["commune_id_left"] == joined["commune_id_right"]).mean() > 0.99
    assert set(nodes["commune_id"]) == set(communes["commune_id"])
    pops = nodes[nodes["node_type"] == "POP"]
    assert len(pops) == 3 and pops["name"].str.endswith("Vĩnh Long").all()


# --- survey -------------------------------------------------------------------------------------


def test_survey_rows_carry_old_and_new_units(survey: pd.DataFrame, hamlets: gpd.GeoDataFrame) -> None:
    assert (survey["former_commune_name"] != "").all()
    rows = survey[survey["hamlet_id"] != ""].merge(
        hamlets[["hamlet_id", "commune_id", "former_commune_code", "former_commune_name"]],
        on="hamlet_id",
        suffixes=("", "_hamlet"),
    )
    assert len(rows) == (survey["hamlet_id"] != "").sum()
    assert (rows["commune_id"] == rows["commune_id_hamlet"]).all()
    assert (rows["former_commune_code"] == rows["former_commune_code_hamlet"]).all()
    assert (rows["former_commune_name"] == rows["former_commune_name_hamlet"]).all()
    commune_rows = survey[survey["hamlet_id"] == ""]
    assert 1 <= len(commune_rows) <= 5 and (commune_rows["former_commune_code"] != "").all()
    pairs = load_old_to_new()
    for code, new in zip(commune_rows["former_commune_code"], commune_rows["commune_id"], strict=True):
        assert pairs.loc[pairs["old_commune_code"] == code, "new_commune_code"].tolist() == [new]  # not split
        assert set(hamlets.loc[hamlets["former_commune_code"] == code, "commune_id"]) == {new}
    covered = set(rows["hamlet_id"]) | set(
        hamlets.loc[hamlets["former_commune_code"].isin(commune_rows["former_commune_code"]), "hamlet_id"]
    )
    assert covered == set(hamlets["hamlet_id"])
    assert int(survey["households"].astype(int).sum()) == int(hamlets["households"].sum())


def test_survey_calibration_per_former_province(
    survey: pd.DataFrame, hamlets: gpd.GeoDataFrame, meta: dict
) -> None:
    province_of = dict(zip(hamlets["former_commune_code"], hamlets["former_province"], strict=False))
    by_hamlet = dict(zip(hamlets["hamlet_id"], hamlets["former_province"], strict=True))
    fp = np.where(
        survey["hamlet_id"] != "",
        survey["hamlet_id"].map(by_hamlet),
        survey["former_commune_code"].map(province_of),
    )
    sums = survey[COUNTS].astype(int).groupby(fp).sum()
    for former in FORMER_PROVINCES:
        c = sums.loc[former.name]
        assert c["households_ftth"] / c["households"] == pytest.approx(
            former.ftth_household_share.value, abs=0.005
        )
        assert c["adults_with_smartphone"] / c["adults"] == pytest.approx(
            former.smartphone_adult_share.value, abs=0.005
        )
        assert c["adults_internet_users"] / c["adults"] == pytest.approx(
            former.internet_adult_share.value, abs=0.005
        )
        achieved = meta["calibration"]["achieved"][former.key]
        assert achieved["ftth_household_share"] == pytest.approx(
            c["households_ftth"] / c["households"], abs=1e-4
        )


# --- dataset.toml -------------------------------------------------------------------------------


def test_dataset_toml_labels_layout_and_derived_figures(meta: dict, package: Path) -> None:
    assert meta["layout"] == "2025-07" and meta["province_code"] == "86"
    assert meta["province_name"] == "Vĩnh Long"
    assert "derived from 2009 polygons" in meta["boundary_vintage"]
    layers = meta["layers"]
    assert layers["communes"]["synthetic"] is False
    for key, layer in layers.items():
        assert (package / layer["file"]).is_file(), key
        if key != "communes":
            assert layer["synthetic"] is True and layer["seed"] == SEED and layer["generator"] == "datagen", (
                key
            )
    cal = meta["calibration"]
    assert cal["ben_tre"]["derived"] is True and cal["ben_tre"]["sites"]["derived"] is True
    assert cal["ben_tre"]["sites"]["published"] is False
    vl_sites = cal["vinh_long"]["sites"]
    assert (vl_sites["value"], vl_sites["published"], vl_sites["derived"]) == (3233, True, False)
    assert cal["tra_vinh"]["sites"]["value"] == 1227 and cal["tra_vinh"]["sites"]["published"] is True
    for former in (VINH_LONG, BEN_TRE):
        for figure in ("ftth_household_share", "smartphone_adult_share", "internet_adult_share"):
            entry = cal[former.key][figure]
            assert entry["assumed"] is True and entry["published"] is False, (former.key, figure)
            assert "assumed" in entry["source"]
    for figure in ("ftth_household_share", "smartphone_adult_share", "internet_adult_share"):
        assert cal["tra_vinh"][figure]["published"] is True
    for former in FORMER_PROVINCES:
        assert cal["targets"][former.key]["sites"] == cal["achieved"][former.key]["sites_active"]
        assert "source" in cal[former.key] and isinstance(cal[former.key]["derived"], bool)


# --- determinism and command line ---------------------------------------------------------------


@pytest.mark.slow
def test_generation_is_byte_identical_for_a_seed(package: Path, tmp_path: Path) -> None:
    generate_vinh_long_package(tmp_path, params=GeneratorParams(seed=SEED))
    first = {
        p.relative_to(package).as_posix(): p.read_bytes() for p in sorted(package.rglob("*")) if p.is_file()
    }
    second = {
        p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()
    }
    assert sorted(first) == sorted(second) and len(first) == 14
    assert [rel for rel in first if first[rel] != second[rel]] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--province", "vinh-long-2025", "--out", "README.md"], "exists and is not a folder"),
        (["--out", "x", "--sites", "10"], "--sites only apply"),
        (["--province", "vinh-long-2025", "--communes-source", "c.geojson"], "--communes-source only apply"),
    ],
)
def test_cli_refuses_bad_vinh_long_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_site_targets_derive_ben_tre_from_the_other_two() -> None:
    figures = site_targets({"83": 1000, "84": 500, "86": 1500})
    assert figures["86"].value == 3233 and figures["84"].value == 1227
    assert figures["83"].value == round(1000 * 4460 / 2000) and figures["83"].derived
    assert not figures["83"].published and "derived" in figures["83"].source
    with pytest.raises(ParameterError, match="Bến Tre"):
        site_targets({"84": 500, "86": 1500})


def test_spacing_scale_keeps_the_reference_packing() -> None:
    assert spacing_scale(1227, 2358.0, reference_sites=1227, reference_area_km2=2358.0) == pytest.approx(1.0)
    assert spacing_scale(100, 2358.0, reference_sites=1227, reference_area_km2=2358.0) == 1.0
    assert spacing_scale(4 * 1227, 2358.0, reference_sites=1227, reference_area_km2=2358.0) == pytest.approx(
        0.5
    )


def test_bundled_data_is_what_the_generator_writes(package: Path) -> None:
    """The shipped ``data/`` is ``python -m datagen`` (default province and seed) byte for byte."""
    bundled = Path(__file__).resolve().parents[1] / "data"
    generated = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())
    shipped = sorted(  # the versioned store's hidden folders (.versions/, .phusong-*) are not data
        rel
        for rel in (p.relative_to(bundled).as_posix() for p in bundled.rglob("*") if p.is_file())
        if not any(part.startswith(".") for part in rel.split("/"))
    )
    assert generated == shipped
    stale = [rel for rel in generated if (package / rel).read_bytes() != (bundled / rel).read_bytes()]
    assert stale == [], f"{stale} are stale: run python -m datagen"
