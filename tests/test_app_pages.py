"""Each page of the app runs on the bundled data and on Trà Vinh 2009 without an exception (AppTest).

Pages are page functions (``views.<name>.render``); each test runs one through a tiny wrapper
app, in Vietnamese (the default) and English. The first test of the module computes the
bundled province's coverage once (cached for the rest of the process).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300
TRA_VINH = REPO / "examples" / "tra-vinh-2009"
"""Most page tests below were written for the Trà Vinh 2009 package (105 communes, districts); the
bundled ``data/`` (the new Vĩnh Long) has its own tests at the end."""


def _page_app(name: str, lang: str) -> None:
    import importlib

    import streamlit as st

    st.session_state.setdefault("app_lang", lang)
    importlib.import_module(f"views.{name}").render()


def _run(name: str, lang: str = "vi") -> AppTest:
    at = AppTest.from_function(_page_app, args=(name, lang), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_DATA", str(TRA_VINH))


def test_whole_app_starts_in_vietnamese_with_five_pages() -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert at.title[0].value == "Bản đồ quy hoạch"
    assert at.sidebar.radio(key="app_lang").value == "vi"
    at.sidebar.radio(key="app_lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Planning map"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_planners_page_widgets(lang: str) -> None:
    at = _run("planners", lang)
    assert at.title[0].value == ("Planning map" if lang == "en" else "Bản đồ quy hoạch")
    assert set(at.multiselect(key="planners_layers").value) == {"communes", "hamlets"}
    assert at.selectbox(key="planners_indicator").value == "good_4g"
    assert at.selectbox(key="planners_district").value == ""
    assert at.text_input(key="planners_search") is not None
    assert any("synthetic" in c.value.lower() or "tổng hợp" in c.value.lower() for c in at.caption)


def test_planners_search_and_commune_table() -> None:
    at = _run("planners")
    at.text_input(key="planners_search").set_value("tra cu").run()
    assert not at.exception
    options = at.selectbox(key="planners_commune").options
    assert len(options) > 1  # "" + the communes of Trà Cú
    first = options[1]
    assert "Trà Cú" in first
    from geo.package import load_package

    communes = load_package(TRA_VINH).communes
    commune_id = str(communes.loc[communes["commune_name"] == "Thị trấn Trà Cú", "commune_id"].iloc[0])
    at.selectbox(key="planners_commune").set_value(commune_id).run()
    assert not at.exception
    assert at.dataframe, "selecting a commune shows its hamlets"
    table = at.dataframe[0].value
    assert "Cờ thiếu hụt" in table.columns and len(table) > 0


def test_planners_all_layers_and_indicator_change() -> None:
    at = _run("planners")
    at.multiselect(key="planners_layers").set_value(
        ["communes", "hamlets", "sites", "coverage", "fibre"]
    ).run()
    assert not at.exception
    at.selectbox(key="planners_indicator").set_value("ftth").run()
    assert not at.exception
    at.selectbox(key="planners_district").set_value(at.selectbox(key="planners_district").options[1]).run()
    assert not at.exception


def test_map_payload_is_compact_and_the_quick_map_only_shown_while_computing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The planners' map stays far below the 3 MB budget; a session that finds the layers computed by
    another one gets the full map only (no quick commune map sent first)."""
    import json

    from layers.map import asset_data_uri
    from views import common

    shown: list[str] = []
    show_map = common.show_map

    def spy(fmap, *, key: str, **kwargs):
        shown.append(key.split(":")[0])
        return show_map(fmap, key=key, **kwargs)

    monkeypatch.setattr(common, "show_map", spy)
    common._computed_on_server.clear()  # as on a fresh server
    first = _run("planners")
    assert shown == ["planners_quick", "planners_map"]
    (component,) = first.get("component_instance")
    args = json.loads(component.proto.json_args)
    assert len(component.proto.json_args) < 1_000_000  # Trà Vinh: about 0.55 MB (was 1.2 MB)
    assert asset_data_uri("jquery") not in args["js_links"]  # unused by these layers
    assert asset_data_uri("leaflet") in args["js_links"]
    shown.clear()
    _run("planners")  # another session, same server
    assert shown == ["planners_map"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_downloads_page_widgets(lang: str) -> None:
    at = _run("downloads", lang)
    assert at.selectbox(key="downloads_layer").value == "gaps"
    assert at.radio(key="downloads_format_False").value == "gpkg"
    assert at.get("download_button"), "a download button is offered"
    at.selectbox(key="downloads_layer").set_value("coverage").run()
    assert not at.exception
    assert at.radio(key="downloads_format_True").options == ["GeoTIFF"]


def test_download_file_name_carries_province_layer_and_date() -> None:
    from views.downloads import file_name

    assert (
        file_name("Trà Vinh", "gaps", "gpkg", today=dt.date(2026, 11, 25)) == "tra-vinh_gaps_2026-11-25.gpkg"
    )


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_snapshot_page(lang: str) -> None:
    at = _run("snapshot", lang)
    assert at.get("download_button"), "one-click PDF"
    assert len(at.get("imgs")) >= 1 or len(at.get("image")) >= 1
    texts = " ".join(m.value for m in at.markdown)
    assert ("Target" if lang == "en" else "Mục tiêu") in texts
    from analysis.kpi import KpiKey
    from layers.charts import kpi_label

    captions = [c.value for c in at.caption]
    for key in KpiKey:  # one card per KPI (the bundled survey has internet use)
        assert kpi_label(key, lang) in captions, key
    no4g = kpi_label(KpiKey.NO_4G, lang)
    assert no4g == ("Households without 4G" if lang == "en" else "Tỷ lệ hộ chưa có sóng 4G")
    basis = captions[captions.index(no4g) + 1]  # the card's caption after its value and target
    assert (" of " if lang == "en" else " hộ trên ") in basis, basis


def test_settings_apply_and_reset() -> None:
    at = _run("settings")
    assert at.slider(key="settings_tno4g").value == 0
    at.slider(key="settings_ftth").set_value(60)
    at.slider(key="settings_tno4g").set_value(5)
    at.button[0].click()  # the form's Apply
    at.run()
    assert not at.exception
    params = at.session_state["settings_params"]
    assert params.thresholds.ftth_min_share == pytest.approx(0.6)
    assert at.session_state["settings_targets"].ftth_household_share == pytest.approx(0.6)
    assert at.session_state["settings_targets"].no_4g_household_share == pytest.approx(0.05)
    at.button(key="settings_reset").click().run()
    assert not at.exception
    assert "settings_params" not in at.session_state
    assert at.slider(key="settings_ftth").value == 80
    assert at.slider(key="settings_tno4g").value == 0


def test_settings_rejects_bad_tile_url() -> None:
    at = _run("settings")
    at.text_input(key="settings_tiles").set_value("http://tiles.local/{z}/{x}.png").run()
    assert not at.exception
    assert any("{y}" in e.value for e in at.error)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_upload_page(lang: str) -> None:
    at = _run("upload", lang)
    assert at.selectbox(key="upload_layer").value == "boundaries"
    assert at.info, "explains that nothing changes before Apply"


def test_search_ignores_case_and_diacritics() -> None:
    from views.planners import search_communes

    communes = pd.DataFrame(
        {
            "commune_name": ["Thị trấn Trà Cú", "Xã Long Đức", "Phường 1"],
            "district_name": ["Huyện Trà Cú", "Thành phố Trà Vinh", "Thành phố Trà Vinh"],
        }
    )
    assert list(search_communes(communes, "tra cu")["commune_name"]) == ["Thị trấn Trà Cú"]
    assert list(search_communes(communes, "LONG DUC")["commune_name"]) == ["Xã Long Đức"]
    assert search_communes(communes, "").empty


def test_broken_data_package_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHUSONG_DATA", str(tmp_path))
    at = _run("planners")
    assert at.error and "dataset.toml" in at.error[0].value


def test_upload_accepts_exactly_the_types_the_importers_take() -> None:
    from geo.safety import _EXPECTED_KIND
    from views.upload import ACCEPTED_TYPES

    assert set(ACCEPTED_TYPES) == {suffix.lstrip(".") for suffix in _EXPECTED_KIND}
    assert "gz" in ACCEPTED_TYPES and "kml" not in ACCEPTED_TYPES


def _squares():
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame(
        {"commune_id": ["C1", "C2"]},
        geometry=[box(106.0, 9.0, 106.1, 9.1), box(106.1, 9.0, 106.2, 9.1)],
        crs=4326,
    )


def _click(lng: float, lat: float, geometry_type: str = "Polygon") -> dict:
    return {
        "last_object_clicked": {"lat": lat, "lng": lng},
        "last_active_drawing": {"type": "Feature", "properties": {}, "geometry": {"type": geometry_type}},
    }


def test_clicked_commune_from_map_value() -> None:
    from views.planners import clicked_commune

    squares = _squares()
    assert clicked_commune(_click(106.05, 9.05), squares) == "C1"
    assert clicked_commune(_click(106.15, 9.05, "MultiPolygon"), squares) == "C2"
    assert clicked_commune(_click(106.2005, 9.05), squares) == "C2"  # a sliver just outside: nearest
    assert clicked_commune(_click(106.5, 9.05), squares) is None  # far from every commune
    assert clicked_commune(_click(106.05, 9.05, "Point"), squares) is None  # a hamlet dot, not a commune
    assert clicked_commune(None, squares) is None
    assert clicked_commune({"last_object_clicked": None, "last_active_drawing": None}, squares) is None


def _clicked_app(lng: float, lat: float) -> None:
    import streamlit as st

    from views import planners

    if "test_clicked" not in st.session_state:  # one click, as the map's on_change delivers it
        st.session_state["test_clicked"] = True
        st.session_state["planners_district"] = "Huyện Cầu Ngang"  # another district is filtered
        st.session_state["planners_search"] = "long duc"  # and the search does not match it
        st.session_state["planners_map:test"] = {
            "last_object_clicked": {"lat": lat, "lng": lng},
            "last_active_drawing": {"type": "Feature", "geometry": {"type": "MultiPolygon"}},
        }
        planners._select_clicked("planners_map:test")
    planners.render()


def test_click_on_a_commune_selects_it_and_shows_its_hamlets() -> None:
    from geo.package import load_package

    communes = load_package(TRA_VINH).communes
    row = communes[communes["commune_name"] == "Thị trấn Trà Cú"].iloc[0]
    point = row.geometry.representative_point()
    at = AppTest.from_function(_clicked_app, args=(point.x, point.y), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="planners_commune").value == str(row["commune_id"])
    assert at.selectbox(key="planners_district").value == row["district_name"]
    assert at.text_input(key="planners_search").value == ""
    assert any("Thị trấn Trà Cú" in s.value for s in at.subheader)
    assert len(at.dataframe[0].value) > 0


# --------------------------------------------------------------------------- a 2025-07 package (no districts)


@pytest.fixture(scope="module")
def reform_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.package_2025 import write_2025_package

    return write_2025_package(tmp_path_factory.mktemp("reform") / "pkg")


@pytest.fixture
def reform(reform_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PHUSONG_DATA", str(reform_root))
    return reform_root


def _has_widget(at: AppTest, kind: str, key: str) -> bool:
    try:
        getattr(at, kind)(key=key)
    except KeyError:
        return False
    return True


def test_2025_planners_has_no_district_picker_and_search_finds_a_former_district(reform: Path) -> None:
    at = _run("planners", "vi")
    assert not _has_widget(at, "selectbox", "planners_district")
    overlay = at.selectbox(key="planners_former")
    assert overlay.value == "" and overlay.options == [
        "Không hiển thị",
        "Tỉnh cũ (trước 1/7/2025)",
        "Huyện cũ (trước 1/7/2025)",
    ]
    assert at.selectbox(key="planners_commune").options == [
        "Tất cả",
        "Phường Long Đức",
        "Phường Trà Vinh",
        "Xã Trà Cú",
        "Xã Giao Long",
    ]
    at.text_input(key="planners_search").set_value("Trà Cú").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="planners_commune").options == [
        "Tất cả",
        "Xã Trà Cú — trước 1/7/2025 thuộc Huyện Trà Cú; gồm địa bàn Thị trấn Trà Cú cũ",
    ]
    assert any(c.value == "1 xã khớp" for c in at.caption)
    at.selectbox(key="planners_commune").set_value("C3").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["Ấp/khóm"].tolist() == ["Ấp Chông Nô"]


def test_2025_planners_search_by_former_commune_in_english_and_overlay(reform: Path) -> None:
    at = _run("planners", "en")
    at.text_input(key="planners_search").set_value("ngai xuyen").run()
    assert at.selectbox(key="planners_commune").options == [
        "All",
        "Xã Trà Cú — took in territory of former Xã Ngãi Xuyên",
    ]
    at.selectbox(key="planners_former").set_value("former_district").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("there are no districts" in c.value for c in at.caption)
    at.multiselect(key="planners_layers").set_value(["communes", "hamlets", "sites", "fibre"]).run()
    at.selectbox(key="planners_former").set_value("former_province").run()
    assert not at.exception, [e.message for e in at.exception]


def test_2025_snapshot_by_former_province_beside_published_figures(reform: Path) -> None:
    at = _run("snapshot", "vi")
    assert at.get("download_button"), "one-click PDF"
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Tỉnh cũ",
        "Chỉ tiêu",
        "Bộ dữ liệu này",
        "Đã công bố",
        "Nguồn (năm số liệu)",
    ]
    ftth = table[(table["Tỉnh cũ"] == "Trà Vinh") & (table["Chỉ tiêu"] == "Tỷ lệ hộ dùng cáp quang (FTTH)")]
    assert ftth[["Bộ dữ liệu này", "Đã công bố"]].values.tolist() == [["61,5 %", "69,3 %"]]
    assert ftth["Nguồn (năm số liệu)"].iloc[0].endswith("(2023)")
    subs = table[table["Chỉ tiêu"] == "Thuê bao di động / 100 dân"]
    assert subs[["Tỉnh cũ", "Đã công bố"]].values.tolist() == [["Vĩnh Long", "130 / 100 dân"]]
    assert set(table.loc[table["Tỉnh cũ"] == "Bến Tre", "Nguồn (năm số liệu)"]) == {
        "không có trong nguồn của chúng tôi"
    }
    assert any(s.value == "Theo tỉnh cũ (trước 1/7/2025)" for s in at.subheader)
    assert not any(s.value == "Theo huyện" for s in at.subheader)
    level = at.selectbox(key="snapshot_level")
    assert level.value == "former_province"
    level.set_value("former_district").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(s.value == "Theo huyện cũ (trước 1/7/2025)" for s in at.subheader)


def test_2025_downloads_filter_by_former_units_and_carry_the_new_columns(
    reform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import views.downloads as downloads

    exported: list[tuple[pd.DataFrame, str]] = []
    real = downloads.export_bytes

    def spy(data, fmt, **kw):
        exported.append((data, fmt))
        return real(data, fmt, **kw)

    monkeypatch.setattr(downloads, "export_bytes", spy)
    at = _run("downloads", "en")
    assert not _has_widget(at, "multiselect", "downloads_districts")
    assert at.multiselect(key="downloads_former_province").options == ["Bến Tre", "Trà Vinh"]
    assert at.multiselect(key="downloads_former_district").options == [
        "Huyện Châu Thành",
        "Huyện Trà Cú",
        "Thành phố Trà Vinh",
    ]
    at.multiselect(key="downloads_former_province").set_value(["Trà Vinh"]).run()
    # the former districts of the communes that list Trà Vinh (Xã Giao Long does, for a sliver)
    assert at.multiselect(key="downloads_former_district").options == [
        "Huyện Châu Thành",
        "Huyện Trà Cú",
        "Thành phố Trà Vinh",
    ]
    at.multiselect(key="downloads_former_district").set_value(["Huyện Trà Cú"]).run()
    assert not at.exception, [e.message for e in at.exception]
    gaps, fmt = exported[-1]
    assert fmt == "gpkg"
    new_columns = {"former_province", "former_district", "old_commune_codes", "former_commune_code"}
    assert new_columns <= set(gaps.columns)
    assert gaps["hamlet_id"].tolist() == ["H4"] and gaps["former_commune_name"].tolist() == ["Xã Ngãi Xuyên"]
    at.selectbox(key="downloads_layer").set_value("communes").run()
    assert not at.exception
    communes, _ = exported[-1]
    assert communes["commune_id"].tolist() == ["C3"]
    assert communes[["former_province", "former_district", "old_commune_codes"]].values.tolist() == [
        ["Trà Vinh", "Huyện Trà Cú", "29461;29479;29485"]
    ]
    # a former province chosen alone: communes listing it among several count (Xã Giao Long's sliver)
    at.multiselect(key="downloads_former_district").set_value([]).run()
    communes, _ = exported[-1]
    assert communes["commune_id"].tolist() == ["C1", "C2", "C3", "C4"]


def _overlay_app() -> None:
    import streamlit as st

    from views import planners

    st.session_state.setdefault("planners_former", "former_district")
    planners.render()


def test_2025_hostile_former_names_reach_the_map_only_as_text(tmp_path: Path, monkeypatch) -> None:
    import json

    from tests.package_2025 import set_former, write_2025_package

    hostile = "<img src=x onerror=alert(1)>"
    root = write_2025_package(tmp_path / "pkg")
    set_former(root, "C3", former_district=hostile)
    monkeypatch.setenv("PHUSONG_DATA", str(root))
    at = AppTest.from_function(_overlay_app, default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    (component,) = at.get("component_instance")
    script = json.loads(component.proto.json_args)["script"]
    assert hostile not in script and "\\u003cimg" not in script  # never markup, in no encoding
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in script  # the choropleth tooltip
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt; (c\\u0169)" in script  # the overlay: "(cũ)"
    at.text_input(key="planners_search").set_value("img src").run()
    assert not at.exception
    # select boxes render no HTML: the reason is shown as the text it is
    assert at.selectbox(key="planners_commune").options[1] == (
        "Xã Trà Cú — trước 1/7/2025 thuộc <img src=x onerror=alert(1)>"
    )


# --------------------------------------------------------------------------- the bundled province


@pytest.fixture
def bundled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHUSONG_DATA", raising=False)  # the default: data/, the new Vĩnh Long


def test_bundled_app_starts_on_the_new_province(bundled: None) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT_S).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Bản đồ quy hoạch"
    text = " ".join(str(c.value) for c in at.caption) + " ".join(str(m.value) for m in at.markdown)
    assert "Vĩnh Long" in text


@pytest.mark.parametrize("name", ["planners", "snapshot", "downloads", "settings", "upload"])
def test_bundled_pages_run(bundled: None, name: str) -> None:
    at = _run(name)
    if name == "planners":
        with pytest.raises(KeyError):  # no districts since 1 July 2025: province -> commune
            at.selectbox(key="planners_district")
        options = at.selectbox(key="planners_commune").options
        assert len(options) == 124 + 1  # "" + every commune


def test_the_package_name_is_shown_as_text_never_markup(tmp_path: Path, monkeypatch) -> None:
    """The dataset caption escapes markdown, HTML and Streamlit directives coming from dataset.toml."""
    import re
    import shutil

    from views.common import plain_text

    hostile = "Tỉnh <img src=x onerror=alert(1)> [link](http://x) ![i](http://x/i.png) :red[đỏ] $x$"
    escaped = plain_text(hostile)
    assert re.search(r"(?<!\\)[<>\[\]()!:$]", escaped) is None  # every special character escaped
    assert escaped.replace("\\", "") == hostile  # and nothing else changed
    root = tmp_path / "pkg"
    shutil.copytree(TRA_VINH, root)
    toml = root / "dataset.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            'name = "Trà Vinh (2009 commune layout)"', f"name = '{hostile}'"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("PHUSONG_DATA", str(root))
    at = _run("planners")
    assert any(c.value.startswith(f"Bộ dữ liệu: {escaped} · phiên bản ") for c in at.caption)
