"""``python -m analysis import DATA_DIR --layer LAYER FILE [--dry-run]``: import a real-world file.

Prints a preview (rows added / removed / changed per file, the importer's report, problems)
before anything changes. With ``--dry-run`` it stops there. Otherwise the import is applied
atomically and the replaced files are kept as a version (``python -m analysis versions``).
Refused uploads and imports that would leave the package invalid exit with code 2 and change
no byte of the package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.importers import LAYERS, ImportLimits, ImportOptions, apply_import, plan_import
from geo.store import DEFAULT_KEEP

NAME = "import"
HELP = "import a file (OpenCelliD, operator sheet, OSM roads, survey, boundaries) into a data package"

EXIT_OK = 0
EXIT_REFUSED = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``DATA_DIR``, ``--layer``, ``FILE`` and options."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument("--layer", required=True, choices=LAYERS, help="layer the file replaces")
    parser.add_argument(
        "file", metavar="FILE", type=Path, help="CSV, XLSX, GeoJSON, GeoPackage or zipped Shapefile"
    )
    parser.add_argument("--dry-run", action="store_true", help="only show what would change")
    parser.add_argument(
        "--format",
        dest="importer",
        default="auto",
        choices=("auto", "opencellid", "operator"),
        help="towers: OpenCelliD export or operator site list (default: detect from the header)",
    )
    parser.add_argument(
        "--skip-unmatched",
        action="store_true",
        help="survey: import matched rows and list unmatched/ambiguous ones instead of refusing",
    )
    parser.add_argument(
        "--cluster-m",
        type=float,
        default=150.0,
        help="OpenCelliD: cells of one operator within this distance form a site (m, default 150)",
    )
    parser.add_argument(
        "--clip-km",
        type=float,
        default=5.0,
        help="towers/roads further outside the province are left out (km, default 5)",
    )
    parser.add_argument("--source", default="", help="source text recorded in dataset.toml")
    parser.add_argument("--licence", default="", help="licence recorded in dataset.toml")
    parser.add_argument(
        "--max-upload-mb", type=float, default=64.0, help="largest accepted file (MB, default 64)"
    )
    parser.add_argument(
        "--max-features", type=int, default=500_000, help="most rows/features (default 500000)"
    )
    parser.add_argument(
        "--keep", type=int, default=DEFAULT_KEEP, help=f"versions to keep (>=5, default {DEFAULT_KEEP})"
    )


def _options(args: argparse.Namespace) -> ImportOptions:
    from geo.errors import ParameterError

    if args.cluster_m <= 0 or args.clip_km < 0:
        raise ParameterError("--cluster-m must be > 0 and --clip-km >= 0")
    if args.max_upload_mb <= 0 or args.max_features < 1:
        raise ParameterError("--max-upload-mb must be > 0 and --max-features >= 1")
    limits = ImportLimits(
        max_upload_bytes=max(1, int(args.max_upload_mb * 1e6)), max_features=args.max_features
    )
    importer = {"operator": "operator_sheet"}.get(args.importer, args.importer)
    return ImportOptions(
        site_cluster_m=args.cluster_m,
        clip_buffer_km=args.clip_km,
        skip_unmatched=args.skip_unmatched,
        source=args.source,
        licence=args.licence,
        importer=importer,
        limits=limits,
    )


def run(args: argparse.Namespace) -> int:
    """Preview, then (unless ``--dry-run``) apply the import; exit 2 when refused."""
    plan = plan_import(args.data_dir, args.layer, args.file, options=_options(args))
    print(plan.preview())
    if not plan.ok:
        for problem in plan.errors:
            print(str(problem), file=sys.stderr)
        print(
            f"error: import of {plan.filename} refused ({len(plan.errors)} error(s)); the data package is "
            "unchanged",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    if args.dry_run or not plan.has_changes:
        print("nothing changed" + (" (dry run)" if args.dry_run else ""))
        return EXIT_OK
    info = apply_import(plan, keep=args.keep)
    print(
        f"applied. Previous version saved as {info.version_id}; undo with: "
        f"python -m analysis versions {args.data_dir} --restore {info.version_id}"
    )
    return EXIT_OK
