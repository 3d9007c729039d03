"""Readers of geo/io.py: encodings, CSV dialects, GeoJSON / GeoPackage / zipped Shapefile / CSV."""

from __future__ import annotations

import codecs
import json
import unicodedata
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from geo.errors import CRSError, DataNotFoundError, UnreadableFileError
from geo.io import decode_text, encode_cp1258, read_layer, read_table, read_toml, read_vector

NAMES = ["Xã Long Đức", "Ấp Chợ", "Khóm 3", "Thị trấn Cầu Ngang", "Ấp Giồng Lớn", "Phường 1", "Xã Ngũ Lạc"]

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
ALPHABET = VIETNAMESE + VIETNAMESE.upper() + " 0123456789-"


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"ten": NAMES, "n": list(range(len(NAMES)))},
        geometry=[Point(106.3 + 0.01 * i, 9.9) for i in range(len(NAMES))],
        crs="EPSG:4326",
    )


def _write(gdf: gpd.GeoDataFrame, path: Path, **kwargs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's write-time notes are not under test here
        gdf.to_file(path, **kwargs)


def _zip_shapefile(folder: Path, stem: str, target: Path, *, exts: tuple[str, ...]) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for ext in exts:
            zf.write(folder / f"{stem}.{ext}", f"{stem}.{ext}")
    return target


# --------------------------------------------------------------------------- text


def test_decode_utf8_with_and_without_bom() -> None:
    text = "tên,ấp\nĐức,Chợ\n"
    assert decode_text(text.encode("utf-8")).encoding == "utf-8"
    with_bom = decode_text(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert with_bom.text == text and with_bom.encoding == "utf-8-sig" and not with_bom.is_legacy


def test_decode_utf16_with_bom() -> None:
    decoded = decode_text("Ấp Chợ\n".encode("utf-16"))
    assert decoded.text == "Ấp Chợ\n" and decoded.encoding == "utf-16"


def test_decode_windows_1258_fallback_gives_nfc_text() -> None:
    decoded = decode_text(encode_cp1258("Xã Long Đức"))
    assert decoded.is_legacy
    assert decoded.text == "Xã Long Đức"
    assert decoded.text == unicodedata.normalize("NFC", decoded.text)


def test_decode_rejects_binary_and_unknown_bytes() -> None:
    with pytest.raises(UnreadableFileError, match="f.csv: binary data"):
        decode_text(b"ab\x00cd", source="f.csv")
    with pytest.raises(UnreadableFileError, match="neither UTF-8 .* nor Windows-1258"):
        decode_text(b"abc \x81\x8d", source="f.csv")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=30))
def test_cp1258_round_trip(text: str) -> None:
    data = encode_cp1258(text)
    decoded = decode_text(data)
    assert decoded.text == unicodedata.normalize("NFC", text)
    assert decoded.is_legacy == any(ord(ch) > 127 for ch in text)


# --------------------------------------------------------------------------- CSV


def test_read_table_semicolon_decimal_comma_and_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(codecs.BOM_UTF8 + b" Site_ID ; LAT ;lon\nS1; 9,93 ;106,34\n")
    read = read_table(path, display="towers/t.csv")
    assert list(read.frame.columns) == ["site_id", "lat", "lon"]
    assert read.frame.iloc[0].tolist() == ["S1", "9,93", "106,34"]
    assert read.decimal_comma and read.warnings == ()


def test_read_table_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="x/e.csv: file is empty"):
        read_table(path, display="x/e.csv")


def test_csv_layer_with_lat_lon_and_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_bytes(encode_cp1258("node_id;latitude;longitude;name\nN1;9,9;106,3;Tủ cáp Đức\nN2;;106,3;x\n"))
    read = read_layer(path)
    assert read.crs is not None and read.crs.to_epsg() == 4326
    assert read.frame.geometry.iloc[0].equals(Point(106.3, 9.9))
    assert read.frame.geometry.iloc[1] is None
    assert read.frame["name"].iloc[0] == "Tủ cáp Đức"
    assert [w.message for w in read.warnings] == ["text is not UTF-8; read it as Windows-1258 (cp1258)"]


def test_csv_layer_with_wkt(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        'road_id,highway,geometry\nR1,track,"LINESTRING (106.3 9.9, 106.4 9.95)"\nR2,path,"LINESTRING (1"\n',
        encoding="utf-8",
    )
    gdf = read_layer(path).frame
    assert gdf.geometry.iloc[0].length == pytest.approx(0.1118, abs=1e-4)
    assert gdf.geometry.iloc[1] is None  # unparsable WKT: reported by validation as missing


def test_csv_layer_without_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="neither lat/lon columns nor a WKT"):
        read_layer(path)


# --------------------------------------------------------------------------- Shapefile


@pytest.mark.parametrize("with_cpg", [True, False])
def test_zipped_shapefile_in_windows_1258(tmp_path: Path, with_cpg: bool) -> None:
    _write(_frame(), tmp_path / "xa.shp", encoding="cp1258")
    exts = ("shp", "shx", "dbf", "prj") + (("cpg",) if with_cpg else ())
    read = read_layer(_zip_shapefile(tmp_path, "xa", tmp_path / "xa.shp.zip", exts=exts))
    assert read.frame["ten"].tolist() == NAMES  # GDAL's own CP1258 recoding would drop characters
    assert read.crs is not None and read.crs.to_epsg() == 4326
    assert read.encoding == "cp1258"
    assert len(read.warnings) == (0 if with_cpg else 1)


def test_shapefile_utf8_without_cpg_is_detected(tmp_path: Path) -> None:
    _write(_frame(), tmp_path / "xa.shp", encoding="utf-8")
    (tmp_path / "xa.cpg").unlink()
    read = read_layer(tmp_path / "xa.shp")
    assert read.frame["ten"].tolist() == NAMES
    assert read.encoding == "utf-8" and read.warnings == ()


def test_shapefile_without_prj_has_no_crs(tmp_path: Path) -> None:
    _write(_frame(), tmp_path / "xa.shp", encoding="utf-8")
    (tmp_path / "xa.prj").unlink()
    assert read_layer(tmp_path / "xa.shp").crs is None
    with pytest.raises(CRSError, match="xa.shp: no CRS declared"):
        read_vector(tmp_path / "xa.shp")


def test_zip_without_shapefile(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(UnreadableFileError, match="contains no .shp"):
        read_layer(path)


# --------------------------------------------------------------------------- GeoJSON and GeoPackage


def test_geojson_in_windows_1258(tmp_path: Path) -> None:
    path = tmp_path / "h.geojson"
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ten": n},
                "geometry": {"type": "Point", "coordinates": [106.3, 9.9]},
            }
            for n in NAMES
        ],
    }
    path.write_bytes(encode_cp1258(json.dumps(doc, ensure_ascii=False)))
    read = read_layer(path, display="boundaries/h.geojson")
    assert read.frame["ten"].tolist() == NAMES
    assert read.warnings[0].file == "boundaries/h.geojson"


def test_truncated_geojson(tmp_path: Path) -> None:
    path = tmp_path / "h.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="b/h.geojson: cannot read"):
        read_layer(path, display="b/h.geojson")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="nope.geojson: file not found"):
        read_layer(tmp_path / "nope.geojson")


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "a.kml"
    path.write_text("<kml/>", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="unsupported file type"):
        read_layer(path)


def test_geopackage_projected_is_returned_in_wgs84(tmp_path: Path) -> None:
    poly = gpd.GeoDataFrame(
        {"commune_id": ["C1"]},
        geometry=[Polygon([(106.3, 9.9), (106.35, 9.9), (106.35, 9.95)])],
        crs="EPSG:4326",
    )
    _write(poly.to_crs(32648), tmp_path / "c.gpkg", driver="GPKG", layer="communes")
    _write(_frame(), tmp_path / "c.gpkg", driver="GPKG", layer="other")
    read = read_layer(tmp_path / "c.gpkg", layer="communes")
    assert read.crs is not None and read.crs.to_epsg() == 32648
    assert "holds 2 layers" in read.warnings[0].message
    gdf = read_vector(tmp_path / "c.gpkg", layer="communes")
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].bounds[0] == pytest.approx(106.3, abs=1e-7)


# --------------------------------------------------------------------------- TOML


def test_read_toml(tmp_path: Path) -> None:
    path = tmp_path / "dataset.toml"
    path.write_text('name = "Trà Vinh"\n[layers.communes]\nsynthetic = false\n', encoding="utf-8")
    doc, notes = read_toml(path)
    assert doc["name"] == "Trà Vinh" and doc["layers"]["communes"]["synthetic"] is False and notes == ()
    path.write_text('name = "x"\nbad line\n', encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="dataset.toml: not valid TOML.*line 2"):
        read_toml(path)
