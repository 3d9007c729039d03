"""``python -m analysis snapshot DATA_DIR --out report.pdf [--lang en]``: the leadership PDF.

The same report as the app's one-click download (:func:`layers.report.build_snapshot_pdf`).
Refuses to overwrite an existing file unless ``--force``. Exit 0 on success, 2 on bad arguments
or bad data (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import tempfile
import time
from pathlib import Path

from cli.commands._common import check_data_dir, check_out_file, gap_params_from_args
from geo.errors import ParameterError

NAME = "snapshot"
HELP = "write the leadership snapshot report (A4 PDF, Vietnamese or English)"

EXIT_OK = 0
EXIT_USER_ERROR = 2

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``DATA_DIR``, ``--out`` and options."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="PDF file to write")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="report language (default: vi)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE.pdf if it exists")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="GAPS.toml",
        help="gap thresholds/targets (same shape as analysis/config/gaps.toml)",
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="priority hamlets listed (default 10)"
    )
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="report date printed (default: today)")


def _check_out(out: Path, *, force: bool) -> None:
    if out.suffix.lower() != ".pdf":
        raise ParameterError(f"--out {str(out)!r} must end in .pdf")
    check_out_file(out, force=force)


def _report_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"--date {text!r} is not a date; write it as YYYY-MM-DD") from None


def _write_atomically(out: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``out``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    """Build the report for ``args.data_dir`` and write it to ``args.out``."""
    from geo.package import load_package
    from layers.report import build_snapshot_pdf

    root: Path = args.data_dir
    check_data_dir(root)
    _check_out(args.out, force=args.force)
    if args.top < 1:
        raise ParameterError(f"--top must be at least 1, got {args.top}")
    today = _report_date(args.date)
    params = gap_params_from_args(args)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its font-subsetting INFO lines are noise
    start = time.perf_counter()
    pkg = load_package(root.resolve())
    loaded = time.perf_counter()
    pdf = build_snapshot_pdf(pkg, lang=args.lang, params=params, top_n=args.top, today=today)
    built = time.perf_counter()
    try:
        _write_atomically(args.out, pdf)
    except OSError as exc:
        raise ParameterError(f"cannot write {str(args.out)!r}: {exc.strerror}") from None
    log.info("load %.2f s, report %.2f s", loaded - start, built - loaded)
    print(f"wrote {args.out} ({len(pdf) / 1024:.0f} KiB, {args.lang}) in {built - start:.1f} s")
    return EXIT_OK
