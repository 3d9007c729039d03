"""A partner on the map and scenario pages, and the audit of data changes on the upload page (AppTest).

docs/ACCESS.md, "What partners get": a partner sees the gap layers and commune indicators of the whole
province, but of base-station data only its own operator's sites, cells and coverage, and changes
only its own operator's network in a scenario. Every check below runs the page functions on the tiny
package plus a MobiFone 4G site (so that the all-operator 4G coverage differs from Viettel's own),
with its own users file (a Viettel partner ``lan`` and a planner ``binh``) and audit log in
``tmp_path``; the user is signed in through the session the sign-in form would leave.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import TINY_SITES_CSV, write_tiny_package

TIMEOUT_S = 300
#: A MobiFone 4G site (tests/test_browser_partner.py): the tiny package has Viettel 4G and VinaPhone 3G.
MOBIFONE_SITE = "S3,S3-1,MobiFone,9.92,106.34,28,active,4G,1800,90,65,60,10\n"
OTHERS = ("MobiFone", "VinaPhone")
HEADER = TINY_SITES_CSV.splitlines()[0]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    from argon2 import PasswordHasher

    from auth.users import UserStore

    pkg = write_tiny_package(tmp_path / "pkg")
    with (pkg / "towers" / "sites.csv").open("a", encoding="utf-8") as out:
        out.write(MOBIFONE_SITE)
    conf = tmp_path / "conf"
    (tmp_path / "auth.toml").write_text("[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n")
    monkeypatch.setenv("PHUSONG_DATA", str(pkg))
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_USERS", str(conf / "users.json"))
    monkeypatch.setenv("PHUSONG_AUDIT", str(conf / "audit.jsonl"))
    monkeypatch.setenv("PHUSONG_AUTH_CONFIG", str(tmp_path / "auth.toml"))
    store = UserStore(
        conf / "users.json", hasher=PasswordHasher(time_cost=1, memory_cost=19 * 1024, parallelism=1)
    )
    store.add("lan", "partner", "partner-Pass-03", operator="viettel")
    store.add("binh", "planner", "planner-Pass-02")
    return {"pkg": pkg, "audit": conf / "audit.jsonl", "users": conf / "users.json"}


def _page_app(name: str) -> None:
    import importlib

    importlib.import_module(f"views.{name}").render()


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def _as(user_name: str | None, page: str, state: dict[str, Any] | None = None) -> AppTest:
    """``page`` run as ``user_name`` (signed in: the session the sign-in form leaves; None: demo mode)."""
    from auth.sessions import new_session
    from auth.users import UserStore

    at = AppTest.from_function(_page_app, args=(page,), default_timeout=TIMEOUT_S)
    if user_name is not None:
        at.session_state["auth_session"] = new_session(
            UserStore(Path(os.environ["PHUSONG_USERS"])).get(user_name)
        )
    for key, value in (state or {}).items():
        at.session_state[key] = value
    return _ok(at.run())


def _walk(element: Any) -> Iterator[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _layer_texts(fmap: Any) -> tuple[set[str], list[dict[str, str]]]:
    """Every text of the map's compact GeoJSON layers (tooltips, popups) and every feature's properties."""
    from layers.map import CompactGeoJson, decoded_properties

    texts: set[str] = set()
    rows: list[dict[str, str]] = []
    for element in _walk(fmap):
        if isinstance(element, CompactGeoJson):
            for table in element.tables.texts.values():
                texts.update(table)
            rows += decoded_properties(element)
    return texts, rows


def _overlays(fmap: Any) -> list[bytes]:
    import folium

    return [
        base64.b64decode(e.url.split(",", 1)[1])
        for e in _walk(fmap)
        if isinstance(e, folium.raster_layers.ImageOverlay)
    ]


def _coverage(pkg_root: Path):
    """Every operator's 4G coverage of the package, as the app computes it (scene, result, params)."""
    from analysis.coverage import build_scene, compute_coverage_by_operator
    from analysis.coverage_params import default_coverage_params
    from geo.package import load_package

    pkg, cparams = load_package(pkg_root), default_coverage_params()
    scene = build_scene(pkg.communes, pkg.metric_crs, resolution_m=cparams.resolution_m, params=cparams)
    return scene, compute_coverage_by_operator(scene, pkg.cells, technology="4G", params=cparams), cparams


# --------------------------------------------------------------------------- pure helpers


def test_other_operator_rows_and_owned_ids() -> None:
    from layers.access_filters import other_operator_rows, owned_ids

    cells = pd.DataFrame(
        {
            "site_id": ["S1", "S1", "S2", "S3", "S4"],
            "cell_id": ["S1-1", "S1-2", "S2-1", "S3-1", "S4-1"],
            "operator": ["Viettel", "viettel", "VinaPhone", "MobiFone", "??"],
        }
    )
    assert other_operator_rows(cells, None) == [] and owned_ids(cells, None) is None
    assert other_operator_rows(cells, "Viettel") == [2, 3, 4], "an unreadable operator is another's"
    assert owned_ids(cells, "VIETTEL") == {"S1"}
    assert owned_ids(cells, "Viettel", "cell_id") == {"S1-1", "S1-2"}
    assert other_operator_rows(cells.drop(columns="operator"), "Viettel") == [0, 1, 2, 3, 4]


def test_visible_coverage_is_the_partners_own_class_raster() -> None:
    from layers.access_filters import CoverageRasters, visible_coverage

    combined = np.array([[3, 3], [0, 255]], dtype=np.uint8)
    viettel = np.array([[1, 0], [0, 255]], dtype=np.uint8)
    rasters = CoverageRasters(combined, {"Viettel": viettel, "MobiFone": combined})
    np.testing.assert_array_equal(visible_coverage(rasters, None), combined)
    np.testing.assert_array_equal(visible_coverage(rasters, "viettel"), viettel)
    np.testing.assert_array_equal(visible_coverage(rasters, "VinaPhone"), [[0, 0], [0, 255]])


def test_restrict_draft_keeps_only_the_partners_own_network() -> None:
    from analysis.scenario.model import CellEdit, Scenario, SiteMove, SwitchOff
    from views.scenario_parts import changes_count, restrict_draft

    cells = pd.DataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "cell_id": ["S1-1", "S2-1", "S3-1"],
            "operator": ["Viettel", "VinaPhone", "MobiFone"],
        }
    )
    added = gpd.GeoDataFrame(
        {
            "site_id": ["NEW-1", "NEW-2"],
            "cell_id": ["NEW-1-1", "NEW-2-1"],
            "operator": ["Viettel", "MobiFone"],
        },
        geometry=gpd.points_from_xy([106.3, 106.31], [9.9, 9.91]),
        crs=4326,
    )
    draft = Scenario(
        name="x",
        base_version="v",
        added_sites=added,
        removed_sites=("S1", "S2"),
        moved_sites=(SiteMove("S3", 106.3, 9.9), SiteMove("NEW-1", 106.3, 9.9)),
        cell_edits=(
            CellEdit("S1-1", {"height_m": 40.0}),
            CellEdit("S1-1", {"operator": "MobiFone"}),
            CellEdit("S2-1", {"height_m": 40.0}),
        ),
        switch_off=SwitchOff(("3G",), "VinaPhone"),
    )
    assert restrict_draft(draft, cells, None) is draft
    mine = restrict_draft(draft, cells, "viettel")
    assert mine.added_sites is not None and mine.added_sites["operator"].tolist() == ["Viettel"]
    assert mine.removed_sites == ("S1",)
    assert [m.site_id for m in mine.moved_sites] == ["NEW-1"]
    assert mine.cell_edits == (CellEdit("S1-1", {"height_m": 40.0}),)
    assert mine.switch_off == SwitchOff(("3G",), "Viettel")
    assert changes_count(draft) - changes_count(mine) == 5
    every = restrict_draft(draft.with_changes(switch_off=SwitchOff(("2G",), None)), cells, "Viettel")
    assert every.switch_off == SwitchOff(("2G",), "Viettel"), "'every operator' is its own for a partner"


# --------------------------------------------------------------------------- the map page


@pytest.fixture
def captured_maps(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every folium map the pages hand to ``views.common.show_map``."""
    from views import common

    maps: list[Any] = []
    real = common.show_map

    def spy(fmap, **kwargs):
        maps.append(fmap)
        return real(fmap, **kwargs)

    monkeypatch.setattr(common, "show_map", spy)
    return maps


MAP_LAYERS = {"planners_layers": ["communes", "hamlets", "sites", "coverage"]}


def test_a_viettel_partners_map_shows_only_viettel_sites_and_coverage(env, captured_maps) -> None:
    from layers.map import coverage_png

    at = _as("lan", "planners", MAP_LAYERS)
    assert at.multiselect(key="planners_operators").options == ["Viettel"]
    assert any("Viettel" in c.value for c in at.caption), "the page says what a partner sees"
    fmap = captured_maps[-1]
    texts, rows = _layer_texts(fmap)
    sites = [r for r in rows if "Trạm" in r]
    assert [r["Trạm"] for r in sites] == ["S1"] and {r["Nhà mạng"] for r in sites} == {"Viettel"}
    assert not texts & {"S2", "S3", *OTHERS}, "no other operator's site id or name in any tooltip or popup"
    html = fmap.get_root().render()
    assert not any(name in html for name in OTHERS), "nor anywhere in the page the browser gets"
    (overlay,) = _overlays(fmap)
    scene, cov, cparams = _coverage(env["pkg"])
    own, _ = coverage_png(
        cov.classes_by_operator["Viettel"], transform=scene.grid.transform, crs=scene.grid.crs
    )
    every, _ = coverage_png(
        cov.combined.classes(cparams.tech("4G")), transform=scene.grid.transform, crs=scene.grid.crs
    )
    assert own != every, "the test package has other operators' 4G coverage"
    assert overlay == own, "the coverage overlay is Viettel's own classes, never the best server's"
    assert "Vùng phủ sóng 4G của Viettel" in html

    # the site layer stays Viettel's whatever operators the browser asks for
    at.session_state["planners_operators"] = ["Viettel", "MobiFone", "VinaPhone"]
    _ok(at.run())
    texts, rows = _layer_texts(captured_maps[-1])
    assert [r["Trạm"] for r in rows if "Trạm" in r] == ["S1"] and not texts & {"S2", "S3", *OTHERS}


def test_a_planner_still_sees_every_operator_on_the_map(env, captured_maps) -> None:
    at = _as("binh", "planners", MAP_LAYERS)
    assert at.multiselect(key="planners_operators").options == ["MobiFone", "Viettel", "VinaPhone"]
    texts, rows = _layer_texts(captured_maps[-1])
    assert sorted(r["Trạm"] for r in rows if "Trạm" in r) == ["S1", "S2", "S3"]
    (overlay,) = _overlays(captured_maps[-1])
    from views import common

    pkg = common.package()
    assert pkg is not None and overlay == common.coverage(pkg.version, pkg).overlay_png


def test_map_helpers_scrub_the_hamlets_and_filter_the_sites(env) -> None:
    from geo.package import load_package
    from layers.map import sites_from_cells
    from views.planners import shown_sites

    pkg = load_package(env["pkg"])
    sites = sites_from_cells(pkg.cells)
    mine = shown_sites(sites, ("Viettel", "MobiFone", "VinaPhone"), ("2G", "3G", "4G", "5G"), "Viettel")
    assert mine["site_id"].tolist() == ["S1"]
    assert shown_sites(sites, ("MobiFone", "VinaPhone"), ("3G", "4G"), None)["site_id"].tolist() == [
        "S2",
        "S3",
    ]
    from layers.access_filters import restrict_layer

    gaps = pd.DataFrame({"hamlet_id": ["H1", "H2"], "good_4g_operators": ["Viettel;MobiFone", "MobiFone"]})
    assert restrict_layer("gaps", gaps, "Viettel")["good_4g_operators"].tolist() == ["Viettel", ""]


# --------------------------------------------------------------------------- the scenario page


def _scenario(user: str, state: dict[str, Any] | None = None) -> AppTest:
    return _as(user, "scenarios", state)


def test_a_partners_scenario_offers_and_keeps_only_its_own_operator(env) -> None:
    import json as _json

    forged = {
        "scenarios_off_operator": "VinaPhone",
        "scenarios_off_techs": ["3G"],
        "scenarios_remove_existing": ["S2", "S3", "S1"],
        "scenarios_operator": "MobiFone",
    }
    at = _scenario("lan", forged)
    assert at.selectbox(key="scenarios_operator").options == ["Viettel"]
    assert at.selectbox(key="scenarios_operator").value == "Viettel"
    assert at.selectbox(key="scenarios_off_operator").options == ["Viettel"]
    assert at.selectbox(key="scenarios_off_operator").value == "Viettel", "switch-off forced to its own"
    assert at.multiselect(key="scenarios_remove_existing").options == ["S1"]
    assert at.multiselect(key="scenarios_remove_existing").value == ["S1"]
    assert any("Viettel" in c.value for c in at.caption), "the page says what a partner may change"
    # what the server saves is the restricted draft
    at.text_input(key="scenarios_name").input("Phương án Viettel")
    at.button(key="scenarios_save").click()
    _ok(at.run())
    doc = _json.loads((env["pkg"] / "scenarios" / "phuong-an-viettel" / "scenario.json").read_text())
    text = _json.dumps(doc)
    assert "VinaPhone" not in text and "MobiFone" not in text and "S2" not in text, text
    assert "Viettel" in text


def _add_site_app(operator: str) -> None:
    """The site form's callback with the form filled in (``operator`` as the browser would send it)."""
    import streamlit as st

    from views import common, scenarios
    from views import scenario_parts as parts

    st.session_state.update(
        scenarios_operator=operator, scenarios_lat=9.93, scenarios_lon=106.33, scenarios_technology="4G",
        scenarios_height=30.0, scenarios_azimuths="0, 120", scenarios_band=1800.0, scenarios_eirp=59.0,
    )  # fmt: skip
    st.session_state.setdefault("scenarios_sites", None)
    scenarios._add_site(common.package())
    parts.show_messages("site")


def test_a_partners_scenario_refuses_another_operators_sites(env) -> None:
    from auth.audit import AuditLog

    at = _scenario("lan")
    rows = (
        f"{HEADER}\n"
        "P1,P1-1,Viettel,9.93,106.33,30,active,4G,1800,0,65,59,10\n"
        "P2,P2-1,MobiFone,9.93,106.34,30,active,4G,1800,0,65,59,10\n"
        "P2,P2-2,Mobifone,9.93,106.34,30,active,4G,1800,120,65,59,10\n"
    )
    at.file_uploader(key="scenarios_upload_0").set_value(("planned.csv", rows.encode(), "text/csv"))
    _ok(at.run())
    (error,) = at.error
    text = error.value.replace("\\", "")  # markdown, escaped
    assert "planned.csv dòng 3, 4: nhà mạng MobiFone;" in text, text
    assert "đối tác Viettel chỉ được thêm trạm của Viettel" in text, "it says what a partner may add"
    assert "scenarios_sites" not in at.session_state or at.session_state["scenarios_sites"] is None
    refused = [e for e in AuditLog(env["audit"]).entries() if e.event == "refused"]
    assert [(e.user, e.details["what"]) for e in refused] == [("lan", "scenario sites of another operator")]

    # the site form's callback, given an operator the browser cannot send, refuses it too
    from auth.sessions import new_session
    from auth.users import UserStore

    form = AppTest.from_function(_add_site_app, args=("VinaPhone",), default_timeout=TIMEOUT_S)
    form.session_state["auth_session"] = new_session(UserStore(env["users"]).get("lan"))
    _ok(form.run())
    assert any("VinaPhone" in e.value and "Viettel" in e.value for e in form.error), form.error
    assert form.session_state["scenarios_sites"] is None
    assert len([e for e in AuditLog(env["audit"]).entries() if e.event == "refused"]) == 2

    # its own operator's rows are taken
    at.file_uploader(key="scenarios_upload_0").set_value(
        (
            "mine.csv",
            f"{HEADER}\nP1,P1-1,Viettel,9.93,106.33,30,active,4G,1800,0,65,59,10\n".encode(),
            "text/csv",
        )
    )
    _ok(at.run())
    assert at.session_state["scenarios_sites"]["cell_id"].tolist() == ["P1-1"]


def test_a_partners_scenario_map_and_overlay_are_its_own_operators(env, monkeypatch, captured_maps) -> None:
    from layers.scenario_map import coverage_change_png
    from views import scenario_parts, scenarios

    drawn: list[dict[str, Any]] = []
    results: list[Any] = []
    real_map, real_results = scenarios.scenario_map, scenario_parts.show_results

    def map_spy(*args, **kwargs):
        drawn.append({"hamlets": args[1], **kwargs})
        return real_map(*args, **kwargs)

    def results_spy(result, *args, **kwargs):
        results.append(result)
        return real_results(result, *args, **kwargs)

    monkeypatch.setattr(scenarios, "scenario_map", map_spy)
    monkeypatch.setattr(scenario_parts, "show_results", results_spy)
    # a Viettel site beside MobiFone's: where MobiFone already gives good 4G, Viettel's own gain shows
    at = _scenario("lan", {"scenarios_show_sites": True, "scenarios_remove_existing": ["S1"]})
    at.number_input(key="scenarios_lat").set_value(9.921)
    at.number_input(key="scenarios_lon").set_value(106.341)
    at.button(key="scenarios_add_site").click()
    _ok(at.run())
    at.button(key="scenarios_evaluate").click()
    _ok(at.run())
    (result,) = results[-1:]
    shown = drawn[-1]
    assert shown["sites"]["site_id"].tolist() == ["S1"]
    assert set(shown["new_cells"]["operator"]) == {"Viettel"}
    assert set(shown["removed_cells"]["operator"]) == {"Viettel"}
    assert shown["change_title"] == "Thay đổi vùng phủ 4G tốt của Viettel"
    assert set(shown["hamlets"]["good_4g_operators"]) <= {"Viettel", ""}, "popups: no other operator"
    assert set(result.gaps["good_4g_operators"]) - {"Viettel", ""}, "(the result itself names others)"
    base = result.baseline
    grid = base.scene.grid
    own = coverage_change_png(
        base.coverage.classes_by_operator["Viettel"],
        result.coverage.classes_by_operator["Viettel"],
        transform=grid.transform,
        crs=grid.crs,
    )
    tech = base.cparams.tech("4G")
    every = coverage_change_png(
        base.coverage.combined.classes(tech),
        result.coverage.combined.classes(tech),
        transform=grid.transform,
        crs=grid.crs,
    )
    assert own is not None and shown["change_overlay"] == own[:2]
    assert every is not None and every[2] != own[2], "the all-operator overlay differs (MobiFone's good 4G)"
    texts, _rows = _layer_texts(captured_maps[-1])
    assert "S1" in texts and "NEW-1" in texts and not texts & {"S2", "S3", *OTHERS}


def test_a_planners_scenario_page_is_unchanged(env) -> None:
    at = _scenario("binh")
    assert at.selectbox(key="scenarios_operator").options == ["MobiFone", "Viettel", "VinaPhone"]
    assert at.selectbox(key="scenarios_off_operator").options == [
        "Tất cả",
        "MobiFone",
        "Viettel",
        "VinaPhone",
    ]
    assert at.multiselect(key="scenarios_remove_existing").options == ["S1", "S2", "S3"]


# --------------------------------------------------------------------------- upload audit


def test_upload_preview_apply_and_restore_are_audited(env) -> None:
    from auth.audit import AuditLog
    from tests.conftest import TINY_SURVEY_CSV

    # demo mode (no users file): the demo user is an admin
    env["users"].unlink()
    at = _as(None, "upload")
    at.selectbox(key="upload_layer").set_value("survey").run()
    data = TINY_SURVEY_CSV.replace(",100,70,", ",100,75,").encode("utf-8")
    at.file_uploader(key="upload_file_0").upload("khao_sat.csv", data, "text/csv").run()
    _ok(at)
    _ok(at.run())  # a rerun rebuilds the preview: not audited again
    log = AuditLog(env["audit"])
    (preview,) = [e for e in log.entries() if e.event == "upload_preview"]
    assert (preview.user, preview.role) == ("demo", "admin")
    assert preview.details["layer"] == "survey" and preview.details["file"] == "khao_sat.csv"
    assert preview.details["ok"] is True and preview.details["bytes"] == len(data)
    at.button(key="upload_apply").click()
    _ok(at.run())
    (applied,) = [e for e in log.entries() if e.event == "import_applied"]
    assert applied.details["layer"] == "survey" and applied.details["file"] == "khao_sat.csv"
    assert applied.details["rows"] == preview.details["rows"] > 0
    version = applied.details["version"]
    assert version and any(version in s.value for s in at.success)
    at.selectbox(key="upload_version").set_value(version)
    at.button(key="upload_restore").click()
    _ok(at.run())
    (restored,) = [e for e in log.entries() if e.event == "version_restored"]
    assert restored.details["version"] == version and restored.details["new_version"] != version
    assert [e.event for e in log.entries()] == ["upload_preview", "import_applied", "version_restored"]
