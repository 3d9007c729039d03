"""A partner's downloads hold its own operator's base-station data only (issue 13 §1; docs/ACCESS.md).

Three operators' sites, cells, coverage statistics, a gap table and coverage rasters go through
:mod:`layers.access_filters` for a Viettel partner, then through every format the downloads page
writes; each file is read back (GPKG with pyogrio, CSV and KML as text, XLSX with openpyxl, the
Shapefile zip's members, GeoTIFF with rasterio) and holds no MobiFone or VinaPhone row, value or
cell id.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point
from streamlit.testing.v1 import AppTest

from analysis.gaps import compute_gaps
from analysis.params import GapParams
from geo.errors import NotPermittedError, ParameterError
from layers.access_filters import (
    LAYER_KINDS,
    SWITCHED_OPERATOR_COLUMNS,
    CoverageRasters,
    coverage_raster,
    filter_cells,
    filter_sites,
    other_operator_switched,
    restrict_coverage,
    restrict_layer,
    restrict_scenario_layers,
    scrub_other_operators,
)
from layers.exports import ExportFormat, export_bytes
from layers.map import sites_from_cells
from tests.test_gaps import mini_province

OWN = "Viettel"
#: What must never reach a Viettel partner: the other operators' names and their ids (prefixes).
FORBIDDEN = ("MobiFone", "VinaPhone", "MF-", "VP-")
FORMATS: tuple[ExportFormat, ...] = ("gpkg", "shp.zip", "kml", "geojson", "csv", "xlsx")
META = {"title": "test", "dataset": "tiny", "created_utc": "2026-11-25T00:00:00Z"}


def _cells() -> gpd.GeoDataFrame:
    """Two Viettel sites (4 cells), one MobiFone site (2 cells), one VinaPhone site (1 cell)."""
    rows = [
        ("VT-S1", "VT-S1-1", "Viettel", 9.925, 106.325, 0.0),
        ("VT-S1", "VT-S1-2", "Viettel", 9.925, 106.325, 120.0),
        ("VT-S2", "VT-S2-1", "Viettel", 9.935, 106.335, 0.0),
        ("VT-S2", "VT-S2-2", "Viettel", 9.935, 106.335, 240.0),
        ("MF-S3", "MF-S3-1", "MobiFone", 9.93, 106.36, 0.0),
        ("MF-S3", "MF-S3-2", "MobiFone", 9.93, 106.36, 180.0),
        ("VP-S4", "VP-S4-1", "VinaPhone", 9.93, 106.375, np.nan),
    ]
    frame = pd.DataFrame(rows, columns=["site_id", "cell_id", "operator", "lat", "lon", "azimuth_deg"])
    frame["height_m"] = 30.0
    frame["status"] = "active"
    frame["technology"] = "4G"
    frame["band_mhz"] = 1800.0
    frame["source"] = "test"
    return gpd.GeoDataFrame(
        frame, geometry=[Point(x, y) for x, y in zip(frame["lon"], frame["lat"], strict=True)], crs=4326
    )


def _coverage_hamlets() -> gpd.GeoDataFrame:
    """Per-hamlet coverage statistics: an "all" row and one row per operator for each of 2 hamlets."""
    rows = []
    for hamlet, best_cell, best_op in (("H1", "MF-S3-1", "MobiFone"), ("H2", "VT-S1-1", "Viettel")):
        rows.append((hamlet, "all", "good", best_cell, best_op, -80.5, 2))
        for op in ("Viettel", "MobiFone", "VinaPhone"):
            rows.append((hamlet, op, "fair", "", "", np.nan, pd.NA))
    frame = pd.DataFrame(
        rows,
        columns=[
            "hamlet_id",
            "operator",
            "coverage_class",
            "best_cell_id",
            "best_operator",
            "best_rsrp_dbm",
            "operators_good",
        ],
    )
    frame["operators_good"] = frame["operators_good"].astype("Int64")
    frame["technology"] = "4G"
    return gpd.GeoDataFrame(frame, geometry=[Point(106.33, 9.92)] * len(frame), crs=4326)


@pytest.fixture(scope="module")
def gaps() -> gpd.GeoDataFrame:
    """A real gap table whose hamlets list good 4G from three operators, plus a wide per-operator
    column of the kind a future table might carry."""
    pkg = mini_province()
    frame = compute_gaps(pkg, GapParams(), signal=pkg.signal)  # type: ignore[arg-type]
    pattern = ["Viettel;MobiFone;VinaPhone", "MobiFone", "", "VinaPhone;Viettel", "Viettel"]
    frame["good_4g_operators"] = [pattern[i % len(pattern)] for i in range(len(frame))]
    frame["share_good_mobifone"] = 0.5
    frame["share_good_viettel"] = 0.25
    frame["fibre_operator"] = ["VNPT" if i % 2 else "Viettel" for i in range(len(frame))]
    return frame


def _rasters() -> CoverageRasters:
    """Viettel good (3) on the left, MobiFone fair (2) in the middle, VinaPhone poor (1) on the right;
    the outer ring is outside the province (255)."""
    shape = (12, 12)
    viettel = np.zeros(shape, np.uint8)
    viettel[:, 1:4] = 3
    mobifone = np.zeros(shape, np.uint8)
    mobifone[:, 4:8] = 2
    vinaphone = np.zeros(shape, np.uint8)
    vinaphone[:, 8:11] = 1
    combined = np.maximum(np.maximum(viettel, mobifone), vinaphone)
    outside = np.ones(shape, bool)
    outside[1:-1, 1:-1] = False
    for grid in (viettel, mobifone, vinaphone, combined):
        grid[outside] = 255
    return CoverageRasters(combined, {"Viettel": viettel, "MobiFone": mobifone, "VinaPhone": vinaphone})


def _read_back(data: bytes, fmt: str, tmp_path: Path) -> str:
    """Everything a user finds in the file, as text: decoded content and every read-back value."""
    if fmt in ("csv", "kml", "geojson"):
        return data.decode("utf-8-sig")
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        values = [
            str(cell) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for cell in row
        ]
        return "\n".join(values)
    if fmt == "shp.zip":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "\n".join(zf.read(name).decode("utf-8", errors="replace") for name in zf.namelist())
    path = tmp_path / "read_back.gpkg"
    path.write_bytes(data)
    parts = [data.decode("utf-8", errors="replace")]  # raw pages too: nothing hides in the database
    for name, _ in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name)
        parts.append(frame.drop(columns="geometry", errors="ignore").to_csv())
        parts.extend(str(c) for c in frame.columns)
    return "\n".join(parts)


def _assert_clean(text: str) -> None:
    for needle in FORBIDDEN:
        assert needle not in text, f"{needle!r} reached a Viettel partner's file"


# --------------------------------------------------------------------------- rows and columns


def test_sites_and_cells_keep_only_the_partners_operator() -> None:
    cells = _cells()
    mine = filter_cells(cells, "viettel")  # any accepted spelling
    assert isinstance(mine, gpd.GeoDataFrame) and mine.crs == cells.crs
    assert mine["cell_id"].tolist() == ["VT-S1-1", "VT-S1-2", "VT-S2-1", "VT-S2-2"]
    sites = filter_sites(sites_from_cells(cells), "Viettel")
    assert sites["site_id"].tolist() == ["VT-S1", "VT-S2"] and sites["cells"].tolist() == [2, 2]
    assert filter_cells(cells, "VNPT")["cell_id"].tolist() == ["VP-S4-1"]  # VNPT is VinaPhone


def test_no_restriction_for_everybody_else() -> None:
    cells, rasters = _cells(), _rasters()
    assert restrict_layer("cells", cells, None) is cells
    assert restrict_layer("coverage", rasters, None) is rasters
    assert restrict_layer("anything", cells, None) is cells  # only partners need a classified layer


def test_unknown_layers_and_operators_are_refused_for_a_partner() -> None:
    cells = _cells()
    with pytest.raises(NotPermittedError, match="no partner filter"):
        restrict_layer("towers_raw", cells, OWN)
    with pytest.raises(NotPermittedError, match="no operator column"):
        restrict_layer("sites", cells.drop(columns="operator"), OWN)
    with pytest.raises(NotPermittedError, match="raster"):
        restrict_layer("coverage", cells, OWN)
    with pytest.raises(NotPermittedError, match="table"):
        restrict_layer("sites", _rasters(), OWN)  # type: ignore[call-overload]
    with pytest.raises(ParameterError, match="not a known operator"):
        restrict_layer("sites", cells, "Acme Telecom")


def test_unreadable_operator_rows_are_dropped_not_kept() -> None:
    cells = _cells()
    cells.loc[0, "operator"] = "??"
    assert "VT-S1-1" not in filter_cells(cells, OWN)["cell_id"].tolist()


def test_gap_layer_is_whole_but_lists_only_the_partners_operator(gaps: gpd.GeoDataFrame) -> None:
    mine = restrict_layer("gaps", gaps, OWN)
    assert len(mine) == len(gaps) and mine["hamlet_id"].tolist() == gaps["hamlet_id"].tolist()
    expected = ["Viettel", "", "", "Viettel", "Viettel"]
    assert mine["good_4g_operators"].tolist() == [expected[i % 5] for i in range(len(gaps))]
    assert "share_good_mobifone" not in mine and "share_good_viettel" in mine
    # aggregates that name no operator stay: the whole province's gap indicators
    for col in ("share_hh_good_4g", "share_hh_no_4g", "flags", "priority_score"):
        pd.testing.assert_series_equal(mine[col], gaps[col])
    # fibre is not base-station data: the nearest node's operator stays as it is
    assert mine["fibre_operator"].tolist() == gaps["fibre_operator"].tolist()


def test_coverage_statistics_keep_all_and_own_rows_and_blank_other_best_servers() -> None:
    mine = restrict_layer("coverage_hamlets", _coverage_hamlets(), OWN)
    assert mine["operator"].tolist() == ["all", "Viettel", "all", "Viettel"]
    h1 = mine[(mine["hamlet_id"] == "H1") & (mine["operator"] == "all")].iloc[0]
    assert h1["best_operator"] == "" and h1["best_cell_id"] == "" and np.isnan(h1["best_rsrp_dbm"])
    assert h1["operators_good"] == 2 and h1["coverage_class"] == "good"  # aggregates kept
    h2 = mine[(mine["hamlet_id"] == "H2") & (mine["operator"] == "all")].iloc[0]
    assert (h2["best_operator"], h2["best_cell_id"], h2["best_rsrp_dbm"]) == ("Viettel", "VT-S1-1", -80.5)


def test_column_names_naming_another_operator_in_any_spelling_are_dropped() -> None:
    frame = pd.DataFrame(
        {
            "hamlet_id": ["H1"],
            "share_good_VNPT": [0.1],
            "ht_mobile_cells": [3],
            "classes-mobifone": [2],
            "Viettel good share": [0.9],
            "no_mobile_flag": [True],
            "good_4g_operators": ["Viettel;MobiFone"],
        }
    )
    out = scrub_other_operators(frame, OWN)
    assert list(out.columns) == ["hamlet_id", "Viettel good share", "no_mobile_flag", "good_4g_operators"]
    assert out["good_4g_operators"].tolist() == ["Viettel"]


def test_every_layer_the_pages_serve_is_classified() -> None:
    from views.downloads import LAYERS

    assert set(LAYERS) <= set(LAYER_KINDS)
    for name in ("hamlet_changes", "new_sites", "removed_cells", "modified_cells", "new_fibre_nodes"):
        assert name in LAYER_KINDS  # layers.scenario_export.scenario_layers
    assert {"fibre_plan_routes", "fibre_plan_hamlets"} <= set(LAYER_KINDS)


# --------------------------------------------------------------------------- every format, read back


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", ["sites", "cells", "coverage_hamlets", "gaps"])
def test_a_viettel_partners_files_hold_no_other_operator(
    layer: str, fmt: ExportFormat, gaps: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    source = {
        "sites": sites_from_cells(_cells()),
        "cells": _cells(),
        "coverage_hamlets": _coverage_hamlets(),
        "gaps": gaps,
    }[layer]
    unrestricted = _read_back(export_bytes(source, fmt, metadata=META, layer=layer), fmt, tmp_path)
    assert any(needle in unrestricted for needle in FORBIDDEN), "the test data holds other operators"
    mine = restrict_layer(layer, source, OWN)
    text = _read_back(export_bytes(mine, fmt, metadata=META, layer=layer), fmt, tmp_path)
    _assert_clean(text)
    assert "Viettel" in text
    if layer in ("sites", "cells"):
        ids = mine["site_id" if layer == "sites" else "cell_id"]
        assert len(ids) and all(i.startswith("VT-") for i in ids)
        assert all(i in text for i in ids)


def test_gpkg_of_a_partners_sites_reads_back_as_its_rows_only(tmp_path: Path) -> None:
    path = tmp_path / "sites.gpkg"
    path.write_bytes(
        export_bytes(filter_sites(sites_from_cells(_cells()), OWN), "gpkg", metadata=META, layer="sites")
    )
    frame = pyogrio.read_dataframe(path, layer="sites")
    assert frame["operator"].tolist() == ["Viettel", "Viettel"] and frame["site_id"].tolist() == [
        "VT-S1",
        "VT-S2",
    ]


# --------------------------------------------------------------------------- rasters


def _write_tif(classes: np.ndarray, path: Path, operator: str) -> Path:
    from geo.raster import write_cog

    return write_cog(
        path,
        classes,
        transform=Affine(100.0, 0.0, 600_000.0, 0.0, -100.0, 1_100_000.0),
        crs=gpd.GeoSeries([], crs=32648).crs,
        nodata=255,
        tags={**META, "operator": operator},
        band_description="4G coverage class",
    )


@pytest.mark.parametrize("choice", ["", "MobiFone", "VinaPhone", "Viettel"])
def test_a_partners_coverage_raster_holds_its_own_coverage_only(choice: str, tmp_path: Path) -> None:
    rasters = _rasters()
    mine = restrict_layer("coverage", rasters, OWN)
    assert set(mine.by_operator) == {OWN}
    classes = coverage_raster(mine, choice)
    path = _write_tif(classes, tmp_path / "coverage.tif", OWN)
    with rasterio.open(path) as src:
        band = src.read(1)
        tags = src.tags()
    if choice in ("", OWN):  # the page always asks for the partner's own (views/downloads.py)
        np.testing.assert_array_equal(band, rasters.by_operator["Viettel"])
    else:  # another operator's was taken out: nothing of it is left to choose
        np.testing.assert_array_equal(band, rasters.no_coverage())
    assert set(np.unique(band)) <= {0, 3, 255}  # none of MobiFone's 2 or VinaPhone's 1
    _assert_clean(" ".join(f"{k}={v}" for k, v in tags.items()))
    _assert_clean(path.read_bytes().decode("latin-1"))


def test_the_combined_raster_is_never_a_partners() -> None:
    rasters = _rasters()
    mine = restrict_coverage(rasters, OWN)
    assert not np.array_equal(mine.combined, rasters.combined)
    np.testing.assert_array_equal(mine.combined, rasters.by_operator["Viettel"])
    assert mine.combined is not rasters.by_operator["Viettel"], "a copy: the cached raster stays as it is"


def test_an_operator_without_cells_gets_no_coverage_never_the_combined_raster() -> None:
    rasters = _rasters()
    for classes in (restrict_coverage(rasters, "Vietnamobile").combined, coverage_raster(rasters, "Gmobile")):
        assert set(np.unique(classes)) == {0, 255}
        np.testing.assert_array_equal(classes == 255, rasters.combined == 255)


# --------------------------------------------------------------------------- scenarios


def test_scenario_layers_of_a_partner() -> None:
    cells = _cells()
    hamlets = pd.DataFrame(
        {
            "hamlet_id": ["H1"],
            "hh_gained_good_4g": [10.0],
            "hh_lose_operator_service": [5.0],
            "hh_operator_drop_to_weak": [1.0],
        }
    )
    hamlets = gpd.GeoDataFrame(hamlets, geometry=[Point(106.3, 9.9)], crs=4326)
    layers = {"hamlet_changes": hamlets, "new_sites": cells.iloc[:2], "removed_cells": cells.iloc[4:]}
    mine = restrict_scenario_layers(layers, OWN, switched_operator="MobiFone")
    assert set(mine) == {"hamlet_changes", "new_sites"}, "a layer emptied by the filter is left out"
    assert not set(SWITCHED_OPERATOR_COLUMNS) & set(mine["hamlet_changes"].columns)
    own_switch = restrict_scenario_layers(layers, OWN, switched_operator="viettel")
    assert set(SWITCHED_OPERATOR_COLUMNS) <= set(own_switch["hamlet_changes"].columns)
    assert restrict_scenario_layers(layers, None, switched_operator="MobiFone") == layers
    assert other_operator_switched(OWN, "MobiFone") and not other_operator_switched(OWN, "Viettel")
    assert not other_operator_switched(OWN, None) and not other_operator_switched(None, "MobiFone")


# --------------------------------------------------------------------------- the page's audit hook


class _Log:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def download(self, user, layer, fmt, rows, filters) -> None:
        self.calls.append((user, layer, fmt, rows, filters))


def test_audited_downloads_write_one_entry_per_file_served() -> None:
    from views.downloads import audited

    log, built = _Log(), []

    def build() -> tuple[bytes, int]:
        built.append(1)
        return b"data", 7

    serve = audited(build, user="lan", layer="sites", fmt="csv", filters={"restricted_to": OWN}, audit=log)
    assert log.calls == [] and built == [], "nothing is built or written before the file is fetched"
    assert serve() == b"data" and serve() == b"data"
    assert log.calls == [("lan", "sites", "csv", 7, {"restricted_to": OWN})] * 2
    with pytest.raises(NotPermittedError):
        audited(build, user=None, layer="sites", fmt="csv", filters={}, audit=log)


def test_download_filters_name_the_partner_restriction() -> None:
    from views.downloads import download_filters

    opts = {"layer": "sites", "groups": {}, "operator": "", "flags": []}
    assert download_filters(opts, OWN) == {"operator": OWN, "restricted_to": OWN}
    assert download_filters(opts, None) == {"operator": "all"}
    gaps_opts = {
        "layer": "gaps",
        "groups": {"district_name": ["Huyện Trà Cú"]},
        "operator": "VNPT",
        "flags": ["NO_FIBRE_REACH"],
    }
    assert download_filters(gaps_opts, None) == {
        "district_name": ["Huyện Trà Cú"],
        "flags": ["NO_FIBRE_REACH"],
        "fibre_operator": "VNPT",
    }


# --------------------------------------------------------------------------- the downloads page (AppTest)

PARTNER_PASSWORD = "partner-Pass-03"


@pytest.fixture
def partner_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The tiny package with a third operator's site, a users file holding a Viettel partner (and a
    planner), the audit log and cheap argon2 settings under ``tmp_path``."""
    from auth.users import UserStore
    from tests.conftest import write_tiny_package

    pkg = write_tiny_package(tmp_path / "pkg")
    with (pkg / "towers" / "sites.csv").open("a", encoding="utf-8") as out:
        out.write("S3,S3-1,MobiFone,9.92,106.34,28,active,4G,1800,90,65,60,10\n")
    conf = tmp_path / "conf"
    (tmp_path / "auth.toml").write_text("[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n")
    monkeypatch.setenv("PHUSONG_DATA", str(pkg))
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_USERS", str(conf / "users.json"))
    monkeypatch.setenv("PHUSONG_AUDIT", str(conf / "audit.jsonl"))
    monkeypatch.setenv("PHUSONG_AUTH_CONFIG", str(tmp_path / "auth.toml"))
    from argon2 import PasswordHasher

    store = UserStore(
        conf / "users.json", hasher=PasswordHasher(time_cost=1, memory_cost=19 * 1024, parallelism=1)
    )
    store.add("lan", "partner", PARTNER_PASSWORD, operator="viettel")
    store.add("binh", "planner", "planner-Pass-02")
    store.add("minh", "partner", "partner-Pass-04", operator="MobiFone")
    return {"pkg": pkg, "audit": conf / "audit.jsonl", "users": conf / "users.json"}


def _downloads_page() -> None:
    from views import downloads

    downloads.render()


def _signed_in(name: str, monkeypatch: pytest.MonkeyPatch, served: list) -> AppTest:
    """The downloads page run as ``name``; every file it offers is collected in ``served``."""
    from auth.sessions import new_session
    from auth.users import UserStore
    from views import downloads

    real = downloads.audited

    def spy(build, **kwargs):
        serve = real(build, **kwargs)
        served.append((kwargs["layer"], kwargs["fmt"], serve))
        return serve

    monkeypatch.setattr(downloads, "audited", spy)
    user = UserStore(Path(__import__("os").environ["PHUSONG_USERS"])).get(name)
    at = AppTest.from_function(_downloads_page, default_timeout=300)
    at.session_state["auth_session"] = new_session(user)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_downloads_page_serves_a_partner_its_own_sites_and_coverage_and_audits_each_file(
    partner_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from auth.audit import AuditLog
    from geo.package import load_package

    served: list = []
    at = _signed_in("lan", monkeypatch, served)
    assert at.selectbox(key="downloads_operator").options == ["Tất cả", "Viettel"]
    assert any("Viettel" in i.value for i in at.info), "the page says what a partner gets"
    at.selectbox(key="downloads_layer").set_value("sites").run()
    at.radio(key="downloads_format_False").set_value("csv").run()
    assert not at.exception
    layer, fmt, serve = served[-1]
    assert (layer, fmt) == ("sites", "csv")
    entries = [e for e in AuditLog(partner_env["audit"]).entries() if e.event == "download"]
    assert entries == [], "rendering the page is not a download"
    table = pd.read_csv(io.BytesIO(serve()), encoding="utf-8-sig")
    assert table["site_id"].tolist() == ["S1"] and set(table["operator"]) == {"Viettel"}
    (entry,) = [e for e in AuditLog(partner_env["audit"]).entries() if e.event == "download"]
    assert (entry.user, entry.role, entry.details["layer"], entry.details["format"]) == (
        "lan",
        "partner",
        "sites",
        "csv",
    )
    assert entry.details["rows"] == 1
    assert entry.details["filters"] == {"operator": "Viettel", "restricted_to": "Viettel"}

    at.selectbox(key="downloads_layer").set_value("coverage").run()
    assert not at.exception
    layer, fmt, serve = served[-1]
    assert (layer, fmt) == ("coverage", "tif")
    path = tmp_path / "coverage.tif"
    path.write_bytes(serve())
    from analysis.coverage import build_scene, compute_coverage_by_operator
    from analysis.coverage_params import default_coverage_params

    pkg, cparams = load_package(partner_env["pkg"]), default_coverage_params()
    scene = build_scene(pkg.communes, pkg.metric_crs, resolution_m=cparams.resolution_m, params=cparams)
    cov = compute_coverage_by_operator(scene, pkg.cells, technology="4G", params=cparams)
    with rasterio.open(path) as src:
        band, tags = src.read(1), src.tags()
    np.testing.assert_array_equal(band, cov.classes_by_operator["Viettel"])
    all_operators = cov.combined.classes(cparams.tech("4G"))
    assert not np.array_equal(band, all_operators), "never the all-operator best class"
    assert tags["operator"] == "Viettel" and "MobiFone" not in str(tags) and "VinaPhone" not in str(tags)
    downloads = [e for e in AuditLog(partner_env["audit"]).entries() if e.event == "download"]
    assert [(e.details["layer"], e.details["rows"]) for e in downloads] == [("sites", 1), ("coverage", 1)]


def test_a_planner_gets_every_operators_sites(
    partner_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list = []
    at = _signed_in("binh", monkeypatch, served)
    assert at.selectbox(key="downloads_operator").options == ["Tất cả", "MobiFone", "Viettel", "VinaPhone"]
    at.selectbox(key="downloads_layer").set_value("sites").run()
    at.radio(key="downloads_format_False").set_value("csv").run()
    table = pd.read_csv(io.BytesIO(served[-1][2]()), encoding="utf-8-sig")
    assert set(table["operator"]) == {"MobiFone", "VinaPhone", "Viettel"}


# --------------------------------------------------------------------------- scenarios: their owner


def _scenario_app(name: str, overwrite: bool) -> None:
    import streamlit as st

    from views import common
    from views import scenario_parts as parts

    pkg = common.package()
    if name:
        st.session_state["scenarios_name"] = name
        st.session_state["scenarios_overwrite"] = overwrite
        parts._save(pkg)
    parts.saved_section(pkg, common.lang())


def _as(user_name: str, save: str = "", overwrite: bool = False) -> AppTest:
    from auth.sessions import new_session
    from auth.users import UserStore

    user = UserStore(Path(__import__("os").environ["PHUSONG_USERS"])).get(user_name)
    at = AppTest.from_function(_scenario_app, args=(save, overwrite), default_timeout=120)
    at.session_state["auth_session"] = new_session(user)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_saved_scenarios_carry_their_owner_and_partners_see_only_their_own(
    partner_env: dict[str, Path],
) -> None:
    import json

    from views.scenario_parts import may_use

    lan = _as("lan", save="Phương án của Lan")
    assert any("phuong-an-cua-lan" in m.value for m in lan.success)
    doc = json.loads((partner_env["pkg"] / "scenarios" / "phuong-an-cua-lan" / "scenario.json").read_text())
    assert doc["owner"] == "lan"
    assert lan.selectbox(key="scenarios_saved").options == ["Phương án của Lan (phuong-an-cua-lan)"]
    assert any(c.value == "Người lưu: lan" for c in lan.caption)
    # another partner neither sees it nor overwrites it, even with "replace" ticked
    minh = _as("minh", save="Phương án của Lan", overwrite=True)
    assert any("phuong-an-cua-lan" in e.value for e in minh.error)
    assert any(c.value == "Chưa có kịch bản nào được lưu." for c in minh.caption)
    assert (
        json.loads((partner_env["pkg"] / "scenarios" / "phuong-an-cua-lan" / "scenario.json").read_text())[
            "owner"
        ]
        == "lan"
    )
    # a planner sees everybody's, and saving it again keeps its owner
    binh = _as("binh", save="Phương án của Lan", overwrite=True)
    assert binh.selectbox(key="scenarios_saved").options == ["Phương án của Lan (phuong-an-cua-lan)"]
    doc = json.loads((partner_env["pkg"] / "scenarios" / "phuong-an-cua-lan" / "scenario.json").read_text())
    assert doc["owner"] == "lan"
    assert not may_use({}, None) and not may_use({"owner": "lan"}, None)
    from auth.roles import Role
    from auth.users import User

    # saved before accounts existed: no owner, so only the roles that see every scenario see it
    assert not may_use({}, User("lan", Role.PARTNER, "Viettel"))
    assert may_use({}, User("binh", Role.PLANNER))
