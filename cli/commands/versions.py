"""``python -m analysis versions DATA_DIR [--restore ID]``: list or restore saved versions.

Each import or restore keeps the files it replaced under ``DATA_DIR/.versions/<ID>/``.
``--restore ID`` brings the package back to how it was just before change ``ID`` (that
change and every later one undone); the restore itself is saved as a new version.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.importers import list_versions, restore_version

NAME = "versions"
HELP = "list saved versions of a data package, or restore one (--restore ID)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``DATA_DIR`` and ``--restore``."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument(
        "--restore",
        metavar="ID",
        default=None,
        help="restore the package to how it was just before change ID",
    )


def run(args: argparse.Namespace) -> int:
    """List versions (newest first) or restore one."""
    if args.restore:
        info = restore_version(args.data_dir, args.restore)
        print(
            f"restored the state before {args.restore} ({', '.join(info.files)}); "
            f"the replaced state is saved as {info.version_id}"
        )
        return 0
    versions = list_versions(args.data_dir)
    if not versions:
        print(f"{args.data_dir}: no saved versions yet")
        return 0
    print(f"{'ID':<33} {'TIME (UTC)':<25} {'ACTION':<8} SUMMARY")
    for v in versions:
        print(f"{v.version_id:<33} {v.created:<25} {v.action:<8} {v.summary}  [{', '.join(v.files)}]")
    return 0
