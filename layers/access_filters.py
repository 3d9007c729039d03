"""What a partner operator may take away: the server-side filter of every downloadable layer.

A partner account names one operator (docs/ACCESS.md). Before the bytes of any download are built,
the page passes the layer through :func:`restrict_layer` with that operator; for every other role
the operator is None and the layer passes unchanged. This module is pure (no Streamlit, no
:mod:`auth`): the operator is a plain ``str | None`` (any spelling
:func:`geo.schema.parse_category` accepts; an unknown one is refused).

The pages draw with the same rules (docs/ACCESS.md): the map's sites and the scenario map's site
markers go through :func:`filter_sites` / :func:`restrict_layer`, hamlet popups through
``restrict_layer("gaps", ...)``, the coverage overlays through :func:`visible_coverage`; a
partner's scenario may only change the sites and cells :func:`owned_ids` lists, and planned
sites of another operator (:func:`other_operator_rows`) are refused.

Kinds of layers (:data:`LAYER_KINDS`)
-------------------------------------
``province``
    Gap layers, commune indicators, the fibre plan, a scenario's hamlet changes and fibre
    additions: the whole province, every row kept; only per-operator coverage of other operators
    is taken out (below).
``base_station``
    Sites and cells (also a scenario's new, removed and modified cells): only the partner's
    operator's rows. A table without an ``operator`` column is refused, never passed whole.
``operator_stats``
    Coverage statistics with an ``operator`` column (``"all"`` plus one row per operator): the
    ``"all"`` rows and the partner's own rows.
``raster``
    Coverage rasters (:class:`CoverageRasters`): only the partner's own operator's class raster.

A layer name that is not listed is refused for a partner (:class:`~geo.errors.NotPermittedError`):
a new layer must be classified here before a partner can download it.

What "another operator's per-operator coverage" is
--------------------------------------------------
Any value that the data attributes to a named operator other than the partner's:

1. rows whose ``operator`` names another operator (sites, cells, per-operator statistics rows);
2. columns whose *name* names another operator (``share_good_mobifone``, ``classes_VNPT``): dropped;
3. text columns that list operators (``good_4g_operators`` = ``"Viettel;MobiFone"``,
   ``best_operator``): every other operator's name is removed from each cell, the partner's own
   stays (``"Viettel"`` or ``""``);
4. values tied to another operator by a ``<prefix>operator`` column of the same row
   (``best_cell_id``, ``best_rsrp_dbm`` of a best server of another operator): blanked (NaN / "");
5. rasters: another operator's class raster, the all-operator best-class raster (at pixel
   resolution it *is* other operators' coverage wherever theirs beats the partner's) and any
   best-server index raster (other operators' cells). A partner gets its own operator's class
   raster only; an operator without cells gets "no coverage" inside the province;
6. a scenario's service of the operator it switches off (:data:`SWITCHED_OPERATOR_COLUMNS`),
   when that is another operator (:func:`restrict_scenario_layers`).

Kept, on purpose: aggregates that name no operator — ``share_hh_good_4g`` (good 4G from at least one
operator), ``share_hh_no_4g``, the flags, priorities and commune roll-ups, ``operators_good``
(a count) — because the issue gives partners the gap layers and commune indicators of the whole
province; and the fibre columns (``fibre_operator``, ``fibre_node_id``...): fibre is not
base-station data (:data:`KEPT_OPERATOR_COLUMNS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeVar, cast, overload

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.errors import NotPermittedError, ParameterError
from geo.names import fold_diacritics
from geo.schema import Operator, parse_category

__all__ = [
    "ALL_OPERATORS",
    "KEPT_OPERATOR_COLUMNS",
    "LAYER_KINDS",
    "LayerKind",
    "CoverageRasters",
    "canonical_operator",
    "coverage_raster",
    "filter_cells",
    "filter_sites",
    "layer_kind",
    "restrict_coverage",
    "restrict_layer",
    "restrict_scenario_layers",
    "other_operator_switched",
    "other_operator_rows",
    "owned_ids",
    "scrub_other_operators",
    "SWITCHED_OPERATOR_COLUMNS",
    "visible_coverage",
]

LayerKind = Literal["province", "base_station", "operator_stats", "raster"]

#: Every layer a download may serve, by kind (see the module docstring). Unlisted: refused for a partner.
LAYER_KINDS: Mapping[str, LayerKind] = MappingProxyType(
    {
        # downloads page
        "gaps": "province",
        "communes": "province",
        "fibre_plan": "province",
        "fibre_plan_routes": "province",
        "fibre_plan_hamlets": "province",
        "sites": "base_station",
        "cells": "base_station",
        "coverage": "raster",
        # coverage statistics (analysis.coverage_stats)
        "coverage_hamlets": "operator_stats",
        "coverage_communes": "operator_stats",
        # scenario downloads (layers.scenario_export.scenario_layers)
        "hamlet_changes": "province",
        "new_fibre_nodes": "province",
        "new_fibre_routes": "province",
        "new_sites": "base_station",
        "removed_cells": "base_station",
        "modified_cells": "base_station",
    }
)

#: Value of the ``operator`` column on the rows that combine every operator (coverage statistics).
ALL_OPERATORS = "all"

#: Columns that name operators but are not base-station data: the nearest fibre node's operator
#: of the gap layers (fibre is outside the partner restriction, see the module docstring).
KEPT_OPERATOR_COLUMNS: frozenset[str] = frozenset({"fibre_operator"})

_LIST_SEPARATORS = re.compile(r"\s*[;,/|]\s*")
_NAME_TOKENS = re.compile(r"[^0-9a-z+]+")
NODATA_CLASS = 255
_Frame = TypeVar("_Frame", bound=pd.DataFrame)


def canonical_operator(operator: str | None) -> str | None:
    """The canonical name of ``operator`` (None stays None: no restriction).

    Raises
    ------
    ParameterError
        ``operator`` names no known operator (a partner is never left unfiltered).
    """
    if operator is None:
        return None
    found = parse_category(Operator, operator)
    if found is None:
        raise ParameterError(
            f"{operator!r} is not a known operator; use one of {', '.join(o.value for o in Operator)}"
        )
    return found.value


def layer_kind(name: str) -> LayerKind:
    """The kind of layer ``name`` (:data:`LAYER_KINDS`).

    Raises
    ------
    NotPermittedError
        The layer is not classified: nothing of it may reach a partner.
    """
    kind = LAYER_KINDS.get(name)
    if kind is None:
        raise NotPermittedError(
            f"layer {name!r} has no partner filter (layers/access_filters.py); "
            "it cannot be downloaded by a partner",
            permission="download_all_operators",
        )
    return kind


def _operator_of(value: object) -> str | None:
    """Canonical operator that a cell value names, or None (blank, "all", or no operator)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    found = parse_category(Operator, str(value))
    return None if found is None else found.value


def _own_rows(frame: _Frame, operator: str, *, keep_all: bool, layer: str) -> _Frame:
    if "operator" not in frame.columns:
        raise NotPermittedError(
            f"layer {layer!r} has no operator column: it cannot be filtered to {operator}",
            permission="download_all_operators",
        )
    values = frame["operator"]
    mask = values.map(_operator_of) == operator
    if keep_all:
        mask |= values.astype(str).str.strip().str.lower() == ALL_OPERATORS
    return cast(_Frame, frame.loc[mask.to_numpy()].copy())


def filter_sites(frame: _Frame, operator: str | None) -> _Frame:
    """The sites of ``operator`` only (every site when ``operator`` is None).

    Rows whose ``operator`` names no known operator are dropped too (fail closed); other
    operators' names in any other column are scrubbed as :func:`scrub_other_operators` does.
    """
    return restrict_layer("sites", frame, operator)


def filter_cells(frame: _Frame, operator: str | None) -> _Frame:
    """The cells of ``operator`` only (every cell when ``operator`` is None); as :func:`filter_sites`."""
    return restrict_layer("cells", frame, operator)


def other_operator_rows(frame: pd.DataFrame, operator: str | None) -> list[int]:
    """Positions (0-based) of the rows of ``frame`` that are not ``operator``'s: what a partner may
    not add to a scenario.

    None (no partner): ``[]``. A row whose ``operator`` names no known operator counts as another's,
    and a table without an ``operator`` column has every row refused (fail closed).
    """
    own = canonical_operator(operator)
    if own is None:
        return []
    if "operator" not in frame.columns:
        return list(range(len(frame)))
    return [int(i) for i in np.flatnonzero(~_is_operator(frame["operator"], own))]


def owned_ids(cells: pd.DataFrame, operator: str | None, column: str = "site_id") -> frozenset[str] | None:
    """The ``column`` values (site or cell ids) of ``operator``'s rows of ``cells``: the sites or
    cells a partner may remove, move or edit in a scenario. None (no partner): every id may be."""
    own = canonical_operator(operator)
    if own is None:
        return None
    return frozenset(cells.loc[_is_operator(cells["operator"], own), column].astype(str))


def _is_operator(values: pd.Series, operator: str) -> NDArray[np.bool_]:
    """Which ``values`` name ``operator`` (each distinct value parsed once: tables of many cells)."""
    codes, uniques = pd.factorize(values)
    hits = np.array([_operator_of(u) == operator for u in uniques] + [False], dtype=bool)
    return hits[codes]  # code -1 (missing) takes the trailing False


def _names_other_operator(column: str, operator: str) -> bool:
    """Whether a column name names an operator other than ``operator`` (word or two joined words)."""
    words = [w for w in _NAME_TOKENS.split(fold_diacritics(column)) if w]
    candidates = words + [a + b for a, b in zip(words, words[1:], strict=False)]
    for word in candidates:
        found = parse_category(Operator, word)
        if found is not None and found.value != operator:
            return True
    return False


def _is_text(series: pd.Series) -> bool:
    return bool(
        pd.api.types.is_object_dtype(series)
        or pd.api.types.is_string_dtype(series)
        or isinstance(series.dtype, pd.CategoricalDtype)
    )


def _operator_list_column(series: pd.Series) -> bool:
    """True when every non-blank value is one or more operator names (``"Viettel;MobiFone"``)."""
    seen = False
    for value in pd.unique(series.dropna().astype(str)):
        parts = [p for p in _LIST_SEPARATORS.split(str(value).strip()) if p]
        if not parts:
            continue
        if any(parse_category(Operator, p) is None for p in parts):
            return False
        seen = True
    return seen


def _keep_own(value: object, operator: str) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return value
    parts = [p for p in _LIST_SEPARATORS.split(str(value).strip()) if p]
    return ";".join(p for p in parts if _operator_of(p) == operator)


def _blank(series: pd.Series, where: NDArray[np.bool_]) -> pd.Series:
    if not where.any():
        return series
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        out = series.astype(float)
        out[where] = np.nan
        return out
    out = series.astype(object)
    out[where] = ""
    return out


def scrub_other_operators(frame: _Frame, operator: str) -> _Frame:
    """``frame`` without other operators' per-operator values (rules 2-4 of the module docstring).

    Rows are not filtered here (see :func:`restrict_layer`). Columns of
    :data:`KEPT_OPERATOR_COLUMNS` and the geometry are left as they are.
    """
    own = canonical_operator(operator)
    assert own is not None
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    dropped = [
        c for c in frame.columns if c != geometry and c != "operator" and _names_other_operator(str(c), own)
    ]
    out = cast(_Frame, frame.drop(columns=dropped) if dropped else frame.copy())
    tied: dict[str, NDArray[np.bool_]] = {}
    for col in list(out.columns):
        if col == geometry or col in KEPT_OPERATOR_COLUMNS or col == "operator":
            continue
        series = out[col]
        if not _is_text(series) or not _operator_list_column(series):
            continue
        if str(col).endswith("operator"):  # one operator per row: its row's values belong to it
            prefix = str(col)[: -len("operator")]
            if prefix:
                tied[prefix] = (series.map(_operator_of) != own).to_numpy()
        out[col] = series.astype(object).map(lambda v: _keep_own(v, own))
    for prefix, other in tied.items():
        for col in out.columns:
            name = str(col)
            if name.startswith(prefix) and name != f"{prefix}operator" and col != geometry:
                out[col] = _blank(out[col], other)
    return out


@dataclass(frozen=True)
class CoverageRasters:
    """Coverage class rasters of one technology (uint8: 0 none .. 3 good, 255 outside).

    ``combined`` is the best class over every operator; ``by_operator`` each operator's own.
    Best-server (cell index) rasters are deliberately not part of it: they are never exported.
    """

    combined: NDArray[np.uint8]
    by_operator: Mapping[str, NDArray[np.uint8]] = field(default_factory=dict)
    nodata: int = NODATA_CLASS

    def no_coverage(self) -> NDArray[np.uint8]:
        """Class 0 ("none") inside the province, nodata outside: an operator without cells."""
        grid = np.asarray(self.combined)
        return np.where(grid == self.nodata, self.nodata, 0).astype(np.uint8)


def restrict_coverage(rasters: CoverageRasters, operator: str | None) -> CoverageRasters:
    """Only ``operator``'s class raster (as ``combined`` and its one ``by_operator`` entry).

    None: ``rasters`` unchanged. An operator without cells gets :meth:`CoverageRasters.no_coverage`.
    """
    own = canonical_operator(operator)
    if own is None:
        return rasters
    mine = next((v for k, v in rasters.by_operator.items() if _operator_of(k) == own), None)
    classes = np.array(mine if mine is not None else rasters.no_coverage(), dtype=np.uint8, copy=True)
    return CoverageRasters(classes, {own: classes}, rasters.nodata)


def visible_coverage(rasters: CoverageRasters, operator: str | None) -> NDArray[np.uint8]:
    """The class raster a map may show to a user restricted to ``operator``.

    None: every operator's best class (``combined``). A partner: its own operator's classes only,
    "no coverage" for an operator without cells; never the all-operator best class (at pixel
    resolution it is other operators' coverage wherever theirs beats the partner's).
    """
    return np.asarray(restrict_coverage(rasters, operator).combined, dtype=np.uint8)


def coverage_raster(rasters: CoverageRasters, choice: str = "") -> NDArray[np.uint8]:
    """The raster to write: ``combined`` for ``""``, else the chosen operator's classes.

    An operator without cells gets "no coverage" (never the combined raster in its place).
    """
    if not choice:
        return np.asarray(rasters.combined, dtype=np.uint8)
    own = canonical_operator(choice)
    mine = next((v for k, v in rasters.by_operator.items() if _operator_of(k) == own), None)
    return np.asarray(mine if mine is not None else rasters.no_coverage(), dtype=np.uint8)


@overload
def restrict_layer(name: str, frame: CoverageRasters, operator: str | None) -> CoverageRasters: ...


@overload
def restrict_layer(name: str, frame: _Frame, operator: str | None) -> _Frame: ...


def restrict_layer(
    name: str, frame: pd.DataFrame | CoverageRasters, operator: str | None
) -> pd.DataFrame | CoverageRasters:
    """What of layer ``name`` a user restricted to ``operator`` may download.

    Parameters
    ----------
    name
        The layer (:data:`LAYER_KINDS`).
    frame
        Its table (DataFrame or GeoDataFrame, returned as the same type), or its
        :class:`CoverageRasters` for the ``raster`` kind.
    operator
        The partner's operator; None (every other role): ``frame`` is returned unchanged.

    Raises
    ------
    NotPermittedError
        For a partner: the layer is unknown, a base-station table has no ``operator`` column, or a
        raster layer was given a table (or the other way round).
    ParameterError
        ``operator`` is not a known operator.
    """
    own = canonical_operator(operator)
    if own is None:
        return frame
    kind = layer_kind(name)
    if kind == "raster":
        if not isinstance(frame, CoverageRasters):
            raise NotPermittedError(f"layer {name!r} is a raster; got a table", "download_all_operators")
        return restrict_coverage(frame, own)
    if not isinstance(frame, pd.DataFrame):
        raise NotPermittedError(
            f"layer {name!r} is a table; got {type(frame).__name__}", "download_all_operators"
        )
    out = frame
    if kind == "base_station":
        out = _own_rows(out, own, keep_all=False, layer=name)
    elif kind == "operator_stats" or "operator" in out.columns:
        out = _own_rows(out, own, keep_all=True, layer=name)
    return scrub_other_operators(out, own)


#: Scenario hamlet columns that hold the switched-off operator's own service
#: (:mod:`analysis.scenario.service`): that operator's per-operator coverage.
SWITCHED_OPERATOR_COLUMNS: tuple[str, ...] = ("hh_lose_operator_service", "hh_operator_drop_to_weak")


def other_operator_switched(operator: str | None, switched_operator: str | None) -> bool:
    """Whether a scenario switches off an operator other than the partner's own (None: no partner,
    or no single operator switched off: False)."""
    own = canonical_operator(operator)
    if own is None or not switched_operator:
        return False
    return _operator_of(switched_operator) != own


def restrict_scenario_layers(
    layers: Mapping[str, _Frame], operator: str | None, *, switched_operator: str | None = None
) -> dict[str, _Frame]:
    """A scenario's export layers (``layers.scenario_export.scenario_layers``) for ``operator``.

    Each layer goes through :func:`restrict_layer`; layers the restriction empties are left out;
    when the scenario switches off another operator, that operator's own service columns
    (:data:`SWITCHED_OPERATOR_COLUMNS`) are dropped. None: every layer unchanged.
    """
    if canonical_operator(operator) is None:
        return dict(layers)
    out: dict[str, _Frame] = {}
    for name, frame in layers.items():
        if other_operator_switched(operator, switched_operator):
            frame = cast(_Frame, frame.drop(columns=[c for c in SWITCHED_OPERATOR_COLUMNS if c in frame]))
        kept = restrict_layer(name, frame, operator)
        if len(kept) or not len(frame):
            out[name] = kept
    return out
