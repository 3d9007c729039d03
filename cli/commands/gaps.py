"""``python -m analysis gaps DATA_DIR --out FILE``: under-served hamlets with flags and reasons.

One row per hamlet with its indicators, flags (measured value and failed threshold), priority,
ranks, who can act and a one-line explanation in Vietnamese and English. The format follows the
extension of ``--out``: ``.gpkg``, ``.geojson``, ``.kml``, ``.shp.zip``, ``.csv`` or ``.xlsx``
(fields in docs/GAPS.md). Refuses to overwrite an existing file unless ``--force``. Exit 0 on
success, 2 on bad arguments or bad data (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from cli.commands._common import check_data_dir, check_out_file, gap_params_from_args
from geo.errors import ParameterError

NAME = "gaps"
HELP = "flag under-served hamlets (signal, fibre reach, FTTH take-up, smartphones) and export them"

EXIT_OK = 0

log = logging.getLogger(__name__)

_MULTI_LAYER = ("gpkg", "kml", "shp.zip", "xlsx")


def add_common_arguments(parser: argparse.ArgumentParser, *, out_help: str) -> None:
    """``DATA_DIR``, ``--out``, ``--force``, ``--config``, ``--operator`` (shared with ``fibre``)."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help=out_help)
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="GAPS.toml",
        help="parameters in the shape of analysis/config/gaps.toml (missing entries keep defaults)",
    )
    parser.add_argument(
        "--operator", metavar="NAME", help="count only this operator's fibre access nodes (e.g. Viettel)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``gaps``."""
    add_common_arguments(parser, out_help="output file: .gpkg, .geojson, .kml, .shp.zip, .csv or .xlsx")
    parser.add_argument(
        "--basis",
        choices=("national_target", "province_average", "lower_of_both"),
        help="FTTH/smartphone threshold basis (default from the config: national_target)",
    )
    parser.add_argument(
        "--signal",
        choices=("coverage", "standin"),
        default="coverage",
        help="4G signal per hamlet: the coverage engine (default, slower) or the "
        "documented Hata stand-in (fast, cruder)",
    )
    parser.add_argument(
        "--with-communes",
        action="store_true",
        help="add a commune roll-up layer (.gpkg, .kml, .shp.zip, .xlsx only)",
    )


def check_inputs(args: argparse.Namespace, *, formats: tuple[str, ...]) -> str:
    """Validate DATA_DIR and --out before any work; return the export format."""
    from layers.exports import format_from_path

    check_data_dir(args.data_dir)
    out: Path = args.out
    fmt = format_from_path(out)
    if fmt not in formats:
        raise ParameterError(f"--out {str(out)!r}: this command writes {', '.join('.' + f for f in formats)}")
    check_out_file(out, force=args.force)
    return fmt


def run(args: argparse.Namespace) -> int:
    """Compute the hamlet gaps of ``args.data_dir`` and write ``args.out``."""
    from analysis.gaps import FLAG_INFO, GapFlag, commune_indicators, compute_gaps
    from geo.package import load_package
    from layers.exports import write_export

    fmt = check_inputs(args, formats=("gpkg", "geojson", "kml", "shp.zip", "csv", "xlsx"))
    if args.with_communes and fmt not in _MULTI_LAYER:
        raise ParameterError(
            f"--with-communes needs a multi-layer format ({', '.join(_MULTI_LAYER)}), not .{fmt}"
        )
    params = gap_params_from_args(args)
    start = time.perf_counter()
    pkg = load_package(args.data_dir.resolve())
    gaps = compute_gaps(pkg, params, signal_model=args.signal)
    meta = gaps.attrs["phusong"]
    layers = {"gaps": gaps}
    if args.with_communes:
        layers["communes"] = commune_indicators(gaps, pkg.communes)
    try:
        write_export(layers, args.out, metadata=meta, overwrite=args.force)
    except OSError as exc:
        raise ParameterError(f"cannot write {str(args.out)!r}: {exc.strerror}") from None
    counts = ", ".join(f"{f.value} {int(gaps[FLAG_INFO[f].key + '_flag'].sum())}" for f in GapFlag)
    flagged = int((gaps["n_flags"] > 0).sum())
    print(
        f"wrote {args.out}: {len(gaps)} hamlets, {flagged} flagged ({counts}) "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return EXIT_OK
