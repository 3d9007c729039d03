"""End-to-end: the scenario page in headless Chromium with the network cut (acceptance scene A).

A planner clicks a flagged hamlet on the map, adds a site there, evaluates and sees the flag clear;
a saved scenario survives a server restart; the package's data files stay byte-identical; a hamlet
named in markup shows as text on the page's map and table, and no script runs. Same set-up as
``tests/test_browser.py``: every request that is not local fails the test; without Chromium the
tests skip with a visible reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.acceptance.scenes import lonlat, radio_scene, write_package
from tests.streamlit_server import offline_page, require_chromium, streamlit_app
from tests.test_scenario_page import data_hashes, rename_hamlet

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
HOSTILE = '<img src=x onerror="window.__xss=1">'
#: A-NONE (Ấp Xa Xôi, 150 households, 20 km from any 4G site): a site there clears its signal flag.
A_NONE = lonlat(24.5, 6.0)


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture
def page(chromium: str):
    with offline_page(chromium, height=1400) as page:
        yield page


def _package(root: Path) -> tuple[Path, dict[str, str]]:
    write_package(radio_scene(), root, "2025-07")
    return root, data_hashes(root)


@pytest.fixture(scope="module")
def scene_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    root, hashes = _package(tmp_path_factory.mktemp("browser_scenario") / "data")
    with streamlit_app(env={"PHUSONG_DATA": str(root)}) as url:
        yield url, root, hashes


def _open(page, url: str, title: str = "Kịch bản") -> None:
    """Open the scenario page from the sidebar (as a user does) and wait for its map."""
    page.goto(url)
    link = page.locator('[data-testid="stSidebarNav"] a', has_text=title)
    link.wait_for(timeout=60_000)
    link.click()
    page.get_by_role("heading", name=title).wait_for(timeout=60_000)
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel)].some(f => f.clientWidth > 0 && f.contentDocument &&
            f.contentDocument.querySelectorAll('path.leaflet-interactive').length >= 10)""",
        arg=MAP_FRAME,
        timeout=120_000,
    )


_POINT_JS = """([lat, lng]) => {
    window.map.setView([lat, lng], 14, {animate: false});
    const p = window.map.latLngToContainerPoint([lat, lng]);
    const box = window.map.getContainer().getBoundingClientRect();
    return [box.left + p.x, box.top + p.y, window.map.getZoom()];
}"""


_MAP_WITH_JS = """([sel, text]) => {
    const frames = [...document.querySelectorAll(sel)];
    return frames.length === 1 && frames[0].clientWidth > 0 && frames[0].contentDocument &&
        frames[0].contentDocument.querySelectorAll('path.leaflet-interactive').length >= 10 &&
        frames[0].contentDocument.body.textContent.includes(text);
}"""


def _frame(page, text: str = ""):
    """The one drawn map (with ``text`` in it: a layer or legend of the expected map)."""
    page.wait_for_function(_MAP_WITH_JS, arg=[MAP_FRAME, text], timeout=120_000)
    return page.locator(MAP_FRAME).element_handle().content_frame()


def _map_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Zoom the map on (lon, lat); that point's position in the viewport (the map scrolled into view)."""
    frame = _frame(page)
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    # a map drawn while scrolled out of view finishes its fit-to-bounds zoom once in view
    frame.wait_for_function("() => window.map && !window.map._animatingZoom", timeout=30_000)
    x, y, zoom = frame.evaluate(_POINT_JS, [lat, lon])
    assert zoom == 14, zoom
    box = page.locator(MAP_FRAME).bounding_box()
    assert box is not None
    return box["x"] + x, box["y"] + y


def _click_map_at(page, lon: float, lat: float) -> None:
    """Click the map at (lon, lat) until the site form shows the clicked point."""
    latitude = page.get_by_role("spinbutton", name="Vĩ độ")
    longitude = page.get_by_role("spinbutton", name="Kinh độ")

    def taken() -> bool:
        try:
            return (
                abs(float(latitude.input_value()) - lat) < 2e-4
                and abs(float(longitude.input_value()) - lon) < 2e-4
            )
        except ValueError:  # still empty
            return False

    for _ in range(5):
        page.mouse.click(*_map_point(page, lon, lat))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not taken():
            page.wait_for_timeout(200)
        if taken():
            return
    raise AssertionError(
        f"the map click did not reach the form: {latitude.input_value()}, {longitude.input_value()}"
    )


def _type_point(page, lon: float, lat: float) -> None:
    for name, value in (("Vĩ độ", lat), ("Kinh độ", lon)):
        box = page.get_by_role("spinbutton", name=name)
        box.fill(f"{value:.6f}")
        box.press("Enter")
        page.wait_for_timeout(500)


def _add_site(page) -> None:
    page.get_by_role("button", name="Thêm trạm", exact=True).click()
    page.get_by_text("Trạm mới NEW-1").wait_for(timeout=60_000)
    _frame(page, "Trạm mới (kịch bản)")  # the map redrawn with the new site


def _evaluate(page) -> float:
    """Press Evaluate; seconds until the headline numbers are shown."""
    start = time.perf_counter()
    page.get_by_role("button", name="Đánh giá", exact=True).click()
    page.locator('[data-testid="stMetric"]', has_text="Hộ có thêm sóng 4G tốt").wait_for(timeout=180_000)
    seconds = time.perf_counter() - start
    _frame(page, "Thay đổi vùng phủ 4G tốt")  # the map redrawn with the difference overlay
    return seconds


def _cell(page, column: int, row: int) -> str:
    """Text of a cell of the hamlet table (the grid's accessible table: rows in view only)."""
    cell = page.locator('[data-testid="stDataFrame"]').first.locator(
        f'[data-testid="glide-cell-{column}-{row}"]'
    )
    cell.wait_for(state="attached", timeout=60_000)
    return cell.text_content() or ""


def _gained(page) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text="Hộ có thêm sóng 4G tốt")
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_click_a_flagged_hamlet_add_a_site_and_its_flag_clears(page, scene_app) -> None:
    url, root, hashes = scene_app
    _open(page, url)
    _click_map_at(page, *A_NONE)  # on the hamlet's dot: its popup opens, the point is taken
    _add_site(page)
    seconds = _evaluate(page)
    print(f"scene A: Evaluate -> results in {seconds:.2f} s")
    assert seconds < 60
    assert _gained(page) == "150"
    # the hamlet table, changed rows first: Ấp Xa Xôi, 150 households gained, NO_MOBILE cleared
    assert _cell(page, 0, 0) == "Ấp Xa Xôi"
    assert _cell(page, 5, 0) == "150,0"
    assert "Không có sóng 4G" in _cell(page, 6, 0)  # flags before
    assert "Không có sóng 4G" not in _cell(page, 7, 0)  # flags after
    frame = _frame(page, "Ấp thay đổi cờ")
    assert frame.locator("img.leaflet-image-layer").count() == 1, "the good-4G difference overlay"
    page.wait_for_load_state("networkidle")
    assert page.outside_requests == []
    assert data_hashes(root) == hashes, "the package's data files changed"


def test_a_saved_scenario_survives_a_server_restart(page, tmp_path: Path) -> None:
    root, hashes = _package(tmp_path / "data")
    env = {"PHUSONG_DATA": str(root)}
    with streamlit_app(env=env) as url:
        _open(page, url)
        _type_point(page, *A_NONE)
        _add_site(page)
        name = page.get_by_role("textbox", name="Tên kịch bản")
        name.fill("Trạm mới Ấp Xa Xôi")
        name.press("Enter")
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Lưu kịch bản", exact=True).click()
        page.locator('[data-testid="stAlert"]', has_text="Đã lưu Trạm mới Ấp Xa Xôi").wait_for(timeout=60_000)
    assert (root / "scenarios" / "tram-moi-ap-xa-xoi" / "scenario.json").is_file()
    with streamlit_app(env=env) as url:  # a new server process on the same package
        _open(page, url)
        saved = page.get_by_role("combobox", name="Kịch bản", exact=True)
        saved.wait_for(timeout=60_000)
        assert saved.input_value() == "Trạm mới Ấp Xa Xôi (tram-moi-ap-xa-xoi)"
        page.get_by_role("button", name="Mở", exact=True).click()
        page.get_by_text("Trạm mới NEW-1").wait_for(timeout=60_000)
        assert page.get_by_role("textbox", name="Tên kịch bản").input_value() == "Trạm mới Ấp Xa Xôi"
        _evaluate(page)
        assert _gained(page) == "150"
    assert page.outside_requests == []
    assert data_hashes(root) == hashes, "saving a scenario changed the package's data files"


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser_scenario_hostile") / "data"
    ids = write_package(radio_scene(), root, "2025-07")
    rename_hamlet(root, ids.hamlet_id["A-NONE"], HOSTILE)
    with streamlit_app(env={"PHUSONG_DATA": str(root)}) as url:
        yield url


def test_a_hamlet_named_in_markup_is_text_on_the_scenario_page(page, hostile_app: str) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    _open(page, hostile_app)
    lon, lat = lonlat(25.0, 6.0)  # 500 m east of the hamlet: its dot stays clear of the new site
    _type_point(page, lon, lat)
    _add_site(page)
    _evaluate(page)
    assert _cell(page, 0, 0) == HOSTILE  # the name as typed, in the table
    assert page.locator('[data-testid="stDataFrame"] img').count() == 0
    # the hamlet on the map: tooltip on hover, popup on click (real pointer events)
    x, y = _map_point(page, *A_NONE)
    map_frame = page.frame_locator(MAP_FRAME)
    page.mouse.move(x, y)
    tooltip = map_frame.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    assert HOSTILE in tooltip.inner_text() and tooltip.locator("img").count() == 0
    page.mouse.click(x, y)
    popup = map_frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    assert HOSTILE in popup.inner_text() and popup.locator("img").count() == 0
    page.wait_for_timeout(1_500)  # an injected image would have failed to load by now
    assert _frame(page).evaluate("() => typeof window.__xss") == "undefined"
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert not [u for u in requests if urlparse(u).path.rstrip("/").endswith("/x")], "no <img src=x> loaded"
    assert page.outside_requests == []
