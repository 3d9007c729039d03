"""Scripted browser run of the app on the bundled province; prints timings and payload size.

Targets (issue 6): cold start to map drawn ≤ 5 s; a layer or filter change ≤ 1 s; map payload
sent to the browser ≤ 3 MB. Run with ``make bench`` or ``.venv/bin/python bench/bench_app.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.streamlit_server import CHROMIUM_ARGS, choose_radio, chromium_path, streamlit_app  # noqa: E402

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
TARGETS = {"cold_start_s": 5.0, "change_s": 1.0, "payload_mb": 3.0}


def _wait_map(page: Page, *, min_paths: int = 105) -> None:
    page.wait_for_function(
        """([sel, n]) => { const f = document.querySelector(sel);
             return f && f.contentDocument &&
                    f.contentDocument.querySelectorAll('path.leaflet-interactive').length >= n; }""",
        arg=[MAP_FRAME, min_paths],
        timeout=120_000,
    )


def _change(page: Page) -> float:
    """Switch the language (a full re-render of the page and map) and time until the map is back."""
    start = time.perf_counter()
    choose_radio(page, "English")
    page.wait_for_function(
        """sel => { const fs = document.querySelectorAll(sel);
             return fs.length === 1 && fs[0].contentDocument &&
                    fs[0].contentDocument.body &&
                    fs[0].contentDocument.body.innerText.includes('Commune boundaries'); }""",
        arg=MAP_FRAME,
        timeout=60_000,
    )
    return time.perf_counter() - start


def main() -> int:
    chromium = chromium_path()
    if chromium is None:
        print("bench_app: Chromium not found; install Debian's 'chromium'", file=sys.stderr)
        return 1
    frames_bytes: list[int] = []
    t0 = time.perf_counter()
    with streamlit_app() as url, sync_playwright() as pw:
        t_server = time.perf_counter() - t0
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames_bytes.append(len(data))))
        t1 = time.perf_counter()
        page.goto(url)
        _wait_map(page)
        t_first = time.perf_counter() - t1
        payload_mb = sum(frames_bytes) / 1e6
        change_s = _change(page)
        browser.close()
    figures = {
        "server_start_s": t_server,
        "first_visit_to_map_s": t_first,
        "cold_start_s": t_server + t_first,
        "change_s": change_s,
        "payload_mb": payload_mb,
    }
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else (" ok" if value <= target else " OVER TARGET") + f" (target ≤ {target})"
        print(f"{name:>22}: {value:8.3f}{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
