"""The covering problem's items: households of under-served hamlets on footprint pixels not good today."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.coverage import (
    NODATA_CLASS,
    Grid,
)
from analysis.coverage_stats import StatisticsInputs, footprint_class_shares
from analysis.params import GapThresholds
from analysis.site_planning._common import _GOOD, _NONE

# ---------------------------------------------------------------------------------------------
# targets: under-served hamlets and their not-good pixels


@dataclass(frozen=True)
class PlanTargets:
    """The under-served hamlets and the pixels whose households the plan tries to bring to good.

    Attributes
    ----------
    hamlets : DataFrame
        One row per under-served hamlet: ``row`` (row in the statistics' hamlets), ``hamlet_id``,
        ``hamlet_name``, ``commune_id``, ``households``, ``share_good``, ``share_none``,
        ``not_good_households`` (households × (1 − share_good)), ``flag``.
    item_pixels : ndarray of int64
        Flat grid index of each item (sorted, unique): a footprint pixel not good today.
    item_households : ndarray of float64
        Households on each item (summed over the hamlets whose footprint holds it).
    element_item, element_hamlet : ndarray of int64
        Per (hamlet, pixel) element, sorted by item: its item and its row in ``hamlets``.
    element_households : ndarray of float64
        Households of that hamlet on that pixel.
    """

    hamlets: pd.DataFrame
    item_pixels: NDArray[np.int64]
    item_households: NDArray[np.float64]
    element_item: NDArray[np.int64]
    element_hamlet: NDArray[np.int64]
    element_households: NDArray[np.float64]

    @property
    def element_ptr(self) -> NDArray[np.int64]:
        """Start of each item's elements (CSR pointer, length items + 1)."""
        return np.searchsorted(self.element_item, np.arange(len(self.item_pixels) + 1)).astype(np.int64)


def _pixel_weights(
    pix: NDArray[np.int64],
    unit: NDArray[np.int64],
    inside: NDArray[np.bool_],
    n: int,
    population: NDArray[np.floating] | None,
) -> NDArray[np.float64]:
    """Share of its hamlet's households on each footprint pixel, as coverage_stats spreads them:
    uniform over the pixels inside the province, or by population where the footprint holds some."""
    ones = inside.astype(np.float64)
    count = np.bincount(unit, weights=ones, minlength=n)
    share = np.divide(ones, count[unit], out=np.zeros_like(ones), where=count[unit] > 0)
    if population is None:
        return share
    pop = np.clip(np.nan_to_num(np.asarray(population).ravel()[pix].astype(np.float64)), 0, None) * ones
    total = np.bincount(unit, weights=pop, minlength=n)
    weighted = np.divide(pop, total[unit], out=np.zeros_like(pop), where=total[unit] > 0)
    return np.where(total[unit] > 0, weighted, share)


def _targets(
    prepared: StatisticsInputs,
    classes: NDArray[np.uint8],
    grid: Grid,
    thresholds: GapThresholds,
    population: NDArray[np.floating] | None,
    only: Collection[str] | None = None,
) -> PlanTargets:
    """Under-served hamlets (the signal flags of analysis.gaps on the coverage_stats shares) and the
    households on their footprint pixels that are not good today.

    ``only``: these hamlet ids instead of the flagged hamlets (e.g. the hamlets a switch-off leaves
    without service); their flag column then says ``TARGETED`` where no signal flag fires."""
    ham = prepared.hamlets
    n = len(ham)
    shares = footprint_class_shares(
        prepared.footprints,
        grid,
        {"today": classes},
        anchors_xy=prepared.anchors_xy,
        population=population,
        pixels=prepared.pixels,
    )["today"]
    hh = pd.to_numeric(ham["households"], errors="coerce").fillna(0).to_numpy(dtype=float)
    good, none = shares[:, _GOOD], shares[:, _NONE]
    known = ~np.isnan(shares).any(axis=1)
    no_mobile = known & (none > thresholds.no_mobile_max_share_no_4g)
    weak = known & ~no_mobile & (good < thresholds.weak_mobile_min_share_good_4g)
    chosen = no_mobile | weak
    if only is not None:
        chosen = ham["hamlet_id"].astype(str).isin(set(only)).to_numpy()
    flagged = np.nonzero(chosen & (hh > 0))[0]
    pix, unit = prepared.pixels
    cls = classes.ravel()[pix]
    weight = _pixel_weights(pix, unit, cls != NODATA_CLASS, n, population)
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[flagged] = np.arange(len(flagged))
    take = (row_of[unit] >= 0) & (cls != NODATA_CLASS) & (cls != _GOOD) & (weight > 0)
    e_pix, e_ham = pix[take], row_of[unit[take]]
    e_hh = hh[unit[take]] * weight[take]
    item_pixels, e_item = np.unique(e_pix, return_inverse=True)
    order = np.argsort(e_item, kind="stable")
    table = pd.DataFrame(
        {
            "row": flagged,
            "hamlet_id": ham["hamlet_id"].astype(str).to_numpy()[flagged],
            "hamlet_name": (
                ham["hamlet_name"].astype(str) if "hamlet_name" in ham else ham["hamlet_id"].astype(str)
            ).to_numpy()[flagged],
            "commune_id": ham["commune_id"].astype(str).to_numpy()[flagged],
            "households": hh[flagged],
            "share_good": good[flagged],
            "share_none": none[flagged],
            "not_good_households": hh[flagged] * (1.0 - good[flagged]),
            "flag": np.where(
                no_mobile[flagged],
                "NO_MOBILE_COVERAGE",
                np.where(weak[flagged], "WEAK_MOBILE_COVERAGE", "TARGETED"),
            ),
        }
    )
    return PlanTargets(
        table,
        item_pixels.astype(np.int64),
        np.bincount(e_item, weights=e_hh, minlength=len(item_pixels)).astype(np.float64),
        e_item[order].astype(np.int64),
        e_ham[order].astype(np.int64),
        e_hh[order],
    )
