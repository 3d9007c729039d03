"""Scenario benchmark: incremental coverage updates on the bundled province; prints figures, asserts nothing.

On a data package (default ``data/``), all operators, 25 m grid:

a. baseline: full 4G coverage (``compute_coverage_by_operator``, the CLI path) and its statistics;
b. one 3-sector 4G site added at the hamlet with the lowest median class ("all" operators, then the
   largest share of households in class none), for the operator worst there:
   ``update_coverage_by_operator`` + ``update_statistics``, the window in pixels and as a share of
   the grid;
c. every 2G cell removed: 2G is a technology raster of its own, so no 4G (or 3G) recompute is
   needed. The 2G-off "any technology" class (the best class of 3G and 4G per pixel) is obtained
   from the existing 3G and 4G rasters; the time of that step is given (the 2G, 3G and 4G base
   computations are timed for reference);
d. one 4G site moved by 400 m: update and statistics as in b.

``--verify`` also recomputes b and d in full and prints whether the updates are bit-identical.

Usage::

    .venv/bin/python bench/bench_scenario.py [--data DIR] [--resolution 25] [--verify]

Timings depend on the machine and on what else runs on it; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from analysis.coverage import (  # noqa: E402
    OperatorCoverage,
    Scene,
    build_scene,
    classify_rsrp,
    compute_coverage_by_operator,
)
from analysis.coverage_params import CLASS_NAMES, CoverageParams, default_coverage_params  # noqa: E402
from analysis.coverage_stats import (  # noqa: E402
    CoverageStats,
    StatisticsInputs,
    coverage_statistics,
    prepare_statistics,
)
from analysis.coverage_update import affected_units, update_coverage_by_operator, update_statistics  # noqa: E402


def _header() -> None:
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other processes share the CPUs; wall times include their interference)"
    )


def _timed(fn):
    """Wall seconds and result of ``fn()``; the CPU seconds of the call accumulate in ``_CPU_S``."""
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = fn()
    _CPU_S.append(time.process_time() - cpu0)
    return time.perf_counter() - t0, result


_CPU_S: list[float] = []


def _cpu() -> float:
    """CPU seconds (all threads) of the last timed call."""
    return _CPU_S[-1]


def _same(a: OperatorCoverage, b: OperatorCoverage) -> bool:
    arrays = all(
        np.array_equal(getattr(a.combined, n), getattr(b.combined, n))
        for n in ("rsrp_dbm", "server", "server_count")
    )
    classes = list(a.classes_by_operator) == list(b.classes_by_operator) and all(
        np.array_equal(a.classes_by_operator[op], b.classes_by_operator[op]) for op in b.classes_by_operator
    )
    return arrays and classes and a.combined.cells.equals(b.combined.cells)


class _Bench:
    """The package, scene, base coverage and statistics shared by the scenarios."""

    def __init__(self, data: Path, resolution_m: float, verify: bool) -> None:
        from geo.package import load_package

        self.verify = verify
        self.params: CoverageParams = default_coverage_params().with_overrides(resolution_m=resolution_m)
        t0 = time.perf_counter()
        self.package = load_package(data)
        self.scene: Scene = build_scene(
            self.package.communes, self.package.metric_crs, resolution_m=resolution_m, params=self.params
        )
        self.prepared: StatisticsInputs = prepare_statistics(
            self.scene, self.package.hamlets, params=self.params
        )
        grid = self.scene.grid
        self.grid_px = grid.width * grid.height
        print(
            f"== {data}: grid {grid.width} x {grid.height} px at {resolution_m:g} m ({self.grid_px:,} px, "
            f"{int(self.scene.inside.sum()):,} inside); package, scene and statistics inputs "
            f"{time.perf_counter() - t0:.2f} s"
        )
        self.coverage(self.package.cells)  # loads the cached compiled kernel
        self.full_s, self.base = _timed(lambda: self.coverage(self.package.cells))
        full_cpu = _cpu()
        self.stats_s, self.stats = _timed(lambda: self.statistics(self.base))
        n_cells, n_ops = len(self.base.combined.cells), len(self.base.classes_by_operator)
        print(
            f"(a) baseline, full 4G coverage ({n_cells:,} cells, {n_ops} operators): "
            f"{self.full_s:.2f} s wall, {full_cpu:.2f} s CPU; full statistics {self.stats_s:.2f} s"
        )

    def coverage(self, cells: gpd.GeoDataFrame, technology: str = "4G") -> OperatorCoverage:
        return compute_coverage_by_operator(self.scene, cells, technology=technology, params=self.params)

    def statistics(self, coverage: OperatorCoverage) -> CoverageStats:
        return coverage_statistics(
            self.scene, coverage, self.package.hamlets, params=self.params, prepared=self.prepared
        )

    def update(self, label: str, cells_after: gpd.GeoDataFrame) -> None:
        """Time the coverage and statistics updates to ``cells_after`` and print the figures."""
        cov_s, update = _timed(
            lambda: update_coverage_by_operator(
                self.scene, self.base, cells_after, technology="4G", params=self.params
            )
        )
        cov_cpu = _cpu()
        stats_s, _ = _timed(
            lambda: update_statistics(
                self.scene, self.stats, update, prepared=self.prepared, params=self.params
            )
        )
        hamlets, communes = affected_units(self.scene, self.prepared, update.windows)
        shape = ", ".join(f"{w[0].stop - w[0].start} x {w[1].stop - w[1].start}" for w in update.windows)
        print(
            f"{label}: update {cov_s:.3f} s ({cov_cpu:.2f} s CPU) + statistics {stats_s:.3f} s = "
            f"{cov_s + stats_s:.3f} s "
            f"(full: {self.full_s:.2f} s + {self.stats_s:.2f} s); {len(update.windows)} window(s) [{shape}] "
            f"{update.window_px:,} px = {update.window_px / self.grid_px:.2%} of the grid; "
            f"{len(update.changed_cell_ids)} changed cells; {len(hamlets)} hamlets and {len(communes)} "
            "communes recomputed"
        )
        if self.verify:
            full = self.coverage(cells_after)
            stats = self.statistics(full)
            got = update_statistics(
                self.scene, self.stats, update, prepared=self.prepared, params=self.params
            )
            same_stats = got.communes.equals(stats.communes) and got.hamlets.equals(stats.hamlets)
            same = _same(update.coverage, full)
            print(f"    bit-identical to a full recompute: coverage {same}, statistics {same_stats}")


def _worst_hamlet(stats: CoverageStats) -> pd.Series:
    """The "all" row of the hamlet with the lowest median class (then the most households in none)."""
    rows = stats.hamlets[
        (stats.hamlets["operator"] == "all") & (stats.hamlets["coverage_class"] != "outside")
    ]
    code = rows["coverage_class"].map(CLASS_NAMES.index)
    order = pd.DataFrame({"code": code, "none": -rows["household_share_none"]}).sort_values(["code", "none"])
    return rows.loc[order.index[0]]


def _new_site(bench: _Bench, hamlet: pd.Series) -> gpd.GeoDataFrame:
    """Three 4G sectors (1800 MHz, 35 m, 59 dBm, 15 MHz) at the hamlet's point, for the operator
    whose median class is lowest there."""
    per_op = bench.stats.hamlets[
        (bench.stats.hamlets["hamlet_id"] == hamlet["hamlet_id"]) & (bench.stats.hamlets["operator"] != "all")
    ]
    operator = str(
        per_op.assign(code=per_op["coverage_class"].map(CLASS_NAMES.index))
        .sort_values("code")
        .iloc[0]["operator"]
    )
    point = gpd.GeoSeries([hamlet.geometry], crs=4326).representative_point().iloc[0]
    cells = bench.package.cells
    rows = []
    for k in range(3):
        row = {c: np.nan for c in cells.columns if c != "geometry"}
        row.update(
            site_id="BENCH-SITE",
            cell_id=f"BENCH-SITE-L18-{k + 1}",
            operator=operator,
            lat=point.y,
            lon=point.x,
            height_m=35.0,
            status="active",
            technology="4G",
            band_mhz=1800.0,
            azimuth_deg=120.0 * k,
            beamwidth_deg=65.0,
            eirp_dbm=59.0,
            bandwidth_mhz=15.0,
            source="bench",
        )
        rows.append(row)
    new = gpd.GeoDataFrame(rows, geometry=[Point(point.x, point.y)] * 3, crs=cells.crs)
    print(f"    site of {operator} at hamlet {hamlet['hamlet_id']} (median class {hamlet['coverage_class']})")
    return pd.concat([cells, new], ignore_index=True)


def _moved_site(bench: _Bench, seed: int = 20261206) -> gpd.GeoDataFrame:
    """One 4G site (every cell of it) moved 400 m east."""
    cells = bench.package.cells
    sites = sorted(set(cells.loc[(cells["technology"] == "4G") & (cells["status"] == "active"), "site_id"]))
    site = sites[int(np.random.default_rng(seed).integers(len(sites)))]
    out = cells.copy()
    mine = out["site_id"] == site
    metric = out.loc[mine].geometry.to_crs(bench.package.metric_crs).translate(xoff=400.0)
    moved = metric.to_crs(cells.crs)
    out.loc[mine, "geometry"] = moved
    out.loc[mine, "lon"] = moved.x
    out.loc[mine, "lat"] = moved.y
    n_4g = int((mine & (cells["technology"] == "4G")).sum())
    print(f"    site {site}: {int(mine.sum())} cells, {n_4g} of them 4G")
    return out


def bench_two_g_off(bench: _Bench) -> None:
    """Every 2G cell removed: the 'any technology' class without 2G from the 3G and 4G rasters."""
    cells = bench.package.cells
    classes = {"4G": bench.base}
    for tech in ("3G", "2G"):
        seconds, classes[tech] = _timed(lambda tech=tech: bench.coverage(cells, tech))
        print(f"    (reference) full {tech} coverage: {seconds:.2f} s")
    per_tech = {
        tech: classify_rsrp(result.combined.rsrp_dbm, bench.params.tech(tech))
        for tech, result in classes.items()
    }
    with_2g = np.maximum.reduce([per_tech["2G"], per_tech["3G"], per_tech["4G"]])
    seconds, without = _timed(lambda: np.maximum(per_tech["3G"], per_tech["4G"]))
    inside = bench.scene.inside
    lost = int((without[inside] < with_2g[inside]).sum())
    n_2g = int((cells["technology"] == "2G").sum())
    print(
        f"(c) all {n_2g:,} 2G cells removed: no 4G or 3G recompute (2G is its own raster; the 2G-off "
        f"'any technology' class is the best of the existing 3G and 4G classes): {seconds * 1000:.0f} ms; "
        f"{lost:,} pixels ({lost / max(int(inside.sum()), 1):.2%} of the province) lose a class"
    )


def bench_scenarios(data: Path, hamlet: pd.Series, site_cells: gpd.GeoDataFrame) -> None:
    """The issue's figures, end to end through analysis.scenario: one added site -> coverage, flags
    and KPIs (target <= 1 s of compute); a 2G switch-off of the whole province (target <= 5 s)."""
    from analysis.params import default_gap_params
    from analysis.scenario.evaluate import compute_baseline, evaluate_scenario
    from analysis.scenario.model import Scenario, SwitchOff
    from geo.package import load_package

    pkg = load_package(data)
    seconds, base = _timed(lambda: compute_baseline(pkg, default_gap_params()))
    print(
        "(e) scenario baseline (coverage, statistics, fibre, gaps, KPIs; once per data version): "
        f"{seconds:.2f} s"
    )
    added = site_cells[site_cells["site_id"] == "BENCH-SITE"].drop(
        columns=["former_commune_code", "former_commune_name"], errors="ignore"
    )
    site = Scenario(
        name="bench site", base_version=pkg.version, added_sites=gpd.GeoDataFrame(added, crs=site_cells.crs)
    )
    for run in range(2):
        seconds, result = _timed(lambda: evaluate_scenario(base, site))
        parts = ", ".join(f"{k} {v:.2f}" for k, v in result.timings_s.items())
        gained = result.summary["households_gained_good_4g"]
        print(
            f"    one added site, run {run + 1}: {seconds:.2f} s ({parts}); "
            f"{gained:,.1f} households gained good 4G"
        )
    seconds, _ = _timed(base.technology_coverage)
    print(f"    2G and 3G coverage of the baseline (first switch-off only, then kept): {seconds:.2f} s")
    off = Scenario(name="2G off", base_version=pkg.version, switch_off=SwitchOff(("2G",)))
    seconds, result = _timed(lambda: evaluate_scenario(base, off))
    s = result.summary
    print(
        f"    2G off, whole province: {seconds:.2f} s after that "
        f"({s['households_lose_all_service']:,.1f} households in {s['hamlets_lose_all_service']} hamlets "
        f"lose all service; {s['households_drop_to_weak']:,.1f} drop to weak)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="data package (default data/)")
    parser.add_argument("--resolution", type=float, default=25.0, help="metres (default 25)")
    parser.add_argument("--verify", action="store_true", help="also compare b and d with full recomputes")
    args = parser.parse_args(argv)
    _header()
    bench = _Bench(args.data, args.resolution, args.verify)
    hamlet = _worst_hamlet(bench.stats)
    with_site = _new_site(bench, hamlet)
    bench.update("(b) one 3-sector 4G site at the worst hamlet", with_site)
    bench_two_g_off(bench)
    bench.update("(d) one 4G site moved 400 m", _moved_site(bench))
    bench_scenarios(args.data, hamlet, with_site)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
