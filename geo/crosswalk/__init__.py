"""Carry a commune-keyed table from the old commune layout (2025-03) to the new one (2025-07).

Since 1 July 2025 Viet Nam has 34 provinces and no districts; many old communes were merged into
one new commune, and a few were split between several. Surveys, operator site lists and census
tables are still keyed by old communes; offices report by new ones. This package moves such a table
across, honestly:

* **Counts** (households, adults, subscribers, area …) are *summed* over the old units that form a
  new commune.
* **Shares** are *recomputed* from the carried counts, never averaged: ``ftth_share`` of a new
  commune is ``households_ftth / households`` of its carried counts. A share is only carried when
  its numerator and denominator counts are in the table (:class:`ShareRule`); a share column
  without them is refused (:func:`plan_columns`), because no honest value can be made from
  shares alone.
* A **split** old unit's counts are allocated to its new communes by a documented weight
  (:func:`split_weights`): the households of its hamlets on each side when the hamlets carry their
  former commune, else the area of each part, else equal shares. The allocation of every table row
  is returned (:attr:`CarryResult.allocation`), with its weight and basis.
* **Totals are conserved exactly.** Integer columns (every value a whole number) are allocated by
  largest remainder, so the parts of each row sum to the row's value exactly; float columns are
  allocated proportionally and their totals compared with a relative tolerance of 1e-9
  (:attr:`CarryResult.totals`).
* **Missing values stay missing.** An empty cell in a count makes the carried value of every new
  commune it feeds empty too (a sum with an unknown part is unknown); the totals compare the
  non-empty cells.

The functions are pure (frames in, frames out); reading files is the caller's business
(``cli/commands/crosswalk.py``, the importers). Rows are numbered as a spreadsheet shows them: the
header is row 1, the first data row is row 2.

Submodules
----------
``common``
    The layouts, the weight bases, row numbering and code normalisation (:func:`normalise_code`).
``columns``
    Which columns are carried and how: :func:`plan_columns`, :class:`ShareRule`, key columns.
``units``
    Old communes: :func:`match_key`, :func:`old_units_from_mapping`, :func:`resolve_old_codes`.
``weights``
    :func:`split_weights` of split old communes (households, area, equal).
``allocate``
    :func:`carry_table`, :func:`largest_remainder`, :class:`CarryResult`, :func:`carry_summary`.

Import from ``geo.crosswalk`` (the names below); the submodules are its implementation.
"""

from __future__ import annotations

from geo.crosswalk.allocate import CarryResult, carry_summary, carry_table, largest_remainder
from geo.crosswalk.columns import (
    DEFAULT_SHARE_RULES,
    ColumnPlan,
    KeyColumns,
    ShareRule,
    find_key_columns,
    parse_share_rule,
    plan_columns,
)
from geo.crosswalk.common import BASES, NEW_LAYOUT, OLD_LAYOUT, Basis, normalise_code
from geo.crosswalk.common import FIRST_DATA_ROW as FIRST_DATA_ROW
from geo.crosswalk.common import FLOAT_RTOL as FLOAT_RTOL
from geo.crosswalk.units import match_key, old_units_from_mapping, resolve_old_codes
from geo.crosswalk.weights import split_weights

__all__ = [
    "OLD_LAYOUT",
    "NEW_LAYOUT",
    "Basis",
    "BASES",
    "ShareRule",
    "DEFAULT_SHARE_RULES",
    "KeyColumns",
    "ColumnPlan",
    "CarryResult",
    "parse_share_rule",
    "normalise_code",
    "match_key",
    "find_key_columns",
    "plan_columns",
    "old_units_from_mapping",
    "resolve_old_codes",
    "split_weights",
    "largest_remainder",
    "carry_table",
    "carry_summary",
]
