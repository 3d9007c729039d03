"""``python -m geo.derive_communes --out DIR``: derive from the shipped inputs, write, print the report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from geo.admin_units import load_new_units, load_old_to_new
from geo.derive_communes.assemble import derive_communes
from geo.derive_communes.report import format_report, write_outputs
from geo.derive_communes.sources import load_communes_2009, load_manual_matches
from geo.errors import ParameterError, PhuSongError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo.derive_communes",
        description="Derive the 124 commune polygons of the new Vĩnh Long (86) from 2009 polygons.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    parser.add_argument(
        "--source-dir", type=Path, default=None, help="folder of the three 2009 GeoJSON files"
    )
    parser.add_argument("--manual", type=Path, default=None, help="manual matches CSV")
    return parser


def _check_out(out: Path) -> None:
    data_dir = (Path(__file__).resolve().parents[2] / "data").resolve()
    target = out.resolve()
    if target == data_dir or data_dir in target.parents:
        raise ParameterError(f"--out {str(out)!r} is inside the data package {data_dir}; write elsewhere")
    if target.exists() and not target.is_dir():
        raise ParameterError(f"--out {str(out)!r} exists and is not a folder")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the derivation; return 0, or 2 with a message on stderr for bad input."""
    args = _parser().parse_args(argv)
    try:
        _check_out(args.out)
        result = derive_communes(
            load_communes_2009(args.source_dir),
            load_manual_matches(args.manual),
            load_new_units(),
            load_old_to_new(),
        )
        geojson, csv_path = write_outputs(result, args.out)
    except PhuSongError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write to {str(args.out)!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(format_report(result.report))
    print(f"wrote {geojson} and {csv_path}")
    return 0
