"""The "Propose sites" panel of the scenario page (issue 12 §4/§5/§6): up to N new 4G sites that
bring the most households to good 4G, proposed by :func:`analysis.site_planning.plan_sites` on the
draft's network, shown as a table and on the page's map, and added to the draft on request.

Two targets: the *under-served hamlets* (the signal flags, as ``plan-sites`` plans for them), or,
when the draft switches 2G / 3G off, the *hamlets left without service* by the switch-off (the draft
is evaluated first, then :func:`analysis.scenario.propose.propose_sites_for_service_loss`). The plan
runs only when the button is pressed, with its phases shown as they end, and is kept per package
version, gap parameters, draft content and request (:data:`_PLANS`), so asking again is instant.

"Add to the scenario" appends the proposed cells to the draft's added sites through the same check
as an uploaded CSV (:func:`views.scenario_parts.add_planned_cells`), with new site ids
(``PLAN-001``… not yet used): the planner can then remove any of them and evaluate before / after
like any added site. An any-operator plan (every operator's best server) gives its cells to the
operator with most 4G sites, as :func:`analysis.scenario.propose.proposal_scenario` does.

A partner (docs/ACCESS.md) proposes its own operator's sites only, planned on its own network: the
plan sees its own cells only (its own coverage today, its own masts as shared-mast candidates), so
neither the table nor the map shows another operator's mast, and the cells are re-checked when added.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis.scenario.evaluate import Baseline
from analysis.scenario.model import Scenario
from geo.errors import PhuSongError
from layers.access_filters import filter_cells, restrict_layer
from layers.i18n import Lang, format_number, t
from views import access, common
from views import scenario_parts as parts

if TYPE_CHECKING:  # analysis.site_planning (scipy.optimize) is imported when a plan is asked for only
    from analysis.site_planning import SitePlan

#: Targets of the panel: the signal-flagged hamlets, or the hamlets a switch-off leaves without service.
UNDERSERVED, SERVICE_LOSS = "underserved", "service_loss"
#: Bounds of the number of sites asked for on the page (the library takes up to 1000).
MOST_SITES = 50
#: Prefix of the proposed sites' ids in the draft (``PLAN-001``…, as ``plan-sites`` writes them).
PLAN_PREFIX = "PLAN-"
#: Most candidate locations drawn on the map (those that would bring most households alone).
MAX_CANDIDATES_DRAWN = 1500
#: Session-state key of the last proposal (:class:`Proposal`).
PROPOSAL = "scenarios_proposal"
#: Plans kept in this process (the newest last): request key -> (plan, cells operator, seconds).
_PLANS: OrderedDict[tuple, tuple[SitePlan | None, str, float]] = OrderedDict()
_PLANS_KEPT = 6
_PLANS_LOCK = threading.Lock()
#: Phases of :func:`analysis.site_planning.plan_sites` (its log lines) -> label key.
_PHASES = {
    "coverage today": "scn.propose.phase_coverage",
    "under-served hamlets": "scn.propose.phase_targets",
    "candidates": "scn.propose.phase_candidates",
    "coverage matrix": "scn.propose.phase_matrix",
    "greedy": "scn.propose.phase_choice",
}
_NEXT = dict(zip(list(_PHASES)[:-1], list(_PHASES.values())[1:], strict=True))
_PLAN_LOGGER = "analysis.site_planning"
_LOG_LOCK = threading.Lock()
_LOG_USERS = [0, logging.NOTSET]  # runs listening, the logger's own level before the first


@dataclasses.dataclass(frozen=True)
class Request:
    """What the planner asked for: ``operator`` None is any operator (every operator's best server)."""

    n_sites: int
    budget_vnd: float | None
    operator: str | None
    target: str


@dataclasses.dataclass(frozen=True)
class Proposal:
    """A plan shown on the page.

    ``cells``: the plan's cells in the ``towers/sites.csv`` columns, operator filled in, status
    active, ids as planned (renumbered when shown or added: :func:`numbered`); ``draft_key``: the
    content key of the draft it was planned on; ``token``: what the map's key changes with.
    """

    request: Request
    plan: SitePlan | None
    cells: pd.DataFrame
    operator: str
    draft_key: str
    seconds: float
    token: str


# --------------------------------------------------------------------------- planning


def request_key(pkg, request: Request, draft_key: str, partner: str | None) -> tuple:
    """The cache key of a plan: package version, gap parameters, KPI targets, draft and request."""
    return (pkg.version, common.gap_params(), common.kpi_targets(), draft_key, request, partner)


def _draft_package(pkg, scenario: Scenario, partner: str | None):
    """The package with the draft's network (its sites added, removed, switched off…); a partner's
    with its own operator's cells only."""
    from analysis.scenario.edits import apply_cell_changes

    cells, _changes = apply_cell_changes(pkg.cells, scenario)
    if partner:
        cells = filter_cells(cells, partner)
    return dataclasses.replace(pkg, cells=cells)


def compute_plan(
    pkg, base: Baseline, scenario: Scenario, key: str, request: Request, partner: str | None
) -> tuple[SitePlan | None, str]:
    """The plan of ``request`` on the draft ``scenario`` (content key ``key``) and the operator its
    cells get; plan None when the target is the switch-off's and no hamlet loses all service.

    A partner's plan is for its own operator, on its own cells, whatever ``request`` says.
    """
    from analysis.scenario.propose import (
        largest_operator,
        propose_sites_for_service_loss,
        service_loss_hamlets,
    )
    from analysis.site_planning import plan_sites

    operator = partner or request.operator
    if request.target == SERVICE_LOSS:
        if scenario.switch_off is None:
            return None, operator or ""
        result = parts.evaluation(pkg.version, common.gap_params(), common.kpi_targets(), key, base, scenario)
        targets = service_loss_hamlets(result)
        if not targets:
            return None, operator or ""
        operator = operator or scenario.switch_off.operator
        if operator is None or (not partner and operator == scenario.switch_off.operator):
            plan = propose_sites_for_service_loss(
                result, n_sites=request.n_sites, budget_vnd=request.budget_vnd
            )
        else:
            cells = filter_cells(result.cells, partner) if partner else result.cells
            plan = plan_sites(
                dataclasses.replace(base.pkg, cells=cells),
                n_sites=request.n_sites,
                budget_vnd=request.budget_vnd,
                operator=operator,
                coverage_params=base.cparams,
                target_hamlet_ids=targets,
                cell_status="active",
            )
    else:
        plan = plan_sites(
            _draft_package(pkg, scenario, partner),
            n_sites=request.n_sites,
            budget_vnd=request.budget_vnd,
            operator=operator,
            coverage_params=base.cparams,
            thresholds=base.params.thresholds,
            cell_status="active",
        )
    return plan, operator or largest_operator(pkg.cells)


def cached_plan(
    pkg, base: Baseline, scenario: Scenario, key: str, request: Request, partner: str | None
) -> tuple[SitePlan | None, str, float, bool]:
    """:func:`compute_plan` kept per :func:`request_key`: (plan, operator, seconds, from the cache)."""
    cache_key = request_key(pkg, request, key, partner)
    with _PLANS_LOCK:
        found = _PLANS.get(cache_key)
        if found is not None:
            _PLANS.move_to_end(cache_key)
            return (*found, True)
    start = time.perf_counter()
    plan, operator = compute_plan(pkg, base, scenario, key, request, partner)
    seconds = time.perf_counter() - start
    with _PLANS_LOCK:
        _PLANS[cache_key] = (plan, operator, seconds)
        while len(_PLANS) > _PLANS_KEPT:
            _PLANS.popitem(last=False)
    return plan, operator, seconds, False


def plan_cells(plan: SitePlan | None, operator: str) -> pd.DataFrame:
    """The plan's cells in the ``towers/sites.csv`` columns, ready for the draft: an empty operator
    (an any-operator plan) set to ``operator``, status active (a scenario tests its sites as built)."""
    from analysis.site_planning import SITE_COLUMNS

    if plan is None or plan.sites.empty:
        return pd.DataFrame(columns=list(SITE_COLUMNS))
    cells = pd.DataFrame(plan.sites[[c for c in SITE_COLUMNS if c in plan.sites.columns]]).copy()
    blank = cells["operator"].isna() | (cells["operator"].astype(str).str.strip() == "")
    cells.loc[blank, "operator"] = operator
    cells["status"] = "active"
    return cells.reset_index(drop=True)


def used_site_ids(pkg) -> set[str]:
    """Site ids the package and the draft already use."""
    draft = st.session_state.get("scenarios_sites")
    used = set(pkg.cells["site_id"].astype(str))
    return used | (set(draft["site_id"].astype(str)) if draft is not None else set())


def numbered(cells: pd.DataFrame, used: set[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``cells`` with site ids ``PLAN-nnn`` not in ``used`` (in plan order; cell ids follow), and the
    map planned id -> new id."""
    mapping: dict[str, str] = {}
    n = 1
    for site in dict.fromkeys(cells["site_id"].astype(str)):
        while f"{PLAN_PREFIX}{n:03d}" in used:
            n += 1
        mapping[site] = f"{PLAN_PREFIX}{n:03d}"
        n += 1
    if not mapping:
        return cells, mapping
    out = cells.copy()
    old = out["site_id"].astype(str)
    out["site_id"] = old.map(mapping)
    out["cell_id"] = [
        mapping[s] + c[len(s) :] if c.startswith(s) else f"{mapping[s]}-{c}"
        for s, c in zip(old, out["cell_id"].astype(str), strict=True)
    ]
    return out, mapping


# --------------------------------------------------------------------------- progress


class _PhaseHandler(logging.Handler):
    """Shows the phases that :func:`plan_sites` logs (this thread's only) in a ``st.status``."""

    def __init__(self, status: Any, lang: Lang) -> None:
        super().__init__(logging.INFO)
        self.status, self.lang, self.thread = status, lang, threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.thread != self.thread or len(args) != 2 or args[0] not in _PHASES:
            return
        name, seconds = str(args[0]), args[1]
        if not isinstance(seconds, int | float):
            return
        phase = t(_PHASES[name], self.lang)
        self.status.write(
            t(
                "scn.propose.phase_done",
                self.lang,
                phase=phase,
                seconds=format_number(seconds, self.lang, decimals=1),
            )
        )
        if name in _NEXT:
            self.status.update(label=t("scn.propose.phase_next", self.lang, phase=t(_NEXT[name], self.lang)))


@contextmanager
def _phases_shown(status: Any, lang: Lang) -> Iterator[None]:
    """Listen to the planning phases while the block runs (the logger at INFO meanwhile)."""
    logger = logging.getLogger(_PLAN_LOGGER)
    handler = _PhaseHandler(status, lang)
    with _LOG_LOCK:
        if _LOG_USERS[0] == 0:
            _LOG_USERS[1] = logger.level
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
        _LOG_USERS[0] += 1
        logger.addHandler(handler)
    try:
        yield
    finally:
        with _LOG_LOCK:
            logger.removeHandler(handler)
            _LOG_USERS[0] -= 1
            if _LOG_USERS[0] == 0:
                logger.setLevel(_LOG_USERS[1])


def _run(pkg, base: Baseline, scenario: Scenario, key: str, request: Request, lang: Lang) -> None:
    """Plan with the phases shown; keep the proposal in the session (an error is shown instead)."""
    partner = access.partner_operator()
    first = "scn.propose.phase_evaluate" if request.target == SERVICE_LOSS else "scn.propose.phase_coverage"
    with st.status(t("scn.propose.phase_next", lang, phase=t(first, lang)), expanded=True) as status:
        try:
            with _phases_shown(status, lang):
                plan, operator, seconds, cached = cached_plan(pkg, base, scenario, key, request, partner)
        except PhuSongError as exc:
            status.update(label=t("scn.propose.failed", lang), state="error", expanded=False)
            st.error(f"{t('scn.propose.failed', lang)}\n\n{parts.problems_text(exc)}")
            return
        shown = format_number(seconds, lang, decimals=1)
        status.update(label=t("scn.propose.ready", lang, seconds=shown), state="complete", expanded=False)
    if request.target == SERVICE_LOSS and plan is not None:  # the draft was evaluated: show it
        st.session_state["scenarios_evaluated"] = key
    token = hashlib.sha1(repr(request_key(pkg, request, key, partner)).encode()).hexdigest()[:12]
    cells = plan_cells(plan, operator)
    if partner:  # planned on its own cells already; whatever else, never another operator's rows
        cells = restrict_layer("new_sites", cells, partner)
    st.session_state[PROPOSAL] = Proposal(request, plan, cells, operator, key, seconds, token)


# --------------------------------------------------------------------------- the panel


def _add_to_draft(pkg) -> None:
    """Callback of "Add to the scenario": the proposed cells join the draft (checked like a CSV)."""
    lang = common.lang()
    proposal = st.session_state.get(PROPOSAL)
    if not isinstance(proposal, Proposal) or proposal.cells.empty:
        return
    cells, mapping = numbered(proposal.cells, used_site_ids(pkg))
    data = cells.to_csv(index=False, lineterminator="\n").encode("utf-8")
    error = parts.add_planned_cells(pkg, data, "proposal.csv")
    if error:
        return parts.say("propose", "error", f"{t('scn.err_site', lang)}\n\n{error}")
    st.session_state.pop(PROPOSAL, None)
    parts.say("propose", "success", t("scn.propose.added", lang, n=len(mapping)))


def _discard() -> None:
    st.session_state.pop(PROPOSAL, None)


def site_table(proposal: Proposal, pkg, lang: Lang) -> pd.DataFrame:
    """The proposed sites for display: rank, site id (as it will be added), kind, host mast,
    commune, marginal and cumulative households, cost, hamlets served (names)."""
    plan = proposal.plan
    if plan is None or plan.summary.empty:
        return pd.DataFrame()
    s = plan.summary
    _cells, mapping = numbered(proposal.cells, used_site_ids(pkg))
    names = dict(
        zip(pkg.hamlets["hamlet_id"].astype(str), pkg.hamlets["hamlet_name"].astype(str), strict=True)
    )
    communes = dict(
        zip(pkg.communes["commune_id"].astype(str), pkg.communes["commune_name"].astype(str), strict=True)
    )
    kinds = {"shared-mast": t("scn.propose.kind_shared", lang), "new-mast": t("scn.propose.kind_new", lang)}

    def served(ids: object) -> str:
        return ", ".join(names.get(h, h) for h in str(ids or "").split(";") if h)

    def host(site: object, operator: object) -> str:
        return f"{site} ({operator})" if site and operator else str(site or "")

    return pd.DataFrame(
        {
            t("scn.propose.col_rank", lang): s["plan_rank"].astype(int).to_numpy(),
            t("scn.propose.col_site", lang): [mapping.get(str(x), str(x)) for x in s["site_id"]],
            t("scn.propose.col_kind", lang): [kinds.get(str(k), str(k)) for k in s["kind"]],
            t("scn.propose.col_host", lang): [
                host(a, b)
                for a, b in zip(s["host_site_id"].fillna(""), s["host_operator"].fillna(""), strict=True)
            ],
            t("map.commune", lang): [communes.get(str(c), str(c or "")) for c in s["commune_id"].fillna("")],
            t("scn.propose.col_gain", lang): [
                format_number(v, lang, decimals=1) for v in s["marginal_gain_households"]
            ],
            t("scn.propose.col_cumulative", lang): [
                format_number(v, lang, decimals=1) for v in s["cumulative_households"]
            ],
            t("scn.propose.col_cost", lang): [parts._vnd(v, lang) for v in s["cost_vnd"]],
            t("scn.propose.col_hamlets", lang): [served(x) for x in s["hamlets_served"]],
        }
    )


def _show(proposal: Proposal, pkg, lang: Lang, key: str) -> None:
    plan, request = proposal.plan, proposal.request
    if proposal.draft_key != key:
        st.info(t("scn.propose.stale", lang))
    if plan is None:
        st.info(t("scn.propose.no_loss", lang))
        return
    if plan.summary.empty:
        st.info(t("scn.propose.none", lang))
        return
    st.dataframe(
        site_table(proposal, pkg, lang), hide_index=True, width="stretch", key="scenarios_propose_table"
    )
    meta = plan.metadata
    st.caption(
        t(
            "scn.propose.summary",
            lang,
            n=len(plan.summary),
            gained=format_number(plan.gained_households, lang, decimals=1),
            target=format_number(plan.target_households, lang, decimals=1),
            hamlets=meta.get("underserved_hamlets", "?"),
            candidates=format_number(len(plan.candidates), lang),
            cost=parts._vnd(plan.greedy.total_cost, lang),
        )
    )
    if plan.greedy.stop in ("budget", "no candidate") and request.budget_vnd is not None:
        st.caption(t("scn.propose.stop_budget", lang))
    elif plan.greedy.stop in ("no gain", "no candidate"):
        st.caption(t("scn.propose.stop_no_gain", lang))
    st.caption(t("scn.propose.cells_of", lang, operator=proposal.operator))
    st.warning(t("scn.propose.placeholder_costs", lang))
    b1, b2 = st.columns(2)
    b1.button(
        t("scn.propose.add", lang),
        key="scenarios_propose_add",
        on_click=_add_to_draft,
        args=(pkg,),
        type="primary",
    )
    b2.button(t("scn.propose.discard", lang), key="scenarios_propose_discard", on_click=_discard)


def prepare_widgets(scenario: Scenario, operators: list[str], partner: str | None) -> None:
    """Hold the panel's widgets to what the draft offers before they are drawn (a partner: its own
    operator; the switch-off target only while the draft switches something off)."""
    s = st.session_state
    if partner:
        s["scenarios_propose_operator"] = partner
    elif s.get("scenarios_propose_operator") not in ("", *operators):
        s["scenarios_propose_operator"] = ""
    if scenario.switch_off is None or s.get("scenarios_propose_target") not in (UNDERSERVED, SERVICE_LOSS):
        s["scenarios_propose_target"] = UNDERSERVED


def panel(
    pkg, lang: Lang, base: Baseline, scenario: Scenario, key: str, operators: list[str], partner: str | None
) -> None:
    """Propose sites: N, budget, operator, target; the plan on request; its table and "Add"."""
    st.subheader(t("scn.propose.title", lang))
    st.caption(t("scn.propose.intro", lang))
    prepare_widgets(scenario, operators, partner)
    c1, c2, c3, c4 = st.columns([1, 2, 2, 3])
    c1.number_input(t("scn.propose.n", lang), 1, MOST_SITES, step=1, key="scenarios_propose_n")
    c2.number_input(
        t("scn.propose.budget", lang),
        min_value=0.0,
        max_value=1e15,
        value=None,
        step=100_000_000.0,
        format="%.0f",
        key="scenarios_propose_budget",
        placeholder=t("scn.propose.no_budget", lang),
        help=t("scn.propose.budget_help", lang),
    )
    if partner:
        c3.selectbox(t("map.operator", lang), [partner], key="scenarios_propose_operator")
    else:
        c3.selectbox(
            t("map.operator", lang),
            ["", *operators],
            key="scenarios_propose_operator",
            format_func=lambda o: o or t("scn.propose.any_operator", lang),
            help=t("scn.propose.operator_help", lang),
        )
    off = scenario.switch_off
    targets = [UNDERSERVED] + ([SERVICE_LOSS] if off is not None else [])
    techs = "/".join(off.technologies) if off is not None else ""
    labels = {
        UNDERSERVED: t("scn.propose.target_underserved", lang),
        SERVICE_LOSS: t("scn.propose.target_service_loss", lang, techs=techs),
    }
    c4.selectbox(
        t("scn.propose.target", lang), targets, key="scenarios_propose_target", format_func=labels.__getitem__
    )
    if partner:
        st.caption(t("scn.propose.partner", lang, operator=partner))
    s = st.session_state
    if st.button(t("scn.propose.button", lang), key="scenarios_propose_go"):
        budget = s.get("scenarios_propose_budget")
        request = Request(
            n_sites=max(1, min(MOST_SITES, int(s.get("scenarios_propose_n") or 1))),
            budget_vnd=float(budget) if budget else None,
            operator=partner or (s.get("scenarios_propose_operator") or None),
            target=SERVICE_LOSS
            if off is not None and s.get("scenarios_propose_target") == SERVICE_LOSS
            else UNDERSERVED,
        )
        _run(pkg, base, scenario, key, request, lang)
    parts.show_messages("propose")
    proposal = s.get(PROPOSAL)
    if isinstance(proposal, Proposal):
        _show(proposal, pkg, lang, key)


# --------------------------------------------------------------------------- the map


def map_layers(pkg) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, str]:
    """The proposal for the page's map: its sites (as they would be added), the candidates not
    chosen that would bring most households alone (at most :data:`MAX_CANDIDATES_DRAWN`), and a
    token that changes with the proposal ("" without one)."""
    proposal = st.session_state.get(PROPOSAL)
    if not isinstance(proposal, Proposal) or proposal.plan is None:
        return None, None, ""
    plan = proposal.plan
    cells = None
    if not proposal.cells.empty:
        frame, _ = numbered(proposal.cells, used_site_ids(pkg))
        info = plan.summary.set_index(plan.summary["site_id"].astype(str))
        rows = info.reindex(proposal.cells["site_id"].astype(str).to_numpy())
        frame = frame.assign(
            plan_rank=rows["plan_rank"].to_numpy(),
            kind=rows["kind"].to_numpy(),
            marginal_gain_households=rows["marginal_gain_households"].to_numpy(),
        )
        points = gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float))
        cells = gpd.GeoDataFrame(frame, geometry=points, crs=4326)
    candidates = plan.candidates[plan.candidates["plan_rank"] == 0]
    candidates = candidates.sort_values("gain_alone_households", ascending=False, kind="stable")
    return cells, candidates.head(MAX_CANDIDATES_DRAWN), proposal.token
