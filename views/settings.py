"""Settings: gap thresholds, fibre reach distances and KPI targets (with reset), and the basemap."""

from __future__ import annotations

import streamlit as st

from analysis.kpi import KpiTargets, targets_from_gap_params
from analysis.params import default_gap_params
from geo.errors import PhuSongError
from layers.i18n import Lang, t
from layers.map import tiles_from_setting
from views import access, common

BASES = ("national_target", "province_average", "lower_of_both")


def _percent(label: str, value: float, key: str) -> float:
    return st.slider(label, 0, 100, int(round(100 * value)), step=1, format="%d%%", key=key) / 100.0


def _form(lang: Lang) -> None:
    params, targets = common.gap_params(), common.kpi_targets()
    with st.form("settings_form"):
        st.subheader(t("set.thresholds", lang))
        ftth = _percent(t("set.ftth", lang), params.thresholds.ftth_min_share, "settings_ftth")
        phone = _percent(t("set.smartphone", lang), params.thresholds.smartphone_min_share, "settings_phone")
        basis = st.selectbox(
            t("set.basis", lang),
            BASES,
            index=BASES.index(params.thresholds.basis),
            format_func=lambda b: t(f"basis.{b}", lang),
            key="settings_basis",
        )
        st.subheader(t("set.fibre", lang))
        drop = st.number_input(
            t("set.drop_m", lang),
            100.0,
            20_000.0,
            float(params.reach.drop_reach_m),
            100.0,
            key="settings_drop",
            format="%.0f",
        )
        ext = st.number_input(
            t("set.extendable_m", lang),
            100.0,
            50_000.0,
            float(params.reach.extendable_m),
            500.0,
            key="settings_ext",
            format="%.0f",
        )
        st.subheader(t("set.targets", lang))
        good4g = _percent(t("ind.good_4g", lang), targets.good_4g_household_share, "settings_t4g")
        no4g = _percent(t("set.no_4g", lang), targets.no_4g_household_share, "settings_tno4g")
        fibre_communes = _percent(
            t("set.communes_fibre", lang), targets.communes_fibre_share, "settings_tfib"
        )
        if st.form_submit_button(t("set.apply", lang), type="primary"):
            try:
                new = params.with_overrides(
                    thresholds=params.thresholds.with_overrides(
                        ftth_min_share=ftth, smartphone_min_share=phone, basis=basis
                    ),
                    reach=params.reach.with_overrides(drop_reach_m=drop, extendable_m=ext),
                )
                base = KpiTargets(
                    good_4g_household_share=good4g,
                    no_4g_household_share=no4g,
                    communes_fibre_share=fibre_communes,
                )
                st.session_state["settings_params"] = new
                st.session_state["settings_targets"] = targets_from_gap_params(new, base=base)
                st.success(t("set.applied", lang))
            except PhuSongError as exc:
                st.error(str(exc))


def _basemap(lang: Lang) -> None:
    st.subheader(t("map.basemap", lang))
    current = st.session_state.get("app_tiles") or ""
    value = st.text_input(
        t("map.basemap_url", lang),
        value=current,
        help=t("map.basemap_url_help", lang),
        key="settings_tiles",
        placeholder="none",
    )
    try:
        source = tiles_from_setting(value)
    except PhuSongError as exc:
        st.error(str(exc))
        return
    st.session_state["app_tiles"] = value.strip()
    st.caption(
        t("map.basemap_none", lang)
        if source.is_offline
        else common.plain_text(f"{source.url} — {source.attribution}")
    )


def render() -> None:
    """Page function: settings."""
    lang = common.lang()
    access.require_page("settings", t("auth.not_permitted", lang))
    st.title(t("page.settings", lang))
    _form(lang)
    if st.button(t("set.reset", lang), key="settings_reset"):
        for key in (
            "settings_params",
            "settings_targets",
            "settings_ftth",
            "settings_phone",
            "settings_basis",
            "settings_drop",
            "settings_ext",
            "settings_t4g",
            "settings_tno4g",
            "settings_tfib",
        ):
            st.session_state.pop(key, None)
        st.rerun()
    defaults = default_gap_params()
    changed = common.gap_params() != defaults or common.kpi_targets() != targets_from_gap_params(defaults)
    st.caption(t("set.changed" if changed else "set.defaults", lang))
    _basemap(lang)
