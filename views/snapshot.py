"""Leadership snapshot: KPI cards against targets, charts by district, a static map, one-click A4 PDF."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from analysis.kpi import KpiKey
from layers.charts import district_share_chart_png, district_underserved_chart_png, province_map_png
from layers.i18n import Lang, t
from layers.report import build_snapshot_pdf, kpi_card_text
from views import common
from views.downloads import file_name


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
    version: str, params, targets, lang: Lang, _snapshot, _communes, _gaps
) -> tuple[bytes, bytes, bytes]:
    shares = district_share_chart_png(_snapshot.districts, targets=targets, lang=lang)
    under = district_underserved_chart_png(_snapshot.districts, lang=lang)
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


def render() -> None:
    """Page function: the leadership snapshot."""
    lang = common.lang()
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
        data=pdf,
        file_name=name,
        mime="application/pdf",
        key="snapshot_pdf",
        type="primary",
    )
    shares, under, static = _charts(pkg.version, params, targets, lang, snapshot, pkg.communes, gaps)
    left, right = st.columns(2)
    left.subheader(t("snap.by_district", lang))
    left.image(shares, width="stretch")
    left.image(under, width="stretch")
    right.subheader(t("snap.static_map", lang))
    right.image(static, width="stretch")
