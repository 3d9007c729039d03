"""Synthetic household / adult take-up survey (``survey/hamlet_survey.csv``), calibrated.

Each hamlet's FTTH, smartphone and internet rates come from a logistic model: lower far from
towns, in poor and Khmer-majority hamlets, beyond fibre reach and out of good mobile coverage, plus a
hamlet random effect; a few hamlets with fibre and coverage get a take-up shock (usage gaps). The
intercepts are then solved by bisection so that the province-wide weighted rates hit the published
figures (FTTH 69.3% of households, 76% of adults with a smartphone, 84% using the internet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datagen.params import GeneratorParams

SURVEY_COLUMNS: tuple[str, ...] = (
    "hamlet_id",
    "commune_id",
    "hamlet_name",
    "households",
    "households_ftth",
    "adults",
    "adults_with_smartphone",
    "adults_internet_users",
    "survey_date",
    "source",
)
SOURCE = "synthetic (PhuSong datagen)"

COMMUNE_LEVEL_ROWS = 3
"""Communes reported as one commune-level row (no hamlet breakdown), to exercise that path."""

LOW_TAKE_UP_SHARE = 0.06
"""Share of well-served hamlets (fibre ≤ 1.5 km, site ≤ 1.5 km) given a take-up shock."""


@dataclass(frozen=True)
class Calibration:
    """Achieved province-wide rates (0–1) and the solved logit intercepts."""

    ftth_household_share: float
    smartphone_adult_share: float
    internet_adult_share: float
    ftth_intercept: float
    smartphone_intercept: float
    internet_delta: float


def _expit(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def solve_offset(
    rate_of: Callable[[float], float], target: float, *, lo: float = -15.0, hi: float = 15.0
) -> float:
    """Return the offset at which the non-decreasing ``rate_of(offset)`` is closest to ``target``.

    Bisection, 60 steps. ``rate_of`` must be non-decreasing in the offset.
    """
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if rate_of(mid) < target:
            lo = mid
        else:
            hi = mid
    return lo if abs(rate_of(lo) - target) <= abs(rate_of(hi) - target) else hi


def _rounded(n: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.rint(n * p).astype(np.int64)


def take_up_scores(
    frame: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return logit scores (before intercepts) for FTTH, smartphones and the internet extra.

    Parameters
    ----------
    frame
        Hamlets with ``urban``, ``dist_to_town_km``, ``khmer_share``, ``poor_household_share``,
        ``fibre_dist_m`` (road distance to the nearest fibre node) and ``site_dist_m`` (distance to
        the nearest active site).
    rng
        Random generator of the survey layer.
    """
    n = len(frame)
    urban = frame["urban"].to_numpy(dtype=float)
    town_km = frame["dist_to_town_km"].to_numpy(dtype=float)
    khmer = frame["khmer_share"].to_numpy(dtype=float)
    poor = frame["poor_household_share"].to_numpy(dtype=float)
    fibre_m = frame["fibre_dist_m"].to_numpy(dtype=float)
    site_m = frame["site_dist_m"].to_numpy(dtype=float)
    effect = rng.normal(0.0, 0.35, n)
    shock = np.zeros(n)
    served = np.flatnonzero((fibre_m <= 1500) & (site_m <= 1500) & (urban == 0))
    hit = rng.choice(served, size=int(round(LOW_TAKE_UP_SHARE * len(served))), replace=False)
    shock[hit] = 1.0
    ftth = (
        0.9 * urban
        - 0.07 * town_km
        - 1.2 * khmer
        - 3.0 * poor
        + effect
        + rng.normal(0.0, 0.25, n)
        - 2.6 * (fibre_m > 3000)
        - 0.8 * ((fibre_m > 2000) & (fibre_m <= 3000))
        - 1.8 * shock
    )
    smart = (
        0.5 * urban
        - 0.04 * town_km
        - 0.8 * khmer
        - 2.5 * poor
        + 0.8 * effect
        + rng.normal(0.0, 0.2, n)
        - 0.7 * (site_m > 4000)
        - 0.3 * ((site_m > 2500) & (site_m <= 4000))
        - 1.0 * shock
    )
    internet_extra = rng.uniform(0.0, 0.4, n)
    return ftth, smart, internet_extra


def generate_survey(
    hamlets: pd.DataFrame,
    *,
    params: GeneratorParams,
    rng: np.random.Generator,
    commune_level_pool: Collection[str] | None = None,
    n_commune_level: int = COMMUNE_LEVEL_ROWS,
) -> tuple[pd.DataFrame, Calibration]:
    """Draw the survey and calibrate it to the province's published rates.

    Parameters
    ----------
    hamlets
        Hamlets (see :func:`take_up_scores` for columns) with ``hamlet_id``, ``commune_id``,
        ``hamlet_name``, ``households``, ``population``, ``urban``.
    params
        Targets (``target_*``), ``adult_share`` and ``survey_date``.
    rng
        Random generator of the survey layer.
    commune_level_pool
        Communes that may be reported as one commune-level row (default: every rural commune).
    n_commune_level
        Number of communes reported as commune-level rows (default :data:`COMMUNE_LEVEL_ROWS`).

    Returns
    -------
    (pandas.DataFrame, Calibration)
        Rows in :data:`SURVEY_COLUMNS` (hamlet rows, and commune-level rows for a few communes) and
        the achieved rates.
    """
    frame = hamlets.reset_index(drop=True)
    hh = frame["households"].to_numpy(dtype=np.int64)
    adult_share = np.clip(rng.normal(params.adult_share, 0.015, len(frame)), 0.62, 0.78)
    adults = np.maximum(np.rint(frame["population"].to_numpy() * adult_share).astype(np.int64), 1)
    ftth_s, smart_s, extra = take_up_scores(frame, rng)

    def ftth_rate(a: float) -> float:
        return float(_rounded(hh, _expit(a + ftth_s)).sum() / hh.sum())

    def smart_rate(a: float) -> float:
        return float(_rounded(adults, _expit(a + smart_s)).sum() / adults.sum())

    a_f = solve_offset(ftth_rate, params.target_ftth_household_share)
    a_s = solve_offset(smart_rate, params.target_smartphone_adult_share)
    smart = _rounded(adults, _expit(a_s + smart_s))

    def internet_counts(delta: float) -> np.ndarray:
        return np.maximum(_rounded(adults, _expit(a_s + smart_s + delta + extra)), smart)

    delta = solve_offset(
        lambda d: float(internet_counts(d).sum() / adults.sum()), params.target_internet_adult_share, lo=0.0
    )
    rows = pd.DataFrame(
        {
            "hamlet_id": frame["hamlet_id"],
            "commune_id": frame["commune_id"],
            "hamlet_name": frame["hamlet_name"],
            "households": hh,
            "households_ftth": _rounded(hh, _expit(a_f + ftth_s)),
            "adults": adults,
            "adults_with_smartphone": smart,
            "adults_internet_users": internet_counts(delta),
        }
    )
    rows = _commune_level(rows, frame, rng, pool=commune_level_pool, n_rows=n_commune_level)
    rows["survey_date"] = rows["commune_id"].map(_survey_dates(rows["commune_id"], params.survey_date, rng))
    rows["source"] = SOURCE
    calibration = Calibration(
        ftth_household_share=float(rows["households_ftth"].sum() / rows["households"].sum()),
        smartphone_adult_share=float(rows["adults_with_smartphone"].sum() / rows["adults"].sum()),
        internet_adult_share=float(rows["adults_internet_users"].sum() / rows["adults"].sum()),
        ftth_intercept=a_f,
        smartphone_intercept=a_s,
        internet_delta=delta,
    )
    return rows[list(SURVEY_COLUMNS)], calibration


def _commune_level(
    rows: pd.DataFrame,
    frame: pd.DataFrame,
    rng: np.random.Generator,
    *,
    pool: Collection[str] | None,
    n_rows: int,
) -> pd.DataFrame:
    """Collapse the rows of ``n_rows`` rural communes (of ``pool`` if given) into one row each."""
    rural = sorted(frame.loc[~frame["urban"], "commune_id"].unique())
    if pool is not None:
        allowed = set(pool)
        rural = [c for c in rural if c in allowed]
    chosen = set(rng.choice(rural, size=min(n_rows, len(rural)), replace=False)) if rural else set()
    keep = rows[~rows["commune_id"].isin(chosen)]
    counts = ["households", "households_ftth", "adults", "adults_with_smartphone", "adults_internet_users"]
    agg = rows[rows["commune_id"].isin(chosen)].groupby("commune_id", sort=True)[counts].sum().reset_index()
    agg["hamlet_id"] = ""
    agg["hamlet_name"] = ""
    out = pd.concat([keep, agg[rows.columns]], ignore_index=True)
    out["_order"] = np.where(out["hamlet_id"] == "", out["commune_id"] + "-00", out["hamlet_id"])
    return out.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def _survey_dates(commune_ids: pd.Series, centre: str, rng: np.random.Generator) -> dict[str, str]:
    """Return one ISO date per commune, within ±30 days of ``centre``."""
    base = dt.date.fromisoformat(centre)
    ids = sorted(commune_ids.unique())
    offsets = rng.integers(-30, 31, len(ids))
    return {c: (base + dt.timedelta(days=int(o))).isoformat() for c, o in zip(ids, offsets, strict=True)}
