"""Carrying a table: rows divided by largest remainder, sums per new commune, shares, exact totals."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.crosswalk.columns import ShareRule, _bad_number_problems, _parse_numbers
from geo.crosswalk.common import BASES, FIRST_DATA_ROW, FLOAT_RTOL, _raise_schema, normalise_code
from geo.crosswalk.units import _pairs, _unknown_code_problem
from geo.errors import ParameterError, SchemaError, UnknownUnitError

_MAX_EXACT = 2.0**53  # integers up to this are exact in float64


@dataclass(frozen=True)
class CarryResult:
    """A table carried to the new layout.

    Attributes
    ----------
    communes : DataFrame
        One row per new commune of the mapping: ``commune_code``, ``commune_name``, the count
        columns (summed; Int64 for integer columns), the share columns (recomputed), then
        ``n_rows`` (table rows that fed it), ``old_commune_codes`` (";"-joined old codes that fed
        it), ``partial_old_codes`` (split old units it got a part of, as
        ``code:weight:basis``) and ``missing_old_codes`` (old units of the new commune that the
        table has no row for: when not empty the carried counts are incomplete).
    allocation : DataFrame
        One row per (table row, new commune it fed): ``row`` (spreadsheet row number),
        ``old_commune_code``, ``old_commune_name``, ``new_commune_code``, ``new_commune_name``,
        ``n_targets``, ``weight``, ``basis`` and the allocated count columns.
    totals : DataFrame
        Per count column: ``column``, ``integer``, ``total_in``, ``total_out``, ``difference``
        (0 for integer columns; within :data:`FLOAT_RTOL` for float columns), ``empty_cells``.
    """

    communes: pd.DataFrame
    allocation: pd.DataFrame
    totals: pd.DataFrame

    @property
    def rows_in(self) -> int:
        """Number of table rows carried."""
        return int(self.allocation["row"].nunique())

    @property
    def rows_split(self) -> int:
        """Table rows whose old commune was split between several new ones."""
        return int(self.allocation.loc[self.allocation["n_targets"] > 1, "row"].nunique())

    @property
    def basis_counts(self) -> dict[str, int]:
        """Table rows per weight basis (``{"whole": 350, "households": 4}``), bases in use only."""
        per_row = self.allocation.drop_duplicates("row")["basis"].value_counts()
        return {b: int(per_row[b]) for b in BASES if b in per_row.index}

    @property
    def conserved(self) -> bool:
        """True when every column's total out equals its total in (exactly for integer columns)."""
        ok = True
        for t in self.totals.itertuples():
            if t.integer:
                ok &= bool(t.difference == 0)
            else:
                ok &= bool(abs(t.difference) <= FLOAT_RTOL * max(1.0, abs(float(t.total_in))))
        return ok


def largest_remainder(value: int, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Split a whole number into whole parts proportional to ``weights`` that sum to it exactly.

    Each part gets the floor of its quota ``value * w / sum(w)``; the units left over go one each
    to the parts with the largest fractional remainders (ties: larger weight first, then the
    earlier part). Negative values are split the same way.

    Parameters
    ----------
    value : int
        The whole number to split (|value| < 2**53).
    weights : sequence of float
        Non-negative weights, not all 0.

    Returns
    -------
    ndarray of int64
        Parts, in the order of ``weights``; ``parts.sum() == value``.

    Examples
    --------
    >>> largest_remainder(10, [1, 1, 1]).tolist()
    [4, 3, 3]
    """
    w = np.asarray(weights, dtype=float)
    quota = value * w / w.sum()
    parts = np.floor(quota)
    left = int(value - parts.sum())
    order = np.lexsort((np.arange(len(w)), -w, -(quota - parts)))  # last key sorts first
    if left > 0:
        parts[order[:left]] += 1
    elif left < 0:  # float round-off pushed the floors over the value
        parts[order[::-1][:-left]] -= 1
    return parts.astype(np.int64)


def _integer_columns(values: pd.DataFrame) -> list[str]:
    """Columns whose every non-empty value is a whole number of magnitude below 2**53."""
    out = []
    for col in values.columns:
        v = values[col].dropna().to_numpy(dtype=float)
        if bool(np.all(np.mod(v, 1.0) == 0) and np.all(np.abs(v) < _MAX_EXACT)):
            out.append(str(col))
    return out


def _nest(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Move single units of ``num`` between parts until no part exceeds its ``den`` part.

    Rounded independently, the numerator of a share can get one unit more than its denominator
    in a part of a 3-way split (9 of 10 split 0.05 : 0.15 : 0.80 gives 1/1/7 of 0/2/8). The sum is
    unchanged; a unit goes to the part with the most room. Used only when ``sum(num) <=
    sum(den)`` and nothing is negative, so it ends.
    """
    num = num.copy()
    while True:
        over = np.flatnonzero(num > den)
        room = den - num
        j = int(np.argmax(room))
        if not len(over) or room[j] <= 0:
            return num
        num[over[0]] -= 1
        num[j] += 1


def _allocate(
    alloc: pd.DataFrame,
    values: pd.DataFrame,
    integer: Sequence[str],
    shares: Sequence[ShareRule],
    weight: np.ndarray,
    row_pos: np.ndarray,
) -> None:
    """Write the allocated count columns into ``alloc`` (one row per table row x target)."""
    split = alloc["n_targets"].to_numpy() > 1
    groups = [np.flatnonzero(row_pos == r) for r in np.unique(row_pos[split])]
    parts: dict[str, np.ndarray] = {}
    for col in values.columns:
        v = values[col].to_numpy(dtype=float)[row_pos]
        part = v * weight
        if col in integer:
            for sel in groups:
                if not np.isnan(v[sel[0]]):
                    part[sel] = largest_remainder(int(v[sel[0]]), weight[sel])
        parts[str(col)] = part
    for rule in shares:  # keep numerator <= denominator in every part of a split row
        if rule.numerator not in integer or rule.denominator not in integer:
            continue
        num, den = parts[rule.numerator], parts[rule.denominator]
        for sel in groups:
            n, d = num[sel], den[sel]
            if not (np.isnan(n).any() or np.isnan(d).any()) and 0 <= n.sum() <= d.sum() and (d >= 0).all():
                num[sel] = _nest(n, d)
    for col, part in parts.items():
        if col in integer:
            alloc[col] = pd.array(np.where(np.isnan(part), 0, np.round(part)).astype(np.int64), dtype="Int64")
            alloc.loc[np.isnan(part), col] = pd.NA
        else:
            alloc[col] = part


def _sum_by_commune(alloc: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Sum of each column per new commune; empty where any part is empty."""
    key = alloc["new_commune_code"]
    sums = alloc[list(columns)].groupby(key, sort=True).sum(min_count=1)
    has_empty = alloc[list(columns)].isna().groupby(key, sort=True).any()
    for col in columns:
        sums.loc[has_empty[col].astype(bool), col] = pd.NA
    return sums


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    n = pd.to_numeric(num, errors="coerce").astype(float)
    d = pd.to_numeric(den, errors="coerce").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = n / d
    return r.where(d > 0)


def _join_codes(codes: Iterable[str]) -> str:
    return ";".join(sorted(set(codes)))


def _totals(table_values: pd.DataFrame, communes: pd.DataFrame, integer: Sequence[str]) -> pd.DataFrame:
    rows = []
    for col in table_values.columns:
        complete = table_values[col].dropna()
        out = communes[col].dropna()
        is_int = col in integer
        if is_int:
            total_in: float | int = int(sum(int(x) for x in complete))
            total_out: float | int = int(sum(int(x) for x in out))
        else:
            total_in, total_out = math.fsum(complete), math.fsum(float(x) for x in out)
        rows.append(
            {
                "column": col,
                "integer": is_int,
                "total_in": total_in,
                "total_out": total_out,
                "difference": total_out - total_in,
                "empty_cells": int(table_values[col].isna().sum()),
            }
        )
    return pd.DataFrame(
        rows, columns=["column", "integer", "total_in", "total_out", "difference", "empty_cells"]
    )


def _check_weights(weights: pd.DataFrame) -> None:
    need = ("old_commune_code", "new_commune_code", "weight", "basis")
    missing = [c for c in need if c not in weights.columns]
    if missing:
        raise SchemaError(f"weights frame lacks column(s) {', '.join(missing)} (make it with split_weights)")
    sums = weights.groupby("old_commune_code")["weight"].sum()
    bad = sums[(sums - 1.0).abs() > 1e-9]
    if len(bad):
        raise ParameterError(
            f"weights of old commune(s) {', '.join(map(str, bad.index[:5]))} do not sum to 1 "
            "(make the weights with split_weights)"
        )


def carry_table(
    table: pd.DataFrame,
    mapping: pd.DataFrame,
    weights: pd.DataFrame,
    *,
    count_columns: Sequence[str],
    share_columns: Sequence[ShareRule] = (),
    code_column: str = "commune_code",
    decimal_comma: bool = False,
    source: str = "table",
    first_row: int = FIRST_DATA_ROW,
) -> CarryResult:
    """Carry a table keyed by old commune codes to the new communes of ``mapping``.

    Counts are summed per new commune; a row of a split old unit is divided between its new
    communes by ``weights`` (integer columns by :func:`largest_remainder`, so every row's parts
    sum exactly to it; float columns proportionally); shares are recomputed from the carried
    counts (``share = numerator / denominator``, empty where the denominator is 0 or empty).

    Parameters
    ----------
    table : DataFrame
        One or more rows per old commune (hamlet rows are fine); ``code_column`` holds old codes.
    mapping : DataFrame
        Old -> new pairs (``old_commune_code``, ``new_commune_code``, names); its new communes
        are the rows of the result.
    weights : DataFrame
        :func:`split_weights` of the same mapping.
    count_columns : sequence of str
        Columns summed (numbers or number text; empty cells stay empty, see the module notes).
    share_columns : sequence of ShareRule
        Shares recomputed; their numerator and denominator must be among ``count_columns``.
    code_column : str
        Column of old commune codes (see :func:`resolve_old_codes` for names).
    decimal_comma : bool
        Number cells use a decimal comma.
    source : str
        File name for messages.
    first_row : int
        Row number of the first data row in messages and in ``allocation["row"]``.

    Returns
    -------
    CarryResult

    Raises
    ------
    SchemaError
        A column is missing, a count cell is not a number, a share's counts are not carried.
    UnknownUnitError
        Codes that are not old communes of the mapping (every such row listed).
    """
    counts = list(dict.fromkeys(count_columns))
    missing = [c for c in (code_column, *counts) if c not in table.columns]
    missing += [
        f"{c} (for {r.share})" for r in share_columns for c in (r.numerator, r.denominator) if c not in counts
    ]
    if missing:
        raise SchemaError(
            f"{source}: column(s) {', '.join(missing)} missing or not carried as counts; "
            "a share is recomputed from its two counts, so both must be in the table"
        )
    pairs = _pairs(mapping)
    _check_weights(weights)
    w = weights.copy()
    w["old_commune_code"] = w["old_commune_code"].map(normalise_code)
    w["new_commune_code"] = w["new_commune_code"].map(normalise_code)
    w = w.drop(columns=[c for c in ("old_commune_name", "new_commune_name", "n_targets") if c in w.columns])
    w = w.merge(pairs, on=["old_commune_code", "new_commune_code"], how="inner")
    w["n_targets"] = w.groupby("old_commune_code")["new_commune_code"].transform("size").astype(int)

    codes = table[code_column].map(normalise_code).astype(object).reset_index(drop=True)
    known = set(w["old_commune_code"])
    new_codes = set(pairs["new_commune_code"])
    problems = [
        _unknown_code_problem(str(c), pos, source=source, first_row=first_row, known_new=new_codes)
        for pos, c in enumerate(codes)
        if c not in known
    ]
    if problems:
        raise UnknownUnitError(
            problems,
            f"{source}: {len(problems)} row(s) name no known old (2025-03) commune; nothing was carried",
        )
    _raise_schema(
        _bad_number_problems(table, counts, decimal_comma=decimal_comma, source=source, first_row=first_row),
        f"{source}: count cells that are not numbers; nothing was carried",
    )
    values = pd.DataFrame(
        {c: _parse_numbers(table[c], decimal_comma=decimal_comma).to_numpy() for c in counts},
        index=pd.RangeIndex(len(table)),
    )
    integer = _integer_columns(values)

    rows = pd.DataFrame({"_pos": np.arange(len(table)), "old_commune_code": codes})
    alloc = rows.merge(w, on="old_commune_code", how="left", sort=False)
    alloc = alloc.sort_values(["_pos", "new_commune_code"], kind="stable").reset_index(drop=True)
    row_pos = alloc["_pos"].to_numpy()
    _allocate(alloc, values, integer, share_columns, alloc["weight"].to_numpy(dtype=float), row_pos)
    alloc.insert(0, "row", row_pos + first_row)
    alloc = alloc[
        [
            "row",
            "old_commune_code",
            "old_commune_name",
            "new_commune_code",
            "new_commune_name",
            "n_targets",
            "weight",
            "basis",
            *counts,
        ]
    ]

    communes = _communes_frame(alloc, pairs, w, counts, share_columns)
    return CarryResult(communes=communes, allocation=alloc, totals=_totals(values, communes, integer))


def _communes_frame(
    alloc: pd.DataFrame,
    pairs: pd.DataFrame,
    weights: pd.DataFrame,
    counts: Sequence[str],
    share_columns: Sequence[ShareRule],
) -> pd.DataFrame:
    """One row per new commune of the mapping: sums, shares and where they came from."""
    new = pairs.drop_duplicates("new_commune_code").sort_values("new_commune_code")
    out = pd.DataFrame(
        {
            "commune_code": new["new_commune_code"].to_numpy(),
            "commune_name": new["new_commune_name"].to_numpy(),
        }
    )
    sums = (
        _sum_by_commune(alloc, counts)
        if counts
        else pd.DataFrame(index=pd.Index([], name="new_commune_code"))
    )
    out = out.merge(sums, left_on="commune_code", right_index=True, how="left")
    for col in counts:
        if str(alloc[col].dtype) == "Int64":
            out[col] = out[col].astype("Int64")
    for rule in share_columns:
        out[rule.share] = _ratio(out[rule.numerator], out[rule.denominator])
    fed = alloc.groupby("new_commune_code")["old_commune_code"].agg(_join_codes)
    n_rows = alloc.groupby("new_commune_code")["row"].nunique()
    split = alloc[alloc["n_targets"] > 1].drop_duplicates(["old_commune_code", "new_commune_code"])
    parts: dict[str, list[str]] = defaultdict(list)
    for t in split.sort_values("old_commune_code").itertuples():
        parts[str(t.new_commune_code)].append(f"{t.old_commune_code}:{float(t.weight):.4f}:{t.basis}")
    all_old = pairs.groupby("new_commune_code")["old_commune_code"].agg(set)
    present = set(alloc["old_commune_code"])
    code = out["commune_code"]
    out["n_rows"] = code.map(n_rows).fillna(0).astype(int)
    out["old_commune_codes"] = code.map(fed).fillna("").astype(object)
    out["partial_old_codes"] = code.map(lambda c: ";".join(parts.get(c, []))).astype(object)
    out["missing_old_codes"] = code.map(lambda c: _join_codes(all_old[c] - present)).astype(object)
    return out.reset_index(drop=True)


def carry_summary(result: CarryResult) -> Mapping[str, object]:
    """Figures for a one-line report: rows in, communes out (and complete), split rows, bases."""
    communes = result.communes
    return {
        "rows_in": result.rows_in,
        "communes_out": len(communes),
        "communes_fed": int((communes["n_rows"] > 0).sum()),
        "communes_complete": int(((communes["n_rows"] > 0) & (communes["missing_old_codes"] == "")).sum()),
        "rows_split": result.rows_split,
        "bases": result.basis_counts,
        "conserved": result.conserved,
    }
