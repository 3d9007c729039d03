"""Coverage engine: one-site scene cell by cell, properties, operator merge, terrain, classes."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

import analysis.coverage as cov
from analysis.coverage import (
    NODATA_COUNT,
    NODATA_RSRP,
    build_scene,
    classify_rsrp,
    compute_coverage,
    compute_coverage_by_operator,
)
from analysis.coverage_params import CoverageParams, coverage_params_from_mapping, default_coverage_params
from analysis.linkbudget import reference_power_dbm, sector_gain_db
from analysis.propagation import ENV_RURAL, ENV_URBAN, path_loss_db
from geo.errors import ParameterError, SchemaError

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 600_000.0, 1_100_000.0
RES = 100.0


def _communes(size_m: float = 12_000.0) -> gpd.GeoDataFrame:
    """A rural commune (west) and an urban ward (east), side by side."""
    half = size_m / 2
    return gpd.GeoDataFrame(
        {
            "commune_id": ["A", "B"],
            "commune_name": ["Xã A", "Phường B"],
            "commune_type": ["xã", "phường"],
            "households": [1000, 2000],
        },
        geometry=[box(X0, Y0, X0 + half, Y0 + size_m), box(X0 + half, Y0, X0 + size_m, Y0 + size_m)],
        crs=CRS,
    )


def _cells(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {
        "site_id": "S1",
        "operator": "Viettel",
        "status": "active",
        "technology": "4G",
        "band_mhz": 1800.0,
        "height_m": 30.0,
        "azimuth_deg": np.nan,
        "beamwidth_deg": 65.0,
        "eirp_dbm": 59.0,
        "bandwidth_mhz": 20.0,
    }
    recs = [{**base, "cell_id": f"C{i}", **r} for i, r in enumerate(rows)]
    geoms = [Point(r.pop("x"), r.pop("y")) for r in recs]
    return gpd.GeoDataFrame(recs, geometry=geoms, crs=CRS)


@pytest.fixture(scope="module")
def params() -> CoverageParams:
    return default_coverage_params().with_overrides(resolution_m=RES)


@pytest.fixture(scope="module")
def scene(params):
    return build_scene(_communes(), CRS, resolution_m=RES, params=params)


def _expected(scene, cell_xy, *, band, hb, eirp, bw, azimuth, params):
    """RSRP of one cell at every pixel, straight from the formulas (site at its pixel centre)."""
    grid = scene.grid
    rows, cols = np.indices(grid.shape)
    sr, sc = grid.rowcol(np.array([cell_xy[0]]), np.array([cell_xy[1]]))
    dist_px = np.hypot(rows - sr[0], cols - sc[0])
    d_km = np.maximum(dist_px, 0.5) * RES / 1000.0
    pl = path_loss_db(d_km, band, hb, 1.5, scene.environment)
    rsrp = reference_power_dbm(eirp, "4G", bw) - pl
    if not np.isnan(azimuth):
        bearing = np.degrees(np.arctan2(cols - sc[0], -(rows - sr[0]))) % 360
        gain = sector_gain_db(bearing - azimuth, beamwidth_deg=65.0, max_attenuation_db=20.0)
        rsrp = rsrp + np.where(dist_px == 0, 0.0, gain)  # the site pixel gets boresight gain
    return rsrp, dist_px


@pytest.mark.parametrize("azimuth", [np.nan, 75.0])
@pytest.mark.parametrize("band", [900.0, 1800.0, 2600.0])
def test_one_site_scene_cell_by_cell(scene, params, band, azimuth):
    xy = (X0 + 5_950.0, Y0 + 6_050.0)  # a pixel centre on the rural side of the border
    cells = _cells([{"x": xy[0], "y": xy[1], "band_mhz": band, "azimuth_deg": azimuth}])
    out = compute_coverage(scene, cells, technology="4G", params=params)
    expected, dist_px = _expected(
        scene, xy, band=band, hb=30.0, eirp=59.0, bw=20.0, azimuth=azimuth, params=params
    )
    inside = scene.inside
    reached = inside & (expected >= -115.0 + 0.2)
    assert reached.sum() > 150
    error = np.abs(out.rsrp_dbm - expected)[reached]
    assert error.max() < 0.15  # 1/4-pixel loss table, interpolated (kinks, next to the site)
    assert np.median(error) < 0.002
    assert np.all(error[dist_px[reached] >= 3] < 0.1)
    assert np.all(out.server[reached] == 0)
    below = inside & (expected < -115.0 - 0.2)
    floor = params.tech("4G").floor_dbm  # the float32 just below −115 dBm: class none
    assert np.all(out.rsrp_dbm[below] == np.float32(floor)) and np.all(out.server[below] == -1)
    fair = inside & (np.abs(expected + 105.0) > 0.2)
    assert np.array_equal(out.server_count[fair], (expected[fair] >= -105.0).astype(np.uint8))
    assert np.all(out.rsrp_dbm[~inside] == NODATA_RSRP) and np.all(out.server_count[~inside] == NODATA_COUNT)


def test_environment_changes_loss(scene):
    assert (scene.environment[scene.inside] == ENV_RURAL).any() and (scene.environment == ENV_URBAN).any()
    assert scene.inside.sum() == 120 * 120


def _random_cells(seed: int, n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    ops = ["Viettel", "VinaPhone", "MobiFone"]
    return _cells(
        [
            {
                "x": X0 + rng.uniform(-2000, 14000),
                "y": Y0 + rng.uniform(-2000, 14000),
                "site_id": f"S{i}",
                "operator": ops[i % 3],
                "band_mhz": float(rng.choice([900.0, 1800.0, 2100.0])),
                "height_m": float(rng.integers(12, 46)),
                "eirp_dbm": float(rng.uniform(50, 62)),
                "azimuth_deg": float(rng.choice([np.nan, rng.uniform(0, 360)])),
                "beamwidth_deg": float(rng.uniform(40, 90)),
            }
            for i in range(n)
        ]
    )


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_best_server_at_least_every_single_server(scene, params, seed):
    cells = _random_cells(seed, 5)
    both = compute_coverage(scene, cells, technology="4G", params=params)
    inside = scene.inside
    for k in range(len(cells)):
        single = compute_coverage(scene, cells.iloc[[k]], technology="4G", params=params)
        assert np.all(both.rsrp_dbm[inside] >= single.rsrp_dbm[inside] - 1e-4)
        won = inside & (both.server == k)
        np.testing.assert_allclose(both.rsrp_dbm[won], single.rsrp_dbm[won], atol=1e-4)
    assert np.all(both.server_count[inside] <= len(cells))


def test_compiled_kernel_equals_numpy_reference(scene, params, monkeypatch):
    cells = _random_cells(7, 12)
    fast = compute_coverage(scene, cells, technology="4G", params=params)
    monkeypatch.setattr(cov, "_numba_kernel", lambda: None)
    slow = compute_coverage(scene, cells, technology="4G", params=params)
    inside = scene.inside
    np.testing.assert_allclose(fast.rsrp_dbm[inside], slow.rsrp_dbm[inside], atol=0.03)
    clear = np.abs(fast.rsrp_dbm - slow.rsrp_dbm) < 1e-3
    assert (fast.server[inside & clear] == slow.server[inside & clear]).mean() > 0.99
    assert (fast.server_count[inside] == slow.server_count[inside]).mean() > 0.995


def test_operator_merge_equals_single_run(scene, params):
    cells = _random_cells(3, 9)
    merged = compute_coverage_by_operator(scene, cells, technology="4G", params=params)
    single = compute_coverage(scene, cells, technology="4G", params=params)
    inside = scene.inside
    np.testing.assert_allclose(merged.combined.rsrp_dbm[inside], single.rsrp_dbm[inside], atol=1e-5)
    assert np.array_equal(merged.combined.server_count, single.server_count)
    ids_merged = merged.combined.cells["cell_id"].to_numpy()[merged.combined.server[inside]]
    ids_single = single.cells["cell_id"].to_numpy()[single.server[inside]]
    has = single.server[inside] >= 0
    assert (ids_merged[has] == ids_single[has]).mean() > 0.999
    assert set(merged.classes_by_operator) == {"Viettel", "VinaPhone", "MobiFone"}


def test_flat_dem_equals_no_terrain_and_ridge_shadows(scene, params):
    xy = (X0 + 2_050.0, Y0 + 6_050.0)
    cells = _cells([{"x": xy[0], "y": xy[1], "height_m": 30.0}])
    plain = compute_coverage(scene, cells, technology="4G", params=params)
    flat = compute_coverage(
        scene, cells, technology="4G", params=params, dem_m=np.full(scene.grid.shape, 5.0)
    )
    inside = scene.inside
    np.testing.assert_allclose(flat.rsrp_dbm[inside], plain.rsrp_dbm[inside], atol=0.03)
    dem = np.full(scene.grid.shape, 5.0)
    sr, sc = scene.grid.rowcol(np.array([xy[0]]), np.array([xy[1]]))
    dem[:, sc[0] + 15] = 80.0  # a ridge 1.5 km east of the site
    ridge = compute_coverage(scene, cells, technology="4G", params=params, dem_m=dem)
    r = sr[0]
    assert ridge.rsrp_dbm[r, sc[0] + 10] == pytest.approx(plain.rsrp_dbm[r, sc[0] + 10], abs=0.03)
    assert ridge.rsrp_dbm[r, sc[0] + 25] < plain.rsrp_dbm[r, sc[0] + 25] - 15.0


def test_classes_and_thresholds(params):
    tech = params.tech("4G")
    rsrp = np.array([-60.0, -95.0, -95.1, -105.0, -114.9, -115.0, -130.0, NODATA_RSRP], dtype=np.float32)
    assert classify_rsrp(rsrp, tech).tolist() == [3, 3, 2, 2, 1, 1, 0, 255]


def test_bad_inputs(scene, params):
    cells = _cells([{"x": X0 + 1000, "y": Y0 + 1000}])
    with pytest.raises(ParameterError, match="operator 'Nokia' not in"):
        compute_coverage(scene, cells, technology="4G", params=params, operator="Nokia")
    with pytest.raises(ParameterError, match="no active 3G cells"):
        compute_coverage(scene, cells, technology="3G", params=params)
    with pytest.raises(SchemaError, match="band_mhz"):
        compute_coverage(scene, cells.drop(columns="band_mhz"), technology="4G", params=params)
    with pytest.raises(SchemaError, match="height_m must be a positive"):
        compute_coverage(scene, cells.assign(height_m=-5.0), technology="4G", params=params)
    with pytest.raises(ParameterError, match="commune_type 'huyện'"):
        build_scene(_communes().assign(commune_type="huyện"), CRS, resolution_m=RES, params=params)
    with pytest.raises(ParameterError):
        coverage_params_from_mapping(
            {
                "technology": {
                    "4G": {
                        "eirp_dbm": 59,
                        "bandwidth_mhz": 20,
                        "good_dbm": -120,
                        "fair_dbm": -105,
                        "poor_dbm": -115,
                    }
                }
            }
        )


def test_planned_cells_only_on_request(scene, params):
    cells = _cells([{"x": X0 + 3000, "y": Y0 + 3000, "status": "planned"}, {"x": X0 + 9000, "y": Y0 + 9000}])
    active = compute_coverage(scene, cells, technology="4G", params=params)
    both = compute_coverage(scene, cells, technology="4G", params=params, include_planned=True)
    assert len(active.cells) == 1 and len(both.cells) == 2
    assert (both.rsrp_dbm[scene.inside] >= active.rsrp_dbm[scene.inside]).all()


def test_defaults_file_matches_dataclass():
    assert default_coverage_params() == CoverageParams()
    assert isinstance(pd.DataFrame, type)


def test_statistics_per_commune_and_hamlet(scene, params):
    from analysis.coverage_stats import coverage_statistics

    cells = _cells(
        [
            {"x": X0 + 2_050.0, "y": Y0 + 6_050.0, "operator": "Viettel"},
            {"x": X0 + 9_050.0, "y": Y0 + 6_050.0, "operator": "MobiFone", "eirp_dbm": 45.0},
        ]
    )
    result = compute_coverage_by_operator(scene, cells, technology="4G", params=params)
    hamlets = gpd.GeoDataFrame(
        {
            "hamlet_id": ["h1", "h2", "h3"],
            "hamlet_name": ["Ấp 1", "Ấp 2", "Khóm 3"],
            "commune_id": ["A", "A", "B"],
            "households": [100, 300, 50],
        },
        geometry=[Point(X0 + 2_050, Y0 + 6_050), Point(X0 + 150, Y0 + 11_950), Point(X0 + 9_050, Y0 + 6_250)],
        crs=CRS,
    )
    stats = coverage_statistics(scene, result, hamlets, params=params)
    com = stats.communes.set_index(["commune_id", "operator"])
    area_cols = [f"area_share_{c}" for c in ("none", "poor", "fair", "good")]
    np.testing.assert_allclose(com[area_cols].sum(axis=1), 1.0)
    tech = params.tech("4G")
    classes = classify_rsrp(result.combined.rsrp_dbm, tech)
    in_a = scene.commune == 0
    assert com.loc[("A", "all"), "area_share_good"] == pytest.approx((classes[in_a] == 3).mean())
    assert com.loc[("A", "all"), "area_km2"] == pytest.approx(72.0)
    ham = stats.hamlets.set_index(["hamlet_id", "operator"])
    assert ham.loc[("h1", "all"), "coverage_class"] == "good" and ham.loc[("h1", "all"), "status"] == "served"
    assert ham.loc[("h1", "MobiFone"), "coverage_class"] in ("none", "poor")
    assert ham.loc[("h1", "all"), "best_cell_id"] == "C0"
    # hamlet household shares are a distribution over the classes of its settlement footprint
    share_cols = [f"household_share_{c}" for c in ("none", "poor", "fair", "good")]
    np.testing.assert_allclose(stats.hamlets[share_cols].sum(axis=1), 1.0)
    assert ham.loc[("h1", "all"), "household_share_good"] == pytest.approx(1.0)
    # household share of commune A in class good = household-weighted mean of its hamlets' shares
    good_hh = sum(
        hh * ham.loc[(hid, "all"), "household_share_good"] for hid, hh in (("h1", 100), ("h2", 300))
    )
    assert com.loc[("A", "all"), "household_share_good"] == pytest.approx(good_hh / 400)
    viettel_good = sum(
        hh * ham.loc[(hid, "Viettel"), "household_share_good"] for hid, hh in (("h1", 100), ("h2", 300))
    )
    assert int(com.loc[("A", "all"), "operators_good"]) == int(viettel_good / 400 >= 0.5)
    assert stats.communes.crs.to_epsg() == 4326


def test_hamlet_status_rules(params):
    from analysis.coverage_stats import hamlet_status

    best = np.array([3, 2, 1, 0, -1])
    served_ops = np.array([1, 0, 0, 0, 0])
    assert hamlet_status(best, served_ops, params).tolist() == [
        "served",
        "underserved",
        "underserved",
        "unserved",
        "outside",
    ]
    two = params.with_overrides(statistics=dataclasses.replace(params.statistics, served_min_operators=2))
    assert hamlet_status(best, served_ops, two).tolist()[0] == "underserved"


def test_concurrent_calls_from_threads(scene, params):
    from concurrent.futures import ThreadPoolExecutor

    cells = _random_cells(11, 6)
    reference = compute_coverage(scene, cells, technology="4G", params=params)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(
            pool.map(lambda _: compute_coverage(scene, cells, technology="4G", params=params), range(3))
        )
    for res in results:
        assert np.array_equal(res.rsrp_dbm, reference.rsrp_dbm)


def test_clutter_overrides_commune_environment(params):
    grid_scene = build_scene(_communes(), CRS, resolution_m=RES, params=params)
    clutter = np.full(grid_scene.grid.shape, 255, dtype=np.uint8)
    clutter[:10, :] = ENV_URBAN
    scene = build_scene(_communes(), CRS, resolution_m=RES, params=params, clutter=clutter)
    assert np.all(scene.environment[:10, :60] == ENV_URBAN)
    assert np.array_equal(scene.environment[10:], grid_scene.environment[10:])
    with pytest.raises(ParameterError, match="clutter raster values"):
        build_scene(_communes(), CRS, resolution_m=RES, params=params, clutter=np.full_like(clutter, 7))


def test_population_weights_and_polygon_hamlets(scene, params):
    from analysis.coverage_stats import coverage_statistics

    cells = _cells([{"x": X0 + 2_050.0, "y": Y0 + 6_050.0}])
    result = compute_coverage_by_operator(scene, cells, technology="4G", params=params)
    classes = classify_rsrp(result.combined.rsrp_dbm, params.tech("4G"))
    population = np.zeros(scene.grid.shape)
    r, c = scene.grid.rowcol(np.array([X0 + 2_050.0]), np.array([Y0 + 6_050.0]))
    population[r[0], c[0]] = 500.0  # everybody lives next to the site
    hamlets = gpd.GeoDataFrame(
        {"hamlet_id": ["p1"], "hamlet_name": ["Ấp P"], "commune_id": ["A"], "households": [10]},
        geometry=[box(X0 + 1_000, Y0 + 5_000, X0 + 3_000, Y0 + 7_000)],
        crs=CRS,
    )
    stats = coverage_statistics(scene, result, hamlets, params=params, population=population)
    row = stats.communes.set_index(["commune_id", "operator"]).loc[("A", "all")]
    assert row["population_share_good"] == pytest.approx(1.0)
    assert row["area_share_good"] < 1.0
    # polygon hamlet without population: best class reached on at least half of its pixels
    inside = classes[r[0] - 10 : r[0] + 10, c[0] - 10 : c[0] + 10]
    shares = [(inside >= k).mean() for k in (3, 2, 1)]
    expected = next(
        (name for name, s in zip(("good", "fair", "poor"), shares, strict=True) if s >= 0.5), "none"
    )
    assert stats.hamlets.iloc[0]["household_share_good"] == pytest.approx(1.0)  # weighted by population
    uniform = coverage_statistics(scene, result, hamlets, params=params).hamlets.iloc[0]
    assert uniform["coverage_class"] == expected
    assert uniform["household_share_good"] == pytest.approx(shares[0])
