"""Load bench (issue 13 §5): signed-in sessions of mixed roles using the app at once; prints figures.

A fresh server (``python -m cli.serve``, what ``make run`` starts) on a copy-free read of the data
package, with a temporary users file: by default 20 accounts (6 planners, 6 partners of three
operators, 4 leadership, 4 admins). One Chromium runs one browser context per account; each signs
in through the form, then for ``--minutes`` keeps opening the pages of its role with a few seconds
of think time between them. Printed: page visits, errors (a visit that times out, shows an
exception or a refusal, or a failed request to the server), sign-ins, audit lines, and the
server's peak memory (resident set of the server process and its children, sampled every second).
Asserts nothing; the target is 0 errors.

    .venv/bin/python bench/bench_sessions.py [--data DIR] [--sessions 20] [--minutes 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from auth.users import UserStore  # noqa: E402
from layers.i18n import t  # noqa: E402
from tests.streamlit_server import CHROMIUM_ARGS, chromium_path, free_port, wait_healthy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "planner": ("map", "downloads", "scenarios", "settings"),
    "partner": ("map", "downloads", "scenarios"),
    "leadership": ("snapshot",),
    "admin": ("map", "upload", "audit", "users", "snapshot"),
}
OPERATORS = ("Viettel", "VinaPhone", "MobiFone")
PASSWORD = "bench-password-1"


def _accounts(n: int) -> list[tuple[str, str, str | None]]:
    """(name, role, operator) for ``n`` sessions in the proportions of the default 20."""
    ten = [
        "planner",
        "partner",
        "leadership",
        "admin",
        "planner",
        "partner",
        "planner",
        "partner",
        "leadership",
        "admin",
    ]
    pattern = ten * ((n // 10) + 1)  # per ten: 3 planners, 3 partners, 2 leadership, 2 admins
    out = []
    for i, role in enumerate(sorted(pattern[:n], key=["planner", "partner", "leadership", "admin"].index)):
        op = OPERATORS[i % len(OPERATORS)] if role == "partner" else None
        out.append((f"{role}{i:02d}", role, op))
    return out


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (KiB), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
        todo += children.get(p, [])
    return total


class _Peak(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self.pid))


async def _session(
    browser, url: str, name: str, role: str, until: float, stats: dict, rng: random.Random
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    failed: list[str] = []

    def on_failed(request) -> None:  # noqa: ANN001 - playwright Request
        # a request the browser itself abandons by navigating on (ERR_ABORTED) is not a server error
        if request.url.startswith(url) and "ERR_ABORTED" not in str(request.failure or ""):
            failed.append(f"{request.url} {request.failure}")

    page.on("requestfailed", on_failed)
    try:
        await page.goto(url, timeout=120_000)
        await page.get_by_role("heading", name=t("page.signin", "vi")).wait_for(timeout=120_000)
        await page.get_by_label(t("auth.name", "vi")).fill(name)
        await page.locator("input[type=password]").fill(PASSWORD)
        await page.get_by_role("button", name=t("auth.submit", "vi")).click()
        # signed in: the sign-in heading gives way to the role's first page (leadership has one page,
        # so no navigation menu)
        await page.get_by_role("heading", name=t("page.signin", "vi")).wait_for(
            state="detached", timeout=120_000
        )
        await page.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for(timeout=120_000)
        stats["sign_ins"] += 1
        while time.monotonic() < until:
            path = rng.choice(PAGES[role])
            start = time.monotonic()
            try:
                await page.goto(f"{url}/{path}", timeout=120_000)
                await page.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for(timeout=120_000)
                await page.wait_for_timeout(1500)  # let the run finish its elements
                bad = await page.locator('[data-testid="stException"]').count()
                refused = await page.get_by_text(t("auth.not_permitted", "vi")).count()
                if bad or refused:
                    stats["errors"] += 1
                    stats["error_kinds"].append(f"{name} {path}: exception {bad}, refused {refused}")
                stats["visits"] += 1
                stats["visit_s"].append(time.monotonic() - start)
            except Exception as exc:  # noqa: BLE001 - a bench counts every failure
                stats["errors"] += 1
                stats["error_kinds"].append(f"{name} {path}: {type(exc).__name__}")
            await page.wait_for_timeout(rng.uniform(2000, 5000))
    except Exception as exc:  # noqa: BLE001
        stats["errors"] += 1
        stats["error_kinds"].append(f"{name} sign-in: {type(exc).__name__}: {str(exc)[:120]}")
    finally:
        stats["failed_requests"] += len(failed)
        stats["error_kinds"] += [f"{name} request failed: {f}" for f in failed[:3]]
        await context.close()


async def _run(url: str, accounts: list[tuple[str, str, str | None]], minutes: float, stats: dict) -> None:
    exe = chromium_path()
    if exe is None:
        raise SystemExit("bench_sessions: Chromium not found (apt install chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        until = time.monotonic() + minutes * 60.0
        rng = random.Random(20261206)
        tasks = []
        for i, (name, role, _) in enumerate(accounts):
            tasks.append(_session(browser, url, name, role, until, stats, random.Random(rng.random())))
            if i % 4 == 3:
                await asyncio.sleep(1.0)  # people do not all arrive in the same second
        await asyncio.gather(*tasks)
        await browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="data package (default data/)")
    parser.add_argument("--sessions", type=int, default=20, help="signed-in sessions (default 20)")
    parser.add_argument("--minutes", type=float, default=5.0, help="how long they use the app (default 5)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="phusong-bench-sessions-"))
    try:
        conf = tmp / "conf"
        store = UserStore(conf / "users.json", hasher=PasswordHasher())
        accounts = _accounts(args.sessions)
        for name, role, op in accounts:
            store.add(name, role, PASSWORD, operator=op)
        port = free_port()
        env = {
            **os.environ,
            "PHUSONG_DATA": str(args.data.resolve()),
            "PHUSONG_USERS": str(conf / "users.json"),
            "PHUSONG_AUDIT": str(conf / "audit.jsonl"),
            "PHUSONG_TILES": "none",
        }
        cmd = [sys.executable, "-m", "cli.serve", "--port", str(port), "--address", "127.0.0.1", "--",
               "--server.fileWatcherType", "none"]  # fmt: skip
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        stats: dict = {
            "visits": 0,
            "errors": 0,
            "sign_ins": 0,
            "failed_requests": 0,
            "visit_s": [],
            "error_kinds": [],
        }
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, timeout_s=120.0, proc=proc)
            peak = _Peak(proc.pid)
            peak.start()
            roles = {r: sum(1 for _, rr, _ in accounts if rr == r) for r in PAGES}
            print(f"bench_sessions: {len(accounts)} sessions {roles} for {args.minutes:g} min on {args.data}")
            start = time.monotonic()
            asyncio.run(_run(url, accounts, args.minutes, stats))
            wall = time.monotonic() - start
            peak.stop.set()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        visits = sorted(stats["visit_s"])
        median = visits[len(visits) // 2] if visits else float("nan")
        p95 = visits[int(len(visits) * 0.95)] if visits else float("nan")
        audit_lines = (
            sum(1 for _ in open(conf / "audit.jsonl", encoding="utf-8"))
            if (conf / "audit.jsonl").exists()
            else 0
        )
        errors = stats["errors"] + stats["failed_requests"]
        print(
            f"  sign-ins {stats['sign_ins']}/{len(accounts)}; page visits {stats['visits']} in {wall:.0f} s "
            f"(median {median:.1f} s, 95th percentile {p95:.1f} s to the page's heading)"
        )
        print(
            f"  errors {errors} (target 0): visits {stats['errors']}, "
            f"failed requests {stats['failed_requests']}"
        )
        for kind in stats["error_kinds"][:10]:
            print(f"    {kind}")
        print(
            f"  server peak memory (process tree RSS): {peak.peak_kib / 1024:.0f} MiB; "
            f"audit lines {audit_lines}"
        )
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
