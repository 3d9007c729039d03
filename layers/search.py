"""Commune search: by a commune's own name, and in the 2025-07 layout by any former unit it came from.

A planner who knows the old map types "Trà Cú" and expects the communes that took the former
district's territory, or the name of a former commune and expects the new commune it went into.
:func:`search_communes` matches, tolerant of case, diacritics, spacing and administrative prefixes
(:func:`geo.names.normalize_name`; "huyen tra cu", "TT Trà Cú" and "Trà Cú" are the same query):

==========================  =======================================================================
what matches                where it comes from
==========================  =======================================================================
the commune's name          ``commune_name``
its district                ``district_name`` (before the reform only)
a former province/district  ``former_province`` / ``former_district`` (any unit listed, ``;``-joined)
a former commune            ``old_commune_codes`` named by the official old → new mapping
                            (:func:`geo.admin_units.load_old_to_new`), and the hamlets'
                            ``former_commune_name`` (or ``former_commune_code``)
==========================  =======================================================================

Each hit says why it matched (:class:`MatchReason`, worded by :func:`reason_text`); former units
are always worded as former ("formerly part of Huyện Trà Cú"), never as a current unit. Texts are
plain: a caller that puts them into HTML escapes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from analysis.grouping import is_pre_reform, listed_units, split_joined
from geo.names import normalize_name
from layers.i18n import Lang, t

__all__ = [
    "ReasonKind",
    "MatchReason",
    "SearchHit",
    "old_commune_names",
    "search_communes",
    "reason_text",
    "hit_label",
]

ReasonKind = Literal["name", "district", "former_province", "former_district", "former_commune",
                     "former_hamlet_commune"]
"""Why a commune matched: its name, its (pre-reform) district, a former unit it came from."""

_RANK_EXACT, _RANK_WORD, _RANK_PART = 0, 1, 2


@dataclass(frozen=True)
class MatchReason:
    """One reason a commune matched a query.

    Parameters
    ----------
    kind
        What matched (:data:`ReasonKind`).
    value
        The matched name as the data gives it ("Huyện Trà Cú", "Thị trấn Trà Cú").
    rank
        0 the whole name equals the query, 1 the query starts a word of it, 2 it is inside a word.
    """

    kind: ReasonKind
    value: str
    rank: int


@dataclass(frozen=True)
class SearchHit:
    """A commune that matched, with every reason, best first.

    Parameters
    ----------
    commune_id, commune_name
        The commune ("" when the table has no such column).
    position
        Its row position in the searched table.
    reasons
        Every reason, a match on its own name first, then by rank.
    """

    commune_id: str
    commune_name: str
    position: int
    reasons: tuple[MatchReason, ...]

    @property
    def rank(self) -> int:
        """The best rank of its reasons (0 best)."""
        return min(r.rank for r in self.reasons)


def old_commune_names(codes: Iterable[str] | None = None) -> dict[str, str]:
    """Pre-reform commune code -> its official name ("29461" -> "Thị trấn Trà Cú").

    From :func:`geo.admin_units.load_old_to_new` (cached there); only ``codes`` when given.
    """
    from geo.admin_units import load_old_to_new

    table = load_old_to_new()[["old_commune_code", "old_commune_name"]].drop_duplicates("old_commune_code")
    if codes is not None:
        table = table[table["old_commune_code"].isin(set(codes))]
    return {str(c): str(n) for c, n in table.itertuples(index=False)}


def _rank(key: str, name: str, *, drop_prefix: bool = True) -> int | None:
    """How well ``key`` (normalised query) matches ``name`` (None: not at all)."""
    folded = normalize_name(name, drop_prefix=drop_prefix)
    if not folded or key not in folded:
        return None
    if folded == key:
        return _RANK_EXACT
    return _RANK_WORD if folded.startswith(key) or f" {key}" in folded else _RANK_PART


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def _hamlet_former_names(
    hamlets: pd.DataFrame | None, names: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """commune_id -> names of the former communes its hamlets were in."""
    if hamlets is None or "commune_id" not in hamlets:
        return {}
    out: dict[str, list[str]] = {}
    name_col = hamlets["former_commune_name"] if "former_commune_name" in hamlets else None
    code_col = hamlets["former_commune_code"] if "former_commune_code" in hamlets else None
    for i, commune_id in enumerate(hamlets["commune_id"]):
        name = _text(name_col.iloc[i]) if name_col is not None else ""
        if not name and code_col is not None:
            name = names.get(_text(code_col.iloc[i]), "")
        if name and name not in out.setdefault(_text(commune_id), []):
            out[_text(commune_id)].append(name)
    return {k: tuple(v) for k, v in out.items()}


def _old_names_for(communes: pd.DataFrame, hamlets: pd.DataFrame | None) -> dict[str, str]:
    """Official names of the old codes the communes and hamlets refer to."""
    codes = {c for v in communes.get("old_commune_codes", pd.Series(dtype=object)) for c in split_joined(v)}
    if hamlets is not None and "former_commune_code" in hamlets:
        codes |= {_text(c) for c in hamlets["former_commune_code"] if _text(c)}
    return old_commune_names(codes) if codes else {}


def _candidates(row: pd.Series, layout: str, old_names: Mapping[str, str],
                hamlet_names: Mapping[str, tuple[str, ...]]) -> list[tuple[ReasonKind, str]]:
    """Every (kind, name) a commune can be found by."""
    found: list[tuple[ReasonKind, str]] = [("name", _text(row.get("commune_name")))]
    if is_pre_reform(layout):
        found.append(("district", _text(row.get("district_name"))))
        return found
    found += [("former_district", u) for u in row["_former_district"]]
    found += [("former_province", u) for u in row["_former_province"]]
    old = [old_names[c] for c in split_joined(row.get("old_commune_codes")) if c in old_names]
    found += [("former_commune", n) for n in old]
    found += [("former_hamlet_commune", n) for n in hamlet_names.get(_text(row.get("commune_id")), ())
              if n not in old]
    return found


def search_communes(communes: pd.DataFrame, query: str, *, layout: str = "2009",
                    hamlets: pd.DataFrame | None = None,
                    old_names: Mapping[str, str] | None = None) -> list[SearchHit]:
    """Communes matching ``query``, best first, each with why it matched.

    Parameters
    ----------
    communes
        ``commune_id``, ``commune_name`` and, before the reform, ``district_name``; in the 2025-07
        layout ``former_province``, ``former_district``, ``old_commune_codes`` when known.
    query
        What the user typed; "" finds nothing.
    layout
        The package's layout (before the reform a district matches; after it the former units).
    hamlets
        ``commune_id`` and ``former_commune_name`` / ``former_commune_code`` (2025-07).
    old_names
        Old commune code -> name (default :func:`old_commune_names` of the codes the communes list).

    Returns
    -------
    list of SearchHit
        Sorted by best rank (whole name, then start of a word, then inside a word), then a match on
        the commune's own name first, then the communes' order.
    """
    key = normalize_name(query)
    if not key or communes.empty:
        return []
    # "Thành phố Trà Vinh" means the city, not every commune of Trà Vinh province: a query with a
    # prefix matches names that carry it where any does, else it matches without prefixes.
    full_key = normalize_name(query, drop_prefix=False)
    frame = communes.copy()
    names: Mapping[str, str] = {}
    hamlet_names: Mapping[str, tuple[str, ...]] = {}
    if not is_pre_reform(layout):
        frame["_former_district"] = listed_units(frame, "former_district")
        frame["_former_province"] = listed_units(frame, "former_province")
        names = old_names if old_names is not None else _old_names_for(frame, hamlets)
        hamlet_names = _hamlet_former_names(hamlets, names)
    candidates = [_candidates(row, layout, names, hamlet_names) for _, row in frame.iterrows()]
    strict = full_key != key and any(
        _rank(full_key, name, drop_prefix=False) is not None
        for found in candidates for _, name in found if name
    )
    hits: list[tuple[int, int, int, SearchHit]] = []
    for order, ((_, row), found) in enumerate(zip(frame.iterrows(), candidates, strict=True)):
        reasons = []
        for kind, name in found:
            if not name:
                continue
            rank = _rank(full_key, name, drop_prefix=False) if strict else _rank(key, name)
            if rank is not None:
                reasons.append(MatchReason(kind, name, rank))
        if reasons:
            reasons.sort(key=lambda r: (r.kind != "name", r.rank))
            hit = SearchHit(_text(row.get("commune_id")), _text(row.get("commune_name")), order,
                            tuple(reasons))
            hits.append((hit.rank, int(reasons[0].kind != "name"), order, hit))
    return [h for *_, h in sorted(hits, key=lambda x: x[:3])]


def reason_text(reason: MatchReason, lang: Lang = "vi") -> str:
    """Why a commune matched, in ``lang`` ("formerly part of Huyện Trà Cú"; "" for its own name)."""
    if reason.kind == "name":
        return ""
    return t(f"search.{reason.kind}", lang, name=reason.value)


def hit_label(hit: SearchHit, lang: Lang = "vi") -> str:
    """``Xã Trà Cú — formerly part of Huyện Trà Cú; took in former Thị trấn Trà Cú`` (plain text)."""
    why = [reason_text(r, lang) for r in hit.reasons]
    why = [w for w in dict.fromkeys(why) if w]
    return hit.commune_name + (f" — {'; '.join(why)}" if why else "")
