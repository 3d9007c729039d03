"""``python -m analysis validate DATA_DIR``: report every problem of a data package.

Prints one line per problem, ``SEVERITY file [row/feature]: message -> hint`` (errors
first, then warnings), then a summary. Exit 0 when the package is usable (warnings
allowed), 2 when it has errors or the folder does not exist.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.errors import Problem
from geo.validate import check_package

NAME = "validate"
HELP = "check a data package folder and list every problem (exit 0 usable, 2 errors)"

EXIT_OK = 0
EXIT_ERRORS = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``DATA_DIR`` and options."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument("--errors-only", action="store_true", help="do not list warnings (still counted)")


def format_problem(problem: Problem) -> str:
    """Return ``SEVERITY file [where]: message -> hint`` for one problem."""
    where = f" [{problem.where}]" if problem.where else ""
    hint = f" -> {problem.hint}" if problem.hint else ""
    return f"{problem.severity.upper()} {problem.file}{where}: {problem.message}{hint}"


def run(args: argparse.Namespace) -> int:
    """Validate ``args.data_dir``; print problems and a summary to stdout."""
    root: Path = args.data_dir
    if not root.exists():
        print(
            f"error: data folder {str(root)!r} does not exist; give the folder that holds dataset.toml",
            file=sys.stderr,
        )
        return EXIT_ERRORS
    if not root.is_dir():
        print(f"error: {str(root)!r} is a file; give the folder that holds dataset.toml", file=sys.stderr)
        return EXIT_ERRORS
    check = check_package(root)
    for problem in (*check.errors, *check.warnings):
        if problem.severity == "error" or not args.errors_only:
            print(format_problem(problem))
    n_err, n_warn = len(check.errors), len(check.warnings)
    verdict = "usable" if check.usable else "NOT usable: fix the errors above"
    print(f"{root}: {n_err} error(s), {n_warn} warning(s) - {verdict}")
    return EXIT_OK if check.usable else EXIT_ERRORS
