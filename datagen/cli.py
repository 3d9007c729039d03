"""Command line of the generator: ``python -m datagen [--seed N] [--out DIR] [--communes-source FILE]``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from datagen.params import DEFAULT_SEED, GeneratorParams
from datagen.pipeline import generate_package, load_bundled_communes, rebuild_communes
from geo.errors import PhuSongError

log = logging.getLogger("datagen")

REPO_ROOT = Path(__file__).resolve().parent.parent


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m datagen``."""
    parser = argparse.ArgumentParser(
        prog="python -m datagen",
        description=(
            "Rewrite the bundled Trà Vinh data package: the real commune layer and the seeded "
            "synthetic layers (hamlets, sites, fibre, roads, survey). Same seed, same bytes."
        ),
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "data", help="data package folder (default data/)"
    )
    parser.add_argument(
        "--communes-source",
        type=Path,
        default=None,
        help=(
            "re-import communes from a censusVN2009 province GeoJSON "
            "(e.g. ../shared/data/admin_communes_2009/communes_2009_tra_vinh.geojson); "
            "default: reuse OUT/boundaries/communes.geojson"
        ),
    )
    parser.add_argument(
        "--code-mapping-2025",
        type=Path,
        default=None,
        help="with --communes-source: dvhcvn ward_mapping_old_to_new_2025-07-01.csv to add 2025 codes",
    )
    parser.add_argument(
        "--sites", type=int, default=None, help="number of active sites (default 1227, the published figure)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator; return 0 on success, 2 on a user error (message on stderr)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        params = GeneratorParams(seed=args.seed, **({} if args.sites is None else {"n_sites": args.sites}))
        if args.communes_source is not None:
            communes = rebuild_communes(
                args.communes_source, params=params, code_mapping_2025=args.code_mapping_2025
            )
        else:
            communes = load_bundled_communes(args.out)
        summary = generate_package(args.out, params=params, communes=communes)
    except PhuSongError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"error: cannot read or write {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr
        )
        return 2
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0
