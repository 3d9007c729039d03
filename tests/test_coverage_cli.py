"""``python -m analysis coverage`` end to end on the tiny package: COG, statistics, exit codes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from cli.main import main


def _run(args: list[str]) -> int:
    return main(["coverage", *[str(a) for a in args]])


def test_cli_writes_cog_rasters_and_statistics(tiny_package: Path, tmp_path: Path, capsys):
    out = tmp_path / "cov" / "tiny.tif"
    out.parent.mkdir()
    assert _run([tiny_package, "--out", out, "--resolution", "50"]) == 0
    assert "hamlets:" in capsys.readouterr().out
    for suffix in ("", "_server", "_count"):
        path = out.with_name(f"tiny{suffix}.tif")
        with rasterio.open(path) as src:
            assert src.crs.to_epsg() == 32648 and src.res == (50.0, 50.0)
            assert src.tags()["PHUSONG_TECHNOLOGY"] == "4G"
            band = src.read(1)
            assert (band != src.nodata).any()
        assert src.dtypes[0] == {"": "float32", "_server": "int32", "_count": "uint8"}[suffix]
    with rasterio.open(out) as src:
        rsrp = src.read(1)
        inside = rsrp != src.nodata
        assert inside.mean() > 0.5 and rsrp[inside].max() > -80
    communes = pd.read_csv(
        out.with_name("tiny_communes.csv"), encoding="utf-8-sig", dtype={"commune_id": str}
    )
    assert set(communes["operator"]) == {"all", "Viettel"}
    shares = communes[[f"area_share_{c}" for c in ("none", "poor", "fair", "good")]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    hamlets = gpd.read_file(out.with_name("tiny_stats.gpkg"), layer="hamlets")
    all_rows = hamlets[hamlets["operator"] == "all"]
    assert sorted(all_rows["hamlet_id"]) == ["H1", "H2", "H3"]
    assert set(all_rows["status"]) <= {"served", "underserved", "unserved"}
    footprints = gpd.read_file(out.with_name("tiny_stats.gpkg"), layer="hamlet_footprints")
    assert sorted(footprints["hamlet_id"]) == ["H1", "H2", "H3"] and footprints.crs.to_epsg() == 4326
    assert set(footprints.geom_type) <= {"Polygon", "MultiPolygon"}
    by_id = footprints.set_index("hamlet_id")["footprint_km2"]
    np.testing.assert_allclose(all_rows.set_index("hamlet_id")["footprint_km2"].loc[by_id.index], by_id)
    assert (by_id > 0).all()
    cells = pd.read_csv(out.with_name("tiny_cells.csv"))
    assert len(cells) == 3 and set(cells["technology"]) == {"4G"}


@pytest.mark.skipif(shutil.which("gdalinfo") is None, reason="Debian gdal-bin not installed")
def test_gdalinfo_reports_cog_layout(tiny_package: Path, tmp_path: Path):
    out = tmp_path / "c.tif"
    assert _run([tiny_package, "--out", out, "--resolution", "25", "--operator", "viettel"]) == 0
    info = subprocess.run(["gdalinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "LAYOUT=COG" in info and "COMPRESSION=DEFLATE" in info


def test_cli_3g_and_dem(tiny_package: Path, tmp_path: Path):
    from geo.raster import write_cog

    dem = tmp_path / "dem.tif"
    import pyproj
    from affine import Affine

    write_cog(
        dem,
        np.full((200, 200), 2.0, dtype=np.float32),
        transform=Affine(50, 0, 580_000, 0, -50, 1_105_000),
        crs=pyproj.CRS.from_epsg(32648),
        nodata=-9999.0,
    )
    out = tmp_path / "g3.tif"
    assert _run([tiny_package, "--out", out, "--tech", "3G", "--resolution", "100", "--dem", dem]) == 0
    with rasterio.open(out) as src:
        assert "DEM dem.tif" in src.tags()["PHUSONG_TERRAIN"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tech", "5G"], "no active 5G cells"),
        (["--operator", "Nokia"], "operator 'Nokia' not in"),
        (["--resolution", "0"], "resolution_m"),
        (["--dem", "missing.tif"], "--dem"),
    ],
)
def test_cli_bad_arguments_exit_2(tiny_package: Path, tmp_path: Path, capsys, extra, message):
    assert _run([tiny_package, "--out", tmp_path / "x.tif", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_refuses_overwrite_and_bad_out(tiny_package: Path, tmp_path: Path, capsys):
    out = tmp_path / "o.tif"
    out.write_bytes(b"")
    assert _run([tiny_package, "--out", out]) == 2
    assert "--force" in capsys.readouterr().err
    assert _run([tiny_package, "--out", tmp_path / "o.png"]) == 2
    assert _run([tmp_path / "nowhere", "--out", tmp_path / "p.tif"]) == 2


def test_cli_bad_data_exit_2(tiny_package: Path, tmp_path: Path, capsys):
    sites = tiny_package / "towers" / "sites.csv"
    sites.write_text("site_id,cell_id\nS1,C1\n", encoding="utf-8")  # required columns missing
    assert _run([tiny_package, "--out", tmp_path / "d.tif"]) == 2
    err = capsys.readouterr().err
    assert "sites.csv" in err and "Traceback" not in err


def test_cli_restores_the_callers_garbage_collection_settings(tmp_path):
    """The CLI raises the GC thresholds for its own run only (in-process callers keep theirs)."""
    import gc

    before = gc.get_threshold()
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert gc.get_threshold() == before
