"""Argument checks shared by the sub-commands (data folder, output file, gap parameters)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import ParameterError

if TYPE_CHECKING:  # imported on use: the coverage command's start-up does not need the gap parameters
    from analysis.params import GapParams

__all__ = ["check_data_dir", "check_out_file", "gap_params_from_args"]


def check_data_dir(root: Path) -> None:
    """Raise :class:`ParameterError` unless ``root`` is an existing folder."""
    if not root.is_dir():
        raise ParameterError(
            f"data folder {str(root)!r} does not exist or is not a folder; "
            "give the folder that holds dataset.toml"
        )


def check_out_file(out: Path, *, force: bool) -> None:
    """Refuse a folder, an existing file (unless ``force``) or a missing parent folder."""
    if out.is_dir():
        raise ParameterError(f"--out {str(out)!r} is a folder; give a file name")
    if out.exists() and not force:
        raise ParameterError(f"{str(out)!r} already exists; use --force to overwrite it")
    if not out.parent.resolve().is_dir():
        raise ParameterError(f"folder {str(out.parent)!r} of --out does not exist; create it first")


def gap_params_from_args(args: argparse.Namespace) -> GapParams:
    """Defaults, then ``--config``, then ``--operator`` / ``--basis`` where the command has them."""
    from analysis.params import default_gap_params, gap_params_from_toml

    params = default_gap_params()
    if args.config is not None:
        try:
            text = args.config.read_text(encoding="utf-8")
        except OSError as exc:
            raise ParameterError(f"cannot read --config {str(args.config)!r}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ParameterError(f"--config {str(args.config)!r} is not UTF-8 text") from None
        params = gap_params_from_toml(text, base=params, source=str(args.config))
    if getattr(args, "operator", None):
        from geo.schema import Operator, parse_category

        op = parse_category(Operator, args.operator)
        if op is None:
            raise ParameterError(
                f"--operator {args.operator!r} is not a known operator; use one of "
                f"{', '.join(o.value for o in Operator)}"
            )
        params = params.with_overrides(reach=params.reach.with_overrides(operator=op.value))
    if getattr(args, "basis", None):
        params = params.with_overrides(thresholds=params.thresholds.with_overrides(basis=args.basis))
    return params
