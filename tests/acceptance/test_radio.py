"""Scene A ("radio"): closed-form coverage and the signal flags, checked through the CLI.

The package is written by ``scenes.radio_scene`` / ``scenes.write_package`` and analysed once per
layout with ``python -m analysis coverage`` and ``python -m analysis gaps`` (in-process ``cli.main``).
Expected values come from ``reference.py`` (formulas of docs/COVERAGE.md and docs/GAPS.md) and from
the hand-laid roads / survey rows below. See README.md in this folder for each hamlet's purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio

from tests.acceptance import reference as ref
from tests.acceptance.scenes import (
    LAYOUTS,
    METRIC_EPSG,
    PackageIds,
    Scene,
    footprint,
    metric,
    metric_cells,
    radio_scene,
    write_package,
)
from tests.acceptance.support import (
    checks,
    flag,
    items,
    num,
    read_csv_list,
    read_csv_rows,
    run_cli,
    run_ok,
    text,
)

RESOLUTION_M = 25.0  # docs/COVERAGE.md: --resolution default 25 (README: "[--resolution 25]")
LEVEL_TOL_DB = 0.15  # "Path loss is tabulated every ¼ pixel ... (≤ 0.12 dB from the exact formula)"
SHARE_TOL = 0.01  # shares on the same pixel centres; allows a pixel or two at a class edge
DESIGN_MARGIN_DB = 2.0  # hamlets whose whole footprint stays this far from a class edge: exact 0 / 1
FLOOR_4G = float(np.nextafter(np.float32(ref.POOR_DBM), np.float32(-np.inf)))  # COVERAGE.md: the floor

# Hand-laid fibre (scenes.radio_scene): each hamlet's 100 m spur + its 300 m stub + the cabinet's
# 100 m spur; A-PLAN: 100 + 2,000 + 100 m to an OLT; A-NONE: its stub has no node (no road path).
FIBRE_M = {"A-PLAN": 100.0 + 2000.0 + 100.0, "A-NONE": None}
FIBRE_DEFAULT_M = 100.0 + 300.0 + 100.0
# Hand-picked survey rows: every hamlet 90/100 FTTH and 180/200 adults with a smartphone, except
# A-FAIR (100/200 = 0.50) and A-SEC-NULL (no row, and its commune has no commune-level row).
SURVEY = {"A-FAIR": (0.9, 0.5), "A-SEC-NULL": (None, None)}
SURVEY_DEFAULT = (0.9, 0.9)
# Hamlets whose shares are fractional by design (footprint straddles a class edge), and the side of
# the flag threshold each must fall on (docs/GAPS.md: > 0.20 no 4G, < 0.80 good 4G).
FRACTIONAL = {"A-GOOD90": 0.90, "A-GOOD60": 0.60, "A-NONE10": 0.10, "A-NONE40": 0.40}


@dataclass
class RadioRun:
    """One analysed package."""

    scene: Scene
    ids: PackageIds
    cov: Path
    gaps: Path

    def label(self, key: str) -> str:
        """``A-NONE 'Ấp Xa Xôi' [8470103-01]`` for messages."""
        return f"{key} {self.scene.hamlet(key).name!r} [{self.ids.hamlet_id[key]}]"

    def out(self, suffix: str) -> Path:
        """A coverage side output, e.g. ``_hamlets.csv``."""
        return self.cov.with_name(self.cov.stem + suffix)


@pytest.fixture(scope="module", params=LAYOUTS)
def radio(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RadioRun:
    """Scene A written in ``request.param`` layout, then `coverage` and `gaps` run once each."""
    base = tmp_path_factory.mktemp(f"radio-{request.param}")
    scene = radio_scene()
    ids = write_package(scene, base / "pkg", request.param)
    run_ok("coverage", ids.root, "--out", base / "cov.tif")
    run_ok("gaps", ids.root, "--out", base / "gaps.csv")
    return RadioRun(scene, ids, base / "cov.tif", base / "gaps.csv")


@dataclass
class Grid:
    """The level, server and count rasters of the coverage run."""

    left: float
    top: float
    res: float
    level: np.ndarray
    server: np.ndarray
    count: np.ndarray
    nodata: float
    crs_epsg: int | None

    def centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric coordinates of pixel centres."""
        return self.left + (cols + 0.5) * self.res, self.top - (rows + 0.5) * self.res

    def pixel(self, x_m: float, y_m: float) -> tuple[int, int]:
        """(row, col) holding a metric point."""
        return math.floor((self.top - y_m) / self.res), math.floor((x_m - self.left) / self.res)


@pytest.fixture(scope="module")
def grid(radio: RadioRun) -> Grid:
    """Read the three coverage rasters once."""
    bands = {}
    for suffix in ("", "_server", "_count"):
        with rasterio.open(radio.out(suffix + ".tif")) as src:
            bands[suffix] = src.read(1)
            if suffix == "":
                t, nodata, epsg = src.transform, src.nodata, src.crs.to_epsg()
    assert t.b == 0 and t.d == 0 and t.a == -t.e, "the level raster is not a north-up square grid"
    return Grid(t.c, t.f, t.a, bands[""], bands["_server"], bands["_count"], nodata, epsg)


@pytest.fixture(scope="module")
def cells_on_grid(radio: RadioRun, grid: Grid) -> list[ref.RadioCell]:
    """Active 4G cells snapped to the centre of their pixel of the output grid."""
    cells = metric_cells(radio.scene)
    for c in cells:  # a site on a pixel edge would make the snapping (and every level) ambiguous
        fx, fy = (c.x_m - grid.left) / grid.res % 1.0, (grid.top - c.y_m) / grid.res % 1.0
        assert 0.1 < fx < 0.9 and 0.1 < fy < 0.9, f"scene error: site of {c.cell_id} lies on a pixel edge"
    return ref.snapped(cells, grid.left, grid.top, grid.res)


@pytest.fixture(scope="module")
def expected_signal(
    radio: RadioRun, grid: Grid, cells_on_grid: list[ref.RadioCell]
) -> dict[str, ref.SignalExpectation]:
    """Per hamlet: the documented shares over the footprint's pixel centres of the output grid."""
    out = {}
    for h in radio.scene.hamlets:
        xs, ys = ref.pixel_centres_in(footprint(radio.scene, h.key), grid.left, grid.top, grid.res)
        # "at the hamlet point": the level raster's value there, i.e. at the centre of its pixel
        row, col = grid.pixel(*metric(h.x, h.y))
        centre = grid.centres(np.array([row]), np.array([col]))
        out[h.key] = ref.expected_signal(cells_on_grid, xs, ys, (float(centre[0][0]), float(centre[1][0])))
    return out


def _design(scene: Scene) -> dict[str, ref.SignalExpectation]:
    """Shares and margins on a 10 m lattice over each footprint, unsnapped sites (grid-free)."""
    cells = metric_cells(scene)
    out = {}
    for h in scene.hamlets:
        xs, ys = ref.lattice_in(footprint(scene, h.key), 10.0)
        out[h.key] = ref.expected_signal(cells, xs, ys, metric(h.x, h.y))
    return out


def _exact(key: str) -> bool:
    return key not in FRACTIONAL


def _signal_tol(key: str) -> float:
    return SHARE_TOL if key in FRACTIONAL else 0.0


# ------------------------------------------------------------------------------------------------
def test_reference_model_reproduces_documented_test_vectors() -> None:
    """docs/COVERAGE.md "Test vectors": Hata 900 MHz 30 m 1 km urban 126.40, suburban 116.46, open
    97.90; COST-231 1800 MHz 1 km 136.20 dB. Guards the independent model, not the program."""
    urban = float(ref.hata_urban_db(900.0, 30.0, 1.0))
    assert urban == pytest.approx(126.40, abs=0.01)
    assert urban - ref.suburban_correction_db(900.0) == pytest.approx(116.46, abs=0.01)
    assert urban - ref.open_correction_db(900.0) == pytest.approx(97.90, abs=0.01)
    assert float(ref.cost231_urban_db(1800.0, 30.0, 1.0)) == pytest.approx(136.20, abs=0.01)
    # The no-coverage case: COST-231 rural, LTE 1800, 30 m mast, 20 km, 59 dBm over 20 MHz.
    far = ref.RadioCell("x", "Viettel", 0.0, 0.0, 30.0, 1800.0, 59.0, 20.0, None, 65.0)
    assert far.p_re_dbm == pytest.approx(28.21, abs=0.01)  # 59 - 10 log10(1200)
    assert float(ref.rsrp_dbm(far, 0.0, 20_000.0)) == pytest.approx(-121.9, abs=0.1)


def test_scene_design_keeps_expectations_off_the_edges() -> None:
    """The scene, not the program: exact hamlets stay >= 2 dB from the class edges they test;
    fractional ones sit well away from the flag thresholds; point hamlets keep their whole disc."""
    scene = radio_scene()
    design = _design(scene)
    with checks() as check:
        for key, e in design.items():
            if _exact(key):
                for name, margin, share in (
                    ("good", e.margin_good_db, e.shares["good"]),
                    ("none", e.margin_none_db, e.shares["none"]),
                ):
                    if margin < DESIGN_MARGIN_DB:
                        check(
                            key, f"design margin to the {name} edge (dB), share {share:.3f}", ">= 2", margin
                        )
            else:
                share = e.shares["good"] if FRACTIONAL[key] > 0.5 else e.shares["none"]
                check(key, "design share", FRACTIONAL[key], share, tol=0.02)
        for key in ("A-GOOD", "A-GOOD90", "A-GOOD60", "A-FAIR", "A-POOR", "A-NONE10", "A-NONE40", "A-NONE"):
            area = footprint(scene, key).area
            check(key, "footprint is the whole 700 m disc (m²)", math.pi * 700.0**2, area, tol=2e3)
        check(
            "A-SEC-NULL",
            "design: sector pattern turns good into fair",
            "fair",
            design["A-SEC-NULL"].coverage_class,
        )


def test_validate_accepts_the_package(radio: RadioRun, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/DATA.md "Checking a package": exit 0 when usable; a package written to the contract has
    no problem at all."""
    code = run_cli("validate", radio.ids.root)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(("ERROR", "WARNING"))]
    assert code == 0 and not lines, f"validate exit {code}: {lines}"


def test_evaluated_cells_are_the_active_4g_cells(radio: RadioRun) -> None:
    """Only active 4G cells are evaluated (2G-only and planned sites are not 4G coverage); operator and
    technology aliases are read as the canonical names; reference power = EIRP − 10 log10(12 × RBs)."""
    rows = {r["cell_id"]: r for r in read_csv_list(radio.out("_cells.csv"))}
    expected = {c.cell_id: c for c in metric_cells(radio.scene)}
    with checks() as check:
        check("cells.csv", "evaluated cells = active 4G cells", sorted(expected), sorted(rows))
        for cid, c in expected.items():
            if cid not in rows:
                continue
            check(cid, "operator alias -> canonical name (docs/DATA.md)", c.operator, rows[cid]["operator"])
            check(cid, "technology alias LTE -> 4G", "4G", rows[cid]["technology"])
            check(cid, "reference power per RE (dBm)", c.p_re_dbm, num(rows[cid]["reference_dbm"]), tol=0.01)


def _in_province(scene: Scene, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Points inside the union of the commune rectangles (edges excluded: pixel centres never lie on
    them, the rectangles are on the 25 m lattice and pixel centres are 12.5 m off it)."""
    out = np.zeros(xs.shape, dtype=bool)
    for c in scene.communes:
        (x0, y0), (x1, y1) = metric(c.box[0], c.box[1]), metric(c.box[2], c.box[3])
        out |= (xs > x0) & (xs < x1) & (ys > y0) & (ys < y1)
    return out


def test_level_raster_matches_closed_form(
    radio: RadioRun, grid: Grid, cells_on_grid: list[ref.RadioCell]
) -> None:
    """Every 5th pixel: level = max over cells of P_RE − L_COST231,rural(d) − A(θ) (never below free
    space); where no cell reaches −115 dBm the pixel holds the floor and server −1 (class none)."""
    rows, cols = np.mgrid[0 : grid.level.shape[0] : 5, 0 : grid.level.shape[1] : 5]
    rows, cols = rows.ravel(), cols.ravel()
    xs, ys = grid.centres(rows, cols)
    best = ref.best_levels(cells_on_grid, xs, ys).max(axis=0)
    got = grid.level[rows, cols].astype(float)
    server = grid.server[rows, cols]
    nearest = np.min([np.hypot(xs - c.x_m, ys - c.y_m) for c in cells_on_grid], axis=0)
    with checks() as check:
        check("cov.tif", "metric CRS (docs/DATA.md: UTM 48N)", METRIC_EPSG, grid.crs_epsg)
        check("cov.tif", "default resolution (m)", RESOLUTION_M, grid.res)
        inside = got != grid.nodata
        province = _in_province(radio.scene, xs, ys)
        check("cov.tif", "nodata −9999 exactly outside the province", 0, int((inside != province).sum()))
        reached = inside & (best >= ref.POOR_DBM + LEVEL_TOL_DB) & (nearest > grid.res)
        err = np.abs(got - best)
        for k in np.flatnonzero(reached & (err > LEVEL_TOL_DB))[:10]:
            check(
                f"pixel ({rows[k]}, {cols[k]}) at {nearest[k]:.0f} m",
                "closed-form level (dBm)",
                round(best[k], 3),
                round(got[k], 3),
                tol=LEVEL_TOL_DB,
            )
        check("cov.tif", "pixels compared with the closed form", True, int(reached.sum()) > 5000)
        dead = inside & (best < ref.POOR_DBM - LEVEL_TOL_DB)
        check("cov.tif", "no-coverage pixels exist east of the sites", True, int(dead.sum()) > 1000)
        for k in np.flatnonzero(dead & ((got != FLOOR_4G) | (server != -1)))[:10]:
            check(
                f"pixel ({rows[k]}, {cols[k]}) closed form {best[k]:.1f} dBm",
                "below −115: floor and server −1",
                (FLOOR_4G, -1),
                (float(got[k]), int(server[k])),
            )
        check(
            "cov.tif",
            "a reached pixel is never at or below the floor",
            True,
            bool((got[reached] >= ref.POOR_DBM).all()),
        )


def test_site_pixel_uses_half_a_pixel(grid: Grid, cells_on_grid: list[ref.RadioCell]) -> None:
    """The site's own pixel uses half a pixel of distance and boresight gain" (free space bites there)."""
    with checks() as check:
        for site in ("VT-OMNI", "MB-SEC"):
            cells = [c for c in cells_on_grid if c.cell_id.startswith(site)]
            c = cells[0]
            loss = float(ref.path_loss_db(c.band_mhz, c.height_m, grid.res / 2 / 1000.0, "rural"))
            row, col = grid.pixel(c.x_m, c.y_m)
            check(
                f"site {site} pixel ({row}, {col})",
                "P_RE − L(½ pixel), no pattern loss (dBm)",
                round(c.p_re_dbm - loss, 3),
                round(float(grid.level[row, col]), 3),
                tol=LEVEL_TOL_DB,
            )


def test_server_and_count_rasters(radio: RadioRun, grid: Grid, cells_on_grid: list[ref.RadioCell]) -> None:
    """Server = row of _cells.csv of the strongest cell; count = cells at or above fair (−105 dBm)."""
    ids = [r["cell_id"] for r in read_csv_list(radio.out("_cells.csv"))]
    rows, cols = np.mgrid[0 : grid.level.shape[0] : 5, 0 : grid.level.shape[1] : 5]
    rows, cols = rows.ravel(), cols.ravel()
    xs, ys = grid.centres(rows, cols)
    levels = ref.best_levels(cells_on_grid, xs, ys)
    order = np.sort(levels, axis=0)
    inside = _in_province(radio.scene, xs, ys)
    clear = inside & (order[-1] >= ref.POOR_DBM + LEVEL_TOL_DB) & (order[-1] - order[-2] > 2 * LEVEL_TOL_DB)
    best = [cells_on_grid[k].cell_id for k in np.argmax(levels, axis=0)]
    unambiguous = inside & ~(np.abs(levels - ref.FAIR_DBM) < LEVEL_TOL_DB).any(axis=0)
    with checks() as check:
        wrong = [
            k for k in np.flatnonzero(clear) if _server_id(ids, grid.server[rows[k], cols[k]]) != best[k]
        ]
        for k in wrong[:10]:
            check(
                f"pixel ({rows[k]}, {cols[k]})",
                "best server",
                best[k],
                _server_id(ids, grid.server[rows[k], cols[k]]),
            )
        count = (levels >= ref.FAIR_DBM).sum(axis=0)
        for k in np.flatnonzero(unambiguous & (grid.count[rows, cols] != count))[:10]:
            check(
                f"pixel ({rows[k]}, {cols[k]})",
                "servers at or above fair",
                int(count[k]),
                int(grid.count[rows[k], cols[k]]),
            )


def _server_id(ids: list[str], index: int) -> str:
    return ids[index] if index >= 0 else str(index)


def test_hamlet_coverage_statistics(
    radio: RadioRun, expected_signal: dict[str, ref.SignalExpectation]
) -> None:
    """_hamlets.csv `all` rows: household shares over the footprint, median class, status, best server
    at the point; per-operator rows carry canonical operator names and each operator's median class."""
    rows = read_csv_list(radio.out("_hamlets.csv"))
    by = {(r["hamlet_id"], r["operator"]): r for r in rows}
    with checks() as check:
        check(
            "_hamlets.csv",
            "operators (canonical spellings) + all",
            ["MobiFone", "Viettel", "all"],
            sorted({r["operator"] for r in rows}),
        )
        for key, e in expected_signal.items():
            hid, who = radio.ids.hamlet_id[key], radio.label(key)
            row = by.get((hid, "all"))
            if row is None:
                check(who, "one `all` row per hamlet", "present", "missing")
                continue
            for name in ref.CLASSES:
                check(
                    who,
                    f"household_share_{name} (pixel centres in the footprint)",
                    e.shares[name],
                    num(row[f"household_share_{name}"]),
                    tol=_signal_tol(key),
                )
            check(who, "coverage_class = median household's class", e.coverage_class, row["coverage_class"])
            check(who, "status (served / underserved / unserved)", e.status, row["status"])
            check(
                who,
                "operators_good (median class good)",
                e.operators_good,
                int(num(row["operators_good"]) or 0),
            )
            check(
                who,
                "best_operator at the point ('' below −115)",
                e.best_operator_at_point,
                text(row["best_operator"]),
            )
            if e.best_margin_at_point_db > 0.5 or not e.best_cell_at_point:
                check(who, "best_cell_id at the point", e.best_cell_at_point, text(row["best_cell_id"]))
            check(
                who,
                "best_rsrp_dbm at the point (empty below −115)",
                None if e.best_level_at_point_dbm is None else round(e.best_level_at_point_dbm, 2),
                num(row["best_rsrp_dbm"]),
                tol=LEVEL_TOL_DB + 0.05,  # the table rounds to 0.1 dB
            )
            area = footprint(radio.scene, key).area / 1e6
            check(
                who,
                "footprint_km2 (Voronoi ∩ 700 m disc ∩ commune, or the polygon)",
                round(area, 4),
                num(row["footprint_km2"]),
                tol=0.01 * area,
            )
            for op, shares in e.operator_shares.items():
                op_row = by.get((hid, op))
                got = op_row["coverage_class"] if op_row else "missing"
                check(who, f"{op} row: median class of its own raster", ref.median_class(shares), got)


def test_no_coverage_hamlet(radio: RadioRun, grid: Grid) -> None:
    """A-NONE, ~20 km from every active 4G cell (about −122 dBm per RE from the omni): class none,
    share_hh_no_4g 1, status unserved, NO_MOBILE_COVERAGE; its pixel holds the floor, server −1."""
    key = "A-NONE"
    who, hid = radio.label(key), radio.ids.hamlet_id[key]
    h = radio.scene.hamlet(key)
    cov = {(r["hamlet_id"], r["operator"]): r for r in read_csv_list(radio.out("_hamlets.csv"))}[(hid, "all")]
    gaps = read_csv_rows(radio.gaps)[hid]
    row, col = grid.pixel(*metric(h.x, h.y))
    with checks() as check:
        check(who, "coverage: coverage_class", "none", cov["coverage_class"])
        check(who, "coverage: household_share_none", 1.0, num(cov["household_share_none"]))
        check(who, "coverage: status", "unserved", cov["status"])
        check(who, "coverage: best_rsrp_dbm empty below −115", None, num(cov["best_rsrp_dbm"]))
        check(who, "level raster at the hamlet: floor", FLOOR_4G, float(grid.level[row, col]))
        check(who, "server raster at the hamlet", -1, int(grid.server[row, col]))
        check(who, "gaps: share_hh_no_4g", 1.0, num(gaps["share_hh_no_4g"]))
        check(who, "gaps: NO_MOBILE_COVERAGE fires (> 0.20)", True, flag(gaps["no_mobile_flag"]))
        check(
            who,
            "gaps: WEAK_MOBILE_COVERAGE not with NO_MOBILE_COVERAGE",
            False,
            flag(gaps["weak_mobile_flag"]),
        )
        check(who, "gaps: main_flag", "NO_MOBILE_COVERAGE", gaps["main_flag"])
        check(
            who,
            "gaps: explanation (docs/GAPS.md example)",
            True,
            "100% of households without 4G signal" in gaps["explanation_en"],
        )


def test_2g_only_and_planned_sites_give_no_4g(radio: RadioRun) -> None:
    """A-PLAN stands between an active 2G site and a planned 4G site, 20 km from active 4G."""
    key = "A-PLAN"
    who, hid = radio.label(key), radio.ids.hamlet_id[key]
    cov = {(r["hamlet_id"], r["operator"]): r for r in read_csv_list(radio.out("_hamlets.csv"))}[(hid, "all")]
    gaps = read_csv_rows(radio.gaps)[hid]
    with checks() as check:
        check(who, "coverage_class (2G / planned are not 4G)", "none", cov["coverage_class"])
        check(who, "status", "unserved", cov["status"])
        check(who, "gaps: share_hh_no_4g", 1.0, num(gaps["share_hh_no_4g"]))
        check(who, "gaps: NO_MOBILE_COVERAGE", True, flag(gaps["no_mobile_flag"]))
        check(who, "gaps: good_4g_operators", set(), items(gaps["good_4g_operators"]))


def _expected_gaps(radio: RadioRun, signal: dict[str, ref.SignalExpectation]) -> dict[str, ref.GapResult]:
    out = {}
    for h in radio.scene.hamlets:
        e = signal[h.key]
        ftth, phone = SURVEY.get(h.key, SURVEY_DEFAULT)
        inputs = ref.GapInputs(
            radio.ids.hamlet_id[h.key],
            radio.ids.commune_id[h.commune],
            h.households,
            e.shares["good"],
            e.shares["none"],
            ref.reach_class(FIBRE_M.get(h.key, FIBRE_DEFAULT_M)),
            ftth,
            phone,
        )
        out[h.key] = ref.expected_gaps(inputs)
    return out


def test_gaps_signal_indicators_and_flags(
    radio: RadioRun, expected_signal: dict[str, ref.SignalExpectation]
) -> None:
    """docs/GAPS.md §3 + §5: shares from the coverage engine, every flag with value and threshold."""
    got_rows = read_csv_rows(radio.gaps)
    expected = _expected_gaps(radio, expected_signal)
    with checks() as check:
        for key, exp in expected.items():
            who, g = radio.label(key), got_rows[radio.ids.hamlet_id[key]]
            e = expected_signal[key]
            tol = _signal_tol(key)
            check(who, "signal_source", "coverage_engine", g["signal_source"])
            check(
                who,
                "share_hh_good_4g = household_share_good",
                e.shares["good"],
                num(g["share_hh_good_4g"]),
                tol=tol,
            )
            check(
                who,
                "share_hh_no_4g = household_share_none",
                e.shares["none"],
                num(g["share_hh_no_4g"]),
                tol=tol,
            )
            check(
                who,
                "good_4g_operators (good on part of the footprint)",
                e.good_operators,
                items(g["good_4g_operators"]),
            )
            ftth, phone = SURVEY.get(key, SURVEY_DEFAULT)
            distance = FIBRE_M.get(key, FIBRE_DEFAULT_M)
            values = {
                "no_mobile": (e.shares["none"], ref.NO_MOBILE_MAX_SHARE_NO_4G, tol),
                "weak_mobile": (e.shares["good"], ref.WEAK_MOBILE_MIN_SHARE_GOOD_4G, tol),
                "no_fibre": (distance, ref.DROP_REACH_M, 0.5),
                "low_ftth": (ftth, ref.FTTH_MIN_SHARE, 1e-9),
                "low_smartphone": (phone, ref.SMARTPHONE_MIN_SHARE, 1e-9),
            }
            for fk, (value, threshold, vtol) in values.items():
                name = ref.FLAG_NAMES[fk]
                check(who, f"{name} fires", exp.flags[fk], flag(g[f"{fk}_flag"]))
                check(who, f"{name} value", value, num(g[f"{fk}_value"]), tol=vtol)
                check(who, f"{name} threshold", threshold, num(g[f"{fk}_threshold"]))
            check(who, "fibre_reach_class", ref.reach_class(distance), g["fibre_reach_class"])
            check(who, "survey_level", "none" if ftth is None else "hamlet", g["survey_level"])


def test_fractional_shares_fall_on_the_documented_side(radio: RadioRun) -> None:
    """share_hh_no_4g ≈ 0.10 does not fire NO_MOBILE (> 0.20), ≈ 0.40 does; share_hh_good_4g ≈ 0.90
    does not fire WEAK (< 0.80), ≈ 0.60 does."""
    g = read_csv_rows(radio.gaps)
    cases = (
        ("A-NONE10", "no_mobile", "share_hh_no_4g", False),
        ("A-NONE40", "no_mobile", "share_hh_no_4g", True),
        ("A-GOOD90", "weak_mobile", "share_hh_good_4g", False),
        ("A-GOOD60", "weak_mobile", "share_hh_good_4g", True),
    )
    with checks() as check:
        for key, fk, column, fires in cases:
            row = g[radio.ids.hamlet_id[key]]
            check(
                radio.label(key),
                f"{column} near {FRACTIONAL[key]}",
                FRACTIONAL[key],
                num(row[column]),
                tol=0.03,
            )
            check(radio.label(key), f"{ref.FLAG_NAMES[fk]} fires", fires, flag(row[f"{fk}_flag"]))


def test_operator_aliases_in_outputs(radio: RadioRun) -> None:
    """Aliases "VTL" / "Mobifone" / "VNPT" (sites.csv, fibre/nodes) come out as Viettel / MobiFone /
    VinaPhone (docs/DATA.md towers/sites.csv `operator`)."""
    g = read_csv_rows(radio.gaps)
    cov = {(r["hamlet_id"], r["operator"]): r for r in read_csv_list(radio.out("_hamlets.csv"))}
    with checks() as check:
        for key, op in (("A-GOOD", "Viettel"), ("A-SEC-BORE", "MobiFone")):
            hid = radio.ids.hamlet_id[key]
            check(radio.label(key), "good_4g_operators", {op}, items(g[hid]["good_4g_operators"]))
            check(radio.label(key), "best_operator", op, cov[(hid, "all")]["best_operator"])
        nodes = {n.node_id: n.operator for n in radio.scene.nodes}
        canonical = {"VNPT": "VinaPhone", "VTL": "Viettel", "Mobifone": "MobiFone", "Viettel": "Viettel"}
        for key, hid in radio.ids.hamlet_id.items():
            node = g[hid]["fibre_node_id"]
            if node:
                check(
                    radio.label(key),
                    f"fibre_operator of {node} ({nodes[node]})",
                    canonical[nodes[node]],
                    g[hid]["fibre_operator"],
                )


def test_priority_main_flag_and_ranks(
    radio: RadioRun, expected_signal: dict[str, ref.SignalExpectation]
) -> None:
    """Priority = Σ households affected × severity; affected = the largest of any fired flag; main
    flag = largest contribution; ranks by priority, then households, then hamlet_id."""
    got_rows = read_csv_rows(radio.gaps)
    expected = _expected_gaps(radio, expected_signal)
    households = {h.key: h.households for h in radio.scene.hamlets}
    tol = {k: (households[k] * SHARE_TOL if k in FRACTIONAL else 0.0) + 0.05 for k in expected}
    order = sorted(expected, key=lambda k: -expected[k].priority)
    for a, b in zip(order, order[1:], strict=False):  # the scene keeps ranks away from the tolerances
        gap = expected[a].priority - expected[b].priority
        assert gap == 0 or gap > tol[a] + tol[b], f"scene error: {a} and {b} priorities too close"
    want_ranks = ref.ranks(
        [
            (
                radio.ids.hamlet_id[k],
                radio.ids.commune_id[radio.scene.hamlet(k).commune],
                e.priority,
                households[k],
            )
            for k, e in expected.items()
        ]
    )
    with checks() as check:
        for key, exp in expected.items():
            who, g = radio.label(key), got_rows[radio.ids.hamlet_id[key]]
            check(who, "flags", exp.fired, items(g["flags"]))
            check(who, "n_flags", len(exp.fired), int(num(g["n_flags"]) or 0))
            check(who, "main_flag", exp.main_flag, text(g["main_flag"]))
            check(who, "priority_score", round(exp.priority, 3), num(g["priority_score"]), tol=tol[key])
            check(
                who,
                "affected_households",
                round(exp.affected_households, 3),
                num(g["affected_households"]),
                tol=tol[key],
            )
            province, commune = want_ranks[radio.ids.hamlet_id[key]]
            check(who, "rank_province", province, int(num(g["rank_province"]) or 0))
            check(who, "rank_commune", commune, int(num(g["rank_commune"]) or 0))
            operators = any(exp.flags[f] for f in ("no_mobile", "weak_mobile", "no_fibre"))
            community = any(exp.flags[f] for f in ("low_ftth", "low_smartphone"))
            check(who, "operator_action (who can act)", operators, flag(g["operator_action"]))
            check(who, "community_action (who can act)", community, flag(g["community_action"]))
            check(
                who,
                "explanation starts with the hamlet name",
                True,
                g["explanation_en"].startswith(radio.scene.hamlet(key).name + ":"),
            )
