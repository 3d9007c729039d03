"""Survey rows keyed by old (2025-03) communes, imported into a 2025-07 package.

:func:`convert_rows_2025` places every row of a survey upload (docs/IMPORT.md, "Tables keyed by
pre-reform communes"):

* a row naming a hamlet (``hamlet_id``, or a hamlet name beside its old commune) lands on that
  hamlet and its new commune. A hamlet named beside an old commune is looked for among the hamlets
  whose ``former_commune_code`` is that old commune, and the hamlets of the new communes it went
  into that carry no former commune;
* a commune-level row of an old commune is carried with :func:`geo.crosswalk.carry_table`: counts
  are summed over the old communes that feed a new commune, a split old commune's counts are
  divided by the households of its hamlets on each side (else the area of the parts, else
  equally) by largest remainder, so integer totals are conserved exactly. One commune-level row
  per new commune results; its ``source`` says which old communes it came from (with their weight
  when split) and which old communes of the new commune have no row in the upload;
* every row keeps its old key in ``former_commune_code`` / ``former_commune_name``
  (";"-joined on carried rows);
* rows keyed by the package's own communes are matched as before (:func:`geo.importers.survey.direct_row`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from geo.crosswalk import DEFAULT_SHARE_RULES, carry_table
from geo.errors import Problem, Severity
from geo.importers._common import ImportOptions
from geo.importers._old_communes import KeyMatch, KeyRow, OldCommunes, OldUnit
from geo.importers.survey import (
    NUMBER_COLUMNS,
    Match,
    NameIndex,
    Place,
    RowPlacer,
    SurveyRows,
    _Matcher,
    _number,
    _row_text,
    direct_row,
    iso_date,
    row_problem,
    survey_row,
)

__all__ = ["convert_rows_2025", "survey_placer"]

_BASIS_TEXT = {
    "households": "hamlet households",
    "area": "area of the parts",
    "equal": "equal shares, no hamlet households or area parts being known",
}
_MAX_LINES = 12


@dataclass
class _State:
    """Working state of one conversion."""

    gets: list[dict[str, str]]
    cols: dict[str, str]
    ctx: OldCommunes
    filename: str
    options: ImportOptions
    severity: Severity
    result: SurveyRows = field(default_factory=SurveyRows)
    placed: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (upload position, row)
    carried: list[int] = field(default_factory=list)  # upload positions of old commune-level rows
    old_hamlet_rows: list[int] = field(default_factory=list)
    split_lines: list[str] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)  # old communes with a row in the upload
    hamlet_rows_of: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    commune_rows_of: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    carried_ids: set[str] = field(default_factory=set)  # package communes given a carried row

    def problem(self, severity: Severity, i: int, message: str, hint: str = "") -> None:
        self.result.problems.append(Problem(severity, self.filename, f"row {i + 2}", message, hint))

    def skip(self, i: int, status: str, message: str, hint: str) -> None:
        """A row that cannot be placed: an error, or a warning and skipped with ``skip_unmatched``."""
        self.result.counts[status] += 1
        self.result.skipped += 1
        self.problem(self.severity, i, message, hint)


def _with_former(row: dict[str, str], units: Sequence[OldUnit]) -> dict[str, str]:
    if units:
        row["former_commune_code"] = ";".join(u.code for u in units)
        row["former_commune_name"] = ";".join(u.name for u in units)
    return row


def _key_rows(gets: Sequence[dict[str, str]]) -> list[KeyRow]:
    return [
        KeyRow(
            code=g["commune_id"],
            name=g["commune_name"],
            district=g["district_name"],
            province=g["province_name"],
            former_code=g["former_commune_code"],
            former_name=g["former_commune_name"],
        )
        for g in gets
    ]


def _place(st: _State, i: int, row: dict[str, str], units: Sequence[OldUnit]) -> None:
    st.result.counts["matched"] += 1
    st.placed.append((i, _with_former(row, units)))
    st.covered.update(u.code for u in units)
    if row["hamlet_id"]:
        st.hamlet_rows_of[row["commune_id"]].append(i)
        former = st.ctx.hamlets.loc[st.ctx.hamlets["hamlet_id"] == row["hamlet_id"], "former_commune_code"]
        st.covered.update(c for c in former if c)
    else:
        st.commune_rows_of[row["commune_id"]].append(i)


def _hamlet_of_old(st: _State, i: int, get: dict[str, str], unit: OldUnit) -> None:
    """A row naming a hamlet beside its old commune."""
    pool = st.ctx.hamlet_pool(unit)
    index = NameIndex(
        [
            Place(h, n, c, st.ctx.name_of.get(c, c))
            for h, n, c in zip(pool["hamlet_id"], pool["hamlet_name"], pool["commune_id"], strict=True)
        ]
    )
    match: Match = index.match(get["hamlet_name"])
    if match.status != "matched":
        what = "matches several hamlets" if match.status == "ambiguous" else "matches no hamlet"
        suggestions = match.suggestions or tuple(
            f"{p.name} ({p.context}, id {p.place_id})" for p in index.places[:5]
        )
        st.skip(
            i,
            match.status,
            f"{_row_text(get)} {what} of old commune {unit.describe()}",
            "did you mean: " + "; ".join(suggestions)
            if suggestions
            else "the old commune has no hamlet here",
        )
        return
    hamlet = match.places[0]
    row = survey_row(
        get,
        st.cols,
        commune_id=hamlet.commune_id,
        hamlet_id=hamlet.place_id,
        hamlet_name=hamlet.name,
        options=st.options,
        filename=st.filename,
    )
    st.old_hamlet_rows.append(i)
    if unit.split:
        st.split_lines.append(
            f"row {i + 2} {unit.describe()} -> hamlet {hamlet.name} in "
            f"{st.ctx.describe_new(hamlet.commune_id)}"
        )
    _place(st, i, row, (unit,))


def _check_hamlet_former(st: _State, i: int, row: dict[str, str], unit: OldUnit) -> None:
    """Warn when a row's hamlet (by id or in its new commune) was not in the old commune it names."""
    former = st.ctx.hamlets.loc[st.ctx.hamlets["hamlet_id"] == row["hamlet_id"], "former_commune_code"]
    was = next((c for c in former if c), "")
    if (was and was != unit.code) or (not was and row["commune_id"] not in unit.commune_ids):
        st.problem(
            "warning",
            i,
            f"hamlet {row['hamlet_id']} ({row['hamlet_name']}) was "
            + (f"in old commune {was}" if was else f"in {st.ctx.describe_new(row['commune_id'])}")
            + f", the row names old commune {unit.describe()}",
            "check the hamlet and the old commune of the row; the row is placed by its hamlet",
        )


def _row(st: _State, i: int, get: dict[str, str], km: KeyMatch, matcher: _Matcher) -> None:
    """Place one upload row (or queue it for carrying)."""
    if get["hamlet_id"] or km.kind in ("new", "none"):
        key = dict(get)
        if km.kind == "new":  # the package commune found by the key (old-key columns are annotation)
            key.update(commune_id=km.commune_id, commune_name="", district_name="")
        elif km.kind != "none":
            key.update(commune_id="", commune_name="", district_name="")
        match, out = direct_row(key, st.cols, matcher, st.options, st.filename)
        if out is None:
            problem = row_problem(i, get, match, st.severity, st.filename)
            st.result.counts[match.status] += 1
            st.result.skipped += 1
            st.result.problems.append(problem)
            return
        if km.kind in ("unknown", "ambiguous"):
            st.problem("warning", i, f"{_row_text(get)}: {km.message}", "the row is placed by its hamlet_id")
        if km.note:
            st.problem("warning", i, km.note, "check the commune columns of the row")
        if km.old is not None and out["hamlet_id"]:
            _check_hamlet_former(st, i, out, km.old)
            if km.kind == "old":
                st.old_hamlet_rows.append(i)
                if km.old.split:
                    st.split_lines.append(
                        f"row {i + 2} {km.old.describe()} -> hamlet {out['hamlet_name']} in "
                        f"{st.ctx.describe_new(out['commune_id'])}"
                    )
        _place(st, i, out, km.former)
        return
    if km.kind in ("unknown", "ambiguous"):
        status = "ambiguous" if km.kind == "ambiguous" else "unmatched"
        st.skip(i, status, f"{_row_text(get)}: {km.message}", st.ctx.hint_text(km))
        return
    assert km.old is not None  # kind "old"
    if get["hamlet_name"]:
        _hamlet_of_old(st, i, get, km.old)
    else:
        st.carried.append(i)


# ---------------------------------------------------------------------------- carrying commune-level rows


def _checked_carried(st: _State, counts: Sequence[str], units: dict[int, OldUnit]) -> list[int]:
    """The queued commune-level rows whose cells can be carried (others get an error)."""
    good: list[int] = []
    first_of: dict[str, int] = {}
    for i in st.carried:
        get, unit = st.gets[i], units[i]
        bad = [c for c in counts if _number(get[c]) and not re.fullmatch(r"\d+", _number(get[c]))]
        for c in bad:
            st.problem(
                "error",
                i,
                f"{c} {get[c]!r} is not a whole number",
                f"the row of old commune {unit.describe()} is carried to the new communes by adding and "
                "dividing its counts: write whole numbers >= 0 (or leave the cell empty)",
            )
        date = iso_date(get["survey_date"])
        if date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            bad.append("survey_date")
            st.problem(
                "error",
                i,
                f"survey_date {get['survey_date']!r} is not a date",
                "write dd/mm/yyyy or yyyy-mm-dd",
            )
        if unit.code in first_of:
            bad.append("commune")
            st.problem(
                "error",
                i,
                f"old commune {unit.describe()} has another commune-level row "
                f"(row {first_of[unit.code] + 2}); carried together they would be counted twice",
                "keep one row per old commune (sum them, or keep the latest survey)",
            )
        first_of.setdefault(unit.code, i)
        if not bad:
            good.append(i)
    return good


def _weight_text(weight: float, basis: str) -> str:
    return f"{weight:.4g} by {_BASIS_TEXT.get(basis, basis)}"


def _carry(st: _State, units: dict[int, OldUnit]) -> list[str]:
    """Carry the queued commune-level rows; the report lines."""
    counts = [c for c in NUMBER_COLUMNS if c in st.cols]
    rows = _checked_carried(st, counts, units)
    if not rows:
        return []
    table = pd.DataFrame(
        {
            "commune_code": [units[i].code for i in rows],
            **{c: [_number(st.gets[i][c]) for i in rows] for c in counts},
        }
    )
    rules = [r for r in DEFAULT_SHARE_RULES if r.numerator in counts and r.denominator in counts]
    result = carry_table(
        table, st.ctx.pairs, st.ctx.weights, count_columns=counts, share_columns=rules, source=st.filename
    )
    alloc = result.allocation.copy()
    alloc["pos"] = [rows[r - 2] for r in alloc["row"]]
    outside = alloc[~alloc["new_commune_code"].isin(st.ctx.id_of_code)]
    for t in outside.itertuples():
        shown = ", ".join(f"{c} {getattr(t, c)}" for c in counts if not pd.isna(getattr(t, c)))
        st.problem(
            st.severity,
            int(t.pos),
            f"old commune {units[int(t.pos)].describe()} was split; its part "
            f"({_weight_text(float(t.weight), str(t.basis))}: {shown}) goes to {t.new_commune_name} "
            f"({t.new_commune_code}), which is not a commune of this package",
            "import into the package of the whole province"
            + ("" if st.options.skip_unmatched else ", or use --skip-unmatched to leave that part out"),
        )
    st.covered.update(units[i].code for i in rows)
    st.result.counts["matched"] += len(rows)
    _split_lines(st, alloc, counts, units)
    inside = alloc[alloc["new_commune_code"].isin(st.ctx.id_of_code)]
    sums = result.communes.set_index("commune_code")
    report = [
        f"carried to commune level: {len(rows)} row(s) of old communes -> "
        f"{inside['new_commune_code'].nunique()} commune-level row(s) of new communes"
    ]
    lines: list[str] = []
    for code, part in inside.groupby("new_commune_code", sort=True):
        cid = st.ctx.id_of_code[str(code)]
        row, line = _carried_row(st, cid, part, sums.loc[code], counts, units)
        st.placed.append((int(part["pos"].min()), row))
        st.commune_rows_of[cid].append(int(part["pos"].min()))
        st.carried_ids.add(cid)
        lines.append(line)
    report += [f"  {line}" for line in lines[:_MAX_LINES]]
    if len(lines) > _MAX_LINES:
        report.append(f"  ... and {len(lines) - _MAX_LINES} more")
    totals = result.totals
    report.append(
        "totals of the carried rows "
        + ("conserved exactly: " if result.conserved else "NOT conserved: ")
        + ", ".join(f"{t.column} {t.total_in} -> {t.total_out}" for t in totals.itertuples())
    )
    return report


def _split_lines(st: _State, alloc: pd.DataFrame, counts: Sequence[str], units: dict[int, OldUnit]) -> None:
    shown = "households" if "households" in counts else (counts[0] if counts else "")
    for pos, part in alloc[alloc["n_targets"] > 1].groupby("pos", sort=True):
        unit = units[int(pos)]
        sides = " / ".join(
            f"{t.new_commune_name} {getattr(t, shown) if shown else ''}".strip() for t in part.itertuples()
        )
        weights = " / ".join(f"{float(w):.4g}" for w in part["weight"])
        basis = _BASIS_TEXT.get(str(part["basis"].iloc[0]), str(part["basis"].iloc[0]))
        st.split_lines.append(
            f"row {int(pos) + 2} {unit.describe()} -> {sides}{' ' + shown if shown else ''} "
            f"(weights {weights} by {basis})"
        )


def _carried_row(
    st: _State,
    cid: str,
    part: pd.DataFrame,
    sums: pd.Series,
    counts: Sequence[str],
    units: dict[int, OldUnit],
) -> tuple[dict[str, str], str]:
    """The commune-level row of one new commune fed by carried rows, and its report line."""
    positions = sorted(int(p) for p in part["pos"].unique())
    fed: list[str] = []
    for t in part.sort_values("old_commune_code").drop_duplicates("old_commune_code").itertuples():
        unit = units[int(t.pos)]
        part_text = f", part {_weight_text(float(t.weight), str(t.basis))}" if int(t.n_targets) > 1 else ""
        fed.append(f"{unit.name} ({unit.code}{part_text})")
    old_codes = sorted(set(part["old_commune_code"]))
    missing = [c for c in st.ctx.old_codes_of(cid) if c not in st.covered]
    missing_text = ", ".join(st.ctx.units[c].describe() for c in missing if c in st.ctx.units)
    dates = sorted({iso_date(st.gets[p]["survey_date"]) for p in positions} - {""})
    sources = list(dict.fromkeys(st.gets[p]["source"] for p in positions if st.gets[p]["source"]))
    base = "; ".join(sources) or st.options.source or f"survey {st.filename}"
    note = f"carried from old communes {', '.join(fed)}"
    if missing_text:
        note += f"; no row for old {missing_text}"
    if len(dates) > 1:
        note += f"; surveyed {dates[0]} to {dates[-1]}"
    row: dict[str, str] = {"hamlet_id": "", "commune_id": cid, "hamlet_name": ""}
    for c in counts:
        value = sums[c]
        row[c] = "" if pd.isna(value) else str(int(value))
    row["survey_date"] = dates[-1] if dates else ""
    row["source"] = f"{base} ({note})"
    row["former_commune_code"] = ";".join(old_codes)
    row["former_commune_name"] = ";".join(st.ctx.units[c].name for c in old_codes)
    line = f"{st.ctx.describe_new(cid)} <- {_rows_label(positions)}: {', '.join(fed)}" + (
        f"; no row for old {missing_text}" if missing_text else ""
    )
    return row, line


# ---------------------------------------------------------------------------- the whole upload


def _rows_label(positions: Sequence[int]) -> str:
    """ "row 5" or "rows 5, 7" (spreadsheet numbers of upload positions)."""
    numbers = [str(p + 2) for p in sorted(positions)]
    shown = ", ".join(numbers[:8]) + (f" and {len(numbers) - 8} more" if len(numbers) > 8 else "")
    return ("row " if len(numbers) == 1 else "rows ") + shown


def _row_order(problem: Problem) -> int:
    """Sort key of a problem: its (first) row number; table-level problems first."""
    m = re.match(r"rows? (\d+)", problem.where)
    return int(m.group(1)) if m else 0


def _shadow_warnings(st: _State, carried_ids: set[str]) -> None:
    for cid in sorted(carried_ids):
        hamlet_rows = st.hamlet_rows_of.get(cid, [])
        commune_rows = st.commune_rows_of.get(cid, [])
        where = _rows_label(commune_rows)
        if hamlet_rows:
            st.result.problems.append(
                Problem(
                    "warning",
                    st.filename,
                    where,
                    f"{st.ctx.describe_new(cid)} gets a commune-level row carried from old communes and also "
                    f"has hamlet rows ({_rows_label(hamlet_rows)}): the "
                    "analysis uses a commune's hamlet rows and ignores its commune-level row",
                    "give the old commune's survey by hamlet, so that every row counts",
                )
            )
        if len(commune_rows) > 1:
            st.result.problems.append(
                Problem(
                    "warning",
                    st.filename,
                    where,
                    f"{st.ctx.describe_new(cid)} gets {len(commune_rows)} commune-level rows; the analysis "
                    "uses only the latest",
                    "give one row per commune (rows of its old communes are summed when carried together)",
                )
            )


def convert_rows_2025(
    gets: Sequence[dict[str, str]],
    cols: dict[str, str],
    matcher: _Matcher,
    ctx: OldCommunes,
    *,
    filename: str,
    options: ImportOptions,
) -> SurveyRows:
    """Place the rows of a survey upload in a 2025-07 package (see the module notes).

    Parameters
    ----------
    gets : sequence of dict
        Each upload row as canonical column -> text (every key of ``survey.HEADER_ALIASES``).
    cols : dict
        Canonical -> upload column name, for the columns found.
    matcher : survey._Matcher
        The package's hamlets and communes (rows keyed by them).
    ctx : OldCommunes
        The package's old communes.
    filename : str
        For messages.
    options : ImportOptions
        ``skip_unmatched``, ``source``.

    Returns
    -------
    SurveyRows
        Survey rows in upload order (carried rows at their first feeding row), problems, counts
        and report lines.
    """
    st = _State(
        gets=list(gets),
        cols=cols,
        ctx=ctx,
        filename=filename,
        options=options,
        severity="warning" if options.skip_unmatched else "error",
    )
    explicit = "former_commune_code" in cols or "former_commune_name" in cols
    matches, table_problems, table_report = ctx.resolve(
        _key_rows(st.gets), explicit=explicit, source=filename
    )
    for i, (get, km) in enumerate(zip(st.gets, matches, strict=True)):
        _row(st, i, get, km, matcher)
    units = {i: m.old for i, m in enumerate(matches) if m.old is not None}
    n_old = sum(1 for m in matches if m.kind == "old")
    bad_old = n_old - len(st.old_hamlet_rows) - len(st.carried)
    carried = _carry(st, units)
    report = st.result.report
    if n_old:
        report.append(
            f"old communes (2025-03): {n_old} row(s) keyed by an old commune: "
            f"{len(st.old_hamlet_rows)} placed on hamlets of their old commune, "
            f"{len(st.carried)} commune-level row(s) carried"
            + (f", {bad_old} not placed (listed below)" if bad_old > 0 else "")
        )
    if n_old or st.split_lines:
        report.append(
            f"through split old communes: {len(st.split_lines)} row(s)"
            + (": " + "; ".join(st.split_lines[:_MAX_LINES]) if st.split_lines else "")
            + (
                f"; ... and {len(st.split_lines) - _MAX_LINES} more"
                if len(st.split_lines) > _MAX_LINES
                else ""
            )
        )
    report += carried
    unknown = [
        i for i, m in enumerate(matches) if m.kind in ("unknown", "ambiguous") and not st.gets[i]["hamlet_id"]
    ]
    if unknown:
        report.append(
            f"unknown communes: {len(unknown)} row(s) ({_rows_label(unknown)}) name no commune of this "
            "package and no old commune that went into one, or several of them (listed below, with the "
            "nearest names)"
        )
    report += table_report
    if n_old:
        st.result.notes = (
            f"{n_old} row(s) keyed by old (2025-03) communes: {len(st.old_hamlet_rows)} placed on hamlets, "
            f"{len(st.carried)} carried to commune level (geo.crosswalk), {len(st.split_lines)} through "
            "split old communes; the old commune is kept in former_commune_code / former_commune_name"
        )
    _shadow_warnings(st, st.carried_ids)
    st.result.problems.sort(key=_row_order)
    st.result.problems[:0] = table_problems
    st.result.out_rows = [row for _i, row in sorted(st.placed, key=lambda t: t[0])]
    return st.result


def survey_placer(ctx: OldCommunes) -> RowPlacer:
    """The row placer of :func:`geo.importers.survey.convert_survey` for a 2025-07 package."""

    def place(
        gets: Sequence[dict[str, str]],
        cols: dict[str, str],
        matcher: _Matcher,
        *,
        filename: str,
        options: ImportOptions,
    ) -> SurveyRows:
        return convert_rows_2025(gets, cols, matcher, ctx, filename=filename, options=options)

    return place
