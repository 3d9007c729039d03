"""Frozen, validated parameter objects of the fibre and gap analyses, and their defaults.

The defaults live in ``analysis/config/gaps.toml`` (one file the app can change); the dataclass
defaults below are identical (a test keeps them in step). Every object is frozen and validated at
construction, and :meth:`with_overrides` returns a changed copy, so one Streamlit process can serve
many users without shared mutable settings.

Sources of the default thresholds
---------------------------------
* Decision 411/QĐ-TTg (2022), national digital economy and society strategy: by 2025, 80% of
  adults own a smartphone and 80% of households are covered by fibre broadband.
* Decision 749/QĐ-TTg (2020): universal 4G/5G coverage by 2025.
* Reach distances, severities, the RSRP levels and all unit costs are **policy choices / user
  inputs**, not standards; they are documented in ``docs/GAPS.md``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from typing import Any, Literal, Self

from geo.errors import ParameterError

__all__ = [
    "ThresholdBasis",
    "RoadGraphParams",
    "ReachParams",
    "UnitCosts",
    "GapThresholds",
    "SeverityWeights",
    "StandInSignalParams",
    "GapParams",
    "default_gap_params",
    "gap_params_from_toml",
    "gap_params_from_mapping",
]

ThresholdBasis = Literal["national_target", "province_average", "lower_of_both"]
"""How the FTTH take-up and smartphone thresholds are chosen.

``national_target`` uses the fixed share (Decision 411/QĐ-TTg: 0.80); ``province_average`` uses the
household- (FTTH) or adult-weighted (smartphone) average of the survey; ``lower_of_both`` the
smaller of the two (flags only hamlets below both the target and the province)."""

_BASES: tuple[str, ...] = ("national_target", "province_average", "lower_of_both")


class _Validated:
    """Mixin: range checks in ``__post_init__`` and ``with_overrides``."""

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def with_overrides(self, **changes: Any) -> Self:
        """Return a validated copy with some fields changed.

        Raises
        ------
        ParameterError
            If a name is not a field of this object, or a new value is out of range.
        """
        names = {f.name for f in fields(self)}  # type: ignore[arg-type]
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ParameterError(
                f"{type(self).__name__} has no parameter(s) {', '.join(unknown)}; "
                f"valid names: {', '.join(sorted(names))}"
            )
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def _check_range(owner: str, name: str, value: float, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"{owner}.{name} must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise ParameterError(f"{owner}.{name} = {value!r} is outside [{lo}, {hi}]")


@dataclass(frozen=True)
class RoadGraphParams(_Validated):
    """How the road graph is built.

    Parameters
    ----------
    snap_tolerance_m
        Line ends and vertices closer than this (metres, metric CRS) become one graph node.
    node_crossings
        Add a node where two road lines cross without sharing a vertex. OSM bridges cross roads
        without a junction; the bundled synthetic roads share vertices, so this rarely matters.
    max_spur_m
        Hamlets or fibre nodes farther than this from any road are still attached, but reported
        as a warning (their spur length counts in every distance).
    """

    snap_tolerance_m: float = 2.0
    node_crossings: bool = True
    max_spur_m: float = 3000.0

    def _validate(self) -> None:
        _check_range("RoadGraphParams", "snap_tolerance_m", self.snap_tolerance_m, 0.0, 100.0)
        _check_range("RoadGraphParams", "max_spur_m", self.max_spur_m, 0.0, 1e6)


@dataclass(frozen=True)
class ReachParams(_Validated):
    """Fibre reach classes by road distance from the nearest access node (metres, spurs included).

    Parameters
    ----------
    drop_reach_m
        At or below this a hamlet is ``drop`` (households can be connected by drop cables).
    extendable_m
        Above ``drop_reach_m`` and at or below this a hamlet is ``extendable`` (a short feeder
        extension); above it, or with no road path to any node, ``out_of_reach``.
    operator
        Only this operator's access nodes count (canonical name, e.g. ``"Viettel"``); ``None`` =
        every operator.
    node_types
        Which ``node_type`` values are access nodes.
    plan_classes
        Reach classes the extension plan connects.
    route_join_m
        New cable may branch off an existing fibre route (``fibre/routes``) at road-graph nodes
        within this distance of it (m); 0 = only from access nodes.
    fragment_reattach_m
        A hamlet whose nearest road is a fragment with no path to any access node is attached to
        the nearest road that has one instead, when that spur is at most this much longer (m);
        0 = always the nearest road.
    """

    drop_reach_m: float = 1000.0
    extendable_m: float = 5000.0
    operator: str | None = None
    node_types: tuple[str, ...] = ("OLT", "cabinet", "POP")
    plan_classes: tuple[str, ...] = ("extendable", "out_of_reach")
    route_join_m: float = 50.0
    fragment_reattach_m: float = 500.0

    def _validate(self) -> None:
        _check_range("ReachParams", "drop_reach_m", self.drop_reach_m, 0.0, 1e6)
        _check_range("ReachParams", "route_join_m", self.route_join_m, 0.0, 10_000.0)
        _check_range("ReachParams", "fragment_reattach_m", self.fragment_reattach_m, 0.0, 1e5)
        _check_range("ReachParams", "extendable_m", self.extendable_m, 0.0, 1e6)
        if self.extendable_m < self.drop_reach_m:
            raise ParameterError(
                f"ReachParams.extendable_m ({self.extendable_m}) must be >= drop_reach_m "
                f"({self.drop_reach_m})"
            )
        if not self.node_types:
            raise ParameterError("ReachParams.node_types must name at least one node type")
        bad = sorted(set(self.plan_classes) - {"drop", "extendable", "out_of_reach"})
        if bad:
            raise ParameterError(
                f"ReachParams.plan_classes has unknown class(es) {bad}; use drop/extendable/out_of_reach"
            )


@dataclass(frozen=True)
class UnitCosts(_Validated):
    """Unit costs of a fibre extension, in VND. Inputs, not claims: no published Vietnamese
    figures were found, so the defaults are illustrative placeholders to be replaced.

    Parameters
    ----------
    cable_vnd_per_km
        Feeder/distribution cable laid along roads, per route kilometre (poles and labour included).
    drop_vnd
        One household drop connection.
    cabinet_vnd
        One splitter cabinet; one per hamlet connected by the plan.
    drop_takeup_share
        Share of a connected hamlet's households expected to take a drop (0–1).
    """

    cable_vnd_per_km: float = 30_000_000.0
    drop_vnd: float = 1_500_000.0
    cabinet_vnd: float = 50_000_000.0
    drop_takeup_share: float = 0.8

    def _validate(self) -> None:
        for name in ("cable_vnd_per_km", "drop_vnd", "cabinet_vnd"):
            _check_range("UnitCosts", name, getattr(self, name), 0.0, 1e13)
        _check_range("UnitCosts", "drop_takeup_share", self.drop_takeup_share, 0.0, 1.0)


@dataclass(frozen=True)
class GapThresholds(_Validated):
    """Thresholds of the five gap flags (shares are 0–1).

    Parameters
    ----------
    no_mobile_max_share_no_4g
        ``NO_MOBILE_COVERAGE`` when the share of households with no usable 4G signal is above
        this (policy choice; Decision 749/QĐ-TTg aims at universal 4G).
    weak_mobile_min_share_good_4g
        ``WEAK_MOBILE_COVERAGE`` when the share of households with good 4G is below this (and
        ``NO_MOBILE_COVERAGE`` did not fire).
    ftth_min_share
        National target for FTTH take-up, households (Decision 411/QĐ-TTg: 0.80).
    smartphone_min_share
        National target for smartphone ownership, adults (Decision 411/QĐ-TTg: 0.80).
    basis
        How the FTTH and smartphone thresholds are resolved (see :data:`ThresholdBasis`).
    """

    no_mobile_max_share_no_4g: float = 0.2
    weak_mobile_min_share_good_4g: float = 0.8
    ftth_min_share: float = 0.8
    smartphone_min_share: float = 0.8
    basis: ThresholdBasis = "national_target"

    def _validate(self) -> None:
        for f in fields(self):
            if f.name != "basis":
                _check_range("GapThresholds", f.name, getattr(self, f.name), 0.0, 1.0)
        if self.basis not in _BASES:
            raise ParameterError(f"GapThresholds.basis = {self.basis!r}; use one of {', '.join(_BASES)}")


@dataclass(frozen=True)
class SeverityWeights(_Validated):
    """Severity of each flag (0–1); priority = Σ households affected × severity.

    Policy choices: no signal and no fibre path weigh most, usage and device gaps least.
    """

    no_mobile: float = 1.0
    weak_mobile: float = 0.5
    no_fibre_out_of_reach: float = 0.8
    no_fibre_extendable: float = 0.4
    low_ftth: float = 0.3
    low_smartphone: float = 0.5

    def _validate(self) -> None:
        for f in fields(self):
            _check_range("SeverityWeights", f.name, getattr(self, f.name), 0.0, 1.0)


@dataclass(frozen=True)
class StandInSignalParams(_Validated):
    """Parameters of the stand-in hamlet signal (used only when no coverage statistics are given).

    RSRP (dBm per resource element) = EIRP − 10·log10(subcarriers) − Okumura–Hata/COST-231 loss
    (suburban correction), omni antennas, outdoor, at a small ring of points around each hamlet.

    Parameters
    ----------
    good_rsrp_dbm
        Good 4G at or above this RSRP (−105 dBm is widely quoted for outdoor 4G coverage).
    usable_rsrp_dbm
        Below this there is no usable 4G (the "no 4G" share).
    eirp_dbm
        EIRP used when a cell has none (dBm, total).
    bandwidth_mhz
        LTE bandwidth used when a cell has none (10 MHz = 600 subcarriers).
    mobile_height_m
        Receiver height above ground (m).
    hamlet_radius_m
        Radius of the ring of sample points around each hamlet point (m).
    """

    good_rsrp_dbm: float = -105.0
    usable_rsrp_dbm: float = -115.0
    eirp_dbm: float = 61.0
    bandwidth_mhz: float = 10.0
    mobile_height_m: float = 1.5
    hamlet_radius_m: float = 400.0

    def _validate(self) -> None:
        _check_range("StandInSignalParams", "good_rsrp_dbm", self.good_rsrp_dbm, -150.0, -40.0)
        _check_range("StandInSignalParams", "usable_rsrp_dbm", self.usable_rsrp_dbm, -150.0, -40.0)
        if self.usable_rsrp_dbm > self.good_rsrp_dbm:
            raise ParameterError("StandInSignalParams.usable_rsrp_dbm must be <= good_rsrp_dbm")
        _check_range("StandInSignalParams", "eirp_dbm", self.eirp_dbm, 0.0, 100.0)
        _check_range("StandInSignalParams", "bandwidth_mhz", self.bandwidth_mhz, 1.4, 100.0)
        _check_range("StandInSignalParams", "mobile_height_m", self.mobile_height_m, 1.0, 10.0)
        _check_range("StandInSignalParams", "hamlet_radius_m", self.hamlet_radius_m, 0.0, 5000.0)


@dataclass(frozen=True)
class GapParams(_Validated):
    """Everything the fibre and gap analyses need; one object, passed explicitly."""

    roads: RoadGraphParams = field(default_factory=RoadGraphParams)
    reach: ReachParams = field(default_factory=ReachParams)
    costs: UnitCosts = field(default_factory=UnitCosts)
    thresholds: GapThresholds = field(default_factory=GapThresholds)
    severity: SeverityWeights = field(default_factory=SeverityWeights)
    signal: StandInSignalParams = field(default_factory=StandInSignalParams)

    def _validate(self) -> None:
        expected = {
            "roads": RoadGraphParams,
            "reach": ReachParams,
            "costs": UnitCosts,
            "thresholds": GapThresholds,
            "severity": SeverityWeights,
            "signal": StandInSignalParams,
        }
        for name, kind in expected.items():
            if not isinstance(getattr(self, name), kind):
                raise ParameterError(f"GapParams.{name} must be a {kind.__name__}")

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (TOML/JSON-able; tuples become lists, ``None`` is dropped)."""
        out: dict[str, dict[str, Any]] = {}
        for f in fields(self):
            section = dataclasses.asdict(getattr(self, f.name))
            out[f.name] = {
                k: (list(v) if isinstance(v, tuple) else v) for k, v in section.items() if v is not None
            }
        return out


_SECTIONS: dict[str, type[_Validated]] = {
    "roads": RoadGraphParams,
    "reach": ReachParams,
    "costs": UnitCosts,
    "thresholds": GapThresholds,
    "severity": SeverityWeights,
    "signal": StandInSignalParams,
}


def gap_params_from_mapping(
    data: Mapping[str, Any], *, base: GapParams | None = None, source: str = "config"
) -> GapParams:
    """Build :class:`GapParams` from a nested mapping such as a parsed TOML file.

    Parameters
    ----------
    data
        ``{section: {name: value}}``; sections and names as in ``analysis/config/gaps.toml``.
        Missing entries keep the value of ``base``.
    base
        Starting point (default: the dataclass defaults).
    source
        Name of the file or origin, used in error messages.

    Raises
    ------
    ParameterError
        Unknown section or name, wrong type or out-of-range value; the message names both.
    """
    params = base or GapParams()
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ParameterError(
            f"{source}: unknown section(s) [{', '.join(unknown)}]; valid: {', '.join(_SECTIONS)}"
        )
    changes: dict[str, Any] = {}
    for name, values in data.items():
        if not isinstance(values, Mapping):
            raise ParameterError(f"{source}: [{name}] must be a table of name = value")
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        try:
            changes[name] = getattr(params, name).with_overrides(**converted)
        except ParameterError as exc:
            raise ParameterError(f"{source}: [{name}] {exc}") from None
        except TypeError as exc:  # e.g. comparison of str with float in a range check
            raise ParameterError(f"{source}: [{name}] wrong value type: {exc}") from None
    return params.with_overrides(**changes)


def gap_params_from_toml(text: str, *, base: GapParams | None = None, source: str = "config") -> GapParams:
    """Parse TOML text (not a path: the caller reads the file) into :class:`GapParams`.

    Raises
    ------
    ParameterError
        Invalid TOML or invalid values; the message names ``source`` and the line or field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{source}: not valid TOML: {exc}") from None
    return gap_params_from_mapping(data, base=base, source=source)


def default_gap_params() -> GapParams:
    """The defaults shipped in ``analysis/config/gaps.toml`` (package data, read-only)."""
    text = resources.files("analysis.config").joinpath("gaps.toml").read_text(encoding="utf-8")
    return gap_params_from_toml(text, source="analysis/config/gaps.toml")
