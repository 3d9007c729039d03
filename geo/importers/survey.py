"""Survey spreadsheets (CSV / XLSX) keyed by code or by name -> ``survey/hamlet_survey.csv``.

Rows are matched to the package's hamlets and communes:

* by ``hamlet_id`` (Mã ấp) or ``commune_id`` / GSO ``commune_code`` (Mã xã) when given;
* otherwise by name, ignoring case, diacritics, spacing and administrative prefixes
  (xã, phường, thị trấn, ấp, khóm, thôn, buôn, "P.", "TT"): "Xã Long Đức" = "LONG DUC" =
  "xa long duc", "Phường 1" = "P.1" = "Phuong 01", "Thị trấn Càng Long" = "TT Càng Long",
  "Sóc Chuối" = "Soc Chuoi" = "SócChuối". A district column (Huyện) disambiguates communes
  of the same name, and so does a type prefix when both names have one ("Xã Định An" vs
  "Thị trấn Định An"); a commune column disambiguates hamlets.

Rows that match nothing, or more than one place, are listed in the report with up to three
suggestions (difflib on the folded names). By default any such row refuses the import;
with ``skip_unmatched`` the matched rows are imported and the others are listed as
warnings. Nothing is dropped silently.

In a package of the 2025-07 layout rows may be keyed by old (2025-03) communes: by their code or
name (Mã xã / Tên xã, with Huyện and Tỉnh to tell same-name communes apart), or in columns that say
so (Mã xã cũ / Tên xã cũ). Such rows land on the hamlets of their old commune, or are carried to
commune level with :mod:`geo.crosswalk`; they keep the old commune in ``former_commune_code`` /
``former_commune_name`` (:mod:`geo.importers._survey_old`, docs/IMPORT.md).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from geo.errors import ImportRejectedError, Problem, Severity
from geo.importers._common import (
    Converted,
    ImportOptions,
    frame_to_csv_bytes,
    imported_layer_meta,
    map_headers,
)
from geo.names import PREFIXES, fold_diacritics, normalize_name

__all__ = [
    "HEADER_ALIASES",
    "match_key",
    "prefix_kind",
    "Place",
    "Match",
    "NameIndex",
    "RowPlacer",
    "SurveyRows",
    "convert_survey",
]

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "hamlet_id": ("mã ấp", "mã thôn", "mã ấp/khóm", "hamlet id", "hamlet code"),
    "commune_id": (
        "mã xã",
        "mã đơn vị",
        "mã đvhc",
        "commune id",
        "commune code",
        "mã xã/phường",
        "commune_code",
    ),
    "hamlet_name": (
        "tên ấp",
        "ấp",
        "ấp/khóm",
        "ấp khóm",
        "thôn",
        "tên thôn",
        "khóm",
        "hamlet",
        "hamlet name",
        "thôn/ấp",
        "tên ấp/khóm",
    ),
    "commune_name": (
        "tên xã",
        "xã",
        "xã/phường",
        "xã/phường/thị trấn",
        "xã phường thị trấn",
        "commune",
        "commune name",
        "ward",
        "phường/xã",
    ),
    "district_name": ("huyện", "tên huyện", "quận/huyện", "huyện/thị xã", "district", "district name"),
    "households": ("số hộ", "tổng số hộ", "số hộ khảo sát", "hộ khảo sát", "households", "hộ"),
    "households_ftth": (
        "số hộ có ftth",
        "hộ có ftth",
        "hộ có cáp quang",
        "số hộ cáp quang",
        "hộ ftth",
        "ftth",
        "households ftth",
        "households with ftth",
    ),
    "adults": ("số người trưởng thành", "người trưởng thành", "số người lớn", "người lớn", "adults"),
    "adults_with_smartphone": (
        "có điện thoại thông minh",
        "số người có điện thoại thông minh",
        "người có smartphone",
        "smartphone",
        "adults with smartphone",
    ),
    "adults_internet_users": (
        "người dùng internet",
        "số người dùng internet",
        "sử dụng internet",
        "internet users",
        "adults internet users",
    ),
    "former_commune_code": (
        "mã xã cũ",
        "mã xã trước sắp xếp",
        "old commune code",
        "old_commune_code",
        "former commune code",
    ),
    "former_commune_name": (
        "tên xã cũ",
        "xã cũ",
        "xã/phường cũ",
        "old commune",
        "old commune name",
        "old_commune_name",
        "former commune",
        "former commune name",
    ),
    "province_name": ("tỉnh", "tên tỉnh", "tỉnh cũ", "province", "province name"),
    "survey_date": ("ngày khảo sát", "ngày", "thời gian khảo sát", "survey date", "date"),
    "source": ("nguồn", "đơn vị khảo sát", "người khảo sát", "source", "surveyed by"),
}
#: Columns read only in a 2025-07 package (keys of old communes).
_OLD_KEYS = ("former_commune_code", "former_commune_name", "province_name")
#: Count columns of the survey layer (carried, summed and divided across split old communes).
NUMBER_COLUMNS = (
    "households",
    "households_ftth",
    "adults",
    "adults_with_smartphone",
    "adults_internet_users",
)


_KIND_SYNONYMS = {"x": "xa", "p": "phuong", "tt": "thi tran", "tp": "thanh pho"}


def prefix_kind(name: str | None) -> str:
    """The administrative prefix of a name, folded ("" if none).

    "Thị trấn Định An" and "TT Định An" give "thi tran"; "P.1" gives "phuong".
    """
    folded = re.sub(r"\s+", " ", fold_diacritics(name or "")).strip()
    m = re.match(r"^(" + "|".join(re.escape(p) for p in PREFIXES) + r")(?:\.\s*|\s+)", folded)
    if not m:
        return ""
    return _KIND_SYNONYMS.get(m.group(1), m.group(1))


def match_key(name: str | None) -> str:
    """Matching key of a place name: :func:`geo.names.normalize_name` without spaces.

    "Xã Long Đức", "LONG DUC" and "xa long  duc" give "longduc"; "P.1" and "Phuong 01" give "1";
    "Sóc Chuối" and "SocChuoi" give "socchuoi".
    """
    return normalize_name(name).replace(" ", "")


@dataclass(frozen=True)
class Place:
    """A matchable place: a commune or a hamlet."""

    place_id: str
    name: str
    commune_id: str
    context: str  # district (communes) or commune name (hamlets), for messages


@dataclass(frozen=True)
class Match:
    """Outcome of matching one name."""

    status: str  # "matched", "unmatched", "ambiguous"
    places: tuple[Place, ...]
    suggestions: tuple[str, ...] = ()


class NameIndex:
    """Index of places by :func:`match_key` with difflib suggestions."""

    def __init__(self, places: Sequence[Place]) -> None:
        self.places = list(places)
        self.by_key: dict[str, list[Place]] = defaultdict(list)
        self.by_id = {p.place_id: p for p in self.places}
        for p in self.places:
            self.by_key[match_key(p.name)].append(p)

    def match(self, name: str, *, within: set[str] | None = None, context_key: str = "") -> Match:
        """Match ``name``; ``within`` restricts to commune ids, ``context_key`` to a district/commune key."""
        key = match_key(name)
        found = [p for p in self.by_key.get(key, []) if within is None or p.commune_id in within]
        if len(found) > 1 and context_key:
            narrowed = [p for p in found if match_key(p.context) == context_key]
            found = narrowed or found
        kind = prefix_kind(name)
        if len(found) > 1 and kind:  # "Xã Định An" vs "Thị trấn Định An" in one district
            narrowed = [p for p in found if prefix_kind(p.name) == kind]
            found = narrowed or found
        if len(found) == 1:
            return Match("matched", (found[0],))
        if found:
            return Match(
                "ambiguous", tuple(found), tuple(f"{p.name} ({p.context}, id {p.place_id})" for p in found)
            )
        pool = [p for p in self.places if within is None or p.commune_id in within]
        keys = {match_key(p.name): p for p in pool}
        close = difflib.get_close_matches(key, list(keys), n=3, cutoff=0.6)
        return Match(
            "unmatched",
            (),
            tuple(f"{keys[k].name} ({keys[k].context}, id {keys[k].place_id})" for k in close),
        )


def _commune_places(communes: pd.DataFrame) -> list[Place]:
    return [
        Place(str(r.commune_id), str(r.commune_name), str(r.commune_id), str(getattr(r, "district_name", "")))
        for r in communes.itertuples()
    ]


def _hamlet_places(hamlets: pd.DataFrame | None, communes: pd.DataFrame) -> list[Place]:
    if hamlets is None or hamlets.empty:
        return []
    names = dict(zip(communes["commune_id"].astype(str), communes["commune_name"].astype(str), strict=False))
    if "commune_id" not in hamlets.columns and "commune_code" in communes.columns:
        by_code = dict(
            zip(communes["commune_code"].astype(str), communes["commune_id"].astype(str), strict=False)
        )
        cids = [by_code.get(str(c), "") for c in hamlets.get("commune_code", [""] * len(hamlets))]
    else:
        cids = hamlets["commune_id"].astype(str).tolist()
    return [
        Place(str(h), str(n), c, names.get(c, c))
        for h, n, c in zip(hamlets["hamlet_id"], hamlets["hamlet_name"], cids, strict=True)
    ]


def iso_date(text: str) -> str:
    """ISO date of a survey date cell ("15/05/2025" -> "2025-05-15"); other text is returned stripped."""
    raw = str(text).strip()
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", raw)
    if m:  # Vietnamese day/month/year
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        except ValueError:
            return raw
    return raw[:10] if re.match(r"\d{4}-\d{2}-\d{2}", raw) else raw


def _number(text: str) -> str:
    raw = str(text).strip().replace(" ", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", raw):  # "1.234" thousands separator
        return re.sub(r"[.,]", "", raw)
    return raw[:-2] if raw.endswith(".0") else raw


class _Matcher:
    def __init__(self, communes: pd.DataFrame, hamlets: pd.DataFrame | None) -> None:
        self.communes = NameIndex(_commune_places(communes))
        self.hamlets = NameIndex(_hamlet_places(hamlets, communes))
        codes = communes["commune_code"].astype(str) if "commune_code" in communes.columns else []
        self.code_to_id = {c: i for c, i in zip(codes, communes["commune_id"].astype(str), strict=False) if c}

    def commune(self, cid: str, name: str, district: str) -> Match | None:
        if cid:
            cid = self.code_to_id.get(cid, cid)
            place = self.communes.by_id.get(cid)
            return (
                Match("matched", (place,))
                if place
                else Match("unmatched", (), (f"no commune with id {cid}",))
            )
        if name:
            return self.communes.match(name, context_key=match_key(district))
        return None

    def row(self, get: dict[str, str]) -> tuple[Match, str, str]:
        """Return (match, commune_id, hamlet_id) for one survey row."""
        if get["hamlet_id"]:
            place = self.hamlets.by_id.get(get["hamlet_id"])
            if place:
                return Match("matched", (place,)), place.commune_id, place.place_id
            sugg = difflib.get_close_matches(get["hamlet_id"], list(self.hamlets.by_id), n=3, cutoff=0.6)
            return Match("unmatched", (), tuple(f"hamlet id {s}" for s in sugg)), "", ""
        commune = self.commune(get["commune_id"], get["commune_name"], get["district_name"])
        if commune is not None and commune.status != "matched":
            return commune, "", ""
        within = {commune.places[0].place_id} if commune else None
        if not get["hamlet_name"]:
            if commune is None:
                return Match("unmatched", (), ("give a hamlet or commune name or code",)), "", ""
            return commune, commune.places[0].place_id, ""
        context = match_key(commune.places[0].name) if commune else ""
        hamlet = self.hamlets.match(get["hamlet_name"], within=within, context_key=context)
        if hamlet.status == "matched":
            return hamlet, hamlet.places[0].commune_id, hamlet.places[0].place_id
        return hamlet, "", ""


_ROW_KEYS = (
    "hamlet_id",
    "hamlet_name",
    "commune_id",
    "commune_name",
    "former_commune_code",
    "former_commune_name",
    "district_name",
    "province_name",
)


def _row_text(get: dict[str, str]) -> str:
    parts = [get[k] for k in _ROW_KEYS if get.get(k)]
    return " / ".join(f"'{p}'" for p in parts)


@dataclass
class SurveyRows:
    """Rows of the survey layer made from an upload, and what to tell the user.

    Attributes
    ----------
    out_rows : list of dict
        Rows of ``survey/hamlet_survey.csv``.
    problems : list of Problem
        Rows not placed (errors, or warnings with ``skip_unmatched``) and other findings.
    counts : dict
        Upload rows "matched", "unmatched", "ambiguous".
    report : list of str
        Lines for the preview after the counts.
    skipped : int
        Upload rows left out (``skip_unmatched``).
    notes : str
        ``notes`` of the survey layer in dataset.toml ("" for none).
    """

    out_rows: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"matched": 0, "unmatched": 0, "ambiguous": 0})
    report: list[str] = field(default_factory=list)
    skipped: int = 0
    notes: str = ""


class RowPlacer(Protocol):
    """Places every row of a survey upload (see :func:`convert_survey`)."""

    def __call__(
        self,
        gets: Sequence[dict[str, str]],
        cols: dict[str, str],
        matcher: _Matcher,
        *,
        filename: str,
        options: ImportOptions,
    ) -> SurveyRows:
        """The survey rows, problems and report of the upload rows ``gets``."""
        ...


def row_problem(i: int, get: dict[str, str], match: Match, severity: Severity, filename: str) -> Problem:
    """The problem of a row that matches no place or several (row numbers as a spreadsheet shows them)."""
    hint = ("did you mean: " + "; ".join(match.suggestions)) if match.suggestions else "no similar name"
    what = "matches several places" if match.status == "ambiguous" else "matches no place"
    return Problem(severity, filename, f"row {i + 2}", f"{_row_text(get)} {what}", hint)


def survey_row(
    get: dict[str, str],
    cols: dict[str, str],
    *,
    commune_id: str,
    hamlet_id: str,
    hamlet_name: str,
    options: ImportOptions,
    filename: str,
) -> dict[str, str]:
    """One row of ``survey/hamlet_survey.csv`` from an upload row placed on a hamlet or commune."""
    out = {"hamlet_id": hamlet_id, "commune_id": commune_id, "hamlet_name": hamlet_name if hamlet_id else ""}
    out.update({k: _number(get[k]) for k in NUMBER_COLUMNS if k in cols})
    out["survey_date"] = iso_date(get["survey_date"])
    out["source"] = get["source"] or options.source or f"survey {filename}"
    return out


def direct_row(
    get: dict[str, str], cols: dict[str, str], matcher: _Matcher, options: ImportOptions, filename: str
) -> tuple[Match, dict[str, str] | None]:
    """Match a row keyed by the package's own hamlets / communes; the survey row when matched."""
    match, cid, hid = matcher.row(get)
    if match.status != "matched":
        return match, None
    name = get["hamlet_name"] if not hid else matcher.hamlets.by_id[hid].name
    return match, survey_row(
        get, cols, commune_id=cid, hamlet_id=hid, hamlet_name=name, options=options, filename=filename
    )


def convert_survey(
    frame: pd.DataFrame,
    filename: str,
    *,
    communes: pd.DataFrame,
    hamlets: pd.DataFrame | None,
    options: ImportOptions,
    place_rows: RowPlacer | None = None,
) -> Converted:
    """Match a survey table to the package's places and write the survey layer.

    Parameters
    ----------
    frame : pandas.DataFrame
        The upload as text cells.
    communes, hamlets : pandas.DataFrame
        The package's communes (``commune_id``, ``commune_name``, ``district_name``, optional
        ``commune_code``) and hamlets (``hamlet_id``, ``hamlet_name``, ``commune_id``); hamlets may be None.
    options : ImportOptions
        ``skip_unmatched``, ``source``.
    place_rows : RowPlacer, optional
        Places the rows instead of :func:`direct_row`: for a package in the 2025-07 layout
        :func:`geo.importers._survey_old.survey_placer` (rows keyed by old (2025-03) communes land
        on the hamlets of their old commune or are carried to commune level with
        :mod:`geo.crosswalk`; the old key is kept in ``former_commune_code`` /
        ``former_commune_name``). The old-key columns are read only then.

    Returns
    -------
    Converted
        ``survey/hamlet_survey.csv``; unmatched/ambiguous rows as problems (errors, or warnings
        with ``skip_unmatched``) with suggestions.
    """
    cols = map_headers(frame.columns, HEADER_ALIASES, filename)
    keys: tuple[str, ...] = ("hamlet_id", "commune_id", "hamlet_name", "commune_name")
    if place_rows is not None:
        keys += ("former_commune_code", "former_commune_name")
    if not any(k in cols for k in keys):
        raise ImportRejectedError(
            f"{filename}: no column identifies the place (file has: "
            f"{', '.join(map(str, frame.columns))}) -> add "
            "'Mã ấp' / 'hamlet_id', 'Mã xã' / 'commune_id', or names 'Tên ấp' / 'Tên xã'"
        )
    matcher = _Matcher(communes, hamlets)
    severity: Severity = "warning" if options.skip_unmatched else "error"
    used = cols if place_rows is not None else {k: v for k, v in cols.items() if k not in _OLD_KEYS}
    gets = [
        {k: (str(row[used[k]]).strip() if k in used else "") for k in (*HEADER_ALIASES,)}
        for _, row in frame.iterrows()
    ]
    if place_rows is not None:
        rows = place_rows(gets, cols, matcher, filename=filename, options=options)
        out_rows, problems, counts, extra = rows.out_rows, rows.problems, rows.counts, rows.report
        skipped, notes = rows.skipped, rows.notes
    else:
        out_rows, problems, counts, extra = [], [], {"matched": 0, "unmatched": 0, "ambiguous": 0}, []
        for i, get in enumerate(gets):
            match, out = direct_row(get, cols, matcher, options, filename)
            counts[match.status] += 1
            if out is None:
                problems.append(row_problem(i, get, match, severity, filename))
                continue
            out_rows.append(out)
        skipped, notes = len(problems), ""
    report = [
        f"{filename}: {len(frame)} row(s): {counts['matched']} matched, {counts['unmatched']} unmatched, "
        f"{counts['ambiguous']} ambiguous"
        + (" (unmatched rows skipped, listed below)" if options.skip_unmatched and skipped else ""),
        *extra,
    ]
    if not out_rows:
        more = [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        raise ImportRejectedError(
            "\n".join([f"{filename}: no row matches a place of the package", *map(str, problems[:20]), *more])
        )
    table = pd.DataFrame(out_rows)
    meta = imported_layer_meta(
        "survey/hamlet_survey.csv",
        options,
        source=f"survey {filename}",
        licence="provided by the province (internal use)",
    )
    if options.skip_unmatched and skipped:
        meta["skipped_rows"] = skipped
    if notes:
        meta["notes"] = notes
    return Converted(
        files={"survey/hamlet_survey.csv": frame_to_csv_bytes(table)},
        meta={"survey": meta},
        problems=problems,
        report=report,
        importer="survey",
    )
