"""End-to-end: the app in headless Chromium with the network cut.

Every request the page makes is recorded; anything that is not localhost (or an inline
``data:``/``blob:`` URI) fails the test. Browser tests skip with a visible reason when Chromium is
missing, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.streamlit_server import (
    REPO_ROOT,
    choose_radio,
    offline_page,
    require_chromium,
    streamlit_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


TRA_VINH = REPO_ROOT / "examples" / "tra-vinh-2009"
"""The Trà Vinh 2009 package: the detailed browser tests below were written for its 105 communes."""


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with streamlit_app(env={"PHUSONG_DATA": str(TRA_VINH)}) as url:
        yield url


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app serving a copy of the Trà Vinh package (the upload tests change it)."""
    data = tmp_path_factory.mktemp("upload") / "data"
    shutil.copytree(TRA_VINH, data)
    with streamlit_app(env={"PHUSONG_DATA": str(data)}) as url:
        yield url, data


@pytest.fixture
def page(chromium: str):
    with offline_page(chromium) as page:
        yield page


_FULL_MAP_JS = """([sel, text]) => {
    const ok = f => f.clientWidth > 0 && f.contentDocument && f.contentDocument.body &&
        f.contentDocument.querySelectorAll('.phusong-legend').length >= 1 &&
        f.contentDocument.querySelectorAll('path.leaflet-interactive').length >= 105 &&
        (!text || f.contentDocument.body.innerText.includes(text));
    return [...document.querySelectorAll(sel)].some(ok);
}"""
_PATHS_JS = """sel => Math.max(0, ...[...document.querySelectorAll(sel)]
    .filter(f => f.clientWidth > 0 && f.contentDocument)
    .map(f => f.contentDocument.querySelectorAll('path.leaflet-interactive').length))"""


_PATHS_AT_LEAST_JS = """([sel, n]) => [...document.querySelectorAll(sel)].some(f => f.clientWidth > 0 &&
    f.contentDocument && f.contentDocument.querySelectorAll('path.leaflet-interactive').length >= n)"""


def _wait_full_map(page, text: str = "") -> None:
    """Wait until the planners' map with its thematic layers (legend; ``text`` if given) is drawn."""
    page.wait_for_function(_FULL_MAP_JS, arg=[MAP_FRAME, text], timeout=180_000)


def _paths(page) -> int:
    return int(page.evaluate(_PATHS_JS, MAP_FRAME))


def _open_page(page, app_url: str, title: str) -> None:
    """Open the page titled ``title`` from the sidebar, as a user does.

    Not by its URL: on a fresh server a deep link such as ``/upload`` is resolved against the
    ``views/`` folder (Streamlit's old multipage convention) before ``app.py`` has declared its
    navigation, and shows an empty page.
    """
    page.goto(app_url)
    link = page.locator('[data-testid="stSidebarNav"] a', has_text=title)
    link.wait_for(timeout=60_000)
    link.click()
    page.get_by_role("heading", name=title).wait_for(timeout=60_000)


def _map_frame(page):
    page.wait_for_function(f"document.querySelectorAll('{MAP_FRAME}').length === 1", timeout=120_000)
    return page.frame_locator(MAP_FRAME)


def test_bundled_province_drawn_offline_by_default(page) -> None:
    """``make run`` serves data/, the new Vĩnh Long: 124 communes and its hamlets, no network."""
    from geo.package import load_package

    bundled = load_package(REPO_ROOT / "data")
    communes, hamlets = len(bundled.communes), len(bundled.hamlets)
    assert communes == 124 and bundled.meta.layout == "2025-07"
    with streamlit_app(env={"PHUSONG_DATA": ""}) as url:  # empty: the default, data/
        page.goto(url)
        page.wait_for_function(
            _PATHS_AT_LEAST_JS, arg=[MAP_FRAME, communes + int(0.85 * hamlets)], timeout=300_000
        )
        assert "Vĩnh Long" in page.locator("body").inner_text()
        page.wait_for_load_state("networkidle")
    assert page.outside_requests == []


def test_communes_drawn_offline(page, app_url: str) -> None:
    page.goto(app_url)
    _wait_full_map(page)
    assert _paths(page) >= 105 + 700  # communes + hamlets
    assert _map_frame(page).locator(".leaflet-control-layers").count() == 1
    page.wait_for_load_state("networkidle")
    assert page.outside_requests == []


def test_layer_toggle(page, app_url: str) -> None:
    page.goto(app_url)
    _wait_full_map(page)
    frame = _map_frame(page)
    before = _paths(page)
    frame.locator(".leaflet-control-layers").hover()
    hamlets = frame.locator(".leaflet-control-layers-overlays label", has_text="Ấp/khóm").locator("input")
    hamlets.uncheck()
    after = _paths(page)
    assert 105 <= after < before - 700
    hamlets.check()
    assert _paths(page) == before
    assert page.outside_requests == []


def test_language_switch_in_browser(page, app_url: str) -> None:
    page.goto(app_url)
    _wait_full_map(page)
    choose_radio(page, "English")
    page.get_by_role("heading", name="Planning map").wait_for(timeout=60_000)
    _wait_full_map(page, "Hamlets by gap flag (synthetic)")
    assert _paths(page) >= 105
    # The selected values of select boxes and multiselects are relabelled too, not only the
    # widgets' captions (Streamlit keeps a selected value's old label unless it is re-set).
    indicator = page.get_by_role("combobox", name="Commune indicator")
    indicator.wait_for(timeout=30_000)
    assert indicator.input_value() == "Households with good 4G"
    layers = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Map layers")
    assert "Communes (choropleth)" in layers.inner_text()
    assert page.outside_requests == []


def test_download_read_back_with_pyogrio(page, app_url: str, tmp_path) -> None:
    import pyogrio

    _open_page(page, app_url, "Tải dữ liệu")
    choose_radio(page, "GeoPackage")
    button = page.get_by_role("button", name=re.compile(r"Tải về tra-vinh_gaps_\d{4}-\d{2}-\d{2}\.gpkg"))
    button.wait_for(timeout=180_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    assert re.fullmatch(r"tra-vinh_gaps_\d{4}-\d{2}-\d{2}\.gpkg", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    frame = pyogrio.read_dataframe(path, layer="gaps")
    assert len(frame) > 0 and frame.crs.to_epsg() == 4326
    assert {"hamlet_name", "flags", "explanation_vi"} <= set(frame.columns)
    assert (frame["n_flags"] > 0).all()
    assert page.outside_requests == []


def test_snapshot_pdf_has_vietnamese_text(page, app_url: str, tmp_path) -> None:
    from pypdf import PdfReader

    _open_page(page, app_url, "Tổng quan lãnh đạo")
    button = page.get_by_role("button", name="Tải báo cáo PDF (A4)")
    button.wait_for(timeout=180_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".pdf"
    reader = PdfReader(path)
    text = "\n".join(p.extract_text() for p in reader.pages)
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4, mm
    assert "Trà Vinh" in text
    assert any(word in text for word in ("Mục tiêu", "Hộ", "huyện", "Huyện"))
    assert page.outside_requests == []


# --------------------------------------------------------------------------- click a commune


_COMMUNE_POINT_JS = """([lat, lng]) => {
    const p = window.map.latLngToContainerPoint([lat, lng]);
    const box = window.map.getContainer().getBoundingClientRect();
    return [box.left + p.x, box.top + p.y, window.map.getZoom()];
}"""


def _map_content_frame(page):
    """The (single, drawn) map iframe as a Playwright Frame."""
    _map_frame(page)
    return page.locator(MAP_FRAME).element_handle().content_frame()


def test_click_on_commune_selects_it(page, app_url: str) -> None:
    from geo.package import load_package

    pkg = load_package(TRA_VINH)
    metric = pkg.communes.to_crs(pkg.metric_crs)
    largest = int(metric.area.to_numpy().argmax())  # well inside it, visible at province zoom
    target = pkg.communes.iloc[largest]
    inside = metric.iloc[[largest]].representative_point().to_crs(4326).iloc[0]
    lng, lat = inside.x, inside.y
    page.set_viewport_size({"width": 1400, "height": 1400})  # the whole map in view
    page.goto(app_url)
    _wait_full_map(page)
    frame = _map_content_frame(page)
    control = frame.locator(".leaflet-control-layers")
    control.hover()  # hide the hamlet dots so the click lands on the commune polygon
    frame.locator(".leaflet-control-layers-overlays label", has_text="Ấp/khóm").locator("input").uncheck()
    page.mouse.move(5, 5)
    frame.wait_for_selector(".leaflet-control-layers-expanded", state="detached", timeout=10_000)
    x, y, zoom_before = frame.evaluate(_COMMUNE_POINT_JS, [lat, lng])
    frame_box = page.locator(MAP_FRAME).bounding_box()
    assert frame_box is not None
    page.mouse.click(frame_box["x"] + x, frame_box["y"] + y)
    name = str(target["commune_name"])
    page.get_by_role("heading", name=f"Các ấp/khóm của {name}").wait_for(timeout=120_000)
    table = page.locator('[data-testid="stDataFrame"]')
    table.wait_for(timeout=60_000)
    picker = page.get_by_role("combobox", name="Xã/phường", exact=True)
    assert picker.input_value().startswith(f"{name} — ")
    _wait_full_map(page)
    zoom_after = _map_content_frame(page).evaluate("() => window.map.getZoom()")
    assert zoom_after > zoom_before, "the map zooms to the clicked commune"
    assert page.outside_requests == []


_HAMLET_POINT_JS = """() => {
    const box = window.map.getContainer().getBoundingClientRect();
    for (const layer of Object.values(window.map._layers)) {
        const geom = layer.feature && layer.feature.geometry;
        if (!geom || geom.type !== 'Point' || !layer.getLatLng) continue;
        const p = window.map.latLngToContainerPoint(layer.getLatLng());
        if (p.x > 300 && p.y > 200 && p.x < box.width - 300 && p.y < box.height - 150)
            return [box.left + p.x, box.top + p.y];
    }
    return null;
}"""


def test_click_on_hamlet_opens_popup_and_selects_nothing(page, app_url: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(app_url)
    _wait_full_map(page)
    frame = _map_content_frame(page)
    point = frame.evaluate(_HAMLET_POINT_JS)
    assert point is not None, "a hamlet dot inside the map view"
    frame_box = page.locator(MAP_FRAME).bounding_box()
    assert frame_box is not None
    page.mouse.click(frame_box["x"] + point[0], frame_box["y"] + point[1])
    popup = frame.locator(".leaflet-popup")
    popup.wait_for(timeout=10_000)
    page.wait_for_timeout(2_000)  # the click reruns the page: the map must stay, popup open
    assert popup.count() == 1 and "Ấp/khóm" in popup.inner_text()
    assert page.get_by_role("combobox", name="Xã/phường", exact=True).input_value() == "Tất cả"
    assert page.get_by_role("heading", name="Các ấp/khóm của").count() == 0
    assert page.outside_requests == []


# --------------------------------------------------------------------------- upload page


def _package_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (saved versions included), by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _choose_option(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    from playwright.sync_api import expect

    combo = page.get_by_role("combobox", name=label, exact=True)
    combo.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(combo).to_have_value(option, timeout=10_000)


def _upload(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))


def test_upload_survey_preview_apply_new_version(page, upload_app, tmp_path: Path) -> None:
    from geo.importers import list_versions

    url, data = upload_app
    survey = (data / "survey/hamlet_survey.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    first_id = survey[1].split(",")[0]
    assert ",380,367," in survey[1]
    survey[1] = survey[1].replace(",380,367,", ",380,300,")  # one hamlet's FTTH households
    upload = tmp_path / "khao_sat.csv"
    upload.write_text("".join(survey), encoding="utf-8")
    before = {v.version_id for v in list_versions(data)}

    _open_page(page, url, "Nhập dữ liệu")
    _choose_option(page, "Lớp cần nhập", "Khảo sát")
    _upload(page, upload)
    preview = page.locator('[data-testid="stCode"]', has_text="Status: ready to apply")
    preview.wait_for(timeout=60_000)
    assert "~1 changed" in preview.inner_text()
    assert (data / "survey/hamlet_survey.csv").read_text(encoding="utf-8") != "".join(survey), "preview only"
    page.get_by_role("button", name="Áp dụng").click()
    success = page.locator('[data-testid="stAlert"]', has_text="Đã nhập; phiên bản cũ lưu tại")
    success.wait_for(timeout=60_000)
    found = re.search(r"lưu tại (\S+)", success.inner_text())
    assert found is not None
    version_id = found.group(1)
    new = {v.version_id for v in list_versions(data)} - before
    assert new == {version_id}
    versions = page.get_by_role("combobox", name="Phiên bản", exact=True)
    versions.wait_for(timeout=30_000)
    assert versions.input_value().startswith(version_id), "the new version is listed, newest first"
    lines = (data / "survey/hamlet_survey.csv").read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if line.startswith(first_id))
    assert ",380,300," in row
    assert page.outside_requests == []


@pytest.mark.parametrize(
    ("layer", "name", "message"),
    [
        ("Ranh giới xã", "zip_slip.zip", "escapes the extraction folder"),
        ("Trạm BTS", "gzip_bomb.csv.gz", "possible gzip bomb"),
    ],
)
def test_upload_hostile_file_refused_package_unchanged(
    page, upload_app, layer: str, name: str, message: str
) -> None:
    url, data = upload_app
    hostile = REPO_ROOT / "tests/hostile/files" / name
    before = _package_hashes(data)
    _open_page(page, url, "Nhập dữ liệu")
    _choose_option(page, "Lớp cần nhập", layer)
    _upload(page, hostile)
    error = page.locator('[data-testid="stAlert"]', has_text="Tệp bị từ chối; bộ dữ liệu không thay đổi")
    error.wait_for(timeout=60_000)
    assert message in error.inner_text() and name in error.inner_text()
    assert page.get_by_role("button", name="Áp dụng").count() == 0
    assert _package_hashes(data) == before
    assert page.outside_requests == []


def test_deep_link_on_a_fresh_server_shows_its_page(page) -> None:
    """A bookmark such as ``/upload`` works as the very first request a server gets.

    Regression: with the page modules in a folder named ``pages/``, Streamlit's old multipage
    convention ran ``pages/upload.py`` directly and showed an empty page.
    """
    from layers.i18n import t

    with streamlit_app() as url:
        page.goto(f"{url}/upload")
        page.get_by_role("heading", name=t("page.upload", "vi")).wait_for(timeout=60_000)
        page.goto(f"{url}/settings")
        page.get_by_role("heading", name=t("page.settings", "vi")).wait_for(timeout=60_000)


# --------------------------------------------------------------------------- data is text, never markup

HOSTILE_HAMLET = '<img src=x onerror="window.__xss=1">'
HOSTILE_SITE = '<img src=x onerror="window.__xss=2">S-1'
HOSTILE_NODE_ID = '<img src=x onerror="window.__xss=3">N-1'
HOSTILE_NODE_NAME = '<b onmouseover="window.__xss=4">Tủ</b> {{ 7*7 }}ssti'


def _hostile_package(root: Path) -> None:
    """Trà Vinh with one hamlet, one site and one fibre node named in markup (and Jinja syntax)."""
    import csv
    import io
    import json

    hamlets_path = root / "boundaries" / "hamlets.geojson"
    hamlets = json.loads(hamlets_path.read_text(encoding="utf-8"))
    props = hamlets["features"][0]["properties"]
    hamlet_id, old_name = props["hamlet_id"], props["hamlet_name"]
    props["hamlet_name"] = HOSTILE_HAMLET
    hamlets_path.write_text(json.dumps(hamlets, ensure_ascii=False), encoding="utf-8")

    survey_path = root / "survey" / "hamlet_survey.csv"
    rows = list(csv.DictReader(io.StringIO(survey_path.read_text(encoding="utf-8"))))
    for row in rows:
        if row["hamlet_id"] == hamlet_id and row.get("hamlet_name") == old_name:
            row["hamlet_name"] = HOSTILE_HAMLET
    _write_csv(survey_path, rows)

    sites_path = root / "towers" / "sites.csv"
    rows = list(csv.DictReader(io.StringIO(sites_path.read_text(encoding="utf-8"))))
    site = rows[0]["site_id"]
    for row in rows:
        if row["site_id"] == site:
            row["site_id"] = HOSTILE_SITE
    _write_csv(sites_path, rows)

    nodes_path = root / "fibre" / "nodes.geojson"
    nodes = json.loads(nodes_path.read_text(encoding="utf-8"))
    routes = (root / "fibre" / "routes.geojson").read_text(encoding="utf-8")
    node = next(
        f for f in nodes["features"] if f["properties"]["node_id"] not in routes
    )  # no route ends there
    node["properties"].update(node_id=HOSTILE_NODE_ID, name=HOSTILE_NODE_NAME)
    nodes_path.write_text(json.dumps(nodes, ensure_ascii=False), encoding="utf-8")


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(TRA_VINH, data)
    _hostile_package(data)
    with streamlit_app(env={"PHUSONG_DATA": str(data)}) as url:
        yield url


#: Centre the map, zoomed in (clustered sites shown one by one), on the one map object whose
#: decoded properties contain ``needle``; its position in the map's frame, or why not.
_LOCATE_JS = """async needle => {
    const seen = new Set(), found = [];
    const visit = layer => {
        if (seen.has(layer)) return;
        seen.add(layer);
        if (layer.getLayers) layer.getLayers().forEach(visit);
        const props = layer.feature && layer.feature.properties;
        if (props && layer.getLatLng &&
            Object.values(props).some(v => typeof v === 'string' && v.includes(needle))) found.push(layer);
    };
    Object.values(window.map._layers).forEach(visit);
    if (found.length !== 1) return 'found ' + found.length;
    const layer = found[0];
    window.map.closePopup();
    window.map.setView(layer.getLatLng(), 18, {animate: false});
    await new Promise(r => setTimeout(r, 500));
    if (!window.map.hasLayer(layer)) return 'not on the map';
    const p = window.map.latLngToContainerPoint(layer.getLatLng());
    const box = window.map.getContainer().getBoundingClientRect();
    return [box.left + p.x, box.top + p.y];
}"""


def _point_at(page, frame, needle: str) -> tuple[float, float]:
    """Page coordinates of the map object whose (escaped) properties contain ``needle``."""
    where = frame.evaluate(_LOCATE_JS, needle)
    assert isinstance(where, list), where
    box = page.locator(MAP_FRAME).bounding_box()
    assert box is not None
    return box["x"] + where[0], box["y"] + where[1]


def _choose_layers(page, *names: str) -> None:
    """Add ``names`` to the planners' layer multiselect, as a user does."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Lớp bản đồ")
    for name in names:
        box.locator("input").click()
        page.get_by_role("option", name=name, exact=True).click()
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
        assert name in box.inner_text()


def test_hostile_names_are_shown_as_text_in_tooltips_and_popups(page, hostile_app: str) -> None:
    """A hamlet, a site and a fibre node named in markup show it as text; no script runs, nothing loads."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(hostile_app)
    _wait_full_map(page)
    _choose_layers(page, "Trạm BTS", "Cáp quang và kế hoạch mở rộng")
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel)].some(f => f.clientWidth > 0 && f.contentDocument &&
            f.contentDocument.body.textContent.includes('Điểm truy nhập cáp quang'))""",
        arg=MAP_FRAME,
        timeout=180_000,
    )
    frame = _map_content_frame(page)
    control = frame.locator(".leaflet-control-layers")
    control.hover()  # the access nodes layer is off by default: tick it as a user does
    control.locator(".leaflet-control-layers-overlays label", has_text="Điểm truy nhập").locator(
        "input"
    ).check()
    page.mouse.move(5, 5)
    map_frame = page.frame_locator(MAP_FRAME)

    # the hamlet: hover for its tooltip, click for its popup (real pointer events)
    x, y = _point_at(page, frame, "onerror=&quot;window.__xss=1")
    page.mouse.move(x, y)
    tooltip = map_frame.locator(".leaflet-tooltip")
    assert HOSTILE_HAMLET in tooltip.inner_text()
    assert tooltip.locator("img").count() == 0
    page.mouse.click(x, y)
    popup = map_frame.locator(".leaflet-popup-content")
    popup_text = popup.inner_text()
    assert "Ấp/khóm" in popup_text and "Giải thích" in popup_text
    assert HOSTILE_HAMLET in popup_text  # as typed
    assert popup.locator("img").count() == 0
    page.wait_for_timeout(2_000)  # the click reruns the page; the map stays
    frame = _map_content_frame(page)

    # the site (clustered until zoomed in) and the access node: their tooltips
    page.mouse.move(*_point_at(page, frame, "onerror=&quot;window.__xss=2"))
    assert HOSTILE_SITE in map_frame.locator(".leaflet-tooltip").inner_text()
    page.mouse.move(5, 5)
    page.mouse.move(*_point_at(page, frame, "onerror=&quot;window.__xss=3"))
    node_tooltip = map_frame.locator(".leaflet-tooltip")
    text = node_tooltip.inner_text()
    assert HOSTILE_NODE_ID in text and HOSTILE_NODE_NAME in text  # braces untouched: no template ran
    assert node_tooltip.locator("img, b").count() == 0

    page.wait_for_timeout(1_000)  # an injected image would have failed to load by now
    assert frame.evaluate("() => typeof window.__xss") == "undefined"
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert not [u for u in requests if urlparse(u).path.rstrip("/").endswith("/x")], "no <img src=x> loaded"
    assert page.outside_requests == []
