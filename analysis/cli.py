"""Headless command line: ``python -m analysis COMMAND ...``.

The CLI only parses arguments, builds parameter objects and calls the same
library functions the app calls. Each sub-command lives in
``analysis/commands/<name>.py`` and exposes::

    NAME: str                      # sub-command name
    HELP: str                      # one-line help
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

User errors (:class:`geo.errors.PhuSongError`) become a message on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from geo.errors import PhuSongError, ValidationError

EXIT_OK = 0
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that exits 2 with a short message (argparse default), never a traceback."""


def _command_modules() -> list[ModuleType]:
    import analysis.commands as pkg

    mods = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"analysis.commands.{info.name}")
        if hasattr(mod, "NAME") and hasattr(mod, "run"):
            mods.append(mod)
    return mods


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every registered sub-command."""
    parser = _Parser(prog="python -m analysis", description="PhuSong headless tools.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=getattr(mod, "HELP", ""), description=getattr(mod, "HELP", ""))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
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
