"""New-site planning: where up to N new sites bring the most households of under-served hamlets to
good coverage (issue 12 §4). The full description, with the objective and the guarantee, is in
``docs/PLANNING.md``.

Pipeline of :func:`plan_sites`
------------------------------
1. **Today.** The coverage engine (:mod:`analysis.coverage`, default or given parameters) predicts
   the best-server level of the planned-for operator (``operator``) or, without one, of every
   operator; pixels are classified with the technology's thresholds.
2. **Targets.** Per hamlet, the household shares per class over its settlement footprint, exactly
   as :mod:`analysis.coverage_stats` computes them (same footprint pixels, same population
   weighting). A hamlet is *under-served* when the signal flags of :mod:`analysis.gaps` fire on those
   shares: ``NO_MOBILE_COVERAGE`` (share without coverage above ``no_mobile_max_share_no_4g``) or
   ``WEAK_MOBILE_COVERAGE`` (share at good below ``weak_mobile_min_share_good_4g``), thresholds from
   :class:`analysis.params.GapThresholds`. Its *not-good households* ``households × (1 − good
   share)`` sit on the footprint pixels that are not good today, each pixel holding the hamlet's
   households times its weight share. The *items* of the covering problem are these pixels (a pixel
   in two hamlets' footprints carries both hamlets' households, counted once).
3. **Candidates**, in this order (ties in the greedy go to the earlier one): existing masts where the
   planned-for operator (without one: no operator) has no cell of the technology (infrastructure
   sharing, the host mast's height), then the centres of the under-served hamlets, then the nodes of
   a square grid over their footprints (new masts). Only candidates in the province and within
   reach of an item are kept; one per pixel.
4. **Coverage matrix.** Each candidate's cells (one sector per configured azimuth) are run through
   the engine alone (:func:`analysis.coverage.compute_coverage`) over a window of the grid around
   the site as large as the distance at which they could still reach the good threshold; the
   candidate covers an item where its level is good (:func:`analysis.coverage.classify_rsrp`).
   Since the item is not good today and the best server is the maximum over cells, the item is
   good after the plan exactly when some chosen candidate covers it.
5. **Choice.** Greedy maximum coverage with lazy re-evaluation (CELF, :func:`greedy_max_coverage`):
   each step adds the candidate with the largest marginal gain in households (ties: lowest
   candidate index) among those whose cost fits the budget left, until ``n_sites`` sites are chosen,
   no candidate fits or no candidate gains anything. The objective is a weighted coverage function
   (monotone submodular), so greedy reaches at least ``1 − 1/e`` of the optimum for a number of
   sites; :func:`exact_max_coverage` solves the integer program with scipy's HiGHS for small
   instances (tests, checks).

The result (:class:`SitePlan`) lists the chosen sites in the ``towers/sites.csv`` format (one row
per cell, ``status = planned``, site ids ``PLAN-001``...) with each site's marginal gain, the
cumulative gain, its cost and the hamlets it serves.
Modules: ``params`` (parameters), ``cover`` (greedy and exact maximum coverage), ``targets`` (the
items), ``candidates``, ``matrix`` (who covers what), ``plan`` (:func:`plan_sites` and its layers).
"""

from analysis.site_planning._common import KINDS, PLAN_COLUMNS, SITE_COLUMNS
from analysis.site_planning.cover import ExactResult, GreedyResult, exact_max_coverage, greedy_max_coverage
from analysis.site_planning.matrix import _candidate_cells, _window_scene
from analysis.site_planning.params import (
    PlanningParams,
    TechnologyAntenna,
    default_planning_params,
    known_operator,
    planning_params_from_mapping,
    planning_params_from_toml,
)
from analysis.site_planning.plan import CoverageProblem, SitePlan, plan_sites
from analysis.site_planning.targets import PlanTargets

__all__ = [
    "KINDS",
    "SITE_COLUMNS",
    "PLAN_COLUMNS",
    "TechnologyAntenna",
    "PlanningParams",
    "default_planning_params",
    "planning_params_from_mapping",
    "planning_params_from_toml",
    "GreedyResult",
    "ExactResult",
    "greedy_max_coverage",
    "exact_max_coverage",
    "PlanTargets",
    "CoverageProblem",
    "SitePlan",
    "plan_sites",
    "known_operator",
    "_candidate_cells",
    "_window_scene",
]
