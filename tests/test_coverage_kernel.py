"""Compiled block kernel: exact pruning (per-operator classes, ties, counts) against plain runs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import Point, box

import analysis.coverage as cov
import analysis.coverage_plan as coverage_plan
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
    from analysis._coverage_kernel import reach_outlines

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
        expected = coverage_plan._reach_boxes(
            table, budgets, cells.azimuth_deg[sel], cells.beamwidth_deg[sel], params
        )
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
            coverage_plan._REACH_MARGIN_PX,
        )
        for b in range(2):
            np.testing.assert_array_equal(boxes[b], expected[b][0])
            np.testing.assert_allclose(east[b], expected[b][1], atol=1e-4)
            np.testing.assert_allclose(north[b], expected[b][2], atol=1e-4)


@pytest.mark.parametrize("seed", [5, 6])
def test_reach_spans_equal_outlines_then_row_spans(scene, params, seed):
    """The fused, parallel plan (outline drawn twice, never stored; galloping reach search) gives the
    boxes and row spans of reach_outlines followed by row_spans, cell by cell."""
    from analysis._coverage_kernel import reach_outlines, reach_spans, row_spans

    tech = params.tech("4G")
    cells = cov._prepare_cells(_random_cells(seed, 40), scene.grid, tech, params)
    plan = cov._plan(cells, tech.poor_dbm, tech.fair_dbm, RES, params, compiled=False)
    ref = cells.ref_dbm - params.indoor_loss_db - params.margin_db
    budgets = np.array([ref - tech.poor_dbm, ref - tech.fair_dbm, ref - tech.good_dbm - 30.0])
    for key, table in plan.tables.items():
        sel = np.nonzero([k == key for k in plan.keys])[0]
        least = table.min_loss_db
        n = len(sel)
        az = np.asarray(cells.azimuth_deg[sel], dtype=np.float64)
        args = (
            least,
            np.zeros(n, dtype=np.int64),
            np.full(n, len(least), dtype=np.int64),
            np.ascontiguousarray(budgets[:, sel]),
            az,
            np.where(np.isnan(az), 65.0, cells.beamwidth_deg[sel]),
            params.max_attenuation_db,
            np.full(n, int((len(least) - 3) / 4 / np.sqrt(2.0)), dtype=np.int64),
            4.0,
            coverage_plan._REACH_MARGIN_PX,
        )
        boxes, east, north = reach_outlines(*args)
        fused_boxes, start, lo, hi = reach_spans(*args)
        np.testing.assert_array_equal(fused_boxes, boxes)
        for b in range(len(budgets)):
            ref_start, ref_lo, ref_hi = row_spans(east[b], north[b], boxes[b])
            for k in range(n):
                rows = slice(ref_start[k], ref_start[k + 1])
                fused = slice(start[b, k], start[b, k + 1])
                np.testing.assert_array_equal(lo[fused], ref_lo[rows])
                np.testing.assert_array_equal(hi[fused], ref_hi[rows])


def _reference_block_pairs(
    rows: np.ndarray, cols: np.ndarray, boxes: np.ndarray, spans: tuple, height: int, width: int, block: int
) -> list[list[int]]:
    """Cells whose row spans touch each block, by a plain loop over every cell's rows."""
    start, lo, hi = spans
    n_bc = -(-width // block)
    lists: list[list[int]] = [[] for _ in range(-(-height // block) * n_bc)]
    for k in range(len(rows)):
        touched = set()
        for row in range(max(rows[k] + boxes[k, 0], 0), min(rows[k] + boxes[k, 1] + 1, height)):
            at = start[k] + row - rows[k] - boxes[k, 0]
            c0 = max(cols[k] + int(lo[at]), cols[k] + boxes[k, 2], 0)
            c1 = min(cols[k] + int(hi[at]), cols[k] + boxes[k, 3], width - 1)
            for bj in range(c0 // block, c1 // block + 1) if c0 <= c1 else ():
                touched.add((row // block) * n_bc + bj)
        for b in touched:
            lists[b].append(k)
    return lists


@pytest.mark.parametrize("seed", [7, 8])
def test_parallel_block_pairs_equal_a_plain_loop(scene, params, seed):
    from analysis._coverage_kernel import block_pairs

    tech = params.tech("4G")
    cells = cov._prepare_cells(_random_cells(seed, 40), scene.grid, tech, params)
    plan = cov._plan(cells, tech.poor_dbm, tech.fair_dbm, RES, params, compiled=True)
    height, width = scene.grid.shape
    for boxes, spans in ((plan.boxes_floor, plan.spans_floor), (plan.boxes_count, plan.spans_count)):
        for block in (8, 32):
            start, cell = block_pairs(cells.row, cells.col, boxes, spans, height, width, block)
            expected = _reference_block_pairs(cells.row, cells.col, boxes, spans, height, width, block)
            assert len(start) == len(expected) + 1
            for b, ks in enumerate(expected):
                assert list(cell[start[b] : start[b + 1]]) == sorted(ks), b


def _dense_cells(seed: int, n: int, operators: int) -> gpd.GeoDataFrame:
    """Many cells on few sites (three sectors each), for ties, saturated counts and classes."""
    rng = np.random.default_rng(seed)
    names = ["Viettel", "VinaPhone", "MobiFone", "Vietnamobile"][:operators]
    rows = []
    for i in range(n):
        site = i // 3
        srng = np.random.default_rng(seed * 1000 + site)
        rows.append(
            {
                "x": X0 + srng.uniform(0, 9000),
                "y": Y0 + srng.uniform(0, 9000),
                "operator": names[site % operators],
                "band_mhz": float(srng.choice([900.0, 1800.0, 2100.0])),
                "height_m": float(srng.integers(12, 46)),
                "eirp_dbm": float(rng.uniform(45, 62)),
                "azimuth_deg": float((120.0 * (i % 3) + srng.uniform(0, 120)) % 360.0),
            }
        )
    return _cells(rows)


@pytest.mark.parametrize("seed", [11, 12])
def test_joint_pass_classes_best_and_counts_equal_separate_runs(scene, params, seed):
    """One pass over all operators (best server plus each operator's class, pruned by class
    thresholds) gives the single-operator classes and the one-pass best, server and count."""
    cells = _dense_cells(seed, 90, 4)
    tech = params.tech("4G")
    both = compute_coverage_by_operator(scene, cells, technology="4G", params=params)
    one = compute_coverage(scene, cells, technology="4G", params=params)
    inside = scene.inside
    order = np.argsort(cells["operator"].astype(str).to_numpy(), kind="stable")
    assert np.array_equal(both.combined.rsrp_dbm, one.rsrp_dbm)
    # server indices refer to the operator-ordered cell table of the joint pass
    assert np.array_equal(
        np.where(both.combined.server >= 0, order[np.maximum(both.combined.server, 0)], both.combined.server),
        one.server,
    )
    assert np.array_equal(both.combined.server_count, one.server_count)
    assert both.combined.server_count[inside].max() > 20
    for op, classes in both.classes_by_operator.items():
        alone = compute_coverage(scene, cells, technology="4G", params=params, operator=op)
        assert np.array_equal(classes, classify_rsrp(alone.rsrp_dbm, tech)), op


@pytest.mark.parametrize("cap", [1, 3, 12])
def test_capped_counts_are_the_capped_full_counts(scene, params, monkeypatch, cap):
    """Counting stops where every pixel has reached the cap: the counts are the full counts, capped."""
    cells = _dense_cells(13, 60, 3)
    full = compute_coverage_by_operator(scene, cells, technology="4G", params=params).combined
    assert full.server_count[scene.inside].max() < int(cov._COUNT_CAP)
    monkeypatch.setattr(cov, "_COUNT_CAP", cap)
    capped = compute_coverage_by_operator(scene, cells, technology="4G", params=params).combined
    inside = scene.inside
    expected = np.minimum(full.server_count[inside], cap)
    assert np.array_equal(capped.server_count[inside], expected)
    assert np.array_equal(capped.rsrp_dbm, full.rsrp_dbm)
    assert np.array_equal(capped.server, full.server)


def test_class_histograms_equal_numpy():
    from analysis._coverage_kernel import class_counts, class_counts_at

    rng = np.random.default_rng(3)
    unit = rng.integers(-1, 7, 5000).astype(np.int32)
    classes = rng.choice(np.array([0, 1, 2, 3, 255], dtype=np.uint8), 5000)
    ok = (unit >= 0) & (classes < 4)
    expected = np.bincount(unit[ok] * 4 + classes[ok], minlength=28).reshape(7, 4)
    np.testing.assert_array_equal(class_counts(unit, classes, 7, 4), expected)
    pix = rng.integers(0, 5000, 3000)
    unit_at = rng.integers(0, 7, 3000)
    ok = classes[pix] < 4
    expected = np.bincount(unit_at[ok] * 4 + classes[pix][ok], minlength=28).reshape(7, 4)
    np.testing.assert_array_equal(class_counts_at(pix, unit_at, classes, 7, 4), expected)


def test_loading_the_kernel_never_blocks_scipy_linalg_in_another_thread() -> None:
    """The BLAS probe is refused only to the thread that loads numba (the app runs pages in threads)."""
    import threading

    from analysis._coverage_kernel._jit import _without_scipy_linalg

    errors: list[BaseException] = []

    def other() -> None:
        try:
            import importlib

            importlib.import_module("scipy.linalg.interpolative")
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    with _without_scipy_linalg():
        worker = threading.Thread(target=other)
        worker.start()
        worker.join(timeout=60)
        with pytest.raises(ImportError):
            import importlib

            importlib.import_module("scipy.linalg._this_thread_is_refused")
    assert errors == []
