"""End-to-end: sign-in and roles in headless Chromium with the network cut (issue 13).

The app is started the way ``make run`` starts it, through the launcher (``python -m cli.serve``),
on a copy of the tiny package, with ``PHUSONG_USERS`` / ``PHUSONG_AUDIT`` / ``PHUSONG_AUTH_CONFIG``
pointing at temporary files that hold one account per role. Each test is a fresh browser (a new
Streamlit session) and uses its own account, so its audit lines can be counted exactly whatever
ran before. Every request that is not local fails the test; without Chromium the tests skip with
a visible reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auth.audit import AuditLog
from auth.users import UserStore
from layers.i18n import t
from tests.conftest import write_tiny_package
from tests.streamlit_server import (
    REPO_ROOT,
    free_port,
    offline_page,
    require_chromium,
    wait_healthy,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORDS = {
    "an": "admin-Browser-01",
    "lan": "partner-Browser-2",
    "lanh": "leader-Browser-03",
    "khoa": "planner-Browser-4",
}
ROLES = {"an": "admin", "lan": "partner", "lanh": "leadership", "khoa": "planner"}
SIGN_IN = t("page.signin", "vi")
NOT_PERMITTED = t("auth.not_permitted", "vi")
WRONG = t("auth.wrong", "vi")


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@contextlib.contextmanager
def launched(
    env: dict[str, str], log: Path, *args: str, timeout_s: float = 90.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m cli.serve`` on a free port (what ``make run`` runs); yield its URL; always stop it."""
    port = free_port()
    cmd = [sys.executable, "-m", "cli.serve", "--port", str(port), *args]
    cmd += ["--", "--server.fileWatcherType", "none"]
    full_env = {**os.environ, "PHUSONG_TILES": "none", **env}
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", timeout_s=timeout_s, proc=proc)
            yield f"http://127.0.0.1:{port}", proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path | str]]:
    """The app with accounts (sign-in required) on 127.0.0.1; its files."""
    from argon2 import PasswordHasher

    root = tmp_path_factory.mktemp("browser_access")
    files: dict[str, Path | str] = {
        "users": root / "conf" / "users.json",
        "audit": root / "conf" / "audit.jsonl",
        "config": root / "auth.toml",
        "log": root / "server.log",
    }
    Path(files["config"]).write_text(
        "max_failures = 5\nlock_minutes = 15\n[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n",
        encoding="utf-8",
    )
    store = UserStore(files["users"], hasher=PasswordHasher(time_cost=1, memory_cost=19456, parallelism=1))
    for name, password in PASSWORDS.items():
        store.add(name, ROLES[name], password, operator="Viettel" if ROLES[name] == "partner" else None)
    env = {
        "PHUSONG_DATA": str(write_tiny_package(root / "data")),
        "PHUSONG_USERS": str(files["users"]),
        "PHUSONG_AUDIT": str(files["audit"]),
        "PHUSONG_AUTH_CONFIG": str(files["config"]),
    }
    with launched(env, Path(files["log"]), "--address", "127.0.0.1") as (url, _):
        files["url"] = url
        yield files


@pytest.fixture
def page(chromium: str):
    with offline_page(chromium) as page:
        yield page


def _events(secure: dict[str, Path | str], user: str) -> list[str]:
    return [e.event for e in AuditLog(secure["audit"]).entries(user=user)]


def _wait_events(secure: dict[str, Path | str], user: str, count: int, timeout_s: float = 60.0) -> list[str]:
    """The user's audit events once there are ``count`` of them (the server writes them mid-run)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events = _events(secure, user)
        if len(events) >= count:
            return events
        time.sleep(0.2)
    raise TimeoutError(f"{user}: {count} audit entries expected, found {_events(secure, user)}")


def _sign_in_form(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=SIGN_IN).wait_for(timeout=60_000)


def _submit(page, name: str, password: str) -> None:
    page.get_by_label(t("auth.name", "vi")).fill(name)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name=t("auth.submit", "vi")).click()


def _nav_links(page) -> list[str]:
    """Titles of the sidebar's page links (the Material icon's name comes first in the text)."""
    return [
        a.inner_text().strip().splitlines()[-1] for a in page.locator('[data-testid="stSidebarNav"] a').all()
    ]


def _assert_no_secret(text: str) -> None:
    for password in PASSWORDS.values():
        assert password not in text
    assert "$argon2" not in text


def test_anonymous_visitor_sees_only_the_sign_in(page, secure) -> None:
    url = str(secure["url"])
    before = len(list(AuditLog(secure["audit"]).entries()))
    _sign_in_form(page, url)
    assert page.locator("input[type=password]").count() == 1
    assert _nav_links(page) == [], "no navigation before signing in"
    for path in ("upload", "map", "users", "audit"):
        _sign_in_form(page, f"{url}/{path}")
        page.wait_for_timeout(500)
        assert page.get_by_role("heading", name=t("page.upload", "vi")).count() == 0
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        assert page.locator('iframe[title="streamlit_folium.st_folium"]').count() == 0
        assert _nav_links(page) == []
    assert len(list(AuditLog(secure["audit"]).entries())) == before, "showing the sign-in is no event"
    _assert_no_secret(page.content())
    assert page.outside_requests == []


def test_partner_deep_link_to_upload_is_refused(page, secure) -> None:
    _sign_in_form(page, f"{secure['url']}/upload")
    _submit(page, "lan", PASSWORDS["lan"])
    page.locator('[data-testid="stAlert"]', has_text=NOT_PERMITTED).wait_for(timeout=60_000)
    page.get_by_text("Đăng nhập: lan (đối tác, Viettel)").wait_for(timeout=30_000)
    assert _nav_links(page) == [t("page.map", "vi"), t("page.scenarios", "vi"), t("page.downloads", "vi")]
    page.wait_for_timeout(1_000)
    assert page.get_by_role("heading", name=t("page.upload", "vi")).count() == 0
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert page.get_by_role("button", name=t("up.apply", "vi")).count() == 0
    assert _wait_events(secure, "lan", 2) == ["sign_in", "refused"]
    (refused,) = AuditLog(secure["audit"]).entries(event="refused", user="lan")
    assert refused.details["what"] == "page upload" and refused.role == "partner"
    _assert_no_secret(page.content())
    assert page.outside_requests == []


def test_leadership_sees_only_the_snapshot(page, secure) -> None:
    _sign_in_form(page, str(secure["url"]))
    _submit(page, "lanh", PASSWORDS["lanh"])
    page.get_by_role("heading", name=t("page.snapshot", "vi")).wait_for(timeout=120_000)
    links = _nav_links(page)
    assert links in ([], [t("page.snapshot", "vi")]), links  # one page: Streamlit may hide the menu
    page.get_by_role("button", name=t("snap.pdf", "vi")).wait_for(timeout=120_000)
    page.goto(f"{secure['url']}/map")  # a new session: sign in again at the deep link
    page.get_by_role("heading", name=SIGN_IN).wait_for(timeout=60_000)
    _submit(page, "lanh", PASSWORDS["lanh"])
    page.locator('[data-testid="stAlert"]', has_text=NOT_PERMITTED).wait_for(timeout=60_000)
    assert page.locator('iframe[title="streamlit_folium.st_folium"]').count() == 0
    assert _wait_events(secure, "lanh", 3) == ["sign_in", "sign_in", "refused"]
    _assert_no_secret(page.content())
    assert page.outside_requests == []


def test_a_locked_account_stays_locked(page, secure) -> None:
    _sign_in_form(page, str(secure["url"]))
    for attempt in range(4):
        _submit(page, "khoa", f"wrong-password-{attempt}")
        _wait_events(secure, "khoa", attempt + 1)
        page.locator('[data-testid="stAlert"]', has_text=WRONG).wait_for(timeout=30_000)
    _submit(page, "khoa", "wrong-password-4")
    page.locator('[data-testid="stAlert"]', has_text="bị khóa đến").wait_for(timeout=30_000)
    assert _wait_events(secure, "khoa", 6)[-2:] == ["sign_in_failed", "account_locked"]
    _submit(page, "khoa", PASSWORDS["khoa"])  # the right password
    _wait_events(secure, "khoa", 7)
    page.locator('[data-testid="stAlert"]', has_text="bị khóa đến").wait_for(timeout=30_000)
    page.goto(str(secure["url"]))  # another session: still locked
    page.get_by_role("heading", name=SIGN_IN).wait_for(timeout=60_000)
    _submit(page, "khoa", PASSWORDS["khoa"])
    _wait_events(secure, "khoa", 8)
    page.locator('[data-testid="stAlert"]', has_text="bị khóa đến").wait_for(timeout=30_000)
    assert _nav_links(page) == [] and page.get_by_role("heading", name=SIGN_IN).count() == 1
    assert _events(secure, "khoa") == ["sign_in_failed"] * 5 + ["account_locked"] + ["sign_in_failed"] * 2
    reasons = [
        e.details["reason"] for e in AuditLog(secure["audit"]).entries(user="khoa", event="sign_in_failed")
    ]
    assert reasons == ["wrong password"] * 5 + ["account locked"] * 2
    _assert_no_secret(page.content())
    assert page.outside_requests == []


def test_admin_signs_in_sees_every_page_and_signs_out(page, secure) -> None:
    _sign_in_form(page, str(secure["url"]))
    _submit(page, "an", PASSWORDS["an"])
    page.get_by_role("heading", name=t("page.map", "vi")).wait_for(timeout=120_000)
    assert len(_nav_links(page)) == 8
    page.locator('[data-testid="stSidebarNav"] a', has_text=t("page.audit", "vi")).click()
    page.get_by_role("heading", name=t("page.audit", "vi")).wait_for(timeout=60_000)
    _assert_no_secret(page.content())
    page.get_by_role("button", name=t("auth.sign_out", "vi")).click()
    page.locator('[data-testid="stAlert"]', has_text=t("auth.signed_out", "vi")).wait_for(timeout=60_000)
    assert _nav_links(page) == []
    assert _wait_events(secure, "an", 2) == ["sign_in", "sign_out"]
    assert page.outside_requests == []


def test_no_password_or_hash_in_any_log_line(secure) -> None:
    """Runs after the tests above (file order): nothing they typed reached a log."""
    audit = Path(secure["audit"]).read_text(encoding="utf-8")
    assert len(audit.splitlines()) >= 10
    _assert_no_secret(audit)
    _assert_no_secret(Path(secure["log"]).read_text(encoding="utf-8", errors="replace"))


# --------------------------------------------------------------------------- the launcher (make run)


def test_launcher_refuses_a_network_address_without_users(tmp_path: Path) -> None:
    users = tmp_path / "conf" / "users.json"
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "cli.serve", "--port", str(port), "--address", "0.0.0.0"],
        cwd=REPO_ROOT,
        env={**os.environ, "PHUSONG_USERS": str(users), "PHUSONG_AUDIT": str(tmp_path / "audit.jsonl")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "users add NAME --role admin" in done.stderr and str(users) in done.stderr
    assert not users.exists()


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


def test_launcher_demo_mode_listens_on_localhost_only_with_a_banner(page, tmp_path: Path) -> None:
    """``make run`` on a fresh clone: no users file, no address -> demo mode bound to 127.0.0.1."""
    env = {
        "PHUSONG_DATA": str(write_tiny_package(tmp_path / "data")),
        "PHUSONG_USERS": str(tmp_path / "conf" / "users.json"),
        "PHUSONG_AUDIT": str(tmp_path / "conf" / "audit.jsonl"),
    }
    with launched(env, tmp_path / "server.log") as (url, _):
        port = int(url.rsplit(":", 1)[1])
        if Path("/proc/net/tcp").exists():
            assert _listening(port) == {"0100007F"}, "127.0.0.1 only"
        page.goto(url)
        page.locator('[data-testid="stAlert"]', has_text="CHẾ ĐỘ DÙNG THỬ").wait_for(timeout=60_000)
        page.get_by_role("heading", name=t("page.map", "vi")).wait_for(timeout=60_000)
        assert len(_nav_links(page)) == 8, "every page open"
        assert page.get_by_role("heading", name=SIGN_IN).count() == 0
    assert "demo mode" in (tmp_path / "server.log").read_text(encoding="utf-8")
    assert page.outside_requests == []
