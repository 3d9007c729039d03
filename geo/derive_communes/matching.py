"""Step 1: match every 2009 polygon to its pre-reform (2025-03) code: by hand, by code, by name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pandas as pd

from geo.errors import SchemaError
from geo.names import fold_diacritics, normalize_name


def _key(name: str) -> str:
    """Name key keeping the type prefix ("xa long duc")."""
    return normalize_name(name, drop_prefix=False)


def _unit_type(name: str) -> str:
    """Folded unit type of a commune name: "xa", "phuong", "thi tran", "dac khu" or ""."""
    folded = fold_diacritics(name).strip()
    for prefix in ("thi tran", "phuong", "dac khu", "xa"):
        if folded == prefix or folded.startswith(prefix + " "):
            return prefix
    return ""


def _manual_rows(
    communes: pd.DataFrame, known: Mapping[str, str], manual: pd.DataFrame
) -> tuple[list[dict[str, str]], list[str]]:
    """Rows for the pieces named in ``manual``, and the manual rows that match no piece."""
    piece_keys = {
        (p, _key(d), _key(c)): pid
        for pid, p, d, c in zip(
            communes["piece_id"],
            communes["province_code"],
            communes["district_vn"],
            communes["commune_vn"],
            strict=True,
        )
    }
    rows: list[dict[str, str]] = []
    problems: list[str] = []
    for m in manual.itertuples(index=False):
        if known.get(m.old_commune_code) != m.province_code:
            raise SchemaError(
                f"manual match {m.commune_2009} ({m.district_2009}): {m.old_commune_code} is not a "
                f"pre-reform commune of province {m.province_code}"
            )
        pid = piece_keys.get((m.province_code, _key(m.district_2009), _key(m.commune_2009)))
        if pid is None:
            problems.append(
                f"manual match row {m.commune_2009} ({m.district_2009}, {m.province_code}) matches no polygon"
            )
            continue
        rows.append(
            {"piece_id": pid, "old_commune_code": m.old_commune_code, "method": "manual", "reason": m.reason}
        )
    return rows, problems


def _code_rows(
    communes: pd.DataFrame, known: Mapping[str, str], done: set[str]
) -> tuple[list[dict[str, str]], dict[str, tuple[int, int]]]:
    """Rows for pieces whose own ``gso_ma_xa`` is a pre-reform code of their province, and the code
    range (min, max) of those pieces per ``province|district``."""
    rows: list[dict[str, str]] = []
    ranges: dict[str, tuple[int, int]] = {}
    for pid, prov, district, code in zip(
        communes["piece_id"],
        communes["province_code"],
        communes["district_vn"],
        communes["gso_ma_xa"],
        strict=True,
    ):
        if pid in done or not code or known.get(code) != prov:
            continue
        rows.append({"piece_id": pid, "old_commune_code": code, "method": "code", "reason": ""})
        key = f"{prov}|{district}"
        lo, hi = ranges.get(key, (int(code), int(code)))
        ranges[key] = (min(lo, int(code)), max(hi, int(code)))
    return rows, ranges


def _range_distance(code: int, span: tuple[int, int]) -> int:
    return max(span[0] - code, 0, code - span[1])


def _name_candidates(
    name: str, candidates: list[tuple[str, str]], district: str, ranges: Mapping[str, tuple[int, int]]
) -> tuple[list[tuple[str, str]], str]:
    """Candidates whose code is nearest to the piece's district code range (among the ranges of the
    province's districts), then of the piece's unit type; the reason if none or several are left."""
    cands = candidates
    span = ranges.get(district)
    if span is not None:
        province = district.split("|", 1)[0] + "|"
        spans = {d: r for d, r in ranges.items() if d.startswith(province)}

        def nearest(code: str) -> bool:
            mine = _range_distance(int(code), spans[district])
            return all(mine <= _range_distance(int(code), r) for r in spans.values())

        cands = [c for c in cands if nearest(c[0])]
    if len(cands) > 1:
        cands = [c for c in cands if _unit_type(c[1]) == _unit_type(name)] or cands
    if not cands:
        where = f" near the district's code range {span[0]}-{span[1]}" if span else ""
        return cands, (
            f"no unclaimed pre-reform commune of that name in the province{where} "
            "(merged, renamed or split since 2009)"
        )
    if len(cands) > 1:
        return cands, "ambiguous name: " + ", ".join(f"{c} {n}" for c, n in cands)
    return cands, ""


def match_pieces(
    communes: pd.DataFrame, old_units: pd.DataFrame, manual: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Match each 2009 piece to pre-reform (2025-03) commune code(s).

    Parameters
    ----------
    communes : pandas.DataFrame
        Pieces as from :func:`load_communes_2009` (geometry not used).
    old_units : pandas.DataFrame
        Pre-reform communes of the former provinces: ``commune_code``, ``commune_name``,
        ``province_code`` (e.g. ``official_units("2025-03", FORMER_PROVINCES)``).
    manual : pandas.DataFrame
        As from :func:`load_manual_matches`.

    Returns
    -------
    matches : pandas.DataFrame
        One row per (piece, code), in piece order: ``piece_id``, ``old_commune_code`` ("" when
        unmatched), ``method`` ("manual", "code", "name" or "unmatched") and ``reason`` (the manual
        reason, or why unmatched).
    problems : list of str
        Manual rows that match no piece (stale rows); empty when all is well.

    Raises
    ------
    SchemaError
        A manual row names a code that is not a pre-reform commune of its province.
    """
    known = dict(zip(old_units["commune_code"], old_units["province_code"], strict=True))
    rows, problems = _manual_rows(communes, known, manual)
    done = {r["piece_id"] for r in rows}
    code_rows, ranges = _code_rows(communes, known, done)
    rows += code_rows
    done |= {r["piece_id"] for r in code_rows}
    claimed = {r["old_commune_code"] for r in rows}

    by_name: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for code, name, prov in zip(
        old_units["commune_code"], old_units["commune_name"], old_units["province_code"], strict=True
    ):
        if code not in claimed:
            by_name[(prov, normalize_name(name))].append((code, name))
    tentative: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for pid, prov, district, name in zip(
        communes["piece_id"],
        communes["province_code"],
        communes["district_vn"],
        communes["commune_vn"],
        strict=True,
    ):
        if pid in done:
            continue
        cands, reason = _name_candidates(
            name, by_name.get((prov, normalize_name(name)), []), f"{prov}|{district}", ranges
        )
        if reason:
            reasons[pid] = reason
        else:
            tentative[pid] = cands[0][0]
    twice = {code for code in tentative.values() if list(tentative.values()).count(code) > 1}
    for pid, code in tentative.items():
        if code in twice:
            reasons[pid] = f"name matches code {code} together with another polygon"
        else:
            rows.append({"piece_id": pid, "old_commune_code": code, "method": "name", "reason": ""})
            done.add(pid)
    rows += [
        {"piece_id": pid, "old_commune_code": "", "method": "unmatched", "reason": reasons[pid]}
        for pid in communes["piece_id"]
        if pid not in done
    ]
    order = {pid: i for i, pid in enumerate(communes["piece_id"])}
    matches = pd.DataFrame(rows, columns=["piece_id", "old_commune_code", "method", "reason"])
    matches = matches.sort_values("piece_id", key=lambda s: s.map(order), kind="stable")
    return matches.reset_index(drop=True), problems
