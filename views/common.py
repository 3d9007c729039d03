"""Shared UI helpers: language, data package, parameters, cached analysis and the map widget.

Session-state keys used here are prefixed ``app_`` (language, basemap) or ``settings_`` (parameters,
written by the settings page). Cached wrappers are keyed by the data package ``version`` and the
parameters; large objects are passed as ``_underscore`` arguments so they are never hashed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import streamlit as st
from affine import Affine
from streamlit_folium import st_folium

from analysis.fibre import FibreAnalysis
from analysis.grouping import assign_groups, group_columns, level_keys
from analysis.kpi import KpiSnapshot, KpiTargets, compute_kpis, targets_from_gap_params
from analysis.params import GapParams, default_gap_params
from analysis.published import Published, published_from_document
from geo.errors import ParameterError, PhuSongError
from geo.package import DataPackage, load_package, package_version
from geo.settings_store import OFFICIAL_FILE, read_published
from geo.store import SETTINGS_DIR
from layers.i18n import LANGUAGES, STRINGS, Lang, t
from layers.map import (
    TileSource,
    coverage_png,
    dissolve_former_units,
    fibre_network_for_display,
    simplify_for_display,
    sites_from_cells,
    tiles_from_env,
    tiles_from_setting,
)

log = logging.getLogger(__name__)

DATA_ENV = "PHUSONG_DATA"
REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The data package the app serves: ``$PHUSONG_DATA`` or the bundled ``data/``."""
    return Path(os.environ.get(DATA_ENV) or REPO_ROOT / "data").resolve()


def lang() -> Lang:
    """The language chosen in the sidebar (Vietnamese by default)."""
    return "en" if st.session_state.get("app_lang") == "en" else "vi"


#: Select boxes and multiselects whose option labels depend on the language. Streamlit sends their
#: value to the browser as the label string and keeps it while the label of the same value changes,
#: so after a language switch they would still show the old language's labels.
TRANSLATED_WIDGET_KEYS: tuple[str, ...] = (
    "planners_layers",
    "planners_indicator",
    "planners_district",
    "planners_former",
    "planners_commune",
    "downloads_layer",
    "downloads_operator",
    "downloads_flags",
    "snapshot_level",
    "settings_basis",
    "upload_layer",
)


def _relabel_translated_widgets() -> None:
    """Re-set each translated widget's value so the browser gets it with the new language's label."""
    for key in TRANSLATED_WIDGET_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def language_selector() -> Lang:
    """Sidebar language switch; returns the chosen language."""
    st.sidebar.radio(
        "Ngôn ngữ / Language",
        list(LANGUAGES),
        key="app_lang",
        format_func=LANGUAGES.__getitem__,
        horizontal=True,
        on_change=_relabel_translated_widgets,
    )
    return lang()


def tiles() -> TileSource:
    """Basemap chosen in settings, else ``$PHUSONG_TILES``, else none (offline)."""
    setting = st.session_state.get("app_tiles")
    if not setting:
        try:
            return tiles_from_env()
        except PhuSongError as exc:
            st.sidebar.error(str(exc))
            return TileSource()
    try:
        return tiles_from_setting(setting)
    except PhuSongError as exc:
        st.sidebar.error(str(exc))
        return TileSource()


class OfficialSettings(NamedTuple):
    """The official thresholds and targets of the current package (:mod:`geo.settings_store`)."""

    published: Published | None
    """None: nothing published (or unreadable): the defaults of ``analysis/config/gaps.toml`` apply."""
    version: str
    """First 12 hex digits of the SHA-256 of ``settings/official.json`` ("" when there is none)."""
    error: str
    """Why a present ``settings/official.json`` cannot be used ("" when it can)."""


def _official_path(root: Path) -> Path:
    return root / SETTINGS_DIR / OFFICIAL_FILE


@st.cache_resource(show_spinner=False, max_entries=8)
def _official(root: str, stamp: tuple[int, int, int]) -> OfficialSettings:
    """Read the official settings once per file state (``stamp``: inode, mtime, size)."""
    path = _official_path(Path(root))
    try:
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        doc = read_published(root)
        if doc is None:
            raise ParameterError(f"{SETTINGS_DIR}/{OFFICIAL_FILE}: not a published-settings document")
        return OfficialSettings(published_from_document(doc), version, "")
    except (PhuSongError, OSError, TypeError, ValueError, AttributeError) as exc:  # never crash a page
        log.warning("official settings of %s not used: %s", root, exc)
        return OfficialSettings(None, "", str(exc))


def official_settings() -> OfficialSettings:
    """The official thresholds and targets of the current package, read again when the file changes.

    A damaged ``settings/official.json`` gives ``published=None`` (the defaults apply) and its
    ``error``; :func:`gap_params` shows that error once per session and file state.
    """
    root = data_root()
    try:
        st_ = _official_path(root).stat()
    except OSError:
        return OfficialSettings(None, "", "")
    return _official(str(root), (st_.st_ino, st_.st_mtime_ns, st_.st_size))


def official_error_shown(official: OfficialSettings) -> bool:
    """Whether this session has been shown ``official.error`` already (marks it shown)."""
    seen = (official.error, str(data_root()))
    if st.session_state.get("app_official_error") == seen:
        return True
    st.session_state["app_official_error"] = seen
    return False


def _official_published() -> Published | None:
    official = official_settings()
    if official.error and not official_error_shown(official):
        st.error(f"{t('set.official_damaged', lang())}: {plain_text(official.error)}")
    return official.published


def gap_params() -> GapParams:
    """Gap parameters: this session's (settings page), else the official ones, else the defaults."""
    params = st.session_state.get("settings_params")
    if isinstance(params, GapParams):
        return params
    official = _official_published()
    return official.params if official is not None else default_gap_params()


def kpi_targets() -> KpiTargets:
    """KPI targets: this session's (settings page), else the official ones, else from the gap parameters."""
    targets = st.session_state.get("settings_targets")
    if isinstance(targets, KpiTargets):
        return targets
    official = _official_published()
    if official is None:
        return targets_from_gap_params(gap_params())
    if isinstance(st.session_state.get("settings_params"), GapParams):
        return targets_from_gap_params(gap_params(), base=official.targets)
    return official.targets


# --------------------------------------------------------------------------- cached loaders


@st.cache_resource(show_spinner=False, max_entries=4)
def _package(root: str, version: str) -> DataPackage:
    return load_package(root)


def package() -> DataPackage | None:
    """The current data package (shared, read-only), or ``None`` after showing why it failed."""
    root = data_root()
    try:
        return _package(str(root), package_version(root))
    except PhuSongError as exc:
        st.error(f"{t('app.load_error', lang())}: {exc}")
        return None
    except FileNotFoundError as exc:
        st.error(f"{t('app.load_error', lang())}: {exc}")
        return None


@st.cache_resource(show_spinner=False, max_entries=4)
def display_communes(version: str, _pkg: DataPackage) -> gpd.GeoDataFrame:
    """Communes simplified for display (topology-preserving, ~30 m)."""
    return simplify_for_display(_pkg.communes)


def layout(pkg: DataPackage) -> str:
    """The package's layout (``"2009"``, ``"2025-03"`` or ``"2025-07"``)."""
    return str(getattr(pkg.meta, "layout", "2009") or "2009")


def groups(pkg: DataPackage) -> tuple[str, ...]:
    """The package's group columns, coarse to fine (:func:`analysis.grouping.group_columns`)."""
    return group_columns(layout(pkg), pkg.communes)


@st.cache_resource(show_spinner=False, max_entries=4)
def commune_groups(version: str, _pkg: DataPackage) -> pd.DataFrame:
    """The one group each commune counts in, at every level (:func:`analysis.grouping.assign_groups`)."""
    return assign_groups(_pkg.communes, layout(_pkg), hamlets=_pkg.hamlets)


@st.cache_resource(show_spinner=False, max_entries=8)
def former_outlines(version: str, level: str, _pkg: DataPackage) -> gpd.GeoDataFrame:
    """Former provinces or districts dissolved from the displayed communes (2025-07 layout)."""
    keys = level_keys(groups(_pkg))[level]
    return dissolve_former_units(display_communes(version, _pkg), commune_groups(version, _pkg), keys)


@st.cache_resource(show_spinner=False, max_entries=4)
def fibre_network(version: str, _pkg: DataPackage) -> gpd.GeoDataFrame | None:
    """The package's fibre routes merged for display (:func:`layers.map.fibre_network_for_display`)."""
    routes = _pkg.fibre_routes
    return None if routes is None or routes.empty else fibre_network_for_display(routes)


@st.cache_resource(show_spinner=False, max_entries=4)
def sites(version: str, _pkg: DataPackage) -> gpd.GeoDataFrame:
    """One row per base-station site."""
    return sites_from_cells(_pkg.cells)


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """4G coverage of the package: per-hamlet signal, class raster and its map overlay."""

    signal: pd.DataFrame  # indexed by hamlet_id (analysis.gaps.SIGNAL_COLUMNS)
    classes: np.ndarray
    transform: Affine
    crs: pyproj.CRS
    overlay_png: bytes
    overlay_bounds: tuple[float, float, float, float]
    classes_by_operator: dict[str, np.ndarray]


@st.cache_resource(show_spinner=False, max_entries=2)
def coverage(version: str, _pkg: DataPackage) -> CoverageResult:
    """Run the coverage engine once per package version (tens of seconds, then shared)."""
    from analysis.coverage import build_scene, compute_coverage_by_operator
    from analysis.coverage_params import default_coverage_params
    from analysis.coverage_stats import coverage_statistics
    from analysis.gaps import signal_from_coverage_stats

    cparams = default_coverage_params()
    scene = build_scene(_pkg.communes, _pkg.metric_crs, resolution_m=cparams.resolution_m, params=cparams)
    result = compute_coverage_by_operator(scene, _pkg.cells, technology="4G", params=cparams)
    stats = coverage_statistics(scene, result, _pkg.hamlets, params=cparams)
    classes = result.combined.classes(cparams.tech("4G"))
    png, bounds = coverage_png(classes, transform=scene.grid.transform, crs=scene.grid.crs)
    return CoverageResult(
        signal_from_coverage_stats(stats.hamlets),
        classes,
        scene.grid.transform,
        scene.grid.crs,
        png,
        bounds,
        dict(result.classes_by_operator),
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def fibre(version: str, params: GapParams, _pkg: DataPackage) -> FibreAnalysis:
    """Fibre reach and extension plan for these parameters."""
    from analysis.fibre import analyse_fibre

    return analyse_fibre(_pkg, params)


@st.cache_resource(show_spinner=False, max_entries=8)
def gaps(version: str, params: GapParams, _pkg: DataPackage) -> gpd.GeoDataFrame:
    """Hamlet gap table (shared; copy before changing)."""
    from analysis.gaps import compute_gaps

    cov = coverage(version, _pkg)
    fib = fibre(version, params, _pkg)
    return compute_gaps(_pkg, params, signal=cov.signal, reach=fib.reach)


@st.cache_resource(show_spinner=False, max_entries=8)
def commune_table(version: str, params: GapParams, _pkg: DataPackage) -> gpd.GeoDataFrame:
    """Commune roll-up of the gaps (EPSG:4326 polygons)."""
    from analysis.gaps import commune_indicators

    return commune_indicators(gaps(version, params, _pkg), _pkg.communes)


@st.cache_resource(show_spinner=False, max_entries=8)
def kpis(version: str, params: GapParams, targets: KpiTargets, _pkg: DataPackage) -> KpiSnapshot:
    """Province, group (district, or former province / district) and commune KPIs against ``targets``."""
    return compute_kpis(
        gaps(version, params, _pkg),
        communes=_pkg.communes,
        survey=_pkg.survey,
        fibre_nodes=_pkg.fibre_nodes,
        targets=targets,
        layout=layout(_pkg),
    )


def is_ready(pkg: DataPackage, params: GapParams) -> bool:
    """True when this session already has the gap table of this package version and parameters."""
    return st.session_state.get("app_ready") == (pkg.version, params)


@st.cache_resource(show_spinner=False)
def _computed_on_server() -> set[tuple[str, GapParams]]:
    """(version, parameters) whose gap table this server process has computed, for every session."""
    return set()


def computed_on_server(pkg: DataPackage, params: GapParams) -> bool:
    """True when a session of this server has computed the gap table of this version and parameters
    (it is then in the shared cache, unless evicted: a first visit needs no quick map)."""
    return (pkg.version, params) in _computed_on_server()


def analysis_ready(pkg: DataPackage, params: GapParams) -> gpd.GeoDataFrame:
    """The gap table, computing coverage, fibre reach and flags with visible progress when cold."""
    key = (pkg.version, params)
    if is_ready(pkg, params):
        return gaps(pkg.version, params, pkg)
    lang_ = lang()
    with st.status(t("app.computing", lang_), expanded=False) as status:
        status.update(label=t("app.step_coverage", lang_))
        coverage(pkg.version, pkg)
        status.update(label=t("app.step_fibre", lang_))
        fibre(pkg.version, params, pkg)
        status.update(label=t("app.step_gaps", lang_))
        table = gaps(pkg.version, params, pkg)
        status.update(label=t("app.ready", lang_), state="complete")
    st.session_state["app_ready"] = key
    _computed_on_server().add(key)
    return table


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_text(text: object) -> str:
    """``text`` escaped for Streamlit markdown (captions, markdown): data is text, never markup.

    Every markdown, HTML and Streamlit directive character (``[link](…)``, ``![img](…)``, ``<b>``,
    ``:red[…]``, ``:material/…:``, ``$math$``) is backslash-escaped, so it shows as typed.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def synthetic_note(pkg: DataPackage) -> None:
    """Captions naming the data package and its synthetic layers (shown on every page)."""
    st.caption(t("app.dataset", lang(), name=plain_text(pkg.meta.name), version=str(pkg.version)[:12]))
    if pkg.synthetic_layers:
        names = ", ".join(t(f"lyr.{k}", lang()) if f"lyr.{k}" in STRINGS else k for k in pkg.synthetic_layers)
        st.caption(":material/warning: " + t("app.synthetic_note", lang(), layers=names))


# --------------------------------------------------------------------------- map widget


def show_map(
    fmap: folium.Map,
    *,
    key: str,
    height: int = 620,
    returned: tuple[str, ...] = (),
    on_change: Callable[[], None] | None = None,
) -> dict:
    """Render ``fmap`` with streamlit-folium; pan and zoom do not rerun the app.

    ``returned`` names what the map sends back (streamlit-folium's ``returned_objects``; empty:
    nothing, so no interaction reruns the app); ``on_change`` runs before the rerun such a
    change causes, with the new value in ``st.session_state[key]``.

    streamlit-folium keeps the Leaflet map of its iframe and only updates its view, so when the map
    content changes (another layer, language, filter: anything in ``key``) the map is moved by one
    slot in its container, which makes Streamlit mount a fresh iframe that draws the new map.

    The map is rendered once (``render=False``: streamlit-folium still renders the map and every
    layer; it skips a second, full-page render whose output it does not send).
    """
    state_key = f"{key.split(':')[0]}_slot"
    last_key, slot = st.session_state.get(state_key, (key, 0))
    if last_key != key:
        slot += 1
    st.session_state[state_key] = (key, slot)
    with st.container():
        if slot % 2:
            st.empty()
        return st_folium(
            fmap,
            key=key,
            height=height,
            use_container_width=True,
            returned_objects=list(returned),
            on_change=on_change,
            render=False,
        )
