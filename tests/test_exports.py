"""Exports read back with pyogrio and with GDAL's ogrinfo; diacritics compared byte for byte."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from analysis.gaps import compute_gaps
from analysis.params import GapParams
from cli.main import main
from geo.errors import ParameterError
from layers.exports import (
    SHAPEFILE_FIELDS,
    _text_cut,
    export_bytes,
    format_from_path,
    neutralise_formulas,
    shapefile_field_map,
    write_export,
)
from tests.test_gaps import mini_province

NAMES = ["Ấp Chợ", "Ấp Bến Đình", "Ấp Sóc Ruộng", "Khóm Đầu Giồng", "Khóm 3"]
OGRINFO = shutil.which("ogrinfo")


@pytest.fixture(scope="module")
def gaps() -> gpd.GeoDataFrame:
    pkg = mini_province()
    return compute_gaps(pkg, GapParams(), signal=pkg.signal)


@pytest.fixture(scope="module")
def files(gaps: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    out = {}
    for ext in ("gpkg", "geojson", "kml", "shp.zip", "csv", "xlsx"):
        out[ext] = write_export(gaps, root / f"gaps.{ext}", metadata=gaps.attrs["phusong"], layer="gaps")
    return out


def _ogr_path(path: Path) -> str:
    return f"/vsizip/{path}" if path.name.endswith(".zip") else str(path)


@pytest.mark.parametrize("ext", ["gpkg", "geojson", "kml", "shp.zip", "csv"])
def test_pyogrio_reads_back_names_byte_for_byte(files: dict[str, Path], ext: str) -> None:
    df = pyogrio.read_dataframe(_ogr_path(files[ext]), layer="gaps" if ext == "gpkg" else None)
    name_col = {"kml": "Name", "shp.zip": "hamlet_nm"}.get(ext, "hamlet_name")
    assert [n.encode("utf-8") for n in df[name_col]] == [n.encode("utf-8") for n in NAMES]
    assert len(df) == 5
    if ext != "kml":
        prio = pd.to_numeric(df["priority" if ext == "shp.zip" else "priority_score"])
        assert prio.round(1).tolist() == [9.0, 180.0, 47.5, 64.0, 0.0]


@pytest.mark.skipif(OGRINFO is None, reason="Debian gdal-bin (ogrinfo) is not installed")
@pytest.mark.parametrize("ext", ["gpkg", "geojson", "kml", "shp.zip", "csv"])
def test_ogrinfo_reads_back_names_byte_for_byte(files: dict[str, Path], ext: str) -> None:
    proc = subprocess.run(
        [str(OGRINFO), "-ro", "-al", "-q", _ogr_path(files[ext])],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert b"Warning" not in proc.stderr, proc.stderr
    for name in NAMES:
        assert name.encode("utf-8") in proc.stdout, name
    expl = "Ấp Bến Đình: 40% hộ chưa có sóng 4G; nút cáp quang gần nhất cách 3,2 km theo đường bộ"
    assert expl.encode("utf-8") in proc.stdout


def test_gpkg_metadata(files: dict[str, Path]) -> None:
    info = pyogrio.read_info(files["gpkg"], layer="gaps")
    assert info["layer_metadata"]["threshold_ftth_min_share"] == "0.8"
    meta = dict(pyogrio.read_dataframe(files["gpkg"], layer="metadata").values.tolist())
    assert meta["dataset"] == "Mini province" and "created_utc" in meta


def test_geojson_metadata_and_crs(files: dict[str, Path]) -> None:
    doc = json.loads(files["geojson"].read_bytes().decode("utf-8"))
    assert doc["metadata"]["threshold_smartphone_min_share"] == "0.8"
    assert doc["features"][0]["geometry"]["coordinates"][0] == pytest.approx(106.08, abs=0.2)


def test_kml_is_kml22_with_metadata_and_placemarks(files: dict[str, Path]) -> None:
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(files["kml"]).getroot()
    assert root.tag == "{http://www.opengis.net/kml/2.2}kml"
    doc = root.find("k:Document", ns)
    meta = {
        d.get("name"): d.findtext("k:value", namespaces=ns) for d in doc.findall("k:ExtendedData/k:Data", ns)
    }
    assert meta["threshold_ftth_min_share"] == "0.8"
    marks = doc.findall("k:Folder/k:Placemark", ns)
    assert [m.findtext("k:name", namespaces=ns) for m in marks] == NAMES
    assert marks[1].findtext("k:styleUrl", namespaces=ns) == "#gap"
    assert marks[4].findtext("k:styleUrl", namespaces=ns) == "#ok"
    # KML 2.2 schema order (Google Earth is lenient, validators are not)
    order = [c.tag.split("}")[1] for c in doc]
    assert (
        order.index("description")
        < order.index("Style")
        < order.index("ExtendedData")
        < order.index("Folder")
    )
    assert [c.tag.split("}")[1] for c in marks[1]] == [
        "name",
        "description",
        "styleUrl",
        "ExtendedData",
        "Point",
    ]


def test_shapefile_zip_cpg_fields_and_mapping(files: dict[str, Path]) -> None:
    with zipfile.ZipFile(files["shp.zip"]) as zf:
        names = set(zf.namelist())
        assert {
            "gaps.shp",
            "gaps.shx",
            "gaps.dbf",
            "gaps.prj",
            "gaps.cpg",
            "gaps_fields.csv",
            "metadata.txt",
        } <= names
        assert zf.read("gaps.cpg").strip() == b"UTF-8"
        mapping = pd.read_csv(io.BytesIO(zf.read("gaps_fields.csv")), encoding="utf-8-sig")
        assert "threshold_ftth_min_share: 0.8" in zf.read("metadata.txt").decode("utf-8")
    df = pyogrio.read_dataframe(_ogr_path(files["shp.zip"]))
    fields = [c for c in df.columns if c != "geometry"]
    assert all(len(c) <= 10 for c in fields)
    assert dict(zip(mapping["column"], mapping["field"], strict=True))["explanation_vi"] == "expl_vi"
    assert fields == list(mapping["field"])
    assert df["nofib_f"].tolist() == [0, 1, 1, 1, 0]


def test_shapefile_mapping_is_unique_and_short() -> None:
    assert all(len(v) <= 10 for v in SHAPEFILE_FIELDS.values())
    assert len({v.lower() for v in SHAPEFILE_FIELDS.values()}) == len(SHAPEFILE_FIELDS)
    m = shapefile_field_map(["a_very_long_name_1", "a_very_long_name_2", "geometry"])
    assert m == {"a_very_long_name_1": "a_very_lon", "a_very_long_name_2": "a_very_lo1"}


def test_long_text_is_cut_on_a_character_boundary() -> None:
    text = "Ấp Đầu Giồng: " + "người lớn có điện thoại thông minh; " * 20
    cut = _text_cut(text)
    raw = cut.encode("utf-8")
    assert len(raw) <= 254 and cut.endswith("…") and text.startswith(cut[:-1])


def test_csv_bom_utf8_formula_safe_and_numeric(gaps: gpd.GeoDataFrame, tmp_path: Path) -> None:
    evil = gaps.copy()
    evil.loc[0, "hamlet_name"] = '=HYPERLINK("http://x","Ấp")'
    evil.loc[1, "hamlet_name"] = "@SUM(A1)"
    evil.loc[2, "hamlet_name"] = "-2+3"
    raw = export_bytes(evil, "csv", metadata=gaps.attrs["phusong"])
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert back.loc[0, "hamlet_name"].startswith("'=HYPERLINK")
    assert back.loc[1, "hamlet_name"] == "'@SUM(A1)" and back.loc[2, "hamlet_name"] == "'-2+3"
    assert back.loc[3, "hamlet_name"] == "Khóm Đầu Giồng"
    assert pd.api.types.is_integer_dtype(back["households"])
    assert pd.api.types.is_float_dtype(back["priority_score"]) and pd.api.types.is_float_dtype(back["lon"])
    assert back.loc[0, "meta_dataset"].startswith("Mini province")
    assert "ftth_min_share=0.8" in back.loc[0, "meta_thresholds"]


def test_neutralise_keeps_numbers_numeric() -> None:
    df = pd.DataFrame({"n": [-1.5, 2.0], "s": ["-1.5", "+x"], "ok": ["a-b", None]})
    out = neutralise_formulas(df)
    assert out["n"].tolist() == [-1.5, 2.0] and out["s"].tolist() == ["'-1.5", "'+x"]
    assert out.loc[0, "ok"] == "a-b" and pd.isna(out.loc[1, "ok"])


def test_xlsx_sheets_types_and_metadata(files: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(files["xlsx"], read_only=True)
    assert wb.sheetnames == ["gaps", "metadata"]
    rows = list(wb["gaps"].iter_rows(values_only=True))
    header = list(rows[0])
    assert rows[2][header.index("hamlet_name")] == "Ấp Bến Đình"
    assert isinstance(rows[2][header.index("households")], int)
    meta = {r[0]: r[1] for r in wb["metadata"].iter_rows(min_row=2, values_only=True)}
    assert meta["threshold_basis"] == "national_target"


def test_format_and_overwrite_rules(gaps: gpd.GeoDataFrame, tmp_path: Path) -> None:
    assert format_from_path("a/b/Gaps.SHP.ZIP") == "shp.zip"
    assert format_from_path("x.geojson") == "geojson"
    with pytest.raises(ParameterError, match=r"\.gpkg"):
        format_from_path("x.zip")
    target = write_export(gaps, tmp_path / "g.csv", metadata={})
    with pytest.raises(ParameterError, match="already exists"):
        write_export(gaps, target, metadata={})
    write_export(gaps, target, metadata={}, overwrite=True)
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    with pytest.raises(ParameterError, match="one layer"):
        export_bytes({"a": gaps, "b": gaps}, "geojson", metadata={})


def test_multi_layer_lines_and_polygons(gaps: gpd.GeoDataFrame) -> None:
    lines = gpd.GeoDataFrame(
        {"route_id": ["EXT-0001"], "length_m": [12.5]},
        geometry=[shapely.LineString([(106.3, 9.9), (106.31, 9.91)])],
        crs=4326,
    )
    polys = mini_province().communes
    for fmt in ("gpkg", "kml", "shp.zip"):
        raw = export_bytes({"gaps": gaps, "routes": lines, "communes": polys}, fmt, metadata={"k": "v"})
        assert len(raw) > 100
    kml = ET.fromstring(export_bytes({"routes": lines, "communes": polys}, "kml", metadata={}))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert kml.find(".//k:LineString", ns) is not None and kml.find(".//k:Polygon", ns) is not None


def test_gaps_command_every_format(
    tiny_package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for ext in ("gpkg", "geojson", "kml", "shp.zip", "csv"):
        out = tmp_path / f"gaps.{ext}"
        signal = ["--signal", "standin"] if ext != "gpkg" else []  # gpkg: the coverage engine
        assert main(["gaps", str(tiny_package), "--out", str(out), *signal]) == 0, capsys.readouterr().err
        df = pyogrio.read_dataframe(_ogr_path(out), layer="gaps" if ext == "gpkg" else None)
        assert len(df) == 3
        if ext == "gpkg":
            assert set(df["signal_source"]) == {"coverage_engine"}
            meta = dict(pyogrio.read_dataframe(out, layer="metadata").values.tolist())
            assert meta["signal_source"].startswith("coverage engine")
    assert "flagged" in capsys.readouterr().out
    assert main(["gaps", str(tiny_package), "--out", str(tmp_path / "gaps.csv")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["gaps", str(tiny_package), "--out", str(tmp_path / "c.csv"), "--with-communes"]) == 2
    assert "multi-layer" in capsys.readouterr().err
    assert (
        main(
            [
                "gaps",
                str(tiny_package),
                "--out",
                str(tmp_path / "c.gpkg"),
                "--with-communes",
                "--signal",
                "standin",
            ]
        )
        == 0
    )
    assert [n for n, _ in pyogrio.list_layers(tmp_path / "c.gpkg")] == ["gaps", "communes", "metadata"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[thresholds]\nftth_min_share = 2.0\n", encoding="utf-8")
    assert main(["gaps", str(tiny_package), "--out", str(tmp_path / "x.csv"), "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "ftth_min_share" in err


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "kml", "shp.zip", "csv", "xlsx"])
def test_empty_layer_exports(fmt: str, tmp_path: Path) -> None:
    empty = gpd.GeoDataFrame(
        {"route_id": pd.Series([], dtype="str"), "length_m": pd.Series([], dtype=float)},
        geometry=gpd.GeoSeries([], crs=4326),
    )
    path = write_export(empty, tmp_path / f"e.{fmt}", metadata={"note": "no extension needed"}, layer="plan")
    if fmt != "xlsx":
        assert len(pyogrio.read_dataframe(_ogr_path(path), layer="plan" if fmt == "gpkg" else None)) == 0


# --------------------------------------------------------------------------- 2025-07 layout


@pytest.fixture(scope="module")
def reform_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from analysis.gaps import commune_indicators
    from tests.package_2025 import package_and_gaps

    root = tmp_path_factory.mktemp("reform")
    pkg, gaps_2025 = package_and_gaps(root / "pkg")
    layers = {"gaps": gaps_2025, "communes": commune_indicators(gaps_2025, pkg.communes)}
    meta = gaps_2025.attrs["phusong"]
    return {ext: write_export(layers, root / f"reform.{ext}", metadata=meta) for ext in ("shp.zip", "gpkg")}


def test_2025_shapefile_carries_former_units_in_short_fields(reform_files: dict[str, Path]) -> None:
    fields = {
        "former_province": "former_prv",
        "former_district": "former_dst",
        "old_commune_codes": "old_codes",
        "former_commune_code": "old_cmcode",
        "former_commune_name": "old_cmname",
    }
    with zipfile.ZipFile(reform_files["shp.zip"]) as zf:
        for layer, columns in (("gaps", list(fields)), ("communes", list(fields)[:3])):
            mapping = pd.read_csv(io.BytesIO(zf.read(f"{layer}_fields.csv")), encoding="utf-8-sig", dtype=str)
            mapped = dict(zip(mapping["column"], mapping["field"], strict=True))
            assert {c: mapped[c] for c in columns} == {c: fields[c] for c in columns}
    gaps_back = pyogrio.read_dataframe(f"/vsizip/{reform_files['shp.zip']}/gaps.shp")
    h5 = gaps_back.set_index("hamlet_id").loc["H5"]
    assert (h5["former_prv"], h5["former_dst"], h5["old_codes"]) == (
        "Bến Tre",
        "Huyện Châu Thành",
        "28807;28813;28828",
    )
    assert (h5["old_cmcode"], h5["old_cmname"]) == ("28813", "Xã Giao Long")
    communes_back = pyogrio.read_dataframe(f"/vsizip/{reform_files['shp.zip']}/communes.shp")
    c4 = communes_back.set_index("commune_id").loc["C4"]
    assert (c4["commune_nm"], c4["former_prv"], c4["old_codes"]) == (
        "Xã Giao Long",
        "Bến Tre;Trà Vinh",
        "28807;28813;28828",
    )


@pytest.mark.skipif(OGRINFO is None, reason="Debian gdal-bin (ogrinfo) is not installed")
@pytest.mark.parametrize("ext", ["shp.zip", "gpkg"])
def test_2025_former_units_read_back_with_ogrinfo(reform_files: dict[str, Path], ext: str) -> None:
    proc = subprocess.run(
        [str(OGRINFO), "-ro", "-al", "-q", _ogr_path(reform_files[ext])],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert b"Warning" not in proc.stderr, proc.stderr
    out = proc.stdout.decode("utf-8")
    field = {
        "shp.zip": ("former_prv", "former_dst", "old_codes"),
        "gpkg": ("former_province", "former_district", "old_commune_codes"),
    }[ext]
    assert f"{field[0]} (String) = Bến Tre;Trà Vinh" in out
    assert f"{field[1]} (String) = Huyện Châu Thành" in out
    assert f"{field[1]} (String) = Thành phố Trà Vinh" in out
    assert f"{field[2]} (String) = 29461;29479;29485" in out  # Xã Trà Cú's old communes, a code column
    assert "Xã Ngãi Xuyên".encode() in proc.stdout and "Ấp Giao Lợi".encode() in proc.stdout
