"""What communes are grouped by in tables, charts, filters and search: districts, or former units.

Since 1 July 2025 Viet Nam has no districts: communes belong directly to one of 34 provinces. A
data package names its layout (``dataset.toml`` ``layout``, docs/DATA.md "Layouts") and that decides
the group, once, here:

============================  ============================================  =========================
layout                        group columns (coarse to fine)                meaning
============================  ============================================  =========================
``"2009"``, ``"2025-03"``     ``("district_name",)``                        the commune's district
``"2025-07"``                 ``("former_province", "former_district")``    the pre-reform units its
                              (those present with a value; none: the        territory came from:
                              province is the only level)                   history, never a current
                                                                            unit
============================  ============================================  =========================

In the 2025-07 layout ``former_province`` and ``former_district`` may list several units
(``;``-joined) when a commune took territory from several. Sums must count every commune once, so
:func:`assign_groups` puts such a commune in **the one unit that gave it most**:

1. most **households**: its hamlets' own ``former_province`` / ``former_district`` where the hamlet
   layer gives them; else their ``former_commune_code`` (the pre-reform commune each hamlet was
   in), whose province comes from the official old → new mapping
   (:func:`geo.admin_units.load_old_to_new`) and whose district from the package itself (an old
   code listed by a commune that names a single former district lies in that district);
2. where no hamlet tells: most of the commune's **old communes** (``old_commune_codes``), placed
   the same way;
3. otherwise, and on a tie: the **first listed**.

Filters and search, which count nothing, match a commune on *any* unit it lists
(:func:`listed_units`).

Pure functions over frames; the official mapping is read (cached) only when a commune lists
several former provinces and no table is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import pandas as pd

from geo.errors import ParameterError
from geo.names import normalize_name
from geo.schema import LAYOUTS, PRE_REFORM_LAYOUTS

__all__ = [
    "DISTRICT_COLUMNS",
    "FORMER_COLUMNS",
    "FORMER_DETAIL_COLUMNS",
    "HAMLET_FORMER_COLUMNS",
    "NO_GROUP",
    "AssignRule",
    "is_pre_reform",
    "group_columns",
    "level_keys",
    "split_joined",
    "listed_units",
    "old_commune_provinces",
    "former_provinces_of",
    "assign_groups",
]

DISTRICT_COLUMNS: tuple[str, ...] = ("district_name",)
"""The group of a pre-reform package."""

FORMER_COLUMNS: tuple[str, ...] = ("former_province", "former_district")
"""The grouping fields of a 2025-07 package, coarse to fine."""

FORMER_DETAIL_COLUMNS: tuple[str, ...] = ("former_province", "former_district", "old_commune_codes")
"""Commune fields of a 2025-07 package carried into gap and commune tables (``;``-joined as given)."""

HAMLET_FORMER_COLUMNS: tuple[str, ...] = ("former_commune_code", "former_commune_name")
"""Hamlet fields of a 2025-07 package: the pre-reform commune the hamlet was in."""

NO_GROUP = "—"
"""Group value of a commune that names none."""

AssignRule = Literal["single", "households", "old_communes", "first_listed", "none"]
"""How :func:`assign_groups` chose a commune's unit (see the module docstring)."""


def is_pre_reform(layout: str) -> bool:
    """True for a layout with districts (``"2009"``, ``"2025-03"``).

    Raises
    ------
    ParameterError
        If ``layout`` is not one of :data:`geo.schema.LAYOUTS`.
    """
    if layout not in LAYOUTS:
        raise ParameterError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    return layout in PRE_REFORM_LAYOUTS


def _text(series: pd.Series) -> pd.Series:
    """Strings with missing values as "" (an all-NaN float column too)."""
    return series.astype("string").fillna("").str.strip().astype(object)


def _has_values(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool((_text(frame[column]) != "").any())


def group_columns(layout: str, communes: pd.DataFrame) -> tuple[str, ...]:
    """The columns communes are grouped by, coarse to fine (the first is the default breakdown).

    Parameters
    ----------
    layout
        The package's layout (``pkg.meta.layout``).
    communes
        The commune table (only its columns and values are looked at).

    Returns
    -------
    tuple of str
        ``("district_name",)`` before the reform; in ``"2025-07"`` those of
        ``("former_province", "former_district")`` present with at least one value, possibly none
        (then the province is the only level).

    Raises
    ------
    ParameterError
        Unknown layout.
    """
    if is_pre_reform(layout):
        return DISTRICT_COLUMNS
    return tuple(c for c in FORMER_COLUMNS if _has_values(communes, c))


def level_keys(columns: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each level (named by its finest column) with the columns its table is keyed by.

    A former district is keyed together with its former province: both Trà Vinh and Bến Tre had a
    "Huyện Châu Thành". ``("former_province", "former_district")`` gives
    ``{"former_province": ("former_province",), "former_district": ("former_province",
    "former_district")}``.
    """
    return {col: columns[: i + 1] for i, col in enumerate(columns)}


def split_joined(value: object) -> tuple[str, ...]:
    """The units of a ``;``-joined field, stripped, in order, each once (() for empty / missing)."""
    if value is None or (isinstance(value, float) and value != value):
        return ()
    out: list[str] = []
    for part in str(value).split(";"):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return tuple(out)


def listed_units(communes: pd.DataFrame, column: str) -> pd.Series:
    """Every unit each commune lists in ``column`` (tuples, index of ``communes``; () when absent)."""
    if column not in communes.columns:
        return pd.Series([()] * len(communes), index=communes.index, dtype=object)
    return communes[column].map(split_joined)


def _strip_province_type(name: str) -> str:
    for prefix in ("Tỉnh ", "Thành phố "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def old_commune_provinces(codes: Iterable[str] | None = None) -> dict[str, str]:
    """Pre-reform commune code -> its province's name ("Trà Vinh"), from the official mapping.

    Parameters
    ----------
    codes
        Only these codes (default: every old commune).
    """
    from geo.admin_units import load_old_to_new

    table = load_old_to_new()[["old_commune_code", "old_province_name"]].drop_duplicates("old_commune_code")
    if codes is not None:
        table = table[table["old_commune_code"].isin(set(codes))]
    return {str(c): _strip_province_type(str(p)) for c, p in table.itertuples(index=False)}


def former_provinces_of(province_code: str) -> tuple[str, ...]:
    """The pre-reform provinces a 2025-07 province was made of, by name, sorted ("86": Bến Tre, ...).

    From the official old → new mapping; () for a code it does not know.
    """
    from geo.admin_units import load_old_to_new

    table = load_old_to_new()
    names = table.loc[table["new_province_code"] == str(province_code).zfill(2), "old_province_name"]
    return tuple(sorted({_strip_province_type(str(n)) for n in names}))


def _dominant(listed: tuple[str, ...], weights: Mapping[str, float]) -> str:
    """The listed unit with the largest weight; the first listed on a tie."""
    best = max(weights.get(u, 0.0) for u in listed)
    return next(u for u in listed if weights.get(u, 0.0) == best)


def _weights(keys: Iterable[tuple[str, float]], listed: tuple[str, ...], unit_of: Mapping[str, str] | None
             ) -> dict[str, float]:
    """Weight per listed unit of ``(old commune code, weight)`` pairs placed by ``unit_of``.

    ``unit_of`` None: the keys are unit names already.
    """
    by_norm = {normalize_name(u): u for u in listed}
    out: dict[str, float] = {}
    for code, weight in keys:
        unit = by_norm.get(normalize_name(code if unit_of is None else unit_of.get(code, "")))
        if unit is not None:
            out[unit] = out.get(unit, 0.0) + weight
    return out


def _choose(listed: tuple[str, ...], hamlet_units: list[tuple[str, float]],
            hamlet_pairs: list[tuple[str, float]], old_codes: tuple[str, ...],
            unit_of: Mapping[str, str]) -> tuple[str, AssignRule]:
    if not listed:
        return NO_GROUP, "none"
    if len(listed) == 1:
        return listed[0], "single"
    for pairs, placed_by in ((hamlet_units, None), (hamlet_pairs, unit_of)):
        by_households = _weights(pairs, listed, placed_by)
        if sum(by_households.values()) > 0:
            return _dominant(listed, by_households), "households"
    by_old = _weights(((c, 1.0) for c in old_codes), listed, unit_of)
    if by_old:
        return _dominant(listed, by_old), "old_communes"
    return listed[0], "first_listed"


def _hamlet_pairs(hamlets: pd.DataFrame | None, column: str = "former_commune_code"
                  ) -> dict[str, list[tuple[str, float]]]:
    """commune_id -> [(the hamlet's ``column``, households)] of its hamlets."""
    if hamlets is None or not {"commune_id", column} <= set(hamlets.columns):
        return {}
    households = (pd.to_numeric(hamlets["households"], errors="coerce").fillna(0.0)
                  if "households" in hamlets else pd.Series(1.0, index=hamlets.index))
    frame = pd.DataFrame({"commune_id": _text(hamlets["commune_id"]).to_numpy(),
                          "code": _text(hamlets[column]).to_numpy(),
                          "hh": households.astype(float).to_numpy()})
    frame = frame[frame["code"] != ""]
    out: dict[str, list[tuple[str, float]]] = {}
    for commune_id, code, hh in frame.itertuples(index=False):
        out.setdefault(str(commune_id), []).append((str(code), float(hh)))
    return out


def _district_of_old_codes(listed: pd.Series, old_codes: pd.Series) -> dict[str, str]:
    """Old code -> former district, learnt from the communes that name a single former district."""
    out: dict[str, str] = {}
    conflicting: set[str] = set()
    for units, codes in zip(listed, old_codes, strict=True):
        if len(units) != 1:
            continue
        for code in codes:
            if out.get(code, units[0]) != units[0]:
                conflicting.add(code)
            out[code] = units[0]
    return {c: d for c, d in out.items() if c not in conflicting}


def assign_groups(communes: pd.DataFrame, layout: str, *, hamlets: pd.DataFrame | None = None,
                  old_provinces: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The one group each commune counts in, at every level (see the module docstring for the rule).

    Parameters
    ----------
    communes
        ``commune_id`` and the group columns of :func:`group_columns`; in the 2025-07 layout also
        ``old_commune_codes`` when known.
    layout
        The package's layout.
    hamlets
        ``commune_id``, ``households`` and ``former_commune_code`` and / or the hamlet's own
        ``former_province`` / ``former_district`` (the hamlet layer, or the gap table), to weigh
        the units by households; ``None`` = old communes or listed order only.
    old_provinces
        Old commune code -> province name (default :func:`old_commune_provinces`, read only when a
        commune lists several former provinces).

    Returns
    -------
    pandas.DataFrame
        Index of ``communes``: ``commune_id``, one column per group column holding one unit
        (:data:`NO_GROUP` when the commune names none) and ``<column>_rule``
        (:data:`AssignRule`).

    Raises
    ------
    ParameterError
        Unknown layout.
    """
    columns = group_columns(layout, communes)
    out = pd.DataFrame({"commune_id": _text(communes["commune_id"]).to_numpy()}, index=communes.index)
    if is_pre_reform(layout):
        out["district_name"] = _text(communes["district_name"]) if "district_name" in communes else ""
        out["district_name_rule"] = "single"
        return out
    old_codes = listed_units(communes, "old_commune_codes")
    pairs = _hamlet_pairs(hamlets)
    for column in columns:
        listed = listed_units(communes, column)
        if column == "former_province":
            several = listed.map(len) > 1
            needed = {c for codes in old_codes[several] for c in codes}
            needed |= {code for cid in out.loc[several, "commune_id"] for code, _ in pairs.get(cid, [])}
            unit_of: Mapping[str, str] = (
                {} if not needed else (old_provinces if old_provinces is not None
                                       else old_commune_provinces(needed)))
        else:
            unit_of = _district_of_old_codes(listed, old_codes)
        own = _hamlet_pairs(hamlets, column)
        chosen = [_choose(units, own.get(cid, []), pairs.get(cid, []), codes, unit_of)
                  for units, codes, cid in zip(listed, old_codes, out["commune_id"], strict=True)]
        out[column] = [unit for unit, _ in chosen]
        out[f"{column}_rule"] = [rule for _, rule in chosen]
    return out
