"""Validation of data packages: every check breaks a copy of the tiny valid package.

Each test asserts the exit code of ``python -m analysis validate`` (0 usable, 2 errors) and
a specific message naming the file and the row/feature. Most run the CLI in-process through
``cli.main.main``; two run it as a subprocess to prove no traceback reaches the user.
"""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import shape

from cli.main import main
from geo.crs import classify_lonlat, metric_crs_for, utm_crs_for_lonlat
from geo.errors import CRSError, ValidationError
from geo.io import encode_cp1258
from geo.package import load_package, package_version
from geo.schema import NodeType, Operator, SiteStatus, Technology, parse_category
from geo.validate import MAX_ROWS_PER_CHECK, validate_package

REPO = Path(__file__).resolve().parents[1]
SITES = "towers/sites.csv"
SURVEY = "survey/hamlet_survey.csv"
COMMUNES = "boundaries/communes.geojson"
HAMLETS = "boundaries/hamlets.geojson"
NODES = "fibre/nodes.geojson"
ROADS = "roads/roads.geojson"


# --------------------------------------------------------------------------- helpers


def run_validate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the CLI in-process; return (exit code, stdout + stderr)."""
    code = main(["validate", str(root)])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "Traceback" not in out
    return code, out


def lines_of(out: str, prefix: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(prefix)]


def edit_features(root: Path, rel: str, change: Any) -> None:
    """Load a GeoJSON file as dict, let ``change(doc)`` edit it, write it back."""
    path = root / rel
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def set_prop(root: Path, rel: str, index: int, key: str, value: Any) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["features"][index]["properties"][key] = value

    edit_features(root, rel, change)


def edit_csv(root: Path, rel: str, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` counts data rows from 0 (spreadsheet row = row + 2)."""
    path = root / rel
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[row][column] = value
    write_rows(path, rows, list(rows[0].keys()))


def write_rows(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def drop_csv_column(root: Path, rel: str, column: str) -> None:
    path = root / rel
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    write_rows(path, rows, [c for c in rows[0] if c != column])


def gdf_of(root: Path, rel: str) -> gpd.GeoDataFrame:
    doc = json.loads((root / rel).read_text(encoding="utf-8"))
    props = [f["properties"] for f in doc["features"]]
    geoms = [shape(f["geometry"]) for f in doc["features"]]
    return gpd.GeoDataFrame(props, geometry=geoms, crs="EPSG:4326")


def write_quietly(gdf: gpd.GeoDataFrame, path: Path, **kwargs: Any) -> None:
    """Write with GDAL, silencing its 'no CRS' write warning (we break packages on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(path, **kwargs)


def replace_in_toml(root: Path, old: str, new: str) -> None:
    path = root / "dataset.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- the valid package


def test_tiny_package_is_clean(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert "0 error(s), 0 warning(s) - usable" in out


def test_load_package_gives_clean_frames(tiny_package: Path) -> None:
    pkg = load_package(tiny_package)
    assert len(pkg.communes) == 2 and len(pkg.hamlets) == 3 and len(pkg.cells) == 4
    assert len(pkg.fibre_nodes) == 1 and len(pkg.roads) == 3 and len(pkg.survey) == 4
    assert pkg.fibre_routes is None and pkg.population_raster is None and pkg.dem is None
    for frame in (pkg.communes, pkg.hamlets, pkg.cells, pkg.fibre_nodes, pkg.roads):
        assert frame.crs.to_epsg() == 4326
        assert list(frame.index) == list(range(len(frame)))
    assert pkg.metric_crs.to_epsg() == 32648
    assert pkg.fibre_nodes.loc[0, "operator"] == Operator.VINAPHONE  # "VNPT" alias resolved
    assert pkg.cells["height_m"].dtype == float
    assert pkg.communes["population"].dtype == "int64"
    assert pkg.survey["level"].tolist() == ["hamlet", "hamlet", "hamlet", "commune"]
    assert pkg.meta.province_name == "Trà Vinh"
    assert set(pkg.synthetic_layers) == {"hamlets", "towers", "fibre_nodes", "roads", "survey"}
    assert pkg.warnings == ()
    assert len(pkg.version) == 12


def test_version_changes_with_content(tiny_package: Path) -> None:
    before = package_version(tiny_package)
    assert package_version(tiny_package) == before
    edit_csv(tiny_package, SITES, 0, "height_m", "31")
    assert package_version(tiny_package) != before


# --------------------------------------------------------------------------- missing things


def test_missing_required_file(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny_package / ROADS).unlink()
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {ROADS}: required layer 'roads' is missing" in out


def test_file_named_in_toml_is_missing(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny_package / COMMUNES).rename(tiny_package / "boundaries" / "xa.geojson")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {COMMUNES}: file named by [layers.communes] in dataset.toml is missing" in out


def test_missing_required_csv_column(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drop_csv_column(tiny_package, SITES, "operator")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SITES} [header]: missing required column(s): operator" in out


def test_missing_required_vector_column(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def drop(doc: dict[str, Any]) -> None:
        for feat in doc["features"]:
            del feat["properties"]["households"]

    edit_features(tiny_package, HAMLETS, drop)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {HAMLETS} [header]: missing required column(s): households" in out


def test_required_value_empty(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 1, "band_mhz", "")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SITES} [row 3, cell_id S1-2]: band_mhz is empty" in out


def test_missing_dataset_toml(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny_package / "dataset.toml").unlink()
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert "ERROR dataset.toml: file is missing" in out


def test_missing_dataset_toml_fields(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace_in_toml(tiny_package, 'province_code = "84"\n', "")
    replace_in_toml(
        tiny_package,
        '[layers.roads]\nsynthetic = true\nsource = "test fixture"\nlicence = "CC0-1.0"\n',
        '[layers.roads]\nsynthetic = "yes"\nsource = "test fixture"\n',
    )
    replace_in_toml(
        tiny_package, '[layers.survey]\nsynthetic = true\nsource = "test fixture"\nlicence = "CC0-1.0"\n', ""
    )
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert "ERROR dataset.toml [province_code]: field 'province_code' is missing or empty" in out
    assert "ERROR dataset.toml [[layers.roads]]: field 'licence' is missing" in out
    assert "ERROR dataset.toml [[layers.roads]]: synthetic must be true or false, not 'yes'" in out
    assert (
        "ERROR dataset.toml [[layers.survey]]: no [layers.survey] table for a layer the package holds" in out
    )


def test_broken_toml_syntax(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace_in_toml(tiny_package, 'name = "Tiny test province"', "name = Tiny test province")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert "ERROR dataset.toml: not valid TOML" in out and "line 1" in out


def test_empty_layers(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_features(tiny_package, ROADS, lambda doc: doc["features"].clear())
    routes = tiny_package / "fibre" / "routes.geojson"
    routes.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    replace_in_toml(
        tiny_package,
        "[layers.roads]",
        '[layers.fibre_routes]\nsynthetic = true\nsource = "x"\nlicence = "CC0-1.0"\n\n[layers.roads]',
    )
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {ROADS}: the layer has no features -> add the data: roads is required" in out
    assert "WARNING fibre/routes.geojson: the layer has no features" in out


# --------------------------------------------------------------------------- unreadable files


def test_garbage_bytes(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny_package / COMMUNES).write_bytes(np.random.default_rng(1).bytes(400))
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {COMMUNES}: cannot read the file" in out


def test_truncated_json(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_package / HAMLETS
    path.write_text(path.read_text(encoding="utf-8")[:200], encoding="utf-8")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {HAMLETS}: cannot read the file" in out


def test_ragged_csv(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_package / SITES
    path.write_text(
        path.read_text(encoding="utf-8") + "S3,S3-1,Viettel,9.9,106.3,30,active,4G,1800,0,65,61,10,x,y\n",
        encoding="utf-8",
    )
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SITES}: cannot read the file: not a readable CSV table" in out
    assert "line 6" in out


@pytest.mark.parametrize("rel", [COMMUNES, HAMLETS, SITES, NODES, ROADS, SURVEY, "dataset.toml"])
def test_any_truncated_file_gives_exit_2_without_traceback(
    tiny_package: Path, capsys: pytest.CaptureFixture[str], rel: str
) -> None:
    path = tiny_package / rel
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {rel}" in out


def _damage(data: bytes, rng: random.Random) -> bytes:
    """One random edit: flip a byte, insert a troublesome token, cut a slice, or truncate."""
    buf = bytearray(data)
    op, i = rng.randrange(4), rng.randrange(len(buf) + 1)
    if op == 0 and i < len(buf):
        buf[i] = rng.randrange(256)
    elif op == 1:
        buf[i:i] = rng.choice([b",", b'"', b"-", b"\n", b"{", b"]", b"nan", b"1e999", b"\xc3", b";"])
    elif op == 2:
        del buf[i : i + rng.randint(1, 20)]
    else:
        del buf[i:]
    return bytes(buf)


@pytest.mark.parametrize("seed", range(4))
def test_random_damage_never_raises(tiny_package: Path, seed: int) -> None:
    """Whatever the damage, validation reports problems; it never raises (no traceback)."""
    rng = random.Random(seed)
    pristine = {p: p.read_bytes() for p in sorted(tiny_package.rglob("*")) if p.is_file()}
    for _ in range(10):
        for path, data in pristine.items():
            path.write_bytes(data)
        for path in rng.sample(sorted(pristine), k=2):
            path.write_bytes(_damage(path.read_bytes(), rng))
        problems = validate_package(tiny_package)
        assert all(p.file and p.message for p in problems)


# --------------------------------------------------------------------------- encodings


def test_windows_1258_csv_is_accepted_with_warning(
    tiny_package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tiny_package / SURVEY
    path.write_bytes(encode_cp1258(path.read_text(encoding="utf-8")))
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert f"WARNING {SURVEY}: text is not UTF-8; read it as Windows-1258 (cp1258)" in out
    pkg = load_package(tiny_package)
    assert pkg.survey["hamlet_name"].tolist()[:3] == ["Ấp Chợ", "Ấp Giồng Lớn", "Khóm 3"]
    assert len(pkg.warnings) == 1


def test_excel_style_csv_semicolons_decimal_commas(
    tiny_package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tiny_package / SITES
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    text = "\n".join(";".join(cell.replace(".", ",") for cell in row) for row in rows) + "\n"
    path.write_bytes(encode_cp1258(text))
    code, out = run_validate(tiny_package, capsys)
    assert code == 0, out
    pkg = load_package(tiny_package)
    assert pkg.cells["lat"].tolist()[-1] == pytest.approx(9.93)
    assert pkg.cells.geometry.iloc[0].x == pytest.approx(106.325)


def test_utf8_bom_csv_is_clean(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_package / SITES
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert "0 warning(s)" in out


def test_text_in_no_known_encoding(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_package / SURVEY
    path.write_bytes(path.read_bytes() + b"\x81\x8d\x90 broken\n")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SURVEY}: cannot read the file: text is neither UTF-8" in out


# --------------------------------------------------------------------------- CRS and coordinates


def test_shapefile_without_prj(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gdf = gdf_of(tiny_package, COMMUNES).set_crs(None, allow_override=True)
    shp_dir = tiny_package / "shp"
    shp_dir.mkdir()
    write_quietly(gdf, shp_dir / "communes.shp", encoding="utf-8")
    zpath = tiny_package / "boundaries" / "communes.shp.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for ext in ("shp", "shx", "dbf", "cpg"):
            zf.write(shp_dir / f"communes.{ext}", f"communes.{ext}")
    assert not (shp_dir / "communes.prj").exists()
    (tiny_package / COMMUNES).unlink()
    replace_in_toml(
        tiny_package, 'file = "boundaries/communes.geojson"', 'file = "boundaries/communes.shp.zip"'
    )
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert (
        "ERROR boundaries/communes.shp.zip: the file declares no coordinate reference system (CRS) -> "
        "the coordinates look like lon/lat degrees: save the layer with EPSG:4326"
    ) in out


def test_geopackage_with_undefined_srs(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gdf = gdf_of(tiny_package, NODES).set_crs(None, allow_override=True)
    write_quietly(gdf, tiny_package / "fibre" / "nodes.gpkg", driver="GPKG")
    (tiny_package / NODES).unlink()
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert "ERROR fibre/nodes.gpkg: the file declares no coordinate reference system (CRS)" in out


def test_projected_geopackage_is_reprojected(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gdf = gdf_of(tiny_package, NODES).to_crs(32648)
    write_quietly(gdf, tiny_package / "fibre" / "nodes.gpkg", driver="GPKG")
    (tiny_package / NODES).unlink()
    code, out = run_validate(tiny_package, capsys)
    assert code == 0, out
    pkg = load_package(tiny_package)
    assert pkg.fibre_nodes.crs.to_epsg() == 4326
    assert pkg.fibre_nodes.geometry.iloc[0].x == pytest.approx(106.32, abs=1e-6)


def test_swapped_lat_lon(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 1, "lat", "106.325")
    edit_csv(tiny_package, SITES, 1, "lon", "9.925")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SITES} [row 3, cell_id S1-2]: latitude and longitude look swapped" in out


def test_metres_read_as_degrees(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    utm = gdf_of(tiny_package, HAMLETS).to_crs(32648)
    x, y = utm.geometry.iloc[1].x, utm.geometry.iloc[1].y

    def change(doc: dict[str, Any]) -> None:  # UTM metres in a GeoJSON, which means degrees
        doc["features"][1]["geometry"]["coordinates"] = [x, y]

    edit_features(tiny_package, HAMLETS, change)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert (
        f"ERROR {HAMLETS} [feature 2, hamlet_id H2]: coordinates look like metres of a projected CRS "
        "(UTM / VN-2000) read as degrees"
    ) in out


def test_coordinates_outside_vietnam(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 3, "lat", "48.2")
    edit_csv(tiny_package, SITES, 3, "lon", "16.4")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SITES} [row 5, cell_id S2-1]: coordinates are outside Vietnam" in out


def test_site_outside_province_is_a_warning(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 3, "lat", "9.6")
    edit_csv(tiny_package, SITES, 3, "lon", "106.6")
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert f"WARNING {SITES} [row 5, site_id S2]: site is outside the province" in out


def test_cells_of_a_site_disagree(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 2, "lat", "9.94")
    edit_csv(tiny_package, SITES, 1, "height_m", "35")
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert f"WARNING {SITES} [row 2, site_id S1]: the cells of this site disagree on height_m, location" in (
        out
    )


# --------------------------------------------------------------------------- geometries


def test_self_intersecting_polygon_is_repaired(
    tiny_package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bowtie = [[106.30, 9.90], [106.35, 9.95], [106.35, 9.90], [106.30, 9.95], [106.30, 9.90]]

    def change(doc: dict[str, Any]) -> None:
        doc["features"][0]["geometry"]["coordinates"] = [bowtie]

    edit_features(tiny_package, COMMUNES, change)
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert (
        f"WARNING {COMMUNES} [feature 1, commune_id C1]: invalid geometry (Self-intersection" in out
    ) and "repaired with make_valid" in out
    pkg = load_package(tiny_package)
    assert pkg.communes.geometry.is_valid.all()
    assert pkg.communes.geometry.iloc[0].geom_type == "MultiPolygon"


def test_empty_and_missing_geometry(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["features"][1]["geometry"] = None
        doc["features"][2]["geometry"] = {"type": "Point", "coordinates": []}

    edit_features(tiny_package, HAMLETS, change)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {HAMLETS} [feature 2, hamlet_id H2]: geometry is empty, missing or unreadable" in out
    assert f"ERROR {HAMLETS} [feature 3, hamlet_id H3]: geometry is empty, missing or unreadable" in out


def test_wrong_geometry_type(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["features"][0]["geometry"] = {"type": "Point", "coordinates": [106.33, 9.92]}

    edit_features(tiny_package, ROADS, change)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert (
        f"ERROR {ROADS} [feature 1, road_id R1]: geometry is a Point; expected LineString or MultiLineString"
        in out
    )


# --------------------------------------------------------------------------- ids and values


@pytest.mark.parametrize(
    ("rel", "kind", "index", "key", "dup", "where"),
    [
        (COMMUNES, "json", 1, "commune_id", "C1", "feature 2, commune_id C1"),
        (HAMLETS, "json", 2, "hamlet_id", "H1", "feature 3, hamlet_id H1"),
        (SITES, "csv", 3, "cell_id", "S1-1", "row 5, cell_id S1-1"),
        (NODES, "json", 1, "node_id", "N1", "feature 2, node_id N1"),
    ],
)
def test_duplicate_ids(
    tiny_package: Path,
    capsys: pytest.CaptureFixture[str],
    rel: str,
    kind: str,
    index: int,
    key: str,
    dup: str,
    where: str,
) -> None:
    if rel == NODES:  # the fixture has one node: add a second one first
        edit_features(
            tiny_package,
            NODES,
            lambda doc: doc["features"].append(json.loads(json.dumps(doc["features"][0]))),
        )
    if kind == "json":
        set_prop(tiny_package, rel, index, key, dup)
    else:
        edit_csv(tiny_package, rel, index, key, dup)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    first = "row 2" if kind == "csv" else "feature 1"
    assert f"ERROR {rel} [{where}]: duplicate {key} '{dup}' (also at {first})" in out


def test_counts_that_contradict(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SURVEY, 1, "households_ftth", "200")
    edit_csv(tiny_package, SURVEY, 2, "adults_with_smartphone", "999")
    set_prop(tiny_package, HAMLETS, 0, "households", 500)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SURVEY} [row 3]: households_ftth (200) is more than households (150)" in out
    assert f"ERROR {SURVEY} [row 4]: adults_with_smartphone (999) is more than adults (520)" in out
    assert f"ERROR {HAMLETS} [feature 1, hamlet_id H1]: households (500) is more than population (440)" in out


def test_negative_and_non_numeric_values(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_prop(tiny_package, COMMUNES, 1, "population", -5)
    edit_csv(tiny_package, SITES, 0, "height_m", "thirty")
    edit_csv(tiny_package, SURVEY, 0, "adults", "3OO")
    edit_csv(tiny_package, SURVEY, 1, "households", "12.5")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {COMMUNES} [feature 2, commune_id C2]: population is negative (-5)" in out
    assert f"ERROR {SITES} [row 2, cell_id S1-1]: height_m is not a number: 'thirty'" in out
    assert f"ERROR {SURVEY} [row 2]: adults is not a number: '3OO'" in out
    assert f"ERROR {SURVEY} [row 3]: households is not a whole number (12.5)" in out


def test_values_out_of_range(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 0, "azimuth_deg", "400")
    set_prop(tiny_package, HAMLETS, 1, "khmer_share", 60)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert (
        f"ERROR {SITES} [row 2, cell_id S1-1]: azimuth_deg = 400 deg is outside the accepted range 0–360 deg"
        in out
    )
    assert f"ERROR {HAMLETS} [feature 2, hamlet_id H2]: khmer_share = 60 is not between 0 and 1" in out


def test_unknown_operator_and_technology(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 0, "operator", "Vietel")
    edit_csv(tiny_package, SITES, 3, "technology", "6G")
    set_prop(tiny_package, NODES, 0, "node_type", "router")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert (
        f"ERROR {SITES} [row 2, cell_id S1-1]: unknown operator 'Vietel' -> use one of: "
        "Viettel, VinaPhone, MobiFone, Vietnamobile, Gmobile"
    ) in out
    assert (
        f"ERROR {SITES} [row 5, cell_id S2-1]: unknown technology '6G' -> use one of: 2G, 3G, 4G, 5G" in out
    )
    assert (
        f"ERROR {NODES} [feature 1, node_id N1]: unknown node_type 'router' -> use one of: OLT, cabinet, POP"
        in out
    )


def test_aliases_are_accepted_and_normalised(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 0, "operator", "viettel")
    edit_csv(tiny_package, SITES, 3, "operator", "Vina")
    edit_csv(tiny_package, SITES, 1, "technology", "LTE")
    edit_csv(tiny_package, SITES, 2, "technology", "NR")
    edit_csv(tiny_package, SITES, 2, "status", "On Air")
    set_prop(tiny_package, NODES, 0, "operator", "Mobifone")
    code, _ = run_validate(tiny_package, capsys)
    assert code == 0
    pkg = load_package(tiny_package)
    assert pkg.cells["operator"].tolist() == ["Viettel", "Viettel", "Viettel", "VinaPhone"]
    assert pkg.cells["technology"].tolist() == ["4G", "4G", "5G", "3G"]
    assert pkg.cells["status"].iloc[2] == SiteStatus.ACTIVE
    assert pkg.fibre_nodes["operator"].iloc[0] == Operator.MOBIFONE


def test_bad_survey_date(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SURVEY, 0, "survey_date", "01/10/2026")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SURVEY} [row 2]: survey_date '01/10/2026' is not a date YYYY-MM-DD" in out


# --------------------------------------------------------------------------- references


def test_references_to_unknown_communes(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_prop(tiny_package, HAMLETS, 2, "commune_id", "C9")
    set_prop(tiny_package, NODES, 0, "commune_id", "C7")
    edit_csv(tiny_package, SURVEY, 3, "commune_id", "C8")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {HAMLETS} [feature 3, hamlet_id H3]: commune_id 'C9' is not in {COMMUNES}" in out
    assert f"ERROR {NODES} [feature 1, node_id N1]: commune_id 'C7' is not in {COMMUNES}" in out
    assert f"ERROR {SURVEY} [row 5]: commune_id 'C8' is not in {COMMUNES}" in out


def test_survey_unknown_hamlet_and_names(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SURVEY, 0, "hamlet_id", "H42")
    edit_csv(tiny_package, SURVEY, 1, "hamlet_id", "")  # resolved by name: "ấp giồng lớn" == "Ấp Giồng Lớn"
    edit_csv(tiny_package, SURVEY, 1, "hamlet_name", "ấp  giồng lớn")
    edit_csv(tiny_package, SURVEY, 2, "hamlet_id", "")
    edit_csv(tiny_package, SURVEY, 2, "hamlet_name", "Khóm 9")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {SURVEY} [row 2]: hamlet_id 'H42' is not in {HAMLETS}" in out
    assert f"ERROR {SURVEY} [row 4]: no hamlet named 'Khóm 9' in commune C2" in out
    assert "[row 3]" not in out


def test_hamlets_may_use_commune_code(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change(doc: dict[str, Any]) -> None:
        for feat in doc["features"]:
            del feat["properties"]["commune_id"]
        doc["features"][0]["properties"]["commune_code"] = "29263"
        doc["features"][1]["properties"]["commune_code"] = "29263"
        doc["features"][2]["properties"]["commune_code"] = "99999"

    edit_features(tiny_package, HAMLETS, change)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert f"ERROR {HAMLETS} [feature 3, hamlet_id H3]: commune_code '99999' matches no commune" in out
    assert f"{HAMLETS} [feature 1" not in out and f"{HAMLETS} [feature 2" not in out


def test_hamlet_outside_its_commune_and_household_sums(
    tiny_package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_prop(tiny_package, HAMLETS, 2, "commune_id", "C1")  # H3 lies in C2's polygon
    edit_csv(tiny_package, SURVEY, 2, "commune_id", "")  # else the survey row contradicts the hamlet
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert f"WARNING {HAMLETS} [feature 3, hamlet_id H3]: lies outside its commune C1 (Xã Long Đức)" in out
    assert f"WARNING {COMMUNES} [feature 2, commune_id C2]: commune has no hamlet" in out
    assert (
        f"WARNING {COMMUNES} [feature 1, commune_id C1]: households (300) differ from the sum "
        "over its hamlets (500)" in out
    )


# --------------------------------------------------------------------------- collection and CLI


def test_every_problem_is_reported_not_just_the_first(tiny_package: Path) -> None:
    (tiny_package / ROADS).unlink()
    edit_csv(tiny_package, SITES, 0, "operator", "Vietel")
    set_prop(tiny_package, COMMUNES, 0, "households", -1)
    edit_csv(tiny_package, SURVEY, 0, "households_ftth", "101")
    problems = validate_package(tiny_package)
    files = {p.file for p in problems if p.severity == "error"}
    assert files == {ROADS, SITES, COMMUNES, SURVEY}


def test_many_bad_rows_are_summarised(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_package / SITES
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    extra = [dict(rows[0], cell_id=f"X-{i}", site_id="S1", operator="Nokia") for i in range(25)]
    write_rows(path, rows + extra, list(rows[0].keys()))
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    assert len(lines_of(out, f"ERROR {SITES} [row")) == MAX_ROWS_PER_CHECK
    assert f"ERROR {SITES} [15 more rows]: the same kind of problem in 15 more rows (16, 17, 18, " in out
    assert "30); the first of them: unknown operator 'Nokia' -> use one of: Viettel" in out


def test_load_package_raises_with_every_problem(tiny_package: Path) -> None:
    edit_csv(tiny_package, SITES, 0, "operator", "Vietel")
    edit_csv(tiny_package, SURVEY, 0, "households_ftth", "101")
    with pytest.raises(ValidationError) as info:
        load_package(tiny_package)
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert {p.file for p in errors} == {SITES, SURVEY}
    assert "2 error(s) in data package" in str(info.value)


def test_missing_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_validate(tmp_path / "nowhere", capsys)
    assert code == 2
    assert "does not exist" in out


def test_errors_only_flag(tiny_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_csv(tiny_package, SITES, 3, "lat", "9.6")
    edit_csv(tiny_package, SITES, 3, "lon", "106.6")
    code = main(["validate", "--errors-only", str(tiny_package)])
    out = capsys.readouterr().out
    assert code == 0
    assert "WARNING" not in out and "1 warning(s)" in out


@pytest.mark.parametrize("case", ["missing_dir", "garbage"])
def test_cli_subprocess_never_prints_traceback(tiny_package: Path, case: str) -> None:
    target = tiny_package
    if case == "missing_dir":
        target = tiny_package / "does-not-exist"
    else:
        (tiny_package / COMMUNES).write_bytes(b"\x00\x01garbage" * 50)
        (tiny_package / SITES).write_text('site_id;cell_id\n"unterminated', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "validate", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert (COMMUNES if case == "garbage" else "does not exist") in proc.stdout + proc.stderr


# --------------------------------------------------------------------------- vocabularies and CRS helpers


@pytest.mark.parametrize(
    ("cls", "text", "member"),
    [
        (Operator, "VNPT", Operator.VINAPHONE),
        (Operator, "Vinaphone", Operator.VINAPHONE),
        (Operator, "vina", Operator.VINAPHONE),
        (Operator, "Mobifone", Operator.MOBIFONE),
        (Operator, " VIETTEL ", Operator.VIETTEL),
        (Technology, "LTE", Technology.G4),
        (Technology, "NR", Technology.G5),
        (Technology, "umts", Technology.G3),
        (SiteStatus, "Hoạt động", SiteStatus.ACTIVE),
        (NodeType, "tủ cáp", NodeType.CABINET),
    ],
)
def test_category_aliases(cls: Any, text: str, member: Any) -> None:
    assert parse_category(cls, text) is member


def test_unknown_category_is_none() -> None:
    assert parse_category(Operator, "Vietel") is None
    assert parse_category(Technology, None) is None


def test_classify_lonlat() -> None:
    codes = classify_lonlat([106.3, 9.9, 600000.0, 16.4, np.nan], [9.9, 106.3, 1100000.0, 48.2, 9.0])
    assert codes.tolist() == ["ok", "swapped", "projected", "outside", "missing"]


def test_metric_crs_for() -> None:
    pts = gpd.GeoSeries.from_xy([106.2, 106.5], [9.8, 9.9], crs="EPSG:4326")
    assert metric_crs_for(pts).to_epsg() == 32648
    hanoi = gpd.GeoSeries.from_xy([105.85], [21.03], crs="EPSG:4326").to_crs(32648)
    assert metric_crs_for(hanoi).to_epsg() == 32648
    assert metric_crs_for(gpd.GeoSeries.from_xy([108.2], [16.05], crs="EPSG:4326")).to_epsg() == 32649
    assert utm_crs_for_lonlat(-70.0, -33.0).to_epsg() == 32719
    with pytest.raises(CRSError):
        metric_crs_for(gpd.GeoSeries.from_xy([106.2], [9.8]))


# --------------------------------------------------------------------------- the bundled package


def test_bundled_data_is_usable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)  # a relative DATA_DIR, as a user types it
    code, out = run_validate(Path("data"), capsys)
    assert code == 0, out
    assert " 0 error(s), 0 warning(s)" in out
    pkg = load_package(REPO / "data")
    assert pkg.meta.layout == "2025-07" and pkg.meta.province_code == "86"
    assert len(pkg.communes) == 124
    assert pkg.communes["commune_id"].is_unique
    assert pkg.metric_crs.to_epsg() == 32648


def test_tra_vinh_example_is_usable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    code, out = run_validate(Path("examples/tra-vinh-2009"), capsys)
    assert code == 0 and " 0 error(s), 0 warning(s)" in out, out
    pkg = load_package(REPO / "examples" / "tra-vinh-2009")
    assert pkg.meta.layout == "2009"
    assert len(pkg.communes) == 105
    assert pkg.communes["commune_id"].is_unique
    assert pkg.metric_crs.to_epsg() == 32648
    assert pkg.meta.province_name == "Trà Vinh"
    assert pkg.cells.loc[pkg.cells["status"] == "active", "site_id"].nunique() == 1227
    assert not pkg.meta.layers["communes"].synthetic and pkg.meta.layers["hamlets"].synthetic


# --------------------------------------------------------------------------- layouts


def _set_layout(root: Path, layout: str | None) -> None:
    path = root / "dataset.toml"
    text = path.read_text(encoding="utf-8").replace('layout = "2009"\n', "")
    if layout is not None:
        text = text.replace("created =", f'layout = "{layout}"\ncreated =', 1)
    path.write_text(text, encoding="utf-8")


def test_a_package_without_layout_is_read_as_2009_with_a_warning(tiny_package: Path, capsys) -> None:
    _set_layout(tiny_package, None)
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    assert lines_of(
        out, "WARNING dataset.toml [layout]: no layout named; the package is read as the pre-reform 2009"
    )
    assert load_package(tiny_package).meta.layout == "2009"


def test_an_unknown_layout_is_an_error_naming_the_valid_ones(tiny_package: Path, capsys) -> None:
    _set_layout(tiny_package, "2020")
    code, out = run_validate(tiny_package, capsys)
    assert code == 2
    (line,) = lines_of(out, "ERROR dataset.toml [layout]")
    assert "unknown layout '2020'" in line and '"2009", "2025-03", "2025-07"' in line


def _drop_districts(root: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        for feature in doc["features"]:
            feature["properties"].pop("district_name", None)
            feature["properties"]["former_province"] = "Trà Vinh"
            feature["properties"]["former_district"] = "Huyện Trà Cú"

    edit_features(root, COMMUNES, change)


@pytest.mark.parametrize("layout", ["2009", "2025-03"])
def test_district_name_is_required_before_the_reform(tiny_package: Path, capsys, layout: str) -> None:
    _set_layout(tiny_package, layout)
    _drop_districts(tiny_package)
    code, out = run_validate(tiny_package, capsys)
    assert code == 2 and "district_name" in "\n".join(lines_of(out, f"ERROR {COMMUNES}"))


def test_no_district_in_the_2025_layout_and_former_units_kept(tiny_package: Path, capsys) -> None:
    _set_layout(tiny_package, "2025-07")
    _drop_districts(tiny_package)
    code, out = run_validate(tiny_package, capsys)
    assert code == 0, out
    pkg = load_package(tiny_package)
    assert pkg.meta.layout == "2025-07"
    assert set(pkg.communes["former_province"]) == {"Trà Vinh"}
    assert set(pkg.communes["former_district"]) == {"Huyện Trà Cú"}


# --------------------------------------------------------------------------- official codes and names


def test_an_unofficial_code_gets_a_warning_with_the_nearest_official_name(tiny_package: Path, capsys) -> None:
    set_prop(tiny_package, COMMUNES, 0, "commune_code", "29233")  # Xã Mỹ An of Bến Tre (83), not of 84
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    (line,) = lines_of(out, f"WARNING {COMMUNES} [feature 1, commune_id C1]")
    assert "commune_code '29233' is not an official commune code (province 84, layout 2009)" in line
    assert line.endswith("-> did you mean Xã Long Đức (29263)?")


def _as_2025(root: Path, codes_names: list[tuple[str, str]]) -> None:
    _set_layout(root, "2025-07")
    path = root / "dataset.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('province_code = "84"', 'province_code = "86"'))

    def change(doc: dict[str, Any]) -> None:
        for feature, (code, name) in zip(doc["features"], codes_names, strict=True):
            feature["properties"].pop("district_name", None)
            feature["properties"]["commune_code"] = code
            feature["properties"]["commune_name"] = name

    edit_features(root, COMMUNES, change)


def test_official_2025_codes_and_names_are_clean(tiny_package: Path, capsys) -> None:
    _as_2025(tiny_package, [("29263", "Phường Long Đức"), ("", "Phường Trà Vinh")])
    code, out = run_validate(tiny_package, capsys)
    assert code == 0 and "0 warning(s)" in out, out


def test_2025_name_and_code_mismatches_are_named(tiny_package: Path, capsys) -> None:
    _as_2025(tiny_package, [("29263", "Phường Long Hòa"), ("", "Phuong Tra Vin")])
    code, out = run_validate(tiny_package, capsys)
    assert code == 0
    first = lines_of(out, f"WARNING {COMMUNES} [feature 1")
    assert first == [
        f"WARNING {COMMUNES} [feature 1, commune_id C1]: commune_name 'Phường Long Hòa' is not the official "
        "name of code 29263: 'Phường Long Đức' -> use the official name, or correct the code"
    ]
    (second,) = lines_of(out, f"WARNING {COMMUNES} [feature 2")
    assert "'Phuong Tra Vin' is not an official commune name (province 86, layout 2025-07)" in second
    assert second.endswith("did you mean Phường Trà Vinh (29242)?")


def test_an_old_province_code_in_the_2025_layout_is_explained(tiny_package: Path, capsys) -> None:
    _set_layout(tiny_package, "2025-07")
    code, out = run_validate(tiny_package, capsys)
    (line,) = lines_of(out, "WARNING dataset.toml [province_code]")
    assert "province code '84' has no commune in the official list of layout 2025-07" in line
    assert "86 for Vĩnh Long, which took in Trà Vinh 84 and Bến Tre 83" in line
