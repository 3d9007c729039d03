"""Frozen, validated parameters of the coverage engine and their defaults.

Defaults live in ``analysis/config/coverage.toml`` with the source of every number; the class
thresholds there are policy choices. Objects are frozen and validated at construction; use
:meth:`CoverageParams.with_overrides` for a changed copy (no shared mutable settings).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Self

import numpy as np

from analysis.propagation import ENVIRONMENT_NAMES
from geo.errors import ParameterError

__all__ = [
    "CLASS_NAMES",
    "TECHNOLOGIES",
    "TechnologyParams",
    "StatisticsParams",
    "CoverageParams",
    "default_coverage_params",
    "coverage_params_from_toml",
    "coverage_params_from_mapping",
]

CLASS_NAMES: tuple[str, ...] = ("none", "poor", "fair", "good")
"""Coverage classes, worst first; the class code of a pixel is its index here (0 = none)."""
TECHNOLOGIES: tuple[str, ...] = ("2G", "3G", "4G", "5G")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ParameterError(message)


@dataclass(frozen=True)
class TechnologyParams:
    """Defaults and class thresholds of one technology.

    Parameters
    ----------
    technology : str
        "2G", "3G", "4G" or "5G".
    eirp_dbm : float
        EIRP for cells with an empty ``eirp_dbm``, dBm.
    bandwidth_mhz : float
        Bandwidth for cells with an empty ``bandwidth_mhz``, MHz.
    good_dbm, fair_dbm, poor_dbm : float
        Lower bounds of the classes, dBm, strictly decreasing (policy choices).
    """

    technology: str
    eirp_dbm: float
    bandwidth_mhz: float
    good_dbm: float
    fair_dbm: float
    poor_dbm: float

    def __post_init__(self) -> None:
        _check(self.technology in TECHNOLOGIES, f"unknown technology {self.technology!r}")
        _check(0 < self.eirp_dbm < 100, f"{self.technology}: eirp_dbm must be in (0, 100) dBm")
        _check(0 < self.bandwidth_mhz <= 400, f"{self.technology}: bandwidth_mhz must be in (0, 400]")
        _check(
            -160 < self.poor_dbm < self.fair_dbm < self.good_dbm < 0,
            f"{self.technology}: thresholds must satisfy -160 < poor < fair < good < 0 dBm",
        )

    def threshold_dbm(self, class_name: str) -> float:
        """Lower bound of a class ("poor", "fair", "good"), dBm."""
        _check(class_name in CLASS_NAMES[1:], f"unknown coverage class {class_name!r}")
        return float(getattr(self, f"{class_name}_dbm"))

    @property
    def floor_dbm(self) -> float:
        """Evaluation floor of the engine, dBm: the largest float32 strictly below ``poor_dbm``.

        A level at or below it is class "none". Pixels that no cell reaches above it hold this value
        in the level raster and -1 in the server raster, so "below the poor threshold" is never
        confused with "exactly at it" (which is poor). For 4G (poor = −115 dBm) it is
        −115.0000076 dBm.
        """
        return float(np.nextafter(np.float32(self.poor_dbm), np.float32(-np.inf)))

    @property
    def thresholds_dbm(self) -> tuple[float, float, float]:
        """(poor, fair, good) lower bounds, dBm, increasing."""
        return (self.poor_dbm, self.fair_dbm, self.good_dbm)


@dataclass(frozen=True)
class StatisticsParams:
    """Policy thresholds of the per-commune and per-hamlet statistics.

    ``hamlet_radius_m`` is the settlement radius of a point hamlet, m: its households are spread
    over its Voronoi cell within the commune, clipped to a disc of this radius
    (:mod:`analysis.hamlet_areas`).
    """

    served_min_class: str = "good"
    served_min_operators: int = 1
    unserved_below_class: str = "poor"
    commune_operator_household_share: float = 0.5
    hamlet_radius_m: float = 700.0

    def __post_init__(self) -> None:
        for name in ("served_min_class", "unserved_below_class"):
            _check(getattr(self, name) in CLASS_NAMES[1:], f"{name} must be one of poor/fair/good")
        _check(
            CLASS_NAMES.index(self.served_min_class) >= CLASS_NAMES.index(self.unserved_below_class),
            "served_min_class must not be below unserved_below_class",
        )
        _check(1 <= self.served_min_operators <= 10, "served_min_operators must be 1..10")
        _check(
            0 < self.commune_operator_household_share <= 1,
            "commune_operator_household_share must be in (0, 1]",
        )
        _check(
            isinstance(self.hamlet_radius_m, int | float)
            and math.isfinite(self.hamlet_radius_m)
            and 25 <= self.hamlet_radius_m <= 5000,
            "hamlet_radius_m must be in [25, 5000] m",
        )


@dataclass(frozen=True)
class CoverageParams:
    """Everything that steers one coverage computation (see coverage.toml for sources)."""

    receiver_height_m: float = 1.5
    resolution_m: float = 25.0
    max_attenuation_db: float = 20.0
    default_beamwidth_deg: float = 65.0
    indoor_loss_db: float = 0.0
    margin_db: float = 0.0
    cost231_urban_c_db: float = 0.0
    pilot_share_db: float = -10.0
    max_radius_km: float = 30.0
    server_count_class: str = "fair"
    environment: tuple[tuple[str, str], ...] = (
        ("xã", "rural"),
        ("phường", "urban"),
        ("thị trấn", "suburban"),
    )
    technologies: tuple[TechnologyParams, ...] = (
        TechnologyParams("2G", 56.0, 0.2, -75.0, -85.0, -95.0),
        TechnologyParams("3G", 56.0, 5.0, -85.0, -95.0, -105.0),
        TechnologyParams("4G", 59.0, 20.0, -95.0, -105.0, -115.0),
        TechnologyParams("5G", 77.0, 100.0, -95.0, -105.0, -115.0),
    )
    statistics: StatisticsParams = StatisticsParams()

    def __post_init__(self) -> None:
        _check(1 <= self.receiver_height_m <= 10, "receiver_height_m must be in [1, 10] m")
        _check(1 <= self.resolution_m <= 1000, "resolution_m must be in [1, 1000] m")
        _check(0 < self.max_attenuation_db < 60, "max_attenuation_db must be in (0, 60) dB")
        _check(0 < self.default_beamwidth_deg <= 360, "default_beamwidth_deg must be in (0, 360]")
        _check(0 <= self.indoor_loss_db < 60, "indoor_loss_db must be in [0, 60) dB")
        _check(0 <= self.margin_db < 40, "margin_db must be in [0, 40) dB")
        _check(self.cost231_urban_c_db in (0.0, 3.0), "cost231_urban_c_db must be 0 or 3")
        _check(-30 < self.pilot_share_db <= 0, "pilot_share_db must be in (-30, 0] dB")
        _check(
            0 < self.max_radius_km <= 100 and math.isfinite(self.max_radius_km), "max_radius_km in (0, 100]"
        )
        _check(self.server_count_class in CLASS_NAMES[1:], "server_count_class must be poor/fair/good")
        for ctype, env in self.environment:
            _check(
                env in ENVIRONMENT_NAMES,
                f"environment for {ctype!r} must be rural/suburban/urban, got {env!r}",
            )
        names = [t.technology for t in self.technologies]
        _check(len(set(names)) == len(names), "technologies listed twice")

    def tech(self, technology: str) -> TechnologyParams:
        """Parameters of one technology; raises :class:`ParameterError` if unknown."""
        for t in self.technologies:
            if t.technology == technology:
                return t
        raise ParameterError(f"no parameters for technology {technology!r} (have {', '.join(TECHNOLOGIES)})")

    def environment_code(self, commune_type: str) -> int:
        """Environment code (see :mod:`analysis.propagation`) of a commune type."""
        for ctype, env in self.environment:
            if ctype == commune_type:
                return ENVIRONMENT_NAMES[env]
        known = ", ".join(c for c, _ in self.environment)
        raise ParameterError(f"commune_type {commune_type!r} has no environment (expected one of {known})")

    def with_overrides(self, **changes: Any) -> Self:
        """Return a validated copy with some fields replaced."""
        return dataclasses.replace(self, **changes)


def coverage_params_from_mapping(data: Mapping[str, Any]) -> CoverageParams:
    """Build :class:`CoverageParams` from the structure of ``coverage.toml``.

    Raises
    ------
    ParameterError
        Unknown keys, wrong types or values out of range.
    """
    known = {f.name for f in dataclasses.fields(CoverageParams)}
    model = dict(data.get("model", {}))
    unknown = set(model) - known
    _check(not unknown, f"unknown [model] keys: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {k: (v if isinstance(v, str) else float(v)) for k, v in model.items()}
    if "environment" in data:
        kwargs["environment"] = tuple((str(k), str(v)) for k, v in data["environment"].items())
    if "technology" in data:
        techs = []
        for name, values in data["technology"].items():
            try:
                techs.append(
                    TechnologyParams(technology=str(name), **{k: float(v) for k, v in values.items()})
                )
            except TypeError as exc:
                raise ParameterError(f"[technology.{name}]: {exc}") from exc
        kwargs["technologies"] = tuple(techs)
    if "statistics" in data:
        try:
            kwargs["statistics"] = StatisticsParams(**data["statistics"])
        except TypeError as exc:
            raise ParameterError(f"[statistics]: {exc}") from exc
    try:
        return CoverageParams(**kwargs)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"coverage parameters: {exc}") from exc


def coverage_params_from_toml(path: Path | str) -> CoverageParams:
    """Read parameters from a TOML file laid out like ``analysis/config/coverage.toml``."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read coverage parameters: {exc}") from exc
    return coverage_params_from_mapping(data)


def default_coverage_params() -> CoverageParams:
    """The bundled defaults from ``analysis/config/coverage.toml``."""
    text = resources.files("analysis.config").joinpath("coverage.toml").read_text(encoding="utf-8")
    return coverage_params_from_mapping(tomllib.loads(text))
