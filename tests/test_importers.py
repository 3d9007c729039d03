"""Importers: OpenCelliD clustering, operator sheets, OSM roads, survey name matching, boundaries."""

from __future__ import annotations

import io
import json
import tomllib
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from cli.main import main
from geo import store
from geo.errors import ImportRejectedError
from geo.importers import ImportOptions, apply_import, plan_import, restore_version
from geo.importers.opencellid import cluster_sites
from geo.importers.operator_sheet import parse_coordinate_deg
from geo.importers.survey import NameIndex, Place, match_key
from geo.io import encode_cp1258, read_vector
from geo.package import load_package

HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"


def _offset(lon: float, lat: float, east_m: float) -> tuple[float, float]:
    """Point ``east_m`` metres east of (lon, lat) in UTM 48N."""
    fwd = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
    inv = pyproj.Transformer.from_crs(32648, 4326, always_xy=True)
    x, y = fwd.transform(lon, lat)
    return inv.transform(x + east_m, y)


def _oci_row(radio: str, net: int, cell: int, lon: float, lat: float, updated: int, mcc: int = 452) -> str:
    return f"{radio},{mcc},{net},100,{cell},0,{lon:.7f},{lat:.7f},500,10,1,1600000000,{updated},0\n"


def _apply(pkg: Path, layer: str, path: Path, **opts: object) -> None:
    plan = plan_import(pkg, layer, path, options=ImportOptions(**opts))  # type: ignore[arg-type]
    assert plan.ok, plan.preview()
    apply_import(plan)


# ---------------------------------------------------------------- OpenCelliD


def test_cluster_sites_single_linkage_chains() -> None:
    lon0, lat0 = 106.32, 9.92
    pts = [(lon0, lat0), _offset(lon0, lat0, 100), _offset(lon0, lat0, 200), _offset(lon0, lat0, 1000)]
    lon, lat = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    assert cluster_sites(lon, lat, threshold_m=150).tolist() == [0, 0, 0, 1]  # 0-100-200 m chain
    assert cluster_sites(lon, lat, threshold_m=90).tolist() == [0, 1, 2, 3]


def test_opencellid_import_with_known_clustering(tiny_package: Path, tmp_path: Path) -> None:
    a = (106.3200, 9.9200)
    b, c, far = _offset(*a, 100), _offset(*a, 200), _offset(*a, 1000)
    rows = [
        _oci_row("LTE", 4, 1, *a, 1700000000),
        _oci_row("LTE", 4, 1, *a, 1600000000),  # same (radio, lon, lat), older: dropped
        _oci_row("GSM", 4, 2, *b, 1700000000),
        _oci_row("LTE", 4, 3, *c, 1700000000),  # chained to a via b: same site
        _oci_row("LTE", 4, 4, *far, 1700000000),  # own site
        _oci_row("LTE", 2, 5, *a, 1700000000),  # VinaPhone at the same place: other operator, own site
        _oci_row("NR", 1, 6, *b, 1700000000),  # MobiFone 5G
        _oci_row("LTE", 9, 7, *a, 1700000000),  # unknown MNC: kept aside and reported
        _oci_row("LTE", 4, 8, 2.35, 48.85, 1700000000, mcc=208),  # France: not Vietnam
    ]
    src = tmp_path / "452.csv"
    src.write_text(HEADER + "".join(rows))
    plan = plan_import(tiny_package, "towers", src)
    assert plan.ok, plan.preview()
    assert plan.importer == "opencellid"
    text = "\n".join(plan.report)
    assert "1 row(s) left out: MCC other than 452" in text
    assert "1 row(s) left out as duplicates of the same (radio, lon, lat)" in text
    assert "Viettel: 4 cell(s) clustered into 2 site(s)" in text
    assert any("unknown MNC 09" in p.message for p in plan.problems)
    apply_import(plan)
    sites = pd.read_csv(tiny_package / "towers/sites.csv", dtype={"site_id": str})
    viettel = sites[sites["operator"] == "Viettel"]
    groups = viettel.groupby("site_id")["cell_id"].apply(lambda s: sorted(s)).tolist()
    assert sorted(groups) == [
        ["452-04-100-1-LTE", "452-04-100-2-GSM", "452-04-100-3-LTE"],
        ["452-04-100-4-LTE"],
    ]
    kept = viettel[viettel["cell_id"] == "452-04-100-1-LTE"].iloc[0]
    assert kept["updated"] == "2023-11-14"  # the latest 'updated' of the duplicates
    assert set(sites["operator"]) == {"Viettel", "VinaPhone", "MobiFone"}
    assert sites.loc[sites["operator"] == "MobiFone", "technology"].tolist() == ["5G"]
    assert sites.loc[sites["technology"] == "2G", "band_mhz"].tolist() == [900.0]
    assert sites["site_id"].nunique() == 4
    site = viettel[viettel["site_id"] == kept["site_id"]]
    assert site["lat"].nunique() == 1 and site["lon"].nunique() == 1  # site columns repeated
    unassigned = pd.read_csv(tiny_package / "towers/unassigned_cells.csv")
    assert unassigned["net"].tolist() == [9]
    meta = tomllib.loads((tiny_package / "dataset.toml").read_text())["layers"]["towers"]
    assert meta["crowd_sourced"] is True and meta["synthetic"] is False


def test_opencellid_headerless_download(tiny_package: Path, tmp_path: Path) -> None:
    import gzip

    src = tmp_path / "452.csv.gz"
    src.write_bytes(
        gzip.compress(
            (
                _oci_row("LTE", 4, 1, 106.32, 9.92, 1700000000)
                + _oci_row("UMTS", 2, 2, 106.38, 9.93, 1700000000)
            ).encode()
        )
    )
    plan = plan_import(tiny_package, "towers", src)
    assert plan.ok and plan.importer == "opencellid"
    assert plan.diffs[-1].rows_after == 2


# ---------------------------------------------------------------- operator sheets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("106.3456", 106.3456),
        ("106,3456", 106.3456),
        ("106°20'30.5\"E", 106 + 20 / 60 + 30.5 / 3600),
        ("9°56'12\"N", 9 + 56 / 60 + 12 / 3600),
        ("106 20 30.5", 106 + 20 / 60 + 30.5 / 3600),
        ("9:56:12", 9 + 56 / 60 + 12 / 3600),
        ("106° 20′ 30.5″ Đ", 106 + 20 / 60 + 30.5 / 3600),
        ("106°20'30.5\"W", -(106 + 20 / 60 + 30.5 / 3600)),
    ],
)
def test_parse_coordinate_deg(text: str, expected: float) -> None:
    assert parse_coordinate_deg(text) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("text", ["abc", "106°61'00\"E", "9°56'70\"N", "106°20'E W", ""])
def test_parse_coordinate_deg_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_coordinate_deg(text)


def test_operator_xlsx_vietnamese_headers_and_dms(tiny_package: Path, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        [
            "Mã trạm",
            "Nhà mạng",
            "Kinh độ",
            "Vĩ độ",
            "Độ cao anten (m)",
            "Công nghệ",
            "Băng tần",
            "Góc phương vị",
            "Trạng thái",
        ]
    )
    ws.append(
        ["TVH001", "VNPT", "106°19'30\"E", "9°55'12\"N", 35, "2G/4G", "900/1800", 120, "Đang hoạt động"]
    )
    ws.append(["TVH002", "Viettel", 106.3712, 9.9301, 42.5, "LTE", "B3", None, "dự kiến"])
    src = tmp_path / "tram.xlsx"
    wb.save(src)
    _apply(tiny_package, "towers", src)
    sites = pd.read_csv(tiny_package / "towers/sites.csv", keep_default_na=False)
    assert sites["cell_id"].tolist() == ["TVH001-2G", "TVH001-4G", "TVH002-4G"]
    first = sites.iloc[0]
    assert first["operator"] == "VinaPhone" and first["status"] == "active"
    assert first["lon"] == pytest.approx(106.325, abs=1e-6) and first["lat"] == pytest.approx(9.92, abs=1e-6)
    assert sites["band_mhz"].tolist() == [900.0, 1800.0, 1800.0]
    assert sites["technology"].tolist() == ["2G", "4G", "4G"]
    assert sites.iloc[2]["status"] == "planned" and str(sites.iloc[2]["azimuth_deg"]) == ""


def test_title_rows_above_the_header_are_skipped(tiny_package: Path, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH TRẠM BTS TỈNH TRÀ VINH"])
    ws.append([])
    ws.append(["(Kèm theo báo cáo số 12/BC-STTTT)"])
    ws.append(["Mã trạm", "Nhà mạng", "Kinh độ", "Vĩ độ", "Độ cao anten", "Công nghệ", "Băng tần"])
    ws.append(["T1", "Viettel", 106.33, 9.93, 30, "4G", 1800])
    src = tmp_path / "bts.xlsx"
    wb.save(src)
    _apply(tiny_package, "towers", src)
    assert "T1-4G" in pd.read_csv(tiny_package / "towers/sites.csv")["cell_id"].tolist()
    csv_src = tmp_path / "bts.csv"
    csv_src.write_text(
        "DANH SÁCH TRẠM BTS\n\nMã trạm;Nhà mạng;Kinh độ;Vĩ độ;Độ cao anten;Công nghệ;Băng tần\n"
        "T2;Viettel;106,33;9,93;30;4G;1800\n",
        encoding="utf-8",
    )
    _apply(tiny_package, "towers", csv_src)
    assert "T2-4G" in pd.read_csv(tiny_package / "towers/sites.csv")["cell_id"].tolist()


def test_operator_sheet_replaces_only_its_operators(tiny_package: Path, tmp_path: Path) -> None:
    src = tmp_path / "viettel.csv"
    src.write_text(
        "Site ID,Operator,Longitude,Latitude,Antenna height,Technology,Band\n"
        "V9,Viettel,106.33,9.93,40,5G,n78\n",
        encoding="utf-8",
    )
    _apply(tiny_package, "towers", src)
    sites = pd.read_csv(tiny_package / "towers/sites.csv", keep_default_na=False)
    assert sites["cell_id"].tolist() == ["S2-1", "V9-5G"]  # Viettel's S1 replaced, VinaPhone's S2 kept
    assert sites.loc[1, "band_mhz"] == 3500.0
    _apply(tiny_package, "towers", src, replace_all=True)
    assert pd.read_csv(tiny_package / "towers/sites.csv")["cell_id"].tolist() == ["V9-5G"]


def test_operator_sheet_row_errors_are_listed(tiny_package: Path, tmp_path: Path) -> None:
    src = tmp_path / "sites.csv"
    src.write_text(
        "Site ID;Operator;Longitude;Latitude;Height;Technology;Band\n"
        "A;Viettel;106,32;9,92;30;4G;1800\nB;Foo;106.33;9.93;30;4G;1800\nC;Viettel;x;9.93;30;6G;1800\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejectedError) as err:
        plan_import(tiny_package, "towers", src)
    assert "[row 3]: operator 'Foo'" in str(err.value) and "[row 4]" in str(err.value)


# ---------------------------------------------------------------- OSM roads


def test_osm_roads_clipped_to_province(tiny_package: Path, tmp_path: Path) -> None:
    def feat(geom: dict, **props: object) -> dict:
        return {"type": "Feature", "properties": props, "geometry": geom}

    doc = {
        "type": "FeatureCollection",
        "features": [
            feat(
                {"type": "LineString", "coordinates": [[106.31, 9.91], [106.39, 9.94]]},
                highway="primary",
                name="Quốc lộ 53",
                osm_id=111,
            ),
            feat(
                {"type": "LineString", "coordinates": [[106.32, 9.92], [106.60, 9.92]]},
                highway="tertiary",
                osm_id=222,
            ),
            feat(
                {
                    "type": "MultiLineString",
                    "coordinates": [[[106.31, 9.93], [106.32, 9.93]], [[106.36, 9.93], [106.37, 9.94]]],
                },
                highway="track",
                osm_id=333,
            ),
            feat(
                {"type": "LineString", "coordinates": [[105.80, 21.0], [105.81, 21.01]]},
                highway="primary",
                osm_id=444,
            ),
            feat({"type": "Point", "coordinates": [106.33, 9.93]}, highway="bus_stop", osm_id=555),
        ],
    }
    src = tmp_path / "roads.geojson"
    src.write_text(json.dumps(doc, ensure_ascii=False))
    _apply(tiny_package, "roads", src, clip_buffer_km=1.0)
    roads = read_vector(tiny_package / "roads/roads.geojson")
    assert sorted(roads["road_id"]) == ["w111", "w222", "w333", "w333-2"]  # Hà Nội road and bus stop left out
    assert roads.loc[roads["road_id"] == "w111", "name"].item() == "Quốc lộ 53"
    long_road = roads.loc[roads["road_id"] == "w222"].geometry.item()
    assert long_road.bounds[2] < 106.42  # clipped at the province (+1 km)


# ---------------------------------------------------------------- survey and names


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Xã Long Đức", "LONG DUC"),
        ("Xã Long Đức", "xa long duc"),
        ("Phường 1", "P.1"),
        ("Phường 1", "Phuong 01"),
        ("Thị trấn Càng Long", "TT Càng Long"),
        ("Thị trấn Càng Long", "TT. Cang Long"),
        ("Ấp Sóc Chuối", "Soc Chuoi"),
        ("Ấp Sóc Chuối", "ấp sóc-chuối"),
        ("Ấp Tha La", "Thala"),
        ("Khóm 3", "khom 03"),
    ],
)
def test_match_key_variants(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


def test_name_index_suggests_and_flags_ambiguity() -> None:
    places = [
        Place("H1", "Ấp Sóc Chuối", "C1", "Xã Long Đức"),
        Place("H2", "Ấp Chợ", "C1", "Xã Long Đức"),
        Place("H3", "Ấp Chợ", "C2", "Phường 1"),
        Place("H4", "Ấp Ô Chát", "C2", "Phường 1"),
    ]
    index = NameIndex(places)
    assert index.match("soc chuoi").places[0].place_id == "H1"
    assert index.match("O Chat").places[0].place_id == "H4"
    amb = index.match("ap cho")
    assert amb.status == "ambiguous" and len(amb.suggestions) == 2
    assert index.match("ap cho", within={"C2"}).places[0].place_id == "H3"
    communes = NameIndex(
        [Place("1", "Xã Định An", "1", "Huyện Trà Cú"), Place("2", "Thị trấn Định An", "2", "Huyện Trà Cú")]
    )
    assert communes.match("THI TRAN DINH AN").places[0].place_id == "2"
    assert communes.match("xa Dinh An").places[0].place_id == "1"
    assert communes.match("Định An").status == "ambiguous"
    miss = index.match("Sóc Chuổi Mới")
    assert miss.status == "unmatched" and miss.suggestions[0].startswith("Ấp Sóc Chuối")


def test_survey_by_names_with_spelling_variants(tiny_package: Path, tmp_path: Path) -> None:
    src = tmp_path / "khao_sat.csv"
    src.write_text(
        "Tên xã,Tên ấp,Số hộ,Số hộ có FTTH,Số người trưởng thành,Có điện thoại thông minh,Ngày khảo sát\n"
        "LONG DUC,ap cho,100,60,300,200,01/10/2026\n"
        "xa long duc,Giong Lon,150,80,450,300,01/10/2026\n"
        "P.1,KHOM 03,180,120,500,380,01/10/2026\n"
        "Phuong 01,,200,140,580,450,01/10/2026\n",
        encoding="utf-8",
    )
    _apply(tiny_package, "survey", src)
    survey = pd.read_csv(tiny_package / "survey/hamlet_survey.csv", keep_default_na=False, dtype=str)
    assert survey["hamlet_id"].tolist() == ["H1", "H2", "H3", ""]
    assert survey["commune_id"].tolist() == ["C1", "C1", "C2", "C2"]
    assert set(survey["survey_date"]) == {"2026-10-01"}


def test_survey_unmatched_rows_refused_or_skipped_with_report(tiny_package: Path, tmp_path: Path) -> None:
    src = tmp_path / "khao_sat.csv"
    src.write_text(
        "Mã ấp,Tên xã,Tên ấp,Số hộ,Số hộ có FTTH,Số người trưởng thành,Có điện thoại thông minh,"
        "Ngày khảo sát,Nguồn\n"
        "H1,,,100,60,300,200,2026-10-01,UBND\n"
        ",Long Đức,Ấp Giồng Lớm,150,80,450,300,2026-10-01,UBND\n"
        ",Xã Không Có,Ấp Chợ,150,80,450,300,2026-10-01,UBND\n",
        encoding="utf-8",
    )
    before = store.file_hashes(tiny_package)
    plan = plan_import(tiny_package, "survey", src)
    assert not plan.ok
    messages = [str(p) for p in plan.errors]
    assert any("[row 3]" in m and "did you mean: Ấp Giồng Lớn" in m for m in messages), messages
    assert any("[row 4]" in m and "'Xã Không Có'" in m for m in messages), messages
    assert store.file_hashes(tiny_package) == before
    plan = plan_import(tiny_package, "survey", src, options=ImportOptions(skip_unmatched=True))
    assert plan.ok and len([p for p in plan.problems if "row" in p.where]) == 2
    apply_import(plan)
    assert pd.read_csv(tiny_package / "survey/hamlet_survey.csv")["hamlet_id"].tolist() == ["H1"]


# ---------------------------------------------------------------- boundaries


def _shp_zip(gdf: gpd.GeoDataFrame, *, encoding: str = "UTF-8", cpg: str | None = None) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pyogrio.write_dataframe(gdf, Path(tmp) / "xa.shp", encoding=encoding)
        if cpg is not None:
            (Path(tmp) / "xa.cpg").write_text(cpg)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for p in Path(tmp).iterdir():
                zf.write(p, arcname=p.name)
    return buf.getvalue()


VN2000_TM3 = (
    "+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +towgs84=-191.90441429,"
    "-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278 +units=m"
)


@pytest.mark.parametrize(
    ("crs", "fmt"), [("EPSG:9209", "shp.zip"), ("EPSG:3405", "shp.zip"), (VN2000_TM3, "gpkg")]
)
def test_boundaries_in_vn2000_reprojected(tiny_package: Path, tmp_path: Path, crs: str, fmt: str) -> None:
    current = read_vector(tiny_package / "boundaries/communes.geojson")
    upload = gpd.GeoDataFrame(
        {"MA_XA": ["C1", "C2"], "TEN_XA": ["Xã Long Đức", "Phường 1"]},
        geometry=current.geometry.values,
        crs=4326,
    ).to_crs(crs)
    src = tmp_path / f"xa.{fmt}"
    if fmt == "gpkg":
        pyogrio.write_dataframe(upload, src)
    else:
        src.write_bytes(_shp_zip(upload))
    plan = plan_import(tiny_package, "boundaries", src)
    assert plan.ok and not plan.problems, plan.preview()
    apply_import(plan)
    out = read_vector(tiny_package / "boundaries/communes.geojson")
    assert out["commune_name"].tolist() == ["Xã Long Đức", "Phường 1"]
    assert out["population"].tolist() == [1100, 750]  # carried over from the current layer
    assert out["commune_type"].tolist() == ["xã", "phường"]
    assert np.allclose(out.geometry.bounds.to_numpy(), current.geometry.bounds.to_numpy(), atol=1e-6)


def test_vn2000_prj_without_datum_shift_is_reported(tiny_package: Path, tmp_path: Path) -> None:
    current = read_vector(tiny_package / "boundaries/communes.geojson")
    upload = gpd.GeoDataFrame(
        {"ma_xa": ["C1", "C2"], "ten_xa": ["Xã Long Đức", "Phường 1"]},
        geometry=current.geometry.values,
        crs=4326,
    ).to_crs(VN2000_TM3)
    src = tmp_path / "xa.zip"
    src.write_bytes(_shp_zip(upload))  # the ESRI .prj drops +towgs84
    plan = plan_import(tiny_package, "boundaries", src)
    assert any("no datum-shift (TOWGS84)" in p.message and p.severity == "warning" for p in plan.problems)


def test_boundaries_cpg_1258_honoured(tiny_package: Path, tmp_path: Path) -> None:
    current = read_vector(tiny_package / "boundaries/communes.geojson")
    names = [encode_cp1258(n).decode("latin-1") for n in ("Xã Long Đức", "Phường 1")]
    upload = gpd.GeoDataFrame(
        {"ma_xa": ["C1", "C2"], "ten_xa": names}, geometry=current.geometry.values, crs=4326
    )
    src = tmp_path / "xa.zip"
    src.write_bytes(_shp_zip(upload, encoding="latin1", cpg="1258"))
    _apply(tiny_package, "boundaries", src)
    assert read_vector(tiny_package / "boundaries/communes.geojson")["commune_name"].tolist() == [
        "Xã Long Đức",
        "Phường 1",
    ]


def test_boundaries_gpkg_and_hamlets_placed_in_communes(tiny_package: Path, tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame(
        {
            "ten_ap": ["Ấp Chợ", "Ấp Giồng Lớn", "Khóm 3", "Ấp Sóc Chuối"],
            "so_ho": [120, 180, 200, 50],
            "dan_so": [440, 660, 750, 200],
        },
        geometry=shapely.points([[106.31, 9.92], [106.34, 9.93], [106.38, 9.92], [106.39, 9.94]]),
        crs=4326,
    ).to_crs(32648)
    src = tmp_path / "ap.gpkg"
    pyogrio.write_dataframe(pts, src, layer="ap")
    plan = plan_import(tiny_package, "hamlets", src)
    assert plan.ok, plan.preview()
    apply_import(plan)
    out = read_vector(tiny_package / "boundaries/hamlets.geojson")
    assert out["hamlet_id"].tolist() == ["H1", "H2", "H3", "C2-N01"]
    assert out["commune_id"].tolist() == ["C1", "C1", "C2", "C2"]


def test_fibre_nodes_import(tiny_package: Path, tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"Mã nút": "OLT-1", "Nhà mạng": "VNPT", "Loại": "OLT", "Tên": "OLT Chợ"},
                "geometry": {"type": "Point", "coordinates": [106.32, 9.925]},
            },
            {
                "type": "Feature",
                "properties": {"Mã nút": "CAB-1", "Nhà mạng": "Viettel", "Loại": "tủ cáp", "Tên": ""},
                "geometry": {"type": "Point", "coordinates": [106.37, 9.925]},
            },
        ],
    }
    src = tmp_path / "nodes.geojson"
    src.write_text(json.dumps(doc, ensure_ascii=False))
    _apply(tiny_package, "fibre", src)
    assert read_vector(tiny_package / "fibre/nodes.geojson")["node_id"].tolist() == ["OLT-1", "CAB-1"]


def test_fibre_routes_import_lands_in_routes_and_keeps_nodes(tiny_package: Path, tmp_path: Path) -> None:
    nodes_before = (tiny_package / "fibre/nodes.geojson").read_bytes()
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"Mã tuyến": "T-01", "Nhà mạng": "VNPT", "Loại tuyến": "access"},
                "geometry": {"type": "LineString", "coordinates": [[106.32, 9.925], [106.37, 9.925]]},
            },
            {
                "type": "Feature",
                "properties": {"Mã tuyến": "T-02", "Nhà mạng": "Viettel", "Loại tuyến": "backbone"},
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [[[106.33, 9.92], [106.33, 9.93]], [[106.36, 9.92], [106.36, 9.93]]],
                },
            },
        ],
    }
    src = tmp_path / "tuyen_cap.geojson"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    _apply(tiny_package, "fibre", src)
    routes = read_vector(tiny_package / "fibre/routes.geojson")
    assert routes["route_id"].tolist() == ["T-01", "T-02"]
    assert routes["route_type"].tolist() == ["access", "backbone"]
    loaded = load_package(tiny_package).fibre_routes  # operator aliases are canonical once loaded
    assert loaded is not None and loaded["operator"].tolist() == ["VinaPhone", "Viettel"]
    assert (tiny_package / "fibre/nodes.geojson").read_bytes() == nodes_before
    meta = tomllib.loads((tiny_package / "dataset.toml").read_text(encoding="utf-8"))
    assert meta["layers"]["fibre_routes"]["file"] == "fibre/routes.geojson"
    assert meta["layers"]["fibre_routes"]["synthetic"] is False


# ---------------------------------------------------------------- CLI and exports


def test_cli_dry_run_previews_and_changes_nothing(
    tiny_package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "cells.csv"
    src.write_text(HEADER + _oci_row("LTE", 4, 1, 106.32, 9.92, 1700000000))
    before = store.file_hashes(tiny_package)
    assert main(["import", str(tiny_package), "--layer", "towers", str(src), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "towers/sites.csv: 4 -> 1 rows (+1 added, -4 removed, ~0 changed)" in out
    assert "nothing changed (dry run)" in out
    assert store.file_hashes(tiny_package) == before
    assert main(["import", str(tiny_package), "--layer", "towers", str(src)]) == 0
    assert main(["versions", str(tiny_package)]) == 0
    vid = store.list_versions(tiny_package)[0].version_id
    assert vid in capsys.readouterr().out
    assert main(["versions", str(tiny_package), "--restore", vid]) == 0
    assert store.file_hashes(tiny_package) == before


def test_reimporting_the_same_survey_changes_nothing(
    tiny_package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store.file_hashes(tiny_package)
    own = tiny_package.parent / "own.csv"
    own.write_bytes((tiny_package / "survey/hamlet_survey.csv").read_bytes())
    assert main(["import", str(tiny_package), "--layer", "survey", str(own)]) == 0
    assert "nothing to do: the layer equals the current one" in capsys.readouterr().out
    assert store.file_hashes(tiny_package) == before and store.list_versions(tiny_package) == []


def test_survey_with_no_matching_row_is_refused_with_suggestions(tiny_package: Path, tmp_path: Path) -> None:
    src = tmp_path / "s.csv"
    src.write_text("Tên xã,Tên ấp,Số hộ\nLong Đức,Ấp Chờ Mới,10\n", encoding="utf-8")
    with pytest.raises(ImportRejectedError, match="no row matches") as err:
        plan_import(tiny_package, "survey", src)
    assert "did you mean: Ấp Chợ" in str(err.value)


def test_imported_formula_names_are_neutralised_in_exports(tiny_package: Path, tmp_path: Path) -> None:
    exports = pytest.importorskip("layers.exports")
    evil = ['=HYPERLINK("http://x")', "+1+1", "-2-3", "@SUM(A1)"]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"highway": "track", "name": n, "osm_id": i},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[106.31, 9.92 + i / 1000], [106.33, 9.93]],
                },
            }
            for i, n in enumerate(evil)
        ],
    }
    src = tmp_path / "roads.geojson"
    src.write_text(json.dumps(doc))
    _apply(tiny_package, "roads", src)
    roads = read_vector(tiny_package / "roads/roads.geojson")
    assert sorted(roads["name"]) == sorted(evil)  # stored as imported
    csv_text = exports.export_bytes(roads, "csv", metadata={"source": "test"}).decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(csv_text), dtype=str)
    assert sorted(frame["name"]) == sorted("'" + n for n in evil)
    wb = openpyxl.load_workbook(io.BytesIO(exports.export_bytes(roads, "xlsx", metadata={"source": "t"})))
    cells = [c.value for row in wb.worksheets[0].iter_rows() for c in row]
    assert all(("'" + n) in cells for n in evil)
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in cells)


def test_update_layer_table_keeps_the_rest_of_dataset_toml() -> None:
    from geo.importers._common import update_layer_table

    text = (
        '# comment kept\nname = "X"\n\n[layers.towers]\nsynthetic = true\nseed = 1\n\n'
        "[layers.roads]\nsynthetic = true\n\n[generator]\nseed = 2\n"
    )
    out = update_layer_table(
        text, "towers", {"file": "towers/sites.csv", "synthetic": False, "note": 'a "q"'}
    )
    doc = tomllib.loads(out)
    assert doc["layers"]["towers"] == {"file": "towers/sites.csv", "synthetic": False, "note": 'a "q"'}
    assert doc["layers"]["roads"] == {"synthetic": True} and doc["generator"] == {"seed": 2}
    assert out.startswith("# comment kept\n")
    added = tomllib.loads(update_layer_table(out, "fibre_routes", {"synthetic": False}))
    assert added["layers"]["fibre_routes"] == {"synthetic": False} and added["generator"] == {"seed": 2}


def test_concurrent_plans_second_apply_is_refused(tiny_package: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(HEADER + _oci_row("LTE", 4, 1, 106.32, 9.92, 1700000000))
    b.write_text(HEADER + _oci_row("LTE", 2, 1, 106.38, 9.93, 1700000000))
    plan_a, plan_b = plan_import(tiny_package, "towers", a), plan_import(tiny_package, "towers", b)
    apply_import(plan_a)
    after_a = store.file_hashes(tiny_package)
    with pytest.raises(ImportRejectedError, match="changed since this import was previewed"):
        apply_import(plan_b)
    assert store.file_hashes(tiny_package) == after_a


@pytest.mark.slow
def test_each_format_imports_on_a_copy_of_the_bundled_data(tmp_path: Path) -> None:
    """The "done when" check: uploads shaped like real ones, made from Trà Vinh 2009, import and restore."""
    import shutil

    from geo.names import fold_diacritics
    from geo.validate import validate_package

    data = Path(__file__).resolve().parent.parent / "examples" / "tra-vinh-2009"
    pkg = tmp_path / "data"
    shutil.copytree(data, pkg)
    original = store.file_hashes(pkg)
    sites = pd.read_csv(pkg / "towers/sites.csv").head(300)
    mnc = {"MobiFone": 1, "VinaPhone": 2, "Viettel": 4, "Vietnamobile": 5, "Gmobile": 7}
    radio = {"2G": "GSM", "3G": "UMTS", "4G": "LTE", "5G": "NR"}
    oci = tmp_path / "452.csv"
    oci.write_text(
        HEADER
        + "".join(
            _oci_row(radio[r.technology], mnc[r.operator], i, r.lon + 1e-4 * (i % 3), r.lat, 1700000000)
            for i, r in enumerate(sites.itertuples())
        )
    )
    communes = read_vector(pkg / "boundaries/communes.geojson")
    hamlets = read_vector(pkg / "boundaries/hamlets.geojson")
    shp = gpd.GeoDataFrame(
        {"MA_XA": communes["commune_id"], "TEN_XA": communes["commune_name"]},
        geometry=communes.geometry.values,
        crs=4326,
    ).to_crs("EPSG:9209")
    (tmp_path / "xa.shp.zip").write_bytes(_shp_zip(shp))
    names = pd.DataFrame(hamlets[["hamlet_name", "commune_id"]]).merge(
        pd.DataFrame(communes[["commune_id", "commune_name", "district_name"]]), on="commune_id"
    )
    survey = pd.DataFrame(
        {
            "Huyện": names["district_name"],
            "Tên xã": names["commune_name"].map(lambda n: fold_diacritics(n).upper()),
            "Tên ấp": names["hamlet_name"].str.lower(),
            "Số hộ": 100,
            "Số hộ có FTTH": 60,
            "Số người trưởng thành": 300,
            "Có điện thoại thông minh": 200,
            "Ngày khảo sát": "23/10/2023",
            "Nguồn": "UBND",
        }
    )
    survey.to_csv(tmp_path / "khao_sat.csv", index=False, encoding="utf-8-sig")
    roads = read_vector(pkg / "roads/roads.geojson").rename(columns={"road_id": "osm_id"})
    roads.to_file(tmp_path / "roads.geojson", driver="GeoJSON")
    first = None
    for layer, name in (
        ("towers", "452.csv"),
        ("boundaries", "xa.shp.zip"),
        ("survey", "khao_sat.csv"),
        ("roads", "roads.geojson"),
    ):
        plan = plan_import(pkg, layer, tmp_path / name)
        assert plan.ok, plan.preview()
        info = apply_import(plan)
        first = first or info.version_id
    assert not any(p.severity == "error" for p in validate_package(pkg))
    assert len(store.list_versions(pkg)) == 4
    restore_version(pkg, first)
    assert store.file_hashes(pkg) == original
