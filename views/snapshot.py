"""Leadership snapshot: KPI cards against targets, charts by group, a static map, one-click A4 PDF.

The group is the district before the reform; in the 2025-07 layout the former province (default)
or former district, with each former province's figures beside what it published.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analysis.grouping import is_pre_reform
from analysis.kpi import KpiKey, KpiSnapshot
from layers.charts import district_share_chart_png, district_underserved_chart_png, province_map_png
from layers.i18n import Lang, t
from layers.report import build_snapshot_pdf, kpi_card_text, package_comparison, published_comparison_rows
from views import access, common
from views.downloads import audited, file_name


def _cards(snapshot, lang: Lang) -> None:
    cols = st.columns(4)
    for i, kpi in enumerate(snapshot.kpis):
        card = kpi_card_text(kpi, lang)
        with cols[i % 4].container(border=True):
            st.caption(card.label)
            st.markdown(f"### {card.value}")
            colour = "#{:02x}{:02x}{:02x}".format(*card.rgb)
            status = (
                f" · <span style='color:{colour};font-weight:600'>{card.status}</span>" if card.status else ""
            )
            st.markdown(f"{card.target}{status}", unsafe_allow_html=True)
            st.caption(card.basis + (f" — {card.detail}" if card.detail else ""))


@st.cache_data(show_spinner=False, max_entries=16)
def _pdf(version: str, params, targets, lang: Lang, today: str, _pkg, _gaps) -> bytes:
    return build_snapshot_pdf(
        _pkg, lang=lang, params=params, gaps=_gaps, targets=targets, today=dt.date.fromisoformat(today)
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _charts(
    version: str, params, targets, lang: Lang, level: str | None, _snapshot, _communes, _gaps
) -> tuple[bytes | None, bytes | None, bytes]:
    shares = under = None
    if level is not None:
        table = _snapshot.levels.get(level, _snapshot.districts)
        shares = district_share_chart_png(table, targets=targets, lang=lang, group_column=level)
        under = district_underserved_chart_png(table, lang=lang, group_column=level)
    values = _snapshot.communes.set_index("commune_id")[KpiKey.GOOD_4G.value]
    flagged = _gaps[_gaps["n_flags"] > 0]
    static = province_map_png(
        _communes,
        values=values,
        value_label=t("ind.good_4g", lang),
        hamlets=flagged,
        lang=lang,
        target=targets.good_4g_household_share,
    )
    return shares, under, static


def _level(snapshot: KpiSnapshot, lang: Lang) -> str | None:
    """The breakdown shown: the default one, or the one chosen when the package has several."""
    levels = list(snapshot.levels)
    if len(levels) < 2:
        return snapshot.group_column
    return st.selectbox(
        t("snap.level", lang),
        levels,
        key="snapshot_level",
        format_func=lambda k: t(f"group.{k}", lang),
    )


def _published(pkg, snapshot: KpiSnapshot, lang: Lang) -> None:
    """Former provinces: this package's figures beside what each published (2025-07 layout)."""
    comparison = package_comparison(pkg, snapshot)
    if comparison is None or comparison.empty:
        return
    st.subheader(t("snap.published", lang))
    columns = ("former_province", "indicator", "ours", "published", "source")
    header = [t(f"snap.col_{k}", lang) for k in columns]
    st.dataframe(
        pd.DataFrame(published_comparison_rows(comparison, lang), columns=header),
        hide_index=True,
        width="stretch",
    )
    synthetic = t("snap.published_synthetic", lang) if "survey" in pkg.synthetic_layers else ""
    st.caption(t("snap.published_note", lang, synthetic=synthetic))


def render() -> None:
    """Page function: the leadership snapshot."""
    lang = common.lang()
    access.require_page("snapshot", t("auth.not_permitted", lang))
    st.title(t("page.snapshot", lang))
    pkg = common.package()
    if pkg is None:
        return
    common.synthetic_note(pkg)
    params, targets = common.gap_params(), common.kpi_targets()
    gaps = common.analysis_ready(pkg, params)
    snapshot = common.kpis(pkg.version, params, targets, pkg)
    _cards(snapshot, lang)
    today = dt.date.today().isoformat()
    with st.spinner(t("snap.pdf_preparing", lang)):
        pdf = _pdf(pkg.version, params, targets, lang, today, pkg, gaps)
    name = file_name(pkg.meta.province_name, "snapshot", "pdf")
    st.download_button(
        t("snap.pdf", lang),
        # audited when the browser fetches the file (views.downloads.audited); a report is one row
        data=audited(lambda: (pdf, 1), user=access.current_user(), layer="snapshot", fmt="pdf", filters={}),
        file_name=name,
        mime="application/pdf",
        key="snapshot_pdf",
        type="primary",
        on_click="ignore",
    )
    pre_reform = is_pre_reform(snapshot.layout)
    if not pre_reform:
        _published(pkg, snapshot, lang)
    level = _level(snapshot, lang)
    shares, under, static = _charts(pkg.version, params, targets, lang, level, snapshot, pkg.communes, gaps)
    left, right = st.columns(2)
    if level is None or shares is None or under is None:
        left.info(t("group.none", lang))
    else:
        by = "snap.by_district" if level == "district_name" else f"group.by.{level}"
        left.subheader(t(by, lang))
        left.image(shares, width="stretch")
        left.image(under, width="stretch")
        if not pre_reform:
            left.caption(t("group.rule", lang))
    right.subheader(t("snap.static_map", lang))
    right.image(static, width="stretch")
