"""Which columns of a table are carried, and how: key columns, counts, shares and refused columns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from geo.crosswalk.common import FIRST_DATA_ROW, _raise_schema, _row_label
from geo.errors import ParameterError, Problem
from geo.names import fold_diacritics


@dataclass(frozen=True)
class ShareRule:
    """A share and the two counts it is made of: ``share = numerator / denominator``.

    Parameters
    ----------
    share : str
        Column of the share (0–1), e.g. ``"ftth_share"``.
    numerator : str
        Count column, e.g. ``"households_ftth"``.
    denominator : str
        Count column, e.g. ``"households"``.
    """

    share: str
    numerator: str
    denominator: str

    def __str__(self) -> str:
        return f"{self.share}={self.numerator}/{self.denominator}"


DEFAULT_SHARE_RULES: tuple[ShareRule, ...] = (
    ShareRule("ftth_share", "households_ftth", "households"),
    ShareRule("smartphone_share", "adults_with_smartphone", "adults"),
    ShareRule("internet_share", "adults_internet_users", "adults"),
)
"""The shares of the survey layer (docs/DATA.md, ``survey/hamlet_survey.csv``)."""


@dataclass(frozen=True)
class KeyColumns:
    """Columns of a table that identify its commune (None when absent)."""

    code: str | None
    name: str | None
    district: str | None
    province: str | None

    def names(self) -> tuple[str, ...]:
        """The columns that are present."""
        return tuple(c for c in (self.code, self.name, self.district, self.province) if c)


@dataclass(frozen=True)
class ColumnPlan:
    """What happens to each column of a table (see :func:`plan_columns`).

    Parameters
    ----------
    counts : tuple of str
        Columns summed (and allocated across a split).
    shares : tuple of ShareRule
        Shares recomputed from two of the counts.
    not_carried : tuple of str
        Key, identifier, text, empty and dropped columns, and share columns whose counts are
        carried and which are recomputed (their input values are not used).
    """

    counts: tuple[str, ...]
    shares: tuple[ShareRule, ...]
    not_carried: tuple[str, ...]


def _header_key(name: object) -> str:
    """A header folded to ASCII words joined by "_": "Mã xã" -> "ma_xa", "FTTH share" -> "ftth_share"."""
    return re.sub(r"[^0-9a-z]+", "_", fold_diacritics(str(name))).strip("_")


def _arg(text: str) -> str:
    """A column name as it must be typed on a command line (quoted when it has spaces or accents)."""
    return text if re.fullmatch(r"[A-Za-z0-9_.=/-]+", text) else f'"{text}"'


def parse_share_rule(text: str) -> ShareRule:
    """Parse ``"SHARE=NUMERATOR/DENOMINATOR"`` (e.g. ``"ftth_share=households_ftth/households"``).

    Raises
    ------
    ParameterError
        When the text is not of that form.
    """
    m = re.fullmatch(r"\s*([^=/\s][^=/]*?)\s*=\s*([^=/]+?)\s*/\s*([^=/]+?)\s*", text)
    if not m:
        raise ParameterError(
            f"share rule {text!r} is not of the form SHARE=NUMERATOR/DENOMINATOR "
            "(e.g. ftth_share=households_ftth/households)"
        )
    share, num, den = (s.strip().lower() for s in m.groups())
    return ShareRule(share, num, den)


_CODE_HEADERS = ("commune_code", "old_commune_code", "ma_xa")
_NAME_HEADERS = ("commune_name", "old_commune_name", "ten_xa")
_DISTRICT_HEADERS = ("district_name", "old_district_name", "ten_huyen", "huyen")
_PROVINCE_HEADERS = ("province_name", "old_province_name", "ten_tinh", "tinh")

_SHARE_TOKENS = frozenset({"share", "rate", "ratio", "pct", "percent", "percentage", "proportion"})
_SHARE_RE = re.compile(r"(?:^|_)ty_?le(?:_|$)")  # "tỷ lệ"
_AVERAGE_TOKENS = frozenset(
    {"mean", "avg", "average", "median", "density", "per", "min", "max", "index", "dbm"}
)
_AVERAGE_RE = re.compile(r"(?:^|_)(?:trung_binh|mat_do|binh_quan)(?:_|$)")  # average, density
_ID_FIRST = frozenset({"id", "code", "ma", "stt", "tt"})
_ID_LAST = frozenset({"id", "code", "stt"})
_METADATA_TOKENS = frozenset({"lat", "lon", "lng", "latitude", "longitude", "year", "date", "month"})


def _first_header(columns: Iterable[object], wanted: Sequence[str]) -> str | None:
    keyed = {_header_key(c): str(c) for c in columns}
    for w in wanted:
        if w in keyed:
            return keyed[w]
    return None


def find_key_columns(table: pd.DataFrame) -> KeyColumns:
    """Find the commune key columns of a table (headers compared folded: "Mã xã" = ``ma_xa``).

    Code: ``commune_code`` / ``old_commune_code`` / ``ma_xa``; name: ``commune_name`` /
    ``old_commune_name`` / ``ten_xa``; optional ``district_name`` and ``province_name`` (or their
    ``old_`` and Vietnamese forms) to tell apart communes of the same name.
    """
    cols = list(table.columns)
    return KeyColumns(
        code=_first_header(cols, _CODE_HEADERS),
        name=_first_header(cols, _NAME_HEADERS),
        district=_first_header(cols, _DISTRICT_HEADERS),
        province=_first_header(cols, _PROVINCE_HEADERS),
    )


def _is_share_name(key: str) -> bool:
    return bool(_SHARE_TOKENS.intersection(key.split("_")) or _SHARE_RE.search(key))


def _is_average_name(key: str) -> bool:
    return bool(_AVERAGE_TOKENS.intersection(key.split("_")) or _AVERAGE_RE.search(key))


def _is_identifier_name(key: str) -> bool:
    """Identifiers, coordinates and dates: numbers, but not quantities of the commune."""
    tokens = key.split("_")
    return tokens[0] in _ID_FIRST or tokens[-1] in _ID_LAST or bool(_METADATA_TOKENS.intersection(tokens))


def _parse_numbers(series: pd.Series, *, decimal_comma: bool) -> pd.Series:
    """Numbers of a column (float, NaN for empty and unreadable cells; inf counts as unreadable)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(np.nan, index=series.index, dtype=float)
    if pd.api.types.is_numeric_dtype(series.dtype):
        out = pd.to_numeric(series, errors="coerce").astype(float)
    else:
        text = series.astype(object).map(lambda v: "" if v is None or v is pd.NA else str(v).strip())
        text = text.where(~text.isin(["nan", "NaN", "<NA>"]), "")
        if decimal_comma:
            text = text.str.replace(",", ".", regex=False)
        out = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
    return out.where(np.isfinite(out.to_numpy(dtype=float)))


def _empty_cells(series: pd.Series) -> pd.Series:
    """True where a cell is empty (NaN, None or blank text)."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.isna()
    text = series.astype(object).map(lambda v: "" if v is None or v is pd.NA else str(v).strip())
    return series.isna() | text.isin(["", "nan", "NaN", "<NA>"])


def _bad_number_problems(
    table: pd.DataFrame, columns: Sequence[str], *, decimal_comma: bool, source: str, first_row: int
) -> list[Problem]:
    problems = []
    for col in columns:
        values = _parse_numbers(table[col], decimal_comma=decimal_comma)
        bad = np.flatnonzero((values.isna() & ~_empty_cells(table[col])).to_numpy())
        problems += [
            Problem(
                "error",
                source,
                _row_label(int(p), first_row),
                f"{col} is not a number: {table[col].iloc[p]!r}",
                f"write {col} as a plain number (decimal point '.', no thousands separator), "
                "or leave the cell empty",
            )
            for p in bad
        ]
    return problems


def _classify(
    col: str, key: str, values: pd.Series, empty: pd.Series, *, forced: bool
) -> Literal["empty", "identifier", "text", "share", "average", "count"]:
    if bool(empty.all()):
        return "empty"
    if forced:
        return "count"
    if _is_identifier_name(key):
        return "identifier"
    if _is_share_name(key):  # numbers or text such as "35%": either way it needs its counts
        return "share"
    if int(values.notna().sum()) * 2 <= int((~empty).sum()):  # at most half the cells are numbers
        return "text"
    if _is_average_name(key):
        return "average"
    return "count"


def plan_columns(
    table: pd.DataFrame,
    *,
    share_rules: Sequence[ShareRule] = DEFAULT_SHARE_RULES,
    drop: Sequence[str] = (),
    counts: Sequence[str] = (),
    decimal_comma: bool = False,
    source: str = "table",
    first_row: int = FIRST_DATA_ROW,
) -> ColumnPlan:
    """Decide, for each column of a table, whether it is carried as a count, recomputed as a share or left.

    The rule (documented in docs/CROSSWALK.md):

    * the key columns (:func:`find_key_columns`), identifiers (``*_id``, ``*_code``, ``ma_*``,
      ``stt``), text columns (at most half the cells numbers) and empty columns are not carried;
    * a column named like a share (a word ``share``, ``rate``, ``ratio``, ``pct``, ``percent``,
      ``proportion`` or "tỷ lệ") is carried only as a :class:`ShareRule` whose numerator and
      denominator are count columns of the table; without them it is refused;
    * a column named like an average, a coordinate or a date (``mean``, ``avg``, ``median``,
      ``density``, ``per``, ``min``, ``max``, ``index``, ``dbm``, ``lat``, ``lon``, ``year``,
      "trung bình", "mật độ") is refused: it cannot be summed;
    * every other numeric column is a count (summed); ``counts`` forces a column to be one.

    A share rule whose share column is absent but whose two counts are present adds the share to
    the output (a survey table gets ``ftth_share``). ``drop`` leaves columns out whatever they are.

    Parameters
    ----------
    table : DataFrame
        The table, cells as read (text or numbers).
    share_rules : sequence of ShareRule
        Known shares (default: the survey's :data:`DEFAULT_SHARE_RULES`); a rule given here for
        a share column that is present must have both counts.
    drop, counts : sequence of str
        Columns to leave out / to carry as counts whatever their name says.
    decimal_comma : bool
        Cells use a decimal comma (";"-separated CSV).
    source : str
        File name for messages.
    first_row : int
        Row number of the table's first data row in messages.

    Returns
    -------
    ColumnPlan

    Raises
    ------
    ParameterError
        ``drop`` or ``counts`` names a column the table does not have.
    SchemaError
        A share without its counts, an average-like column, or cells of a count column that
        are not numbers (every one listed, with its row).
    """
    by_lower = {str(c).lower(): str(c) for c in table.columns}
    for option, names in (("--drop", drop), ("--count", counts)):
        absent = [n for n in names if n.lower() not in by_lower]
        if absent:
            raise ParameterError(
                f"{option} {', '.join(absent)}: no such column in {source} "
                f"(columns: {', '.join(by_lower.values())})"
            )
    dropped = {by_lower[n.lower()] for n in drop}
    forced = {by_lower[n.lower()] for n in counts}
    keys = set(find_key_columns(table).names())
    rules = {r.share: r for r in share_rules}
    count_cols: list[str] = []
    share_cols: list[str] = []
    not_carried: list[str] = []
    problems: list[Problem] = []
    for col in (str(c) for c in table.columns):
        if col in keys or col in dropped:
            not_carried.append(col)
            continue
        values = _parse_numbers(table[col], decimal_comma=decimal_comma)
        kind = _classify(col, _header_key(col), values, _empty_cells(table[col]), forced=col in forced)
        if kind == "count":
            count_cols.append(col)
        elif kind == "share" or (kind == "text" and col.lower() in rules):
            share_cols.append(col)
        elif kind == "average":
            problems.append(
                Problem(
                    "error",
                    source,
                    col,
                    f"column {col!r} looks like an average, a coordinate or a date: it cannot be summed "
                    "over the old communes that form a new one",
                    f"leave it out (--drop {_arg(col)}), or carry the counts it is made of; if it really "
                    f"is a count, say so (--count {_arg(col)})",
                )
            )
        else:
            not_carried.append(col)
    problems += _bad_number_problems(
        table, count_cols, decimal_comma=decimal_comma, source=source, first_row=first_row
    )
    carried = {c.lower() for c in count_cols}
    shares: list[ShareRule] = []
    for col in share_cols:
        rule = rules.get(col.lower())
        if rule is not None and rule.numerator in carried and rule.denominator in carried:
            shares.append(ShareRule(col, by_lower[rule.numerator], by_lower[rule.denominator]))
            not_carried.append(col)
            continue
        need = (
            f"its counts {rule.numerator!r} and {rule.denominator!r}"
            if rule is not None
            else "its numerator and denominator counts"
        )
        problems.append(
            Problem(
                "error",
                source,
                col,
                f"share column {col!r} cannot be carried without {need}: a share of a merged commune is "
                "not the average of the old shares",
                "add the two count columns to the table and declare the share "
                f"(--share {_arg(col + '=NUMERATOR/DENOMINATOR')}), "
                f"or leave the column out (--drop {_arg(col)})",
            )
        )
    present = {r.share.lower() for r in shares} | {c.lower() for c in share_cols}
    for rule in share_rules:
        if rule.share not in present and rule.numerator in carried and rule.denominator in carried:
            shares.append(ShareRule(rule.share, by_lower[rule.numerator], by_lower[rule.denominator]))
    _raise_schema(problems, f"{source}: {len(problems)} column problem(s); nothing was carried")
    return ColumnPlan(tuple(count_cols), tuple(shares), tuple(not_carried))
