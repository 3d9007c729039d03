"""``python -m analysis crosswalk DATA_DIR TABLE.csv --out OUT.csv``: carry a table to the new communes.

TABLE is keyed by old (2025-03) communes: a ``commune_code`` column of old GSO codes, or a
``commune_name`` column matched tolerant of case, diacritics and prefixes ("Xã Long Đức" =
"long duc"), plus any count columns. OUT has one row per new (2025-07) commune of the province of
DATA_DIR (``dataset.toml`` ``province_code``): counts summed, shares recomputed from the counts,
the old codes that fed it. Split old communes are divided by the households of their hamlets on
each side (hamlets with a ``former_commune_code``), else by the area of each part
(``boundaries/old_unit_parts.csv``), else equally; ``OUT_allocation.csv`` next to OUT shows where
every row went and by which weight. Rules and columns: docs/CROSSWALK.md.

Refuses to overwrite OUT (or its allocation file) unless ``--force``. Exit 0 on success, 2 on bad
arguments or bad rows (every unknown row listed, no traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cli.commands._common import check_data_dir, check_out_file
from geo.errors import ParameterError

if TYPE_CHECKING:
    from geo.crosswalk import CarryResult

NAME = "crosswalk"
HELP = "carry a table keyed by old (2025-03) communes to the new (2025-07) communes of the province"

EXIT_OK = 0

log = logging.getLogger(__name__)

HAMLETS_DEFAULT = "boundaries/hamlets.geojson"
COMMUNES_DEFAULT = "boundaries/communes.geojson"
PARTS_FILE = "boundaries/old_unit_parts.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``DATA_DIR``, ``TABLE``, ``--out`` and options."""
    from geo.crosswalk import NEW_LAYOUT, OLD_LAYOUT

    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package of the province in the new layout"
    )
    parser.add_argument(
        "table", metavar="TABLE.csv", type=Path, help="CSV keyed by old commune_code (or commune_name)"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="OUT.csv", help="output CSV")
    parser.add_argument("--force", action="store_true", help="overwrite OUT.csv and its allocation file")
    parser.add_argument(
        "--from",
        dest="from_layout",
        default=OLD_LAYOUT,
        metavar="LAYOUT",
        help=f"layout of TABLE ({OLD_LAYOUT})",
    )
    parser.add_argument(
        "--to", dest="to_layout", default=NEW_LAYOUT, metavar="LAYOUT", help=f"layout of OUT ({NEW_LAYOUT})"
    )
    parser.add_argument(
        "--share",
        action="append",
        default=[],
        metavar="SHARE=NUM/DEN",
        help="declare a share recomputed from two count columns (repeatable; the survey's "
        "ftth_share, smartphone_share and internet_share are known)",
    )
    parser.add_argument(
        "--drop", action="append", default=[], metavar="COLUMN", help="leave a column out (repeatable)"
    )
    parser.add_argument(
        "--count",
        action="append",
        default=[],
        metavar="COLUMN",
        help="carry a column as a count (summed) whatever its name suggests (repeatable)",
    )


def allocation_path(out: Path) -> Path:
    """``OUT_allocation.csv`` next to ``OUT.csv``."""
    return out.with_name(f"{out.stem}_allocation.csv")


def _check_arguments(args: argparse.Namespace) -> None:
    from geo.crosswalk import NEW_LAYOUT, OLD_LAYOUT

    if (args.from_layout, args.to_layout) != (OLD_LAYOUT, NEW_LAYOUT):
        raise ParameterError(
            f"--from {args.from_layout} --to {args.to_layout}: only --from {OLD_LAYOUT} --to {NEW_LAYOUT} "
            "is supported (old communes to new ones; the reverse would have to invent a split of "
            "merged counts)"
        )
    check_data_dir(args.data_dir)
    table: Path = args.table
    if not table.is_file():
        raise ParameterError(f"TABLE {str(table)!r} does not exist or is not a file")
    if table.suffix.lower() != ".csv":
        raise ParameterError(f"TABLE {str(table)!r}: this command reads CSV; save the sheet as CSV (UTF-8)")
    out: Path = args.out
    if out.suffix.lower() != ".csv":
        raise ParameterError(f"--out {str(out)!r}: this command writes .csv")
    if out.resolve() == table.resolve():
        raise ParameterError(f"--out {str(out)!r} is TABLE itself; give another file name")
    check_out_file(out, force=args.force)
    check_out_file(allocation_path(out), force=args.force)


def _province(root: Path) -> tuple[str, str]:
    """``(province_code, boundary_vintage)`` of dataset.toml."""
    from geo.errors import SchemaError
    from geo.io import read_toml

    doc, _ = read_toml(root / "dataset.toml", display="dataset.toml")
    code = str(doc.get("province_code", "")).strip()
    if not code:
        raise SchemaError("dataset.toml: province_code is missing -> write the GSO 2-digit province code")
    return code.zfill(2), str(doc.get("boundary_vintage", ""))


def _province_mapping(province: str, vintage: str) -> pd.DataFrame:
    """Old -> new pairs of the new communes of ``province`` (a post-July-2025 province code)."""
    from geo.admin_units import load_new_units, load_old_to_new

    new_units = load_new_units()
    codes = new_units["province_code"].astype(str).str.zfill(2)
    mapping = load_old_to_new()
    if province not in set(codes):
        became = sorted(
            set(
                mapping.loc[mapping["old_province_code"].astype(str) == province, "new_province_code"].astype(
                    str
                )
            )
        )
        hint = f"; old province {province} became {', '.join(became)}" if became else ""
        raise ParameterError(
            f"dataset.toml province_code {province} ({vintage or 'no boundary_vintage'}) is not one of "
            f"the 34 provinces of the 2025-07 layout{hint}; give a data package of the new layout"
        )
    new_codes = set(new_units.loc[codes == province, "commune_code"].astype(str))
    return mapping[mapping["new_commune_code"].astype(str).isin(new_codes)].reset_index(drop=True)


def _layer_path(root: Path, key: str, default: str) -> Path:
    from geo.io import read_toml

    doc, _ = read_toml(root / "dataset.toml", display="dataset.toml")
    layer = doc.get("layers", {}).get(key, {})
    return root / str(layer.get("file", default) if isinstance(layer, dict) else default)


def _hamlet_evidence(root: Path) -> tuple[pd.DataFrame | None, str]:
    """Hamlets with ``former_commune_code``, ``commune_code`` (new) and ``households``, and a note."""
    from geo.io import read_layer

    path = _layer_path(root, "hamlets", HAMLETS_DEFAULT)
    if not path.is_file():
        return None, "no hamlets layer"
    frame = pd.DataFrame(read_layer(path, display=str(path.relative_to(root))).frame)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "former_commune_code" not in frame.columns or "households" not in frame.columns:
        return None, "hamlets carry no former_commune_code"
    if "commune_code" not in frame.columns and "commune_id" in frame.columns:
        communes_path = _layer_path(root, "communes", COMMUNES_DEFAULT)
        if communes_path.is_file():
            communes = read_layer(communes_path, display=str(communes_path.relative_to(root))).frame
            communes.columns = [str(c).strip().lower() for c in communes.columns]
            if {"commune_id", "commune_code"} <= set(communes.columns):
                ids = dict(
                    zip(
                        communes["commune_id"].astype(str), communes["commune_code"].astype(str), strict=False
                    )
                )
                frame["commune_code"] = frame["commune_id"].astype(str).map(ids)
    if "commune_code" not in frame.columns:
        return None, "hamlets carry no commune_code"
    return frame[["former_commune_code", "commune_code", "households"]], "hamlet households"


def _parts_evidence(root: Path) -> pd.DataFrame | None:
    from geo.io import read_table

    path = root / PARTS_FILE
    if not path.is_file():
        return None
    read = read_table(path, display=PARTS_FILE)
    frame = read.frame
    if read.decimal_comma:
        for col in ("area_km2", "area_share"):
            if col in frame.columns:
                frame[col] = frame[col].str.replace(",", ".", regex=False)
    return frame


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write UTF-8 with BOM (Excel shows Vietnamese right), atomically (temp file + rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent.resolve())
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig"))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ParameterError(f"cannot write {str(path)!r}: {exc.strerror}") from None


def _summary(result: CarryResult, out: Path, alloc: Path, seconds: float) -> str:
    """The one-line report: rows in, communes out, rows through split units, bases, conservation."""
    from geo.crosswalk import carry_summary

    figures = carry_summary(result)
    split_bases = {b: n for b, n in result.basis_counts.items() if b != "whole"}
    basis_text = ", ".join(f"{b} {n}" for b, n in split_bases.items()) or "none needed"
    if result.conserved:
        conserved = "totals conserved"
    else:  # integer columns cannot get here (largest remainder); float columns only by round-off
        off = result.totals[result.totals["difference"] != 0]
        conserved = "float totals off by " + ", ".join(
            f"{t.column} {t.difference:g}" for t in off.itertuples()
        )
    line = (
        f"wrote {out}: {figures['rows_in']} rows in, {figures['communes_out']} new communes out "
        f"({figures['communes_complete']} complete), {figures['rows_split']} rows through "
        f"split units (basis: {basis_text}), {conserved}; allocation in {alloc.name}"
    )
    if "equal" in split_bases:
        line += "; no hamlet households or area parts for some split units: divided equally"
    return line + f" ({seconds:.1f} s)"


def run(args: argparse.Namespace) -> int:
    """Carry ``args.table`` to the new communes of ``args.data_dir``; write OUT and its allocation."""
    from geo.crosswalk import (
        DEFAULT_SHARE_RULES,
        carry_table,
        old_units_from_mapping,
        parse_share_rule,
        plan_columns,
        resolve_old_codes,
        split_weights,
    )
    from geo.io import read_table

    _check_arguments(args)
    start = time.perf_counter()
    root: Path = args.data_dir
    province, vintage = _province(root)
    mapping = _province_mapping(province, vintage)

    source = args.table.name
    read = read_table(args.table, display=source)
    table = read.frame
    if table.empty:
        raise ParameterError(f"TABLE {str(args.table)!r} has a header but no data rows; nothing to carry")
    declared = [parse_share_rule(text) for text in args.share]
    rules = [*declared, *(r for r in DEFAULT_SHARE_RULES if r.share not in {d.share for d in declared})]
    plan = plan_columns(
        table,
        share_rules=rules,
        drop=args.drop,
        counts=args.count,
        decimal_comma=read.decimal_comma,
        source=source,
    )
    codes = resolve_old_codes(
        table, old_units_from_mapping(mapping), source=source, known_new=mapping["new_commune_code"]
    )
    keyed = table[list(plan.counts)].copy()
    keyed["_old_code"] = codes

    hamlets, hamlet_note = _hamlet_evidence(root)
    parts = _parts_evidence(root)
    log.info("weights: %s; area parts: %s", hamlet_note, "yes" if parts is not None else "none")
    weights = split_weights(mapping, hamlets=hamlets, parts=parts)
    result = carry_table(
        keyed,
        mapping,
        weights,
        count_columns=plan.counts,
        share_columns=plan.shares,
        code_column="_old_code",
        decimal_comma=read.decimal_comma,
        source=source,
    )
    alloc_path = allocation_path(args.out)
    _write_csv(result.communes, args.out)
    _write_csv(result.allocation.assign(weight=result.allocation["weight"].round(10)), alloc_path)
    if plan.not_carried:
        log.info("not carried: %s", ", ".join(plan.not_carried))
    print(_summary(result, args.out, alloc_path, time.perf_counter() - start))
    return EXIT_OK
