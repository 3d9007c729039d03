"""Leadership KPIs: province- and district-level indicators against the national 2025 targets.

Pure functions over the gap table (:func:`analysis.gaps.compute_gaps`) and the survey; no I/O.

Indicators (each a :class:`Kpi` with its value, target and status)
------------------------------------------------------------------
=======================  ======================================================  ===============
key                      value                                                   default target
=======================  ======================================================  ===============
``good_4g``              Σ(households × ``share_hh_good_4g``) / Σ households     1.00 (QĐ 749)
                         whose signal is known
``no_4g``                Σ(households × ``share_hh_no_4g``) / Σ households       0.00 (policy)
                         whose signal is known (lower is better)
``ftth``                 Σ ``households_ftth`` / Σ ``households`` (survey)       0.80 (QĐ 411)
``smartphone``           Σ ``adults_with_smartphone`` / Σ ``adults`` (survey)    0.80 (QĐ 411)
``internet``             Σ ``adults_internet_users`` / Σ ``adults`` (survey, O)  none
``communes_fibre``       communes holding a fibre access node or with ≥ 1 hamlet  1.00 (QĐ 749)
                         within fibre drop reach / communes
``underserved_hamlets``  hamlets with at least one gap flag                      0 (policy)
``households_affected``  households of those hamlets                             0 (policy)
=======================  ======================================================  ===============

Groups
------
The district table of a pre-reform package generalises to the package's group
(:mod:`analysis.grouping`): ``district_name`` before the reform; in the 2025-07 layout the former
province (default breakdown) and the former district, each commune counted once, in the unit that
gave it most (:func:`analysis.grouping.assign_groups`). :func:`former_province_comparison` sets
the former provinces' figures beside what each published (``analysis/config/published.toml``).

Signal shares count only hamlets whose signal is known: a hamlet with a NaN share is left out of
the numerator and the denominator. ``no_4g`` is the dead-zone figure ("vùng lõm sóng"); the
district and commune tables also give it as a count of households (``households_no_4g``). Survey
ratios are ratios of sums over distinct survey rows (never a mean of ratios): the latest row per
hamlet, and a commune-level row only for a commune with no hamlet-level rows (so no household is
counted twice). Targets are policy choices; see :class:`KpiTargets`.
"""

from __future__ import annotations

import logging
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.grouping import NO_GROUP, assign_groups, group_columns, is_pre_reform, level_keys
from geo.errors import ParameterError, SchemaError
from geo.names import normalize_name

if TYPE_CHECKING:
    from analysis.params import GapParams

__all__ = [
    "KpiKey",
    "KpiStatus",
    "KpiTargets",
    "Kpi",
    "higher_is_better",
    "KpiSnapshot",
    "GAPS_REQUIRED_COLUMNS",
    "SURVEY_REQUIRED_COLUMNS",
    "targets_from_gap_params",
    "survey_rows_by_commune",
    "communes_with_fibre_nodes",
    "compute_kpis",
    "PUBLISHED_INDICATORS",
    "PublishedFigure",
    "load_published_figures",
    "former_province_comparison",
]

log = logging.getLogger(__name__)

GAPS_REQUIRED_COLUMNS: tuple[str, ...] = ("hamlet_id", "commune_id", "households")
"""Columns the gap table must have; ``share_hh_good_4g``, ``share_hh_no_4g``, ``fibre_reach_class``,
``flags``, ``affected_households``, ``district_name`` are used when present."""

SURVEY_REQUIRED_COLUMNS: tuple[str, ...] = (
    "households", "households_ftth", "adults", "adults_with_smartphone",
)
"""Count columns of ``survey/hamlet_survey.csv`` (docs/DATA.md) the KPIs sum."""

_DROP_REACH = "drop"
_NO_DISTRICT = NO_GROUP


class KpiKey(StrEnum):
    """The leadership indicators, in display order."""

    GOOD_4G = "good_4g"
    NO_4G = "no_4g"
    FTTH = "ftth"
    SMARTPHONE = "smartphone"
    INTERNET = "internet"
    COMMUNES_FIBRE = "communes_fibre"
    UNDERSERVED_HAMLETS = "underserved_hamlets"
    HOUSEHOLDS_AFFECTED = "households_affected"


class KpiStatus(StrEnum):
    """Whether a KPI meets its target."""

    MET = "met"
    NOT_MET = "not_met"
    NO_TARGET = "no_target"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class KpiTargets:
    """National 2025 targets the KPIs are compared with (shares 0–1, counts ≥ 0).

    Parameters
    ----------
    good_4g_household_share
        Households with good 4G. Decision 749/QĐ-TTg aims at universal 4G/5G by 2025: 1.0.
    no_4g_household_share
        Households with no usable 4G at most (lower is better). Policy choice: 0.0, after Decision
        749/QĐ-TTg's universal 4G.
    ftth_household_share
        Households with an FTTH subscription. Decision 411/QĐ-TTg: 0.80 by 2025.
    smartphone_adult_share
        Adults with a smartphone. Decision 411/QĐ-TTg: 0.80 by 2025.
    internet_adult_share
        Adults using the internet; ``None`` = no target (none is set in 411 or 749).
    communes_fibre_share
        Communes with fibre broadband. Decision 749/QĐ-TTg: 1.0 (100% of communes) by 2025.
    max_underserved_hamlets, max_households_affected
        Policy choice: 0 (every hamlet served).
    """

    good_4g_household_share: float = 1.0
    no_4g_household_share: float = 0.0
    ftth_household_share: float = 0.8
    smartphone_adult_share: float = 0.8
    internet_adult_share: float | None = None
    communes_fibre_share: float = 1.0
    max_underserved_hamlets: int = 0
    max_households_affected: int = 0

    def __post_init__(self) -> None:
        for name in ("good_4g_household_share", "no_4g_household_share", "ftth_household_share",
                     "smartphone_adult_share", "internet_adult_share", "communes_fibre_share"):
            value = getattr(self, name)
            if value is None and name == "internet_adult_share":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ParameterError(f"KpiTargets.{name} must be a share between 0 and 1, got {value!r}")
        for name in ("max_underserved_hamlets", "max_households_affected"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ParameterError(f"KpiTargets.{name} must be a whole number >= 0, got {value!r}")

    def target_for(self, key: KpiKey) -> float | None:
        """The target of one KPI (``None`` when it has none)."""
        return {
            KpiKey.GOOD_4G: self.good_4g_household_share,
            KpiKey.NO_4G: self.no_4g_household_share,
            KpiKey.FTTH: self.ftth_household_share,
            KpiKey.SMARTPHONE: self.smartphone_adult_share,
            KpiKey.INTERNET: self.internet_adult_share,
            KpiKey.COMMUNES_FIBRE: self.communes_fibre_share,
            KpiKey.UNDERSERVED_HAMLETS: float(self.max_underserved_hamlets),
            KpiKey.HOUSEHOLDS_AFFECTED: float(self.max_households_affected),
        }[key]


def targets_from_gap_params(params: GapParams, *, base: KpiTargets | None = None) -> KpiTargets:
    """KPI targets taking the FTTH and smartphone targets from the gap configuration.

    ``GapThresholds.ftth_min_share`` and ``smartphone_min_share`` hold the national targets
    (whatever ``basis`` the hamlet flags use), so a target changed in the app's settings shows in
    the snapshot too.
    """
    base = base or KpiTargets()
    th = params.thresholds
    return KpiTargets(
        good_4g_household_share=base.good_4g_household_share,
        no_4g_household_share=base.no_4g_household_share,
        ftth_household_share=float(th.ftth_min_share),
        smartphone_adult_share=float(th.smartphone_min_share),
        internet_adult_share=base.internet_adult_share,
        communes_fibre_share=base.communes_fibre_share,
        max_underserved_hamlets=base.max_underserved_hamlets,
        max_households_affected=base.max_households_affected,
    )


_HIGHER_IS_BETTER: dict[KpiKey, bool] = {
    KpiKey.GOOD_4G: True, KpiKey.NO_4G: False, KpiKey.FTTH: True, KpiKey.SMARTPHONE: True,
    KpiKey.INTERNET: True, KpiKey.COMMUNES_FIBRE: True, KpiKey.UNDERSERVED_HAMLETS: False,
    KpiKey.HOUSEHOLDS_AFFECTED: False,
}
_COUNT_KPIS = frozenset({KpiKey.UNDERSERVED_HAMLETS, KpiKey.HOUSEHOLDS_AFFECTED})


def higher_is_better(key: KpiKey | str) -> bool:
    """True when a larger value of KPI ``key`` is closer to its target (False for ``no_4g`` and counts)."""
    return _HIGHER_IS_BETTER[KpiKey(key)]


@dataclass(frozen=True)
class Kpi:
    """One indicator with its target.

    Parameters
    ----------
    key
        Which indicator.
    value
        Share (0–1) or count; NaN when there is no data.
    target
        Share or count; ``None`` when the indicator has no target.
    numerator, denominator
        What the share was computed from (households, adults or communes); for counts the
        count and the total it is part of (hamlets or households).
    """

    key: KpiKey
    value: float
    target: float | None
    numerator: float
    denominator: float

    @property
    def is_share(self) -> bool:
        """True for shares (0–1), False for counts."""
        return self.key not in _COUNT_KPIS

    @property
    def higher_is_better(self) -> bool:
        """True when a larger value is closer to the target."""
        return _HIGHER_IS_BETTER[self.key]

    @property
    def status(self) -> KpiStatus:
        """Met / not met / no target / no data."""
        if not math.isfinite(self.value):
            return KpiStatus.NO_DATA
        if self.target is None:
            return KpiStatus.NO_TARGET
        met = (self.value >= self.target - 1e-12 if self.higher_is_better
               else self.value <= self.target + 1e-12)
        return KpiStatus.MET if met else KpiStatus.NOT_MET

    @property
    def gap(self) -> float | None:
        """Distance still to go (≥ 0): target − value when higher is better, else value − target.

        ``0.0`` when met, ``None`` without a target or data.
        """
        if self.target is None or not math.isfinite(self.value):
            return None
        diff = self.target - self.value if self.higher_is_better else self.value - self.target
        return max(0.0, float(diff))


@dataclass(frozen=True, eq=False)
class KpiSnapshot:
    """Province KPIs and the per-group and per-commune tables behind them.

    Parameters
    ----------
    kpis
        Province-level indicators in :class:`KpiKey` order (``internet`` only with survey data).
    districts
        The default breakdown, one row per group of :attr:`group_column` (sorted by name): before
        the reform one row per district (``district_name``); in the 2025-07 layout one row per
        former province (``former_province``); no row when the package names no group. Columns:
        the group column, ``communes``, ``hamlets``, ``households`` and one column per KPI key
        (shares 0–1, counts), plus the sums behind them: ``hh_signal_known`` / ``hh_good_4g`` and
        ``hh_no_4g_known`` / ``hh_no_4g`` (households, unrounded), ``households_no_4g``
        (households without usable 4G, rounded) and the survey sums.
    communes
        The same columns per commune (``commune_id`` first; ``commune_name`` and the group
        columns when known; in the 2025-07 layout the one unit each commune counts in and
        ``<column>_rule``, :func:`analysis.grouping.assign_groups`), for choropleths.
    targets
        The targets used.
    flag_counts
        Hamlets per gap flag.
    group_column
        The column :attr:`districts` is keyed by: ``"district_name"`` before the reform,
        ``"former_province"`` (or ``"former_district"`` when only that is given) in the 2025-07
        layout, ``None`` when the province is the only level.
    levels
        Every breakdown, coarse to fine, by the name of its finest column: ``{"district_name":
        districts}`` before the reform; ``{"former_province": ..., "former_district": ...}`` in the
        2025-07 layout, the former-district table keyed by province and district (both Trà Vinh
        and Bến Tre had a "Huyện Châu Thành").
    layout
        The package's layout.
    """

    kpis: tuple[Kpi, ...]
    districts: pd.DataFrame
    communes: pd.DataFrame
    targets: KpiTargets
    flag_counts: dict[str, int] = field(default_factory=dict)
    group_column: str | None = "district_name"
    levels: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    layout: str = "2009"

    def get(self, key: KpiKey | str) -> Kpi:
        """The province KPI ``key``.

        Raises
        ------
        KeyError
            If that KPI was not computed (e.g. ``internet`` without survey data).
        """
        wanted = KpiKey(key)
        for kpi in self.kpis:
            if kpi.key == wanted:
                return kpi
        raise KeyError(f"KPI {wanted.value!r} was not computed")

    def district_kpis(self, district_name: str) -> tuple[Kpi, ...]:
        """The same indicators for one group of the default breakdown (from :attr:`districts`).

        Before the reform the group is a district; in the 2025-07 layout a former province.

        Raises
        ------
        KeyError
            If there is no such group.
        """
        return self.group_kpis(district_name)

    def group_kpis(self, name: str | tuple[str, ...], *, level: str | None = None) -> tuple[Kpi, ...]:
        """The same indicators for one group of a breakdown (:attr:`levels`).

        Parameters
        ----------
        name
            The group's value; for a level keyed by several columns, all of them in order
            (``("Trà Vinh", "Huyện Trà Cú")``).
        level
            Which breakdown (default :attr:`group_column`).

        Raises
        ------
        KeyError
            If there is no such level or group.
        """
        level = level or self.group_column
        if level is None or level not in self.levels:
            raise KeyError(f"no breakdown {level!r}; known: {', '.join(self.levels) or 'none'}")
        table = self.levels[level]
        keys = level_keys(tuple(self.levels))[level]
        wanted = (name,) if isinstance(name, str) else tuple(name)
        if len(wanted) != len(keys):
            raise KeyError(f"breakdown {level!r} is keyed by {', '.join(keys)}; got {wanted!r}")
        mask = pd.Series(True, index=table.index)
        for key, value in zip(keys, wanted, strict=True):
            mask &= table[key] == value
        rows = table[mask]
        if rows.empty:
            what = _GROUP_WORDS.get(level, level)
            known = ", ".join(" / ".join(map(str, r)) for r in table[list(keys)].itertuples(index=False))
            raise KeyError(f"no {what} named {' / '.join(wanted)!r}; known: {known}")
        return _kpis_from_row(rows.iloc[0], self.targets, [k.key for k in self.kpis])


_GROUP_WORDS = {"district_name": "district", "former_province": "former province",
                "former_district": "former district"}


def _check_columns(frame: pd.DataFrame, required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(f"{what} lacks column(s) {', '.join(missing)}; it has "
                          f"{', '.join(map(str, frame.columns))}")


def _text(series: pd.Series) -> pd.Series:
    """Strings with missing values as ""."""
    return series.astype("string").fillna("").str.strip().astype(object)


def survey_rows_by_commune(survey: pd.DataFrame, hamlet_communes: pd.Series) -> pd.DataFrame:
    """Distinct survey rows with the commune each belongs to.

    Parameters
    ----------
    survey
        ``survey/hamlet_survey.csv`` as read by the loader (docs/DATA.md): counts, ``hamlet_id``
        and/or ``commune_id`` + ``hamlet_name``, ``survey_date``.
    hamlet_communes
        ``commune_id`` indexed by ``hamlet_id`` (to place rows that give only ``hamlet_id``).

    Returns
    -------
    pandas.DataFrame
        ``commune_id``, ``level`` (``hamlet`` / ``commune``) and the count columns; the latest row
        per hamlet; commune-level rows only for communes without hamlet-level rows; rows whose
        commune cannot be found are dropped with a log warning.

    Raises
    ------
    SchemaError
        If a count column is missing.
    """
    _check_columns(survey, SURVEY_REQUIRED_COLUMNS, "survey table")
    rows = survey.copy()
    hamlet_id = _text(rows["hamlet_id"]) if "hamlet_id" in rows else pd.Series("", index=rows.index)
    name = _text(rows["hamlet_name"]) if "hamlet_name" in rows else pd.Series("", index=rows.index)
    commune = _text(rows["commune_id"]) if "commune_id" in rows else pd.Series("", index=rows.index)
    lookup = hamlet_communes.astype(str)
    from_hamlet = hamlet_id.map(lookup).astype(object).fillna("")
    rows["commune_id"] = commune.where(commune != "", from_hamlet)
    rows["level"] = np.where((hamlet_id != "") | (name != ""), "hamlet", "commune")
    rows["_key"] = np.where(hamlet_id != "", "h:" + hamlet_id,
                            "n:" + rows["commune_id"] + ":" + name.map(normalize_name))
    rows.loc[rows["level"] == "commune", "_key"] = "c:" + rows["commune_id"]
    unplaced = rows["commune_id"] == ""
    if unplaced.any():
        log.warning("%d survey row(s) name no known hamlet or commune; left out of the KPIs",
                    int(unplaced.sum()))
        rows = rows[~unplaced]
    if "survey_date" in rows:
        rows = rows.assign(_date=_text(rows["survey_date"])).sort_values("_date", kind="stable")
    rows = rows.drop_duplicates("_key", keep="last")
    with_hamlets = set(rows.loc[rows["level"] == "hamlet", "commune_id"])
    shadowed = (rows["level"] == "commune") & rows["commune_id"].isin(with_hamlets)
    if shadowed.any():
        log.info("%d commune-level survey row(s) ignored: their communes have hamlet rows",
                 int(shadowed.sum()))
    rows = rows[~shadowed]
    counts = [c for c in (*SURVEY_REQUIRED_COLUMNS, "adults_internet_users") if c in rows]
    out = rows[["commune_id", "level", *counts]].copy()
    for col in counts:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out.reset_index(drop=True)


def _flag_mask(gaps: pd.DataFrame) -> pd.Series:
    if "flags" not in gaps:
        raise SchemaError("gap table lacks column flags (';'-joined gap flags, '' for none)")
    return _text(gaps["flags"]) != ""


def _hamlet_frame(gaps: pd.DataFrame, groups: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Per-hamlet numbers the KPIs sum, with the hamlet's commune and groups."""
    _check_columns(gaps, GAPS_REQUIRED_COLUMNS, "gap table")
    hh = pd.to_numeric(gaps["households"], errors="coerce").fillna(0.0).astype(float)
    frame = pd.DataFrame({"commune_id": _text(gaps["commune_id"]).to_numpy(), "households": hh.to_numpy()})
    good, none = (_share_column(gaps, col) for col in ("share_hh_good_4g", "share_hh_no_4g"))
    known = good.notna().to_numpy()
    frame["hh_signal_known"] = np.where(known, hh, 0.0)
    frame["hh_good_4g"] = np.where(known, hh * good.fillna(0.0).clip(0.0, 1.0), 0.0)
    # the same rule for the no-4G share: a hamlet counts when its signal (and this share) is known
    none_known = known & none.notna().to_numpy()
    frame["hh_no_4g_known"] = np.where(none_known, hh, 0.0)
    frame["hh_no_4g"] = np.where(none_known, hh * none.fillna(0.0).clip(0.0, 1.0), 0.0)
    reach = _text(gaps["fibre_reach_class"]) if "fibre_reach_class" in gaps else None
    frame["fibre_known"] = reach is not None
    frame["in_drop_reach"] = (reach == _DROP_REACH).to_numpy() if reach is not None else False
    flagged = _flag_mask(gaps).to_numpy()
    affected = (pd.to_numeric(gaps["affected_households"], errors="coerce").fillna(0.0)
                if "affected_households" in gaps else hh)
    frame["underserved_hamlets"] = flagged.astype(float)
    frame["households_affected"] = np.where(flagged, affected.to_numpy(dtype=float), 0.0)
    lookup = groups.drop_duplicates("commune_id").set_index("commune_id")
    for column in columns:
        frame[column] = frame["commune_id"].map(lookup[column]).fillna(_NO_DISTRICT)
    return frame


def _share_column(gaps: pd.DataFrame, column: str) -> pd.Series:
    """A 0–1 share column of the gap table as floats (all NaN when the table lacks it)."""
    if column not in gaps:
        return pd.Series(np.nan, index=gaps.index, dtype=float)
    return pd.to_numeric(gaps[column], errors="coerce").astype(float)


_SUM_COLUMNS = ("households", "hh_signal_known", "hh_good_4g", "hh_no_4g_known", "hh_no_4g",
                "underserved_hamlets", "households_affected")
_SURVEY_SUMS = ("survey_households", "households_ftth", "adults", "adults_with_smartphone",
                "adults_internet_users")


def _commune_table(hamlets: pd.DataFrame, survey_rows: pd.DataFrame | None,
                   communes: pd.DataFrame, groups: pd.DataFrame, *, with_nodes: set[str]) -> pd.DataFrame:
    """One row per commune of ``communes`` with its groups and hamlet and survey sums."""
    ids = _text(communes["commune_id"])
    table = pd.DataFrame({"commune_id": ids.to_numpy()})
    if "commune_name" in communes:
        table["commune_name"] = _text(communes["commune_name"]).to_numpy()
    for col in groups.columns.drop("commune_id"):
        table[col] = groups[col].to_numpy()
    grouped = hamlets.groupby("commune_id")
    sums = grouped[list(_SUM_COLUMNS)].sum()
    sums["hamlets"] = grouped.size()
    sums["fibre_reached"] = grouped["in_drop_reach"].any().astype(float)
    table = table.merge(sums, left_on="commune_id", right_index=True, how="left")
    if survey_rows is not None and not survey_rows.empty:
        srv = survey_rows.rename(columns={"households": "survey_households"})
        present = [c for c in _SURVEY_SUMS if c in srv]
        table = table.merge(srv.groupby("commune_id")[present].sum(min_count=1),
                            left_on="commune_id", right_index=True, how="left")
    for col in (*_SUM_COLUMNS, "hamlets", "fibre_reached"):
        table[col] = table[col].fillna(0.0)
    table["hamlets"] = table["hamlets"].astype(int)
    table["communes"] = 1
    table["fibre_node"] = table["commune_id"].isin(with_nodes)
    table["fibre_reached"] = np.maximum(table["fibre_reached"], table["fibre_node"].astype(float))
    hamlet_reach_known = bool(hamlets["fibre_known"].any()) if len(hamlets) else False
    table["fibre_known"] = hamlet_reach_known or bool(with_nodes)
    return _add_ratios(table)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return (num.astype(float) / den.where(den > 0)).astype(float)


def _add_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """KPI columns from the summed columns (ratios of sums)."""
    out = table.copy()
    out[KpiKey.GOOD_4G.value] = _ratio(out["hh_good_4g"], out["hh_signal_known"])
    out[KpiKey.NO_4G.value] = _ratio(out["hh_no_4g"], out["hh_no_4g_known"])
    out["households_no_4g"] = out["hh_no_4g"].round().astype(int)
    for key, num, den in ((KpiKey.FTTH, "households_ftth", "survey_households"),
                          (KpiKey.SMARTPHONE, "adults_with_smartphone", "adults"),
                          (KpiKey.INTERNET, "adults_internet_users", "adults")):
        out[key.value] = _ratio(out[num], out[den]) if num in out and den in out else np.nan
    fibre = out["fibre_reached"] if "fibre_reached" in out else 0.0
    out[KpiKey.COMMUNES_FIBRE.value] = np.where(out["fibre_known"], _ratio(fibre, out["communes"]), np.nan)
    out[KpiKey.UNDERSERVED_HAMLETS.value] = out["underserved_hamlets"].astype(int)
    out[KpiKey.HOUSEHOLDS_AFFECTED.value] = out["households_affected"].round().astype(int)
    return out


def _group_table(commune_table: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """The commune sums summed per group of ``keys`` (sorted), with the KPI columns."""
    sum_cols = [c for c in (*_SUM_COLUMNS, "hamlets", "communes", "fibre_reached", *_SURVEY_SUMS)
                if c in commune_table]
    grouped = commune_table.groupby(list(keys), sort=True)
    table = grouped[sum_cols].sum(min_count=1).reset_index()
    for col in (*_SUM_COLUMNS, "hamlets", "communes", "fibre_reached"):
        table[col] = table[col].fillna(0.0)
    table["fibre_known"] = bool(commune_table["fibre_known"].any()) if len(commune_table) else False
    table["hamlets"] = table["hamlets"].astype(int)
    table["communes"] = table["communes"].astype(int)
    return _add_ratios(table)


_NUM_DEN: dict[KpiKey, tuple[str, str]] = {
    KpiKey.GOOD_4G: ("hh_good_4g", "hh_signal_known"),
    KpiKey.NO_4G: ("hh_no_4g", "hh_no_4g_known"),
    KpiKey.FTTH: ("households_ftth", "survey_households"),
    KpiKey.SMARTPHONE: ("adults_with_smartphone", "adults"),
    KpiKey.INTERNET: ("adults_internet_users", "adults"),
    KpiKey.COMMUNES_FIBRE: ("fibre_reached", "communes"),
    KpiKey.UNDERSERVED_HAMLETS: ("underserved_hamlets", "hamlets"),
    KpiKey.HOUSEHOLDS_AFFECTED: ("households_affected", "households"),
}


def _kpis_from_row(row: pd.Series, targets: KpiTargets, keys: list[KpiKey]) -> tuple[Kpi, ...]:
    out = []
    for key in keys:
        num_col, den_col = _NUM_DEN[key]
        value = float(row.get(key.value, np.nan))
        num = float(row.get(num_col, np.nan))
        den = float(row.get(den_col, np.nan))
        out.append(Kpi(key=key, value=value, target=targets.target_for(key), numerator=num,
                       denominator=den))
    return tuple(out)


def _flag_counts(gaps: pd.DataFrame) -> dict[str, int]:
    exploded = _text(gaps["flags"]).str.split(";").explode().str.strip()
    counts = exploded[exploded != ""].value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def communes_with_fibre_nodes(fibre_nodes: pd.DataFrame, communes: pd.DataFrame) -> set[str]:
    """Ids of the communes that hold at least one fibre access node.

    A node's ``commune_id`` is used where filled; other nodes are placed by point-in-polygon when
    both tables have geometries (EPSG:4326).
    """
    ids: set[str] = set()
    tagged = _text(fibre_nodes["commune_id"]) if "commune_id" in fibre_nodes else None
    if tagged is not None:
        ids |= set(tagged[tagged != ""])
    untagged = fibre_nodes if tagged is None else fibre_nodes[(tagged == "").to_numpy()]
    if len(untagged) and isinstance(untagged, gpd.GeoDataFrame) and isinstance(communes, gpd.GeoDataFrame):
        polys = communes[["commune_id", "geometry"]].to_crs(untagged.crs) if untagged.crs else communes
        joined = gpd.sjoin(untagged[["geometry"]], polys, how="inner", predicate="within")
        ids |= set(_text(joined["commune_id"]))
    return ids


def compute_kpis(gaps: pd.DataFrame, *, communes: pd.DataFrame, survey: pd.DataFrame | None = None,
                 fibre_nodes: pd.DataFrame | None = None, targets: KpiTargets | None = None,
                 layout: str | None = None) -> KpiSnapshot:
    """Province KPIs, and the same per group (district, or former province / district) and commune.

    Parameters
    ----------
    gaps
        One row per hamlet (:func:`analysis.gaps.compute_gaps`): ``hamlet_id``, ``commune_id``,
        ``households``, ``flags`` (";"-joined, "" for none) and, when known,
        ``share_hh_good_4g`` and ``share_hh_no_4g`` (0–1), ``fibre_reach_class`` (``drop`` / ``extendable`` /
        ``out_of_reach``), ``affected_households``.
    communes
        ``commune_id``, the group columns (``district_name`` before the reform; in the 2025-07
        layout ``former_province`` / ``former_district`` and ``old_commune_codes`` when known) and
        optionally ``commune_name`` (the commune layer; geometry is ignored). Every commune counts,
        also one without hamlets.
    survey
        ``survey/hamlet_survey.csv`` rows (docs/DATA.md); ``None`` = no FTTH, smartphone or
        internet KPIs (their values are NaN, status ``no_data``).
    fibre_nodes
        Fibre access nodes (``commune_id`` and/or point geometry). A commune "has fibre" when it
        holds a node or one of its hamlets is within drop reach; ``None`` = hamlet reach only.
    targets
        Targets (default :class:`KpiTargets`).
    layout
        The package's layout (``pkg.meta.layout``; default ``"2009"``): decides the groups
        (:func:`analysis.grouping.group_columns`). A commune listing several former units counts in
        the one that gave it most households, by the ``former_commune_code`` of its hamlets in
        ``gaps`` (:func:`analysis.grouping.assign_groups`).

    Returns
    -------
    KpiSnapshot

    Raises
    ------
    SchemaError
        If a required column is missing (the message names it and the table).
    """
    targets = targets or KpiTargets()
    layout = layout or "2009"
    columns = group_columns(layout, communes)
    _check_columns(communes, ("commune_id", *(columns if is_pre_reform(layout) else ())), "commune table")
    groups = assign_groups(communes, layout, hamlets=gaps)
    if is_pre_reform(layout):
        groups = groups[["commune_id", *columns]]
    hamlets = _hamlet_frame(gaps, groups, columns)
    survey_rows = None
    if survey is not None:
        lookup = pd.Series(_text(gaps["commune_id"]).to_numpy(), index=_text(gaps["hamlet_id"]).to_numpy())
        survey_rows = survey_rows_by_commune(survey, lookup[~lookup.index.duplicated()])
    with_nodes = communes_with_fibre_nodes(fibre_nodes, communes) if fibre_nodes is not None else set()
    commune_table = _commune_table(hamlets, survey_rows, communes, groups, with_nodes=with_nodes)
    orphans = ~hamlets["commune_id"].isin(set(commune_table["commune_id"]))
    if orphans.any():
        log.warning("%d hamlet(s) belong to no commune of the commune layer; left out of the KPIs",
                    int(orphans.sum()))
    levels = {level: _group_table(commune_table, keys) for level, keys in level_keys(columns).items()}
    province_table = _group_table(commune_table.assign(_province="*"), ("_province",))
    province = province_table.iloc[0]
    default = columns[0] if columns else None
    districts = levels[default] if default else province_table.drop(columns="_province").iloc[0:0]
    keys = [k for k in KpiKey if k is not KpiKey.INTERNET
            or (survey_rows is not None and "adults_internet_users" in survey_rows)]
    return KpiSnapshot(
        kpis=_kpis_from_row(province, targets, keys),
        districts=districts,
        communes=commune_table,
        targets=targets,
        flag_counts=_flag_counts(gaps),
        group_column=default,
        levels=levels,
        layout=layout,
    )


# --------------------------------------------------------------------------- published figures

PUBLISHED_INDICATORS: tuple[str, ...] = (KpiKey.INTERNET.value, KpiKey.SMARTPHONE.value, KpiKey.FTTH.value,
                                         "mobile_subscriptions_per_100")
"""Indicators a published figure may give: KPI keys (shares) and mobile subscriptions per 100 people
(no KPI: packages hold no subscription counts)."""

_COMPARED_KPIS: tuple[KpiKey, ...] = (KpiKey.INTERNET, KpiKey.SMARTPHONE, KpiKey.FTTH)
_PUBLISHED_FIELDS = ("new_province_code", "former_province", "former_province_code", "indicator", "value",
                     "year", "source", "wording_vi", "basis_en")


@dataclass(frozen=True)
class PublishedFigure:
    """One figure a pre-reform province published about itself (``analysis/config/published.toml``).

    Parameters
    ----------
    new_province_code
        The 2025-07 province it is now part of ("86").
    former_province, former_province_code
        The pre-reform province ("Trà Vinh", "84").
    indicator
        One of :data:`PUBLISHED_INDICATORS`.
    value
        A share (0–1) for KPI keys, subscriptions per 100 people otherwise.
    year
        The year the figure describes.
    source
        Who published it, where and when.
    wording_vi, basis_en
        The figure as published, and what it counts (it may differ from the KPI's basis).
    """

    new_province_code: str
    former_province: str
    former_province_code: str
    indicator: str
    value: float
    year: int
    source: str
    wording_vi: str
    basis_en: str

    @property
    def is_share(self) -> bool:
        """True when :attr:`value` is a share (0–1)."""
        return self.indicator != "mobile_subscriptions_per_100"


def _published_figure(row: Mapping[str, Any], where: str) -> PublishedFigure:
    missing = [f for f in _PUBLISHED_FIELDS if f not in row]
    if missing:
        raise ParameterError(f"{where} lacks {', '.join(missing)}")
    indicator = str(row["indicator"])
    if indicator not in PUBLISHED_INDICATORS:
        raise ParameterError(
            f"{where}: indicator {indicator!r} is not one of {', '.join(PUBLISHED_INDICATORS)}")
    value, year = row["value"], row["year"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ParameterError(f"{where}: value must be a number >= 0, got {value!r}")
    if indicator != "mobile_subscriptions_per_100" and value > 1:
        raise ParameterError(f"{where}: {indicator} is a share between 0 and 1, got {value!r}")
    if isinstance(year, bool) or not isinstance(year, int):
        raise ParameterError(f"{where}: year must be a whole number, got {year!r}")
    texts = {f: str(row[f]).strip() for f in _PUBLISHED_FIELDS if f not in ("value", "year")}
    empty = [f for f, v in texts.items() if not v]
    if empty:
        raise ParameterError(f"{where}: {', '.join(empty)} must not be empty")
    return PublishedFigure(value=float(value), year=year, **texts)


def load_published_figures(text: str | None = None) -> tuple[PublishedFigure, ...]:
    """The published figures of ``analysis/config/published.toml`` (or of TOML ``text``).

    Raises
    ------
    ParameterError
        A figure lacks a field, names an unknown indicator or has an impossible value.
    """
    where = "analysis/config/published.toml"
    if text is None:
        text = resources.files("analysis.config").joinpath("published.toml").read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{where}: not valid TOML ({exc})") from None
    rows = data.get("figure", [])
    if not isinstance(rows, list):
        raise ParameterError(f"{where}: [[figure]] must be an array of tables")
    return tuple(_published_figure(row, f"{where} [[figure]] {i}") for i, row in enumerate(rows, start=1))


def former_province_comparison(snapshot: KpiSnapshot, *, province_code: str,
                               former_provinces: Iterable[str] = (),
                               figures: Iterable[PublishedFigure] | None = None) -> pd.DataFrame:
    """Each former province's figures in this package beside what that province published.

    Parameters
    ----------
    snapshot
        KPIs of a 2025-07 package (its ``former_province`` breakdown gives this package's figures).
    province_code
        The package's (new) province code; selects the published figures.
    former_provinces
        Former provinces to list even without communes in the package (e.g.
        :func:`analysis.grouping.former_provinces_of`).
    figures
        Published figures (default :func:`load_published_figures`).

    Returns
    -------
    pandas.DataFrame
        One row per former province (sorted) and indicator with a figure on either side:
        ``former_province``, ``indicator`` (internet, smartphone, FTTH; mobile subscriptions per 100
        people only where published), ``value`` (this package's figure; NaN without data or
        without a KPI), ``published`` (NaN when the province published none in our sources),
        ``is_share``, ``year`` (0 when none), ``source``, ``wording_vi``, ``basis_en`` ("" when
        none). A former province with no figure on either side keeps one row with ``indicator``
        "". Empty when the package names no former province and none is given.
    """
    code = str(province_code).zfill(2)
    chosen = [f for f in (load_published_figures() if figures is None else figures)
              if f.new_province_code == code]
    table = snapshot.levels.get("former_province")
    ours = (table.set_index("former_province") if table is not None
            else pd.DataFrame(columns=[k.value for k in _COMPARED_KPIS]))
    names = {str(n) for n in ours.index if str(n) != NO_GROUP} | set(former_provinces)
    published = {(normalize_name(f.former_province), f.indicator): f for f in chosen}
    rows = []
    no_kpi = PUBLISHED_INDICATORS[len(_COMPARED_KPIS):]
    for name in sorted(names, key=normalize_name):
        key = normalize_name(name)
        extra = [i for i in no_kpi if (key, i) in published]
        for indicator in (*(k.value for k in _COMPARED_KPIS), *extra):
            fig = published.get((key, indicator))
            value = float(ours.at[name, indicator]) if name in ours.index and indicator in ours else math.nan
            rows.append({
                "former_province": name, "indicator": indicator, "value": value,
                "published": fig.value if fig else math.nan, "is_share": indicator not in no_kpi,
                "year": fig.year if fig else 0, "source": fig.source if fig else "",
                "wording_vi": fig.wording_vi if fig else "", "basis_en": fig.basis_en if fig else "",
            })
    columns = ["former_province", "indicator", "value", "published", "is_share", "year", "source",
               "wording_vi", "basis_en"]
    out = pd.DataFrame(rows, columns=columns)
    known = out["value"].notna() | out["published"].notna()
    bare = ~out["former_province"].isin(set(out.loc[known, "former_province"]))
    empty = out[bare].drop_duplicates("former_province").assign(indicator="")
    return pd.concat([out[known], empty]).sort_values("former_province", key=lambda s: s.map(normalize_name),
                                                      kind="stable").reset_index(drop=True)
