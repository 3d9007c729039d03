"""What a scenario is: a named set of changes on top of one version of a data package.

A scenario never modifies its package. It holds

* site changes: planned sites to add (rows in the ``towers/sites.csv`` format, one per cell), sites
  to remove or move, and per-cell field edits;
* a switch-off of technologies (2G, 3G) for every operator or one;
* fibre changes: access nodes to add (rows in the ``fibre/nodes`` format), or adopting the fibre
  extension plan (one cabinet per planned hamlet, as :func:`analysis.fibre.plan_extension` costs it);
* programmes on chosen hamlets or communes whose effect is an input (``+15`` points of smartphone
  share, ``+10`` points of FTTH take-up) with a cost per household, never a claim of PhuSong.

:func:`scenario_to_document` / :func:`scenario_from_document` convert to and from the JSON document
stored as ``scenario.json`` (the layers are stored beside it, see :mod:`geo.scenario_store`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd

from geo.errors import ParameterError

__all__ = [
    "FORMAT",
    "SWITCHABLE_TECHNOLOGIES",
    "CellEdit",
    "Programme",
    "Scenario",
    "SiteMove",
    "SwitchOff",
    "scenario_from_document",
    "scenario_slug",
    "scenario_to_document",
]

#: Format tag of ``scenario.json``.
FORMAT = "phusong-scenario/1"
#: Technologies a scenario may switch off.
SWITCHABLE_TECHNOLOGIES = ("2G", "3G")
#: Fields of a cell that a scenario may edit (``towers/sites.csv`` columns).
EDITABLE_CELL_FIELDS = (
    "operator",
    "height_m",
    "status",
    "technology",
    "band_mhz",
    "azimuth_deg",
    "beamwidth_deg",
    "eirp_dbm",
    "bandwidth_mhz",
)
_NUMERIC_FIELDS = {"height_m", "band_mhz", "azimuth_deg", "beamwidth_deg", "eirp_dbm", "bandwidth_mhz"}
NAME_MAX_CHARS = 80


@dataclass(frozen=True)
class SiteMove:
    """Move every cell of ``site_id`` to (``lon``, ``lat``), degrees WGS 84."""

    site_id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class CellEdit:
    """New values of some fields of one cell (keys from :data:`EDITABLE_CELL_FIELDS`)."""

    cell_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class SwitchOff:
    """Technologies switched off, for ``operator`` only or (None) for every operator."""

    technologies: tuple[str, ...]
    operator: str | None = None


@dataclass(frozen=True)
class Programme:
    """A programme on chosen hamlets or communes; its effect is the planner's input.

    Attributes
    ----------
    name : str
    hamlet_ids, commune_ids : tuple of str
        Where it runs (a commune stands for all its hamlets).
    smartphone_points, ftth_points : float
        Percentage points added to the hamlet's smartphone share / FTTH take-up (capped at 100 %).
    cost_per_household_vnd : float
        Cost per household of the hamlets it runs in.
    """

    name: str
    hamlet_ids: tuple[str, ...] = ()
    commune_ids: tuple[str, ...] = ()
    smartphone_points: float = 0.0
    ftth_points: float = 0.0
    cost_per_household_vnd: float = 0.0


@dataclass(frozen=True, eq=False)
class Scenario:
    """A named, saved set of changes on top of the package version ``base_version``.

    ``added_sites`` holds ``towers/sites.csv`` rows (one per cell, validated as in a package) and
    ``added_fibre_nodes`` ``fibre/nodes`` rows and ``added_fibre_routes`` ``fibre/routes`` lines
    (their cable is costed per km); each may be None. Frames are shared: copy before
    changing.
    """

    name: str
    base_version: str
    description: str = ""
    added_sites: gpd.GeoDataFrame | None = None
    removed_sites: tuple[str, ...] = ()
    moved_sites: tuple[SiteMove, ...] = ()
    cell_edits: tuple[CellEdit, ...] = ()
    switch_off: SwitchOff | None = None
    added_fibre_nodes: gpd.GeoDataFrame | None = None
    added_fibre_routes: gpd.GeoDataFrame | None = None
    adopt_fibre_plan: bool = False
    programmes: tuple[Programme, ...] = ()
    created_utc: str = ""
    updated_utc: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_changes(self, **changes: Any) -> Scenario:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        """True when the scenario changes nothing."""
        return (
            (self.added_sites is None or len(self.added_sites) == 0)
            and not self.removed_sites
            and not self.moved_sites
            and not self.cell_edits
            and (self.switch_off is None or not self.switch_off.technologies)
            and (self.added_fibre_nodes is None or len(self.added_fibre_nodes) == 0)
            and (self.added_fibre_routes is None or len(self.added_fibre_routes) == 0)
            and not self.adopt_fibre_plan
            and not self.programmes
        )


def scenario_slug(name: str) -> str:
    """Folder name of a scenario: lower-case ASCII letters, digits and ``-`` (diacritics dropped)."""
    text = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:60] or "scenario"


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ParameterError("scenario: 'name' must be a non-empty text")
    name = " ".join(name.split())
    if len(name) > NAME_MAX_CHARS:
        raise ParameterError(f"scenario: 'name' is longer than {NAME_MAX_CHARS} characters")
    return name


def _number(value: object, where: str, *, lo: float, hi: float) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"scenario: {where} must be a number, not {value!r}") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise ParameterError(f"scenario: {where} = {value!r} is outside {lo:g}..{hi:g}")
    return x


def _texts(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ParameterError(f"scenario: {where} must be a list of texts")
    out = tuple(str(v).strip() for v in value)
    if any(not v for v in out):
        raise ParameterError(f"scenario: {where} has an empty entry")
    return out


def _items(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ParameterError(f"scenario: {where} must be a list of tables")
    return list(value)


def _switch_off(doc: object) -> SwitchOff | None:
    if doc is None:
        return None
    if not isinstance(doc, Mapping):
        raise ParameterError("scenario: 'switch_off' must be a table with 'technologies'")
    techs = tuple(t.upper() for t in _texts(doc.get("technologies"), "switch_off.technologies"))
    bad = [t for t in techs if t not in SWITCHABLE_TECHNOLOGIES]
    if bad:
        raise ParameterError(
            f"scenario: switch_off.technologies {', '.join(bad)}: only "
            f"{' and '.join(SWITCHABLE_TECHNOLOGIES)} can be switched off"
        )
    operator = doc.get("operator")
    return SwitchOff(tuple(dict.fromkeys(techs)), str(operator).strip() or None if operator else None)


def _moves(doc: object) -> tuple[SiteMove, ...]:
    out = []
    for i, item in enumerate(_items(doc, "move_sites")):
        where = f"move_sites[{i}]"
        if not isinstance(item, Mapping) or not str(item.get("site_id", "")).strip():
            raise ParameterError(f"scenario: {where} needs 'site_id', 'lon' and 'lat'")
        out.append(
            SiteMove(
                str(item["site_id"]).strip(),
                _number(item.get("lon"), f"{where}.lon", lo=-180.0, hi=180.0),
                _number(item.get("lat"), f"{where}.lat", lo=-90.0, hi=90.0),
            )
        )
    return tuple(out)


def _edits(doc: object) -> tuple[CellEdit, ...]:
    out = []
    for i, item in enumerate(_items(doc, "edit_cells")):
        where = f"edit_cells[{i}]"
        if not isinstance(item, Mapping) or not str(item.get("cell_id", "")).strip():
            raise ParameterError(f"scenario: {where} needs 'cell_id' and the fields to change")
        values = {k: v for k, v in item.items() if k != "cell_id"}
        unknown = [k for k in values if k not in EDITABLE_CELL_FIELDS]
        if unknown:
            raise ParameterError(
                f"scenario: {where}: field(s) {', '.join(unknown)} cannot be edited "
                f"(editable: {', '.join(EDITABLE_CELL_FIELDS)})"
            )
        if not values:
            raise ParameterError(f"scenario: {where} changes no field")
        for k in _NUMERIC_FIELDS & set(values):
            values[k] = _number(values[k], f"{where}.{k}", lo=0.0, hi=100_000.0)
        out.append(CellEdit(str(item["cell_id"]).strip(), values))
    return tuple(out)


def _programmes(doc: object) -> tuple[Programme, ...]:
    out = []
    for i, item in enumerate(_items(doc, "programmes")):
        where = f"programmes[{i}]"
        if not isinstance(item, Mapping):
            raise ParameterError(f"scenario: {where} must be a table")
        hamlets = _texts(item.get("hamlet_ids"), f"{where}.hamlet_ids")
        communes = _texts(item.get("commune_ids"), f"{where}.commune_ids")
        if not hamlets and not communes:
            raise ParameterError(f"scenario: {where} names no hamlet_ids or commune_ids to run in")
        prog = Programme(
            name=str(item.get("name") or f"programme {i + 1}").strip(),
            hamlet_ids=hamlets,
            commune_ids=communes,
            smartphone_points=_number(
                item.get("smartphone_points", 0), f"{where}.smartphone_points", lo=0, hi=100
            ),
            ftth_points=_number(item.get("ftth_points", 0), f"{where}.ftth_points", lo=0, hi=100),
            cost_per_household_vnd=_number(
                item.get("cost_per_household_vnd", 0), f"{where}.cost_per_household_vnd", lo=0, hi=1e12
            ),
        )
        if prog.smartphone_points == 0 and prog.ftth_points == 0:
            raise ParameterError(f"scenario: {where} has no effect (smartphone_points and ftth_points are 0)")
        out.append(prog)
    return tuple(out)


def scenario_from_document(
    doc: Mapping[str, Any],
    *,
    added_sites: gpd.GeoDataFrame | None = None,
    added_fibre_nodes: gpd.GeoDataFrame | None = None,
    added_fibre_routes: gpd.GeoDataFrame | None = None,
) -> Scenario:
    """Build a :class:`Scenario` from its ``scenario.json`` document and its layers.

    Raises
    ------
    ParameterError
        A field is missing or wrong; the message names the field (``programmes[0].ftth_points``).
    """
    if not isinstance(doc, Mapping):
        raise ParameterError("scenario: the document must be a JSON object")
    fmt = doc.get("format", FORMAT)
    if fmt != FORMAT:
        raise ParameterError(f"scenario: format {fmt!r} is not {FORMAT!r}")
    fibre = doc.get("fibre") or {}
    if not isinstance(fibre, Mapping):
        raise ParameterError("scenario: 'fibre' must be a table")
    known = {
        "format", "name", "base_version", "description", "remove_sites", "move_sites", "edit_cells",
        "switch_off", "fibre", "programmes", "created_utc", "updated_utc", "layers",
    }  # fmt: skip
    return Scenario(
        name=_check_name(doc.get("name")),
        base_version=str(doc.get("base_version") or ""),
        description=str(doc.get("description") or ""),
        added_sites=added_sites,
        removed_sites=_texts(doc.get("remove_sites"), "remove_sites"),
        moved_sites=_moves(doc.get("move_sites")),
        cell_edits=_edits(doc.get("edit_cells")),
        switch_off=_switch_off(doc.get("switch_off")),
        added_fibre_nodes=added_fibre_nodes,
        added_fibre_routes=added_fibre_routes,
        adopt_fibre_plan=bool(fibre.get("adopt_extension_plan", False)),
        programmes=_programmes(doc.get("programmes")),
        created_utc=str(doc.get("created_utc") or ""),
        updated_utc=str(doc.get("updated_utc") or ""),
        extra={k: v for k, v in doc.items() if k not in known},
    )


def scenario_to_document(scenario: Scenario) -> dict[str, Any]:
    """The ``scenario.json`` document of a scenario (its layers are stored separately)."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "name": scenario.name,
        "description": scenario.description,
        "base_version": scenario.base_version,
        "created_utc": scenario.created_utc,
        "updated_utc": scenario.updated_utc,
        "remove_sites": list(scenario.removed_sites),
        "move_sites": [{"site_id": m.site_id, "lon": m.lon, "lat": m.lat} for m in scenario.moved_sites],
        "edit_cells": [{"cell_id": e.cell_id, **dict(e.values)} for e in scenario.cell_edits],
        "switch_off": None
        if scenario.switch_off is None
        else {
            "technologies": list(scenario.switch_off.technologies),
            "operator": scenario.switch_off.operator,
        },
        "fibre": {"adopt_extension_plan": scenario.adopt_fibre_plan},
        "programmes": [
            {
                "name": p.name,
                "hamlet_ids": list(p.hamlet_ids),
                "commune_ids": list(p.commune_ids),
                "smartphone_points": p.smartphone_points,
                "ftth_points": p.ftth_points,
                "cost_per_household_vnd": p.cost_per_household_vnd,
            }
            for p in scenario.programmes
        ],
        "layers": {
            "added_sites": "sites.csv"
            if scenario.added_sites is not None and len(scenario.added_sites)
            else None,
            "added_fibre_nodes": "fibre_nodes.csv"
            if scenario.added_fibre_nodes is not None and len(scenario.added_fibre_nodes)
            else None,
            "added_fibre_routes": "fibre_routes.geojson"
            if scenario.added_fibre_routes is not None and len(scenario.added_fibre_routes)
            else None,
        },
    }
    doc.update({k: v for k, v in scenario.extra.items() if k not in doc})
    return doc
