"""Mobile service of any technology per hamlet, and what a 2G / 3G switch-off takes away.

A pixel's *service class* is the best coverage class (none / poor / fair / good, each technology by
its own thresholds: 2G RxLev, 3G RSCP, 4G RSRP) over every technology still on the air, for every
operator (``all``) or one. When a switch-off removes cells, a pixel

* *loses all service* when it had some class above none and has none after;
* *drops to weak* when it was fair or good and is poor after.

Households are spread over each hamlet's settlement footprint exactly as the coverage statistics
spread them (:func:`analysis.coverage_stats.footprint_class_shares`), so a hamlet's households that
lose all service are its households x the share of its footprint that does.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.coverage import (
    NODATA_CLASS,
    OperatorCoverage,
    Scene,
    compute_coverage_by_operator,
    select_cells,
)
from analysis.coverage_params import CoverageParams
from analysis.coverage_stats import StatisticsInputs, footprint_class_shares
from geo.errors import ParameterError

__all__ = ["SERVICE_TECHNOLOGIES", "ServiceLoss", "service_classes", "service_loss", "technology_coverage"]

#: Technologies that carry mobile service (5G is non-standalone on 4G anchors: not counted alone).
SERVICE_TECHNOLOGIES = ("2G", "3G", "4G")
_KEEP, _TO_WEAK, _LOST, _UNUSED = 0, 1, 2, 3


def technology_coverage(
    scene: Scene,
    cells: gpd.GeoDataFrame,
    *,
    params: CoverageParams,
    only: tuple[str, ...] = SERVICE_TECHNOLOGIES,
    skip: tuple[str, ...] = (),
) -> dict[str, OperatorCoverage]:
    """Coverage by operator of each technology of ``only`` (less ``skip``) that has cells."""
    out: dict[str, OperatorCoverage] = {}
    for tech in only:
        if tech in skip:
            continue
        try:
            select_cells(cells, technology=tech)
        except ParameterError:  # no cell of this technology
            continue
        out[tech] = compute_coverage_by_operator(scene, cells, technology=tech, params=params)
    return out


def service_classes(
    coverage: dict[str, OperatorCoverage], *, params: CoverageParams, operator: str | None = None
) -> NDArray[np.uint8]:
    """Best class per pixel over the technologies (``NODATA_CLASS`` outside the province).

    ``operator``: that operator's classes only (its cells of every technology); None = all operators.
    """
    best: NDArray[np.uint8] | None = None
    for tech, cov in coverage.items():
        if operator is None:
            cls = cov.combined.classes(params.tech(tech))
        else:
            key = next((k for k in cov.classes_by_operator if k.casefold() == operator.casefold()), None)
            if key is None:
                continue
            cls = cov.classes_by_operator[key]
        best = cls.copy() if best is None else _best_of(best, cls)
    if best is None:
        raise ParameterError(
            f"no cells of {operator or 'any operator'} in {', '.join(coverage) or 'any technology'}"
        )
    return best


def _best_of(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> NDArray[np.uint8]:
    nodata = (a == NODATA_CLASS) | (b == NODATA_CLASS)
    return np.where(nodata, NODATA_CLASS, np.maximum(a, b)).astype(np.uint8)


def _transitions(before: NDArray[np.uint8], after: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Per pixel: keep / drop to weak / lose all (``NODATA_CLASS`` outside)."""
    out = np.full(before.shape, _KEEP, dtype=np.uint8)
    out[(before >= 2) & (after == 1)] = _TO_WEAK
    out[(before >= 1) & (after == 0)] = _LOST
    out[before == NODATA_CLASS] = NODATA_CLASS
    return out


@dataclass(frozen=True, eq=False)
class ServiceLoss:
    """Households per hamlet that lose all mobile service or drop to weak after a switch-off.

    ``hamlets``: ``hamlet_id``, ``households``, ``hh_lose_all_service`` and
    ``hh_drop_to_weak`` (every operator counted: service from anyone), and when one operator
    switches off, ``hh_lose_operator_service`` / ``hh_operator_drop_to_weak`` (that operator's own
    service). ``lose_all_pixels``: pixels of the province that lose all service.
    """

    hamlets: pd.DataFrame
    operator: str | None
    technologies: tuple[str, ...]
    lose_all_pixels: int
    drop_to_weak_pixels: int


def _hamlet_households(
    inputs: StatisticsInputs, scene: Scene, transitions: NDArray[np.uint8]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    shares = footprint_class_shares(
        inputs.footprints, scene.grid, {"t": transitions}, anchors_xy=inputs.anchors_xy, pixels=inputs.pixels
    )["t"]
    hh = pd.to_numeric(inputs.hamlets["households"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    shares = np.nan_to_num(shares)
    return np.round(hh * shares[:, _LOST], 1), np.round(hh * shares[:, _TO_WEAK], 1)


def service_loss(
    scene: Scene,
    inputs: StatisticsInputs,
    before: dict[str, OperatorCoverage],
    after: dict[str, OperatorCoverage],
    *,
    params: CoverageParams,
    technologies: tuple[str, ...] = (),
    operator: str | None = None,
) -> ServiceLoss:
    """Per hamlet, households losing all service / dropping to weak between ``before`` and ``after``.

    Parameters
    ----------
    before, after
        :func:`technology_coverage` of the cells before and after (a technology switched off for
        every operator is simply absent from ``after``).
    technologies, operator
        What was switched off (for the record, and the operator whose own service is also counted).
    """
    b = service_classes(before, params=params)
    a = service_classes(after, params=params) if after else np.where(b == NODATA_CLASS, b, 0).astype(np.uint8)
    t = _transitions(b, a)
    lost, weak = _hamlet_households(inputs, scene, t)
    table = pd.DataFrame(
        {
            "hamlet_id": inputs.hamlets["hamlet_id"].astype(str).to_numpy(),
            "households": pd.to_numeric(inputs.hamlets["households"], errors="coerce").to_numpy(),
            "hh_lose_all_service": lost,
            "hh_drop_to_weak": weak,
        }
    )
    if operator is not None:
        ob = service_classes(before, params=params, operator=operator)
        try:
            oa = service_classes(after, params=params, operator=operator)
        except ParameterError:  # the operator has no cell left
            oa = np.where(ob == NODATA_CLASS, ob, 0).astype(np.uint8)
        table["hh_lose_operator_service"], table["hh_operator_drop_to_weak"] = _hamlet_households(
            inputs, scene, _transitions(ob, oa)
        )
    return ServiceLoss(table, operator, technologies, int((t == _LOST).sum()), int((t == _TO_WEAK).sum()))
