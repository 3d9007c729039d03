"""The scenario page (views/scenarios.py) on the hand-built acceptance scene A (AppTest).

Scene A (tests/acceptance/scenes.py) has hamlet A-NONE (Ấp Xa Xôi, 150 households) 20 km from any
4G site: a 3-sector 4G site at its centre (30 m, 1800 MHz, 59 dBm, 65° sectors: the page's
defaults) makes its whole footprint good (tests/test_scenario.py derives it from the reference
model), so its NO_MOBILE_COVERAGE flag clears and its 150 households gain good 4G.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.acceptance.scenes import lonlat, radio_scene, write_package

TIMEOUT_S = 300
HOSTILE = '<img src=x onerror="window.__xss=1">'


def _page_app(lang: str) -> None:
    import importlib

    import streamlit as st

    st.session_state.setdefault("app_lang", lang)
    importlib.import_module("views.scenarios").render()


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def _run(lang: str = "vi") -> AppTest:
    at = AppTest.from_function(_page_app, args=(lang,), default_timeout=TIMEOUT_S)
    return _ok(at.run())


def data_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file of the package except saved scenarios and dot-folders (versions, locks)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] != "scenarios" and not any(p.startswith(".") for p in rel.parts):
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def scene_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenario_page") / "pkg"
    write_package(radio_scene(), root, "2025-07")
    return root


@pytest.fixture(autouse=True)
def _scene(scene_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_DATA", str(scene_root))
    yield scene_root
    from geo.scenario_store import delete_scenario, list_scenarios

    for saved in list_scenarios(scene_root):  # each test starts without saved scenarios
        delete_scenario(scene_root, saved.slug)


def _place_site_at_a_none(at: AppTest) -> AppTest:
    lon, lat = lonlat(24.5, 6.0)
    at.number_input(key="scenarios_lat").set_value(lat)
    at.number_input(key="scenarios_lon").set_value(lon)
    at.selectbox(key="scenarios_operator").set_value("Viettel")
    at.button(key="scenarios_add_site").click()
    return _ok(at.run())


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize(
    ("lang", "title", "evaluate"), [("vi", "Kịch bản", "Đánh giá"), ("en", "Scenarios", "Evaluate")]
)
def test_page_renders_in_both_languages(lang: str, title: str, evaluate: str) -> None:
    at = _run(lang)
    assert at.title[0].value == title
    button = at.button(key="scenarios_evaluate")
    assert button.label == evaluate and button.disabled  # nothing to evaluate yet
    assert at.number_input(key="scenarios_lat").value is None  # click the map or type it
    assert at.selectbox(key="scenarios_technology").value == "4G"
    assert at.text_input(key="scenarios_azimuths").value == "0, 120, 240"
    assert at.get("component_instance"), "the map is drawn"
    assert any(c.value.startswith(("Chưa có kịch bản", "No scenario saved")) for c in at.caption)


def test_the_draft_survives_a_language_switch() -> None:
    at = _place_site_at_a_none(_run("vi"))
    at.multiselect(key="scenarios_off_techs").set_value(["2G"])
    _ok(at.run())
    at.session_state["app_lang"] = "en"
    _ok(at.run())
    assert at.title[0].value == "Scenarios"
    assert at.multiselect(key="scenarios_off_techs").value == ["2G"]
    assert at.selectbox(key="scenarios_off_operator").value == ""
    assert any("New site NEW\\-1" in m.value for m in at.markdown)
    assert not at.button(key="scenarios_evaluate").disabled


def test_a_site_at_the_unserved_hamlet_clears_its_flag_and_brings_150_households() -> None:
    at = _place_site_at_a_none(_run("vi"))
    assert any("NEW\\-1" in m.value and "Viettel 4G, 3 cell" in m.value for m in at.markdown)
    assert at.session_state["scenarios_sites"]["cell_id"].tolist() == ["NEW-1-1", "NEW-1-2", "NEW-1-3"]
    at.button(key="scenarios_evaluate").click()
    _ok(at.run())
    metrics = _metrics(at)
    assert metrics["Hộ có thêm sóng 4G tốt"] == "150"
    assert int(metrics["Ấp được xoá cờ"]) >= 1
    assert metrics["Tổng chi phí"] == "1.800,0 triệu đồng"  # one new mast at the placeholder unit cost
    assert any("giá tạm" in w.value for w in at.warning), "placeholder costs are said so"
    hamlets = at.dataframe[0].value
    first = hamlets.iloc[0]  # changed rows first, the biggest gain first
    assert first["Ấp/khóm"] == "Ấp Xa Xôi"
    assert first["Hộ có thêm 4G tốt"] == "150,0"
    assert "Không có sóng 4G" in first["Cờ thiếu hụt (trước)"]
    assert first["Cờ được xoá"] == "Không có sóng 4G"
    assert "Không có sóng 4G" not in first["Cờ thiếu hụt (sau)"]
    kpis = at.dataframe[2].value
    assert "Tỷ lệ hộ chưa có sóng 4G" in kpis["Chỉ tiêu"].tolist()
    (component,) = at.get("component_instance")
    script = json.loads(component.proto.json_args)["script"]
    for layer in ("Trạm mới (kịch bản)", "Thay đổi vùng phủ 4G tốt", "Ấp thay đổi cờ"):
        assert json.dumps(layer)[1:-1] in script, layer
    labels = [b.proto.label for b in at.get("download_button")]
    for suffix in ("_changes_", "_hamlet-changes_"):
        assert any(suffix in label for label in labels), labels
    assert sum(label.endswith((".gpkg", ".csv", ".xlsx")) for label in labels) == 3


def test_changing_the_scenario_after_evaluating_asks_to_evaluate_again() -> None:
    at = _place_site_at_a_none(_run("en"))
    at.button(key="scenarios_evaluate").click()
    _ok(at.run())
    assert _metrics(at)["Households gaining good 4G"] == "150"
    at.multiselect(key="scenarios_off_techs").set_value(["2G"])
    _ok(at.run())
    assert not at.metric and any("press Evaluate" in i.value for i in at.info)
    at.button(key="scenarios_rm_site_0").click()  # the 2G switch-off alone
    _ok(at.run())
    assert not any("New site" in m.value for m in at.markdown)
    at.button(key="scenarios_evaluate").click()
    _ok(at.run())
    # A-PLAN (100 households) and A-NONE (150) have no 4G at all: they lose every service
    assert float(_metrics(at)["Households losing all service"].replace(",", "")) >= 250


def test_save_list_load_rename_and_delete_leave_the_data_unchanged(_scene: Path) -> None:
    hashes = data_hashes(_scene)
    at = _place_site_at_a_none(_run("vi"))
    at.text_input(key="scenarios_name").set_value("Trạm mới Ấp Xa Xôi")
    at.button(key="scenarios_save").click()
    _ok(at.run())
    assert any("tram-moi-ap-xa-xoi" in s.value for s in at.success)
    saved = at.selectbox(key="scenarios_saved")
    assert saved.options == ["Trạm mới Ấp Xa Xôi (tram-moi-ap-xa-xoi)"]
    assert (_scene / "scenarios" / "tram-moi-ap-xa-xoi" / "sites.csv").is_file()
    # a new session: nothing in the draft until the saved scenario is loaded
    fresh = _run("vi")
    assert fresh.button(key="scenarios_evaluate").disabled
    fresh.button(key="scenarios_load").click()
    _ok(fresh.run())
    assert fresh.text_input(key="scenarios_name").value == "Trạm mới Ấp Xa Xôi"
    assert any("NEW\\-1" in m.value for m in fresh.markdown)
    fresh.text_input(key="scenarios_rename_to").set_value("Phương án A")
    fresh.button(key="scenarios_rename").click()
    _ok(fresh.run())
    assert fresh.selectbox(key="scenarios_saved").options == ["Phương án A (phuong-an-a)"]
    assert not (_scene / "scenarios" / "tram-moi-ap-xa-xoi" / "scenario.json").exists()
    fresh.button(key="scenarios_delete").click()
    _ok(fresh.run())
    assert any(c.value == "Chưa có kịch bản nào được lưu." for c in fresh.caption)
    assert data_hashes(_scene) == hashes, "saving, renaming and deleting never touch the package data"


def test_a_scenario_of_another_data_version_is_noted_and_can_be_re_based(_scene: Path) -> None:
    at = _place_site_at_a_none(_run("en"))
    at.text_input(key="scenarios_name").set_value("Old plan")
    at.button(key="scenarios_save").click()
    _ok(at.run())
    doc_path = _scene / "scenarios" / "old-plan" / "scenario.json"
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    doc["base_version"] = "0123456789abcdef"
    doc_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    at = _run("en")
    assert any("made on data version 0123456789ab" in w.value for w in at.warning)
    at.button(key="scenarios_rebase").click()
    _ok(at.run())
    assert not any("made on data version" in w.value for w in at.warning)
    from geo.package import package_version

    assert json.loads(doc_path.read_text(encoding="utf-8"))["base_version"] == package_version(_scene)


def test_two_saved_scenarios_compared_side_by_side() -> None:
    at = _place_site_at_a_none(_run("en"))
    at.text_input(key="scenarios_name").set_value("Site at Xa Xoi")
    at.button(key="scenarios_save").click()
    _ok(at.run())
    at.button(key="scenarios_clear").click()
    _ok(at.run())
    at.multiselect(key="scenarios_off_techs").set_value(["2G"])
    at.text_input(key="scenarios_name").set_value("2G off")
    at.button(key="scenarios_save").click()
    _ok(at.run())
    at.multiselect(key="scenarios_compare").set_value(["2g-off", "site-at-xa-xoi"])
    _ok(at.run())
    at.button(key="scenarios_compare_go").click()
    _ok(at.run())
    table = at.dataframe[-1].value
    assert list(table.columns) == ["Result", "2G off (2g-off)", "Site at Xa Xoi (site-at-xa-xoi)"]
    gained = table[table["Result"] == "Households gaining good 4G"].iloc[0]
    assert gained["Site at Xa Xoi (site-at-xa-xoi)"] == "150" and gained["2G off (2g-off)"] == "0"


def test_a_bad_planned_sites_file_names_row_and_field_and_changes_nothing() -> None:
    lon, lat = lonlat(24.5, 6.0)
    header = "site_id,cell_id,operator,lat,lon,height_m,status,technology,band_mhz,azimuth_deg"
    text = f"{header}\nP-1,P-1-1,Viettel,{lat},{lon},-3,active,4G,1800,0\n"
    at = _run("en")
    at.file_uploader(key="scenarios_upload_0").set_value(("planned.csv", text.encode(), "text/csv"))
    _ok(at.run())
    (error,) = at.error
    message = error.value.replace("\\", "")  # data is escaped markdown
    assert "File refused; the scenario is unchanged" in message
    assert "planned.csv" in message and "row 2" in message and "height_m" in message
    assert any(c.value == "The scenario changes nothing yet." for c in at.caption)
    assert at.button(key="scenarios_evaluate").disabled
    good = text.replace(",-3,", ",30,")
    at.file_uploader(key="scenarios_upload_0").set_value(("planned.csv", good.encode(), "text/csv"))
    _ok(at.run())
    assert at.session_state["scenarios_sites"]["cell_id"].tolist() == ["P-1-1"]
    assert not at.button(key="scenarios_evaluate").disabled


def test_a_programme_clears_the_smartphone_flag(_scene: Path) -> None:
    """A-FAIR: 100 of 200 adults with a smartphone; +35 points -> 85 % >= the 80 % target."""
    from geo.package import load_package

    at = _run("en")
    hamlets = load_package(_scene).hamlets
    fair = str(hamlets.loc[hamlets["hamlet_name"] == "Ấp Bến Đình", "hamlet_id"].iloc[0])
    at.multiselect(key="scenarios_prog_hamlets").set_value([fair])
    at.number_input(key="scenarios_prog_phones").set_value(35.0)
    next(b for b in at.button if b.label == "Add programme").click()
    _ok(at.run())
    assert any("Programme 1: 1 hamlets" in m.value.replace("\\", "") for m in at.markdown)
    at.button(key="scenarios_evaluate").click()
    _ok(at.run())
    row = at.dataframe[0].value.iloc[0]
    assert row["Hamlet"] == "Ấp Bến Đình" and row["Flags cleared"] == "Low smartphone ownership"


def test_a_hamlet_named_in_markup_is_text_in_the_table_and_the_map(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "pkg"
    ids = write_package(radio_scene(), root, "2025-07")
    rename_hamlet(root, ids.hamlet_id["A-NONE"], HOSTILE)
    monkeypatch.setenv("PHUSONG_DATA", str(root))
    at = _place_site_at_a_none(_run("en"))
    at.button(key="scenarios_evaluate").click()
    _ok(at.run())
    assert at.dataframe[0].value.iloc[0]["Hamlet"] == HOSTILE  # the data, shown as text by the grid
    (component,) = at.get("component_instance")
    script = json.loads(component.proto.json_args)["script"]
    assert HOSTILE not in script and "\\u003cimg" not in script  # never markup, in no encoding
    assert "\\u0026lt;img src=x onerror=\\u0026quot;window.__xss=1\\u0026quot;\\u0026gt;" in script


def rename_hamlet(root: Path, hamlet_id: str, name: str) -> None:
    """Give one hamlet of a written package a new name (boundaries and survey rows)."""
    import csv
    import io

    path = root / "boundaries" / "hamlets.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    old = None
    for feature in doc["features"]:
        if feature["properties"]["hamlet_id"] == hamlet_id:
            old = feature["properties"]["hamlet_name"]
            feature["properties"]["hamlet_name"] = name
    assert old is not None, hamlet_id
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    for survey in (root / "survey").glob("*.csv"):
        rows = list(csv.DictReader(io.StringIO(survey.read_text(encoding="utf-8"))))
        if rows and "hamlet_name" in rows[0]:
            for row in rows:
                if row.get("hamlet_name") == old:
                    row["hamlet_name"] = name
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            survey.write_text(out.getvalue(), encoding="utf-8")


# --------------------------------------------------------------------------- helpers of the page


def test_planned_site_rows_are_towers_rows_one_per_azimuth() -> None:
    from views.scenario_parts import next_site_id, parse_azimuths, planned_site_rows

    assert parse_azimuths("0, 120 240") == (0.0, 120.0, 240.0) and parse_azimuths("  ") == ()
    with pytest.raises(ValueError):
        parse_azimuths("0, 400")
    assert next_site_id({"NEW-1", "NEW-2", "X"}) == "NEW-3"
    rows = planned_site_rows(
        "NEW-3", operator="MobiFone", lon=106.1, lat=9.8, technology="4G", height_m=25,
        azimuths=(0.0, 180.0), band_mhz=1800, eirp_dbm=59.0,
    )  # fmt: skip
    assert rows["cell_id"].tolist() == ["NEW-3-1", "NEW-3-2"]
    assert rows[["azimuth_deg", "beamwidth_deg", "status"]].values.tolist() == [
        [0.0, 65.0, "active"],
        [180.0, 65.0, "active"],
    ]
    omni = planned_site_rows(
        "NEW-4", operator="Viettel", lon=106.1, lat=9.8, technology="2G", height_m=30,
        azimuths=(), band_mhz=900, eirp_dbm=None,
    )  # fmt: skip
    assert len(omni) == 1 and omni["azimuth_deg"].isna().all() and omni["beamwidth_deg"].isna().all()


def test_downloads_are_the_changed_layers_and_the_hamlet_changes(_scene: Path, tmp_path: Path) -> None:
    """The page's download buttons build their files when pressed; here they are built directly."""
    import io

    import pandas as pd
    import pyogrio

    from analysis.params import default_gap_params
    from analysis.scenario.evaluate import compute_baseline, evaluate_scenario
    from analysis.scenario.files import read_layer
    from analysis.scenario.model import Scenario
    from geo.package import load_package
    from views.scenario_parts import _exports, planned_site_rows

    pkg = load_package(_scene)
    lon, lat = lonlat(24.5, 6.0)
    rows = planned_site_rows(
        "NEW-1", operator="Viettel", lon=lon, lat=lat, technology="4G", height_m=30,
        azimuths=(0.0, 120.0, 240.0), band_mhz=1800, eirp_dbm=59.0,
    )  # fmt: skip
    sites = read_layer(rows.to_csv(index=False).encode(), "towers", layout="2025-07", display="s.csv")
    result = evaluate_scenario(
        compute_baseline(pkg, default_gap_params()),
        Scenario(name="Thử", base_version=pkg.version, added_sites=sites),
    )
    gpkg = tmp_path / "changes.gpkg"
    gpkg.write_bytes(_exports(result, "gpkg")())
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"hamlet_changes", "new_sites"} <= layers
    assert len(pyogrio.read_dataframe(gpkg, layer="new_sites")) == 3
    table = pd.read_csv(io.BytesIO(_exports(result, "csv")()))
    row = table[table["hamlet_name"] == "Ấp Xa Xôi"].iloc[0]
    assert row["hh_gained_good_4g"] == 150.0 and "NO_MOBILE_COVERAGE" in row["flags_cleared"]
    assert _exports(result, "xlsx")()[:2] == b"PK"  # a zip: an Excel workbook
