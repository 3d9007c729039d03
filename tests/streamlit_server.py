"""Start the PhuSong Streamlit app on a free local port for browser tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    """The system Chromium (``$PHUSONG_CHROMIUM``, ``chromium`` or ``chromium-browser``), or None."""
    explicit = os.environ.get("PHUSONG_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


#: Hosts a browser test may reach: everything else is refused (the app must work with no network).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def require_chromium() -> str:
    """The system Chromium; without it the test is skipped, or fails under CI (browser tests run there)."""
    import pytest

    path = chromium_path()
    if path is None:
        message = "Chromium not found (install Debian's 'chromium' or set PHUSONG_CHROMIUM)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message}; browser tests must run in CI")
        pytest.skip(message)
    return path


@contextlib.contextmanager
def offline_page(chromium: str, *, height: int = 900) -> Iterator[Any]:
    """A Playwright page (1400 x ``height``) whose requests to any host but this computer are aborted
    and recorded in ``page.outside_requests``."""
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": height}, accept_downloads=True)
        outside: list[str] = []

        def guard(route: Any) -> None:
            if urlparse(route.request.url).hostname in LOCAL_HOSTS:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.outside_requests = outside
        try:
            yield page
        finally:
            context.close()
            browser.close()


def free_port() -> int:
    """An unused TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, *, timeout_s: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url``/_stcore/health until it answers ``ok``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        time.sleep(0.2)
    raise TimeoutError(f"streamlit at {url} not healthy after {timeout_s:.0f} s")


@contextlib.contextmanager
def streamlit_app(*, env: dict[str, str] | None = None, timeout_s: float = 60.0) -> Iterator[str]:
    """Run ``app.py`` headless on a free port; yield its base URL; always terminate it."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO_ROOT / "app.py"),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
    ]
    full_env = {**os.environ, "PHUSONG_TILES": "none", **(env or {})}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, timeout_s=timeout_s, proc=proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def choose_radio(page, label: str, *, timeout_ms: int = 10_000) -> None:
    """Select the Streamlit radio option ``label`` with a real mouse click on its label.

    Raises
    ------
    TimeoutError
        If the option is not selected within ``timeout_ms``.
    """
    option = page.locator('[data-testid="stRadioOption"]', has_text=label).first
    radio = option.locator("input[type=radio]")
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        box = option.bounding_box()
        if box is not None:
            page.mouse.click(box["x"] + 8, box["y"] + box["height"] / 2)
            page.wait_for_timeout(300)
            if radio.is_checked():
                return
        page.wait_for_timeout(300)
    raise TimeoutError(f"radio option {label!r} could not be selected")
