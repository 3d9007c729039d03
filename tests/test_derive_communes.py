"""Derivation of the 124 communes of the new Vĩnh Long from 2009 polygons (geo/derive_communes/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from geo import derive_communes as dc
from geo.admin_units import load_new_units, load_old_to_new, official_units
from geo.errors import ParameterError


@pytest.fixture(scope="module")
def source() -> gpd.GeoDataFrame:
    return dc.load_communes_2009()


@pytest.fixture(scope="module")
def result(source: gpd.GeoDataFrame) -> dc.Derivation:
    return dc.derive_communes(source, dc.load_manual_matches(), load_new_units(), load_old_to_new())


@pytest.fixture(scope="module")
def mapping86() -> pd.DataFrame:
    mapping = load_old_to_new()
    return mapping[mapping["old_province_code"].isin(dc.FORMER_PROVINCES)]


# ----------------------------------------------------------------------------- the 124 communes


def test_source_polygons(source: gpd.GeoDataFrame) -> None:
    assert source.groupby("province_code").size().to_dict() == {"83": 164, "84": 105, "86": 109}
    assert source.crs.to_epsg() == 4326


def test_exactly_the_official_communes(result: dc.Derivation) -> None:
    out = result.communes
    official = official_units("2025-07", "86")
    assert len(out) == 124
    assert out["commune_code"].is_unique
    assert dict(zip(out["commune_code"], out["commune_name"], strict=True)) == dict(
        zip(official["commune_code"], official["commune_name"], strict=True)
    )
    assert list(out.columns) == [*dc.OUTPUT_COLUMNS, "geometry"]
    assert (out["province_code"] == "86").all() and (out["province_name"] == "Vĩnh Long").all()
    expected_type = out["commune_name"].str.split(" ").str[0].map({"Xã": "xã", "Phường": "phường"})
    assert (out["commune_type"] == expected_type).all()
    assert (
        out["former_province"]
        .str.fullmatch(r"(Bến Tre|Trà Vinh|Vĩnh Long)(;(Bến Tre|Trà Vinh|Vĩnh Long))*")
        .all()
    )
    assert (out["former_district"] != "").all()


def test_geometry_is_valid_multipolygon_in_wgs84(result: dc.Derivation) -> None:
    out = result.communes
    assert out.crs.to_epsg() == 4326
    assert all(isinstance(g, MultiPolygon) and g.is_valid and not g.is_empty for g in out.geometry)


def test_old_commune_codes_follow_the_mapping(result: dc.Derivation, mapping86: pd.DataFrame) -> None:
    expected = mapping86.groupby("new_commune_code")["old_commune_code"].agg(lambda s: ";".join(sorted(s)))
    got = result.communes.set_index("commune_code")["old_commune_codes"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()


def test_total_area_matches_the_former_provinces(result: dc.Derivation, source: gpd.GeoDataFrame) -> None:
    source_union_m2 = shapely.union_all(source.to_crs(dc.METRIC_CRS).geometry.values).area
    out_m = result.communes.to_crs(dc.METRIC_CRS)
    total_m2 = out_m.geometry.area.sum()
    print(f"area: source union {source_union_m2 / 1e6:.1f} km2, new communes {total_m2 / 1e6:.1f} km2")
    assert total_m2 == pytest.approx(source_union_m2, rel=0.01)
    assert shapely.union_all(out_m.geometry.values).area == pytest.approx(source_union_m2, rel=0.01)
    assert out_m.geometry.area.div(1e6).round(3).tolist() == pytest.approx(
        result.communes["area_km2"].tolist(), abs=2e-3
    )


def _pair_overlaps(geoms: np.ndarray) -> list[shapely.Geometry]:
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    inter = shapely.intersection(geoms[left[keep]], geoms[right[keep]])
    return [g for g in inter if shapely.area(g) > 0]


def test_no_new_overlaps(result: dc.Derivation, source: gpd.GeoDataFrame) -> None:
    src = source.to_crs(dc.METRIC_CRS).geometry.values
    out = result.communes.to_crs(dc.METRIC_CRS).geometry.values
    src_overlap = shapely.union_all(_pair_overlaps(src))
    out_overlap = shapely.union_all(_pair_overlaps(out))
    new_m2 = shapely.difference(out_overlap, src_overlap.buffer(0.5)).area
    print(
        f"overlaps: source {src_overlap.area / 1e6:.2f} km2, new communes {out_overlap.area / 1e6:.2f} km2, "
        f"outside source overlaps {new_m2:.1f} m2"
    )
    assert out_overlap.area <= src_overlap.area
    assert new_m2 < 1_000.0  # slivers from snapping to 6 decimals only
    assert result.report.output_overlap_km2 <= result.report.source_overlap_km2


def test_population_is_kept(result: dc.Derivation, source: gpd.GeoDataFrame) -> None:
    assert result.communes["population_2009"].sum() == source["pop_2009"].sum() == 3_329_105
    assert (result.communes["population_2009"] > 0).all()


def test_geometry_notes_mark_exactly_the_approximated_communes(result: dc.Derivation) -> None:
    parts = result.parts
    split_targets = set(parts.loc[parts["rule"] != "whole", "new_commune_code"])
    pieces = result.pieces
    inferred = pieces["rule"].str.startswith("unattributed:") & (pieces.geometry.area > 0)
    approximated = split_targets | set(pieces.loc[inferred, "new_commune_code"])
    notes = result.communes.set_index("commune_code")["geometry_note"]
    assert set(notes[notes != ""].index) == approximated
    assert len(approximated) == 14
    for code in split_targets:
        assert dc.SPLIT_RULE in notes[code]


def test_old_unit_parts(result: dc.Derivation, mapping86: pd.DataFrame) -> None:
    parts = result.parts
    assert list(parts.columns) == list(dc.PARTS_COLUMNS)
    assert len(parts) == len(mapping86) == 359
    pairs = set(zip(parts["old_commune_code"], parts["new_commune_code"], strict=True))
    assert pairs == set(zip(mapping86["old_commune_code"], mapping86["new_commune_code"], strict=True))
    sums = parts.groupby("old_commune_code")["area_share"].sum()
    assert np.allclose(sums, 1.0, atol=1e-9)
    n_targets = parts.groupby("old_commune_code")["new_commune_code"].transform("size")
    assert ((parts["rule"] == "whole") == (n_targets == 1)).all()
    assert set(parts.loc[parts["rule"] != "whole", "rule"]) == {dc.SPLIT_RULE}
    split = parts[parts["rule"] != "whole"]
    assert split["old_commune_code"].nunique() == 5
    assert (split["area_km2"] >= 0).all() and (split["area_share"].between(0, 1)).all()
    # Bến Tre's Hòa Lộc goes whole into Tân Thành Bình (the published mapping's split with Hòa Hiệp
    # is corrected in geo/reference/admin_codes/mapping_corrections.csv)
    hoa_loc = parts[parts["old_commune_code"] == "28924"]
    assert hoa_loc[["new_commune_code", "area_share", "rule"]].values.tolist() == [["28921", 1.0, "whole"]]
    # an old unit without polygon keeps its whole-unit share, area unknown
    no_geometry = parts[parts["old_commune_code"] == "29516"]
    assert no_geometry["area_km2"].isna().all() and (no_geometry["area_share"] == 1.0).all()


def test_every_unmatched_polygon_is_reported(result: dc.Derivation, source: gpd.GeoDataFrame) -> None:
    report = result.report
    assert report.n_pieces == len(source) == 378
    assert sum(report.pieces_by_method.values()) == 378
    assert report.pieces_by_method == {"code": 343, "manual": 24, "name": 4, "unmatched": 7}
    assert not report.manual_problems
    coded = set(result.pieces["piece_id"][~result.pieces["rule"].str.startswith("unattributed:")])
    unmatched = set(source["piece_id"]) - coded
    assert {u["piece_id"] for u in report.unmatched} == unmatched
    assert {u["commune"] for u in report.unmatched} == {
        "Xã An Khánh",
        "Xã An Hiệp",
        "Xã Sơn Hòa",
        "Xã Phú An Hòa",
        "Xã An Hóa",
        "Xã Phú Vang",
        "Xã Tân Mỹ",
    }
    assert all(u["reason"] and u["allocation"] for u in report.unmatched)
    assert [c["code"] for c in report.codes_without_polygon] == ["29516"]
    text = dc.format_report(report)
    for u in report.unmatched:
        assert u["commune"] in text and u["reason"] in text
    assert "29516" in text
    assert [s["code"] for s in report.split_units] == ["29719", "29764", "29770", "29771", "29821"]
    assert "28924" not in text


def test_manual_matches_all_carry_a_reason() -> None:
    manual = dc.load_manual_matches()
    assert len(manual) == 24
    assert manual["reason"].str.len().min() > 20
    assert manual["reason"].str.contains(r"\d+/NQ-UBTVQH1[345]|spelling").all()


# ----------------------------------------------------------------------------- pieces


def test_match_by_name_uses_code_range_and_unit_type() -> None:
    communes = pd.DataFrame(
        {
            "piece_id": ["a", "b", "c", "d"],
            "province_code": ["84"] * 4,
            "district_vn": ["Huyện Trà Cú"] * 3 + ["Thành phố Trà Vinh"],
            "commune_vn": ["Xã Tập Sơn", "Thị trấn Định An", "Xã Định An", "Phường 2"],
            "gso_ma_xa": ["29467", "", "", ""],
        }
    )
    old_units = pd.DataFrame(
        {
            "commune_code": ["29236", "29462", "29467", "29494", "29516"],
            "commune_name": ["Phường 4", "Thị trấn Định An", "Xã Tập Sơn", "Xã Định An", "Phường 2"],
            "province_code": ["84"] * 5,
        }
    )
    communes.loc[4] = ["e", "84", "Thành phố Trà Vinh", "Phường 4", "29236"]
    manual = dc.load_manual_matches().iloc[0:0]
    matches, problems = dc.match_pieces(communes, old_units, manual)
    got = dict(zip(matches["piece_id"], matches["old_commune_code"], strict=True))
    assert got == {"a": "29467", "b": "29462", "c": "29494", "d": "", "e": "29236"}
    # Phường 2 of Thị xã Duyên Hải (29516) is outside Trà Vinh city's code range: not taken
    reason = matches.set_index("piece_id").loc["d", "reason"]
    assert "code range" in reason
    assert not problems


# ----------------------------------------------------------------------------- the split rule


def test_split_rule_on_squares() -> None:
    middle = box(1, 0, 2, 1)
    parts = dc.split_by_nearest_parts(
        middle, {"west": box(0, 0, 1, 1), "east": box(2, 0, 3, 1)}, spacing_m=0.01
    )
    assert parts["west"].area == pytest.approx(0.5, abs=0.01)
    assert parts["east"].area == pytest.approx(0.5, abs=0.01)
    assert parts["west"].intersection(parts["east"]).area == pytest.approx(0.0, abs=1e-9)
    assert shapely.union_all(list(parts.values())).area == pytest.approx(middle.area, rel=1e-9)
    assert parts["west"].centroid.x < 1.5 < parts["east"].centroid.x


def test_split_rule_gives_nothing_to_a_far_target() -> None:
    middle = box(1, 0, 2, 1)
    parts = dc.split_by_nearest_parts(
        middle, {"near": box(0, 0, 1, 1), "far": box(10, 0, 11, 1)}, spacing_m=0.05
    )
    assert parts["far"].area == pytest.approx(0.0, abs=1e-9)
    assert parts["near"].area == pytest.approx(1.0)


def test_split_rule_uneven_seeds() -> None:
    # west seed touches the whole west side, east seed only a corner far away: west gets most
    middle = box(1, 0, 2, 1)
    parts = dc.split_by_nearest_parts(
        middle, {"west": box(0, 0, 1, 1), "east": box(2.5, 0.9, 3, 1)}, spacing_m=0.01
    )
    assert parts["west"].area > 0.6 > parts["east"].area > 0.0
    assert parts["west"].area + parts["east"].area == pytest.approx(1.0)


def test_split_rule_edge_cases() -> None:
    middle = box(1, 0, 2, 1)
    only = dc.split_by_nearest_parts(middle, {"a": box(0, 0, 1, 1), "b": shapely.Polygon()})
    assert only["a"].equals(middle) and only["b"].is_empty
    with pytest.raises(ParameterError):
        dc.split_by_nearest_parts(middle, {"a": shapely.Polygon()})
    with pytest.raises(ParameterError):
        dc.split_by_nearest_parts(middle, {"a": box(0, 0, 1, 1)}, spacing_m=0)


def test_fill_small_gaps_keeps_covered_and_large_holes() -> None:
    ring = box(0, 0, 100, 100).difference(box(10, 10, 12, 12)).difference(box(50, 50, 90, 90))
    enclave = box(50, 50, 90, 90)
    filled, added = dc.fill_small_gaps([ring, enclave], max_area_m2=10.0)
    assert added == pytest.approx(4.0)
    assert filled[0].area == pytest.approx(ring.area + 4.0)  # the 2x2 gap, not the enclave
    assert filled[1].equals(enclave)


# ----------------------------------------------------------------------------- CLI


def test_cli_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "derived"
    assert dc.main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "polygons without a pre-reform code: 7" in printed and "overlaps" in printed
    text = (out / "communes_2025.geojson").read_text(encoding="utf-8")
    data = json.loads(text)
    assert len(data["features"]) == 124
    assert data["features"][0]["properties"]["commune_code"] == "28756"
    assert "Vĩnh Long" in text  # not \\u-escaped
    decimals = {len(m) for m in re.findall(r"\d+\.(\d+)", text.split('"features"', 1)[1][:200_000])}
    assert max(decimals) <= 6
    back = gpd.read_file(out / "communes_2025.geojson")
    assert len(back) == 124 and back.is_valid.all() and back.crs.to_epsg() == 4326
    parts = pd.read_csv(out / "old_unit_parts.csv", dtype={"old_commune_code": str, "new_commune_code": str})
    assert list(parts.columns) == list(dc.PARTS_COLUMNS) and len(parts) == 359


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dc.main(["--out", str(tmp_path / "o"), "--source-dir", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "missing" in err and "Traceback" not in err
    bad = tmp_path / "manual.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert dc.main(["--out", str(tmp_path / "o"), "--manual", str(bad)]) == 2
    assert "missing column" in capsys.readouterr().err
    data_dir = Path(dc.__file__).resolve().parents[2] / "data" / "derived"  # geo/derive_communes/__init__.py
    assert dc.main(["--out", str(data_dir)]) == 2
    assert "data package" in capsys.readouterr().err
    assert not data_dir.exists()
