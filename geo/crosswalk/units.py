"""Old communes: name keys, the (old, new) pairs of a mapping, and a table's rows resolved to old codes."""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

import pandas as pd

from geo.crosswalk.columns import find_key_columns
from geo.crosswalk.common import FIRST_DATA_ROW, _row_label, normalise_code
from geo.errors import Problem, SchemaError, UnknownUnitError
from geo.names import PREFIXES, fold_diacritics, normalize_name


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
