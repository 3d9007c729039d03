"""Official commune codes before and after the 1 July 2025 reform (34 provinces, no districts).

The reference tables ship with the package in ``geo/reference/admin_codes/`` (MIT, dvhcvn/20250701;
see the PROVENANCE.md there):

* the 3,321 new communes (xã / phường / đặc khu) with their official 5-digit codes, and
* the old → new mapping: every pre-reform commune (10,047, layout of 2025-03-01) with the new
  commune(s) it went into (10,599 pairs as published; an old commune split between new ones appears
  once per target).

The vendored tables are kept byte-identical to upstream. Upstream errors found against the
resolutions are corrected once, in ``mapping_corrections.csv`` beside them (one row per (old, new)
pair to remove or add, each citing its resolution); :func:`load_old_to_new` and
:func:`load_new_units` apply it, so the two loaders always agree with each other
(:func:`load_mapping_corrections` lists the corrections).

Codes are always zero-padded strings ("86", "29242"). The loaders are the only functions here that
read files; their result is cached and each call returns a fresh copy.

Layouts
-------
``"2025-07"``
    The new communes.
``"2025-03"``
    The pre-reform communes (old side of the mapping).
``"2009"``
    The 2009 census layout. The project ships no separate official list for it: 2009 units are
    identified by the pre-reform (2025-03) GSO codes where they survived, so this layout returns the
    same list as ``"2025-03"``. Units merged or renamed since 2009 are resolved by
    ``geo.derive_communes`` (manual matches with their legal basis).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataNotFoundError, ParameterError, SchemaError
from geo.names import normalize_name
from geo.schema import LAYOUTS  # the one list of layouts (re-exported here)

__all__ = [
    "LAYOUTS",
    "REFERENCE_DIR",
    "CORRECTION_ACTIONS",
    "load_new_units",
    "load_old_to_new",
    "load_mapping_corrections",
    "official_units",
    "normalise_name",
    "nearest_official_name",
]


REFERENCE_DIR: Path = Path(__file__).resolve().parent / "reference" / "admin_codes"
"""Folder of the shipped code tables (package data of ``geo``)."""

NEW_UNITS_FILE = "wards_new_2025-07-01.csv"
MAPPING_FILE = "ward_mapping_old_to_new_2025-07-01.csv"
CORRECTIONS_FILE = "mapping_corrections.csv"

CORRECTION_ACTIONS: tuple[str, ...] = ("remove_pair", "add_pair")
"""What a row of ``mapping_corrections.csv`` does to its (old commune, new commune) pair."""

NAME_CUTOFF = 0.75
"""Minimum :class:`difflib.SequenceMatcher` ratio (on normalised names) for a "did you mean" hit."""

_NEW_COLUMNS = {
    "ma_tinh": "province_code",
    "ten_tinh": "province_name",
    "ma_xa": "commune_code",
    "ten_xa": "commune_name",
    "n_old_units": "n_old_units",
    "old_units": "old_units",
}
_MAPPING_COLUMNS = {
    "old_ma_tinh": "old_province_code",
    "old_ten_tinh": "old_province_name",
    "new_ma_tinh": "new_province_code",
    "old_ma_xa": "old_commune_code",
    "old_ten_xa": "old_commune_name",
    "new_ma_xa": "new_commune_code",
    "new_ten_xa": "new_commune_name",
    "n_targets": "n_targets",
}
_CORRECTION_COLUMNS = {
    c: c
    for c in (
        "old_commune_code",
        "old_commune_name",
        "new_commune_code",
        "new_commune_name",
        "action",
        "reason",
    )
}
_CODE_WIDTH = {
    "province_code": 2,
    "commune_code": 5,
    "old_province_code": 2,
    "old_commune_code": 5,
    "new_commune_code": 5,
}
_UNIT_COLUMNS = ["commune_code", "commune_name", "province_code"]


# ----------------------------------------------------------------------------- loaders (the only I/O)


def _read_reference_csv(name: str, columns: dict[str, str]) -> pd.DataFrame:
    """Read one shipped CSV as text, check and rename its columns, NFC-normalise every cell."""
    path = REFERENCE_DIR / name
    if not path.is_file():
        raise DataNotFoundError(f"{path}: reference table missing; the geo package is incomplete")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"{name}: missing column(s) {', '.join(missing)}")
    frame = frame[list(columns)].rename(columns=columns)
    for column in frame.columns:
        frame[column] = frame[column].map(lambda text: unicodedata.normalize("NFC", text.strip()))
    return frame


def _as_int(frame: pd.DataFrame, column: str, file: str) -> pd.DataFrame:
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any():
        raise SchemaError(f"{file}: column {column} holds non-integer values")
    frame[column] = values.astype("int64")
    return frame


def _check_codes(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    for column, width in _CODE_WIDTH.items():
        if column in frame.columns:
            bad = ~frame[column].str.fullmatch(rf"\d{{{width}}}")
            if bad.any():
                raise SchemaError(
                    f"{file}: {column} must be {width}-digit codes, e.g. {frame[column][bad].iloc[0]!r}"
                )
    return frame


@lru_cache(maxsize=1)
def _new_units_published() -> pd.DataFrame:
    frame = _read_reference_csv(NEW_UNITS_FILE, _NEW_COLUMNS)
    return _check_codes(_as_int(frame, "n_old_units", NEW_UNITS_FILE), NEW_UNITS_FILE)


@lru_cache(maxsize=1)
def _old_to_new_published() -> pd.DataFrame:
    frame = _read_reference_csv(MAPPING_FILE, _MAPPING_COLUMNS)
    return _check_codes(_as_int(frame, "n_targets", MAPPING_FILE), MAPPING_FILE)


@lru_cache(maxsize=1)
def _corrections_cached() -> pd.DataFrame:
    frame = _check_codes(_read_reference_csv(CORRECTIONS_FILE, _CORRECTION_COLUMNS), CORRECTIONS_FILE)
    for row, c in enumerate(frame.itertuples(index=False), start=2):
        if c.action not in CORRECTION_ACTIONS:
            raise SchemaError(
                f"{CORRECTIONS_FILE}: row {row}: action {c.action!r} is not one of "
                f"{', '.join(CORRECTION_ACTIONS)}"
            )
        if not c.reason:
            raise SchemaError(
                f"{CORRECTIONS_FILE}: row {row}: every correction needs a reason (its resolution)"
            )
    twice = frame.duplicated(["old_commune_code", "new_commune_code"], keep=False)
    if twice.any():
        raise SchemaError(
            f"{CORRECTIONS_FILE}: the pair {frame['old_commune_code'][twice].iloc[0]} -> "
            f"{frame['new_commune_code'][twice].iloc[0]} is corrected more than once"
        )
    return frame


@lru_cache(maxsize=1)
def _old_to_new_cached() -> pd.DataFrame:
    return _correct_mapping(_old_to_new_published(), _corrections_cached(), _new_units_published())


@lru_cache(maxsize=1)
def _new_units_cached() -> pd.DataFrame:
    return _correct_new_units(_new_units_published(), _corrections_cached(), _old_to_new_cached())


def load_new_units(*, corrected: bool = True) -> pd.DataFrame:
    """The 3,321 communes of the 1 July 2025 layout, one row per new commune.

    Parameters
    ----------
    corrected : bool, default True
        Apply ``mapping_corrections.csv`` to ``old_units`` and ``n_old_units`` (as
        :func:`load_old_to_new` does to its pairs). ``False`` gives the table as published.

    Returns
    -------
    pandas.DataFrame
        ``province_code`` (2 digits), ``province_name`` (official, with its type: "Tỉnh Vĩnh Long"),
        ``commune_code`` (5 digits), ``commune_name`` (with its type: "Xã Giao Long"),
        ``n_old_units`` (int, pre-reform communes it is made of) and ``old_units`` (upstream text,
        ";"-joined ``code:name:full|partial``; ``partial`` when that old commune feeds several new
        ones). A fresh copy on every call.

    Raises
    ------
    DataNotFoundError, SchemaError
        A shipped table is missing or malformed, or a correction does not fit the tables.
    """
    return (_new_units_cached() if corrected else _new_units_published()).copy()


def load_old_to_new(*, corrected: bool = True) -> pd.DataFrame:
    """The old → new commune mapping, one row per (old commune, new commune) pair.

    10,598 pairs: the 10,599 published, corrected by ``mapping_corrections.csv`` (see
    :func:`load_mapping_corrections`).

    Parameters
    ----------
    corrected : bool, default True
        Apply the corrections (remove / add pairs, recompute ``n_targets``). ``False`` gives the
        mapping as published.

    Returns
    -------
    pandas.DataFrame
        ``old_province_code``, ``old_province_name``, ``new_province_code``, ``old_commune_code``,
        ``old_commune_name``, ``new_commune_code``, ``new_commune_name`` and ``n_targets`` (int, number
        of new communes the old one feeds; 2 means the old commune was split and the split line is not
        published). A fresh copy on every call.

    Raises
    ------
    DataNotFoundError, SchemaError
        A shipped table is missing or malformed, or a correction does not fit the tables.
    """
    return (_old_to_new_cached() if corrected else _old_to_new_published()).copy()


def load_mapping_corrections() -> pd.DataFrame:
    """The project's corrections of the upstream mapping, one row per (old, new) pair corrected.

    Returns
    -------
    pandas.DataFrame
        ``old_commune_code``, ``old_commune_name``, ``new_commune_code``, ``new_commune_name``,
        ``action`` (:data:`CORRECTION_ACTIONS`) and ``reason`` (the resolution it rests on). A fresh
        copy on every call.

    Raises
    ------
    DataNotFoundError, SchemaError
        The file is missing, a column or a reason is missing, an action is unknown, or a pair is
        corrected twice.
    """
    return _corrections_cached().copy()


# ----------------------------------------------------------------------------- corrections


def _check_correction_name(where: str, column: str, given: str, expected: str) -> None:
    if given != expected:
        raise SchemaError(f"{where}: {column} {given!r} does not match the reference name {expected!r}")


def _correct_mapping(
    mapping: pd.DataFrame, corrections: pd.DataFrame, new_units: pd.DataFrame
) -> pd.DataFrame:
    """The mapping with the corrections applied and ``n_targets`` recomputed (pure)."""
    frame = mapping.copy()
    if corrections.empty:
        return frame
    new_info = new_units.set_index("commune_code")
    order = pd.Series(np.arange(len(frame), dtype=float), index=frame.index)
    drop = pd.Series(False, index=frame.index)
    added: list[dict[str, object]] = []
    for row, c in enumerate(corrections.itertuples(index=False), start=2):
        where = f"{CORRECTIONS_FILE}: row {row}"
        of_old = frame["old_commune_code"] == c.old_commune_code
        if not of_old.any():
            raise SchemaError(f"{where}: {c.old_commune_code} is not an old commune of {MAPPING_FILE}")
        if c.new_commune_code not in new_info.index:
            raise SchemaError(f"{where}: {c.new_commune_code} is not a new commune of {NEW_UNITS_FILE}")
        first = frame[of_old].iloc[0]
        _check_correction_name(where, "old_commune_name", c.old_commune_name, first["old_commune_name"])
        new_name = str(new_info.at[c.new_commune_code, "commune_name"])
        _check_correction_name(where, "new_commune_name", c.new_commune_name, new_name)
        pair = of_old & (frame["new_commune_code"] == c.new_commune_code)
        if c.action == "remove_pair":
            if not pair.any():
                raise SchemaError(
                    f"{where}: {MAPPING_FILE} has no pair {c.old_commune_code} -> {c.new_commune_code} to "
                    "remove (corrected upstream? then delete this row)"
                )
            drop |= pair
        else:
            if pair.any():
                raise SchemaError(
                    f"{where}: {MAPPING_FILE} already has the pair "
                    f"{c.old_commune_code} -> {c.new_commune_code}"
                )
            added.append(
                {
                    **first.to_dict(),
                    "new_province_code": str(new_info.at[c.new_commune_code, "province_code"]),
                    "new_commune_code": c.new_commune_code,
                    "new_commune_name": new_name,
                    "_order": float(order[of_old].max()) + 0.5,
                }
            )
    frame["_order"] = order
    frame = frame[~drop]
    if added:
        frame = pd.concat([frame, pd.DataFrame(added, columns=frame.columns)], ignore_index=True)
    orphans = sorted(set(corrections["old_commune_code"]) - set(frame["old_commune_code"]))
    if orphans:
        raise SchemaError(
            f"{CORRECTIONS_FILE}: old commune(s) {', '.join(orphans)} would feed no new commune; "
            "add their right pair (add_pair)"
        )
    frame = frame.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    frame["n_targets"] = (
        frame.groupby("old_commune_code")["new_commune_code"].transform("size").astype("int64")
    )
    return frame


def _old_unit_entries(text: str) -> list[tuple[str, str, str]]:
    """``old_units`` text as (code, name, full|partial) entries."""
    entries = []
    for item in filter(None, text.split(";")):
        code, _, rest = item.partition(":")
        name, _, kind = rest.rpartition(":")
        entries.append((code, name, kind))
    return entries


def _correct_new_units(units: pd.DataFrame, corrections: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    """The new units with the corrections applied to ``old_units`` and ``n_old_units`` (pure).

    ``mapping`` is the corrected mapping: it gives the names of added old communes and whether each
    corrected old commune is now ``full`` (one new commune) or ``partial``.
    """
    frame = units.copy()
    if corrections.empty:
        return frame
    touched = set(corrections["old_commune_code"])
    first = mapping.drop_duplicates("old_commune_code").set_index("old_commune_code")
    changes: dict[str, list[tuple[str, str]]] = {}
    for c in corrections.itertuples(index=False):
        changes.setdefault(c.new_commune_code, []).append((c.action, c.old_commune_code))
    for i, (code, text) in enumerate(zip(frame["commune_code"], frame["old_units"], strict=True)):
        entries = _old_unit_entries(text)
        if code not in changes and not touched.intersection(e[0] for e in entries):
            continue
        for action, old in changes.get(code, []):
            present = [e for e in entries if e[0] == old]
            if (action == "remove_pair") != bool(present):
                raise SchemaError(
                    f"{CORRECTIONS_FILE}: {action} {old} -> {code} does not fit {NEW_UNITS_FILE}, whose "
                    f"old_units of {code} {'lack' if not present else 'already list'} {old}"
                )
            if action == "remove_pair":
                entries = [e for e in entries if e[0] != old]
            else:
                entries.append((old, str(first.at[old, "old_commune_name"]), ""))
        for k, (old, name, _kind) in enumerate(entries):
            if old in touched:  # full when it now feeds one new commune
                entries[k] = (old, name, "full" if int(first.at[old, "n_targets"]) == 1 else "partial")
        frame.iat[i, frame.columns.get_loc("old_units")] = ";".join(":".join(e) for e in entries)
        frame.iat[i, frame.columns.get_loc("n_old_units")] = len(entries)
    return frame


# ----------------------------------------------------------------------------- pure functions


def _province_codes(province_code: str | Iterable[str]) -> tuple[str, ...]:
    raw = (province_code,) if isinstance(province_code, str) else tuple(province_code)
    codes = []
    for code in raw:
        text = str(code).strip()
        if not text.isdigit() or len(text) > 2:
            raise ParameterError(f"province code {code!r} is not a 1- or 2-digit code such as '86'")
        codes.append(text.zfill(2))
    if not codes:
        raise ParameterError("no province code given")
    return tuple(codes)


def official_units(layout: str, province_code: str | tuple[str, ...] | None = None) -> pd.DataFrame:
    """The official communes of a layout, optionally of some provinces only.

    Parameters
    ----------
    layout : {"2009", "2025-03", "2025-07"}
        ``"2025-07"``: the new communes. ``"2025-03"`` and ``"2009"``: the pre-reform communes (the
        distinct old codes of the mapping; see the module notes on ``"2009"``).
    province_code : str or tuple of str, optional
        Keep only these provinces: NEW province codes for ``"2025-07"``, OLD (pre-reform) codes for
        the other layouts (Trà Vinh "84" exists only there). ``None`` keeps all.

    Returns
    -------
    pandas.DataFrame
        ``commune_code``, ``commune_name``, ``province_code``, sorted by commune code, fresh index.

    Raises
    ------
    ParameterError
        Unknown layout (the message names the valid ones), malformed province code, or a province
        code that has no commune in that layout.
    """
    if layout not in LAYOUTS:
        raise ParameterError(f"unknown layout {layout!r}; valid layouts: {', '.join(LAYOUTS)}")
    if layout == "2025-07":
        units = load_new_units()[_UNIT_COLUMNS]
    else:
        mapping = load_old_to_new()
        units = mapping.drop_duplicates("old_commune_code").rename(
            columns={
                "old_commune_code": "commune_code",
                "old_commune_name": "commune_name",
                "old_province_code": "province_code",
            }
        )[_UNIT_COLUMNS]
    if province_code is not None:
        wanted = _province_codes(province_code)
        unknown = sorted(set(wanted) - set(units["province_code"]))
        if unknown:
            side = "new" if layout == "2025-07" else "pre-reform"
            raise ParameterError(
                f"province code(s) {', '.join(unknown)} not in layout {layout} ({side} province codes)"
            )
        units = units[units["province_code"].isin(wanted)]
    return units.sort_values("commune_code", kind="stable").reset_index(drop=True)


def normalise_name(name: str) -> str:
    """Matching key of a Vietnamese unit name (case-, diacritic-, whitespace- and prefix-insensitive).

    Thin wrapper of :func:`geo.names.normalize_name`, the project's one normalisation: drops one
    administrative prefix ("xã", "phường", "thị trấn", "đặc khu", "ấp", "khóm", "thôn", "huyện",
    "thành phố", "thị xã", "tỉnh", "P." ...) and leading zeros of numbers, so "Phường 01" == "phường 1".

    Parameters
    ----------
    name : str
        A name such as "Xã Long Đức".

    Returns
    -------
    str
        Lower-case ASCII words separated by single spaces ("long duc").
    """
    return normalize_name(name)


def nearest_official_name(name: str, units: pd.DataFrame) -> str | None:
    """The official name closest to ``name``, for "did you mean" messages.

    Parameters
    ----------
    name : str
        A name as typed by a user ("Long Duc", "xa long đuc").
    units : pandas.DataFrame
        Official units with a ``commune_name`` column, e.g. from :func:`official_units`.

    Returns
    -------
    str or None
        The official ``commune_name`` (with its type prefix) whose normalised form is equal or most
        similar (``difflib`` ratio >= 0.75) to the normalised ``name``; ``None`` if none is close.

    Raises
    ------
    SchemaError
        ``units`` has no ``commune_name`` column.
    """
    if "commune_name" not in units.columns:
        raise SchemaError("units: missing column commune_name")
    key = normalise_name(name)
    if not key:
        return None
    by_key: dict[str, str] = {}
    for official in units["commune_name"].astype(str):
        by_key.setdefault(normalise_name(official), official)
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=NAME_CUTOFF)
    return by_key[close[0]] if close else None
