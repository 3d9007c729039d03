"""Under-served hamlets: indicators, gap flags with reasons, who can act, priority and ranks.

One row per hamlet (:func:`compute_gaps`) and one per commune (:func:`commune_indicators`).

Indicators
----------
* ``share_hh_good_4g`` / ``share_hh_no_4g`` — signal, from the coverage engine's hamlet statistics
  (or the documented stand-in :func:`standin_hamlet_signal`);
* ``fibre_distance_m`` / ``fibre_reach_class`` — road distance to the nearest fibre access node
  (:mod:`analysis.fibre`);
* ``ftth_share`` = ``households_ftth / households`` and ``smartphone_share`` =
  ``adults_with_smartphone / adults`` from the survey.

Flags (each with the measured value and the threshold it failed)
-----------------------------------------------------------------
=========================  =============================================  ================================
flag                       fires when                                     who can act
=========================  =============================================  ================================
``NO_MOBILE_COVERAGE``     ``share_hh_no_4g`` > ``no_mobile_max…``        operators (signal gap)
``WEAK_MOBILE_COVERAGE``   ``share_hh_good_4g`` < ``weak_mobile_min…``    operators (signal gap)
                           and not ``NO_MOBILE_COVERAGE``
``NO_FIBRE_REACH``         reach class is not ``drop``                    operators (infrastructure gap)
``LOW_FTTH_TAKEUP``        reach class is ``drop`` and ``ftth_share`` <   commune's community digital
                           FTTH threshold                                 technology team (usage gap)
``LOW_SMARTPHONE``         ``smartphone_share`` < smartphone threshold    community digital technology
                                                                          team (device gap)
=========================  =============================================  ================================

Priority = Σ over flags of (households affected × severity); see :data:`FLAG_INFO` and
``docs/GAPS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import pandas as pd

from analysis.params import GapParams, StandInSignalParams

if TYPE_CHECKING:
    import pyproj

    from geo.package import DataPackage

__all__ = [
    "GapFlag",
    "Actor",
    "FlagInfo",
    "FLAG_INFO",
    "SIGNAL_COLUMNS",
    "ResolvedThresholds",
    "resolve_thresholds",
    "hamlet_survey_indicators",
    "standin_hamlet_signal",
    "flag_hamlets",
    "compute_gaps",
    "commune_indicators",
]

SIGNAL_COLUMNS: tuple[str, ...] = ("share_hh_good_4g", "share_hh_no_4g", "good_4g_operators")
"""The signal interface: a DataFrame indexed by ``hamlet_id`` with these columns.

``share_hh_good_4g`` (0–1) households with good 4G from at least one operator; ``share_hh_no_4g``
(0–1) households with no usable 4G at all; ``good_4g_operators`` (str) operators giving good 4G
to at least part of the hamlet, ``";"``-joined, "" for none."""


class GapFlag(StrEnum):
    """The five hamlet gap flags."""

    NO_MOBILE_COVERAGE = "NO_MOBILE_COVERAGE"
    WEAK_MOBILE_COVERAGE = "WEAK_MOBILE_COVERAGE"
    NO_FIBRE_REACH = "NO_FIBRE_REACH"
    LOW_FTTH_TAKEUP = "LOW_FTTH_TAKEUP"
    LOW_SMARTPHONE = "LOW_SMARTPHONE"


class Actor(StrEnum):
    """Who can act on a flag."""

    OPERATORS = "operators"
    COMMUNITY_DIGITAL_TEAM = "community_digital_team"


@dataclass(frozen=True)
class FlagInfo:
    """Static description of one flag.

    Parameters
    ----------
    key
        Column prefix in the output (``{key}_flag``, ``{key}_value``, ``{key}_threshold``).
    gap_kind
        ``signal`` / ``infrastructure`` / ``usage`` / ``device``.
    actor
        Who can act.
    comparison
        ``above``: fires when the value is above the threshold; ``below``: below it.
    label_vi, label_en
        Short human label.
    """

    key: str
    gap_kind: Literal["signal", "infrastructure", "usage", "device"]
    actor: Actor
    comparison: Literal["above", "below"]
    label_vi: str
    label_en: str


FLAG_INFO: dict[GapFlag, FlagInfo] = {
    GapFlag.NO_MOBILE_COVERAGE: FlagInfo(
        "no_mobile", "signal", Actor.OPERATORS, "above", "Không có sóng 4G", "No 4G signal"),
    GapFlag.WEAK_MOBILE_COVERAGE: FlagInfo(
        "weak_mobile", "signal", Actor.OPERATORS, "below", "Sóng 4G yếu", "Weak 4G signal"),
    GapFlag.NO_FIBRE_REACH: FlagInfo(
        "no_fibre", "infrastructure", Actor.OPERATORS, "above", "Chưa có cáp quang", "No fibre reach"),
    GapFlag.LOW_FTTH_TAKEUP: FlagInfo(
        "low_ftth", "usage", Actor.COMMUNITY_DIGITAL_TEAM, "below",
        "Ít hộ dùng cáp quang", "Low FTTH take-up"),
    GapFlag.LOW_SMARTPHONE: FlagInfo(
        "low_smartphone", "device", Actor.COMMUNITY_DIGITAL_TEAM, "below",
        "Ít người có điện thoại thông minh", "Low smartphone ownership"),
}

ACTOR_LABELS: dict[Actor, tuple[str, str]] = {
    Actor.OPERATORS: ("Doanh nghiệp viễn thông", "Telecom operators"),
    Actor.COMMUNITY_DIGITAL_TEAM: ("Tổ công nghệ số cộng đồng", "Community digital technology team"),
}
"""(Vietnamese, English) label of each actor."""


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
        """Flat ``{name: text}`` for export metadata."""
        raise NotImplementedError


def hamlet_survey_indicators(hamlets: pd.DataFrame, survey: pd.DataFrame) -> pd.DataFrame:
    """Per-hamlet FTTH and smartphone shares from the survey.

    Rows are matched by ``hamlet_id`` (or ``commune_id`` + normalised ``hamlet_name``); when a
    hamlet has several rows the latest ``survey_date`` wins; a hamlet with no row of its own uses
    its commune-level row (``hamlet_id`` and ``hamlet_name`` empty), marked ``survey_level =
    "commune"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``hamlet_id``: ``survey_households``, ``households_ftth``, ``adults``,
        ``adults_with_smartphone``, ``ftth_share``, ``smartphone_share`` (0–1, NaN without data),
        ``survey_level`` (``hamlet`` / ``commune`` / ``none``), ``survey_date`` (str).
    """
    raise NotImplementedError


def resolve_thresholds(indicators: pd.DataFrame, params: GapParams) -> ResolvedThresholds:
    """Apply the threshold basis (national target / province average / lower of both).

    Parameters
    ----------
    indicators
        Output of :func:`hamlet_survey_indicators`.
    params
        Gap parameters.
    """
    raise NotImplementedError


def standin_hamlet_signal(hamlets: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
                          metric_crs: pyproj.CRS, *,
                          params: StandInSignalParams | None = None) -> pd.DataFrame:
    """STAND-IN signal statistics, used only when the coverage engine's are not supplied.

    Omni antennas, Okumura–Hata (≤ 1500 MHz) or COST-231 Hata (1500–2000 MHz; above 2000 MHz
    extrapolated) with the suburban correction, outdoor, no terrain; RSRP per resource element
    = EIRP − 10·log10(12 × PRBs) − path loss. Each hamlet is sampled at its point and a ring of
    8 points at ``hamlet_radius_m``; the shares are the fractions of these 9 samples.

    Parameters
    ----------
    hamlets
        Hamlet points (or polygons: their representative point), EPSG:4326, ``hamlet_id``.
    cells
        Cells as in ``towers/sites.csv`` (EPSG:4326); only ``active`` ``4G`` cells count.
    metric_crs
        Projected CRS in metres.
    params
        Levels and defaults.

    Returns
    -------
    pandas.DataFrame
        The signal interface (:data:`SIGNAL_COLUMNS`) indexed by ``hamlet_id``.
    """
    raise NotImplementedError


def flag_hamlets(hamlets: gpd.GeoDataFrame, *, signal: pd.DataFrame, reach: pd.DataFrame,
                 indicators: pd.DataFrame, params: GapParams,
                 thresholds: ResolvedThresholds) -> gpd.GeoDataFrame:
    """Flags, priority, ranks and explanations from ready indicators (pure; no graph work).

    Parameters
    ----------
    hamlets
        EPSG:4326 with ``hamlet_id``, ``hamlet_name``, ``commune_id``, ``households`` and, when
        known, ``commune_name``, ``district_name``, ``population``.
    signal
        The signal interface (:data:`SIGNAL_COLUMNS`) indexed by ``hamlet_id``.
    reach
        :func:`analysis.fibre.hamlet_reach` output indexed by ``hamlet_id``.
    indicators
        :func:`hamlet_survey_indicators` output.
    params, thresholds
        Parameters and their resolved thresholds.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hamlet, columns as documented in ``docs/GAPS.md``.
    """
    raise NotImplementedError


def compute_gaps(pkg: DataPackage, params: GapParams, *,
                 signal: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Gap flags for every hamlet of a data package.

    Parameters
    ----------
    pkg
        A loaded data package (:func:`geo.package.load_package`).
    params
        Gap parameters (:func:`analysis.params.default_gap_params`).
    signal
        Per-hamlet signal statistics (:data:`SIGNAL_COLUMNS`, indexed by ``hamlet_id``), e.g. from
        the coverage engine. ``None`` = compute the documented stand-in.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per hamlet: ids, names, commune/district, households, indicators,
        ``flags`` (";"-joined), ``{key}_flag`` / ``{key}_value`` / ``{key}_threshold`` per flag,
        ``affected_households``, ``priority_score``, ``rank_province``, ``rank_commune``,
        ``actors_vi`` / ``actors_en``, ``explanation_vi`` / ``explanation_en``. ``attrs["phusong"]``
        holds the export metadata (source data, date, thresholds).
    """
    raise NotImplementedError


def commune_indicators(gaps: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Roll hamlet gaps up to communes.

    Parameters
    ----------
    gaps
        :func:`compute_gaps` output.
    communes
        Commune polygons (EPSG:4326) with ``commune_id``, ``commune_name``, ``district_name``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per commune: ``hamlets``, ``households``, ``flagged_hamlets``, one count column
        per flag (``n_no_mobile`` …), household-weighted ``share_hh_good_4g``, ``ftth_share``,
        ``smartphone_share``, ``share_hh_fibre_reach``, ``priority_score`` (sum),
        ``top_hamlet_id``/``top_hamlet_name`` and the actors needed.
    """
    raise NotImplementedError
