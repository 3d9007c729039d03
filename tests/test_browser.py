"""End-to-end: the app in headless Chromium with the network cut.

Every request the page makes is recorded; anything that is not localhost (or an inline
``data:``/``blob:`` URI) fails the test. Browser tests skip with a visible reason when Chromium is
missing, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.streamlit_server import CHROMIUM_ARGS, choose_radio, chromium_path, streamlit_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "Chromium not found (install Debian's 'chromium' or set PHUSONG_CHROMIUM)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message}; browser tests must run in CI")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with streamlit_app() as url:
        yield url


@pytest.fixture
def page(chromium: str, app_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        outside: list[str] = []

        def guard(route) -> None:
            host = urlparse(route.request.url).hostname
            if host in LOCAL_HOSTS:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.outside_requests = outside  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()
            browser.close()


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


def _wait_full_map(page, text: str = "") -> None:
    """Wait until the planners' map with its thematic layers (legend; ``text`` if given) is drawn."""
    page.wait_for_function(_FULL_MAP_JS, arg=[MAP_FRAME, text], timeout=180_000)


def _paths(page) -> int:
    return int(page.evaluate(_PATHS_JS, MAP_FRAME))


def _map_frame(page):
    page.wait_for_function(f"document.querySelectorAll('{MAP_FRAME}').length === 1", timeout=120_000)
    return page.frame_locator(MAP_FRAME)


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
    assert page.outside_requests == []


def test_download_read_back_with_pyogrio(page, app_url: str, tmp_path) -> None:
    import pyogrio

    page.goto(f"{app_url}/downloads")
    page.get_by_role("heading", name="Tải dữ liệu").wait_for(timeout=60_000)
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

    page.goto(f"{app_url}/snapshot")
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
