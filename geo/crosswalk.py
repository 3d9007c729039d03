"""Carry a commune-keyed table from the old commune layout (2025-03) to the new one (2025-07).

Since 1 July 2025 Viet Nam has 34 provinces and no districts; many old communes were merged into
one new commune, and a few were split between several. Surveys, operator site lists and census
tables are still keyed by old communes; offices report by new ones. This module moves such a table
across, honestly:

* **Counts** (households, adults, subscribers, area …) are *summed* over the old units that form a
  new commune.
* **Shares** are *recomputed* from the carried counts, never averaged: ``ftth_share`` of a new
  commune is ``households_ftth / households`` of its carried counts. A share is only carried when
  its numerator and denominator counts are in the table (:class:`ShareRule`); a share column
  without them is refused (:func:`plan_columns`), because no honest value can be made from
  shares alone.
* A **split** old unit's counts are allocated to its new communes by a documented weight
  (:func:`split_weights`): the households of its hamlets on each side when the hamlets carry their
  former commune, else the area of each part, else equal shares. The allocation of every table row
  is returned (:attr:`CarryResult.allocation`), with its weight and basis.
* **Totals are conserved exactly.** Integer columns (every value a whole number) are allocated by
  largest remainder, so the parts of each row sum to the row's value exactly; float columns are
  allocated proportionally and their totals compared with a relative tolerance of 1e-9
  (:attr:`CarryResult.totals`).
* **Missing values stay missing.** An empty cell in a count makes the carried value of every new
  commune it feeds empty too (a sum with an unknown part is unknown); the totals compare the
  non-empty cells.

The functions are pure (frames in, frames out); reading files is the caller's business
(``cli/commands/crosswalk.py``, the importers). Rows are numbered as a spreadsheet shows them: the
header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from geo.errors import ParameterError, Problem, SchemaError, UnknownUnitError
from geo.names import PREFIXES, fold_diacritics, normalize_name

__all__ = [
    "OLD_LAYOUT",
    "NEW_LAYOUT",
    "Basis",
    "BASES",
    "ShareRule",
    "DEFAULT_SHARE_RULES",
    "KeyColumns",
    "ColumnPlan",
    "CarryResult",
    "parse_share_rule",
    "normalise_code",
    "match_key",
    "find_key_columns",
    "plan_columns",
    "old_units_from_mapping",
    "resolve_old_codes",
    "split_weights",
    "largest_remainder",
    "carry_table",
    "carry_summary",
]

OLD_LAYOUT = "2025-03"
"""The pre-reform layout (GSO list of 1 March 2025: 63 provinces, 10,047 communes)."""
NEW_LAYOUT = "2025-07"
"""The layout in force since 1 July 2025 (34 provinces, 3,321 communes, no districts)."""

Basis = Literal["whole", "households", "area", "equal"]
BASES: tuple[Basis, ...] = ("whole", "households", "area", "equal")
"""Weight bases, in order of preference for a split unit ("whole": the old unit is not split)."""

FIRST_DATA_ROW = 2
"""Row number of a table's first data row (the header is row 1, as a spreadsheet shows it)."""

FLOAT_RTOL = 1e-9
"""Relative tolerance of the total check of float (non-integer) columns."""

_MAX_EXACT = 2.0**53  # integers up to this are exact in float64


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


# ---------------------------------------------------------------- small helpers

_CODE_RE = re.compile(r"^\d{1,5}(?:\.0*)?$")


def normalise_code(value: object) -> str:
    """Return a GSO commune code as a zero-padded 5-digit string ("" when empty).

    ``29263``, ``"29263"``, ``"29263.0"`` (a spreadsheet's number) and ``"0001"`` -> ``"00001"``;
    anything else is returned stripped, unchanged (and will not match a code).
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    if _CODE_RE.match(text):
        return text.split(".")[0].zfill(5)
    return text


def _header_key(name: object) -> str:
    """A header folded to ASCII words joined by "_": "Mã xã" -> "ma_xa", "FTTH share" -> "ftth_share"."""
    return re.sub(r"[^0-9a-z]+", "_", fold_diacritics(str(name))).strip("_")


def match_key(name: object) -> str:
    """Matching key of a place name, as the importers use it (``geo.importers.survey.match_key``).

    Case, diacritics, spacing and an administrative prefix are ignored: "Xã Long Đức",
    "LONG DUC", "xa long  duc" and "Long Duc" all give "longduc"; "Phường 01" and "P.1" give "1".
    """
    if name is None or name is pd.NA or (isinstance(name, float) and math.isnan(name)):
        return ""
    return normalize_name(str(name)).replace(" ", "")


_KIND_SYNONYMS = {"x": "xa", "p": "phuong", "tt": "thi tran", "tp": "thanh pho"}
_KIND_RE = re.compile(r"^(" + "|".join(re.escape(p) for p in PREFIXES) + r")(?:\.\s*|\s+)")


def _prefix_kind(name: str) -> str:
    """The administrative prefix of a name, folded ("thi tran" for "TT Càng Long"; "" if none)."""
    m = _KIND_RE.match(re.sub(r"\s+", " ", fold_diacritics(name)).strip())
    return _KIND_SYNONYMS.get(m.group(1), m.group(1)) if m else ""


def _exact_key(name: str) -> str:
    """Name without its prefix, case and spacing, *keeping* diacritics ("Xã Bình Thạnh" -> "bìnhthạnh")."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", name).lower()).strip()
    folded = fold_diacritics(text)
    m = _KIND_RE.match(folded)
    if m and len(folded) == len(text):  # Vietnamese letters fold one to one
        text = text[m.end() :]
    return text.replace(" ", "")


def _arg(text: str) -> str:
    """A column name as it must be typed on a command line (quoted when it has spaces or accents)."""
    return text if re.fullmatch(r"[A-Za-z0-9_.=/-]+", text) else f'"{text}"'


def _row_label(pos: int, first_row: int) -> str:
    return f"row {pos + first_row}"


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


# ---------------------------------------------------------------- columns

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


def _raise_schema(problems: list[Problem], head: str) -> None:
    if problems:
        raise SchemaError(head + "\n" + "\n".join(str(p) for p in problems))


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


# ---------------------------------------------------------------- codes and names


def _pairs(mapping: pd.DataFrame) -> pd.DataFrame:
    """Unique (old, new) pairs of a mapping frame, codes normalised, names kept."""
    need = ("old_commune_code", "new_commune_code")
    missing = [c for c in need if c not in mapping.columns]
    if missing:
        raise SchemaError(f"mapping frame lacks column(s) {', '.join(missing)} (see geo.admin_units)")
    out = pd.DataFrame(
        {
            "old_commune_code": mapping["old_commune_code"].map(normalise_code).astype(object),
            "old_commune_name": mapping.get("old_commune_name", pd.Series("", index=mapping.index))
            .fillna("")
            .astype(object),
            "new_commune_code": mapping["new_commune_code"].map(normalise_code).astype(object),
            "new_commune_name": mapping.get("new_commune_name", pd.Series("", index=mapping.index))
            .fillna("")
            .astype(object),
        }
    )
    return out.drop_duplicates(["old_commune_code", "new_commune_code"]).reset_index(drop=True)


def old_units_from_mapping(mapping: pd.DataFrame) -> pd.DataFrame:
    """The old communes of a mapping, as :func:`resolve_old_codes` wants them.

    Columns ``commune_code``, ``commune_name`` and, when the mapping has them, ``province_name``
    (from ``old_province_name``) and ``district_name`` (from ``old_district_name``).
    """
    cols = {"old_commune_code": "commune_code", "old_commune_name": "commune_name"}
    for src, dst in (("old_province_name", "province_name"), ("old_district_name", "district_name")):
        if src in mapping.columns:
            cols[src] = dst
    units = mapping[list(cols)].rename(columns=cols).copy()
    units["commune_code"] = units["commune_code"].map(normalise_code)
    return units.drop_duplicates("commune_code").reset_index(drop=True)


class _UnitIndex:
    """Old communes by :func:`match_key`, for resolving names."""

    def __init__(self, units: pd.DataFrame) -> None:
        self.units = units.fillna("").astype(str)
        self.by_key: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(self.units["commune_name"]):
            self.by_key[match_key(name)].append(i)

    def describe(self, i: int) -> str:
        u = self.units.iloc[i]
        where = ", ".join(str(u[c]) for c in ("district_name", "province_name") if c in u.index and u[c])
        return f"{u['commune_name']} ({where + ', ' if where else ''}code {u['commune_code']})"

    def tell_apart(self, found: list[int]) -> str:
        """Hint for an ambiguous name: the columns that would separate the candidates."""
        columns = [
            label
            for column, label in (
                ("province_name", "province_name"),
                ("district_name", "district_name (old district)"),
            )
            if column in self.units.columns
            and self.units.iloc[found][column].map(match_key).nunique() == len(found)
        ]
        return "give its commune_code (old GSO code)" + (
            f", or add a {' or '.join(columns)} column" if columns else ""
        )

    def _narrow(self, found: list[int], column: str, value: str) -> list[int]:
        if len(found) < 2 or not value or column not in self.units.columns:
            return found
        key = match_key(value)
        narrowed = [i for i in found if match_key(self.units.iloc[i][column]) == key]
        return narrowed or found

    def match(self, name: str, district: str, province: str) -> tuple[list[int], list[str]]:
        """(candidate rows, suggestions when none)."""
        key = match_key(name)
        found = list(self.by_key.get(key, []))
        found = self._narrow(found, "province_name", province)
        found = self._narrow(found, "district_name", district)
        kind = _prefix_kind(name)
        if len(found) > 1 and kind:  # "Xã Định An" vs "Thị trấn Định An"
            found = [i for i in found if _prefix_kind(self.units.iloc[i]["commune_name"]) == kind] or found
        if len(found) > 1:  # "Bình Thành" vs "Bình Thạnh": the diacritics, when given, decide
            exact = _exact_key(name)
            found = [i for i in found if _exact_key(self.units.iloc[i]["commune_name"]) == exact] or found
        if found:
            return found, []
        close = difflib.get_close_matches(key, list(self.by_key), n=3, cutoff=0.6)
        return [], [self.describe(self.by_key[k][0]) for k in close]


def _unknown_code_problem(
    code: str, pos: int, *, source: str, first_row: int, known_new: set[str]
) -> Problem:
    if code in known_new:
        hint = (
            "this is a new (2025-07) commune code: the table already looks like it is in the new layout; "
            "give the old (2025-03) commune codes"
        )
    elif not re.fullmatch(r"\d{5}", code):
        hint = "GSO commune codes have 5 digits (e.g. 29263); or give the name in a commune_name column"
    else:
        hint = (
            "check the code against the 2025-03 GSO list of this province's former communes, "
            "or give the name in a commune_name column"
        )
    return Problem(
        "error", source, _row_label(pos, first_row), f"commune_code {code!r} is not an old commune here", hint
    )


def resolve_old_codes(
    table: pd.DataFrame,
    units: pd.DataFrame,
    *,
    source: str = "table",
    first_row: int = FIRST_DATA_ROW,
    known_new: Iterable[str] = (),
) -> pd.Series:
    """Return the old commune code of every row of ``table``, from its code or else its name.

    A filled code column (``commune_code`` …, :func:`find_key_columns`) wins; rows with an empty
    code are matched by name, tolerant of case, diacritics, spacing and prefixes ("Xã Long Đức"
    = "LONG DUC" = "xa long duc"); optional district and province columns, then the type prefix
    ("Xã" vs "Thị trấn"), then the diacritics when written ("Bình Thành" vs "Bình Thạnh") tell
    apart communes of the same name.

    Parameters
    ----------
    table : DataFrame
        Rows keyed by old commune code and/or name.
    units : DataFrame
        Old communes: ``commune_code``, ``commune_name``, optional ``district_name`` and
        ``province_name`` (:func:`old_units_from_mapping`).
    source : str
        File name for messages.
    first_row : int
        Row number of the first data row in messages.
    known_new : iterable of str
        New commune codes, to tell the user a table is already in the new layout.

    Returns
    -------
    Series of str
        Zero-padded old codes, index of ``table``.

    Raises
    ------
    SchemaError
        Neither a code nor a name column.
    UnknownUnitError
        Every row whose code is unknown, whose name matches no old commune or several, or which
        has neither, at once.
    """
    keys = find_key_columns(table)
    if keys.code is None and keys.name is None:
        raise SchemaError(
            f"{source}: no commune_code and no commune_name column (columns: "
            f"{', '.join(map(str, table.columns))}) -> add the old GSO commune code as commune_code"
        )
    n = len(table)
    codes = table[keys.code].map(normalise_code) if keys.code else pd.Series("", index=table.index)
    known = set(units["commune_code"].map(normalise_code))
    new_codes = {normalise_code(c) for c in known_new}
    index = _UnitIndex(units) if keys.name else None
    blank = pd.Series("", index=table.index)
    names = table[keys.name].fillna("").astype(str) if keys.name else blank
    districts = table[keys.district].fillna("").astype(str) if keys.district else blank
    provinces = table[keys.province].fillna("").astype(str) if keys.province else blank
    out: list[str] = []
    problems: list[Problem] = []
    for pos in range(n):
        code = str(codes.iloc[pos])
        name = names.iloc[pos].strip()
        if code:
            if code not in known:
                problems.append(
                    _unknown_code_problem(code, pos, source=source, first_row=first_row, known_new=new_codes)
                )
            out.append(code)
            continue
        where = _row_label(pos, first_row)
        if not name or index is None:
            problems.append(
                Problem(
                    "error",
                    source,
                    where,
                    "no commune code and no commune name",
                    "fill one of them or delete the row",
                )
            )
            out.append("")
            continue
        found, close = index.match(name, districts.iloc[pos], provinces.iloc[pos])
        if len(found) == 1:
            out.append(str(index.units.iloc[found[0]]["commune_code"]))
            continue
        out.append("")
        if found:
            problems.append(
                Problem(
                    "error",
                    source,
                    where,
                    f"commune name {name!r} fits {len(found)} old communes: "
                    + "; ".join(index.describe(i) for i in found),
                    index.tell_apart(found),
                )
            )
        else:
            problems.append(
                Problem(
                    "error",
                    source,
                    where,
                    f"commune name {name!r} matches no old commune here",
                    ("did you mean " + " or ".join(close) + "? ") * bool(close)
                    + "check the spelling or give its commune_code",
                )
            )
    if problems:
        raise UnknownUnitError(
            problems,
            f"{source}: {len(problems)} row(s) name no known old (2025-03) commune; nothing was carried",
        )
    return pd.Series(out, index=table.index, dtype=object)


# ---------------------------------------------------------------- weights


def _evidence(
    frame: pd.DataFrame | None, value_columns: Sequence[str], *, what: str, old_column: str, new_column: str
) -> dict[tuple[str, str], float]:
    """Sum of the first present value column per (old, new) pair of an evidence frame."""
    if frame is None or frame.empty:
        return {}
    value = next((c for c in value_columns if c in frame.columns), None)
    missing = [c for c in (old_column, new_column) if c not in frame.columns] + (
        [] if value else [value_columns[0]]
    )
    if missing:
        raise SchemaError(f"{what} lack column(s) {', '.join(missing)}")
    assert value is not None  # for mypy: missing would have said so
    ev = pd.DataFrame(
        {
            "old": frame[old_column].map(normalise_code),
            "new": frame[new_column].map(normalise_code),
            "v": pd.to_numeric(frame[value], errors="coerce"),
        }
    )
    ev = ev[(ev["old"] != "") & (ev["new"] != "") & np.isfinite(ev["v"]) & (ev["v"] > 0)]
    sums = ev.groupby(["old", "new"])["v"].sum()
    return {(str(o), str(n)): float(v) for (o, n), v in sums.items()}


def split_weights(
    mapping: pd.DataFrame, *, hamlets: pd.DataFrame | None = None, parts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Weight of each (old commune, new commune) pair: the part of the old unit's counts the new one gets.

    An old unit that went whole into one new commune has weight 1, basis ``"whole"``. A split
    unit's weights come from the first basis that has *positive evidence for every one* of its
    new communes:

    1. ``"households"``: households of its hamlets on each side (hamlets whose
       ``former_commune_code`` is the old unit, grouped by their new ``commune_code``);
    2. ``"area"``: area of each part (``area_km2``, else ``area_share``, of
       ``boundaries/old_unit_parts.csv``);
    3. ``"equal"``: 1 / number of new communes.

    Evidence for only some sides (a side without hamlets, a part missing) is not used: the
    mapping says each side got a part, and a weight of 0 would contradict it; the next basis is
    tried. Evidence for (old, new) pairs the mapping does not have is ignored.

    Parameters
    ----------
    mapping : DataFrame
        Old -> new pairs (``old_commune_code``, ``new_commune_code``, optional
        ``old_commune_name``, ``new_commune_name``), e.g. ``geo.admin_units.load_old_to_new()``
        restricted to one province.
    hamlets : DataFrame, optional
        ``former_commune_code``, ``commune_code`` (new) and ``households``.
    parts : DataFrame, optional
        ``old_commune_code``, ``new_commune_code`` and ``area_km2`` or ``area_share``.

    Returns
    -------
    DataFrame
        ``old_commune_code``, ``old_commune_name``, ``new_commune_code``, ``new_commune_name``,
        ``n_targets``, ``weight`` (sums to 1 per old unit), ``basis`` (:data:`BASES`) and
        ``evidence`` (households or km² of the pair; NaN for "whole" and "equal").

    Raises
    ------
    SchemaError
        The mapping, hamlets or parts lack their key columns.
    """
    pairs = _pairs(mapping)
    households = _evidence(
        hamlets,
        ("households",),
        what="hamlets (household weights)",
        old_column="former_commune_code",
        new_column="commune_code",
    )
    areas = _evidence(
        parts,
        ("area_km2", "area_share"),
        what="old unit parts (area weights)",
        old_column="old_commune_code",
        new_column="new_commune_code",
    )
    pairs["n_targets"] = pairs.groupby("old_commune_code")["new_commune_code"].transform("size").astype(int)
    weight = np.ones(len(pairs))
    basis = np.full(len(pairs), "whole", dtype=object)
    evidence = np.full(len(pairs), np.nan)
    for _old, idx in pairs[pairs["n_targets"] > 1].groupby("old_commune_code", sort=False).groups.items():
        rows = np.asarray(pairs.index.get_indexer(idx))
        keys = list(
            zip(pairs["old_commune_code"].iloc[rows], pairs["new_commune_code"].iloc[rows], strict=True)
        )
        for name, table in (("households", households), ("area", areas)):
            vals = np.array([table.get((str(o), str(n)), 0.0) for o, n in keys])
            if bool(np.all(vals > 0)):
                weight[rows] = vals / vals.sum()
                basis[rows] = name
                evidence[rows] = vals
                break
        else:
            weight[rows] = 1.0 / len(rows)
            basis[rows] = "equal"
    pairs["weight"] = weight
    pairs["basis"] = basis
    pairs["evidence"] = evidence
    return pairs


# ---------------------------------------------------------------- allocation


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
