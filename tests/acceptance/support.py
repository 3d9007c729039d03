"""Helpers: run the CLI as a user would, read its outputs, compare with a message naming everything."""

from __future__ import annotations

import csv
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cli.main import main


def run_cli(*args: object) -> int:
    """``python -m analysis ARGS`` in-process; returns the exit code."""
    return main([str(a) for a in args])


def run_ok(*args: object) -> None:
    """Run the CLI and fail with the command line unless it exits 0."""
    code = run_cli(*args)
    assert code == 0, f"`python -m analysis {' '.join(map(str, args))}` exited {code}"


def read_csv_rows(path: Path, key: str = "hamlet_id") -> dict[str, dict[str, str]]:
    """A CSV output (UTF-8 with or without BOM) as {row[key]: row}, every value a string."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {row[key]: row for row in csv.DictReader(fh)}


def read_csv_list(path: Path) -> list[dict[str, str]]:
    """A CSV output as a list of rows."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def read_gpkg_table(path: Path, table: str) -> list[dict[str, Any]]:
    """Attribute rows of one GeoPackage table, read with sqlite3 (geometry blobs dropped)."""
    con = sqlite3.connect(path)
    try:
        cur = con.execute(f'SELECT * FROM "{table}"')
        names = [d[0] for d in cur.description]
        return [{n: v for n, v in zip(names, row, strict=True) if not isinstance(v, bytes)} for row in cur]
    finally:
        con.close()


def num(value: object) -> float | None:
    """A numeric cell: None when empty / NaN."""
    if value is None or value == "":
        return None
    out = float(value)  # type: ignore[arg-type]
    return None if math.isnan(out) else out


def flag(value: object) -> bool:
    """A boolean cell (True/False, true/false, 1/0)."""
    return str(value).strip().lower() in ("true", "1", "yes")


def text(value: object) -> str:
    """A text cell: "" for empty / None / NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def items(value: object) -> set[str]:
    """A ``;``-joined list cell as a set."""
    return {part.strip() for part in text(value).split(";") if part.strip()}


class Checks:
    """Collects every mismatch of a test; each names the subject, the documented rule and both values."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, subject: str, rule: str, expected: object, got: object, tol: float = 0.0) -> bool:
        """Record a mismatch unless ``got`` equals ``expected`` (numbers: within ``tol``)."""
        if _same(expected, got, tol):
            return True
        within = f" (± {tol:g})" if tol and isinstance(expected, float | int) else ""
        self.failures.append(f"{subject}: {rule}: expected {expected!r}{within}, got {got!r}")
        return False

    def that(self, subject: str, rule: str, condition: bool, detail: str) -> None:
        """Record ``detail`` unless ``condition``."""
        if not condition:
            self.failures.append(f"{subject}: {rule}: {detail}")


def _same(expected: object, got: object, tol: float) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(float(expected) - float(got)) <= tol + 1e-9 * max(1.0, abs(float(expected)))
    return expected == got


@contextmanager
def checks() -> Iterator[Checks]:
    """``with checks() as check: check(hamlet, rule, expected, got)``; fails listing every mismatch."""
    c = Checks()
    yield c
    if c.failures:
        raise AssertionError(f"{len(c.failures)} mismatch(es):\n  " + "\n  ".join(c.failures))
