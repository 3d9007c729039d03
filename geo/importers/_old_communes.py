"""Rows keyed by pre-reform (2025-03) communes in an import into a 2025-07 package.

Surveys and operator site lists are still keyed by the communes that existed before 1 July 2025.
:class:`OldCommunes` knows, for a package in the ``"2025-07"`` layout, which old communes went into
its communes (the official mapping, :func:`geo.admin_units.load_old_to_new`, through the communes'
``commune_code``), and decides for every row of an upload whether its commune key names one of
the package's communes or an old one:

* Columns named as old keys (``former_commune_code`` "Mã xã cũ", ``former_commune_name``
  "Tên xã cũ") are old; the plain commune columns of such a table name the package's communes.
* Otherwise a code or name fits a commune of the package, an old commune, or both (Thị trấn Tam
  Bình's code 29719 is also the code of the new Xã Tam Bình). A row naming a district (districts no
  longer exist), a type prefix or diacritics that fit only one side decide it; rows that still fit
  both are read like the rest of the table (old when more rows name only old communes than only
  new ones), and a warning says so when no row decides it.

Old names match as the importers match names (case, diacritics, spacing and prefixes ignored);
an old district (``Huyện``) and old province (``Tỉnh``) tell apart old communes of the same name.
The district of an old commune is the ``former_district`` of the package communes it went into.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from geo.crosswalk import normalise_code, split_weights
from geo.errors import Problem
from geo.importers.survey import HEADER_ALIASES, NameIndex, Place, match_key, prefix_kind
from geo.names import PREFIXES, fold_diacritics

__all__ = ["COMMUNE_KEY_ALIASES", "KeyMatch", "KeyRow", "OldCommunes", "OldUnit"]

KeyKind = Literal["new", "old", "unknown", "ambiguous", "none"]

#: Commune key columns of an operator sheet (only read in a 2025-07 package).
COMMUNE_KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "commune_code": ("mã xã", "mã đvhc", "mã xã/phường", "commune code", "commune id", "ma xa"),
    "commune_name": (
        "xã",
        "tên xã",
        "xã/phường",
        "phường/xã",
        "xã/phường/thị trấn",
        "xã phường thị trấn",
        "commune",
        "commune name",
        "ward",
    ),
    # the district, province and former-commune headers are the survey importer's, not a copy
    **{
        k: HEADER_ALIASES[k]
        for k in ("district_name", "province_name", "former_commune_code", "former_commune_name")
    },
}

_KIND_RE = re.compile(r"^(" + "|".join(re.escape(p) for p in PREFIXES) + r")(?:\.\s*|\s+)")

_HINT_COLUMNS = (
    "name the column of old codes 'Mã xã cũ' (former_commune_code) or of old names 'Tên xã cũ' "
    "(former_commune_name), or add the old district (Huyện)"
)


@dataclass(frozen=True)
class OldUnit:
    """A pre-reform commune that went (wholly or in part) into communes of the package.

    Attributes
    ----------
    code, name : str
        Its 2025-03 GSO code and official name ("29719", "Thị trấn Tam Bình").
    province : str
        Its old province ("Tỉnh Vĩnh Long").
    districts : frozenset of str
        :func:`match_key` of its possible old districts (from the package's ``former_district``).
    targets : tuple of (str, str)
        (code, name) of every new commune it went into, in or outside the package.
    commune_ids : tuple of str
        The package's ``commune_id`` of the targets that are in the package.
    """

    code: str
    name: str
    province: str
    districts: frozenset[str]
    targets: tuple[tuple[str, str], ...]
    commune_ids: tuple[str, ...]

    @property
    def split(self) -> bool:
        """True when the old commune was divided between several new ones."""
        return len(self.targets) > 1

    def describe(self) -> str:
        """ "Thị trấn Tam Bình (29719)"."""
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class KeyRow:
    """The commune key cells of one row (empty strings when absent)."""

    code: str = ""
    name: str = ""
    district: str = ""
    province: str = ""
    former_code: str = ""
    former_name: str = ""


@dataclass(frozen=True)
class KeyMatch:
    """What a row's commune key names.

    Attributes
    ----------
    kind : {"new", "old", "unknown", "ambiguous", "none"}
        A commune of the package, an old commune, nothing known, several places, or no key given.
    commune_id : str
        The package commune (kind "new").
    old : OldUnit or None
        The old commune (kind "old"; also kind "new" when the row names both).
    message, suggestions, hint
        For "unknown" / "ambiguous": what did not fit, the nearest names (or the candidates) and
        what to do.
    olds : tuple of OldUnit
        Several old communes named in one row (";"-joined, as carried rows keep them).
    by_table : bool
        The key fits an old commune and a commune of the package; read like the rest of the table.
    note : str
        A warning about the row (an old commune that did not go into the new one named beside it).
    """

    kind: KeyKind
    commune_id: str = ""
    old: OldUnit | None = None
    message: str = ""
    suggestions: tuple[str, ...] = ()
    hint: str = ""
    olds: tuple[OldUnit, ...] = ()
    by_table: bool = False
    note: str = ""

    @property
    def former(self) -> tuple[OldUnit, ...]:
        """The old communes the row names (kept in ``former_commune_code`` / ``former_commune_name``)."""
        return self.olds or ((self.old,) if self.old is not None else ())


@dataclass(frozen=True)
class _Both:
    """A key that fits both sides; the table decides."""

    new: KeyMatch
    old: KeyMatch


def _exact_key(name: str) -> str:
    """Name without prefix, case and spacing, keeping diacritics ("Xã Bình Thạnh" -> "bìnhthạnh")."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", name).lower()).strip()
    folded = fold_diacritics(text)
    m = _KIND_RE.match(folded)
    if m and len(folded) == len(text):  # Vietnamese letters fold one to one
        text = text[m.end() :]
    return text.replace(" ", "")


def _split_names(text: object) -> list[str]:
    return [p.strip() for p in str(text or "").split(";") if p.strip()]


def _rows_text(rows: Sequence[int], n: int = 8) -> str:
    """ "row 3" or "rows 3, 5" (at most ``n`` numbers shown)."""
    text = ", ".join(str(r) for r in rows[:n])
    return (
        ("row " if len(rows) == 1 else "rows ")
        + text
        + (f" and {len(rows) - n} more" if len(rows) > n else "")
    )


class OldCommunes:
    """The old communes of a 2025-07 package and how to read rows keyed by them.

    Parameters
    ----------
    communes : DataFrame
        The package's communes (``commune_id``, ``commune_code``, ``commune_name``, optional
        ``former_district``; a GeoDataFrame lets :meth:`locate` place points).
    hamlets : DataFrame, optional
        The package's hamlets (``hamlet_id``, ``hamlet_name``, ``commune_id`` or ``commune_code``,
        optional ``former_commune_code`` and ``households``).
    parts : DataFrame, optional
        ``boundaries/old_unit_parts.csv`` (area weights of split old communes).
    mapping : DataFrame, optional
        Old -> new pairs; default :func:`geo.admin_units.load_old_to_new`.
    """

    def __init__(
        self,
        communes: pd.DataFrame,
        hamlets: pd.DataFrame | None = None,
        parts: pd.DataFrame | None = None,
        mapping: pd.DataFrame | None = None,
    ) -> None:
        if mapping is None:
            from geo.admin_units import load_old_to_new

            mapping = load_old_to_new()
        self.communes = communes
        text = pd.DataFrame(communes)
        blank = pd.Series("", index=text.index)
        ids = text.get("commune_id", blank).fillna("").astype(str).tolist()
        names = text.get("commune_name", blank).fillna("").astype(str).tolist()
        codes = [normalise_code(c) for c in text.get("commune_code", blank)]
        self.name_of = dict(zip(ids, names, strict=True))
        self.code_of = {i: c for i, c in zip(ids, codes, strict=True) if c}
        self.id_of_code = {c: i for i, c in zip(ids, codes, strict=True) if c}
        former = text.get("former_district", blank).fillna("").astype(str)
        districts = {
            i: frozenset(match_key(d) for d in _split_names(f)) for i, f in zip(ids, former, strict=True)
        }
        self.new_index = NameIndex([Place(i, n, i, "") for i, n in zip(ids, names, strict=True)])

        full = pd.DataFrame(
            {
                "old_commune_code": mapping["old_commune_code"].map(normalise_code),
                "old_commune_name": mapping["old_commune_name"].astype(str),
                "old_province_name": mapping.get("old_province_name", pd.Series("", index=mapping.index))
                .fillna("")
                .astype(str),
                "new_commune_code": mapping["new_commune_code"].map(normalise_code),
                "new_commune_name": mapping["new_commune_name"].astype(str),
            }
        )
        fed = set(full.loc[full["new_commune_code"].isin(self.id_of_code), "old_commune_code"])
        self.pairs = full[full["old_commune_code"].isin(fed)].reset_index(drop=True)
        self.units: dict[str, OldUnit] = {}
        for code, group in self.pairs.groupby("old_commune_code", sort=True):
            targets = tuple(
                (str(c), str(n))
                for c, n in zip(group["new_commune_code"], group["new_commune_name"], strict=True)
            )
            cids = tuple(self.id_of_code[c] for c, _ in targets if c in self.id_of_code)
            sets = [districts.get(c, frozenset()) for c in cids]
            known = [s for s in sets if s]
            # the old commune's district is in the former_district of every commune it went into
            common = frozenset.intersection(*known) if known else frozenset()
            if not common and known:
                common = frozenset().union(*known)
            self.units[str(code)] = OldUnit(
                code=str(code),
                name=str(group["old_commune_name"].iloc[0]),
                province=str(group["old_province_name"].iloc[0]),
                districts=common,
                targets=targets,
                commune_ids=cids,
            )
        self._full = full
        self.by_key: dict[str, list[str]] = defaultdict(list)
        for unit in self.units.values():
            self.by_key[match_key(unit.name)].append(unit.code)
        self.hamlets = self._hamlets(hamlets)
        self.weights = split_weights(self.pairs, hamlets=self._household_evidence(), parts=parts)

    # ------------------------------------------------------------------ package data

    def _hamlets(self, hamlets: pd.DataFrame | None) -> pd.DataFrame:
        cols = ["hamlet_id", "hamlet_name", "commune_id", "former_commune_code", "households"]
        if hamlets is None or hamlets.empty or "hamlet_id" not in hamlets.columns:
            return pd.DataFrame(columns=cols)
        frame = pd.DataFrame(hamlets)

        def text(column: str) -> pd.Series:
            if column not in frame.columns:
                return pd.Series("", index=frame.index)
            return frame[column].map(
                lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            )

        cid = text("commune_id")
        if "commune_id" not in frame.columns:
            cid = text("commune_code").map(lambda c: self.id_of_code.get(normalise_code(c), ""))
        return pd.DataFrame(
            {
                "hamlet_id": text("hamlet_id"),
                "hamlet_name": text("hamlet_name"),
                "commune_id": cid,
                "former_commune_code": text("former_commune_code").map(normalise_code),
                "households": pd.to_numeric(frame.get("households"), errors="coerce")
                if "households" in frame.columns
                else np.nan,
            }
        ).reset_index(drop=True)

    def _household_evidence(self) -> pd.DataFrame | None:
        ham = self.hamlets
        if ham.empty or not (ham["former_commune_code"] != "").any():
            return None
        return pd.DataFrame(
            {
                "former_commune_code": ham["former_commune_code"],
                "commune_code": ham["commune_id"].map(lambda c: self.code_of.get(c, "")),
                "households": ham["households"],
            }
        )

    def describe_new(self, commune_id: str) -> str:
        """ "Phường Long Đức (29263)" (the id when the commune has no code)."""
        code = self.code_of.get(commune_id, "")
        return f"{self.name_of.get(commune_id, commune_id)} ({code or 'id ' + commune_id})"

    def old_codes_of(self, commune_id: str) -> list[str]:
        """Old communes (codes) that went into a package commune, sorted."""
        code = self.code_of.get(commune_id, "")
        return sorted(set(self.pairs.loc[self.pairs["new_commune_code"] == code, "old_commune_code"]))

    def hamlet_pool(self, unit: OldUnit) -> pd.DataFrame:
        """Hamlets an old commune may hold in the package.

        Those whose ``former_commune_code`` is the old commune, and those of the package communes
        it went into that carry no former commune.
        """
        ham = self.hamlets
        own = ham["former_commune_code"] == unit.code
        unknown = (ham["former_commune_code"] == "") & ham["commune_id"].isin(unit.commune_ids)
        return ham[own | unknown]

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> list[str]:
        """``commune_id`` of the package commune containing each point ("" outside all of them)."""
        import geopandas as gpd
        import shapely

        if not isinstance(self.communes, gpd.GeoDataFrame) or len(lon) == 0:
            return [""] * len(lon)
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        geoms = np.asarray(self.communes.geometry.values, dtype=object)
        tree = shapely.STRtree(geoms)
        hit_point, hit_commune = tree.query(points, predicate="intersects")
        ids = self.communes["commune_id"].astype(str).to_numpy()
        out = [""] * len(lon)
        for p, c in sorted(zip(hit_point.tolist(), hit_commune.tolist(), strict=True)):
            if not out[p]:
                out[p] = str(ids[c])
        return out

    # ------------------------------------------------------------------ matching one key

    def _suggest(self, name: str) -> tuple[str, ...]:
        key = match_key(name)
        if not key:
            return ()
        out: list[tuple[float, str]] = []
        for k in difflib.get_close_matches(key, list(self.by_key), n=3, cutoff=0.6):
            for code in self.by_key[k][:2]:
                u = self.units[code]
                now = ", ".join(n for _c, n in u.targets)
                out.append(
                    (
                        difflib.SequenceMatcher(None, key, k).ratio(),
                        f"{u.name} (old commune {code}, now {now})",
                    )
                )
        keys = {match_key(p.name): p for p in self.new_index.places}
        for k in difflib.get_close_matches(key, list(keys), n=3, cutoff=0.6):
            p = keys[k]
            out.append(
                (
                    difflib.SequenceMatcher(None, key, k).ratio(),
                    f"{p.name} ({self.code_of.get(p.place_id) or 'id ' + p.place_id}, a commune of this "
                    "package)",
                )
            )
        out.sort(key=lambda t: -t[0])
        return tuple(dict.fromkeys(s for _r, s in out))[:3]

    def _new_by_code(self, code: str) -> str:
        if code in self.name_of:
            return code
        return self.id_of_code.get(normalise_code(code), "")

    def _new_by_name(self, name: str) -> KeyMatch:
        m = self.new_index.match(name)
        if m.status == "matched":
            return KeyMatch("new", commune_id=m.places[0].place_id)
        if m.status == "ambiguous":
            return KeyMatch(
                "ambiguous",
                message=f"fits {len(m.places)} communes of this package",
                suggestions=tuple(f"{p.name} (id {p.place_id})" for p in m.places),
            )
        return KeyMatch("unknown")

    def _old_by_name(self, name: str, district: str, province: str) -> KeyMatch:
        found = [self.units[c] for c in self.by_key.get(match_key(name), [])]
        if len(found) > 1 and province:
            found = [u for u in found if match_key(u.province) == match_key(province)] or found
        if len(found) > 1 and district:
            found = [u for u in found if match_key(district) in u.districts] or found
        kind = prefix_kind(name)
        if len(found) > 1 and kind:
            found = [u for u in found if prefix_kind(u.name) == kind] or found
        if len(found) > 1:
            found = [u for u in found if _exact_key(u.name) == _exact_key(name)] or found
        if len(found) == 1:
            return KeyMatch("old", old=found[0])
        if found:
            return KeyMatch(
                "ambiguous",
                message=f"fits {len(found)} old (2025-03) communes",
                suggestions=tuple(
                    f"{u.name} (old commune {u.code}, {u.province}, now "
                    f"{', '.join(n for _c, n in u.targets)})"
                    for u in found
                ),
            )
        return KeyMatch("unknown")

    def _old_by_code(self, code: str) -> KeyMatch:
        unit = self.units.get(normalise_code(code))
        return KeyMatch("old", old=unit) if unit else KeyMatch("unknown")

    def _elsewhere_hint(self, code: str) -> str:
        rows = self._full[self._full["old_commune_code"] == normalise_code(code)]
        if rows.empty:
            return ""
        went = ", ".join(
            f"{n} ({c})" for c, n in zip(rows["new_commune_code"], rows["new_commune_name"], strict=True)
        )
        name = rows["old_commune_name"].iloc[0]
        return f"old commune {name} ({normalise_code(code)}) went into {went}, not a commune of this package"

    def _unknown(self, what: str, name: str, code: str = "") -> KeyMatch:
        hint = self._elsewhere_hint(code) if code else ""
        if not self.units:
            hint = hint or (
                "the package's communes carry no official commune_code (2025-07), so no old commune can "
                "be placed in them"
            )
        return KeyMatch(
            "unknown",
            message=f"{what} is neither a commune of this package nor an old (2025-03) commune that went "
            "into one",
            suggestions=self._suggest(name),
            hint=hint,
        )

    def hint_text(self, km: KeyMatch, default: str = "no similar name") -> str:
        """The hint of an unknown or ambiguous key: what to do, then "did you mean: ..."."""
        parts = [km.hint] if km.hint else []
        if km.suggestions:
            parts.append(
                ("did you mean: " if km.kind == "unknown" else "candidates: ") + "; ".join(km.suggestions)
            )
        return "; ".join(parts) or default

    def _name_fits(self, name: str, official: str) -> bool:
        if match_key(name) != match_key(official):
            return False
        kind = prefix_kind(name)
        return not kind or prefix_kind(official) == kind

    def _one_former(self, code: str, name: str, district: str, province: str) -> KeyMatch:
        """The old commune of one old code and/or name (code first)."""
        old = self._old_by_code(code) if code else KeyMatch("unknown")
        if old.kind == "unknown" and name:
            old = self._old_by_name(name, district, province)
        if old.kind == "unknown":
            what = " / ".join(f"'{v}'" for v in (code, name) if v)
            return self._unknown(f"old commune {what}", name, code)
        if old.kind == "ambiguous":
            return KeyMatch(
                "ambiguous",
                message=f"old commune '{name}' {old.message}",
                suggestions=old.suggestions,
                hint="give the old code (Mã xã cũ) or the old district (Huyện)",
            )
        return old

    def _former(self, row: KeyRow) -> KeyMatch | None:
        """The old commune(s) of the old-key columns; several when ";"-joined (None when empty)."""
        codes, names = _split_names(row.former_code), _split_names(row.former_name)
        if not codes and not names:
            return None
        if len(codes) <= 1 and len(names) <= 1:
            return self._one_former(row.former_code, row.former_name, row.district, row.province)
        pieces = [(c, names[k] if len(names) == len(codes) else "") for k, c in enumerate(codes)] or [
            ("", n) for n in names
        ]
        units: list[OldUnit] = []
        for code, name in pieces:
            one = self._one_former(code, name, row.district, row.province)
            if one.old is None:
                return one
            units.append(one.old)
        return KeyMatch("old", olds=tuple(units))

    def _explicit(self, row: KeyRow) -> KeyMatch:
        old = self._former(row)
        if old is not None and old.kind != "old":
            return old
        if not (row.code or row.name):
            if old is not None and old.old is None:
                return KeyMatch(
                    "unknown",
                    message=f"the row names several old communes ('{row.former_code or row.former_name}') "
                    "and no commune of this package",
                    hint="give the new commune of such a row (commune_id), or one old commune per row to "
                    "have it carried",
                )
            return old or KeyMatch("none")
        cid = self._new_by_code(row.code) if row.code else ""
        new = (
            KeyMatch("new", commune_id=cid)
            if cid
            else self._new_by_name(row.name)
            if row.name
            else KeyMatch("unknown")
        )
        if new.kind != "new":
            what = " / ".join(f"'{v}'" for v in (row.code, row.name) if v)
            if new.kind == "ambiguous":
                return KeyMatch(
                    "ambiguous", message=f"commune {what} {new.message}", suggestions=new.suggestions
                )
            return KeyMatch(
                "unknown",
                message=f"commune {what} is not a commune of this package",
                suggestions=self._suggest(row.name),
            )
        if old is None:
            return new
        off = [u for u in old.former if new.commune_id not in u.commune_ids]
        note = "; ".join(
            f"old commune {u.describe()} went into "
            + ", ".join(f"{n} ({c})" for c, n in u.targets)
            + f", not into {self.describe_new(new.commune_id)} named beside it"
            for u in off
        )
        return KeyMatch("new", commune_id=new.commune_id, old=old.old, olds=old.olds, note=note)

    def _implicit(self, row: KeyRow) -> KeyMatch | _Both:
        if not (row.code or row.name):
            return KeyMatch("none")
        if row.code:
            return self._implicit_code(row)
        return self._implicit_name(row)

    def _implicit_code(self, row: KeyRow) -> KeyMatch | _Both:
        cid = self._new_by_code(row.code)
        new = KeyMatch("new", commune_id=cid) if cid else KeyMatch("unknown")
        old = self._old_by_code(row.code)
        if new.kind == "new" and old.old is not None:
            if row.name:  # a name fitting one side only decides
                fits_new = self._name_fits(row.name, self.name_of.get(cid, ""))
                fits_old = self._name_fits(row.name, old.old.name)
                if fits_new != fits_old:
                    return new if fits_new else old
            return old if row.district else _Both(new, old)
        if new.kind == "new" or old.kind == "old":
            return new if new.kind == "new" else old
        if row.name:
            found = self._implicit_name(KeyRow(name=row.name, district=row.district, province=row.province))
            if not (isinstance(found, KeyMatch) and found.kind == "unknown"):
                return found
        return self._unknown(f"commune code '{row.code}'", row.name, row.code)

    def _implicit_name(self, row: KeyRow) -> KeyMatch | _Both:
        new = self._new_by_name(row.name)
        old = self._old_by_name(row.name, row.district, row.province)
        if old.kind == "ambiguous":
            old = self._ambiguous_old(row, old)
        if old.kind != "unknown" and (row.district or new.kind == "unknown"):
            return old  # districts no longer exist: a row naming one is keyed by old communes
        if old.kind == "unknown":
            return new if new.kind != "unknown" else self._unknown(f"commune '{row.name}'", row.name)
        if new.kind == "new" and old.old is not None:  # a prefix or diacritics fitting one side decide
            new_name = self.name_of.get(new.commune_id, "")
            kind = prefix_kind(row.name)
            if kind and (prefix_kind(new_name) == kind) != (prefix_kind(old.old.name) == kind):
                return new if prefix_kind(new_name) == kind else old
            exact = _exact_key(row.name)
            if (_exact_key(new_name) == exact) != (_exact_key(old.old.name) == exact):
                return new if _exact_key(new_name) == exact else old
        return _Both(new, old)

    def _ambiguous_old(self, row: KeyRow, old: KeyMatch) -> KeyMatch:
        return KeyMatch(
            "ambiguous",
            message=f"'{row.name}' {old.message}",
            suggestions=old.suggestions,
            hint="give the old code (Mã xã cũ) or the old district (Huyện)",
        )

    # ------------------------------------------------------------------ matching a table

    def resolve(
        self,
        rows: Sequence[KeyRow],
        *,
        explicit: bool,
        source: str,
        row_numbers: Sequence[int] | None = None,
    ) -> tuple[list[KeyMatch], list[Problem], list[str]]:
        """Decide what every row's commune key names.

        Parameters
        ----------
        rows : sequence of KeyRow
            The key cells of each row.
        explicit : bool
            The table has old-key columns (``former_commune_code`` / ``former_commune_name``):
            its plain commune columns then name communes of the package.
        source : str
            File name for messages.
        row_numbers : sequence of int, optional
            Spreadsheet row number of each row (default: 2, 3, ...; the header is row 1).

        Returns
        -------
        (list of KeyMatch, list of Problem, list of str)
            One match per row; table-level warnings; report lines.
        """
        raw = [self._explicit(r) if explicit else self._implicit(r) for r in rows]
        number = list(row_numbers) if row_numbers is not None else [i + 2 for i in range(len(rows))]
        n_old = sum(1 for m in raw if isinstance(m, KeyMatch) and m.kind == "old")
        n_new = sum(1 for m in raw if isinstance(m, KeyMatch) and m.kind == "new")
        both = [i for i, m in enumerate(raw) if isinstance(m, _Both)]
        side = "old" if n_old > n_new else "new"
        out: list[KeyMatch] = []
        for m in raw:
            if isinstance(m, _Both):
                chosen = m.old if side == "old" else m.new
                out.append(replace(chosen, by_table=True))
            else:
                out.append(m)
        problems: list[Problem] = []
        report: list[str] = []
        numbers = [number[i] for i in both]
        read_as = "old (2025-03) communes" if side == "old" else "communes of this package"
        if both and n_old == 0 and n_new == 0:
            problems.append(
                Problem(
                    "warning",
                    source,
                    _rows_text(numbers),
                    f"{len(both)} row(s) name a commune that is both a commune of this package and an old "
                    f"(2025-03) commune (codes are reused); read as {read_as}",
                    "if the table is keyed by old communes, " + _HINT_COLUMNS,
                )
            )
        elif n_old and n_new:
            first_old = next(i for i, m in enumerate(raw) if isinstance(m, KeyMatch) and m.kind == "old")
            first_new = next(i for i, m in enumerate(raw) if isinstance(m, KeyMatch) and m.kind == "new")
            problems.append(
                Problem(
                    "warning",
                    source,
                    "",
                    f"the table mixes old (2025-03) communes ({n_old} row(s), e.g. row "
                    f"{number[first_old]}) and communes of this package ({n_new} row(s), e.g. row "
                    f"{number[first_new]})"
                    + (f"; {len(both)} row(s) fitting both are read as {read_as}" if both else ""),
                    "check the rows; " + _HINT_COLUMNS,
                )
            )
        elif both:
            report.append(
                f"{len(both)} row(s) ({_rows_text(numbers)}) fit both an old commune and a commune "
                f"of this package: read as {read_as}, like the table's other {max(n_old, n_new)} row(s)"
            )
        return out, problems, report
