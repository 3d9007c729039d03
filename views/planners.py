"""Planners' map: layers, commune choropleth, hamlet flags, sites, coverage, fibre; picker and search.

Before the reform the drill-down is province → district → commune. In the 2025-07 layout there are
no districts: province → commune, with an optional dashed overlay of the former provinces or
districts (labelled "former"), and a search that also finds a commune by the former commune,
district or province it came from, saying why (:mod:`layers.search`).

A partner (docs/ACCESS.md, "What partners get") sees the whole province's communes and gap hamlets,
but only its own operator's sites and 4G coverage; every popup is scrubbed of other operators'
per-operator values (:mod:`layers.access_filters`, as the downloads are). Done here, on the server,
before the map is built: nothing of another operator reaches the browser.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import partial
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from shapely.geometry import Point

from analysis.grouping import is_pre_reform
from analysis.params import GapParams
from layers import search
from layers.access_filters import CoverageRasters, filter_sites, restrict_layer, visible_coverage
from layers.i18n import Lang, format_number, format_percent, t
from layers.map import (
    add_choropleth,
    add_coverage_overlay,
    add_fibre,
    add_former_units,
    add_hamlets,
    add_sites,
    base_map,
    commune_label_columns,
    coverage_png,
    flag_labels,
    localize_assets,
    province_map,
)
from views import access, common

TECHNOLOGIES = ("2G", "3G", "4G", "5G")
LAYERS = ("communes", "hamlets", "sites", "coverage", "fibre")
#: indicator key -> (column of the commune table, is a share)
INDICATORS: dict[str, tuple[str, bool]] = {
    "good_4g": ("share_hh_good_4g", True),
    "no_4g": ("share_hh_no_4g", True),
    "ftth": ("ftth_share", True),
    "smartphone": ("smartphone_share", True),
    "fibre_reach": ("share_hh_fibre_reach", True),
    "priority": ("priority_score", False),
    "flagged": ("flagged_hamlets", False),
}
#: what the map sends back: only clicks on objects, so pan and zoom never rerun the page
MAP_RETURNED = ("last_object_clicked", "last_active_drawing")
#: clicks this close to a commune (degrees, ~100 m) but outside every polygon still select it
CLICK_TOLERANCE_DEG = 1e-3


def search_communes(
    communes: pd.DataFrame, query: str, *, layout: str = "2009", hamlets: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Communes matching ``query`` (best first), ignoring case, diacritics and prefixes.

    Before the reform a commune matches by its name or district; in the 2025-07 layout by its name
    or any former province, district or commune it came from (:func:`layers.search.search_communes`).
    """
    hits = search.search_communes(communes, query, layout=layout, hamlets=hamlets)
    return communes.iloc[[h.position for h in hits]]


def _search_hits(pkg, query: str) -> list[search.SearchHit]:
    return search.search_communes(pkg.communes, query, layout=common.layout(pkg), hamlets=pkg.hamlets)


def commune_at(communes: gpd.GeoDataFrame, *, lon_deg: float, lat_deg: float) -> str | None:
    """``commune_id`` of the commune polygon that contains a point, or None.

    Parameters
    ----------
    communes : GeoDataFrame
        EPSG:4326 commune polygons with ``commune_id`` (the geometries drawn on the map).
    lon_deg, lat_deg : float
        The point, EPSG:4326 degrees. A point in no polygon (a sliver left by display
        simplification) takes the nearest commune within :data:`CLICK_TOLERANCE_DEG`.
    """
    point = Point(lon_deg, lat_deg)
    inside = communes.sindex.query(point, predicate="intersects")
    if len(inside):
        return str(communes["commune_id"].iloc[int(inside[0])])
    near = communes.sindex.query(point, predicate="dwithin", distance=CLICK_TOLERANCE_DEG)
    if not len(near):
        return None
    nearest = min((int(i) for i in near), key=lambda i: communes.geometry.iloc[i].distance(point))
    return str(communes["commune_id"].iloc[nearest])


def clicked_commune(value: Mapping[str, Any] | None, communes: gpd.GeoDataFrame) -> str | None:
    """The commune a map click selects, from the value streamlit-folium returns, or None.

    Only a click on a polygon counts (the commune choropleth); clicks on hamlets, sites or
    fibre (points and lines) open their popups and select nothing.

    Parameters
    ----------
    value : mapping or None
        ``st_folium``'s value with :data:`MAP_RETURNED` (``last_object_clicked`` is
        ``{"lat", "lng"}`` in degrees; ``last_active_drawing`` the clicked GeoJSON feature).
    communes : GeoDataFrame
        EPSG:4326 commune polygons drawn on the map, with ``commune_id``.
    """
    if not value:
        return None
    drawing = value.get("last_active_drawing")
    geometry = drawing.get("geometry") if isinstance(drawing, Mapping) else None
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    where = value.get("last_object_clicked")
    lat, lng = (where.get("lat"), where.get("lng")) if isinstance(where, Mapping) else (None, None)
    if lat is None or lng is None:
        return None
    return commune_at(communes, lon_deg=float(lng), lat_deg=float(lat))


def _select_clicked(map_key: str) -> None:
    """Map callback: a click on a commune selects it in the picker (runs before the rerun)."""
    pkg = common.package()
    if pkg is None:
        return
    display = common.display_communes(pkg.version, pkg)
    commune_id = clicked_commune(st.session_state.get(map_key), display)
    if commune_id is None or commune_id == st.session_state.get("planners_commune"):
        return
    communes = pkg.communes
    row = communes[communes["commune_id"].astype(str) == commune_id].iloc[0]
    pre_reform = is_pre_reform(common.layout(pkg))
    if pre_reform and st.session_state.get("planners_district") not in ("", None, row["district_name"]):
        st.session_state["planners_district"] = str(row["district_name"])
    query = st.session_state.get("planners_search")
    if query and commune_id not in {h.commune_id for h in _search_hits(pkg, query)}:
        st.session_state["planners_search"] = ""  # the picker must offer the clicked commune
    st.session_state["planners_commune"] = commune_id


def _controls(lang: Lang, pkg, operators: list[str]) -> dict:
    communes = pkg.communes
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    layers = c1.multiselect(
        t("map.layers", lang),
        LAYERS,
        default=["communes", "hamlets"],
        key="planners_layers",
        placeholder=t("map.no_layers", lang),
        format_func=lambda k: t(f"layer.{k}", lang),
    )
    indicator = c2.selectbox(
        t("map.indicator", lang),
        list(INDICATORS),
        key="planners_indicator",
        format_func=lambda k: t(f"ind.{k}", lang),
    )
    ops = c3.multiselect(t("map.operators", lang), operators, default=operators, key="planners_operators")
    techs = c4.multiselect(
        t("map.technologies", lang), TECHNOLOGIES, default=list(TECHNOLOGIES), key="planners_techs"
    )
    d1, d2, d3 = st.columns([2, 3, 3])
    pre_reform = is_pre_reform(common.layout(pkg))
    district, former = "", ""
    if pre_reform:
        districts = sorted(communes["district_name"].astype(str).unique())
        district = d1.selectbox(
            t("map.district", lang),
            ["", *districts],
            key="planners_district",
            format_func=lambda d: d or t("map.all", lang),
        )
    elif common.groups(pkg):
        former = d1.selectbox(
            t("map.former", lang),
            ["", *common.groups(pkg)],
            key="planners_former",
            format_func=lambda g: t(f"group.{g}", lang) if g else t("map.former_none", lang),
        )
    query = d3.text_input(t("map.search", lang), key="planners_search", placeholder="tra cu")
    ids = communes["commune_id"].astype(str)
    if pre_reform:
        names = dict(zip(ids, communes["commune_name"] + " — " + communes["district_name"], strict=True))
    else:
        names = dict(zip(ids, communes["commune_name"].astype(str), strict=True))
    hits = _search_hits(pkg, query) if query else []
    if query:
        found = [h.commune_id for h in hits]
        d3.caption(t("map.search_hits", lang, n=len(found)))
        if not pre_reform:  # say why each commune matched (plain text: select boxes render no HTML)
            names.update({h.commune_id: search.hit_label(h, lang) for h in hits})
    else:
        pool = communes if not district else communes[communes["district_name"] == district]
        found = list(pool["commune_id"].astype(str))
    options = ["", *found]
    commune = d2.selectbox(
        t("map.commune", lang),
        options,
        key="planners_commune",
        format_func=lambda c: names.get(c, t("map.all", lang)),
    )
    return {
        "techs": tuple(techs),
        "layers": tuple(layers),
        "indicator": indicator,
        "operators": tuple(ops),
        "district": district,
        "former": former,
        "commune": commune,
    }


# --------------------------------------------------------------------------- what a user may see


def shown_sites(
    sites: gpd.GeoDataFrame, operators: tuple[str, ...], techs: tuple[str, ...], partner: str | None
) -> gpd.GeoDataFrame:
    """The sites the map draws: a partner's own operator's only (whatever ``operators`` asks for),
    then those of the chosen operators with one of the chosen technologies."""
    own = filter_sites(sites, partner)
    wanted = set(techs)
    chosen = own["operator"].isin(operators) & own["technologies"].map(
        lambda v: bool(wanted & set(str(v).split("/")))
    )
    return own[chosen]


@st.cache_resource(show_spinner=False, max_entries=8)
def coverage_overlay(
    version: str, partner: str | None, _pkg
) -> tuple[bytes, tuple[float, float, float, float]]:
    """The 4G coverage overlay (PNG, bounds in degrees): every operator's best class, or for a
    partner its own operator's classes only (:func:`layers.access_filters.visible_coverage`)."""
    cov = common.coverage(version, _pkg)
    if partner is None:
        return cov.overlay_png, cov.overlay_bounds
    classes = visible_coverage(CoverageRasters(cov.classes, cov.classes_by_operator), partner)
    return coverage_png(classes, transform=cov.transform, crs=cov.crs)


@st.cache_resource(show_spinner=False, max_entries=8)
def _partner_gaps(version: str, params: GapParams, partner: str, _gaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return restrict_layer("gaps", _gaps, partner)


def shown_hamlets(pkg, params: GapParams, gaps: gpd.GeoDataFrame, partner: str | None) -> gpd.GeoDataFrame:
    """The gap hamlets of the map and table: every row; a partner's without other operators'
    per-operator values (``good_4g_operators`` lists its own operator only), as its downloads."""
    return gaps if partner is None else _partner_gaps(pkg.version, params, partner, gaps)


def _add_coverage(m: folium.Map, pkg, lang: Lang, partner: str | None) -> None:
    png, bounds = coverage_overlay(pkg.version, partner, pkg)
    title = t("map.coverage_own", lang, operator=partner) if partner else t("layer.coverage", lang)
    add_coverage_overlay(m, png, bounds, title=title, lang=lang)


def _build_map(
    opts: dict, pkg, gaps: gpd.GeoDataFrame, table: gpd.GeoDataFrame, lang: Lang, partner: str | None = None
) -> folium.Map:
    display = common.display_communes(pkg.version, pkg)
    m = base_map(tuple(display.total_bounds), tiles=common.tiles(), lang=lang)
    synthetic = set(pkg.synthetic_layers)
    if "communes" in opts["layers"]:
        column, share = INDICATORS[opts["indicator"]]
        labels = list(commune_label_columns(display, lang))
        values = display[["commune_id", *labels, "geometry"]].merge(
            table[["commune_id", column]], on="commune_id", how="left"
        )
        add_choropleth(
            m,
            gpd.GeoDataFrame(values, crs=4326),
            column,
            title=t(f"ind.{opts['indicator']}", lang),
            lang=lang,
            share=share,
        )
    if "coverage" in opts["layers"]:
        _add_coverage(m, pkg, lang, partner)
    if "fibre" in opts["layers"]:
        fib = common.fibre(pkg.version, common.gap_params(), pkg)
        add_fibre(
            m,
            nodes=pkg.fibre_nodes,
            routes=common.fibre_network(pkg.version, pkg),
            plan_routes=fib.plan.routes,
            lang=lang,
            synthetic="fibre_nodes" in synthetic,
        )
    if "sites" in opts["layers"]:
        sites = shown_sites(common.sites(pkg.version, pkg), opts["operators"], opts["techs"], partner)
        add_sites(m, sites, lang=lang, synthetic="towers" in synthetic)
    if opts["former"]:
        outlines = common.former_outlines(pkg.version, opts["former"], pkg)
        add_former_units(m, outlines, level=opts["former"], lang=lang)
    if "hamlets" in opts["layers"]:
        shown = gaps if not opts["district"] else gaps[gaps["district_name"] == opts["district"]]
        add_hamlets(m, shown, lang=lang, synthetic="hamlets" in synthetic)
    focus = (
        display[display["commune_id"].astype(str) == opts["commune"]]
        if opts["commune"]
        else (display[display["district_name"] == opts["district"]] if opts["district"] else display)
    )
    minx, miny, maxx, maxy = focus.total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.LayerControl(collapsed=True).add_to(m)
    return localize_assets(m)


def _hamlet_table(gaps: gpd.GeoDataFrame, commune_id: str, lang: Lang, synthetic: bool) -> None:
    rows = gaps[gaps["commune_id"].astype(str) == commune_id].sort_values("rank_commune")
    st.subheader(
        t("map.hamlet_table", lang, name=rows["commune_name"].iloc[0] if len(rows) else commune_id)
        + (f" {t('map.synthetic_suffix', lang)}" if synthetic else "")
    )
    explanation = "explanation_en" if lang == "en" else "explanation_vi"
    st.dataframe(
        pd.DataFrame(
            {
                t("map.hamlet", lang): rows["hamlet_name"],
                t("map.households", lang): [format_number(v, lang) for v in rows["households"]],
                t("ind.good_4g", lang): [
                    format_percent(v, lang) for v in rows["share_hh_good_4g"].astype(float)
                ],
                t("ind.ftth", lang): [format_percent(v, lang) for v in rows["ftth_share"].astype(float)],
                t("ind.smartphone", lang): [
                    format_percent(v, lang) for v in rows["smartphone_share"].astype(float)
                ],
                t("map.flags", lang): [flag_labels(f, lang) for f in rows["flags"]],
                t("map.explanation", lang): rows[explanation],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def render() -> None:
    """Page function: the planners' map."""
    lang = common.lang()
    access.require_page("map", t("auth.not_permitted", lang))
    st.title(t("page.map", lang))
    pkg = common.package()
    if pkg is None:
        return
    common.synthetic_note(pkg)
    partner = access.partner_operator()
    if partner:
        st.caption(t("map.partner_note", lang, operator=partner))
    operators = [partner] if partner else sorted(pkg.cells["operator"].astype(str).unique())
    opts = _controls(lang, pkg, operators)
    params = common.gap_params()
    # One slot, filled only on the first visit (quick commune map and progress while the layers
    # are computed), so the page keeps the same element layout on every run: a rerun from a map
    # click then updates the map in place instead of mounting a new one (an open popup stays).
    # When another session has computed the layers already, the quick map is skipped: it would
    # be replaced at once, and its communes and map assets sent twice.
    quick = st.empty()
    if common.is_ready(pkg, params):
        gaps = common.analysis_ready(pkg, params)
    else:
        with quick.container():
            if not common.computed_on_server(pkg, params):
                common.show_map(
                    province_map(
                        common.display_communes(pkg.version, pkg),
                        tiles=common.tiles(),
                        lang=lang,
                        simplify=False,
                    ),
                    key=f"planners_quick:{lang}",
                )
            gaps = common.analysis_ready(pkg, params)
        quick.empty()
    gaps = shown_hamlets(pkg, params, gaps, partner)
    table = common.commune_table(pkg.version, params, pkg)
    fmap = _build_map(opts, pkg, gaps, table, lang, partner)
    sig = hashlib.sha1(
        repr((sorted(opts.items()), lang, common.tiles(), pkg.version, params, partner)).encode()
    ).hexdigest()
    map_key = f"planners_map:{sig[:12]}"
    if "communes" in opts["layers"]:
        st.caption(t("map.click_hint", lang))
    if opts["former"]:
        st.caption(t("map.former_note", lang))
    common.show_map(fmap, key=map_key, returned=MAP_RETURNED, on_change=partial(_select_clicked, map_key))
    if opts["commune"]:
        _hamlet_table(gaps, opts["commune"], lang, "hamlets" in pkg.synthetic_layers)
