"""The synthetic 2023 take-up survey of the new Vĩnh Long, in the units it was collected in.

The survey is dated 2023, before the reform: it was collected in the old communes. Each former
province is drawn and calibrated on its own by :func:`datagen.survey.generate_survey` (its targets:
published for Trà Vinh, assumed for the other two), grouped by **former commune**, so that survey dates
and commune-level rows belong to old communes. Every row carries ``former_commune_code`` /
``former_commune_name`` and its new ``commune_id``; hamlet rows carry the ``hamlet_id``. Commune-level
rows (no hamlet breakdown) are made only for old communes that went whole into one new commune, so
that their new ``commune_id`` is exact.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from datagen.params import GeneratorParams
from datagen.survey import SURVEY_COLUMNS, Calibration, generate_survey
from datagen.vinh_long.calibration import FORMER_PROVINCES

SURVEY_COLUMNS_2025: tuple[str, ...] = (
    "hamlet_id",
    "commune_id",
    "former_commune_code",
    "former_commune_name",
    *SURVEY_COLUMNS[2:],
)
"""Columns of ``survey/hamlet_survey.csv`` in the 2025-07 package."""

COMMUNE_LEVEL_ROWS_PER_PROVINCE = 1
"""Old communes per former province reported as one commune-level row (3 in all, as for Trà Vinh)."""


def whole_former_communes(frame: pd.DataFrame) -> set[str]:
    """Former commune keys that may be reported at commune level: a pre-reform code, rural, not split."""
    by_key = frame.groupby("former_key")
    whole = by_key["new_commune_id"].nunique() == 1
    rural = ~by_key["urban"].any()
    coded = by_key["former_commune_code"].first() != ""
    split = by_key["former_split"].any()
    ok = whole & rural & coded & ~split
    return set(ok[ok].index)


def generate_survey_2025(
    frame: pd.DataFrame, *, params: GeneratorParams, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, Calibration]]:
    """Draw and calibrate the survey per former province.

    Parameters
    ----------
    frame
        Hamlets (internal frame of :func:`datagen.vinh_long.hamlets.generate_hamlets_2025`) with
        ``fibre_dist_m`` and ``site_dist_m``.
    params
        Shared parameters (adult share, survey date); the targets come from each former province.
    rng
        Random generator of the survey layer.

    Returns
    -------
    (pandas.DataFrame, dict)
        Rows in :data:`SURVEY_COLUMNS_2025` (sorted by new commune, then hamlet) and the achieved
        calibration per former province code.
    """
    pool = whole_former_communes(frame)
    new_of = frame.groupby("former_key")["new_commune_id"].first()
    name_of = frame.groupby("former_key")["former_commune_name"].first()
    code_of = frame.groupby("former_key")["former_commune_code"].first()
    hamlet_of = frame.set_index("hamlet_id")
    parts = []
    calibration: dict[str, Calibration] = {}
    for fp in FORMER_PROVINCES:
        sub = frame[frame["former_province_code"] == fp.code].reset_index(drop=True)
        fp_params = dataclasses.replace(
            params,
            target_ftth_household_share=float(fp.ftth_household_share.value),
            target_smartphone_adult_share=float(fp.smartphone_adult_share.value),
            target_internet_adult_share=float(fp.internet_adult_share.value),
        )
        rows, cal = generate_survey(
            sub.assign(commune_id=sub["former_key"]),
            params=fp_params,
            rng=rng,
            commune_level_pool=pool,
            n_commune_level=COMMUNE_LEVEL_ROWS_PER_PROVINCE,
        )
        calibration[fp.code] = cal
        key = rows["commune_id"]
        hamlet_rows = rows["hamlet_id"] != ""
        rows["commune_id"] = np.where(
            hamlet_rows, rows["hamlet_id"].map(hamlet_of["new_commune_id"]), key.map(new_of)
        )
        rows["former_commune_code"] = key.map(code_of)
        rows["former_commune_name"] = key.map(name_of)
        parts.append(rows)
    survey = pd.concat(parts, ignore_index=True)
    survey["_order"] = np.where(survey["hamlet_id"] == "", survey["commune_id"] + "-000", survey["hamlet_id"])
    survey = survey.sort_values(["_order", "former_commune_code"], kind="stable").drop(columns="_order")
    return survey[list(SURVEY_COLUMNS_2025)].reset_index(drop=True), calibration
