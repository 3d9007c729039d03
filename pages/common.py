"""Shared UI helpers: language, data package, basemap and cached loaders.

Session-state keys used here are prefixed ``app_``. Cached wrappers are keyed by the data
package path and version; large frames are passed as ``_underscore`` arguments (not hashed).
"""

from __future__ import annotations

import os
from pathlib import Path

import folium
import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import PhuSongError
from layers.data_source import files_version, read_communes
from layers.i18n import LANGUAGES, Lang, t
from layers.map import TileSource, tiles_from_env, tiles_from_setting

DATA_ENV = "PHUSONG_DATA"
REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The data package the app serves: ``$PHUSONG_DATA`` or the bundled ``data/``."""
    return Path(os.environ.get(DATA_ENV) or REPO_ROOT / "data").resolve()


def lang() -> Lang:
    """The language chosen in the sidebar (Vietnamese by default)."""
    return "en" if st.session_state.get("app_lang") == "en" else "vi"


def language_selector() -> Lang:
    """Sidebar language switch; returns the chosen language."""
    st.sidebar.radio(
        "Ngôn ngữ / Language", list(LANGUAGES), key="app_lang", format_func=LANGUAGES.__getitem__, horizontal=True
    )
    return lang()


def tiles() -> TileSource:
    """Basemap chosen in settings, else ``$PHUSONG_TILES``, else none (offline)."""
    setting = st.session_state.get("app_tiles")
    if setting is None:
        return tiles_from_env()
    try:
        return tiles_from_setting(setting)
    except PhuSongError as exc:
        st.sidebar.error(str(exc))
        return TileSource()


@st.cache_data(show_spinner=False)
def data_version(root: str) -> str:
    """Content hash of the data package (cheap enough to compute once per process)."""
    return files_version(root)


@st.cache_resource(show_spinner=False)
def communes(root: str, version: str) -> gpd.GeoDataFrame:
    """Commune polygons of the package (shared, never mutate)."""
    return read_communes(root)


def load_communes() -> gpd.GeoDataFrame | None:
    """Communes of the current package, or ``None`` after showing the error."""
    root = str(data_root())
    try:
        return communes(root, data_version(root))
    except PhuSongError as exc:
        st.error(f"{t('app.load_error', lang())}: {exc}")
        return None


def show_map(fmap: folium.Map, *, key: str, height: int = 620, returned: tuple[str, ...] = ()) -> dict:
    """Render ``fmap`` with streamlit-folium; pan and zoom do not rerun the app.

    streamlit-folium keeps the Leaflet map of its iframe and only updates its view, so when the map
    content changes (another layer, language, filter: anything in ``key``) the map is moved by one
    slot in its container, which makes Streamlit mount a fresh iframe that draws the new map.
    """
    state_key = f"{key.split(':')[0]}_slot"
    last_key, slot = st.session_state.get(state_key, (key, 0))
    if last_key != key:
        slot += 1
    st.session_state[state_key] = (key, slot)
    with st.container():
        if slot % 2:
            st.empty()
        return st_folium(fmap, key=key, height=height, use_container_width=True, returned_objects=list(returned))
