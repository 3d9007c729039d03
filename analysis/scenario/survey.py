"""Programmes carried into the survey rows, so that the KPIs (computed from survey counts) move too."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.scenario.edits import programme_hamlets
from analysis.scenario.model import Programme

__all__ = ["apply_programmes_to_survey"]

#: (count column, base column, points attribute) of each share a programme can raise.
_SHARES = (
    ("adults_with_smartphone", "adults", "smartphone_points"),
    ("households_ftth", "households", "ftth_points"),
)


def apply_programmes_to_survey(
    survey: pd.DataFrame, indicators: pd.DataFrame, hamlets: pd.DataFrame, programmes: tuple[Programme, ...]
) -> pd.DataFrame:
    """Survey rows after the programmes.

    A survey row may stand for one hamlet or (commune-level rows) for every hamlet of a commune
    without its own row. A programme adds its points to a row's share in proportion to the
    households of the row's hamlets it runs in: ``share + points x covered households / row
    households``, capped at 1; the count follows (``count = share x base``, unrounded). A row whose
    hamlets the programme does not reach is unchanged.

    Parameters
    ----------
    survey
        The package's survey rows.
    indicators
        :func:`analysis.gaps.hamlet_survey_indicators` of the baseline (``survey_row`` per hamlet).
    hamlets
        Hamlets with ``hamlet_id``, ``commune_id``, ``households``.
    """
    if not programmes:
        return survey
    out = survey.reset_index(drop=True).copy()
    hid = hamlets["hamlet_id"].astype(str).to_numpy()
    row_of = indicators["survey_row"].reindex(hid).fillna(-1).astype(int).to_numpy()
    hh = pd.to_numeric(hamlets["households"], errors="coerce").fillna(0).to_numpy(dtype=float)
    used = row_of >= 0
    row_hh = np.bincount(row_of[used], weights=hh[used], minlength=len(out))
    for prog in programmes:
        runs = programme_hamlets(hamlets, prog).to_numpy() & used
        covered = np.bincount(row_of[runs], weights=hh[runs], minlength=len(out))
        with np.errstate(invalid="ignore", divide="ignore"):
            part = np.where(row_hh > 0, covered / row_hh, 0.0)
        for count_col, base_col, attr in _SHARES:
            points = float(getattr(prog, attr))
            if not points or count_col not in out or base_col not in out:
                continue
            base = pd.to_numeric(out[base_col], errors="coerce").to_numpy(dtype=float)
            count = pd.to_numeric(out[count_col], errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.minimum(count / base + points / 100.0 * part, 1.0)
            touched = (part > 0) & np.isfinite(share) & (base > 0)
            out[count_col] = np.where(touched, share * base, count)
    return out
