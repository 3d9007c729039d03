"""``python -m analysis coverage DATA_DIR --out FILE.tif``: coverage rasters and statistics.

Writes, next to ``FILE.tif`` (all Cloud-Optimized GeoTIFFs in the package's metric CRS):

* ``FILE.tif``           best-server level, float32 dBm (RSRP for 4G/5G, RSCP 3G, RxLev 2G);
* ``FILE_server.tif``    best-server index, int32 (rows of ``FILE_cells.csv``; -1 none);
* ``FILE_count.tif``     number of servers at or above the server-count class, uint8;
* ``FILE_cells.csv``     the evaluated cells, in index order;
* ``FILE_communes.csv``, ``FILE_hamlets.csv`` and ``FILE_stats.gpkg`` (layers ``communes``,
  ``hamlets``, ``hamlet_footprints``): shares per class per commune / hamlet and operator, hamlet
  status, and the settlement footprint each hamlet's household shares were computed over.

Exit 0 on success, 2 on bad arguments or bad data (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analysis.coverage_params import (
    TECHNOLOGIES,
    CoverageParams,
    coverage_params_from_toml,
    default_coverage_params,
)
from cli.commands._common import check_data_dir, check_out_file
from geo.errors import ParameterError

if TYPE_CHECKING:
    from analysis.coverage import CoverageRaster, Grid
    from analysis.coverage_stats import CoverageStats


NAME = "coverage"
HELP = "predict radio coverage (best-server rasters as COG) and per-commune / per-hamlet statistics"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``coverage``."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE.tif", help="best-server raster to write"
    )
    parser.add_argument("--tech", default="4G", choices=TECHNOLOGIES, help="technology (default 4G)")
    parser.add_argument(
        "--operator", metavar="NAME", help="only this operator's cells (default: all operators)"
    )
    parser.add_argument(
        "--resolution", type=float, metavar="METRES", help="pixel size in metres (default 25)"
    )
    parser.add_argument(
        "--dem",
        type=Path,
        metavar="FILE.tif",
        help="terrain heights: adds line-of-sight / knife-edge diffraction (slow)",
    )
    parser.add_argument(
        "--clutter",
        type=Path,
        metavar="FILE.tif",
        help="environment codes 0 rural, 1 suburban, 2 urban (default: from commune type)",
    )
    parser.add_argument(
        "--indoor-loss", type=float, metavar="DB", help="outdoor-to-indoor loss in dB (default 0)"
    )
    parser.add_argument("--include-planned", action="store_true", help="also evaluate planned cells")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="COVERAGE.toml",
        help="parameters in the shape of analysis/config/coverage.toml",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")


def _outputs(out: Path) -> dict[str, Path]:
    stem = out.with_suffix("")
    return {
        "rsrp": out,
        "server": Path(f"{stem}_server.tif"),
        "count": Path(f"{stem}_count.tif"),
        "cells": Path(f"{stem}_cells.csv"),
        "communes": Path(f"{stem}_communes.csv"),
        "hamlets": Path(f"{stem}_hamlets.csv"),
        "gpkg": Path(f"{stem}_stats.gpkg"),
    }


def _check_args(args: argparse.Namespace) -> dict[str, Path]:
    check_data_dir(args.data_dir)
    if args.out.suffix.lower() not in (".tif", ".tiff"):
        raise ParameterError(f"--out {str(args.out)!r} must end in .tif")
    outputs = _outputs(args.out)
    for path in outputs.values():
        check_out_file(path, force=args.force)
    for opt in ("dem", "clutter", "config"):
        path = getattr(args, opt)
        if path is not None and not path.is_file():
            raise ParameterError(f"--{opt} {str(path)!r} does not exist")
    return outputs


def _params(args: argparse.Namespace) -> CoverageParams:
    params = coverage_params_from_toml(args.config) if args.config else default_coverage_params()
    changes: dict[str, float] = {}
    if args.resolution is not None:
        changes["resolution_m"] = float(args.resolution)
    if args.indoor_loss is not None:
        changes["indoor_loss_db"] = float(args.indoor_loss)
    return params.with_overrides(**changes) if changes else params


def run(args: argparse.Namespace) -> int:
    """Compute and write the coverage products; return the exit code."""
    outputs = _check_args(args)
    params = _params(args)
    started = time.perf_counter()
    phase = _PhaseLog(started)
    from analysis.coverage import (
        OperatorCoverage,
        build_scene,
        classify_rsrp,
        compute_coverage,
        compute_coverage_by_operator,
    )
    from analysis.coverage_stats import coverage_statistics, prepare_statistics
    from geo.package import load_package
    from geo.raster import read_raster_to_grid, write_cog

    phase("imports")
    if args.dem is None:  # load numba and the cached kernels while the package is read
        threading.Thread(target=_load_kernel, name="coverage-kernel-import", daemon=True).start()
    package = load_package(args.data_dir)
    phase("load and validate package")
    scene = build_scene(package.communes, package.metric_crs, resolution_m=params.resolution_m, params=params)
    grid = scene.grid
    phase("scene")

    def on_grid(path: Path, resampling: str, fill: float) -> np.ndarray:
        return read_raster_to_grid(
            path, transform=grid.transform, crs=grid.crs, shape=grid.shape, resampling=resampling, fill=fill
        )

    if args.clutter is not None:
        raw = on_grid(args.clutter, "nearest", 255.0)
        clutter = np.where(np.isnan(raw), 255, raw).astype(np.uint8)
        scene = build_scene(
            package.communes,
            package.metric_crs,
            resolution_m=params.resolution_m,
            params=params,
            clutter=clutter,
        )
    dem = on_grid(args.dem, "bilinear", np.nan) if args.dem else None
    population = on_grid(package.population_raster, "bilinear", 0.0) if package.population_raster else None
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The hamlet footprints and their pixels do not depend on the coverage: they are computed in
        # a worker thread while the engine runs (its compiled kernels release the GIL).
        preparing = pool.submit(prepare_statistics, scene, package.hamlets, params=params)
        if args.operator:
            single = compute_coverage(
                scene,
                package.cells,
                technology=args.tech,
                params=params,
                operator=args.operator,
                include_planned=args.include_planned,
                dem_m=dem,
            )
            op_name = str(single.cells["operator"].iloc[0])
            result = OperatorCoverage(
                single, {op_name: classify_rsrp(single.rsrp_dbm, params.tech(args.tech))}
            )
        else:
            result = compute_coverage_by_operator(
                scene,
                package.cells,
                technology=args.tech,
                params=params,
                include_planned=args.include_planned,
                dem_m=dem,
            )
        raster = result.combined
        phase("coverage engine")
        prepared = preparing.result()
        phase("statistics inputs (footprints, overlapped with the engine)")
    tags = _tags(args, params, raster.floor_dbm, raster.count_threshold_dbm, package.version)
    # The three COGs are written in a worker thread while the statistics and tables are computed and
    # written (GDAL's compression releases the GIL), to temporary names that replace the outputs only
    # once everything else succeeded.
    staged = {key: outputs[key].with_name(f".{outputs[key].name}.{os.getpid()}.partial.tif") for key in _COGS}
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            written = pool.submit(_write_cogs, staged, raster, grid, tags, args.tech, write_cog)
            stats = coverage_statistics(
                scene, result, package.hamlets, params=params, population=population, prepared=prepared
            )
            phase("statistics")
            _write_tables(outputs, raster, stats)
            phase("tables (CSV, GPKG)")
            written.result()
            phase("COG writing (overlapped with statistics and tables)")
        for key in _COGS:
            os.replace(staged[key], outputs[key])
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)
    log.info(
        "coverage %s: %d cells, %.3g evaluations, engine %.2f s, total %.2f s",
        args.tech,
        len(raster.cells),
        raster.evaluations,
        raster.compute_s,
        time.perf_counter() - started,
    )
    _summary(stats.hamlets, outputs)
    return 0


_COGS = ("rsrp", "server", "count")


def _load_kernel() -> None:
    """Import the compiled coverage kernel (numba start-up); without numba the engine falls back to
    numpy and reports it itself."""
    with contextlib.suppress(ImportError):
        importlib.import_module("analysis._coverage_kernel")


class _PhaseLog:
    """Logs (``-v``) the wall time of each phase of the command since the previous one."""

    def __init__(self, started: float) -> None:
        self._last = started

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        log.info("  %s: %.2f s", name, now - self._last)
        self._last = now


def _write_tables(outputs: dict[str, Path], raster: CoverageRaster, stats: CoverageStats) -> None:
    """Write the cells CSV, the commune / hamlet CSVs and the statistics GeoPackage."""
    raster.cells.to_csv(outputs["cells"], index_label="index", encoding="utf-8")
    outputs["gpkg"].unlink(missing_ok=True)  # --force: layers of an old file must not be appended to
    for key, frame in (("communes", stats.communes), ("hamlets", stats.hamlets)):
        frame.drop(columns="geometry").to_csv(outputs[key], index=False, encoding="utf-8-sig")
        frame.to_file(outputs["gpkg"], layer=key, driver="GPKG", mode="w" if key == "communes" else "a")
    if stats.footprints is not None:
        stats.footprints.to_file(outputs["gpkg"], layer="hamlet_footprints", driver="GPKG", mode="a")


def _write_cogs(
    paths: dict[str, Path],
    raster: CoverageRaster,
    grid: Grid,
    tags: dict[str, str],
    tech: str,
    write_cog: Callable[..., Path],
) -> None:
    """Write the level, server and count COGs of ``raster`` to ``paths`` (keys of ``_COGS``)."""
    from analysis.coverage import NODATA_COUNT, NODATA_RSRP, NODATA_SERVER

    common = {"transform": grid.transform, "crs": grid.crs, "tags": tags}
    write_cog(
        paths["rsrp"],
        raster.rsrp_dbm,
        nodata=float(NODATA_RSRP),
        band_description=f"best-server {tech} level dBm",
        overview_resampling="average",
        **common,
    )
    write_cog(
        paths["server"],
        raster.server,
        nodata=int(NODATA_SERVER),
        band_description="best-server row in _cells.csv (-1 none)",
        **common,
    )
    write_cog(
        paths["count"],
        raster.server_count,
        nodata=int(NODATA_COUNT),
        band_description="servers at or above the count threshold",
        **common,
    )


def _tags(
    args: argparse.Namespace, params: CoverageParams, floor: float, count_thr: float, version: str
) -> dict[str, str]:
    tech = params.tech(args.tech)
    return {
        "PHUSONG_TECHNOLOGY": args.tech,
        "PHUSONG_OPERATOR": args.operator or "all",
        "PHUSONG_MODELS": (
            "Okumura-Hata <1500 MHz; COST-231 Hata 1500-2000 MHz; 3GPP TR 38.901 UMa/RMa NLOS >2000 MHz"
        ),
        "PHUSONG_TERRAIN": f"DEM {args.dem.name} (Deygout, k=4/3)" if args.dem else "none (flat earth)",
        "PHUSONG_FLOOR_DBM": (
            f"{floor:.7f} (largest float32 below the poor threshold {tech.poor_dbm:g}: pixels holding "
            "it, server -1, have no cell at or above the poor threshold, class none)"
        ),
        "PHUSONG_COUNT_THRESHOLD_DBM": f"{count_thr:g}",
        "PHUSONG_CLASSES_DBM": json.dumps(
            {"good": tech.good_dbm, "fair": tech.fair_dbm, "poor": tech.poor_dbm}
        ),
        "PHUSONG_PARAMETERS": json.dumps(
            {
                "receiver_height_m": params.receiver_height_m,
                "resolution_m": params.resolution_m,
                "indoor_loss_db": params.indoor_loss_db,
                "margin_db": params.margin_db,
                "max_attenuation_db": params.max_attenuation_db,
                "max_radius_km": params.max_radius_km,
            }
        ),
        "PHUSONG_DATA_VERSION": version,
    }


def _summary(hamlets: object, outputs: dict[str, Path]) -> None:
    import pandas as pd

    frame = pd.DataFrame(hamlets)
    all_rows = frame[frame["operator"] == "all"]
    counts = all_rows["status"].value_counts().to_dict()
    print(
        f"wrote {outputs['rsrp']} (+ _server.tif, _count.tif, _cells.csv, _communes.csv, _hamlets.csv, "
        f"_stats.gpkg); hamlets: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
