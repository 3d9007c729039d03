"""Weights of split old communes: households of their hamlets, else area of their parts, else equal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.crosswalk.common import normalise_code
from geo.crosswalk.units import _pairs
from geo.errors import SchemaError


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
