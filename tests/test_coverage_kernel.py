"""Compiled block kernel: exact pruning (per-operator classes, ties, counts) against plain runs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import Point, box

import analysis.coverage as cov
from analysis.coverage import (
    NODATA_CLASS,
    build_scene,
    classify_rsrp,
    compute_coverage,
    compute_coverage_by_operator,
)
from analysis.coverage_params import default_coverage_params

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 600_000.0, 1_100_000.0
RES = 100.0

pytestmark = pytest.mark.skipif(cov._numba_kernel() is None, reason="numba not installed")


@pytest.fixture(scope="module")
def params():
    return default_coverage_params().with_overrides(resolution_m=RES)


@pytest.fixture(scope="module")
def scene(params):
    communes = gpd.GeoDataFrame(
        {"commune_id": ["A", "B"], "commune_type": ["xã", "phường"]},
        geometry=[box(X0, Y0, X0 + 7_000, Y0 + 9_000), box(X0 + 7_000, Y0, X0 + 9_000, Y0 + 9_000)],
        crs=CRS,
    )
    return build_scene(communes, CRS, resolution_m=RES, params=params)


def _cells(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {"status": "active", "technology": "4G", "beamwidth_deg": 65.0, "bandwidth_mhz": 20.0}
    recs = [{**base, "cell_id": f"C{i}", "site_id": f"S{i}", **r} for i, r in enumerate(rows)]
    geoms = [Point(r.pop("x"), r.pop("y")) for r in recs]
    return gpd.GeoDataFrame(recs, geometry=geoms, crs=CRS)


def _random_cells(seed: int, n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return _cells(
        [
            {
                "x": X0 + rng.uniform(-1500, 10500),
                "y": Y0 + rng.uniform(-1500, 10500),
                "operator": ["Viettel", "VinaPhone", "MobiFone"][i % 3],
                "band_mhz": float(rng.choice([900.0, 1800.0, 2100.0])),
                "height_m": float(rng.integers(12, 46)),
                "eirp_dbm": float(rng.uniform(45, 62)),
                "azimuth_deg": float(rng.choice([np.nan, rng.uniform(0, 360)])),
            }
            for i in range(n)
        ]
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_operator_classes_equal_single_operator_runs(scene, params, seed):
    cells = _random_cells(seed, 18)
    tech = params.tech("4G")
    both = compute_coverage_by_operator(scene, cells, technology="4G", params=params)
    for op, classes in both.classes_by_operator.items():
        alone = compute_coverage(scene, cells, technology="4G", params=params, operator=op)
        assert np.array_equal(classes, classify_rsrp(alone.rsrp_dbm, tech)), op
        assert np.all(classes[~scene.inside] == NODATA_CLASS)


def test_pruned_kernel_equals_unpruned_numpy_counts_and_levels(scene, params, monkeypatch):
    cells = _random_cells(5, 24)
    fast = compute_coverage(scene, cells, technology="4G", params=params)
    monkeypatch.setattr(cov, "_numba_kernel", lambda: None)
    slow = compute_coverage(scene, cells, technology="4G", params=params)
    inside = scene.inside
    assert np.abs(fast.rsrp_dbm - slow.rsrp_dbm)[inside].max() < 0.03  # exact vs 0.1-degree pattern table
    # counts can only differ where a level sits within that pattern difference of the threshold
    differ = inside & (fast.server_count != slow.server_count)
    assert differ.sum() <= 0.005 * inside.sum()


def test_ties_go_to_the_lowest_cell_index(scene, params):
    same = {"x": X0 + 3_050.0, "y": Y0 + 4_050.0, "band_mhz": 1800.0, "height_m": 30.0, "eirp_dbm": 59.0}
    cells = _cells(
        [
            {**same, "operator": "Viettel", "azimuth_deg": np.nan},
            {**same, "operator": "Viettel", "azimuth_deg": np.nan},
        ]
    )
    out = compute_coverage(scene, cells, technology="4G", params=params)
    reached = scene.inside & (out.server >= 0)
    assert reached.sum() > 100
    assert np.all(out.server[reached] == 0)
    assert np.all(out.server_count[reached & (out.rsrp_dbm >= -105.0)] == 2)


@pytest.mark.parametrize("seed", [3, 4])
def test_compiled_reach_outlines_equal_numpy_outlines(scene, params, seed):
    """The compiled plan (all cells at once) draws the same outlines and boxes as _reach_boxes."""
    from analysis._coverage_numba import reach_outlines

    tech = params.tech("4G")
    cells = cov._prepare_cells(_random_cells(seed, 40), scene.grid, tech, params)
    floor, count = tech.poor_dbm, tech.fair_dbm
    numpy_plan = cov._plan(cells, floor, count, RES, params, compiled=False)
    compiled_plan = cov._plan(cells, floor, count, RES, params, compiled=True)
    np.testing.assert_array_equal(compiled_plan.boxes_floor, numpy_plan.boxes_floor)
    np.testing.assert_array_equal(compiled_plan.boxes_count, numpy_plan.boxes_count)
    ref = cells.ref_dbm - params.indoor_loss_db - params.margin_db
    for key, table in numpy_plan.tables.items():
        sel = np.nonzero([k == key for k in numpy_plan.keys])[0]
        budgets = [ref[sel] - floor, ref[sel] - count]
        expected = cov._reach_boxes(table, budgets, cells.azimuth_deg[sel], cells.beamwidth_deg[sel], params)
        az = np.asarray(cells.azimuth_deg[sel], dtype=np.float64)
        n = len(sel)
        least = table.min_loss_db
        boxes, east, north = reach_outlines(
            least,
            np.zeros(n, dtype=np.int64),
            np.full(n, len(least), dtype=np.int64),
            np.array(budgets, dtype=np.float64),
            az,
            np.where(np.isnan(az), 65.0, cells.beamwidth_deg[sel]),
            params.max_attenuation_db,
            np.full(n, int((len(least) - 3) / 4 / np.sqrt(2.0)), dtype=np.int64),
            4.0,
            cov._REACH_MARGIN_PX,
        )
        for b in range(2):
            np.testing.assert_array_equal(boxes[b], expected[b][0])
            np.testing.assert_allclose(east[b], expected[b][1], atol=1e-4)
            np.testing.assert_allclose(north[b], expected[b][2], atol=1e-4)


def test_compiled_reach_in_chunks_equals_one_chunk(scene, params, monkeypatch):
    """Outlines are computed in chunks of cells (memory bound): the joined row spans are the same."""
    tech = params.tech("4G")
    cells = cov._prepare_cells(_random_cells(5, 30), scene.grid, tech, params)
    whole = cov._plan(cells, tech.poor_dbm, tech.fair_dbm, RES, params, compiled=True)
    monkeypatch.setattr(cov, "_OUTLINE_CHUNK", 7)
    chunked = cov._plan(cells, tech.poor_dbm, tech.fair_dbm, RES, params, compiled=True)
    for name in ("boxes_floor", "boxes_count"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))
    for name in ("spans_floor", "spans_count"):
        for a, b in zip(getattr(chunked, name), getattr(whole, name), strict=True):
            np.testing.assert_array_equal(a, b)
