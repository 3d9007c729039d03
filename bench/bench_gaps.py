"""Gap analysis benchmark: the whole ``gaps`` CLI run per package; prints figures, asserts nothing.

For each package (default: the bundled ``data/`` and, when present, ``examples/tra-vinh-2009``) the
whole command ``python -m analysis gaps DATA --out gaps.gpkg`` is timed in a subprocess (start-up,
loading, the coverage engine's hamlet statistics, fibre reach, flags and the GeoPackage written),
best of ``--runs`` (3) after one warm-up run (kernel and package caches warm, as on a working
server). Target (issue 11 §6): ≤ 6 s on the bundled province on the 2-core machine.

Usage::

    .venv/bin/python bench/bench_gaps.py [--data DIR ...] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 6.0
DEFAULT_PACKAGES = (ROOT / "data", ROOT / "examples" / "tra-vinh-2009")


def _run_gaps(data: Path, out: Path) -> float:
    """Seconds of one whole ``gaps`` CLI run (raises when the command fails)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "gaps", str(data), "--out", str(out), "--force"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"gaps on {data} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def bench_package(data: Path, runs: int) -> None:
    """Print the warm-up and best whole-CLI time of ``gaps`` on one package."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gaps.gpkg"
        warm = _run_gaps(data, out)
        times = [_run_gaps(data, out) for _ in range(runs)]
    best = min(times)
    verdict = "ok" if best <= TARGET_S else "OVER TARGET"
    print(
        f"{data.name:>14}: gaps whole CLI best of {runs} {best:6.2f} s ({verdict}, target ≤ {TARGET_S:g} s); "
        f"runs {', '.join(f'{t:.2f}' for t in times)}; first run {warm:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="data package (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args(argv)
    packages = args.data or [p for p in DEFAULT_PACKAGES if (p / "dataset.toml").is_file()]
    print(f"bench_gaps: load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    for data in packages:
        bench_package(data, max(args.runs, 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
