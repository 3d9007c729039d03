"""Helpers of the scenario page (:mod:`views.scenarios`): the draft scenario in session state,
planned-site rows, results, downloads, and the saved scenarios (save, load, rename, delete, compare).

Session-state keys are prefixed ``scenarios_``. The draft's widgets (switch-off, fibre plan, the
site form…) are remembered in ``scenarios_keep`` so that the draft survives a visit to another
page (Streamlit forgets the value of a widget that a run does not draw). Added sites, programmes
and what a loaded scenario carries beyond the page's controls (moves, cell edits, fibre nodes) are
plain session state.

A partner (docs/ACCESS.md, "What partners get") changes its own operator's network only: the draft
always goes through :func:`restrict_draft` (its switch-off applies to its operator, only its own
sites are removed, moved or edited), planned cells of another operator are refused when added
(:func:`add_planned_cells`), and what the page shows of a result is filtered as its downloads are
(:func:`shown_hamlet_changes`, :func:`change_overlay` on its own operator's classes).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from analysis.kpi import KpiTargets
from analysis.params import GapParams
from analysis.scenario.evaluate import Baseline, ScenarioResult, compute_baseline, evaluate_scenario
from analysis.scenario.files import read_layer, scenario_files, scenario_from_files
from analysis.scenario.model import CellEdit, Scenario, SwitchOff, scenario_slug
from auth.audit import AuditEvent
from geo.errors import PhuSongError, ValidationError
from geo.schema import Operator, parse_category
from layers.access_filters import (
    CoverageRasters,
    canonical_operator,
    other_operator_rows,
    owned_ids,
    restrict_scenario_layers,
    visible_coverage,
)
from layers.i18n import Lang, format_number, format_percent, t
from layers.map import flag_labels
from layers.scenario_map import GOOD_CLASS, coverage_change_png
from views import access, common

#: Default band of a planned cell by technology, MHz (the bands Vietnamese operators use most).
TECH_BANDS: dict[str, float] = {"2G": 900.0, "3G": 2100.0, "4G": 1800.0, "5G": 3500.0}
TECHNOLOGIES = tuple(TECH_BANDS)
SITE_PREFIX = "NEW-"
SECTOR_BEAMWIDTH_DEG = 65.0
#: Above this many existing sites, the map starts without them (they can be switched on).
MANY_SITES = 2000
#: Site form and draft widgets remembered across pages: key -> default (None: set by the page).
KEPT: dict[str, Any] = {
    "scenarios_name": "",
    "scenarios_lat": None,
    "scenarios_lon": None,
    "scenarios_operator": None,
    "scenarios_technology": "4G",
    "scenarios_height": 30.0,
    "scenarios_azimuths": "0, 120, 240",
    "scenarios_band": TECH_BANDS["4G"],
    "scenarios_eirp": None,
    "scenarios_remove_existing": [],
    "scenarios_off_techs": [],
    "scenarios_off_operator": "",
    "scenarios_fibre_plan": False,
    "scenarios_show_sites": None,
    "scenarios_propose_n": 5,
    "scenarios_propose_budget": None,
    "scenarios_propose_operator": "",
    "scenarios_propose_target": "underserved",
}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- session state


def restore_widgets(defaults: dict[str, Any]) -> None:
    """Give every remembered widget its last value (or ``defaults``) before it is drawn."""
    keep = st.session_state.setdefault("scenarios_keep", {})
    for key, default in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = keep.get(key, default)


def remember_widgets() -> None:
    """Remember the widgets' values for the next visit of the page."""
    keep = st.session_state.setdefault("scenarios_keep", {})
    for key in KEPT:
        if key in st.session_state:
            keep[key] = st.session_state[key]


def say(section: str, kind: str, text: str) -> None:
    """Keep a message (``kind``: error, warning, success, info; markdown, data escaped) for ``section``."""
    st.session_state.setdefault("scenarios_messages", {})[section] = (kind, text)


def show_messages(section: str) -> None:
    """Show (once) the message kept for ``section``."""
    found = st.session_state.setdefault("scenarios_messages", {}).pop(section, None)
    if found:
        getattr(st, found[0])(found[1])


def problems_text(exc: Exception) -> str:
    """An error as escaped markdown: every problem (file, row, field, what to do) of a validation."""
    if isinstance(exc, ValidationError):
        lines = [p for p in exc.problems if p.severity == "error"] or exc.problems
        return "\n".join(f"- {common.plain_text(p)}" for p in lines)
    return common.plain_text(exc)


def draft_scenario(pkg, lang: Lang) -> Scenario:
    """The scenario the page's controls describe, on the package's current version."""
    s = st.session_state
    carry = s.get("scenarios_carry")
    base = carry if isinstance(carry, Scenario) else Scenario(name="", base_version=pkg.version)
    techs = tuple(s.get("scenarios_off_techs") or ())
    name = " ".join(str(s.get("scenarios_name") or "").split())
    draft = base.with_changes(
        name=name or t("scn.unnamed", lang),
        base_version=pkg.version,
        added_sites=s.get("scenarios_sites"),
        removed_sites=tuple(s.get("scenarios_remove_existing") or ()),
        switch_off=SwitchOff(techs, s.get("scenarios_off_operator") or None) if techs else None,
        adopt_fibre_plan=bool(s.get("scenarios_fibre_plan")),
        programmes=tuple(s.get("scenarios_programmes") or ()),
    )
    return restrict_draft(draft, pkg.cells, access.partner_operator())


# --------------------------------------------------------------------------- a partner's draft


def _own_edit(edit: CellEdit, cells: frozenset[str], operator: str) -> bool:
    if edit.cell_id not in cells:
        return False
    if "operator" not in edit.values:
        return True
    found = parse_category(Operator, str(edit.values["operator"]))
    return found is not None and found.value == operator


def restrict_draft(scenario: Scenario, cells: pd.DataFrame, operator: str | None) -> Scenario:
    """What of ``scenario`` a partner of ``operator`` may change: its own operator's network only.

    None (every other role): ``scenario`` unchanged. For a partner, planned cells of another
    operator, removals and moves of other operators' sites (of ``cells``, the package's), edits of
    other operators' cells and edits that hand a cell to another operator are left out, and a
    switch-off applies to its own operator whatever it named. Programmes and fibre (not
    base-station data) are kept. Pure: the page applies it to every draft it evaluates or saves.
    """
    own = canonical_operator(operator)
    if own is None:
        return scenario
    sites = owned_ids(cells, own) or frozenset()
    cell_ids = owned_ids(cells, own, "cell_id") or frozenset()
    added = scenario.added_sites
    if added is not None and len(added):
        keep = np.ones(len(added), dtype=bool)
        keep[other_operator_rows(added, own)] = False
        added = added.iloc[keep].reset_index(drop=True) if not keep.all() else added
        sites = sites | frozenset(added["site_id"].astype(str))
        cell_ids = cell_ids | frozenset(added["cell_id"].astype(str))
    off = scenario.switch_off
    return scenario.with_changes(
        added_sites=added if added is not None and len(added) else None,
        removed_sites=tuple(x for x in scenario.removed_sites if x in sites),
        moved_sites=tuple(m for m in scenario.moved_sites if m.site_id in sites),
        cell_edits=tuple(e for e in scenario.cell_edits if _own_edit(e, cell_ids, own)),
        switch_off=SwitchOff(off.technologies, own) if off else None,
    )


def changes_count(scenario: Scenario) -> int:
    """How many base-station changes ``scenario`` makes (planned sites, removals, moves, cell
    edits): what :func:`restrict_draft` may leave out."""
    added = scenario.added_sites
    planned = 0 if added is None or not len(added) else added["site_id"].astype(str).nunique()
    return planned + len(scenario.removed_sites) + len(scenario.moved_sites) + len(scenario.cell_edits)


def content_key(scenario: Scenario) -> str:
    """A digest of what a scenario changes (not its name or dates): results are cached by it."""
    files = scenario_files(scenario.with_changes(name="-", created_utc="", updated_utc=""), now=_EPOCH)
    digest = hashlib.sha1()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


def load_into_draft(scenario: Scenario, pkg, slug: str | None) -> list[str]:
    """Make ``scenario`` the draft (a callback: sets the widgets); returns site ids the package lacks."""
    s = st.session_state
    known = set(pkg.cells["site_id"].astype(str))
    s["scenarios_name"] = scenario.name
    s["scenarios_sites"] = scenario.added_sites
    s["scenarios_programmes"] = tuple(scenario.programmes)
    s["scenarios_remove_existing"] = [x for x in scenario.removed_sites if x in known]
    off = scenario.switch_off
    s["scenarios_off_techs"] = list(off.technologies) if off else []
    s["scenarios_off_operator"] = (off.operator or "") if off else ""
    s["scenarios_fibre_plan"] = scenario.adopt_fibre_plan
    s["scenarios_carry"] = scenario.with_changes(
        added_sites=None, removed_sites=(), switch_off=None, adopt_fibre_plan=False, programmes=()
    )
    s["scenarios_loaded"] = slug
    s["scenarios_loaded_base"] = scenario.base_version
    remember_widgets()
    return [x for x in scenario.removed_sites if x not in known]


# --------------------------------------------------------------------------- planned sites


def parse_azimuths(text: str) -> tuple[float, ...]:
    """Azimuths from ``"0, 120, 240"`` (degrees, 0–360); empty text is one omnidirectional cell.

    Raises
    ------
    ValueError
        A part is not a number in 0..360.
    """
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    out = []
    for part in parts:
        value = float(part.replace("°", ""))
        if not (math.isfinite(value) and 0.0 <= value <= 360.0):
            raise ValueError(part)
        out.append(value)
    return tuple(out)


def next_site_id(used: set[str]) -> str:
    """The first ``NEW-<n>`` not in ``used``."""
    n = 1
    while f"{SITE_PREFIX}{n}" in used:
        n += 1
    return f"{SITE_PREFIX}{n}"


def planned_site_rows(
    site_id: str,
    *,
    operator: str,
    lon: float,
    lat: float,
    technology: str,
    height_m: float,
    azimuths: tuple[float, ...],
    band_mhz: float,
    eirp_dbm: float | None,
) -> pd.DataFrame:
    """``towers/sites.csv`` rows of one planned site: a cell per azimuth (none: one omni cell).

    Cells are ``<site_id>-<k>``, ``active`` (a scenario tests the site as built), 65° sectors.
    """
    sectors = azimuths or (None,)
    return pd.DataFrame(
        [
            {
                "site_id": site_id,
                "cell_id": f"{site_id}-{k}",
                "operator": operator,
                "lat": round(float(lat), 7),
                "lon": round(float(lon), 7),
                "height_m": float(height_m),
                "status": "active",
                "technology": technology,
                "band_mhz": float(band_mhz),
                "azimuth_deg": az,
                "beamwidth_deg": SECTOR_BEAMWIDTH_DEG if az is not None else None,
                "eirp_dbm": eirp_dbm,
                "source": "scenario",
            }
            for k, az in enumerate(sectors, start=1)
        ]
    )


def add_planned_cells(pkg, data: bytes, display: str) -> str | None:
    """Check planned cells (``towers/sites.csv`` bytes) and append them to the draft.

    Returns None when added, else the escaped reasons (the draft is unchanged).
    """
    try:
        new = read_layer(data, "towers", layout=common.layout(pkg), display=display)
    except PhuSongError as exc:
        return problems_text(exc)
    refused = _other_operators_refused(new, display)
    if refused:
        return refused
    old = st.session_state.get("scenarios_sites")
    taken = set(pkg.cells["cell_id"].astype(str)) | (
        set(old["cell_id"].astype(str)) if old is not None else set()
    )
    ids = new["cell_id"].astype(str).reset_index(drop=True)
    for i, cell in enumerate(ids):
        if cell in taken or cell in set(ids[:i]):
            return common.plain_text(
                f"{display} row {i + 2}: cell_id {cell!r} is already used; give a new id"
            )
    st.session_state["scenarios_sites"] = new if old is None else pd.concat([old, new], ignore_index=True)
    return None


def _other_operators_refused(cells: pd.DataFrame, display: str) -> str | None:
    """For a partner: the escaped refusal of planned cells of another operator (audited), else None."""
    operator = access.partner_operator()
    bad = other_operator_rows(cells, operator)
    if not bad:
        return None
    found = sorted({str(v) for v in cells["operator"].iloc[bad]}) if "operator" in cells else ["?"]
    access.audit_log().append(
        AuditEvent.REFUSED,
        access.current_user(),
        {"what": "scenario sites of another operator", "permission": "", "operators": found},
    )
    rows = ", ".join(str(i + 2) for i in bad[:20]) + (", …" if len(bad) > 20 else "")
    text = t(
        "scn.err_other_operator",
        common.lang(),
        display=display,
        rows=rows,
        found=", ".join(found),
        operator=operator,
    )
    return common.plain_text(text)


def remove_planned_site(site_id: str) -> None:
    """Callback: drop a planned site (every cell of it) from the draft."""
    sites = st.session_state.get("scenarios_sites")
    if sites is not None:
        left = sites[sites["site_id"].astype(str) != site_id]
        st.session_state["scenarios_sites"] = left.reset_index(drop=True) if len(left) else None


# --------------------------------------------------------------------------- results


def _vnd(value: Any, lang: Lang) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return t("scn.vnd_million", lang, value=format_number(float(value) / 1e6, lang, decimals=1))


def show_headline(result: ScenarioResult, lang: Lang) -> None:
    """Headline numbers, the placeholder-cost warning and the time taken."""
    s = result.summary
    cols = st.columns(6)
    cols[0].metric(t("scn.m_gained", lang), format_number(s["households_gained_good_4g"], lang))
    cols[1].metric(t("scn.m_cleared", lang), format_number(s["hamlets_with_cleared_flags"], lang))
    cols[2].metric(t("scn.m_new_flags", lang), format_number(s["hamlets_with_new_flags"], lang))
    cols[3].metric(t("scn.m_lose_all", lang), format_number(s.get("households_lose_all_service", 0), lang))
    cols[4].metric(t("scn.m_cost", lang), _vnd(s["cost_total_vnd"], lang))
    cols[5].metric(t("scn.m_cost_per_hh", lang), _vnd(s["cost_per_household_to_target_vnd"], lang))
    if s["costs"].get("unit_costs_are_placeholders"):
        st.warning(t("scn.placeholder_costs", lang))
    st.caption(t("scn.timing", lang, seconds=format_number(sum(result.timings_s.values()), lang, decimals=1)))


def shown_hamlet_changes(result: ScenarioResult, operator: str | None = None) -> pd.DataFrame:
    """The result's hamlet table as ``operator``'s partner may see it (every row, no other operator's
    per-operator values: as its downloads, :func:`layers.access_filters.restrict_scenario_layers`)."""
    if operator is None:
        return result.hamlets
    layers = restrict_scenario_layers(
        {"hamlet_changes": result.hamlets}, operator, switched_operator=_switched_operator(result)
    )
    return layers.get("hamlet_changes", result.hamlets.iloc[:0])


def hamlet_table(result: ScenarioResult, lang: Lang, operator: str | None = None) -> pd.DataFrame:
    """The before/after hamlet table for display: changed rows first, then by households gained.

    ``operator``: a partner's, whose table is :func:`shown_hamlet_changes`.
    """
    h = shown_hamlet_changes(result, operator)
    moved = (h["flags_cleared"] != "") | (h["flags_new"] != "")
    order = h.assign(_c=~h["changed"], _m=~moved, _g=-h["hh_gained_good_4g"].astype(float))
    h = h.loc[order.sort_values(["_c", "_m", "_g"], kind="stable").index]

    def num(col: str) -> list[str]:
        return [format_number(v, lang, decimals=1) for v in pd.to_numeric(h[col], errors="coerce")]

    out = {
        t("map.hamlet", lang): h["hamlet_name"].astype(str).to_numpy(),
        t("map.commune", lang): h["commune_name"].astype(str).to_numpy(),
        t("map.households", lang): [format_number(v, lang) for v in h["households"]],
        t("scn.col_good_before", lang): num("hh_good_4g_before"),
        t("scn.col_good_after", lang): num("hh_good_4g_after"),
        t("scn.col_gained", lang): num("hh_gained_good_4g"),
        t("scn.col_flags_before", lang): [flag_labels(f, lang) for f in h["flags_before"]],
        t("scn.col_flags_after", lang): [flag_labels(f, lang) for f in h["flags_after"]],
        t("scn.col_cleared", lang): [flag_labels(f, lang) for f in h["flags_cleared"]],
        t("scn.col_new", lang): [flag_labels(f, lang) for f in h["flags_new"]],
    }
    for col, key in (("hh_lose_all_service", "scn.col_lose_all"), ("hh_drop_to_weak", "scn.col_drop_weak")):
        if col in h:
            out[t(key, lang)] = num(col)
    return pd.DataFrame(out)


def commune_table(result: ScenarioResult, lang: Lang) -> pd.DataFrame:
    """The before/after commune table for display, communes with changes first."""
    c = result.communes
    moved = (c["hh_gained_good_4g"] > 0) | (c["hh_lost_good_4g"] > 0) | (c["hamlets_changed"] != "")
    c = c.loc[c.assign(_m=~moved).sort_values("_m", kind="stable").index]
    return pd.DataFrame(
        {
            t("map.commune", lang): c["commune_name"].astype(str).to_numpy(),
            t("map.households", lang): [format_number(v, lang) for v in c["households"]],
            t("scn.col_good_before", lang): [
                format_number(v, lang, decimals=1) for v in c["hh_good_4g_before"]
            ],
            t("scn.col_good_after", lang): [
                format_number(v, lang, decimals=1) for v in c["hh_good_4g_after"]
            ],
            t("scn.col_flagged_before", lang): [format_number(v, lang) for v in c["hamlets_flagged_before"]],
            t("scn.col_flagged_after", lang): [format_number(v, lang) for v in c["hamlets_flagged_after"]],
            t("scn.col_n_cleared", lang): [format_number(v, lang) for v in c["flags_cleared"]],
            t("scn.col_n_new", lang): [format_number(v, lang) for v in c["flags_new"]],
        }
    )


def kpi_table(result: ScenarioResult, lang: Lang) -> pd.DataFrame:
    """KPI before / after against the targets."""
    from layers.charts import kpi_label

    share = {str(k.key): k.is_share for k in result.baseline.kpis.kpis}

    def fmt(key: str, value: Any) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        return format_percent(float(value), lang) if share.get(key, True) else format_number(value, lang)

    rows = result.summary["kpis"]
    return pd.DataFrame(
        {
            t("scn.col_kpi", lang): [kpi_label(r["key"], lang) for r in rows],
            t("scn.col_target", lang): [fmt(r["key"], r["target"]) for r in rows],
            t("scn.col_before", lang): [fmt(r["key"], r["before"]) for r in rows],
            t("scn.col_after", lang): [fmt(r["key"], r["after"]) for r in rows],
            t("scn.col_status", lang): [
                f"{t('scn.status.' + r['status_before'], lang)} → "
                f"{t('scn.status.' + str(r['status_after'] or 'no_data'), lang)}"
                for r in rows
            ],
        }
    )


def _switched_operator(result: ScenarioResult) -> str | None:
    off = result.scenario.switch_off
    return off.operator if off else None


def export_file(result: ScenarioResult, fmt: str, operator: str | None = None) -> tuple[bytes, int]:
    """The scenario's export in ``fmt`` and its row count, restricted to ``operator`` (a partner's).

    GeoPackage: every changed layer (rows: all layers'); CSV / Excel: the hamlet changes. A
    partner's layers go through :func:`layers.access_filters.restrict_scenario_layers` first.
    """
    from layers.access_filters import restrict_scenario_layers
    from layers.exports import export_bytes
    from layers.scenario_export import scenario_layers, scenario_metadata

    layers = restrict_scenario_layers(
        scenario_layers(result), operator, switched_operator=_switched_operator(result)
    )
    meta = scenario_metadata(result)
    if operator:
        meta["restricted_to_operator"] = operator
    if fmt == "gpkg":
        return export_bytes(layers, "gpkg", metadata=meta), sum(len(f) for f in layers.values())
    table = layers["hamlet_changes"]
    return export_bytes({"hamlet_changes": table}, fmt, metadata=meta), len(table)  # type: ignore[arg-type]


def _exports(result: ScenarioResult, fmt: str, operator: str | None = None) -> Callable[[], bytes]:
    """Deferred export bytes (computed when the button is pressed)."""

    def build() -> bytes:
        return export_file(result, fmt, operator)[0]

    return build


def _pdf(result: ScenarioResult, lang: Lang) -> Callable[[], bytes]:
    def build() -> bytes:
        from layers.scenario_report import build_scenario_pdf

        return build_scenario_pdf(result, lang=lang)

    return build


def downloads(result: ScenarioResult, pkg, lang: Lang) -> None:
    """GeoPackage of the changes, CSV and Excel of the hamlet changes (and the one-page PDF).

    Files are built when their button is pressed, restricted to a partner's operator, and each one
    served is audited (:func:`views.downloads.audited`: who, scenario, format, rows). A partner's
    scenario that switches off another operator gets no PDF: its summary is that operator's own
    service (:func:`layers.access_filters.other_operator_switched`).
    """
    from layers.access_filters import other_operator_switched
    from views.downloads import audited, file_name

    user, operator = access.current_user(), access.partner_operator()
    filters: dict[str, object] = {"scenario": result.scenario.name}
    if operator:
        filters["restricted_to"] = operator
    slug = scenario_slug(result.scenario.name)
    cols = st.columns(4)
    for col, (fmt, layer) in zip(
        cols[:3], (("gpkg", "changes"), ("csv", "hamlet-changes"), ("xlsx", "hamlet-changes")), strict=True
    ):
        name = file_name(pkg.meta.province_name, f"{slug}_{layer}", fmt)
        col.download_button(
            t("dl.button", lang, name=name),
            data=audited(
                partial(export_file, result, fmt, operator),
                user=user,
                layer=f"scenario_{layer}",
                fmt=fmt,
                filters=filters,
            ),
            file_name=name,
            key=f"scenarios_download_{fmt}",
            mime="application/octet-stream",
            on_click="ignore",
        )
    if other_operator_switched(operator, _switched_operator(result)):
        return
    # ---- PDF call site: the one-page report of layers/scenario_report.py (shown when it is there)
    if importlib.util.find_spec("layers.scenario_report") is not None:
        name = file_name(pkg.meta.province_name, f"{slug}_report", "pdf")
        build = _pdf(result, lang)
        cols[3].download_button(
            t("dl.button", lang, name=name),
            data=audited(
                lambda: (build(), 1), user=user, layer="scenario_report", fmt="pdf", filters=filters
            ),
            file_name=name,
            key="scenarios_download_pdf",
            mime="application/pdf",
            on_click="ignore",
        )


def show_results(result: ScenarioResult, pkg, lang: Lang) -> None:
    """Headline, tables, KPIs and downloads of an evaluated scenario."""
    show_headline(result, lang)
    st.subheader(t("scn.hamlets", lang))
    table = hamlet_table(result, lang, access.partner_operator())
    st.dataframe(table, hide_index=True, width="stretch", key="scenarios_hamlet_table")
    st.subheader(t("scn.communes", lang))
    st.dataframe(commune_table(result, lang), hide_index=True, width="stretch")
    st.subheader(t("scn.kpis", lang))
    st.dataframe(kpi_table(result, lang), hide_index=True, width="stretch")
    st.subheader(t("scn.downloads", lang))
    downloads(result, pkg, lang)


# --------------------------------------------------------------------------- compare


COMPARED = (
    ("households_gained_good_4g", "scn.m_gained", "n"),
    ("hamlets_with_cleared_flags", "scn.m_cleared", "n"),
    ("hamlets_with_new_flags", "scn.m_new_flags", "n"),
    ("households_lose_all_service", "scn.m_lose_all", "n"),
    ("cost_total_vnd", "scn.m_cost", "vnd"),
    ("cost_per_household_to_target_vnd", "scn.m_cost_per_hh", "vnd"),
)


def compare_table(summaries: dict[str, dict[str, Any]], lang: Lang) -> pd.DataFrame:
    """Headline numbers of several scenarios side by side (one column per scenario name)."""
    data: dict[str, list[str]] = {t("scn.col_measure", lang): [t(key, lang) for _, key, _ in COMPARED]}
    for name, summary in summaries.items():
        data[name] = [
            _vnd(summary.get(col), lang) if kind == "vnd" else format_number(summary.get(col, 0), lang)
            for col, _, kind in COMPARED
        ]
    return pd.DataFrame(data)


def load_saved(pkg, slug: str) -> Scenario:
    """A saved scenario of the package (raises PhuSongError with file, row and field)."""
    from geo.scenario_store import read_scenario_files

    files = read_scenario_files(pkg.root, slug)
    return scenario_from_files(files, layout=common.layout(pkg), display=f"scenarios/{slug}")


def sites_of(cells: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """One row per planned site of the draft: ``site_id``, ``operator``, ``technology``, ``cells``,
    ``lon``, ``lat``."""
    if cells is None or len(cells) == 0:
        return pd.DataFrame(columns=["site_id", "operator", "technology", "cells", "lon", "lat"])
    g = cells.assign(site_id=cells["site_id"].astype(str), lon=cells.geometry.x, lat=cells.geometry.y)
    grouped = g.groupby("site_id", sort=False)
    return pd.DataFrame(
        {
            "operator": grouped["operator"].first().astype(str),
            "technology": grouped["technology"].agg(lambda s: "/".join(sorted({str(v) for v in s}))),
            "cells": grouped.size(),
            "lon": grouped["lon"].first(),
            "lat": grouped["lat"].first(),
        }
    ).reset_index()


# --------------------------------------------------------------------------- cached analysis


@st.cache_resource(show_spinner=False, max_entries=2)
def baseline(version: str, params: GapParams, targets: KpiTargets, _pkg) -> Baseline:
    """The package analysed as it is (coverage, fibre, flags, KPIs), once per version and parameters."""
    return compute_baseline(_pkg, params, targets=targets)


@st.cache_resource(show_spinner=False, max_entries=8)
def evaluation(version: str, params: GapParams, targets: KpiTargets, key: str, _base, _scn) -> ScenarioResult:
    """A scenario evaluated against the baseline, once per content (``key``: :func:`content_key`)."""
    return evaluate_scenario(_base, _scn)


@st.cache_resource(show_spinner=False, max_entries=8)
def change_overlay(
    version: str,
    params: GapParams,
    targets: KpiTargets,
    key: str,
    _result: ScenarioResult,
    operator: str | None = None,
):
    """The good-4G difference overlay of a result (PNG, bounds), or None when no pixel changed.

    Every operator's best class before and after; for a partner (``operator``), its own operator's
    4G classes before and after (``coverage.classes_by_operator``): where *its* network gains or
    loses good 4G, never the all-operator best class (:func:`layers.access_filters.visible_coverage`).
    """
    base = _result.baseline
    if _result.coverage is base.coverage:
        return None
    tech = base.cparams.tech("4G")
    before = CoverageRasters(base.coverage.combined.classes(tech), base.coverage.classes_by_operator)
    after = CoverageRasters(_result.coverage.combined.classes(tech), _result.coverage.classes_by_operator)
    found = coverage_change_png(
        visible_coverage(before, operator),
        visible_coverage(after, operator),
        transform=base.scene.grid.transform,
        crs=base.scene.grid.crs,
        good_class=GOOD_CLASS,
    )
    return None if found is None else found[:2]


def cached_baseline(pkg, lang: Lang) -> Baseline:
    """The cached baseline, with visible progress the first time in this session."""
    key = (pkg.version, common.gap_params(), common.kpi_targets())
    # One slot on every run, filled only while computing: the page keeps the same elements, so a
    # rerun (a map click) updates the map in place instead of mounting a new one at the full view.
    slot = st.empty()
    if st.session_state.get("scenarios_base_ready") == key:
        return baseline(*key, pkg)
    with slot.container(), st.status(t("scn.baseline_computing", lang), expanded=False) as status:
        start = time.perf_counter()
        base = baseline(*key, pkg)
        seconds = format_number(time.perf_counter() - start, lang, decimals=1)
        status.update(label=t("scn.baseline_ready", lang, seconds=seconds), state="complete")
    slot.empty()
    st.session_state["scenarios_base_ready"] = key
    return base


# --------------------------------------------------------------------------- saved scenarios

#: Field of ``scenario.json`` naming the account that saved the scenario first (kept through
#: overwrites, renames and re-basing; carried by :attr:`Scenario.extra`). Scenarios saved before
#: accounts existed have none: only users who see every scenario see those.
OWNER_FIELD = "owner"
#: This section's labels that layers/i18n.py does not have (yet): key -> (Vietnamese, English).
_LABELS: dict[str, tuple[str, str]] = {"scn.owner": ("Người lưu: {owner}", "Saved by: {owner}")}


def owner_of(document: Mapping[str, Any]) -> str:
    """The account a saved scenario belongs to ("" when it has none)."""
    return str(document.get(OWNER_FIELD) or "")


def may_use(document: Mapping[str, Any], user: Any) -> bool:
    """Whether ``user`` may see, load, change or download the saved scenario ``document``: their own,
    or any with :attr:`~auth.roles.Permission.VIEW_ALL_SCENARIOS`."""
    from auth.roles import Permission, allowed

    if allowed(user, Permission.VIEW_ALL_SCENARIOS):
        return True
    return user is not None and owner_of(document) == user.name


def _document(pkg, slug: str) -> dict[str, Any] | None:
    from geo.scenario_store import list_scenarios

    return next((x.document for x in list_scenarios(pkg.root) if x.slug == slug), None)


def _not_permitted(lang: Lang) -> None:
    say("saved", "error", t("auth.not_permitted", lang))


def _save(pkg) -> None:
    s, lang = st.session_state, common.lang()
    name = " ".join(str(s.get("scenarios_name") or "").split())
    if not name:
        return say("saved", "error", t("scn.err_name", lang))
    slug = scenario_slug(name)
    scenario = draft_scenario(pkg, lang)
    from geo.scenario_store import list_scenarios, save_scenario_files

    existing = next((x.document for x in list_scenarios(pkg.root) if x.slug == slug), None)
    exists = existing is not None
    user = access.current_user()
    if existing is not None and not may_use(existing, user):  # another user's: never overwritten
        return say("saved", "error", t("scn.err_exists", lang, slug=slug))
    if exists and not s.get("scenarios_overwrite") and s.get("scenarios_loaded") != slug:
        return say("saved", "error", t("scn.err_exists", lang, slug=slug))
    owner = owner_of(existing or {}) or (user.name if user is not None else "")
    if owner:
        scenario = scenario.with_changes(extra={**scenario.extra, OWNER_FIELD: owner})
    try:
        save_scenario_files(pkg.root, slug, scenario_files(scenario), overwrite=True)
    except PhuSongError as exc:
        return say("saved", "error", problems_text(exc))
    s["scenarios_loaded"], s["scenarios_loaded_base"], s["scenarios_saved"] = slug, pkg.version, slug
    say("saved", "success", t("scn.saved", lang, name=common.plain_text(name), slug=slug))


def _load(pkg, slug: str) -> None:
    lang = common.lang()
    if not may_use(_document(pkg, slug) or {}, access.current_user()):
        return _not_permitted(lang)
    try:
        scenario = load_saved(pkg, slug)
    except PhuSongError as exc:
        return say("saved", "error", f"{t('scn.err_load', lang)}\n\n{problems_text(exc)}")
    partner = access.partner_operator()
    mine = restrict_draft(scenario, pkg.cells, partner)
    load_into_draft(mine, pkg, slug)
    say("saved", "success", t("scn.loaded", lang, name=common.plain_text(scenario.name)))
    known = set(pkg.cells["site_id"].astype(str))
    missing = [x for x in scenario.removed_sites if x not in known]
    notes = []
    dropped = changes_count(scenario) - changes_count(mine) - len(missing)
    if partner and (dropped > 0 or mine.switch_off != scenario.switch_off):
        notes.append(t("scn.partner_dropped", lang, n=max(dropped, 1), operator=partner))
    if missing:
        notes.append(t("scn.missing_sites", lang, sites=common.plain_text(", ".join(missing))))
    if notes:
        say("saved", "warning", "\n\n".join(notes))


def _store_action(pkg, slug: str, action: str) -> None:
    """Callback: delete, rename or re-base the saved scenario ``slug``."""
    from geo.scenario_store import delete_scenario, save_scenario_files

    s, lang = st.session_state, common.lang()
    if not may_use(_document(pkg, slug) or {}, access.current_user()):
        return _not_permitted(lang)
    try:
        if action == "delete":
            delete_scenario(pkg.root, slug)
            if s.get("scenarios_loaded") == slug:
                s["scenarios_loaded"] = None
            return say("saved", "success", t("scn.deleted", lang, slug=slug))
        scenario = load_saved(pkg, slug)
        if action == "rebase":
            save_scenario_files(
                pkg.root,
                slug,
                scenario_files(scenario.with_changes(base_version=pkg.version)),
                overwrite=True,
            )
            return say("saved", "success", t("scn.rebased", lang, slug=slug))
        name = " ".join(str(s.get("scenarios_rename_to") or "").split())
        if not name:
            return say("saved", "error", t("scn.err_name", lang))
        new = scenario_slug(name)
        save_scenario_files(
            pkg.root, new, scenario_files(scenario.with_changes(name=name)), previous_slug=slug
        )
        if s.get("scenarios_loaded") == slug:
            s["scenarios_loaded"], s["scenarios_name"] = new, name
        s["scenarios_saved"] = new
        say("saved", "success", t("scn.renamed", lang, slug=new))
    except PhuSongError as exc:
        say("saved", "error", problems_text(exc))


def saved_section(pkg, lang: Lang) -> None:
    """Save the draft; load, delete, re-base, rename and compare saved scenarios."""
    from geo.scenario_store import list_scenarios

    st.subheader(t("scn.saved_title", lang))
    c1, c2 = st.columns([3, 1])
    c1.caption(t("scn.save_hint", lang))
    c2.checkbox(t("scn.overwrite", lang), key="scenarios_overwrite")
    c2.button(t("scn.save", lang), key="scenarios_save", on_click=_save, args=(pkg,), type="primary")
    show_messages("saved")
    user = access.current_user()
    saved = {x.slug: x.document for x in list_scenarios(pkg.root) if may_use(x.document, user)}
    if not saved:
        st.caption(t("scn.none_saved", lang))
        return
    if st.session_state.get("scenarios_saved") not in saved:
        st.session_state.pop("scenarios_saved", None)
    labels = {slug: f"{doc.get('name', slug)} ({slug})" for slug, doc in saved.items()}
    slug = st.selectbox(
        t("scn.saved_list", lang), list(saved), key="scenarios_saved", format_func=labels.__getitem__
    )
    if slug is None:
        return
    doc = saved[slug]
    if owner_of(doc):
        vi, en = _LABELS["scn.owner"]
        st.caption((en if lang == "en" else vi).format(owner=common.plain_text(owner_of(doc))))
    made_on = str(doc.get("base_version") or "")
    b1, b2, b3 = st.columns(3)
    b1.button(t("scn.load", lang), key="scenarios_load", on_click=_load, args=(pkg, slug))
    b2.button(
        t("scn.delete", lang), key="scenarios_delete", on_click=_store_action, args=(pkg, slug, "delete")
    )
    if made_on != pkg.version:
        made = common.plain_text(made_on[:12] or "—")
        st.warning(t("scn.other_version", lang, made=made, now=str(pkg.version)[:12]))
        b3.button(
            t("scn.rebase", lang), key="scenarios_rebase", on_click=_store_action, args=(pkg, slug, "rebase")
        )
    r1, r2 = st.columns([3, 1])
    r1.text_input(t("scn.rename_to", lang), key="scenarios_rename_to")
    r2.button(
        t("scn.rename", lang), key="scenarios_rename", on_click=_store_action, args=(pkg, slug, "rename")
    )
    _compare(pkg, lang, saved, labels)


def _compare(pkg, lang: Lang, saved: Mapping[str, dict], labels: Mapping[str, str]) -> None:
    st.subheader(t("scn.compare", lang))
    if "scenarios_compare" in st.session_state:  # a scenario deleted since it was chosen
        st.session_state["scenarios_compare"] = [
            x for x in st.session_state["scenarios_compare"] if x in saved
        ]
    chosen = st.multiselect(
        t("scn.compare_pick", lang),
        list(saved),
        key="scenarios_compare",
        format_func=labels.__getitem__,
        max_selections=4,
    )
    if not st.button(t("scn.compare_button", lang), key="scenarios_compare_go", disabled=len(chosen) < 2):
        return
    base = cached_baseline(pkg, lang)
    params, targets = common.gap_params(), common.kpi_targets()
    summaries = {}
    with st.spinner(t("scn.evaluating", lang)):
        for slug in chosen:
            try:
                mine = restrict_draft(load_saved(pkg, slug), pkg.cells, access.partner_operator())
                scenario = mine.with_changes(base_version=pkg.version)
                result = evaluation(pkg.version, params, targets, content_key(scenario), base, scenario)
            except PhuSongError as exc:
                st.error(f"{common.plain_text(labels[slug])}: {problems_text(exc)}")
                continue
            summaries[labels[slug]] = result.summary
    if summaries:
        st.dataframe(compare_table(summaries, lang), hide_index=True, width="stretch")
