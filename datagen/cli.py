"""Command line of the generator: ``python -m datagen [--province P] [--seed N] [--out DIR] [...]``.

``--province vinh-long-2025`` (default) rewrites the bundled package ``data/``: the new Vĩnh Long in
the July-2025 layout; ``--province tra-vinh-2009`` rewrites the Trà Vinh 2009 example package
(``examples/tra-vinh-2009/``). ``--out DIR`` writes elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from datagen.params import DEFAULT_SEED, GeneratorParams
from datagen.pipeline import generate_package, load_bundled_communes, rebuild_communes
from datagen.vinh_long.package import generate_vinh_long_package
from geo.errors import ParameterError, PhuSongError

log = logging.getLogger("datagen")

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED = REPO_ROOT / "data"
TRA_VINH_EXAMPLE = REPO_ROOT / "examples" / "tra-vinh-2009"

TRA_VINH_2009 = "tra-vinh-2009"
VINH_LONG_2025 = "vinh-long-2025"
PROVINCES = (TRA_VINH_2009, VINH_LONG_2025)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m datagen``."""
    parser = argparse.ArgumentParser(
        prog="python -m datagen",
        description=(
            "Rewrite the bundled data package, the new Vĩnh Long in the July-2025 layout (default), or "
            "the Trà Vinh 2009 example package (--province tra-vinh-2009): the real commune layer and "
            "the seeded synthetic layers (hamlets, sites, fibre, roads, survey). Same seed, same bytes."
        ),
    )
    parser.add_argument(
        "--province",
        choices=PROVINCES,
        default=VINH_LONG_2025,
        help=(
            f"{VINH_LONG_2025}: Vĩnh Long (86) in the 1 July 2025 layout, 124 communes derived from 2009 "
            f"polygons, the bundled data/ (default); {TRA_VINH_2009}: Trà Vinh in the 2009 layout, "
            "examples/tra-vinh-2009/"
        ),
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=(
            f"data package folder (default data/ for {VINH_LONG_2025}, examples/tra-vinh-2009/ for "
            f"{TRA_VINH_2009})"
        ),
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


def _vinh_long_out(args: argparse.Namespace) -> Path:
    """Check the options of ``--province vinh-long-2025`` and return its output folder."""
    wrong = [
        flag
        for flag, value in (
            ("--communes-source", args.communes_source),
            ("--code-mapping-2025", args.code_mapping_2025),
            ("--sites", args.sites),
        )
        if value is not None
    ]
    if wrong:
        raise ParameterError(
            f"{', '.join(wrong)} only apply to --province {TRA_VINH_2009}: the Vĩnh Long communes are "
            "derived from the shipped 2009 polygons and its sites are calibrated per former province"
        )
    out = BUNDLED if args.out is None else Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {str(out)!r} exists and is not a folder")
    return out


def _run(args: argparse.Namespace) -> dict[str, object]:
    """Generate the package chosen by ``args``; return its summary."""
    if args.province == VINH_LONG_2025:
        out = _vinh_long_out(args)
        return generate_vinh_long_package(out, params=GeneratorParams(seed=args.seed))
    out = TRA_VINH_EXAMPLE if args.out is None else args.out
    params = GeneratorParams(seed=args.seed, **({} if args.sites is None else {"n_sites": args.sites}))
    if args.communes_source is not None:
        communes = rebuild_communes(
            args.communes_source, params=params, code_mapping_2025=args.code_mapping_2025
        )
    else:
        communes = load_bundled_communes(out)
    return generate_package(out, params=params, communes=communes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator; return 0 on success, 2 on a user error (message on stderr)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        summary = _run(args)
    except PhuSongError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"error: cannot read or write {exc.filename or args.out or BUNDLED}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0
