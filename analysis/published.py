"""Official thresholds and targets: parameters to and from the document :mod:`geo.settings_store`
keeps (``{"gap_params": {...}, "kpi_targets": {...}}`` plus who published them and when)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from analysis.kpi import KpiTargets
from analysis.params import GapParams, default_gap_params, gap_params_from_mapping
from geo.errors import ParameterError

__all__ = ["Published", "published_from_document", "published_document"]


@dataclass(frozen=True)
class Published:
    """Official values and their record."""

    params: GapParams
    targets: KpiTargets
    published_by: str
    published_utc: str


def published_document(params: GapParams, targets: KpiTargets) -> dict[str, Any]:
    """The values to publish (:func:`geo.settings_store.publish_settings` adds who and when)."""
    return {"gap_params": params.to_dict(), "kpi_targets": dataclasses.asdict(targets)}


def published_from_document(doc: dict[str, Any], *, source: str = "settings/official.json") -> Published:
    """Parameters from a published document (missing entries keep the defaults).

    Raises
    ------
    ParameterError
        A value is unknown, of the wrong type or out of range (the message names it).
    """
    params = gap_params_from_mapping(doc.get("gap_params") or {}, base=default_gap_params(), source=source)
    raw = doc.get("kpi_targets") or {}
    known = {f.name for f in dataclasses.fields(KpiTargets)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ParameterError(f"{source}: unknown KPI target(s) {', '.join(unknown)}")
    targets = KpiTargets(**raw)
    return Published(params, targets, str(doc.get("published_by", "")), str(doc.get("published_utc", "")))
