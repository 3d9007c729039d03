"""Generate the hostile / malformed upload corpus and its manifest ``cases.toml``.

Run ``.venv/bin/python tests/hostile/make_corpus.py`` to (re)write ``tests/hostile/files/``.
Every case names the layer it is imported as, extra CLI arguments, and a fragment of the
message the import must print (exit code 2, package unchanged); see tests/test_hostile.py.
The files are committed so the corpus is stable; the script documents how each was made.
Coordinates target the ``tiny_package`` fixture (two communes near Trà Vinh city).
"""

from __future__ import annotations

import io
import json
import sqlite3
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import shapely

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"

OCI_HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
OP_HEADER = "Mã trạm,Nhà mạng,Kinh độ,Vĩ độ,Độ cao anten,Công nghệ,Băng tần,Góc phương vị\n"
SURVEY_HEADER = (
    "hamlet_id,commune_id,hamlet_name,households,households_ftth,adults,adults_with_smartphone,"
    "survey_date,source\n"
)
BOX = shapely.box(106.30, 9.90, 106.35, 9.95)

CASES: list[dict[str, object]] = []


def case(name: str, layer: str, message: str, data: bytes, args: tuple[str, ...] = ()) -> None:
    """Write one corpus file and record what its import must say."""
    (FILES / name).write_bytes(data)
    CASES.append({"file": name, "layer": layer, "message": message, "args": list(args)})


def geojson(features: list[dict[str, object]], **extra: object) -> bytes:
    return json.dumps(
        {"type": "FeatureCollection", **extra, "features": features}, ensure_ascii=False
    ).encode()


def road(coords: list[list[float]], **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"highway": "tertiary", "name": "Đường A", **props},
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def zip_bytes(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def shapefile_parts(
    gdf: gpd.GeoDataFrame, *, encoding: str = "UTF-8", cpg: str | None = None, drop: tuple[str, ...] = ()
) -> dict[str, bytes]:
    """Shapefile parts written by GDAL; ``cpg`` overrides the .cpg content, ``drop`` removes parts."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "communes.shp"
        pyogrio.write_dataframe(gdf, path, encoding=encoding)
        parts = {p.name: p.read_bytes() for p in Path(tmp).iterdir()}
    if cpg is not None:
        parts["communes.cpg"] = cpg.encode()
    return {k: v for k, v in parts.items() if Path(k).suffix not in drop}


def legacy_gdf(names_as_bytes: list[bytes]) -> gpd.GeoDataFrame:
    # bytes written verbatim into the DBF: text given as Latin-1 and written as Latin-1
    return gpd.GeoDataFrame(
        {
            "ten_xa": [b.decode("latin-1") for b in names_as_bytes],
            "ma_xa": [f"X{i}" for i in range(len(names_as_bytes))],
        },
        geometry=[
            shapely.box(106.30 + 0.01 * i, 9.90, 106.31 + 0.01 * i, 9.91) for i in range(len(names_as_bytes))
        ],
        crs=4326,
    )


def xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def basic_cases() -> None:
    case("empty.csv", "towers", "file is empty", b"")
    case("empty.geojson", "roads", "file is empty", b"")
    case("whitespace_only.csv", "survey", "file is empty", b"  \n\n\t \r\n")
    garbage = bytes((i * 7919 + 13) % 256 for i in range(4096))
    case("garbage.csv", "towers", "binary data", garbage)
    case("garbage.geojson", "roads", "binary data", garbage[::-1])
    case(
        "nul_bytes.csv",
        "towers",
        "binary data",
        (OP_HEADER + "S1,Viettel,106.3,9.9,30,4G,1800,0\n").encode() + b"\x00" * 64,
    )
    case("header_only_opencellid.csv", "towers", "header but no data rows", OCI_HEADER.encode())
    case("header_only_operator.csv", "towers", "header but no data rows", OP_HEADER.encode())
    case("header_only_survey.csv", "survey", "header but no data rows", SURVEY_HEADER.encode())
    case("text_named.xlsx", "towers", "is a text file, not an XLSX workbook", OP_HEADER.encode() * 3)
    case(
        "zip_not_xlsx.xlsx",
        "towers",
        "is a ZIP archive, not an XLSX workbook",
        zip_bytes({"sites.csv": OP_HEADER.encode()}),
    )
    case("legacy_xls.xlsx", "towers", "legacy Office", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    case(
        "png_named.geojson",
        "roads",
        "is a PNG image",
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 64,
    )
    case(
        "pdf_named.csv",
        "survey",
        "is a PDF document",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    )
    case("text_named.gpkg", "boundaries", "is a text file, not an SQLite", b'{"type": "FeatureCollection"}')
    case("program.exe", "towers", "unsupported file type '.exe'", b"MZ\x90\x00" + b"\x00" * 60)
    case(
        "towers_as_geojson.geojson", "towers", "is a table", geojson([road([[106.31, 9.92], [106.34, 9.93]])])
    )
    case("roads_as_csv.csv", "roads", "needs GeoJSON", b"highway,name,lon,lat\ntertiary,A,106.3,9.9\n")
    case(
        "oversize.csv",
        "towers",
        "upload limit",
        (OP_HEADER + "S1,Viettel,106.31,9.92,30,4G,1800,0\n" * 60).encode(),
        ("--max-upload-mb", "0.001"),
    )


def sqlite_not_gpkg() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.gpkg"
        con = sqlite3.connect(path)
        con.execute("create table t (a integer)")
        con.execute("insert into t values (1)")
        con.commit()
        con.close()
        return path.read_bytes()


def json_cases() -> None:
    good = geojson([road([[106.31, 9.92], [106.34, 9.93]])])
    case("truncated.geojson", "roads", "JSON is truncated", good[: len(good) // 2])
    case(
        "invalid_json.geojson",
        "roads",
        "invalid JSON at line",
        b'{"type": "FeatureCollection", "features": [}]}',
    )
    case(
        "deeply_nested.geojson",
        "roads",
        "nested deeper than",
        b'{"type": "FeatureCollection", "features": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    )
    case(
        "nan_coordinates.geojson",
        "roads",
        "non-finite number NaN",
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"highway":"track"},'
        b'"geometry":{"type":"LineString","coordinates":[[NaN,9.9],[106.3,9.91]]}}]}',
    )
    case(
        "not_featurecollection.geojson",
        "roads",
        "not a GeoJSON FeatureCollection",
        json.dumps([road([[106.31, 9.92], [106.34, 9.93]])]).encode(),
    )
    case(
        "features_not_list.geojson",
        "roads",
        "'features' is missing or not a list",
        b'{"type": "FeatureCollection", "features": {"a": 1}}',
    )
    nogeom = [
        road([[106.31, 9.92], [106.34, 9.93]]),
        {"type": "Feature", "properties": {"highway": "track"}, "geometry": None},
    ]
    case("no_geometry.geojson", "roads", "have no geometry", geojson(nogeom))
    case("empty_featurecollection.geojson", "roads", "no data rows / features", geojson([]))
    case(
        "roads_outside_vietnam.geojson",
        "roads",
        "every coordinate lies outside Vietnam",
        geojson([road([[2.35, 48.85], [2.36, 48.86]])]),
    )
    case(
        "roads_projected_no_crs.geojson",
        "roads",
        "look like metres of a projected CRS",
        geojson([road([[587000.0, 1097000.0], [588000.0, 1098000.0]])]),
    )
    case(
        "roads_points_only.geojson",
        "roads",
        "no line geometries",
        geojson(
            [
                {
                    "type": "Feature",
                    "properties": {"highway": "tertiary"},
                    "geometry": {"type": "Point", "coordinates": [106.31, 9.92]},
                }
            ]
        ),
    )
    case(
        "roads_no_highway.geojson",
        "roads",
        "no 'highway' column",
        geojson(
            [
                {
                    "type": "Feature",
                    "properties": {"name": "A"},
                    "geometry": {"type": "LineString", "coordinates": [[106.31, 9.92], [106.34, 9.93]]},
                }
            ]
        ),
    )
    case(
        "too_many_features.geojson",
        "roads",
        "more than the limit of 10",
        geojson([road([[106.31, 9.92 + i * 1e-3], [106.34, 9.93]]) for i in range(11)]),
        ("--max-features", "10"),
    )
    case(
        "boundaries_lines.geojson",
        "boundaries",
        "must be polygons",
        geojson([road([[106.31, 9.92], [106.34, 9.93]], commune_name="Xã A")]),
    )
    case(
        "bad_crs_member.geojson",
        "boundaries",
        "unreadable 'crs' member",
        geojson(
            [road([[106.31, 9.92], [106.34, 9.93]])],
            crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}},
        ),
    )
    case(
        "fibre_mixed.geojson",
        "fibre",
        "one kind per file",
        geojson(
            [
                road([[106.31, 9.92], [106.34, 9.93]], operator="VNPT"),
                {
                    "type": "Feature",
                    "properties": {"operator": "VNPT", "node_type": "OLT"},
                    "geometry": {"type": "Point", "coordinates": [106.31, 9.92]},
                },
            ]
        ),
    )
    case(
        "hamlets_no_name.geojson",
        "hamlets",
        "no hamlet name column",
        geojson(
            [
                {
                    "type": "Feature",
                    "properties": {"households": 10},
                    "geometry": {"type": "Point", "coordinates": [106.31, 9.92]},
                }
            ]
        ),
    )
    case("sqlite_not_gpkg.gpkg", "boundaries", "cannot read", sqlite_not_gpkg())


def table_cases() -> None:
    case(
        "opencellid_outside_vietnam.csv",
        "towers",
        "every coordinate lies outside Vietnam",
        (OCI_HEADER + "LTE,452,4,1,1,0,2.35,48.85,500,3,1,1600000000,1700000000,0\n").encode(),
    )
    case(
        "operator_swapped_latlon.csv",
        "towers",
        "latitude and longitude look swapped",
        (OP_HEADER + "S1,Viettel,9.92,106.31,30,4G,1800,0\nS2,Viettel,9.93,106.33,30,4G,1800,0\n").encode(),
    )
    case(
        "opencellid_no_452.csv",
        "towers",
        "no Vietnamese cells (MCC 452)",
        (OCI_HEADER + "LTE,310,260,1,1,0,-80.1,40.2,500,3,1,1600000000,1700000000,0\n").encode(),
    )
    case(
        "opencellid_missing_columns.csv",
        "towers",
        "lacks column(s) lat, updated",
        b"radio,mcc,net,area,cell,lon\nLTE,452,4,1,1,106.3\n",
    )
    case(
        "opencellid_bad_numbers.csv",
        "towers",
        "non-numeric",
        (OCI_HEADER + "LTE,452,4,1,1,0,abc,9.92,500,3,1,1600000000,1700000000,0\n").encode(),
    )
    case(
        "opencellid_far_from_province.csv",
        "towers",
        "within 5 km of the province",
        (OCI_HEADER + "LTE,452,4,1,1,0,105.85,21.03,500,3,1,1600000000,1700000000,0\n").encode(),
    )
    case("operator_unknown_headers.csv", "towers", "missing column(s)", b"foo,bar,baz\n1,2,3\n")
    case(
        "operator_bad_dms.csv",
        "towers",
        "minutes and seconds must be below 60",
        (OP_HEADER + "S1,Viettel,106\u00b075'10\"E,9\u00b055'00\"N,30,4G,1800,0\n").encode(),
    )
    case(
        "operator_unknown_operator.csv",
        "towers",
        "operator 'Telstra' is not one of",
        (OP_HEADER + "S1,Telstra,106.31,9.92,30,4G,1800,0\n").encode(),
    )
    case(
        "operator_duplicate_header.csv",
        "towers",
        "both mean",
        b"Ma tram,Ten tram,Kinh do,Vi do\nS1,S1,106.31,9.92\n",
    )
    case(
        "survey_unmatched.csv",
        "survey",
        "matches no place",
        (
            SURVEY_HEADER
            + "H1,,,100,70,300,220,2026-10-01,test\n,,Ap Cho Moi Xa Lam,100,70,300,220,2026-10-01,test\n"
        ).encode(),
    )
    case(
        "survey_no_place_columns.csv",
        "survey",
        "no column identifies the place",
        b"households,households_ftth\n10,5\n",
    )
    case(
        "survey_ftth_exceeds.csv",
        "survey",
        "households_ftth",
        (SURVEY_HEADER + "H1,,,100,170,300,220,2026-10-01,test\n").encode(),
    )
    vni = "Ma ap,Ten ap,Xa,So ho\n,AÁp Chôï,Xaõ Long Ñöùc,10\n,Khoùm 3,Phöôøng 1,20\n"
    case("survey_vni.csv", "survey", "legacy VNI encoding", vni.encode("latin-1"))
    case("xlsx_empty_sheet.xlsx", "towers", "has no sheet with data", xlsx([]))
    case("xlsx_entity_bomb.xlsx", "towers", "not a readable XLSX workbook", xlsx_entity_bomb())
    rows = [[f"S{i}", "Viettel", 106.31, 9.92] for i in range(9)]
    case(
        "xlsx_too_many_rows.xlsx",
        "towers",
        "more than the limit of 5",
        xlsx([["Mã trạm", "Nhà mạng", "Kinh độ", "Vĩ độ"], *rows]),
        ("--max-features", "5"),
    )
    case(
        "csv_too_many_rows.csv",
        "towers",
        "more than the limit of 5",
        (OP_HEADER + "".join(f"S{i},Viettel,106.31,9.92,30,4G,1800,0\n" for i in range(6))).encode(),
        ("--max-features", "5"),
    )
    case(
        "xlsx_header_only.xlsx",
        "towers",
        "header but no data rows",
        xlsx([["Mã trạm", "Nhà mạng", "Kinh độ", "Vĩ độ"]]),
    )


def xlsx_entity_bomb() -> bytes:
    """An XLSX whose sheet XML declares nested entities (billion laughs)."""
    clean = zipfile.ZipFile(io.BytesIO(xlsx([["Mã trạm", "Nhà mạng"], ["S1", "Viettel"]])))
    dtd = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "'
        + b"&lol;" * 10
        + b'"><!ENTITY lol3 "'
        + b"&lol2;" * 10
        + b'">]>'
    )
    return zip_bytes(
        {
            n: (dtd + clean.read(n)) if n == "xl/worksheets/sheet1.xml" else clean.read(n)
            for n in clean.namelist()
        }
    )


def zip_cases() -> None:
    gdf = gpd.GeoDataFrame({"ten_xa": ["Xã Long Đức"], "ma_xa": ["C1"]}, geometry=[BOX], crs=4326)
    parts = shapefile_parts(gdf)
    case(
        "zip_slip.zip",
        "boundaries",
        "escapes the extraction folder ('..')",
        zip_bytes({**parts, "../../evil.txt": b"owned"}),
    )
    case("zip_absolute.zip", "boundaries", "absolute path", zip_bytes({**parts, "/tmp/evil.txt": b"owned"}))
    case(
        "zip_bomb_ratio.zip",
        "boundaries",
        "compression ratio",
        zip_bytes({**parts, "padding.dbf": b"\x00" * (20 * 1024 * 1024)}),
    )
    case(
        "zip_bomb_total.zip",
        "boundaries",
        "would decompress to",
        zip_bytes({"a.bin": b"\x00" * (140 * 1024 * 1024), "b.bin": b"\x00" * (140 * 1024 * 1024)}),
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
        link = zipfile.ZipInfo("communes.prj.lnk")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    case("zip_symlink.zip", "boundaries", "symbolic link", buf.getvalue())
    case("zip_nested.zip", "boundaries", "nested archive", zip_bytes({"inner.zip": zip_bytes(parts)}))
    whole = zip_bytes(parts)
    case("zip_truncated.zip", "boundaries", "damaged or truncated ZIP", whole[: len(whole) // 2])
    case("zip_no_shp.zip", "boundaries", "holds no .shp", zip_bytes({"readme.txt": b"hello"}))
    two = {**parts, **{k.replace("communes", "other"): v for k, v in parts.items()}}
    case("zip_two_shapefiles.zip", "boundaries", "holds 2 shapefiles", zip_bytes(two))
    case(
        "zip_missing_dbf.zip",
        "boundaries",
        "communes.dbf is missing",
        zip_bytes({k: v for k, v in parts.items() if not k.endswith(".dbf")}),
    )
    case(
        "zip_too_many_members.zip",
        "boundaries",
        "more than the limit of 1000",
        zip_bytes({f"f{i}.txt": b"x" for i in range(1001)}, compression=zipfile.ZIP_STORED),
    )
    projected = gdf.to_crs(32648)
    case(
        "shp_projected_no_prj.zip",
        "boundaries",
        "no CRS declared",
        zip_bytes(shapefile_parts(projected, drop=(".prj",))),
    )
    # "Xã Long Đức", "Phường 1", "Xã An Quảng" typed in the VNI font encoding
    vni = legacy_gdf([b"Xa\xf5 Long \xd1\xf6\xf9c", b"Ph\xf6\xf4\xf8ng 1", b"Xa\xf5 An Qua\xfbng"])
    case(
        "shp_vni_names.zip",
        "boundaries",
        "legacy VNI encoding",
        zip_bytes(shapefile_parts(vni, encoding="latin1", cpg="1258")),
    )
    # "Xã Long Đức", "Xã Đại An", "Xã Ngãi Xuyên" in TCVN3 (ABC)
    tcvn = legacy_gdf([b"X\xb7 Long \xa7\xf8c", b"X\xb7 \xa7\xb9i An", b"X\xb7 Ng\xac\xb9i Xu\xb8n"])
    case(
        "shp_tcvn3_names.zip",
        "boundaries",
        "legacy TCVN3 encoding",
        zip_bytes(shapefile_parts(tcvn, encoding="latin1", drop=(".cpg",))),
    )


def gzip_cases() -> None:
    import gzip

    case(
        "gzip_bomb.csv.gz",
        "towers",
        "possible gzip bomb",
        gzip.compress(OCI_HEADER.encode() + b"\x00" * (30 * 1024 * 1024), mtime=0),
    )
    whole = gzip.compress((OCI_HEADER + "LTE,452,4,1,1,0,106.31,9.92,5,1,1,1,1,0\n").encode(), mtime=0)
    case("gzip_truncated.csv.gz", "towers", "gzip data is truncated", whole[: len(whole) - 12])
    case("gzip_damaged.csv.gz", "towers", "damaged gzip data", whole[:12] + b"\xff" * 40 + whole[52:])
    case("gzip_not_csv.geojson.gz", "roads", "only gzip-compressed CSV", gzip.compress(b"{}", mtime=0))


def write_manifest() -> None:
    lines = [
        "# Hostile / malformed uploads: each must exit 2 with `message` in stderr, package unchanged.",
        "# Generated by tests/hostile/make_corpus.py.",
        "",
    ]
    for c in CASES:
        lines += [
            "[[case]]",
            f"file = {json.dumps(c['file'])}",
            f"layer = {json.dumps(c['layer'])}",
            f"message = {json.dumps(c['message'], ensure_ascii=False)}",
            f"args = {json.dumps(c['args'])}",
            "",
        ]
    (HERE / "cases.toml").write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    FILES.mkdir(parents=True, exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    basic_cases()
    json_cases()
    table_cases()
    zip_cases()
    gzip_cases()
    write_manifest()
    print(f"wrote {len(CASES)} cases to {FILES}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
