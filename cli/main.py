"""Headless command line: ``python -m analysis COMMAND ...``.

The CLI only parses arguments, builds parameter objects and calls the same
library functions the app calls. Each sub-command lives in
``cli/commands/<name>.py`` and exposes::

    NAME: str                      # sub-command name
    HELP: str                      # one-line help
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

User errors (:class:`geo.errors.PhuSongError`) become a message on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import ast
import gc
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from geo.errors import PhuSongError, ValidationError

EXIT_OK = 0
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that exits 2 with a short message (argparse default), never a traceback."""


def _declared(path: Path) -> tuple[str, str] | None:
    """``(NAME, HELP)`` of a command module read from its source (no import), or None if not literal."""
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("NAME", "HELP") and isinstance(node.value, ast.Constant):
                found[node.targets[0].id] = str(node.value.value)
    return (found["NAME"], found.get("HELP", "")) if "NAME" in found else None


def _registry() -> dict[str, tuple[str, str]]:
    """Command name -> (module name, help), read without importing the (heavy) command modules."""
    import cli.commands as pkg

    commands: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        declared = _declared(Path(pkg.__path__[0]) / f"{info.name}.py")
        if declared is None:  # NAME not a literal: import to find out
            mod = importlib.import_module(f"cli.commands.{info.name}")
            if hasattr(mod, "NAME") and hasattr(mod, "run"):
                commands[str(mod.NAME)] = (info.name, str(getattr(mod, "HELP", "")))
            continue
        commands[declared[0]] = (info.name, declared[1])
    return commands


def _command_modules() -> list[ModuleType]:
    """Every command module (imports them all)."""
    return [importlib.import_module(f"cli.commands.{m}") for m, _ in _registry().values()]


def _selected(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line (first non-option word), if any."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Return the top-level parser with every registered sub-command.

    Only the module of the command named in ``argv`` is imported (start-up time); the others are
    listed with their help. With ``argv`` None every command gets its full arguments.
    """
    parser = _Parser(prog="python -m analysis", description="PhuSong headless tools.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _selected(argv) if argv is not None else None
    for name, (module, help_text) in _registry().items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == chosen:
            mod = importlib.import_module(f"cli.commands.{module}")
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    # A command is one short batch run over millions of long-lived objects (numpy, pandas, GDAL,
    # numba): Python's full garbage collections, which walk all of them, cost a few tenths of a
    # second per run (measured on `coverage`). Young cycles are still collected, old ones rarely.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1_000)
    try:
        return int(args._run(args))
    except ValidationError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return EXIT_USER_ERROR
    except PhuSongError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        gc.set_threshold(*thresholds)  # in-process callers (tests, scripts) keep their settings
