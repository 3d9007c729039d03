"""Incremental coverage (analysis/coverage_update.py): bit-for-bit equal to a full recompute."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely.geometry import Point, box

import analysis.coverage as cov
from analysis.coverage import build_scene, compute_coverage_by_operator
from analysis.coverage_params import default_coverage_params
from analysis.coverage_stats import coverage_statistics, prepare_statistics
from analysis.coverage_update import (
    CoverageUpdate,
    affected_units,
    update_coverage_by_operator,
    update_statistics,
)
from geo.errors import ParameterError

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 600_000.0, 1_100_000.0
RES = 200.0
SIDE = 40_000.0
OPERATORS = ("Viettel", "VinaPhone", "MobiFone")

pytestmark = pytest.mark.skipif(cov._numba_kernel() is None, reason="numba not installed")

Edit = Callable[[gpd.GeoDataFrame, np.random.Generator], gpd.GeoDataFrame]


@pytest.fixture(scope="module")
def params():
    return default_coverage_params().with_overrides(resolution_m=RES)


def _communes() -> gpd.GeoDataFrame:
    """Four communes of 20 km in a square: rural, urban, suburban, rural."""
    h = SIDE / 2
    return gpd.GeoDataFrame(
        {
            "commune_id": ["A", "B", "C", "D"],
            "commune_name": ["Xã A", "Phường B", "Thị trấn C", "Xã D"],
            "commune_type": ["xã", "phường", "thị trấn", "xã"],
            "households": [1000, 2000, 1500, 800],
        },
        geometry=[
            box(X0, Y0, X0 + h, Y0 + h),
            box(X0 + h, Y0, X0 + SIDE, Y0 + h),
            box(X0, Y0 + h, X0 + h, Y0 + SIDE),
            box(X0 + h, Y0 + h, X0 + SIDE, Y0 + SIDE),
        ],
        crs=CRS,
    )


@pytest.fixture(scope="module")
def scene(params):
    return build_scene(_communes(), CRS, resolution_m=RES, params=params)


def _site(site_id: str, operator: str, x: float, y: float, rng: np.random.Generator, **fields) -> list[dict]:
    """Three sector cells of one site."""
    band = float(rng.choice([900.0, 1800.0, 2100.0]))
    height = float(rng.integers(15, 45))
    turn = rng.uniform(0, 120)
    return [
        {
            "cell_id": f"{site_id}-{k}",
            "site_id": site_id,
            "operator": operator,
            "status": "active",
            "technology": "4G",
            "band_mhz": band,
            "height_m": height,
            "azimuth_deg": (120.0 * k + turn) % 360.0,
            "beamwidth_deg": 65.0,
            "eirp_dbm": float(rng.uniform(40, 52)),
            "bandwidth_mhz": 20.0,
            "geometry": Point(x, y),
            **fields,
        }
        for k in range(3)
    ]


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def _random_cells(seed: int, n_sites: int = 30) -> gpd.GeoDataFrame:
    """Three-sector 4G sites of three operators (some planned, a few omni), plus 2G cells."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sites):
        x, y = X0 + rng.uniform(-2_000, SIDE + 2_000), Y0 + rng.uniform(-2_000, SIDE + 2_000)
        status = "planned" if s % 7 == 3 else "active"
        rows += _site(f"S{s}", OPERATORS[s % 3], x, y, rng, status=status)
    rows[4]["azimuth_deg"] = np.nan  # an omni cell
    for s in range(4):  # other technologies are never part of 4G coverage
        x, y = X0 + rng.uniform(0, SIDE), Y0 + rng.uniform(0, SIDE)
        rows += _site(f"G{s}", OPERATORS[s % 3], x, y, rng, technology="2G", band_mhz=900.0)
    return _frame(rows)


def _assert_same_coverage(got: cov.OperatorCoverage, want: cov.OperatorCoverage) -> None:
    for name in ("rsrp_dbm", "server", "server_count"):
        np.testing.assert_array_equal(getattr(got.combined, name), getattr(want.combined, name), err_msg=name)
    assert list(got.classes_by_operator) == list(want.classes_by_operator)
    for op, classes in want.classes_by_operator.items():
        np.testing.assert_array_equal(got.classes_by_operator[op], classes, err_msg=op)
    pd.testing.assert_frame_equal(got.combined.cells, want.combined.cells)


def _run(
    scene, params, before, after, *, include_planned=False
) -> tuple[CoverageUpdate, cov.OperatorCoverage]:
    """Update of ``before``'s coverage to ``after``, checked against a full computation on ``after``."""
    base = compute_coverage_by_operator(
        scene, before, technology="4G", params=params, include_planned=include_planned
    )
    update = update_coverage_by_operator(
        scene, base, after, technology="4G", params=params, include_planned=include_planned
    )
    full = compute_coverage_by_operator(
        scene, after, technology="4G", params=params, include_planned=include_planned
    )
    _assert_same_coverage(update.coverage, full)
    got, want = update.coverage.cell_inputs, full.cell_inputs
    assert got is not None and want is not None  # the planned boxes, for the next update
    np.testing.assert_array_equal(got.boxes_floor, want.boxes_floor)
    np.testing.assert_array_equal(got.boxes_count, want.boxes_count)
    assert got.table_steps == want.table_steps
    for rows, cols in update.windows:
        assert (
            0 <= rows.start < rows.stop <= scene.grid.height
            and 0 <= cols.start < cols.stop <= scene.grid.width
        )
    return update, base


# -- edits -------------------------------------------------------------------------------------


def _active_4g_sites(cells: gpd.GeoDataFrame) -> list[str]:
    mine = cells[(cells["technology"] == "4G") & (cells["status"] == "active")]
    return sorted(set(mine["site_id"]))


def add_site(cells, rng):
    x, y = X0 + rng.uniform(0, SIDE), Y0 + rng.uniform(0, SIDE)
    new = _frame(_site(f"N{rng.integers(1_000_000)}", str(rng.choice(OPERATORS)), x, y, rng))
    return pd.concat([cells, new], ignore_index=True)


def move_site(cells, rng):
    site = rng.choice(_active_4g_sites(cells))
    out = cells.copy()
    mine = out["site_id"] == site
    point = out.loc[mine, "geometry"].iloc[0]
    moved = Point(point.x + rng.uniform(-3_000, 3_000), point.y + rng.uniform(-3_000, 3_000))
    out.loc[mine, "geometry"] = gpd.GeoSeries([moved] * int(mine.sum()), index=out.index[mine], crs=CRS)
    return out


def remove_site(cells, rng):
    site = rng.choice(_active_4g_sites(cells))
    return cells[cells["site_id"] != site].reset_index(drop=True)


def change_field(field: str, value: Callable[[np.random.Generator], float]) -> Edit:
    def edit(cells, rng):
        out = cells.copy()
        k = int(rng.choice(np.flatnonzero((out["technology"] == "4G") & (out["status"] == "active"))))
        out.loc[k, field] = value(rng)
        return out

    edit.__name__ = f"change_{field}"
    return edit


def remove_operator(cells, rng):
    return cells[cells["operator"] != "VinaPhone"].reset_index(drop=True)


def new_operator(cells, rng):
    rows = []
    for s in range(3):
        x, y = X0 + rng.uniform(0, SIDE), Y0 + rng.uniform(0, SIDE)
        rows += _site(f"V{s}", "Vietnamobile", x, y, rng)
    return pd.concat([cells, _frame(rows)], ignore_index=True)


def mixed(cells, rng):
    for edit in (add_site, move_site, remove_site, change_field("eirp_dbm", lambda r: r.uniform(40, 55))):
        cells = edit(cells, rng)
    return cells


EDITS: list[Edit] = [
    add_site,
    move_site,
    remove_site,
    change_field("eirp_dbm", lambda r: float(r.uniform(38, 56))),
    change_field("azimuth_deg", lambda r: float(r.uniform(0, 360))),
    change_field("height_m", lambda r: float(r.integers(10, 60))),
    change_field("beamwidth_deg", lambda r: float(r.uniform(30, 90))),
    change_field("band_mhz", lambda r: 2600.0),
    remove_operator,
    new_operator,
    mixed,
]


@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("seed", [1, 2])
def test_update_equals_full_recompute(scene, params, edit, seed):
    before = _random_cells(seed)
    after = edit(before, np.random.default_rng(seed + 100))
    update, _ = _run(scene, params, before, after)
    assert update.windows and update.changed_cell_ids


def test_one_added_site_recomputes_a_small_window(scene, params):
    before = _random_cells(3)
    rng = np.random.default_rng(5)
    new = _frame(_site("NEW", "Viettel", X0 + 10_000, Y0 + 30_000, rng, eirp_dbm=46.0))
    update, base = _run(scene, params, before, pd.concat([before, new], ignore_index=True))
    assert update.added_cell_ids == ("NEW-0", "NEW-1", "NEW-2")
    assert update.removed_cell_ids == () and update.modified_cell_ids == ()
    assert len(update.windows) == 1
    assert update.window_px < 0.2 * scene.grid.width * scene.grid.height
    # the new cells come after the existing Viettel cells: later operators' servers are renumbered
    rows, cols = update.windows[0]
    outside = np.ones(scene.grid.shape, dtype=bool)
    outside[rows, cols] = False
    old_ids = base.combined.cells["cell_id"].to_numpy()
    new_ids = update.coverage.combined.cells["cell_id"].to_numpy()
    old_server = base.combined.server[outside]
    new_server = update.coverage.combined.server[outside]
    served = old_server >= 0
    assert (new_server[served] != old_server[served]).any()
    np.testing.assert_array_equal(new_ids[new_server[served]], old_ids[old_server[served]])


def test_the_same_cell_with_a_value_written_differently_is_no_change(scene, params):
    before = _random_cells(4)
    sector = int(np.flatnonzero(before["azimuth_deg"].notna() & (before["technology"] == "4G"))[0])
    before.loc[sector, "azimuth_deg"] = 90.0
    after = before.copy()
    after["site_id"] = after["site_id"] + "-renamed"  # not a prediction input: only the cell table changes
    omni = int(np.flatnonzero(after["azimuth_deg"].isna())[0])
    after.loc[omni, "beamwidth_deg"] = 30.0  # an omni cell has no beam
    after.loc[sector, "azimuth_deg"] = 450.0  # the same direction
    two_g = after.index[after["technology"] == "2G"]
    after.loc[two_g, "eirp_dbm"] = 30.0  # another technology
    update, base = _run(scene, params, before, after)
    assert update.windows == () and update.window_px == 0
    assert update.changed_cell_ids == () and update.reevaluated_cell_ids == ()
    for name in ("rsrp_dbm", "server", "server_count"):
        np.testing.assert_array_equal(getattr(update.coverage.combined, name), getattr(base.combined, name))
    assert update.coverage.combined.rsrp_dbm is not base.combined.rsrp_dbm  # a copy, never the base
    assert (update.coverage.combined.cells["site_id"].str.endswith("-renamed")).all()


def test_switching_off_2g_changes_no_4g_pixel(scene, params):
    before = _random_cells(24)
    update, _ = _run(scene, params, before, before[before["technology"] != "2G"].reset_index(drop=True))
    assert update.windows == () and update.changed_cell_ids == ()


def test_planned_cells(scene, params):
    before = _random_cells(6)
    planned = np.flatnonzero((before["status"] == "planned") & (before["technology"] == "4G"))
    assert len(planned) >= 3
    rng = np.random.default_rng(7)
    new_planned = _frame(_site("P", "MobiFone", X0 + 20_000, Y0 + 20_000, rng, status="planned"))
    with_planned = pd.concat([before, new_planned], ignore_index=True)
    # a planned site added: no change with active cells only, added cells with planned ones
    update, _ = _run(scene, params, before, with_planned)
    assert update.windows == () and update.added_cell_ids == ()
    update, _ = _run(scene, params, before, with_planned, include_planned=True)
    assert update.added_cell_ids == ("P-0", "P-1", "P-2")
    # a planned cell switched to active: added with active cells only, no change with planned ones
    activated = before.copy()
    activated.loc[planned[0], "status"] = "active"
    update, _ = _run(scene, params, before, activated)
    assert update.added_cell_ids == (before.loc[planned[0], "cell_id"],)
    update, _ = _run(scene, params, before, activated, include_planned=True)
    assert update.windows == ()
    # an active cell set back to planned: removed with active cells only
    shelved = before.copy()
    active = np.flatnonzero((before["status"] == "active") & (before["technology"] == "4G"))
    shelved.loc[active[5], "status"] = "planned"
    update, _ = _run(scene, params, before, shelved)
    assert update.removed_cell_ids == (before.loc[active[5], "cell_id"],)


def test_reordered_rows_and_operator_changes(scene, params):
    before = _random_cells(8)
    tied = before.copy()  # sectors of a site at 0/120/240 degrees with one power: ties on the bisectors
    tied["azimuth_deg"] = np.where(tied["azimuth_deg"].isna(), np.nan, 120.0 * (tied.index % 3))
    tied["eirp_dbm"] = tied.groupby("site_id")["eirp_dbm"].transform("first")
    rng = np.random.default_rng(9)
    shuffled = tied.iloc[rng.permutation(len(tied))].reset_index(drop=True)
    update, _ = _run(scene, params, tied, shuffled)  # ties between unchanged cells follow the new order
    assert update.changed_cell_ids == () and update.reevaluated_cell_ids
    full = compute_coverage_by_operator(scene, tied, technology="4G", params=params)
    again = update_coverage_by_operator(scene, full, tied, technology="4G", params=params)
    assert again.windows == ()
    switched = before.copy()
    k = int(np.flatnonzero((before["operator"] == "Viettel") & (before["technology"] == "4G"))[0])
    switched.loc[k, "operator"] = "MobiFone"
    update, _ = _run(scene, params, before, switched)
    assert update.modified_cell_ids == (before.loc[k, "cell_id"],)


def test_a_stronger_cell_grows_its_loss_table_and_updates_chain(scene, params, monkeypatch):
    """A cell far stronger than the others of its band and height lengthens their loss table: their
    reach is checked again (and found unchanged). Updates chain: an update's result is a base."""
    import analysis.coverage_update as cu

    before = _random_cells(19)
    k = int(np.flatnonzero((before["technology"] == "4G") & (before["status"] == "active"))[0])
    strong = _frame(
        _site("STRONG", "Viettel", X0 + 30_000, Y0 + 10_000, np.random.default_rng(20), eirp_dbm=70.0)
    )
    strong["band_mhz"] = before.loc[k, "band_mhz"]
    strong["height_m"] = before.loc[k, "height_m"]
    after = pd.concat([before, strong], ignore_index=True)
    checked = []

    def spy(before_inputs, old, *args):
        checked.append(len(old))
        return real(before_inputs, old, *args)

    real = cu._reach_changed
    monkeypatch.setattr(cu, "_reach_changed", spy)
    first, _ = _run(scene, params, before, after)
    assert checked and checked[0] >= 3 and first.reevaluated_cell_ids == ()
    rng = np.random.default_rng(21)
    cells = after
    update = first
    for edit in (move_site, remove_site, add_site):
        edited = edit(cells, rng)
        update = update_coverage_by_operator(scene, update.coverage, edited, technology="4G", params=params)
        full = compute_coverage_by_operator(scene, edited, technology="4G", params=params)
        _assert_same_coverage(update.coverage, full)
        cells = edited


def test_down_to_one_operator_and_back(scene, params):
    before = _random_cells(10)
    one = before[before["operator"] == "Viettel"].reset_index(drop=True)
    update, _ = _run(scene, params, before, one)  # one operator: its classes are the best level's
    assert list(update.coverage.classes_by_operator) == ["Viettel"]
    _run(scene, params, one, before)


def test_every_cell_gone_is_an_error_as_for_a_full_run(scene, params):
    before = _random_cells(11)
    base = compute_coverage_by_operator(scene, before, technology="4G", params=params)
    with pytest.raises(ParameterError, match="no active 4G cells"):
        update_coverage_by_operator(
            scene, base, before[before["technology"] != "4G"], technology="4G", params=params
        )
    with pytest.raises(ParameterError, match="other class thresholds"):
        other = params.with_overrides(server_count_class="good")
        update_coverage_by_operator(scene, base, before, technology="4G", params=other)


def test_a_base_without_prediction_inputs_is_recomputed_whole(scene, params):
    before = _random_cells(22)
    after = move_site(before, np.random.default_rng(23))
    computed = compute_coverage_by_operator(scene, before, technology="4G", params=params)
    bare = cov.OperatorCoverage(computed.combined, computed.classes_by_operator)  # e.g. built by hand
    update = update_coverage_by_operator(scene, bare, after, technology="4G", params=params)
    _assert_same_coverage(
        update.coverage, compute_coverage_by_operator(scene, after, technology="4G", params=params)
    )
    assert update.window_px == scene.grid.width * scene.grid.height


def test_windows_of_the_engine_equal_the_whole_grid(scene, params):
    """The compiled engine over a window gives that part of the whole-grid run (the refactored path)."""
    cells = _random_cells(12)
    tech = params.tech("4G")
    chosen = cov.select_cells(cells, technology="4G")
    prepared, groups = cov._operator_ordered_cells(scene, chosen, list(OPERATORS[::-1]), tech, params)
    floor, count = tech.floor_dbm, tech.threshold_dbm(params.server_count_class)
    plan = cov._plan(prepared, floor, count, RES, params, compiled=True)
    thresholds = np.asarray(tech.thresholds_dbm, dtype=np.float32)
    whole = cov._accumulate_window(scene, prepared, plan, floor, count, params, groups, thresholds)
    rng = np.random.default_rng(13)
    height, width = scene.grid.shape
    for _ in range(6):
        r0, c0 = int(rng.integers(0, height - 1)), int(rng.integers(0, width - 1))
        r1, c1 = int(rng.integers(r0 + 1, height + 1)), int(rng.integers(c0 + 1, width + 1))
        part = cov._accumulate_window(
            scene, prepared, plan, floor, count, params, groups, thresholds, window=(r0, r1, c0, c1)
        )
        for a, b in zip(whole[:3], part[:3], strict=True):
            np.testing.assert_array_equal(a[r0:r1, c0:c1], b)
        np.testing.assert_array_equal(whole[4][:, r0:r1, c0:c1], part[4])


# -- statistics --------------------------------------------------------------------------------


def _hamlets(seed: int) -> gpd.GeoDataFrame:
    """Point hamlets in every commune, two polygon hamlets and one off the grid."""
    rng = np.random.default_rng(seed)
    h = SIDE / 2
    corners = {"A": (X0, Y0), "B": (X0 + h, Y0), "C": (X0, Y0 + h), "D": (X0 + h, Y0 + h)}
    records, geoms = [], []
    for commune, (x, y) in corners.items():
        for i in range(8):
            records.append({"hamlet_id": f"{commune}{i}", "commune_id": commune})
            geoms.append(Point(x + rng.uniform(500, h - 500), y + rng.uniform(500, h - 500)))
    records += [{"hamlet_id": "PA", "commune_id": "A"}, {"hamlet_id": "PD", "commune_id": "D"}]
    geoms += [
        box(X0 + 3_000, Y0 + 3_000, X0 + 6_000, Y0 + 5_000),
        box(X0 + 25_000, Y0 + 25_000, X0 + 27_000, Y0 + 31_000),
    ]
    records.append({"hamlet_id": "far", "commune_id": "Z"})
    geoms.append(Point(X0 - 50_000, Y0))
    frame = pd.DataFrame(records)
    frame["hamlet_name"] = "Ấp " + frame["hamlet_id"]
    frame["households"] = rng.integers(20, 400, len(frame))
    frame["population"] = frame["households"] * 4
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS)


def add_site_at_hamlet(cells, rng):
    """A low-power site in the polygon hamlet "PA"."""
    new = _frame(_site("H", "MobiFone", X0 + 4_500, Y0 + 4_000, rng, eirp_dbm=42.0))
    return pd.concat([cells, new], ignore_index=True)


@pytest.fixture(scope="module")
def hamlets():
    return _hamlets(14)


@pytest.fixture(scope="module")
def stats_inputs(scene, hamlets, params):
    return prepare_statistics(scene, hamlets, params=params)


def _assert_same_stats(got, want) -> None:
    for name in ("communes", "hamlets", "footprints"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True, obj=name)
        assert getattr(got, name).crs == getattr(want, name).crs


@pytest.mark.parametrize("population", [False, True], ids=["uniform", "population"])
@pytest.mark.parametrize(
    "edit", [add_site_at_hamlet, move_site, remove_operator, new_operator, mixed], ids=lambda e: e.__name__
)
def test_statistics_update_equals_full_statistics(scene, params, hamlets, stats_inputs, edit, population):
    rng = np.random.default_rng(15)
    pop = (
        rng.gamma(0.5, 20.0, scene.grid.shape) * (rng.random(scene.grid.shape) < 0.7) if population else None
    )
    before = _random_cells(16)
    after = edit(before, np.random.default_rng(17))
    update, base = _run(scene, params, before, after)
    kwargs = {"params": params, "population": pop, "prepared": stats_inputs}
    base_stats = coverage_statistics(scene, base, hamlets, **kwargs)
    got = update_statistics(scene, base_stats, update, **kwargs)
    _assert_same_stats(got, coverage_statistics(scene, update.coverage, hamlets, **kwargs))
    ham_rows, com_rows = affected_units(scene, stats_inputs, update.windows)
    assert 0 < len(ham_rows) and 0 < len(com_rows)
    if edit is add_site_at_hamlet:
        assert 32 in ham_rows and len(ham_rows) < len(hamlets) / 2  # polygon hamlet "PA"


def test_statistics_update_without_change_and_with_a_bad_base(scene, params, hamlets, stats_inputs):
    before = _random_cells(18)
    update, base = _run(scene, params, before, before.copy())
    base_stats = coverage_statistics(scene, base, hamlets, params=params, prepared=stats_inputs)
    got = update_statistics(scene, base_stats, update, params=params, prepared=stats_inputs)
    _assert_same_stats(got, base_stats)
    truncated = type(base_stats)(base_stats.communes.iloc[:-1], base_stats.hamlets, base_stats.footprints)
    with pytest.raises(ParameterError, match="statistics update"):
        update_statistics(scene, truncated, update, params=params, prepared=stats_inputs)
