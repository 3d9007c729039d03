"""Scripted browser run of the app on the bundled province; prints timings and payload sizes.

Targets (issue 6): cold start to map drawn ≤ 5 s; a layer or filter change ≤ 1 s; map payload
sent to the browser ≤ 3 MB. Run with ``make bench`` or ``.venv/bin/python bench/bench_app.py [--data DIR]``
(default: the bundled package, then ``examples/tra-vinh-2009`` when present).

Figures
-------
server_start_s        process start until ``/_stcore/health`` answers
first_map_s           page opened until every commune polygon is drawn (empty caches)
cold_start_s          the two above: a fresh server to a drawn map
full_layers_s         page opened until the thematic layers are drawn (coverage computed, cold)
change_s              indicator changed (FTTH) until the recoloured map is drawn (warm caches)
first_visit_mb        websocket bytes received on the first visit (quick map + full map)
change_payload_mb     websocket bytes received for that one change (the map sent to the browser)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.streamlit_server import CHROMIUM_ARGS, chromium_path, streamlit_app  # noqa: E402

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
TARGETS = {"cold_start_s": 5.0, "change_s": 1.0, "change_payload_mb": 3.0, "first_visit_mb": 3.0}
_MAP_JS = """([sel, minPaths, legend]) => [...document.querySelectorAll(sel)].some(f =>
    f.clientWidth > 0 && f.contentDocument && f.contentDocument.body &&
    f.contentDocument.querySelectorAll('path.leaflet-interactive').length >= minPaths &&
    (!legend || f.contentDocument.body.innerText.includes(legend)))"""


ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGES = (ROOT / "data", ROOT / "examples" / "tra-vinh-2009")


def _feature_count(path: Path) -> int:
    return len(json.loads(path.read_text(encoding="utf-8"))["features"])


def _wait_map(page: Page, *, min_paths: int, legend: str = "") -> None:
    page.wait_for_function(_MAP_JS, arg=[MAP_FRAME, min_paths, legend], timeout=300_000)


def _change_indicator(page: Page, frames: list[int], full_paths: int) -> tuple[float, float]:
    """Choose the FTTH indicator; seconds until the recoloured map is drawn, and MB received."""
    box = page.get_by_role("combobox", name="Chỉ tiêu tô màu xã")
    box.click()
    option = page.get_by_role("option", name="Hộ dùng cáp quang (FTTH)")
    option.wait_for(timeout=10_000)
    start_bytes = sum(frames)
    start = time.perf_counter()
    option.click()
    _wait_map(page, min_paths=full_paths, legend="Hộ dùng cáp quang (FTTH)")
    return time.perf_counter() - start, (sum(frames) - start_bytes) / 1e6


def bench_package(chromium: str, data: Path) -> dict[str, float]:
    """Figures of one scripted run on the package at ``data`` (a fresh server)."""
    communes = _feature_count(data / "boundaries" / "communes.geojson")
    hamlets = _feature_count(data / "boundaries" / "hamlets.geojson")
    full_paths = communes + int(0.85 * hamlets)  # commune polygons + most hamlet markers
    frames: list[int] = []
    t0 = time.perf_counter()
    with streamlit_app(env={"PHUSONG_DATA": str(data)}) as url, sync_playwright() as pw:
        server_s = time.perf_counter() - t0
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(len(data))))
        t1 = time.perf_counter()
        page.goto(url)
        _wait_map(page, min_paths=communes)
        first_s = time.perf_counter() - t1
        _wait_map(page, min_paths=full_paths, legend="Ấp/khóm theo cờ thiếu hụt")
        full_s = time.perf_counter() - t1
        page.wait_for_timeout(500)
        first_mb = sum(frames) / 1e6
        change_s, change_mb = _change_indicator(page, frames, full_paths)
        browser.close()
    return {
        "server_start_s": server_s,
        "first_map_s": first_s,
        "cold_start_s": server_s + first_s,
        "full_layers_s": full_s,
        "change_s": change_s,
        "first_visit_mb": first_mb,
        "change_payload_mb": change_mb,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="data package (repeatable)")
    args = parser.parse_args(argv)
    chromium = chromium_path()
    if chromium is None:
        print("bench_app: Chromium not found; install Debian's 'chromium'", file=sys.stderr)
        return 1
    packages = args.data or [p for p in DEFAULT_PACKAGES if (p / "dataset.toml").is_file()]
    for data in packages:
        print(f"bench_app: {data}")
        _print(bench_package(chromium, data.resolve()))
    return 0


def _print(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = (
            "" if target is None else (" ok" if value <= target else " OVER TARGET") + f" (target ≤ {target})"
        )
        print(f"{name:>18}: {value:8.3f}{verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
