"""Under-served hamlets: indicators, gap flags with reasons, who can act, priority and ranks.

One row per hamlet (:func:`compute_gaps`) and one per commune (:func:`commune_indicators`).

Indicators
----------
* ``share_hh_good_4g`` / ``share_hh_no_4g`` — signal, from the coverage engine's hamlet statistics
  (:func:`signal_from_coverage_stats`, :func:`coverage_engine_signal`) or, on request, the
  documented stand-in :func:`standin_hamlet_signal`;
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

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.fibre import ReachResult, compute_reach
from analysis.gap_signal import (
    SIGNAL_COLUMNS,
    _text,
    coverage_engine_signal,
    signal_from_coverage_stats,
    standin_hamlet_signal,
)
from analysis.gap_survey import (
    ResolvedThresholds,
    _ratio,
    hamlet_survey_indicators,
    resolve_thresholds,
)
from analysis.grouping import FORMER_DETAIL_COLUMNS, HAMLET_FORMER_COLUMNS
from analysis.params import GapParams
from analysis.roadgraph import build_road_graph
from geo.errors import SchemaError

if TYPE_CHECKING:
    from geo.package import DataPackage

log = logging.getLogger(__name__)

__all__ = [
    "ACTOR_LABELS",
    "gap_metadata",
    "GapFlag",
    "Actor",
    "FlagInfo",
    "FLAG_INFO",
    "SIGNAL_COLUMNS",
    "ResolvedThresholds",
    "resolve_thresholds",
    "hamlet_survey_indicators",
    "standin_hamlet_signal",
    "signal_from_coverage_stats",
    "coverage_engine_signal",
    "flag_hamlets",
    "compute_gaps",
    "commune_indicators",
    "output_columns",
]


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
        "no_mobile", "signal", Actor.OPERATORS, "above", "Không có sóng 4G", "No 4G signal"
    ),
    GapFlag.WEAK_MOBILE_COVERAGE: FlagInfo(
        "weak_mobile", "signal", Actor.OPERATORS, "below", "Sóng 4G yếu", "Weak 4G signal"
    ),
    GapFlag.NO_FIBRE_REACH: FlagInfo(
        "no_fibre", "infrastructure", Actor.OPERATORS, "above", "Chưa có cáp quang", "No fibre reach"
    ),
    GapFlag.LOW_FTTH_TAKEUP: FlagInfo(
        "low_ftth", "usage", Actor.COMMUNITY_DIGITAL_TEAM, "below", "Ít hộ dùng cáp quang", "Low FTTH take-up"
    ),
    GapFlag.LOW_SMARTPHONE: FlagInfo(
        "low_smartphone",
        "device",
        Actor.COMMUNITY_DIGITAL_TEAM,
        "below",
        "Ít người có điện thoại thông minh",
        "Low smartphone ownership",
    ),
}

ACTOR_LABELS: dict[Actor, tuple[str, str]] = {
    Actor.OPERATORS: ("Doanh nghiệp viễn thông", "Telecom operators"),
    Actor.COMMUNITY_DIGITAL_TEAM: ("Tổ công nghệ số cộng đồng", "Community digital technology team"),
}
"""(Vietnamese, English) label of each actor."""


# ---------------------------------------------------------------------------------------------
# survey indicators


# ---------------------------------------------------------------------------------------------
# stand-in signal (until / unless the coverage engine's statistics are supplied)


# ---------------------------------------------------------------------------------------------
# coverage engine statistics -> signal interface


# ---------------------------------------------------------------------------------------------
# flags


def _fmt_pct(share: float) -> str:
    return f"{round(100 * share):d}%"


def _fmt_km(distance_m: float, *, vi: bool) -> str:
    text = f"{distance_m / 1000:.1f}"
    return text.replace(".", ",") if vi else text


def _flag_values(
    frame: pd.DataFrame, th: ResolvedThresholds
) -> dict[GapFlag, tuple[pd.Series, float, pd.Series]]:
    """(value, threshold, fires) per flag."""
    no4g = frame["share_hh_no_4g"]
    good = frame["share_hh_good_4g"]
    dist = frame["fibre_distance_m"]
    ftth = frame["ftth_share"]
    phone = frame["smartphone_share"]
    no_mobile = no4g > th.no_mobile_max_share_no_4g
    drop = frame["fibre_reach_class"] == "drop"
    return {
        GapFlag.NO_MOBILE_COVERAGE: (no4g, th.no_mobile_max_share_no_4g, no_mobile),
        GapFlag.WEAK_MOBILE_COVERAGE: (
            good,
            th.weak_mobile_min_share_good_4g,
            (good < th.weak_mobile_min_share_good_4g) & ~no_mobile,
        ),
        GapFlag.NO_FIBRE_REACH: (dist, th.no_fibre_drop_reach_m, ~drop),
        GapFlag.LOW_FTTH_TAKEUP: (ftth, th.ftth_min_share, drop & (ftth < th.ftth_min_share)),
        GapFlag.LOW_SMARTPHONE: (phone, th.smartphone_min_share, phone < th.smartphone_min_share),
    }


def _affected(
    flag: GapFlag, frame: pd.DataFrame, value: pd.Series, threshold: float, params: GapParams
) -> tuple[pd.Series, pd.Series]:
    """(households affected, severity) of one flag where it fires."""
    hh = frame["households"].astype(float)
    sev = params.severity
    if flag is GapFlag.NO_MOBILE_COVERAGE:
        return hh * value, pd.Series(sev.no_mobile, index=frame.index)
    if flag is GapFlag.WEAK_MOBILE_COVERAGE:
        return hh * (1.0 - value), pd.Series(sev.weak_mobile, index=frame.index)
    if flag is GapFlag.NO_FIBRE_REACH:
        out = frame["fibre_reach_class"] == "out_of_reach"
        return hh, pd.Series(
            np.where(out, sev.no_fibre_out_of_reach, sev.no_fibre_extendable), index=frame.index
        )
    weight = sev.low_ftth if flag is GapFlag.LOW_FTTH_TAKEUP else sev.low_smartphone
    return hh * (threshold - value), pd.Series(weight, index=frame.index)


def _join_inputs(
    hamlets: gpd.GeoDataFrame, signal: pd.DataFrame, reach: pd.DataFrame, indicators: pd.DataFrame
) -> gpd.GeoDataFrame:
    missing = [c for c in SIGNAL_COLUMNS[:2] if c not in signal.columns]
    if missing:
        raise SchemaError(f"signal statistics lack column(s) {', '.join(missing)}; expected {SIGNAL_COLUMNS}")
    base = hamlets.reset_index(drop=True)
    base["hamlet_id"] = _text(base["hamlet_id"])
    base["households"] = pd.to_numeric(base["households"], errors="coerce").fillna(0).astype(int)
    for col in ("commune_name", "district_name"):
        if col not in base:
            base[col] = ""
    if "population" not in base:
        base["population"] = 0
    keys = pd.Index(base["hamlet_id"])
    sig = signal.reindex(keys)
    base["share_hh_good_4g"] = sig["share_hh_good_4g"].to_numpy(dtype=float)
    base["share_hh_no_4g"] = sig["share_hh_no_4g"].to_numpy(dtype=float)
    ops = sig["good_4g_operators"] if "good_4g_operators" in sig else pd.Series("", index=keys)
    base["good_4g_operators"] = ops.fillna("").astype(str).to_numpy()
    src = sig["signal_source"] if "signal_source" in sig else pd.Series("supplied", index=keys)
    base["signal_source"] = np.where(sig["share_hh_good_4g"].isna(), "none", src.fillna("none").astype(str))
    rch = reach.reindex(keys)
    for col in ("fibre_distance_m", "fibre_node_id", "fibre_operator", "fibre_reach_class", "hamlet_spur_m"):
        base[col] = rch[col].to_numpy()
    base["fibre_reach_class"] = base["fibre_reach_class"].fillna("out_of_reach")
    ind = indicators.reindex(keys)
    for col in ("ftth_share", "smartphone_share", "survey_level", "survey_date"):
        base[col] = ind[col].to_numpy()
    base["survey_level"] = base["survey_level"].fillna("none")
    base["survey_date"] = base["survey_date"].fillna("")
    return base


def flag_hamlets(
    hamlets: gpd.GeoDataFrame,
    *,
    signal: pd.DataFrame,
    reach: pd.DataFrame,
    indicators: pd.DataFrame,
    params: GapParams,
    thresholds: ResolvedThresholds,
) -> gpd.GeoDataFrame:
    """Flags, priority, ranks and explanations from ready indicators (pure; no graph work).

    Parameters
    ----------
    hamlets
        EPSG:4326 with ``hamlet_id``, ``hamlet_name``, ``commune_id``, ``households`` and, when
        known, ``commune_name``, ``district_name``, ``population``.
    signal
        The signal interface (:data:`SIGNAL_COLUMNS`) indexed by ``hamlet_id``.
    reach
        ``ReachResult.table`` of :func:`analysis.fibre.compute_reach`, indexed by ``hamlet_id``.
    indicators
        :func:`hamlet_survey_indicators` output.
    params, thresholds
        Parameters and their resolved thresholds.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hamlet, columns as documented in ``docs/GAPS.md``.
    """
    frame = _join_inputs(hamlets, signal, reach, indicators)
    checks = _flag_values(frame, thresholds)
    priority = pd.Series(0.0, index=frame.index)
    affected_max = pd.Series(0.0, index=frame.index)
    main_part = pd.Series(0.0, index=frame.index)
    frame["main_flag"] = ""
    fired: dict[GapFlag, pd.Series] = {}
    for flag, (value, threshold, fires) in checks.items():
        key = FLAG_INFO[flag].key
        fires = fires.fillna(False).astype(bool)
        fired[flag] = fires
        frame[f"{key}_flag"] = fires.to_numpy()
        frame[f"{key}_value"] = value.astype(float).to_numpy()
        frame[f"{key}_threshold"] = float(threshold)
        hh, sev = _affected(flag, frame, value.astype(float), threshold, params)
        part = (hh.clip(lower=0) * sev).where(fires, 0.0).fillna(0.0)
        priority += part
        affected_max = np.maximum(affected_max, hh.clip(lower=0).where(fires, 0.0).fillna(0.0))
        newmain = part > main_part
        frame.loc[newmain, "main_flag"] = flag.value
        main_part = np.maximum(main_part, part)
    frame["flags"] = [";".join(f.value for f in GapFlag if fired[f].iloc[i]) for i in range(len(frame))]
    frame["n_flags"] = sum(fired[f].astype(int) for f in GapFlag)
    frame["affected_households"] = np.round(affected_max, 1)
    frame["priority_score"] = np.round(priority, 1)
    _add_actors(frame, fired)
    _add_ranks(frame)
    records = frame.drop(columns="geometry").to_dict("records")
    frame["explanation_vi"] = [_explain(r, thresholds, vi=True) for r in records]
    frame["explanation_en"] = [_explain(r, thresholds, vi=False) for r in records]
    former = [c for c in (*FORMER_DETAIL_COLUMNS, *HAMLET_FORMER_COLUMNS) if c in frame]
    for col in former:
        frame[col] = _text(frame[col])
    return gpd.GeoDataFrame(frame[list(output_columns(former))], geometry="geometry", crs=hamlets.crs)


def _add_actors(frame: pd.DataFrame, fired: dict[GapFlag, pd.Series]) -> None:
    by_actor = {a: pd.Series(False, index=frame.index) for a in Actor}
    for flag, fires in fired.items():
        by_actor[FLAG_INFO[flag].actor] |= fires
    frame["operator_action"] = by_actor[Actor.OPERATORS].to_numpy()
    frame["community_action"] = by_actor[Actor.COMMUNITY_DIGITAL_TEAM].to_numpy()
    for lang, i in (("vi", 0), ("en", 1)):
        frame[f"actors_{lang}"] = [
            "; ".join(ACTOR_LABELS[a][i] for a in Actor if by_actor[a].iloc[j]) for j in range(len(frame))
        ]


def _add_ranks(frame: pd.DataFrame) -> None:
    order = frame.sort_values(
        ["priority_score", "households", "hamlet_id"], ascending=[False, False, True], kind="stable"
    ).index
    frame.loc[order, "rank_province"] = np.arange(1, len(order) + 1)
    frame["rank_province"] = frame["rank_province"].astype(int)
    ranked = frame.loc[order]
    frame.loc[order, "rank_commune"] = ranked.groupby("commune_id", sort=False).cumcount().to_numpy() + 1
    frame["rank_commune"] = frame["rank_commune"].astype(int)


def _explain(r: dict[str, Any], th: ResolvedThresholds, *, vi: bool) -> str:
    """One-line explanation of a hamlet's fired flags, in Vietnamese (decimal comma) or English."""
    parts: list[str] = []
    if r["no_mobile_flag"]:
        p = _fmt_pct(r["share_hh_no_4g"])
        parts.append(f"{p} hộ chưa có sóng 4G" if vi else f"{p} of households without 4G signal")
    if r["weak_mobile_flag"]:
        p, t = _fmt_pct(r["share_hh_good_4g"]), _fmt_pct(th.weak_mobile_min_share_good_4g)
        if r["share_hh_good_4g"] <= 0:
            parts.append(
                f"chưa hộ nào có sóng 4G tốt (ngưỡng {t})"
                if vi
                else f"no household with good 4G (threshold {t})"
            )
        else:
            parts.append(
                f"chỉ {p} hộ có sóng 4G tốt (ngưỡng {t})"
                if vi
                else f"only {p} of households with good 4G (threshold {t})"
            )
    if r["no_fibre_flag"]:
        d = r["fibre_distance_m"]
        if pd.isna(d):
            parts.append(
                "không có đường bộ tới nút cáp quang nào" if vi else "no road path to any fibre node"
            )
        else:
            km = _fmt_km(d, vi=vi)
            parts.append(
                f"nút cáp quang gần nhất cách {km} km theo đường bộ"
                if vi
                else f"nearest fibre node {km} km by road"
            )
    if r["low_ftth_flag"]:
        p, t = _fmt_pct(r["ftth_share"]), _fmt_pct(th.ftth_min_share)
        parts.append(
            f"{p} hộ dùng cáp quang (ngưỡng {t})"
            if vi
            else f"{p} of households subscribe to fibre (threshold {t})"
        )
    if r["low_smartphone_flag"]:
        p, t = _fmt_pct(r["smartphone_share"]), _fmt_pct(th.smartphone_min_share)
        parts.append(
            f"{p} người lớn có điện thoại thông minh (ngưỡng {t})"
            if vi
            else f"{p} of adults own a smartphone (threshold {t})"
        )
    if not parts:
        parts.append(
            "không thiếu hụt theo các ngưỡng hiện hành" if vi else "no gap at the current thresholds"
        )
    if r["survey_level"] == "none":
        parts.append("chưa có số liệu khảo sát" if vi else "no survey data")
    if r["signal_source"] == "none":
        parts.append("chưa có số liệu sóng" if vi else "no signal data")
    return f"{r['hamlet_name']}: " + "; ".join(parts)


_FIRST = (
    "hamlet_id",
    "hamlet_name",
    "commune_id",
    "commune_name",
    "district_name",
    "households",
    "population",
    "share_hh_good_4g",
    "share_hh_no_4g",
    "good_4g_operators",
    "signal_source",
    "fibre_distance_m",
    "fibre_node_id",
    "fibre_operator",
    "fibre_reach_class",
    "hamlet_spur_m",
    "ftth_share",
    "smartphone_share",
    "survey_level",
    "survey_date",
    "flags",
    "n_flags",
    "main_flag",
)
_LAST = (
    "affected_households",
    "priority_score",
    "rank_province",
    "rank_commune",
    "operator_action",
    "community_action",
    "actors_vi",
    "actors_en",
    "explanation_vi",
    "explanation_en",
    "geometry",
)


def output_columns(former: Sequence[str] = ()) -> tuple[str, ...]:
    """Every column of :func:`compute_gaps`, in order (documented in ``docs/GAPS.md``).

    Parameters
    ----------
    former
        The former-unit columns a 2025-07 package carries (of
        :data:`analysis.grouping.FORMER_DETAIL_COLUMNS` and ``HAMLET_FORMER_COLUMNS``), placed
        after ``district_name``; none before the reform.
    """
    per_flag = tuple(f"{FLAG_INFO[f].key}_{s}" for f in GapFlag for s in ("flag", "value", "threshold"))
    at = _FIRST.index("district_name") + 1
    return _FIRST[:at] + tuple(former) + _FIRST[at:] + per_flag + _LAST


# ---------------------------------------------------------------------------------------------
# package level


def hamlets_with_communes(pkg: DataPackage) -> gpd.GeoDataFrame:
    """The package's hamlets with ``commune_id`` as text and their commune's name and groups."""
    hamlets = pkg.hamlets.copy()
    communes = pd.DataFrame(pkg.communes.drop(columns="geometry"))
    if "commune_id" not in hamlets and "commune_code" in hamlets:
        code_to_id = dict(zip(_text(communes["commune_code"]), _text(communes["commune_id"]), strict=True))
        hamlets["commune_id"] = _text(hamlets["commune_code"]).map(code_to_id).fillna("")
    hamlets["commune_id"] = _text(hamlets["commune_id"])
    info = communes.assign(commune_id=_text(communes["commune_id"])).set_index("commune_id")
    for col in ("commune_name", "district_name", *FORMER_DETAIL_COLUMNS):
        if col in info:
            names = info[col].astype(object).where(info[col].notna(), "")  # all-empty in the 2025 layout
            of_commune = hamlets["commune_id"].map(names).fillna("")
            if col in FORMER_DETAIL_COLUMNS and col in hamlets:  # a hamlet's own former unit is finer
                own = _text(hamlets[col])
                of_commune = own.where(own != "", of_commune)
            hamlets[col] = of_commune.to_numpy()
    return hamlets


def gap_metadata(
    pkg: DataPackage,
    params: GapParams,
    thresholds: ResolvedThresholds,
    *,
    signal_source: str,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Export metadata: source data, creation time, thresholds and parameters used."""
    meta = pkg.meta
    out: dict[str, str] = {
        "title": f"PhuSong hamlet gaps: {getattr(meta, 'name', '')}",
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataset": str(getattr(meta, "name", "")),
        "dataset_version": str(getattr(pkg, "version", "")),
        "boundary_vintage": str(getattr(meta, "boundary_vintage", "")),
        "signal_source": signal_source,
    }
    for key, layer in dict(getattr(meta, "layers", {}) or {}).items():
        synth = " (synthetic)" if getattr(layer, "synthetic", False) else ""
        out[f"source_{key}"] = (
            f"{getattr(layer, 'source', '')}; licence {getattr(layer, 'licence', '')}{synth}"
        )
    out.update(thresholds.as_metadata())
    for section, values in params.to_dict().items():
        for name, value in values.items():
            out[f"param_{section}_{name}"] = str(value)
    out.update(extra or {})
    return out


def compute_gaps(
    pkg: DataPackage,
    params: GapParams,
    *,
    signal: pd.DataFrame | None = None,
    reach: ReachResult | None = None,
    signal_model: Literal["coverage", "standin"] = "coverage",
    indicators: pd.DataFrame | None = None,
    thresholds: ResolvedThresholds | None = None,
) -> gpd.GeoDataFrame:
    """Gap flags for every hamlet of a data package.

    Parameters
    ----------
    pkg
        A loaded data package (:func:`geo.package.load_package`).
    params
        Gap parameters (:func:`analysis.params.default_gap_params`).
    signal
        Per-hamlet signal statistics (:data:`SIGNAL_COLUMNS`, indexed by ``hamlet_id``), e.g.
        :func:`signal_from_coverage_stats` of statistics the caller already has. ``None`` = compute
        them here with ``signal_model``.
    reach
        A ready :func:`analysis.fibre.compute_reach` result for ``pkg.hamlets`` (saves building the
        road graph twice); ``None`` = build it here.
    signal_model
        Used only when ``signal`` is None: ``coverage`` runs the coverage engine
        (:func:`coverage_engine_signal`, tens of seconds for a province); ``standin`` the fast,
        cruder :func:`standin_hamlet_signal`.
    indicators
        Survey indicators per hamlet (:func:`hamlet_survey_indicators` of ``pkg``, possibly changed
        by a scenario's programmes); ``None`` = computed here from ``pkg.survey``.
    thresholds
        Thresholds to judge against (e.g. a baseline's, so that a scenario is judged by the same
        bar); ``None`` = :func:`resolve_thresholds` of the indicators.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per hamlet: ids, names, commune/district, households, indicators,
        ``flags`` (";"-joined), ``{key}_flag`` / ``{key}_value`` / ``{key}_threshold`` per flag,
        ``affected_households``, ``priority_score``, ``rank_province``, ``rank_commune``,
        ``actors_vi`` / ``actors_en``, ``explanation_vi`` / ``explanation_en``. ``attrs["phusong"]``
        holds the export metadata (source data, date, thresholds).
    """
    hamlets = hamlets_with_communes(pkg)
    if reach is None:
        road = build_road_graph(pkg.roads, pkg.metric_crs, params=params.roads)
        reach = compute_reach(
            road, hamlets, pkg.fibre_nodes, params=params.reach, max_spur_m=params.roads.max_spur_m
        )
    if signal is None and signal_model == "coverage":
        signal = coverage_engine_signal(pkg)
    elif signal is None:
        signal = standin_hamlet_signal(hamlets, pkg.cells, pkg.metric_crs, params=params.signal)
    source = str(signal.attrs.get("source", "caller-supplied hamlet signal statistics"))
    if indicators is None:
        indicators = hamlet_survey_indicators(hamlets, pkg.survey)
    if thresholds is None:
        thresholds = resolve_thresholds(indicators, params)
    out = flag_hamlets(
        hamlets, signal=signal, reach=reach.table, indicators=indicators, params=params, thresholds=thresholds
    )
    out.attrs["phusong"] = gap_metadata(
        pkg,
        params,
        thresholds,
        signal_source=source,
        extra={"road_graph": reach.network.road.components.summary()},
    )
    return out


def commune_indicators(gaps: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Roll hamlet gaps up to communes.

    Parameters
    ----------
    gaps
        :func:`compute_gaps` output.
    communes
        Commune polygons (EPSG:4326) with ``commune_id``, ``commune_name``, ``district_name``
        (empty in the 2025-07 layout) and, in the 2025-07 layout, ``former_province``,
        ``former_district`` and ``old_commune_codes`` when known (carried as given, ``;``-joined).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per commune: its ids, names and former units (2025-07), ``hamlets``,
        ``households``, ``flagged_hamlets``, one count column per flag (``n_no_mobile`` …),
        household-weighted ``share_hh_good_4g``, ``share_hh_no_4g``, ``ftth_share``,
        ``smartphone_share`` (means over hamlets with data), ``share_hh_fibre_reach`` (households
        in hamlets of class ``drop``), ``priority_score`` (sum), ``top_hamlet_id`` /
        ``top_hamlet_name`` (rank 1 in the commune) and ``operator_action`` /
        ``community_action`` (any hamlet).
    """
    g = pd.DataFrame(gaps.drop(columns="geometry"))
    hh = g["households"].astype(float)
    g["_w_good"] = g["share_hh_good_4g"] * hh
    g["_w_none"] = g["share_hh_no_4g"] * hh
    g["_w_ftth"] = g["ftth_share"] * hh
    g["_w_phone"] = g["smartphone_share"] * hh
    g["_hh_good"] = hh.where(g["share_hh_good_4g"].notna(), 0.0)
    g["_hh_none"] = hh.where(g["share_hh_no_4g"].notna(), 0.0)
    g["_hh_ftth"] = hh.where(g["ftth_share"].notna(), 0.0)
    g["_hh_phone"] = hh.where(g["smartphone_share"].notna(), 0.0)
    g["_hh_reach"] = hh.where(g["fibre_reach_class"] == "drop", 0.0)
    g["_flagged"] = g["n_flags"] > 0
    agg = {
        "hamlets": ("hamlet_id", "size"),
        "households": ("households", "sum"),
        "flagged_hamlets": ("_flagged", "sum"),
        "priority_score": ("priority_score", "sum"),
        "operator_action": ("operator_action", "any"),
        "community_action": ("community_action", "any"),
    }
    for f in GapFlag:
        agg[f"n_{FLAG_INFO[f].key}"] = (f"{FLAG_INFO[f].key}_flag", "sum")
    sums = ("_w_good", "_w_none", "_w_ftth", "_w_phone", "_hh_good", "_hh_none", "_hh_ftth", "_hh_phone")
    for c in (*sums, "_hh_reach"):
        agg[c] = (c, "sum")
    roll = g.groupby("commune_id").agg(**agg)
    roll["share_hh_good_4g"] = _ratio(roll["_w_good"], roll["_hh_good"])
    roll["share_hh_no_4g"] = _ratio(roll["_w_none"], roll["_hh_none"])
    roll["ftth_share"] = _ratio(roll["_w_ftth"], roll["_hh_ftth"])
    roll["smartphone_share"] = _ratio(roll["_w_phone"], roll["_hh_phone"])
    roll["share_hh_fibre_reach"] = _ratio(roll["_hh_reach"], roll["households"].astype(float))
    top = g[g["rank_commune"] == 1].set_index("commune_id")
    roll["top_hamlet_id"] = top["hamlet_id"].reindex(roll.index)
    roll["top_hamlet_name"] = top["hamlet_name"].reindex(roll.index)
    roll = roll.drop(columns=[c for c in roll.columns if c.startswith("_")])
    former = [c for c in FORMER_DETAIL_COLUMNS if c in communes]
    base = communes[["commune_id", "commune_name", "district_name", *former, "geometry"]].copy()
    base["commune_id"] = _text(base["commune_id"])
    for col in former:
        base[col] = _text(base[col])
    out = base.merge(roll, left_on="commune_id", right_index=True, how="left")
    counts = ["hamlets", "households", "flagged_hamlets"] + [f"n_{FLAG_INFO[f].key}" for f in GapFlag]
    out[counts] = out[counts].fillna(0).astype(int)
    out["priority_score"] = out["priority_score"].fillna(0.0).round(1)
    for c in ("operator_action", "community_action"):
        out[c] = out[c].astype("boolean").fillna(False).astype(bool)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=communes.crs)
