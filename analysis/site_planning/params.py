"""Planning parameters: candidate antennas per technology, grid spacing, unit costs (config/planning.toml)."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from analysis.coverage_params import (
    TECHNOLOGIES,
)
from geo.errors import ParameterError
from geo.schema import Operator, parse_category

# ---------------------------------------------------------------------------------------------
# parameters


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ParameterError(message)


def _finite(value: object, lo: float, hi: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and lo <= value <= hi
    )


@dataclass(frozen=True)
class TechnologyAntenna:
    """Carrier and EIRP of the planned cells of one technology.

    Parameters
    ----------
    technology : str
        "2G", "3G", "4G" or "5G".
    band_mhz : float
        Carrier frequency of the planned cells, MHz.
    bandwidth_mhz : float
        Carrier bandwidth, MHz.
    eirp_dbm_by_band : tuple of (float, float)
        (band MHz, EIRP dBm) pairs: total EIRP of a cell on that band at boresight.
    """

    technology: str
    band_mhz: float
    bandwidth_mhz: float
    eirp_dbm_by_band: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        name = f"[antenna.{self.technology}]"
        _check(self.technology in TECHNOLOGIES, f"{name}: unknown technology")
        _check(_finite(self.band_mhz, 100.0, 100_000.0), f"{name}: band_mhz must be in [100, 100000] MHz")
        _check(_finite(self.bandwidth_mhz, 0.1, 400.0), f"{name}: bandwidth_mhz must be in [0.1, 400] MHz")
        for band, eirp in self.eirp_dbm_by_band:
            _check(_finite(band, 100.0, 100_000.0), f"{name}: eirp_dbm band {band!r} is not a band in MHz")
            _check(_finite(eirp, 1.0, 99.0), f"{name}: eirp_dbm for {band:g} MHz must be in [1, 99] dBm")
        self.eirp_dbm  # noqa: B018 - the carrier must have an EIRP

    @property
    def eirp_dbm(self) -> float:
        """EIRP of a planned cell on ``band_mhz``, dBm."""
        for band, eirp in self.eirp_dbm_by_band:
            if band == self.band_mhz:
                return float(eirp)
        have = ", ".join(f"{b:g}" for b, _ in self.eirp_dbm_by_band) or "none"
        raise ParameterError(
            f"[antenna.{self.technology}]: no eirp_dbm for band {self.band_mhz:g} MHz (have {have})"
        )


_DEFAULT_ANTENNAS = (
    TechnologyAntenna(
        "4G", 1800.0, 20.0, ((700.0, 59.0), (900.0, 59.0), (1800.0, 59.0), (2100.0, 59.0), (2600.0, 59.0))
    ),
    TechnologyAntenna("5G", 3500.0, 100.0, ((2600.0, 77.0), (3500.0, 77.0))),
    TechnologyAntenna("3G", 2100.0, 5.0, ((900.0, 56.0), (2100.0, 56.0))),
    TechnologyAntenna("2G", 900.0, 0.2, ((900.0, 56.0), (1800.0, 56.0))),
)
_COST_NOTE = (
    "PLACEHOLDERS, not prices: replace them with the province's own unit costs before using the budget"
)


@dataclass(frozen=True)
class PlanningParams:
    """Candidate antennas, candidate sources and unit costs (defaults: ``analysis/config/planning.toml``).

    Parameters
    ----------
    height_m : float
        Antenna height of a new mast, m.
    azimuths_deg : tuple of float
        One sector per azimuth (clockwise from north), deg.
    beamwidth_deg : float
        Horizontal half-power beamwidth of each sector, deg.
    shared_mast_use_site_height : bool
        On an existing mast, put the antennas at the highest ``height_m`` it carries today (else
        ``height_m``).
    antennas : tuple of TechnologyAntenna
        Carrier, bandwidth and EIRP per band of each technology.
    shared_masts, hamlet_centres, grid : bool
        Which candidate sources are used.
    grid_spacing_m : float
        Step of the candidate grid over the under-served hamlets, m.
    shared_mast_vnd, new_mast_vnd : float
        Cost of one site on an existing mast / on a new mast, VND. PLACEHOLDERS (``cost_note``).
    cost_note : str
        What the costs are (written into every output).
    """

    height_m: float = 30.0
    azimuths_deg: tuple[float, ...] = (0.0, 120.0, 240.0)
    beamwidth_deg: float = 65.0
    shared_mast_use_site_height: bool = True
    antennas: tuple[TechnologyAntenna, ...] = _DEFAULT_ANTENNAS
    shared_masts: bool = True
    hamlet_centres: bool = True
    grid: bool = True
    grid_spacing_m: float = 1000.0
    shared_mast_vnd: float = 700_000_000.0
    new_mast_vnd: float = 1_800_000_000.0
    cost_note: str = _COST_NOTE

    def __post_init__(self) -> None:
        _check(_finite(self.height_m, 1.0, 300.0), "[antenna] height_m must be in [1, 300] m")
        _check(
            0 < len(self.azimuths_deg) <= 12 and all(_finite(a, 0.0, 360.0) for a in self.azimuths_deg),
            "[antenna] azimuths_deg must list 1 to 12 angles in [0, 360] deg",
        )
        _check(_finite(self.beamwidth_deg, 1.0, 360.0), "[antenna] beamwidth_deg must be in [1, 360] deg")
        _check(
            _finite(self.grid_spacing_m, 25.0, 50_000.0),
            "[candidates] grid_spacing_m must be in [25, 50000] m",
        )
        for name in ("shared_mast_vnd", "new_mast_vnd"):
            _check(_finite(getattr(self, name), 0.0, 1e15), f"[costs] {name} must be a number >= 0 VND")
        techs = [a.technology for a in self.antennas]
        _check(len(set(techs)) == len(techs), "[antenna]: a technology is listed twice")
        _check(
            self.shared_masts or self.hamlet_centres or self.grid,
            "[candidates]: every candidate source is off",
        )

    def antenna(self, technology: str) -> TechnologyAntenna:
        """The planned cells' carrier of ``technology``; :class:`ParameterError` if none is configured."""
        for a in self.antennas:
            if a.technology == technology:
                return a
        have = ", ".join(a.technology for a in self.antennas)
        raise ParameterError(f"no [antenna.{technology}] in the planning parameters (have {have})")

    def cost_vnd(self, kind: str) -> float:
        """Unit cost of one site of ``kind`` (see :data:`KINDS`), VND."""
        return float(self.shared_mast_vnd if kind == "shared-mast" else self.new_mast_vnd)

    def with_overrides(self, **changes: Any) -> PlanningParams:
        """A validated copy with some fields replaced."""
        return dataclasses.replace(self, **changes)


_SECTIONS: dict[str, dict[str, str]] = {
    "antenna": {
        "height_m": "height_m",
        "azimuths_deg": "azimuths_deg",
        "beamwidth_deg": "beamwidth_deg",
        "shared_mast_use_site_height": "shared_mast_use_site_height",
    },
    "candidates": {
        "shared_masts": "shared_masts",
        "hamlet_centres": "hamlet_centres",
        "grid": "grid",
        "grid_spacing_m": "grid_spacing_m",
    },
    "costs": {"note": "cost_note", "shared_mast_vnd": "shared_mast_vnd", "new_mast_vnd": "new_mast_vnd"},
}


def _antenna_from_mapping(
    tech: str, values: Mapping[str, Any], base: TechnologyAntenna | None
) -> TechnologyAntenna:
    unknown = set(values) - {"band_mhz", "bandwidth_mhz", "eirp_dbm"}
    _check(not unknown, f"[antenna.{tech}]: unknown key(s) {', '.join(sorted(unknown))}")
    eirp = values.get("eirp_dbm")
    if eirp is not None:
        _check(isinstance(eirp, Mapping), f"[antenna.{tech}] eirp_dbm must be a table band -> dBm")
        try:
            by_band = tuple((float(b), v) for b, v in eirp.items())
        except ValueError:
            raise ParameterError(
                f'[antenna.{tech}] eirp_dbm: keys must be bands in MHz, e.g. "1800"'
            ) from None
    else:
        by_band = base.eirp_dbm_by_band if base else ()
    band = values.get("band_mhz", base.band_mhz if base else None)
    width = values.get("bandwidth_mhz", base.bandwidth_mhz if base else None)
    _check(band is not None and width is not None, f"[antenna.{tech}] needs band_mhz and bandwidth_mhz")
    return TechnologyAntenna(tech, band, width, by_band)  # type: ignore[arg-type]


def planning_params_from_mapping(
    data: Mapping[str, Any], *, base: PlanningParams | None = None
) -> PlanningParams:
    """Build :class:`PlanningParams` from the structure of ``planning.toml``; missing entries keep
    ``base`` (default: the dataclass defaults).

    Raises
    ------
    ParameterError
        Unknown sections or keys, wrong types, values out of range.
    """
    base = base or PlanningParams()
    unknown = set(data) - set(_SECTIONS)
    _check(not unknown, f"planning parameters: unknown section(s) {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    antennas = {a.technology: a for a in base.antennas}
    for section, keys in _SECTIONS.items():
        values = data.get(section, {})
        _check(isinstance(values, Mapping), f"[{section}] must be a table")
        for key, value in values.items():
            if section == "antenna" and key in TECHNOLOGIES:
                _check(isinstance(value, Mapping), f"[antenna.{key}] must be a table")
                antennas[key] = _antenna_from_mapping(key, value, antennas.get(key))
                continue
            _check(key in keys, f"[{section}]: unknown key {key!r}")
            changes[keys[key]] = value
    if "azimuths_deg" in changes:
        _check(isinstance(changes["azimuths_deg"], list), "[antenna] azimuths_deg must be a list of angles")
        changes["azimuths_deg"] = tuple(changes["azimuths_deg"])
    for flag_name in ("shared_mast_use_site_height", "shared_masts", "hamlet_centres", "grid"):
        if flag_name in changes:
            _check(isinstance(changes[flag_name], bool), f"{flag_name} must be true or false")
    if "cost_note" in changes:
        changes["cost_note"] = str(changes["cost_note"])
    changes["antennas"] = tuple(antennas.values())
    return dataclasses.replace(base, **changes)


def planning_params_from_toml(path: Path | str, *, base: PlanningParams | None = None) -> PlanningParams:
    """Read a TOML file laid out like ``analysis/config/planning.toml`` (missing entries keep ``base``)."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read planning parameters: {exc.strerror}") from None
    return planning_params_from_mapping(data, base=base)


def default_planning_params() -> PlanningParams:
    """The bundled defaults from ``analysis/config/planning.toml``."""
    text = resources.files("analysis.config").joinpath("planning.toml").read_text(encoding="utf-8")
    return planning_params_from_mapping(tomllib.loads(text))


def known_operator(name: str) -> str:
    """The canonical name of an operator (aliases such as "VNPT" accepted).

    Raises
    ------
    ParameterError
        ``name`` is not a licensed operator; the message lists the valid names.
    """
    op = parse_category(Operator, name)
    if op is None:
        raise ParameterError(
            f"operator {name!r} is not a known operator; use one of {', '.join(o.value for o in Operator)}"
        )
    return str(op.value)
