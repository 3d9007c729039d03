"""Scenarios: test a fix before it is funded (issue 12): place sites, switch 2G/3G off, fibre,
programmes; evaluate against the package as it is; save, load, rename, delete and compare.

The page only collects the changes and shows results: the baseline and the evaluation are
:mod:`analysis.scenario`, the map layers :mod:`layers.scenario_map`, the files
:mod:`analysis.scenario.files` and :mod:`geo.scenario_store` (``DATA_DIR/scenarios/``; saving never
changes the package data). Helpers are in :mod:`views.scenario_parts`; the "Propose sites" panel
(new sites from :func:`analysis.site_planning.plan_sites`, added to the draft on request) is
:mod:`views.scenario_propose`.

A partner (docs/ACCESS.md, "What partners get") changes its own operator's network only: the site
form and the switch-off offer its operator only and the removal list its own sites only, and the
server holds to it whatever the browser sends (:func:`views.scenario_parts.restrict_draft`, the
operator re-checked when a site or a CSV is added). The map shows its own operator's existing,
new and removed sites only, hamlet popups without other operators' values, and the gained / lost
good-4G overlay of its own operator's 4G classes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import partial

import streamlit as st
from shapely.geometry import Point

from analysis.coverage_params import default_coverage_params
from analysis.scenario.evaluate import Baseline, ScenarioResult
from analysis.scenario.model import SWITCHABLE_TECHNOLOGIES, Programme, Scenario
from geo.errors import PhuSongError
from layers.access_filters import filter_sites, owned_ids, restrict_layer
from layers.i18n import Lang, format_number, t
from layers.scenario_map import flag_change_points, scenario_map
from views import access, common
from views import scenario_parts as parts
from views import scenario_propose as propose

#: what the map sends back: clicks on the map and on its objects (pan and zoom rerun nothing)
MAP_RETURNED = ("last_clicked", "last_object_clicked")


# --------------------------------------------------------------------------- callbacks


def _map_clicked(map_key: str) -> None:
    """Map callback: the clicked point fills the site form's coordinates.

    A click on the map sets ``last_clicked``; a click on a hamlet or site (which opens its popup
    and does not reach the map) sets ``last_object_clicked``: whichever changed is the new point.
    """
    value = st.session_state.get(map_key)
    if not isinstance(value, Mapping):
        return
    seen = st.session_state.get("scenarios_map_seen", {})
    changed = [k for k in MAP_RETURNED if value.get(k) and value.get(k) != seen.get(k)]
    st.session_state["scenarios_map_seen"] = {k: value.get(k) for k in MAP_RETURNED}
    where = value.get(changed[-1]) if changed else None
    if isinstance(where, Mapping) and where.get("lat") is not None and where.get("lng") is not None:
        st.session_state["scenarios_lat"] = round(float(where["lat"]), 6)
        st.session_state["scenarios_lon"] = round(float(where["lng"]), 6)
        parts.remember_widgets()


def _technology_changed() -> None:
    tech = st.session_state["scenarios_technology"]
    st.session_state["scenarios_band"] = parts.TECH_BANDS[tech]
    st.session_state["scenarios_eirp"] = default_coverage_params().tech(tech).eirp_dbm


def _add_site(pkg) -> None:
    """Callback of "Add site": the form's site, checked as a towers/sites.csv row, joins the draft."""
    s, lang = st.session_state, common.lang()
    lat, lon = s.get("scenarios_lat"), s.get("scenarios_lon")
    if lat is None or lon is None:
        return parts.say("site", "error", t("scn.err_no_point", lang))
    try:
        azimuths = parts.parse_azimuths(str(s.get("scenarios_azimuths") or ""))
    except ValueError as exc:
        return parts.say("site", "error", t("scn.err_azimuths", lang, value=common.plain_text(exc)))
    if not len(pkg.communes.sindex.query(Point(lon, lat), predicate="dwithin", distance=0.01)):
        return parts.say("site", "error", t("scn.err_outside", lang))
    draft = s.get("scenarios_sites")
    used = set(pkg.cells["site_id"].astype(str)) | (
        set(draft["site_id"].astype(str)) if draft is not None else set()
    )
    site_id = parts.next_site_id(used)
    rows = parts.planned_site_rows(
        site_id,
        operator=str(s.get("scenarios_operator") or ""),  # a partner's: re-checked in add_planned_cells
        lon=lon,
        lat=lat,
        technology=s["scenarios_technology"],
        height_m=s["scenarios_height"],
        azimuths=azimuths,
        band_mhz=s["scenarios_band"],
        eirp_dbm=s["scenarios_eirp"],
    )
    data = rows.to_csv(index=False, lineterminator="\n").encode("utf-8")
    error = parts.add_planned_cells(pkg, data, f"{site_id}.csv")
    if error:
        return parts.say("site", "error", f"{t('scn.err_site', lang)}\n\n{error}")
    parts.say("site", "success", t("scn.site_added", lang, site=site_id, cells=len(rows)))


def _add_programme(pkg) -> None:
    s, lang = st.session_state, common.lang()
    hamlets, communes = tuple(s["scenarios_prog_hamlets"]), tuple(s["scenarios_prog_communes"])
    phones, ftth = float(s["scenarios_prog_phones"]), float(s["scenarios_prog_ftth"])
    if not hamlets and not communes:
        return parts.say("programme", "error", t("scn.err_prog_where", lang))
    if phones == 0 and ftth == 0:
        return parts.say("programme", "error", t("scn.err_prog_effect", lang))
    done = tuple(s.get("scenarios_programmes") or ())
    name = " ".join(str(s["scenarios_prog_name"] or "").split()) or t(
        "scn.prog_default", lang, n=len(done) + 1
    )
    prog = Programme(name, hamlets, communes, phones, ftth, float(s["scenarios_prog_cost"]))
    s["scenarios_programmes"] = (*done, prog)


def _remove_programme(index: int) -> None:
    progs = list(st.session_state.get("scenarios_programmes") or ())
    del progs[index]
    st.session_state["scenarios_programmes"] = tuple(progs)


def _clear_draft() -> None:
    for key in (
        "scenarios_sites",
        "scenarios_programmes",
        "scenarios_carry",
        "scenarios_loaded",
        "scenarios_evaluated",
    ):
        st.session_state.pop(key, None)
    for key in ("scenarios_remove_existing", "scenarios_off_techs"):
        st.session_state[key] = []
    st.session_state["scenarios_fibre_plan"] = False
    parts.remember_widgets()


# --------------------------------------------------------------------------- page sections


def _site_form(pkg, lang: Lang, operators: list[str]) -> None:
    st.subheader(t("scn.add_site", lang))
    st.caption(t("scn.click_hint", lang))
    c1, c2 = st.columns(2)
    c1.number_input(t("scn.lat", lang), -90.0, 90.0, step=0.0001, format="%.6f", key="scenarios_lat")
    c2.number_input(t("scn.lon", lang), -180.0, 180.0, step=0.0001, format="%.6f", key="scenarios_lon")
    c1.selectbox(t("map.operator", lang), operators, key="scenarios_operator")
    c2.selectbox(
        t("map.technology", lang),
        parts.TECHNOLOGIES,
        key="scenarios_technology",
        on_change=_technology_changed,
    )
    c1.number_input(t("scn.height", lang), 0.5, 300.0, step=1.0, key="scenarios_height")
    c2.number_input(t("scn.band", lang), 300.0, 100_000.0, step=100.0, key="scenarios_band")
    c1.number_input(t("scn.eirp", lang), 0.0, 90.0, step=1.0, key="scenarios_eirp")
    c2.text_input(t("scn.azimuths", lang), key="scenarios_azimuths", help=t("scn.azimuths_help", lang))
    st.button(t("scn.add_site_button", lang), key="scenarios_add_site", on_click=_add_site, args=(pkg,))
    parts.show_messages("site")
    round_ = st.session_state.get("scenarios_upload_round", 0)
    upload = st.file_uploader(
        t("scn.upload", lang), type=["csv"], key=f"scenarios_upload_{round_}", help=t("scn.upload_help", lang)
    )
    if upload is not None:
        error = parts.add_planned_cells(pkg, upload.getvalue(), upload.name)
        if error:
            st.error(f"{t('scn.csv_rejected', lang)}\n\n{error}")
        else:
            st.session_state["scenarios_upload_round"] = round_ + 1
            parts.say("site", "success", t("scn.csv_added", lang, name=common.plain_text(upload.name)))
            st.rerun()


def _pending(pkg, lang: Lang, scenario: Scenario) -> None:
    """The draft's changes, each removable."""
    st.subheader(t("scn.changes", lang))
    sites = parts.sites_of(scenario.added_sites)
    for i, row in sites.iterrows():
        c1, c2 = st.columns([6, 1])
        text = t(
            "scn.pending_site", lang, site=row["site_id"], operator=row["operator"], tech=row["technology"],
            cells=row["cells"], lat=f"{row['lat']:.5f}", lon=f"{row['lon']:.5f}",
        )  # fmt: skip
        c1.markdown(common.plain_text(text))
        c2.button(
            t("scn.remove", lang), key=f"scenarios_rm_site_{i}", on_click=parts.remove_planned_site,
            args=(str(row["site_id"]),),
        )  # fmt: skip
    for i, prog in enumerate(scenario.programmes):
        c1, c2 = st.columns([6, 1])
        c1.markdown(
            common.plain_text(
                t("scn.pending_programme", lang, name=prog.name, hamlets=len(prog.hamlet_ids),
                  communes=len(prog.commune_ids), phones=format_number(prog.smartphone_points, lang),
                  ftth=format_number(prog.ftth_points, lang))
            )
        )  # fmt: skip
        c2.button(t("scn.remove", lang), key=f"scenarios_rm_prog_{i}", on_click=_remove_programme, args=(i,))
    carry = scenario
    extras = len(carry.moved_sites) + len(carry.cell_edits)
    extras += 0 if carry.added_fibre_nodes is None else len(carry.added_fibre_nodes)
    if extras:
        st.caption(t("scn.pending_extra", lang, n=extras))
    if scenario.is_empty:
        st.caption(t("scn.nothing", lang))
    else:
        st.button(t("scn.clear", lang), key="scenarios_clear", on_click=_clear_draft)


def _other_changes(pkg, lang: Lang, operators: list[str], partner: str | None = None) -> None:
    c1, c2, c3 = st.columns([3, 2, 2])
    own = owned_ids(pkg.cells, partner)
    c1.multiselect(
        t("scn.remove_sites", lang),
        sorted(set(pkg.cells["site_id"].astype(str)) if own is None else own),
        key="scenarios_remove_existing",
        placeholder=t("scn.remove_sites_none", lang),
    )
    c2.multiselect(
        t("scn.switch_off", lang),
        SWITCHABLE_TECHNOLOGIES,
        key="scenarios_off_techs",
        placeholder=t("scn.none", lang),
    )
    c2.selectbox(
        t("scn.switch_off_operator", lang),
        [partner] if partner else ["", *operators],
        key="scenarios_off_operator",
        format_func=lambda o: o or t("map.all", lang),
    )
    c3.checkbox(t("scn.fibre_plan", lang), key="scenarios_fibre_plan", help=t("scn.fibre_plan_help", lang))
    with st.expander(t("scn.programmes", lang)):
        ham = pkg.hamlets
        names = dict(zip(ham["hamlet_id"].astype(str), ham["hamlet_name"].astype(str), strict=True))
        communes = dict(
            zip(pkg.communes["commune_id"].astype(str), pkg.communes["commune_name"].astype(str), strict=True)
        )
        with st.form("scenarios_prog_form", clear_on_submit=True):
            st.text_input(t("col.name", lang), key="scenarios_prog_name")
            st.multiselect(
                t("scn.prog_hamlets", lang),
                list(names),
                key="scenarios_prog_hamlets",
                format_func=names.__getitem__,
            )
            st.multiselect(
                t("scn.prog_communes", lang),
                list(communes),
                key="scenarios_prog_communes",
                format_func=communes.__getitem__,
            )
            f1, f2, f3 = st.columns(3)
            f1.number_input(
                t("scn.prog_phones", lang), 0.0, 100.0, 0.0, step=5.0, key="scenarios_prog_phones"
            )
            f2.number_input(t("scn.prog_ftth", lang), 0.0, 100.0, 0.0, step=5.0, key="scenarios_prog_ftth")
            f3.number_input(
                t("scn.prog_cost", lang), 0.0, 1e12, 0.0, step=100_000.0, key="scenarios_prog_cost"
            )
            st.form_submit_button(t("scn.prog_add", lang), on_click=_add_programme, args=(pkg,))
        parts.show_messages("programme")


def _removed_cells(pkg, scenario: Scenario, result: ScenarioResult | None):
    """The package's cells the draft removes or switches off, with ``change`` (None: none, or the
    draft does not apply)."""
    from analysis.scenario.edits import apply_cell_changes

    try:
        _cells, changes = (
            apply_cell_changes(pkg.cells, scenario) if result is None else (None, result.changes)
        )
    except PhuSongError:
        return None
    gone = set(changes.removed) | set(changes.switched_off)
    if not gone:
        return None
    removed = pkg.cells[pkg.cells["cell_id"].astype(str).isin(gone)].copy()
    removed["change"] = (
        removed["cell_id"].astype(str).isin(changes.removed).map({True: "removed", False: "switched_off"})
    )
    return removed


def _map(
    pkg, lang: Lang, base: Baseline, scenario: Scenario, result: ScenarioResult | None, key: str
) -> None:
    params, targets = common.gap_params(), common.kpi_targets()
    partner = access.partner_operator()  # None: everything; a partner: its own operator's only
    removed = _removed_cells(pkg, scenario, result)
    added = scenario.added_sites
    show_sites = bool(st.session_state.get("scenarios_show_sites"))
    proposed, candidates, proposal = propose.map_layers(pkg)
    fmap = scenario_map(
        common.display_communes(pkg.version, pkg),
        restrict_layer("gaps", result.gaps if result is not None else base.gaps, partner),
        sites=filter_sites(common.sites(pkg.version, pkg), partner) if show_sites else None,
        new_cells=None if added is None else restrict_layer("new_sites", added, partner),
        removed_cells=None if removed is None else restrict_layer("removed_cells", removed, partner),
        flag_changes=None if result is None else flag_change_points(result.hamlets, base.hamlets),
        change_overlay=None
        if result is None
        else parts.change_overlay(pkg.version, params, targets, key, result, partner),
        change_title=t("scn.map_change_own", lang, operator=partner) if partner else None,
        proposed_cells=None if proposed is None else restrict_layer("new_sites", proposed, partner),
        candidates=candidates,
        tiles=common.tiles(),
        lang=lang,
        synthetic=tuple(pkg.synthetic_layers),
    )
    sig = repr(
        (
            lang,
            common.tiles(),
            pkg.version,
            params,
            targets,
            key,
            result is not None,
            show_sites,
            partner,
            proposal,
        )
    )
    map_key = f"scenarios_map:{hashlib.sha1(sig.encode()).hexdigest()[:12]}"
    common.show_map(fmap, key=map_key, returned=MAP_RETURNED, on_change=partial(_map_clicked, map_key))
    st.checkbox(t("scn.show_sites", lang), key="scenarios_show_sites")


def _partner_widgets(pkg, partner: str) -> None:
    """Hold a partner's widgets to its own operator before they are drawn (the values a browser
    sends are not trusted: :func:`views.scenario_parts.restrict_draft` applies them again)."""
    s = st.session_state
    s["scenarios_operator"] = partner
    s["scenarios_off_operator"] = partner
    s["scenarios_propose_operator"] = partner
    own = owned_ids(pkg.cells, partner) or frozenset()
    s["scenarios_remove_existing"] = [x for x in s.get("scenarios_remove_existing") or () if x in own]


def render() -> None:
    """Page function: build, evaluate, save and compare scenarios."""
    lang = common.lang()
    access.require_page("scenarios", t("auth.not_permitted", lang))
    st.title(t("page.scenarios", lang))
    pkg = common.package()
    if pkg is None:
        return
    common.synthetic_note(pkg)
    st.caption(t("scn.intro", lang))
    partner = access.partner_operator()
    if partner:
        st.caption(t("scn.partner_note", lang, operator=partner))
    operators = [partner] if partner else sorted(pkg.cells["operator"].astype(str).unique())
    defaults = {**parts.KEPT, "scenarios_operator": operators[0] if operators else ""}
    defaults["scenarios_eirp"] = default_coverage_params().tech("4G").eirp_dbm
    # existing sites make the map heavy (about 1.5 MB more on the bundled province): off when many
    defaults["scenarios_show_sites"] = len(common.sites(pkg.version, pkg)) <= parts.MANY_SITES
    parts.restore_widgets(defaults)
    if partner:
        _partner_widgets(pkg, partner)
    if st.session_state.get("scenarios_lang") != lang:  # relabel the translated select box
        for relabelled in (
            "scenarios_off_operator",
            "scenarios_propose_operator",
            "scenarios_propose_target",
        ):
            st.session_state[relabelled] = st.session_state[relabelled]
        st.session_state["scenarios_lang"] = lang
    base = parts.cached_baseline(pkg, lang)
    scenario = parts.draft_scenario(pkg, lang)
    key = parts.content_key(scenario)
    top = st.container()
    st.text_input(t("scn.name", lang), key="scenarios_name", max_chars=80, placeholder=t("scn.unnamed", lang))
    _other_changes(pkg, lang, operators, partner)
    _pending(pkg, lang, scenario)
    propose.panel(pkg, lang, base, scenario, key, operators, partner)
    if st.button(
        t("scn.evaluate", lang), key="scenarios_evaluate", type="primary", disabled=scenario.is_empty
    ):
        st.session_state["scenarios_evaluated"] = key
    result = None
    if st.session_state.get("scenarios_evaluated") == key and not scenario.is_empty:
        try:
            with st.spinner(t("scn.evaluating", lang)):
                result = parts.evaluation(
                    pkg.version, common.gap_params(), common.kpi_targets(), key, base, scenario
                )
        except PhuSongError as exc:
            st.error(f"{t('scn.err_evaluate', lang)}\n\n{parts.problems_text(exc)}")
            st.session_state.pop("scenarios_evaluated", None)
    elif st.session_state.get("scenarios_evaluated"):
        st.info(t("scn.stale", lang))
    if result is not None:
        parts.show_results(result, pkg, lang)
    parts.saved_section(pkg, lang)
    with top:
        left, right = st.columns([2, 1])
        with left:
            _map(pkg, lang, base, scenario, result, key)
        with right:
            _site_form(pkg, lang, operators)
    parts.remember_widgets()
