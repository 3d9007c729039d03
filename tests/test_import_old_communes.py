"""Importing surveys and operator sheets keyed by old (2025-03) communes into a 2025-07 package.

The package is ``tests/import_old_package.py``: four new communes of Vĩnh Long (86), hamlets that
carry their former commune, and Thị trấn Tam Bình (29719) split between Xã Tam Bình (300 households
of its hamlets) and Xã Trà Côn (100).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from geo import store
from geo.admin_units import load_old_to_new
from geo.crosswalk import largest_remainder
from geo.importers import ImportOptions, apply_import, plan_import
from geo.importers._old_communes import KeyRow, OldCommunes
from geo.io import read_vector
from tests.conftest import write_tiny_package
from tests.import_old_package import COMMUNES, HAMLETS, SITES, SURVEY, write_old_communes_package

HEAD = (
    "Tỉnh,Huyện,Tên xã,Tên ấp,Số hộ,Số hộ có FTTH,Số người trưởng thành,Có điện thoại thông minh,"
    "Ngày khảo sát\n"
)
COUNTS = ("households", "households_ftth", "adults", "adults_with_smartphone")


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    """The 2025-07 test package in a fresh folder."""
    root = tmp_path / "vinh-long"
    root.mkdir()
    return write_old_communes_package(root)


def _upload(tmp_path: Path, text: str, name: str = "khao_sat_cu.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _survey(pkg: Path) -> pd.DataFrame:
    return pd.read_csv(pkg / SURVEY, dtype=str, keep_default_na=False)


def _context(pkg: Path) -> OldCommunes:
    return OldCommunes(read_vector(pkg / COMMUNES), pd.DataFrame(read_vector(pkg / HAMLETS)))


# ---------------------------------------------------------------- which commune a key names


def test_old_and_new_keys_are_told_apart(pkg: Path) -> None:
    ctx = _context(pkg)
    assert set(ctx.units) == {
        "29236",
        "29263",
        "29239",
        "29242",
        "29260",
        "29719",
        "29755",
        "29827",
        "29836",
        "29839",
    }
    tam_binh = ctx.units["29719"]
    assert tam_binh.split and tam_binh.commune_ids == ("C4", "C3")
    assert tam_binh.districts == {"tambinh"}  # in both new communes' former_district
    rows = [
        KeyRow(code="29236"),  # Phường 4: old only
        KeyRow(name="Phường Long Đức"),  # new only (the old one was "Xã Long Đức")
        KeyRow(name="xa long duc"),  # old: the prefix says so
        KeyRow(name="Long Đức", district="Thành phố Trà Vinh"),  # old: districts no longer exist
        KeyRow(code="29242"),  # old Phường 3 and new Phường Trà Vinh: read like the table
    ]
    matches, problems, report = ctx.resolve(rows, explicit=False, source="t.csv")
    assert [m.kind for m in matches] == ["old", "new", "old", "old", "old"]
    assert [m.old.code if m.old else m.commune_id for m in matches] == [
        "29236",
        "C1",
        "29263",
        "29263",
        "29242",
    ]
    assert matches[4].by_table
    (mixed,) = problems
    assert mixed.message == (
        "the table mixes old (2025-03) communes (3 row(s), e.g. row 2) and communes of this package "
        "(1 row(s), e.g. row 3); 1 row(s) fitting both are read as old (2025-03) communes"
    )
    matches, problems, report = ctx.resolve([rows[0], rows[4]], explicit=False, source="t.csv")
    assert [m.old.code for m in matches if m.old] == ["29236", "29242"] and not problems
    assert report == [
        "1 row(s) (row 3) fit both an old commune and a commune of this package: read as old (2025-03) "
        "communes, like the table's other 1 row(s)"
    ]


def test_a_table_of_reused_codes_only_is_read_as_new_with_a_warning(pkg: Path, tmp_path: Path) -> None:
    src = _upload(
        tmp_path,
        "Mã xã,Số hộ,Số hộ có FTTH,Số người trưởng thành,Có điện thoại thông minh,"
        "Ngày khảo sát\n29263,100,50,300,200,01/10/2025\n29242,200,100,500,300,01/10/2025\n",
    )
    plan = plan_import(pkg, "survey", src)
    assert plan.ok
    (warning,) = [p for p in plan.problems if p.severity == "warning"]
    assert warning.where == "rows 2, 3" and "read as communes of this package" in warning.message
    assert "'Mã xã cũ' (former_commune_code)" in warning.hint
    apply_import(plan)
    survey = _survey(pkg)
    assert survey["commune_id"].tolist() == ["C1", "C2"] and "former_commune_code" not in survey


# ---------------------------------------------------------------- survey rows


def test_hamlet_rows_land_on_the_hamlets_of_their_old_commune(pkg: Path, tmp_path: Path) -> None:
    src = _upload(
        tmp_path,
        HEAD + "Trà Vinh,Thành phố Trà Vinh,Xã Long Đức,Ấp Chợ,100,70,300,220,15/05/2025\n"
        "Trà Vinh,TP Trà Vinh,PHUONG 04,khom 4,150,90,450,330,15/05/2025\n"
        # "Ấp Chợ" is also a hamlet of Xã Long Đức; the old commune says which one
        "Vĩnh Long,Huyện Trà Ôn,Xã Nhơn Bình,Ấp Chợ,120,40,360,200,20/05/2025\n"
        "Vĩnh Long,Huyện Tam Bình,TT Tam Bình,Khóm 2,80,30,200,150,02/06/2025\n",
    )
    plan = plan_import(pkg, "survey", src)
    assert plan.ok, plan.preview()
    assert (
        "old communes (2025-03): 4 row(s) keyed by an old commune: 4 placed on hamlets of their old "
        "commune, 0 commune-level row(s) carried" in plan.report
    )
    assert (
        "through split old communes: 1 row(s): row 5 Thị trấn Tam Bình (29719) -> hamlet Khóm 2 in Xã "
        "Trà Côn (29836)" in plan.report
    )
    apply_import(plan)
    survey = _survey(pkg)
    assert survey["hamlet_id"].tolist() == ["H1", "H2", "H7", "H5"]
    assert survey["commune_id"].tolist() == ["C1", "C1", "C4", "C4"]
    assert survey["former_commune_code"].tolist() == ["29263", "29236", "29827", "29719"]
    assert survey["former_commune_name"].tolist() == [
        "Xã Long Đức",
        "Phường 4",
        "Xã Nhơn Bình",
        "Thị trấn Tam Bình",
    ]


def test_commune_rows_are_carried_and_say_where_they_came_from(pkg: Path, tmp_path: Path) -> None:
    src = _upload(
        tmp_path,
        HEAD + "Trà Vinh,Thành phố Trà Vinh,Phường 1,,300,200,800,600,15/05/2025\n"
        "Trà Vinh,Thành phố Trà Vinh,Phường 9,,250,150,700,500,16/05/2025\n",
    )
    plan = plan_import(pkg, "survey", src)
    assert plan.ok, plan.preview()
    assert (
        "  Phường Trà Vinh (29242) <- rows 2, 3: Phường 1 (29239), Phường 9 (29260); no row for old "
        "Phường 3 (29242)" in plan.report
    )
    apply_import(plan)
    (row,) = _survey(pkg).to_dict(orient="records")
    assert (row["hamlet_id"], row["commune_id"], row["hamlet_name"]) == ("", "C2", "")
    assert [int(row[c]) for c in COUNTS] == [550, 350, 1500, 1100]
    assert row["survey_date"] == "2025-05-16"
    assert row["former_commune_code"] == "29239;29260" and row["former_commune_name"] == "Phường 1;Phường 9"
    assert row["source"] == (
        "survey khao_sat_cu.csv (carried from old communes Phường 1 (29239), Phường 9 (29260); no row for "
        "old Phường 3 (29242); surveyed 2025-05-15 to 2025-05-16)"
    )
    meta = tomllib.loads((pkg / "dataset.toml").read_text(encoding="utf-8"))["layers"]["survey"]
    assert meta["notes"].startswith(
        "2 row(s) keyed by old (2025-03) communes: 0 placed on hamlets, 2 carried"
    )


@pytest.mark.parametrize(("tam_binh_side", "tra_con_side"), [(300, 100), (100, 300), (1, 2)])
def test_a_split_old_commune_is_divided_by_hamlet_households_with_exact_totals(
    pkg: Path, tmp_path: Path, tam_binh_side: int, tra_con_side: int
) -> None:
    doc = json.loads((pkg / HAMLETS).read_text(encoding="utf-8"))
    for feature in doc["features"]:  # H4 (in Xã Tam Bình) and H5 (in Xã Trà Côn) were Thị trấn Tam Bình's
        props = feature["properties"]
        props["households"] = {"H4": tam_binh_side, "H5": tra_con_side}.get(
            props["hamlet_id"], props["households"]
        )
    (pkg / HAMLETS).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    tam_binh = (1001, 601, 2999, 2001)
    src = _upload(
        tmp_path,
        HEAD + f"Vĩnh Long,Huyện Tam Bình,Thị trấn Tam Bình,,{','.join(map(str, tam_binh))},02/06/2025\n"
        "Vĩnh Long,Huyện Tam Bình,Xã Mỹ Thạnh Trung,,457,123,1201,777,02/06/2025\n"
        "Vĩnh Long,Huyện Trà Ôn,Xã Tân Mỹ,,380,95,1020,640,03/06/2025\n",
    )
    plan = plan_import(pkg, "survey", src)
    assert plan.ok, plan.preview()
    weights = [tam_binh_side / (tam_binh_side + tra_con_side), tra_con_side / (tam_binh_side + tra_con_side)]
    parts = {c: largest_remainder(v, weights) for c, v in zip(COUNTS, tam_binh, strict=True)}
    hh = parts["households"]
    assert (
        f"through split old communes: 1 row(s): row 2 Thị trấn Tam Bình (29719) -> Xã Tam Bình {hh[0]} / "
        f"Xã Trà Côn {hh[1]} households (weights {weights[0]:.4g} / {weights[1]:.4g} by hamlet households)"
    ) in plan.report
    assert (
        "totals of the carried rows conserved exactly: households 1838 -> 1838, households_ftth 819 -> 819, "
        "adults 5220 -> 5220, adults_with_smartphone 3418 -> 3418" in plan.report
    )
    apply_import(plan)
    survey = _survey(pkg).set_index("commune_id")
    for k, c in enumerate(COUNTS):
        assert int(survey.at["C3", c]) == parts[c][0] + (457, 123, 1201, 777)[k]
        assert int(survey.at["C4", c]) == parts[c][1] + (380, 95, 1020, 640)[k]
        assert (
            int(survey[c].astype(int).sum())
            == tam_binh[k] + (457, 123, 1201, 777)[k] + (380, 95, 1020, 640)[k]
        )
    for side in ("C3", "C4"):  # a part never has more FTTH households than households
        assert int(survey.at[side, "households_ftth"]) <= int(survey.at[side, "households"])
    assert survey.at["C4", "former_commune_code"] == "29719;29839"
    assert (
        f"Thị trấn Tam Bình (29719, part {weights[1]:.4g} by hamlet households)" in survey.at["C4", "source"]
    )
    assert "no row for old Xã Nhơn Bình (29827), Xã Trà Côn (29836)" in survey.at["C4", "source"]


def test_a_carried_row_beside_hamlet_rows_of_its_new_commune_is_flagged(pkg: Path, tmp_path: Path) -> None:
    src = _upload(
        tmp_path,
        HEAD + "Vĩnh Long,Huyện Trà Ôn,Xã Nhơn Bình,Ấp Chợ,120,40,360,200,20/05/2025\n"
        "Vĩnh Long,Huyện Trà Ôn,Xã Tân Mỹ,,380,95,1020,640,03/06/2025\n",
    )
    plan = plan_import(pkg, "survey", src)
    assert plan.ok
    (warning,) = [p for p in plan.problems if p.severity == "warning"]
    assert warning.where == "row 3" and "Xã Trà Côn (29836) gets a commune-level row" in warning.message
    assert "also has hamlet rows (row 2)" in warning.message


def test_explicit_old_columns_and_reimporting_the_result_changes_nothing(pkg: Path, tmp_path: Path) -> None:
    src = _upload(
        tmp_path,
        "Mã xã cũ,Tên ấp,Số hộ,Số hộ có FTTH,Số người trưởng thành,Có điện thoại thông minh,Ngày khảo sát\n"
        "29263,Ấp Chợ,100,70,300,220,2025-05-15\n"
        "29242,,180,130,520,400,2025-05-15\n"  # the old Phường 3, although 29242 is also a new code
        "29719,,1001,601,2999,2001,2025-06-02\n",
    )
    plan = plan_import(pkg, "survey", src)
    assert plan.ok, plan.preview()
    apply_import(plan)
    survey = _survey(pkg)
    assert survey["commune_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert survey["former_commune_code"].tolist() == ["29263", "29242", "29719", "29719"]
    assert survey["households"].tolist() == ["100", "180", "751", "250"]
    again = _upload(tmp_path, (pkg / SURVEY).read_text(encoding="utf-8"), "own.csv")
    plan = plan_import(pkg, "survey", again)
    assert plan.ok and not plan.has_changes, plan.preview()


# ---------------------------------------------------------------- refusals


def test_unknown_old_communes_are_refused_with_row_and_nearest_name(pkg: Path, tmp_path: Path) -> None:
    mapping = load_old_to_new()
    elsewhere = mapping[(mapping["new_province_code"] == "86") & (mapping["new_commune_code"] == "29461")]
    old_code = str(elsewhere["old_commune_code"].iloc[0])
    src = _upload(
        tmp_path,
        "Mã xã,Huyện,Tên xã,Tên ấp,Số hộ,Số hộ có FTTH,Số người trưởng thành,Có điện thoại thông minh,"
        "Ngày khảo sát\n"
        ",Huyện Trà Ôn,Xã Nhơn Bìn,,380,95,1020,640,03/06/2025\n"
        f"{old_code},,,,10,5,20,10,03/06/2025\n"
        ",Thành phố Trà Vinh,Phường 4,Khóm 9,150,90,450,330,15/05/2025\n"
        ",Thành phố Trà Vinh,Phường 1,,300,200,800,600,15/05/2025\n",
    )
    before = store.file_hashes(pkg)
    plan = plan_import(pkg, "survey", src)
    assert not plan.ok
    errors = {p.where: p for p in plan.errors}
    assert set(errors) == {"row 2", "row 3", "row 4"}
    assert (
        "'Xã Nhơn Bìn' is neither a commune of this package nor an old (2025-03) commune"
        in errors["row 2"].message
    )
    assert errors["row 2"].hint == "did you mean: Xã Nhơn Bình (old commune 29827, now Xã Trà Côn)"
    assert errors["row 3"].hint == (
        f"old commune {elsewhere['old_commune_name'].iloc[0]} ({old_code}) went into Xã Trà Cú (29461), "
        "not a commune of this package"
    )
    assert "matches no hamlet of old commune Phường 4 (29236)" in errors["row 4"].message
    assert "Khóm 4 (Phường Long Đức, id H2)" in errors["row 4"].hint
    assert "unknown communes: 2 row(s) (rows 2, 3)" in "\n".join(plan.report)
    assert store.file_hashes(pkg) == before
    plan = plan_import(pkg, "survey", src, options=ImportOptions(skip_unmatched=True))
    assert plan.ok and {p.where for p in plan.problems if p.severity == "warning"} >= {
        "row 2",
        "row 3",
        "row 4",
    }
    apply_import(plan)
    assert _survey(pkg)["former_commune_code"].tolist() == ["29239"]


def test_a_split_part_outside_the_package_is_refused_unless_skipped(pkg: Path, tmp_path: Path) -> None:
    for rel, key in ((COMMUNES, "commune_id"), (HAMLETS, "commune_id")):  # drop Xã Trà Côn (C4)
        doc = json.loads((pkg / rel).read_text(encoding="utf-8"))
        doc["features"] = [f for f in doc["features"] if f["properties"][key] != "C4"]
        (pkg / rel).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    src = _upload(
        tmp_path, HEAD + "Vĩnh Long,Huyện Tam Bình,Thị trấn Tam Bình,,1001,601,2999,2001,02/06/2025\n"
    )
    plan = plan_import(pkg, "survey", src)
    (error,) = plan.errors
    assert error.where == "row 2"
    assert "goes to Xã Trà Côn (29836), which is not a commune of this package" in error.message
    assert "equal shares" in error.message  # no hamlet on the Trà Côn side any more: divided equally
    plan = plan_import(pkg, "survey", src, options=ImportOptions(skip_unmatched=True))
    assert plan.ok
    apply_import(plan)
    assert _survey(pkg)["households"].tolist() == ["501"]


def test_cli_preview_apply_and_refusal(pkg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _upload(
        tmp_path,
        HEAD + "Trà Vinh,Thành phố Trà Vinh,Xã Long Đức,Ấp Chợ,100,70,300,220,15/05/2025\n"
        "Vĩnh Long,Huyện Tam Bình,Thị trấn Tam Bình,,1001,601,2999,2001,02/06/2025\n",
    )
    before = {p: p.read_bytes() for p in sorted(pkg.rglob("*")) if p.is_file()}
    assert main(["import", str(pkg), "--layer", "survey", str(src), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "old communes (2025-03): 2 row(s) keyed by an old commune: 1 placed on hamlets" in out
    assert (
        "through split old communes: 1 row(s): row 3 Thị trấn Tam Bình (29719) -> Xã Tam Bình 751 / Xã Trà "
        "Côn 250 households (weights 0.75 / 0.25 by hamlet households)" in out
    )
    assert "nothing changed (dry run)" in out
    assert {p: p.read_bytes() for p in sorted(pkg.rglob("*")) if p.is_file()} == before
    assert main(["import", str(pkg), "--layer", "survey", str(src)]) == 0
    assert _survey(pkg)["commune_id"].tolist() == ["C1", "C3", "C4"]
    capsys.readouterr()

    applied = {p: p.read_bytes() for p in sorted(pkg.rglob("*")) if p.is_file()}
    bad = _upload(
        tmp_path,
        HEAD + 'Vĩnh Long,Huyện Tam Bình,Thị trấn Tam Bình,,"1001,5",601,2999,2001,02/06/2025\n'
        "Vĩnh Long,Huyện Trà Ôn,Xã Tân Mỹ,,380,95,1020,640,31/06/2025\n",
        "bad.csv",
    )
    assert main(["import", str(pkg), "--layer", "survey", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "ERROR: bad.csv [row 2]: households '1001,5' is not a whole number" in err
    assert "ERROR: bad.csv [row 3]: survey_date '31/06/2025' is not a date" in err
    assert {p: p.read_bytes() for p in sorted(pkg.rglob("*")) if p.is_file()} == applied


# ---------------------------------------------------------------- operator sheets


def test_operator_sheet_keeps_the_old_commune_and_checks_the_location(pkg: Path, tmp_path: Path) -> None:
    src = _upload(
        tmp_path,
        "Mã trạm,Nhà mạng,Kinh độ,Vĩ độ,Độ cao anten,Công nghệ,Băng tần,Huyện,Xã\n"
        "VT001,Viettel,106.32,9.92,30,4G,1800,Thành phố Trà Vinh,Xã Long Đức\n"
        "VT002,Viettel,106.37,9.92,30,2G/4G,900/1800,Thành phố Trà Vinh,Phường 4\n"  # stands in C2
        "VT003,Viettel,106.43,9.92,30,4G,1800,Huyện Tam Bình,Thị trấn Tam Bình\n"
        "VT004,Viettel,106.48,9.92,30,4G,1800,Huyện Tam Bình,Thị trấn Tam Bình\n"
        "VT005,Viettel,106.48,9.93,30,4G,1800,,Phường Trà Vinh\n",  # a new commune; stands in C4
        "tram.csv",
    )
    plan = plan_import(pkg, "towers", src)
    assert plan.ok, plan.preview()
    line = next(r for r in plan.report if r.startswith("communes named in tram.csv"))
    assert line.startswith(
        "communes named in tram.csv: 4 row(s) named an old (2025-03) commune, 2 of them through split old "
        "communes (row 4 Thị trấn Tam Bình (29719) -> Xã Tam Bình (29719); row 5 Thị trấn Tam Bình (29719) "
        "-> Xã Trà Côn (29836)); 1 named a commune of this package; 0 unknown; 2 site(s) lie outside"
    )
    warnings = {p.where: p.message for p in plan.problems if p.severity == "warning"}
    assert warnings["row 3"] == (
        "site VT002 at (9.920000, 106.370000) lies in Phường Trà Vinh (29242), not in the new commune(s) "
        "that old commune Phường 4 (29236) went into: Phường Long Đức (29263)"
    )
    assert "lies in Xã Trà Côn (29836), not in Phường Trà Vinh (29242) named by the row" in warnings["row 6"]
    apply_import(plan)
    sites = pd.read_csv(pkg / SITES, dtype=str, keep_default_na=False)
    viettel = sites[sites["operator"] == "Viettel"]
    assert viettel["commune_id"].tolist() == ["C1", "C2", "C2", "C3", "C4", "C4"]
    assert viettel["former_commune_code"].tolist() == ["29263", "29236", "29236", "29719", "29719", ""]
    assert viettel["former_commune_name"].iloc[0] == "Xã Long Đức"


def test_pre_reform_packages_are_unchanged(tmp_path: Path) -> None:
    tiny = write_tiny_package(tmp_path / "tiny")
    sheet = _upload(
        tmp_path,
        "Mã trạm,Nhà mạng,Kinh độ,Vĩ độ,Độ cao anten,Công nghệ,Băng tần,Xã\n"
        "VT001,Viettel,106.32,9.92,30,4G,1800,Xã Long Đức\n",
        "tram.csv",
    )
    plan = plan_import(tiny, "towers", sheet)
    assert plan.ok and not any("communes named" in r for r in plan.report)
    assert b"former_commune_code" not in (plan.files["towers/sites.csv"] or b"")
    survey = _upload(
        tmp_path,
        "Tỉnh,Mã xã cũ,Tên xã,Tên ấp,Số hộ,Số hộ có FTTH,Số người trưởng thành,Có điện thoại thông minh,"
        "Ngày khảo sát\nTrà Vinh,29263,Long Đức,Ấp Chợ,100,60,300,200,01/10/2026\n",
    )
    plan = plan_import(tiny, "survey", survey)
    assert plan.ok and len(plan.report) == 1
    assert (
        plan.files["survey/hamlet_survey.csv"]
        == (
            "hamlet_id,commune_id,hamlet_name,households,households_ftth,adults,adults_with_smartphone,survey_date,"
            "source\nH1,C1,Ấp Chợ,100,60,300,200,2026-10-01,survey khao_sat_cu.csv\n"
        ).encode()
    )


def test_same_name_old_communes_need_their_district_or_province() -> None:
    communes = pd.DataFrame(
        {
            "commune_id": ["A", "B", "C"],
            "commune_code": ["10001", "10002", "10003"],
            "commune_name": ["Phường Một", "Phường Hai", "Phường Ba"],
            "former_district": ["Thành phố Trà Vinh", "Thị xã Duyên Hải", "Thành phố Bến Tre"],
        }
    )
    mapping = pd.DataFrame(
        {
            "old_province_name": ["Tỉnh Trà Vinh", "Tỉnh Trà Vinh", "Tỉnh Bến Tre"],
            "old_commune_code": ["00001", "00002", "00003"],
            "old_commune_name": ["Phường 1", "Phường 1", "Phường 1"],
            "new_commune_code": ["10001", "10002", "10003"],
            "new_commune_name": ["Phường Một", "Phường Hai", "Phường Ba"],
        }
    )
    ctx = OldCommunes(communes, None, mapping=mapping)
    rows = [
        KeyRow(name="P.1", district="TX Duyên Hải", province="Trà Vinh"),  # "TX" is no known prefix
        KeyRow(name="Phường 01", district="Thị xã Duyên Hải"),
        KeyRow(name="Phuong 1", province="Bến Tre"),
        KeyRow(name="Phường 1", province="Trà Vinh"),
    ]
    matches, _problems, _report = ctx.resolve(rows, explicit=False, source="t.csv")
    assert [m.kind for m in matches] == ["ambiguous", "old", "old", "ambiguous"]
    assert [m.old.code for m in matches if m.old] == ["00002", "00003"]
    assert matches[3].suggestions == (
        "Phường 1 (old commune 00001, Tỉnh Trà Vinh, now Phường Một)",
        "Phường 1 (old commune 00002, Tỉnh Trà Vinh, now Phường Hai)",
    )
    assert ctx.hint_text(matches[3]).startswith("give the old code (Mã xã cũ) or the old district (Huyện)")
