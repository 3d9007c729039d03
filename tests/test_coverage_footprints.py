"""Hamlet settlement footprints and fractional household shares per coverage class."""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from rasterio import features
from shapely.geometry import MultiPolygon, Point, Polygon, box

from analysis.coverage import NODATA_RSRP, CoverageRaster, OperatorCoverage, build_scene, classify_rsrp
from analysis.coverage_params import CoverageParams, coverage_params_from_mapping, default_coverage_params
from analysis.coverage_stats import coverage_statistics, footprint_class_shares
from analysis.gaps import signal_from_coverage_stats
from analysis.hamlet_areas import hamlet_footprints
from geo.errors import ParameterError, SchemaError

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 600_000.0, 1_100_000.0
RES = 10.0
R = 500.0  # settlement radius of the tests, m
EDGE_X = X0 + 2_000.0  # coverage edge: good west of it, none east of it


def _segment_share(d_m: float, r_m: float) -> float:
    """Share of a disc of radius r beyond a chord at distance d from its centre."""
    segment = r_m**2 * math.acos(d_m / r_m) - d_m * math.sqrt(r_m**2 - d_m**2)
    return segment / (math.pi * r_m**2)


def _communes() -> gpd.GeoDataFrame:
    """Commune A (4 x 4 km) and commune B east of it (2 x 4 km)."""
    return gpd.GeoDataFrame(
        {
            "commune_id": ["A", "B"],
            "commune_name": ["Xã A", "Xã B"],
            "commune_type": ["xã", "xã"],
            "households": [1000, 500],
        },
        geometry=[box(X0, Y0, X0 + 4_000, Y0 + 4_000), box(X0 + 4_000, Y0, X0 + 6_000, Y0 + 4_000)],
        crs=CRS,
    )


def _hamlets(points: list[tuple[str, str, float, float]], households: list[int] | None = None):
    hh = households or [100] * len(points)
    return gpd.GeoDataFrame(
        {
            "hamlet_id": [p[0] for p in points],
            "hamlet_name": [f"Ấp {p[0]}" for p in points],
            "commune_id": [p[1] for p in points],
            "households": hh,
        },
        geometry=[Point(p[2], p[3]) for p in points],
        crs=CRS,
    )


def _fp(hamlets, radius_m: float = R) -> gpd.GeoSeries:
    return hamlet_footprints(hamlets, _communes(), radius_m=radius_m, metric_crs=CRS)


# ------------------------------------------------------------------------------------ footprints


def test_hamlet_alone_in_commune_gets_its_disc():
    fp = _fp(_hamlets([("h", "A", X0 + 2_000, Y0 + 2_000)]))
    assert fp.crs == CRS and fp.index.tolist() == [0]
    assert fp.iloc[0].area == pytest.approx(math.pi * R**2, rel=0.005)
    assert fp.iloc[0].contains(Point(X0 + 2_000 + 0.99 * R, Y0 + 2_000))


def test_voronoi_split_between_two_hamlets_of_one_commune():
    fp = _fp(_hamlets([("w", "A", X0 + 1_700, Y0 + 2_000), ("e", "A", X0 + 2_300, Y0 + 2_000)]))
    west, east = fp.iloc[0], fp.iloc[1]
    assert west.intersection(east).area == pytest.approx(0.0, abs=1e-6)
    # the split is the perpendicular bisector x = X0 + 2000
    assert west.bounds[2] == pytest.approx(X0 + 2_000) and east.bounds[0] == pytest.approx(X0 + 2_000)
    # each keeps its disc less the part beyond the bisector, 300 m from its point
    expected = math.pi * R**2 * (1 - _segment_share(300.0, R))
    assert west.area == pytest.approx(expected, rel=0.005) and east.area == pytest.approx(west.area)


def test_hamlets_of_other_communes_do_not_split_a_footprint():
    # B's hamlet is 200 m away but in another commune: only the commune boundary cuts A's disc
    fp = _fp(_hamlets([("a", "A", X0 + 3_700, Y0 + 2_000), ("b", "B", X0 + 4_100, Y0 + 2_000)]))
    assert fp.iloc[0].bounds[2] == pytest.approx(X0 + 4_000)
    assert fp.iloc[0].area == pytest.approx(math.pi * R**2 * (1 - _segment_share(300.0, R)), rel=0.005)
    assert fp.iloc[1].bounds[0] == pytest.approx(X0 + 4_000)


def test_footprint_clipped_by_commune_boundary():
    fp = _fp(_hamlets([("h", "A", X0 + 200, Y0 + 2_000)]))
    assert fp.iloc[0].bounds[0] == pytest.approx(X0)
    assert fp.iloc[0].area == pytest.approx(math.pi * R**2 * (1 - _segment_share(200.0, R)), rel=0.005)


def test_fallbacks_outside_commune_unknown_commune_duplicates_and_polygons():
    bowtie = Polygon([(X0 + 100, Y0 + 100), (X0 + 300, Y0 + 300), (X0 + 300, Y0 + 100), (X0 + 100, Y0 + 300)])
    hamlets = gpd.GeoDataFrame(
        {
            "hamlet_id": ["out", "unk", "d1", "d2", "poly", "bow", "none"],
            "commune_id": ["A", "Z", "B", "B", "A", "A", "A"],
            "households": [1] * 7,
        },
        geometry=[
            Point(X0 - 100, Y0 + 2_000),  # 100 m west of commune A
            Point(X0 + 3_000, Y0 + 3_000),
            Point(X0 + 5_000, Y0 + 2_000),
            Point(X0 + 5_000, Y0 + 2_000),
            box(X0 + 1_000, Y0 + 1_000, X0 + 1_500, Y0 + 1_200),
            bowtie,
            None,
        ],
        crs=CRS,
    )
    fp = _fp(hamlets)
    disc = math.pi * R**2
    assert fp.iloc[0].area == pytest.approx(disc, rel=0.005)  # not clipped: it lies outside
    assert fp.iloc[1].area == pytest.approx(disc, rel=0.005)  # unknown commune: the disc
    assert fp.iloc[2].equals(fp.iloc[3]) and fp.iloc[2].area == pytest.approx(disc, rel=0.005)
    assert fp.iloc[4].equals(hamlets.geometry.iloc[4])
    assert fp.iloc[5].is_valid and fp.iloc[5].area == pytest.approx(200 * 200 / 2)
    assert fp.iloc[6] is None


def test_footprints_in_other_crs_and_bad_arguments():
    hamlets = _hamlets([("h", "A", X0 + 2_000, Y0 + 2_000)]).to_crs(4326)
    fp = hamlet_footprints(hamlets, _communes().to_crs(4326), radius_m=R, metric_crs=32648)
    assert fp.crs.to_epsg() == 32648 and fp.iloc[0].area == pytest.approx(math.pi * R**2, rel=0.005)
    with pytest.raises(ParameterError, match="radius"):
        hamlet_footprints(hamlets, _communes(), radius_m=0.0, metric_crs=CRS)
    with pytest.raises(ParameterError, match="projected"):
        hamlet_footprints(hamlets, _communes(), radius_m=R, metric_crs=4326)
    with pytest.raises(SchemaError, match="commune_id"):
        hamlet_footprints(hamlets.drop(columns="commune_id"), _communes(), radius_m=R, metric_crs=CRS)


def test_radius_is_configured_and_validated():
    assert default_coverage_params().statistics.hamlet_radius_m == 700.0
    with pytest.raises(ParameterError, match="hamlet_radius_m"):
        coverage_params_from_mapping({"statistics": {"hamlet_radius_m": 5.0}})


# ------------------------------------------------------------------------- fractional shares


@pytest.fixture(scope="module")
def params() -> CoverageParams:
    base = default_coverage_params().with_overrides(resolution_m=RES)
    return base.with_overrides(statistics=dataclasses.replace(base.statistics, hamlet_radius_m=R))


@pytest.fixture(scope="module")
def edge_coverage(params):
    """Scene with a synthetic 4G coverage edge: good (-90 dBm) west of EDGE_X, none (-120) east."""
    scene = build_scene(_communes(), CRS, resolution_m=RES, params=params)
    x, _ = scene.grid.centres(*np.indices(scene.grid.shape))
    rsrp = np.where(x < EDGE_X, -90.0, -120.0).astype(np.float32)
    rsrp[~scene.inside] = NODATA_RSRP
    values = {
        "grid": scene.grid,
        "technology": "4G",
        "operator": None,
        "rsrp_dbm": rsrp,
        "server": np.where(scene.inside, np.where(x < EDGE_X, 0, -1), -2).astype(np.int32),
        "server_count": np.where(x < EDGE_X, 1, 0).astype(np.uint8),
        "cells": pd.DataFrame({"cell_id": ["C0"], "operator": ["Viettel"]}),
        "floor_dbm": -115.0,
        "count_threshold_dbm": -105.0,
        "evaluations": 0,
        "compute_s": 0.0,
    }
    combined = CoverageRaster(**{f.name: values[f.name] for f in dataclasses.fields(CoverageRaster)})
    classes = classify_rsrp(rsrp, params.tech("4G"))
    return scene, OperatorCoverage(combined, {"Viettel": classes})


def _all_rows(stats):
    return stats.hamlets[stats.hamlets["operator"] == "all"].set_index("hamlet_id")


@pytest.mark.parametrize("offset_m", [-300.0, 150.0])
def test_hamlet_straddling_an_edge_gets_the_area_fraction(edge_coverage, params, offset_m):
    scene, cov = edge_coverage
    hamlets = _hamlets([("h", "A", EDGE_X + offset_m, Y0 + 2_000)])
    row = _all_rows(coverage_statistics(scene, cov, hamlets, params=params)).loc["h"]
    beyond = _segment_share(abs(offset_m), R)  # the part on the other side of the edge
    expected_good = 1 - beyond if offset_m < 0 else beyond
    # pixel-centre sampling of a 500 m disc at 10 m: error well below one pixel row (10 m x 1 km)
    assert row["household_share_good"] == pytest.approx(expected_good, abs=0.01)
    assert row["household_share_none"] == pytest.approx(1 - expected_good, abs=0.01)
    assert row["household_share_poor"] == 0 and row["household_share_fair"] == 0
    assert 0 < row["household_share_good"] < 1
    assert row["coverage_class"] == ("good" if expected_good >= 0.5 else "none")
    assert row["footprint_km2"] == pytest.approx(math.pi * R**2 / 1e6, rel=0.005)


def test_voronoi_split_across_the_edge_and_commune_household_shares(edge_coverage, params):
    scene, cov = edge_coverage
    hamlets = _hamlets(
        [("w", "A", EDGE_X - 250, Y0 + 2_000), ("e", "A", EDGE_X + 250, Y0 + 2_000)], households=[100, 300]
    )
    stats = coverage_statistics(scene, cov, hamlets, params=params)
    ham = _all_rows(stats)
    # the bisector of the two points is the coverage edge: each hamlet is entirely on one side
    assert ham.loc["w", "household_share_good"] == pytest.approx(1.0)
    assert ham.loc["e", "household_share_none"] == pytest.approx(1.0)
    assert ham.loc["w", "status"] == "served" and ham.loc["e", "status"] == "unserved"
    com = stats.communes.set_index(["commune_id", "operator"])
    assert com.loc[("A", "all"), "household_share_good"] == pytest.approx(100 / 400)
    assert com.loc[("A", "Viettel"), "household_share_none"] == pytest.approx(300 / 400)


def test_overlapping_footprints_both_count_the_overlap(edge_coverage, params):
    scene, cov = edge_coverage
    # two hamlets at one point share one footprint; a third overlaps them from outside commune A
    hamlets = _hamlets(
        [
            ("d1", "A", EDGE_X + 150, Y0 + 2_000),
            ("d2", "A", EDGE_X + 150, Y0 + 2_000),
            ("x", "Z", EDGE_X + 150, Y0 + 2_000),
        ]
    )
    ham = _all_rows(coverage_statistics(scene, cov, hamlets, params=params))
    expected = _segment_share(150.0, R)
    for hid in ("d1", "d2", "x"):
        assert ham.loc[hid, "household_share_good"] == pytest.approx(expected, abs=0.01)


def test_household_shares_follow_population_raster(edge_coverage, params):
    scene, cov = edge_coverage
    hamlets = _hamlets([("h", "A", EDGE_X - 200, Y0 + 2_000), ("q", "A", X0 + 600, Y0 + 600)])
    x, _ = scene.grid.centres(*np.indices(scene.grid.shape))
    population = np.where((x > EDGE_X) & (x < EDGE_X + 100), 5.0, 0.0)  # h's people live east of the edge
    uniform = _all_rows(coverage_statistics(scene, cov, hamlets, params=params))
    weighted = _all_rows(coverage_statistics(scene, cov, hamlets, params=params, population=population))
    assert uniform.loc["h", "household_share_good"] == pytest.approx(1 - _segment_share(200, R), abs=0.01)
    assert weighted.loc["h", "household_share_none"] == pytest.approx(1.0)
    assert weighted.loc["h", "coverage_class"] == "none" and uniform.loc["h", "coverage_class"] == "good"
    # no population in q's footprint: households spread uniformly (all good there)
    assert weighted.loc["q", "household_share_good"] == pytest.approx(1.0)


def test_signal_adapter_passes_fractional_shares(edge_coverage, params):
    scene, cov = edge_coverage
    hamlets = _hamlets([("h", "A", EDGE_X + 150, Y0 + 2_000), ("q", "A", X0 + 600, Y0 + 600)])
    stats = coverage_statistics(scene, cov, hamlets, params=params)
    sig = signal_from_coverage_stats(stats.hamlets)
    good = _segment_share(150.0, R)
    assert sig.loc["h", "share_hh_good_4g"] == pytest.approx(good, abs=0.01)
    assert sig.loc["h", "share_hh_no_4g"] == pytest.approx(1 - good, abs=0.01)
    assert sig.loc["h", "good_4g_operators"] == "Viettel"  # good on part of the hamlet
    assert sig.loc["q", "share_hh_good_4g"] == 1.0 and sig.loc["q", "share_hh_no_4g"] == 0.0


def test_stacked_overlapping_footprints_each_count_all_their_pixels(edge_coverage):
    """Footprints overlapping in several layers (a chain of discs, duplicates, a multi-polygon, a
    polygon with a hole) each get the class shares of all the pixel centres they hold, as if
    rasterised alone; a footprint smaller than a pixel falls back to its anchor's pixel."""
    scene, _ = edge_coverage
    grid = scene.grid
    rng = np.random.default_rng(7)
    classes = rng.integers(0, 4, size=grid.shape).astype(np.uint8)
    cx, cy = X0 + 2_000.0, Y0 + 2_000.0
    chain = [Point(cx + 120.0 * i, cy + 37.0 * (i % 3)).buffer(300.0) for i in range(6)]
    ring = Point(cx, cy).buffer(600.0).difference(Point(cx, cy).buffer(200.0))
    multi = MultiPolygon(
        [box(cx - 400, cy - 400, cx - 100, cy - 100), box(cx + 100, cy + 100, cx + 300, cy + 300)]
    )
    tiny = box(cx + 1.0, cy + 1.0, cx + 2.0, cy + 2.0)
    geoms = [*chain, chain[2], ring, multi, None, tiny, chain[0]]
    footprints = gpd.GeoSeries(geoms, crs=CRS)
    anchors = np.array([[cx, cy]] * len(geoms))
    anchors[geoms.index(None)] = np.nan  # missing footprint and point: no pixel
    shares = footprint_class_shares(footprints, grid, {"k": classes}, anchors_xy=anchors)["k"]
    for k, geom in enumerate(geoms):
        if geom is None:
            assert np.isnan(shares[k]).all()
            continue
        mask = features.rasterize([(geom, 1)], out_shape=grid.shape, transform=grid.transform, fill=0)
        values = classes[mask.astype(bool)]
        if geom is tiny:
            assert values.size == 0
            row, col = grid.rowcol(np.array([cx]), np.array([cy]))
            values = classes[row, col]
        expected = np.bincount(values, minlength=4) / values.size
        np.testing.assert_array_equal(shares[k], expected)


@pytest.mark.parametrize("with_population", [False, True])
def test_compiled_histograms_and_prepared_inputs_give_the_same_tables(
    edge_coverage, params, monkeypatch, with_population
):
    """The compiled class histograms equal the numpy path, and statistics from inputs prepared in
    advance (as the CLI does while the engine runs) equal those computed in one go."""
    import analysis.coverage_stats as stats_module
    from analysis.coverage_stats import prepare_statistics

    scene, cov = edge_coverage
    rng = np.random.default_rng(5)
    classes = rng.integers(0, 4, size=scene.grid.shape).astype(np.uint8)
    classes[~scene.inside] = 255
    cov = OperatorCoverage(cov.combined, {"Viettel": classes, "MobiFone": 3 - classes % 4})
    hamlets = _hamlets(
        [
            ("h", "A", EDGE_X - 200, Y0 + 2_000),
            ("q", "A", X0 + 600, Y0 + 600),
            ("b", "B", X0 + 5_000, Y0 + 900),
        ]
    )
    x, _ = scene.grid.centres(*np.indices(scene.grid.shape))
    population = np.where(x > EDGE_X, 3.0, 1.0) if with_population else None
    compiled = coverage_statistics(scene, cov, hamlets, params=params, population=population)
    prepared = prepare_statistics(scene, hamlets, params=params)
    again = coverage_statistics(scene, cov, hamlets, params=params, population=population, prepared=prepared)
    monkeypatch.setattr(stats_module, "_compiled_counts", lambda: None)
    plain = coverage_statistics(scene, cov, hamlets, params=params, population=population)
    for other in (again, plain):
        pd.testing.assert_frame_equal(pd.DataFrame(other.communes), pd.DataFrame(compiled.communes))
        pd.testing.assert_frame_equal(pd.DataFrame(other.hamlets), pd.DataFrame(compiled.hamlets))


def test_prepare_statistics_checks_hamlet_columns(edge_coverage, params):
    from analysis.coverage_stats import prepare_statistics

    scene, _ = edge_coverage
    with pytest.raises(SchemaError, match="households"):
        prepare_statistics(
            scene, _hamlets([("h", "A", X0 + 100, Y0 + 100)]).drop(columns="households"), params=params
        )
