"""Constants shared by the site-planning modules."""

from __future__ import annotations

from analysis.coverage_params import CLASS_NAMES
from geo.schema import SITE_CSV_COLUMNS

KINDS: tuple[str, ...] = ("shared-mast", "new-mast")
"""``shared-mast``: new cells on an existing mast (co-location); ``new-mast``: a new mast."""

SITE_COLUMNS: tuple[str, ...] = SITE_CSV_COLUMNS
"""The ``towers/sites.csv`` columns of :attr:`SitePlan.sites` (docs/DATA.md), in order."""

PLAN_COLUMNS: tuple[str, ...] = (
    "plan_rank",
    "kind",
    "candidate_id",
    "candidate_origin",
    "host_site_id",
    "host_operator",
    "marginal_gain_households",
    "cumulative_households",
    "cost_vnd",
    "cumulative_cost_vnd",
    "hamlets_served",
    "hamlets_served_count",
)
"""Site-level plan columns after :data:`SITE_COLUMNS` (repeated on each cell of a site, like the
site columns of ``towers/sites.csv``: sum them over sites, not cells)."""

_GOOD = CLASS_NAMES.index("good")
_NONE = CLASS_NAMES.index("none")
_ORIGIN_MAST, _ORIGIN_CENTRE, _ORIGIN_GRID = "existing mast", "hamlet centre", "grid"
_REACH_SLACK_DB = 0.5  # the engine's loss table interpolates (<= 0.12 dB): reach a little farther
_REACH_MARGIN_PX = 2  # site snapping and the last partial pixel
