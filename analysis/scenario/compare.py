"""Before / after tables of a scenario: per hamlet, per commune, and the headline numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.kpi import KpiSnapshot

if TYPE_CHECKING:
    from analysis.scenario.costs import ScenarioCosts

__all__ = ["HAMLET_COLUMNS", "compare_communes", "compare_hamlets", "summarise"]

#: Identity columns carried from the gap table.
_IDENTITY = ("hamlet_id", "hamlet_name", "commune_id", "commune_name", "former_commune_code", "households")
#: Gap-table columns compared before / after (``<name>_before``, ``<name>_after``).
_COMPARED = (
    "share_hh_good_4g",
    "share_hh_no_4g",
    "fibre_reach_class",
    "fibre_distance_m",
    "ftth_share",
    "smartphone_share",
    "priority_score",
)
HAMLET_COLUMNS = (
    *_IDENTITY,
    "hh_good_4g_before",
    "hh_good_4g_after",
    "hh_gained_good_4g",
    "hh_lost_good_4g",
    *(f"{c}_{w}" for c in _COMPARED for w in ("before", "after")),
    "flags_before",
    "flags_after",
    "flags_cleared",
    "flags_new",
    "changed",
)


def _flags(value: object) -> set[str]:
    return {f for f in str(value or "").split(";") if f}


def _join(flags: set[str]) -> str:
    return ";".join(sorted(flags))


def compare_hamlets(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per hamlet with its indicators and flags before and after (:data:`HAMLET_COLUMNS`).

    ``hh_good_4g`` = households x share of households at good 4G; ``hh_gained_good_4g`` /
    ``hh_lost_good_4g`` are the positive / negative parts of the change (0.1 household precision).
    ``flags_cleared`` / ``flags_new``: flags that went / appeared (";"-joined). ``changed``: any
    compared value or flag differs.
    """
    b = before.set_index(before["hamlet_id"].astype(str))
    a = after.set_index(after["hamlet_id"].astype(str)).reindex(b.index)
    out = pd.DataFrame(index=b.index)
    for col in _IDENTITY:
        if col in b:
            out[col] = b[col].to_numpy()
    hh = pd.to_numeric(b["households"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    good_b = hh * pd.to_numeric(b["share_hh_good_4g"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    good_a = hh * pd.to_numeric(a["share_hh_good_4g"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    out["hh_good_4g_before"] = np.round(good_b, 1)
    out["hh_good_4g_after"] = np.round(good_a, 1)
    out["hh_gained_good_4g"] = np.round(np.clip(good_a - good_b, 0, None), 1)
    out["hh_lost_good_4g"] = np.round(np.clip(good_b - good_a, 0, None), 1)
    changed = np.zeros(len(out), dtype=bool)
    for col in _COMPARED:
        if col not in b:
            continue
        out[f"{col}_before"] = b[col].to_numpy()
        out[f"{col}_after"] = a[col].to_numpy()
        x, y = b[col], a[col]
        same = (x == y) | (x.isna() & y.isna())
        changed |= ~same.to_numpy()
    fb = [_flags(v) for v in b["flags"]]
    fa = [_flags(v) for v in a["flags"]]
    out["flags_before"] = [_join(f) for f in fb]
    out["flags_after"] = [_join(f) for f in fa]
    out["flags_cleared"] = [_join(x - y) for x, y in zip(fb, fa, strict=True)]
    out["flags_new"] = [_join(y - x) for x, y in zip(fb, fa, strict=True)]
    out["changed"] = changed | (out["flags_before"] != out["flags_after"]).to_numpy()
    return out.reset_index(drop=True)[[c for c in HAMLET_COLUMNS if c in out.columns]]


def compare_communes(hamlets: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """One row per commune: households at good 4G, flagged hamlets and flag counts before / after.

    Columns: ``commune_id``, ``commune_name``, ``hamlets``, ``households``, ``hh_good_4g_before``,
    ``hh_good_4g_after``, ``hh_gained_good_4g``, ``hh_lost_good_4g``, ``hamlets_flagged_before``,
    ``hamlets_flagged_after``, ``hamlets_drop_reach_before`` / ``_after`` (fibre within drop reach),
    ``flags_cleared``, ``flags_new`` (counts) and the hamlet ids whose flags changed.
    """
    h = hamlets.copy()
    h["commune_id"] = h["commune_id"].astype(str)
    h["_flagged_b"] = h["flags_before"] != ""
    h["_flagged_a"] = h["flags_after"] != ""
    h["_drop_b"] = h.get("fibre_reach_class_before", pd.Series("", index=h.index)) == "drop"
    h["_drop_a"] = h.get("fibre_reach_class_after", pd.Series("", index=h.index)) == "drop"
    h["_cleared"] = h["flags_cleared"].map(lambda s: len(_flags(s)))
    h["_new"] = h["flags_new"].map(lambda s: len(_flags(s)))
    h["_flag_changed"] = h["flags_before"] != h["flags_after"]
    g = h.groupby("commune_id", sort=True)
    out = pd.DataFrame(
        {
            "hamlets": g.size(),
            "households": g["households"].sum(),
            "hh_good_4g_before": g["hh_good_4g_before"].sum().round(1),
            "hh_good_4g_after": g["hh_good_4g_after"].sum().round(1),
            "hh_gained_good_4g": g["hh_gained_good_4g"].sum().round(1),
            "hh_lost_good_4g": g["hh_lost_good_4g"].sum().round(1),
            "hamlets_flagged_before": g["_flagged_b"].sum(),
            "hamlets_flagged_after": g["_flagged_a"].sum(),
            "hamlets_drop_reach_before": g["_drop_b"].sum(),
            "hamlets_drop_reach_after": g["_drop_a"].sum(),
            "flags_cleared": g["_cleared"].sum(),
            "flags_new": g["_new"].sum(),
            "hamlets_changed": h[h["_flag_changed"]].groupby("commune_id")["hamlet_id"].agg(";".join),
        }
    )
    out["hamlets_changed"] = out["hamlets_changed"].fillna("")
    names = communes[["commune_id", "commune_name"]].astype({"commune_id": str}).drop_duplicates("commune_id")
    out = names.set_index("commune_id").join(out, how="left")
    for col in out.columns:
        if col not in ("commune_name", "hamlets_changed"):
            out[col] = out[col].fillna(0)
    out["hamlets_changed"] = out["hamlets_changed"].fillna("")
    return out.reset_index()


def _kpi_rows(before: KpiSnapshot, after: KpiSnapshot) -> list[dict[str, Any]]:
    rows = []
    after_by_key = {k.key: k for k in after.kpis}
    for k in before.kpis:
        a = after_by_key.get(k.key)
        rows.append(
            {
                "key": str(k.key),
                "target": k.target,
                "before": k.value,
                "after": None if a is None else a.value,
                "status_before": str(k.status),
                "status_after": None if a is None else str(a.status),
                "higher_is_better": k.higher_is_better,
            }
        )
    return rows


def _by_type(flags: pd.Series) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in flags:
        for f in _flags(value):
            counts[f] = counts.get(f, 0) + 1
    return dict(sorted(counts.items()))


def summarise(
    hamlets: pd.DataFrame, kpis_before: KpiSnapshot, kpis_after: KpiSnapshot, costs: ScenarioCosts
) -> dict[str, Any]:
    """Headline numbers of a scenario: households brought to good 4G, hamlets whose flags clear or
    appear, KPI change against the targets, total cost and cost per household brought to target.

    ``households_brought_to_target`` counts the households of hamlets with at least one cleared
    flag and no new one, plus the households gaining good 4G in hamlets without a cleared flag.
    """
    cleared = hamlets["flags_cleared"] != ""
    new = hamlets["flags_new"] != ""
    all_clear = (hamlets["flags_before"] != "") & (hamlets["flags_after"] == "")
    hh = pd.to_numeric(hamlets["households"], errors="coerce").fillna(0)
    gained = float(hamlets["hh_gained_good_4g"].sum())
    to_target = float(hh[cleared & ~new].sum() + hamlets.loc[~cleared, "hh_gained_good_4g"].sum())
    total = costs.total_vnd
    service = {}
    for col in (
        "hh_lose_all_service",
        "hh_drop_to_weak",
        "hh_lose_operator_service",
        "hh_operator_drop_to_weak",
    ):
        if col in hamlets:
            values = pd.to_numeric(hamlets[col], errors="coerce").fillna(0.0)
            service[f"households_{col[3:]}"] = round(float(values.sum()), 1)
            service[f"hamlets_{col[3:]}"] = int((values > 0).sum())
    return {
        "households_gained_good_4g": round(gained, 1),
        "households_lost_good_4g": round(float(hamlets["hh_lost_good_4g"].sum()), 1),
        "hamlets_with_cleared_flags": int(cleared.sum()),
        "hamlets_now_unflagged": int(all_clear.sum()),
        "hamlets_with_new_flags": int(new.sum()),
        "hamlets_changed": int(hamlets["changed"].sum()),
        "households_brought_to_target": round(to_target, 1),
        "cost_total_vnd": round(total),
        "cost_per_household_to_target_vnd": round(total / to_target) if to_target > 0 else None,
        "cost_per_household_good_4g_vnd": round(costs.sites_vnd / gained) if gained > 0 else None,
        "flags_cleared_by_type": _by_type(hamlets["flags_cleared"]),
        "flags_new_by_type": _by_type(hamlets["flags_new"]),
        **service,
        "kpis": _kpi_rows(kpis_before, kpis_after),
        "costs": costs.as_dict(),
    }
