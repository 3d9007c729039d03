"""Working state of a package check: the problem collector, the layer being checked, limits.

Private to :mod:`geo.validate` and its helper modules (:mod:`geo._check_layer`,
:mod:`geo._check_refs`, :mod:`geo._check_codes`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import Problem, Severity
from geo.io import LayerRead
from geo.schema import (
    LayerSchema,
)

#: Problems listed one by one per file and check; the rest are summarised in one more line.
MAX_ROWS_PER_CHECK = 10

DATASET_FILE = "dataset.toml"

_PROVINCE_TOLERANCE_DEG = 0.002
"""A site or node this far outside the union of communes (≈ 220 m at 10° N) is not flagged."""

_HAMLET_TOLERANCE_DEG = 0.002
"""A hamlet point this far outside its commune polygon (≈ 220 m) is not flagged."""

_SITE_SPREAD_DEG = 0.001
"""Cells of one site further apart than this (sum of lon and lat spreads, ≈ 110 m) are flagged."""

_HOUSEHOLD_SUM_TOLERANCE = 0.05
"""Relative difference between a commune's households and the sum over its hamlets that is tolerated."""

_OTHER_FORMATS: Mapping[str, str] = {
    g: " (or .gpkg / .shp.zip / .csv)" for g in ("polygon", "point", "point_or_polygon", "line")
}

_GEOMETRY_TYPES: Mapping[str, tuple[str, ...]] = {
    "polygon": ("Polygon", "MultiPolygon"),
    "point": ("Point",),
    "point_or_polygon": ("Point", "Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
}


class _Findings:
    """Collects problems; caps per-row findings of one check at MAX_ROWS_PER_CHECK lines."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, severity: Severity, file: str, where: str, message: str, hint: str = "") -> None:
        self.items.append(Problem(severity, file, where, message, hint))

    def rows(
        self,
        severity: Severity,
        layer: _Layer,
        positions: np.ndarray | list[int],
        message: Callable[[int], str],
        hint: str | Callable[[int], str],
    ) -> None:
        """Add one problem per flagged row position (0-based), summarising beyond the cap.

        ``hint`` is one text for all rows, or a function of the row position (a per-row "did you
        mean"); the summary line gets the first summarised row's hint.
        """
        positions = [int(p) for p in positions]
        hint_of = hint if callable(hint) else (lambda _pos: hint)
        for pos in positions[:MAX_ROWS_PER_CHECK]:
            self.add(severity, layer.rel, layer.label(pos), message(pos), hint_of(pos))
        rest = positions[MAX_ROWS_PER_CHECK:]
        if rest:
            numbers = ", ".join(str(layer.number(p)) for p in rest[:40]) + (", ..." if len(rest) > 40 else "")
            self.add(
                severity,
                layer.rel,
                f"{len(rest)} more {layer.unit}s",
                f"the same kind of problem in {len(rest)} more {layer.unit}s ({numbers}); "
                f"the first of them: {message(rest[0])}",
                hint_of(rest[0]),
            )


@dataclass
class _Layer:
    """A layer while it is being checked (mutable working state, never returned)."""

    schema: LayerSchema
    rel: str
    frame: pd.DataFrame
    unit: str  # "row" (CSV) or "feature"
    read: LayerRead | None = None
    ids: pd.Series | None = None
    clean: dict[str, pd.Series] = field(default_factory=dict)
    cleaned: pd.DataFrame | None = None
    id_name: str | None = None

    def number(self, pos: int) -> int:
        return pos + 2 if self.unit == "row" else pos + 1

    def label(self, pos: int) -> str:
        text = f"{self.unit} {self.number(pos)}"
        key = self.id_name or self.schema.id_column
        if self.ids is not None and key is not None:
            value = self.ids.iloc[pos]
            if isinstance(value, str) and value:
                text += f", {key} {value}"
        return text


def _text(series: pd.Series) -> pd.Series:
    """Return cells as stripped ``str`` or None; whole floats print without ``.0``."""
    if pd.api.types.is_float_dtype(series.dtype):
        finite = series.dropna()
        if len(finite) and np.all(np.mod(finite.to_numpy(dtype=float), 1.0) == 0):
            series = series.astype("Int64")
    na, nat = pd.NA, pd.NaT
    values = [  # inlined _is_missing (a per-cell call is the package load's hot spot); str fast path
        (v.strip() or None)
        if type(v) is str
        else None
        if v is None or v is na or v is nat or (isinstance(v, float) and v != v)
        else (str(v).strip() or None)
        for v in series.to_numpy(dtype=object)
    ]
    return pd.Series(values, index=series.index, dtype=object)


def _map_obj(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """Apply ``func`` to every cell; return an object Series that keeps None (no dtype inference)."""
    values = [func(v) for v in series.to_numpy(dtype=object)]
    return pd.Series(values, index=series.index, dtype=object)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT
