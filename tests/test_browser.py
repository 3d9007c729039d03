"""End-to-end: the app in headless Chromium with the network cut.

Every request the page makes is recorded; anything that is not localhost (or an inline
``data:``/``blob:`` URI) fails the test. Browser tests skip with a visible reason when Chromium is
missing, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
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


def test_communes_drawn_offline(page, app_url: str) -> None:
    page.goto(app_url)
    frame = page.frame_locator(MAP_FRAME)
    polygons = frame.locator("path.leaflet-interactive")
    polygons.first.wait_for(timeout=60_000)
    assert polygons.count() >= 105
    assert frame.locator(".leaflet-control-layers").count() == 1
    page.wait_for_load_state("networkidle")
    assert page.outside_requests == []


def test_language_switch_in_browser(page, app_url: str) -> None:
    page.goto(app_url)
    page.get_by_text("Bản đồ quy hoạch").first.wait_for(timeout=60_000)
    choose_radio(page, "English")
    page.get_by_role("heading", name="Planning map").wait_for(timeout=30_000)
    page.wait_for_function(f"document.querySelectorAll('{MAP_FRAME}').length === 1", timeout=30_000)
    frame = page.frame_locator(MAP_FRAME)
    frame.get_by_text("Commune boundaries").wait_for(timeout=30_000)
    assert frame.locator("path.leaflet-interactive").count() >= 105
    assert page.outside_requests == []
