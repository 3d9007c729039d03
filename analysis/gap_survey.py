"""Survey indicators per hamlet (FTTH take-up, smartphones) and the thresholds they are judged by
(national target, province average or the lower of both)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from analysis.gap_signal import _text
from analysis.params import GapParams
from geo.errors import SchemaError
from geo.names import normalize_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedThresholds:
    """The numbers actually used for one run (recorded in every export's metadata).

    Parameters
    ----------
    no_mobile_max_share_no_4g, weak_mobile_min_share_good_4g
        From :class:`analysis.params.GapThresholds`.
    no_fibre_drop_reach_m, extendable_m
        From :class:`analysis.params.ReachParams` (metres by road).
    ftth_min_share, smartphone_min_share
        After applying the basis.
    basis
        The :data:`analysis.params.ThresholdBasis` used.
    province_ftth_share, province_smartphone_share
        Household- / adult-weighted survey averages (NaN without survey data).
    """

    no_mobile_max_share_no_4g: float
    weak_mobile_min_share_good_4g: float
    no_fibre_drop_reach_m: float
    extendable_m: float
    ftth_min_share: float
    smartphone_min_share: float
    basis: str
    province_ftth_share: float
    province_smartphone_share: float

    def as_metadata(self) -> dict[str, str]:
        """Flat ``{name: text}`` for export metadata (prefixed ``threshold_``)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f"threshold_{f.name}"] = value if isinstance(value, str) else _num_text(value)
        return out


def _num_text(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:g}"


_SURVEY_COUNTS = ("households", "households_ftth", "adults", "adults_with_smartphone")


def hamlet_survey_indicators(hamlets: pd.DataFrame, survey: pd.DataFrame) -> pd.DataFrame:
    """Per-hamlet FTTH and smartphone shares from the survey.

    Rows are matched by ``hamlet_id`` (or ``commune_id`` + normalised ``hamlet_name``); when a
    hamlet has several rows the latest ``survey_date`` wins; a hamlet with no row of its own uses
    its commune-level row (``hamlet_id`` and ``hamlet_name`` empty), marked ``survey_level =
    "commune"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``hamlet_id``: ``survey_row`` (row position in ``survey``, -1 none),
        ``survey_households``, ``households_ftth``, ``adults``, ``adults_with_smartphone``,
        ``ftth_share``, ``smartphone_share`` (0–1, NaN without data), ``survey_level``
        (``hamlet`` / ``commune`` / ``none``), ``survey_date`` (str).

    Raises
    ------
    SchemaError
        A count column is missing from the survey.
    """
    missing = [c for c in _SURVEY_COUNTS if c not in survey.columns]
    if missing:
        raise SchemaError(f"survey/hamlet_survey.csv lacks column(s) {', '.join(missing)}")
    sv = survey.reset_index(drop=True).copy()
    sv["_row"] = np.arange(len(sv))
    for col in ("hamlet_id", "commune_id", "hamlet_name", "survey_date"):
        sv[col] = _text(sv[col]) if col in sv else ""
    hid = _text(hamlets["hamlet_id"])
    cid = _text(hamlets["commune_id"]) if "commune_id" in hamlets else pd.Series("", index=hamlets.index)
    by_name = {
        (c, normalize_name(n)): h for h, c, n in zip(hid, cid, _text(hamlets["hamlet_name"]), strict=True)
    }
    named = (sv["hamlet_id"] == "") & (sv["hamlet_name"] != "")
    sv.loc[named, "hamlet_id"] = [
        by_name.get((c, normalize_name(n)), "")
        for c, n in zip(sv.loc[named, "commune_id"], sv.loc[named, "hamlet_name"], strict=True)
    ]
    unmatched = named & (sv["hamlet_id"] == "")
    if unmatched.any():
        log.warning(
            "survey: %d row(s) name a hamlet not in the hamlets layer (rows %s)",
            int(unmatched.sum()),
            ", ".join(str(r + 2) for r in sv.index[unmatched][:10]),
        )
    sv["_named"] = named
    sv = sv.sort_values(["survey_date", "_row"], kind="stable")
    hamlet_rows = sv[sv["hamlet_id"] != ""].drop_duplicates("hamlet_id", keep="last").set_index("hamlet_id")
    commune_rows = sv[(sv["hamlet_id"] == "") & ~sv["_named"] & (sv["commune_id"] != "")]
    commune_rows = commune_rows.drop_duplicates("commune_id", keep="last").set_index("commune_id")
    own = hid.isin(hamlet_rows.index).to_numpy()
    fallback = ~own & cid.isin(commune_rows.index).to_numpy()
    rows = np.full(len(hid), -1)
    rows[own] = hamlet_rows.loc[hid[own], "_row"].to_numpy()
    rows[fallback] = commune_rows.loc[cid[fallback], "_row"].to_numpy()
    out = pd.DataFrame({"survey_row": rows}, index=pd.Index(hid.to_numpy(), name="hamlet_id"))
    base = survey.reset_index(drop=True)
    for col in _SURVEY_COUNTS:
        vals = pd.to_numeric(base[col], errors="coerce").to_numpy(dtype=float)
        out["survey_households" if col == "households" else col] = np.where(rows >= 0, vals[rows], np.nan)
    out["ftth_share"] = _ratio(out["households_ftth"], out["survey_households"])
    out["smartphone_share"] = _ratio(out["adults_with_smartphone"], out["adults"])
    out["survey_level"] = np.where(own, "hamlet", np.where(fallback, "commune", "none"))
    dates = sv.set_index("_row")["survey_date"]
    out["survey_date"] = [dates.get(r, "") if r >= 0 else "" for r in rows]
    return out


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num.to_numpy(dtype=float) / den.to_numpy(dtype=float)
    return pd.Series(np.where(np.isfinite(r), r, np.nan), index=num.index)


def resolve_thresholds(indicators: pd.DataFrame, params: GapParams) -> ResolvedThresholds:
    """Apply the threshold basis (national target / province average / lower of both).

    The province averages are ratios of sums over the distinct survey rows in use
    (``Σ households_ftth / Σ households``, ``Σ adults_with_smartphone / Σ adults``).

    Parameters
    ----------
    indicators
        Output of :func:`hamlet_survey_indicators`.
    params
        Gap parameters.
    """
    used = indicators[indicators["survey_row"] >= 0].drop_duplicates("survey_row")
    prov_ftth = _share_of_sums(used["households_ftth"], used["survey_households"])
    prov_phone = _share_of_sums(used["adults_with_smartphone"], used["adults"])
    t = params.thresholds
    ftth = _by_basis(t.ftth_min_share, prov_ftth, t.basis)
    phone = _by_basis(t.smartphone_min_share, prov_phone, t.basis)
    return ResolvedThresholds(
        no_mobile_max_share_no_4g=t.no_mobile_max_share_no_4g,
        weak_mobile_min_share_good_4g=t.weak_mobile_min_share_good_4g,
        no_fibre_drop_reach_m=params.reach.drop_reach_m,
        extendable_m=params.reach.extendable_m,
        ftth_min_share=ftth,
        smartphone_min_share=phone,
        basis=t.basis,
        province_ftth_share=prov_ftth,
        province_smartphone_share=prov_phone,
    )


def _share_of_sums(num: pd.Series, den: pd.Series) -> float:
    d = float(np.nansum(den.to_numpy(dtype=float)))
    return float(np.nansum(num.to_numpy(dtype=float))) / d if d > 0 else float("nan")


def _by_basis(target: float, province: float, basis: str) -> float:
    if basis == "national_target" or np.isnan(province):
        if basis != "national_target":
            log.warning("no survey data for a province average; using the national target %.2f", target)
        return float(target)
    if basis == "province_average":
        return float(province)
    return float(min(target, province))
