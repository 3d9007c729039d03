"""Planners' map: the province's communes on an offline map."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from layers.i18n import t
from layers.map import province_map, simplify_for_display
from pages import common


@st.cache_resource(show_spinner=False)
def _display_communes(root: str, version: str, _communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Communes simplified for display (shared; the folium map itself is rebuilt each run because
    streamlit-folium renames the map's elements when it renders it)."""
    return simplify_for_display(_communes)


def render() -> None:
    """Page function: the commune map."""
    lang = common.lang()
    st.title(t("page.map", lang))
    communes = common.load_communes()
    if communes is None:
        return
    st.caption(t("map.commune_count", lang, n=len(communes)))
    root = str(common.data_root())
    display = _display_communes(root, common.data_version(root), communes)
    fmap = province_map(display, tiles=common.tiles(), lang=lang, simplify=False)
    common.show_map(fmap, key=f"planners_map:{lang}")
