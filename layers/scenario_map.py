"""The scenario map: where good 4G was gained or lost, new and removed sites, hamlets whose flags changed.

A scenario is drawn over the same commune outlines and hamlet flags as the planners' map:

* a difference overlay (:func:`coverage_change_png`, :func:`add_coverage_change`): pixels that reach
  good 4G only after the scenario in green, pixels that lose it in red, everything else transparent;
  the image is cropped to the pixels that changed, so it stays small and sharp;
* planned sites (:func:`add_new_sites`) as large magenta markers with a black ring, unlike the
  small operator-coloured dots of existing sites, and removed or switched-off sites
  (:func:`add_removed_sites`) as hollow grey markers with a dashed red ring;
* hamlets whose flags cleared (green ring) or appeared (red ring) (:func:`add_flag_changes`);
* a site proposal not yet added to the scenario (:func:`add_proposed_sites`): its sites as large
  white markers with a dashed magenta ring and their rank, the candidate locations it did not
  choose (:func:`add_candidates`) as small grey dots.

Every layer is written by :func:`layers.map_geojson.add_geojson`: data is text, never markup.
All geometries are EPSG:4326 (lon/lat degrees). Pure functions: no Streamlit here.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from numpy.typing import NDArray

from analysis.coverage_params import CLASS_NAMES
from layers.i18n import Lang, format_number, t
from layers.map import (
    TileSource,
    add_commune_layer,
    add_hamlets,
    add_sites,
    base_map,
    flag_labels,
    localize_assets,
    sites_from_cells,
)
from layers.map_geojson import FieldValues, LegendEntry, add_geojson, add_legend, html_text

__all__ = [
    "CHANGE_RGBA",
    "GAINED",
    "GOOD_CLASS",
    "LOST",
    "CANDIDATE_COLOUR",
    "NEW_SITE_COLOUR",
    "REMOVED_SITE_COLOUR",
    "UNCHANGED",
    "add_candidates",
    "add_coverage_change",
    "add_flag_changes",
    "add_new_sites",
    "add_proposed_sites",
    "add_removed_sites",
    "coverage_change_codes",
    "coverage_change_png",
    "flag_change_points",
    "scenario_map",
]

#: Class code of "good" coverage (:data:`analysis.coverage_params.CLASS_NAMES`).
GOOD_CLASS = CLASS_NAMES.index("good")
#: Codes of :func:`coverage_change_codes`; 255 is outside the province.
UNCHANGED, GAINED, LOST, OUTSIDE = 0, 1, 2, 255
#: Change code -> RGBA of the difference overlay (unchanged and outside are transparent).
CHANGE_RGBA: dict[int, tuple[int, int, int, int]] = {GAINED: (0, 170, 60, 210), LOST: (215, 25, 28, 210)}
NEW_SITE_COLOUR = "#d400d4"
REMOVED_SITE_COLOUR = "#7f7f7f"
CANDIDATE_COLOUR = "#4d4d4d"
_CLEARED_COLOUR = "#00a03c"
_NEW_FLAG_COLOUR = "#d7191c"


# --------------------------------------------------------------------------- coverage difference


def coverage_change_codes(
    before: NDArray[np.integer], after: NDArray[np.integer], *, good_class: int = GOOD_CLASS
) -> NDArray[np.uint8]:
    """Where a pixel gained or lost good coverage.

    Parameters
    ----------
    before, after : ndarray of uint8
        Class rasters on the same grid (0 none … 3 good, 255 outside the province).
    good_class : int
        Class code of "good" (pixels at or above it count as good).

    Returns
    -------
    ndarray of uint8
        :data:`GAINED` (1) where ``after`` is good and ``before`` was not, :data:`LOST` (2) the other
        way round, :data:`UNCHANGED` (0) elsewhere inside, 255 where either raster is outside.
    """
    b, a = np.asarray(before), np.asarray(after)
    if b.shape != a.shape:
        raise ValueError(f"rasters of different shapes: {b.shape} and {a.shape}")
    outside = (b == OUTSIDE) | (a == OUTSIDE)
    good_b, good_a = (b >= good_class) & ~outside, (a >= good_class) & ~outside
    codes = np.zeros(b.shape, dtype=np.uint8)
    codes[good_a & ~good_b] = GAINED
    codes[good_b & ~good_a] = LOST
    codes[outside] = OUTSIDE
    return codes


def coverage_change_png(
    before: NDArray[np.integer],
    after: NDArray[np.integer],
    *,
    transform: Affine,
    crs: Any,
    good_class: int = GOOD_CLASS,
    max_width_px: int = 1200,
    margin_px: int = 4,
) -> tuple[bytes, tuple[float, float, float, float], dict[str, int]] | None:
    """The difference overlay as a PNG warped to EPSG:4326, cropped to the pixels that changed.

    Parameters
    ----------
    before, after : ndarray of uint8
        Class rasters on the metric grid (see :func:`coverage_change_codes`).
    transform : affine.Affine
        Pixel-to-CRS transform of the rasters.
    crs : pyproj.CRS
        Metric CRS of the grid.
    good_class : int
        Class code of "good".
    max_width_px : int
        Width limit of the warped image (nearest neighbour).
    margin_px : int
        Grid pixels kept around the changed ones.

    Returns
    -------
    (bytes, (minx, miny, maxx, maxy), counts) or None
        PNG bytes, the image bounds in degrees and the number of grid pixels ``gained`` and
        ``lost``; None when no pixel changed.
    """
    from rasterio.crs import CRS as RioCRS
    from rasterio.warp import Resampling, reproject, transform_bounds

    codes = coverage_change_codes(before, after, good_class=good_class)
    changed = (codes == GAINED) | (codes == LOST)
    if not changed.any():
        return None
    counts = {"gained": int((codes == GAINED).sum()), "lost": int((codes == LOST).sum())}
    rows = np.flatnonzero(changed.any(axis=1))
    cols = np.flatnonzero(changed.any(axis=0))
    r0, r1 = max(0, int(rows[0]) - margin_px), min(codes.shape[0], int(rows[-1]) + 1 + margin_px)
    c0, c1 = max(0, int(cols[0]) - margin_px), min(codes.shape[1], int(cols[-1]) + 1 + margin_px)
    crop = np.ascontiguousarray(codes[r0:r1, c0:c1])
    crop[crop == UNCHANGED] = OUTSIDE  # transparent either way; nodata for the warp
    src_transform = transform @ Affine.translation(c0, r0)
    height_px, width_px = crop.shape
    left, top = src_transform.c, src_transform.f
    right, bottom = left + width_px * src_transform.a, top + height_px * src_transform.e
    src_crs = RioCRS.from_wkt(crs.to_wkt())
    minx, miny, maxx, maxy = transform_bounds(src_crs, "EPSG:4326", left, bottom, right, top)
    width = max(1, min(max_width_px, width_px))
    height = max(1, round(width * (maxy - miny) / (maxx - minx)))
    dst = np.full((height, width), OUTSIDE, dtype=np.uint8)
    reproject(
        crop,
        dst,
        src_transform=src_transform,
        src_crs=src_crs,
        dst_transform=Affine((maxx - minx) / width, 0.0, minx, 0.0, -(maxy - miny) / height, maxy),
        dst_crs="EPSG:4326",
        src_nodata=OUTSIDE,
        dst_nodata=OUTSIDE,
        resampling=Resampling.nearest,
    )
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    for code, colour in CHANGE_RGBA.items():
        rgba[dst == code] = colour
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
    return buf.getvalue(), (minx, miny, maxx, maxy), counts


def add_coverage_change(
    m: folium.Map,
    png: bytes,
    bounds_deg: tuple[float, float, float, float],
    *,
    lang: Lang = "vi",
    title: str | None = None,
) -> None:
    """Add the difference overlay of :func:`coverage_change_png` with its legend.

    ``title``: the layer's and legend's title (default "Change in good 4G coverage"; a partner's
    overlay of its own operator's classes says whose it is).
    """
    minx, miny, maxx, maxy = bounds_deg
    title = title or t("scn.map_change", lang)
    folium.raster_layers.ImageOverlay(
        image="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        bounds=[[miny, minx], [maxy, maxx]],
        name=html_text(title),
        opacity=0.85,
        interactive=False,
    ).add_to(m)
    entries = [
        LegendEntry("#{:02x}{:02x}{:02x}".format(*CHANGE_RGBA[GAINED][:3]), t("scn.map_gained", lang)),
        LegendEntry("#{:02x}{:02x}{:02x}".format(*CHANGE_RGBA[LOST][:3]), t("scn.map_lost", lang)),
    ]
    add_legend(m, title, entries, position="topleft")


# --------------------------------------------------------------------------- sites


def _site_fields(sites: gpd.GeoDataFrame, change: Sequence[str], lang: Lang) -> dict[str, FieldValues]:
    return {
        t("map.site", lang): list(sites["site_id"]),
        t("map.operator", lang): list(sites["operator"]),
        t("map.technology", lang): list(sites["technologies"]),
        t("scn.map_change_kind", lang): list(change),
    }


def add_new_sites(m: folium.Map, cells: gpd.GeoDataFrame, *, lang: Lang = "vi") -> None:
    """Planned sites of the scenario: one large magenta marker per site, with a tooltip.

    Parameters
    ----------
    cells : GeoDataFrame
        The added cells (``towers/sites.csv`` rows with ``site_id``, ``operator``, ``technology``,
        ``status`` and point geometry, any CRS). Identifiers are shown escaped.
    """
    if cells is None or cells.empty:
        return
    sites = sites_from_cells(cells)
    fields = _site_fields(sites, [t("scn.change_new", lang)] * len(sites), lang)
    add_geojson(
        m,
        sites.geometry,
        fields,
        tooltip=list(fields),
        marker=folium.CircleMarker(
            radius=9, weight=3, color="#000000", fill=True, fill_color=NEW_SITE_COLOUR, fill_opacity=1.0
        ),
        name=t("scn.map_new_sites", lang),
    )


def add_removed_sites(
    m: folium.Map, cells: gpd.GeoDataFrame, *, lang: Lang = "vi", cluster_above: int = 200
) -> None:
    """Removed or switched-off sites: hollow grey markers with a dashed red ring.

    Parameters
    ----------
    cells : GeoDataFrame
        The package's cells that the scenario removes or switches off, with a ``change`` column
        (``"removed"`` or ``"switched_off"``, as :func:`layers.scenario_export.scenario_layers`
        writes it). A site is listed with the technologies of its affected cells.
    cluster_above : int
        Cluster the markers at low zoom when there are more sites than this (a switch-off).
    """
    if cells is None or cells.empty:
        return
    sites = sites_from_cells(cells)
    change = cells.groupby(cells["site_id"].astype(str), sort=True)["change"].agg(
        lambda s: "removed" if (s == "removed").any() else "switched_off"
    )
    kinds = change.reindex(sites["site_id"].astype(str)).fillna("removed")
    labels = [t(f"scn.change_{k}", lang) for k in kinds]
    name = t("scn.map_removed_sites", lang)
    group = folium.FeatureGroup(name=html_text(name))
    parent: Any = (
        folium.plugins.MarkerCluster(options={"disableClusteringAtZoom": 13, "maxClusterRadius": 50}).add_to(
            group
        )
        if len(sites) > cluster_above
        else group
    )
    fields = _site_fields(sites, labels, lang)
    add_geojson(
        parent,
        sites.geometry,
        fields,
        tooltip=list(fields),
        marker=folium.CircleMarker(
            radius=7,
            weight=2.5,
            color=_NEW_FLAG_COLOUR,
            dash_array="3 3",
            fill=True,
            fill_color=REMOVED_SITE_COLOUR,
            fill_opacity=0.35,
        ),
    )
    group.add_to(m)


def add_proposed_sites(m: folium.Map, cells: gpd.GeoDataFrame, *, lang: Lang = "vi") -> None:
    """Sites of a proposal not yet in the scenario: large white markers with a dashed magenta ring
    (a planned site is filled magenta), with a tooltip.

    Parameters
    ----------
    cells : GeoDataFrame
        The proposed cells (``towers/sites.csv`` rows, any CRS) with the plan's ``plan_rank``,
        ``kind`` and ``marginal_gain_households`` on each cell of a site.
    """
    if cells is None or cells.empty:
        return
    first = cells.drop_duplicates("site_id")
    sites = sites_from_cells(cells)
    rows = first.set_index(first["site_id"].astype(str)).reindex(sites["site_id"].astype(str))
    kinds = {"shared-mast": t("scn.propose.kind_shared", lang), "new-mast": t("scn.propose.kind_new", lang)}
    fields: dict[str, FieldValues] = {
        t("map.site", lang): list(sites["site_id"]),
        t("map.operator", lang): list(sites["operator"]),
        t("scn.propose.col_rank", lang): [format_number(v, lang) for v in rows["plan_rank"]],
        t("scn.propose.col_kind", lang): [kinds.get(str(k), str(k)) for k in rows["kind"]],
        t("scn.propose.col_gain", lang): [
            format_number(v, lang, decimals=1) for v in rows["marginal_gain_households"]
        ],
    }
    add_geojson(
        m,
        sites.geometry,
        fields,
        tooltip=list(fields),
        marker=folium.CircleMarker(
            radius=10,
            weight=3,
            color=NEW_SITE_COLOUR,
            dash_array="4 3",
            fill=True,
            fill_color="#ffffff",
            fill_opacity=0.85,
        ),
        name=t("scn.propose.map_sites", lang),
    )


def add_candidates(m: folium.Map, candidates: gpd.GeoDataFrame, *, lang: Lang = "vi") -> None:
    """Candidate locations of a proposal: small grey dots, with what each would bring alone.

    Parameters
    ----------
    candidates : GeoDataFrame
        :attr:`analysis.site_planning.SitePlan.candidates` rows (``kind``,
        ``gain_alone_households``; any CRS). Drawn under the other sites, hidden at first in the
        layer control when there are more than 300.
    """
    if candidates is None or candidates.empty:
        return
    points = candidates.to_crs(4326) if candidates.crs is not None else candidates
    kinds = {"shared-mast": t("scn.propose.kind_shared", lang), "new-mast": t("scn.propose.kind_new", lang)}
    fields: dict[str, FieldValues] = {
        t("scn.propose.col_kind", lang): [kinds.get(str(k), str(k)) for k in points["kind"]],
        t("scn.propose.map_gain_alone", lang): [
            format_number(v, lang, decimals=1) for v in points["gain_alone_households"]
        ],
    }
    add_geojson(
        m,
        points.geometry,
        fields,
        tooltip=list(fields),
        marker=folium.CircleMarker(
            radius=3, weight=1, color=CANDIDATE_COLOUR, fill=True, fill_color="#bdbdbd", fill_opacity=0.9
        ),
        name=t("scn.propose.map_candidates", lang),
        show=len(points) <= 300,
    )


# --------------------------------------------------------------------------- hamlets


def flag_change_points(hamlets: pd.DataFrame, geometry: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hamlets whose flags cleared or appeared, at a point of each hamlet (EPSG:4326).

    Parameters
    ----------
    hamlets : DataFrame
        The scenario's hamlet table (:func:`analysis.scenario.compare.compare_hamlets`:
        ``hamlet_id``, ``hamlet_name``, ``commune_name``, ``flags_before``, ``flags_after``,
        ``flags_cleared``, ``flags_new``).
    geometry : GeoDataFrame
        The package's hamlets with ``hamlet_id`` and their geometry (any CRS).

    Returns
    -------
    GeoDataFrame
        The rows with a cleared or new flag, in ``hamlets`` order, with a representative point.
    """
    moved = (hamlets["flags_cleared"].fillna("") != "") | (hamlets["flags_new"].fillna("") != "")
    rows = hamlets[moved].reset_index(drop=True)
    geom = geometry.set_index(geometry["hamlet_id"].astype(str)).geometry
    points = gpd.GeoSeries(
        geom.reindex(rows["hamlet_id"].astype(str)).to_numpy(), crs=geometry.crs
    ).representative_point()
    return gpd.GeoDataFrame(rows, geometry=points.to_numpy(), crs=geometry.crs).to_crs(4326)


def add_flag_changes(m: folium.Map, changes: gpd.GeoDataFrame, *, lang: Lang = "vi") -> None:
    """Rings around hamlets whose flags cleared (green) or appeared (red), with a tooltip.

    Parameters
    ----------
    changes : GeoDataFrame
        :func:`flag_change_points` rows (EPSG:4326). Names are shown escaped. A hamlet with both a
        cleared and a new flag gets both rings.
    """
    if changes is None or changes.empty:
        return
    title = t("scn.map_flag_changes", lang)
    group = folium.FeatureGroup(name=html_text(title))
    for column, colour, radius in (
        ("flags_cleared", _CLEARED_COLOUR, 13),
        ("flags_new", _NEW_FLAG_COLOUR, 17),
    ):
        rows = changes[changes[column].fillna("") != ""]
        if rows.empty:
            continue
        fields: dict[str, FieldValues] = {
            t("map.hamlet", lang): list(rows["hamlet_name"]),
            t("map.commune", lang): list(rows["commune_name"]),
            t("scn.col_flags_before", lang): [flag_labels(f, lang) for f in rows["flags_before"]],
            t("scn.col_flags_after", lang): [flag_labels(f, lang) for f in rows["flags_after"]],
        }
        add_geojson(
            group,
            rows.geometry,
            fields,
            tooltip=list(fields),
            marker=folium.CircleMarker(radius=radius, weight=4, color=colour, fill=False),
        )
    group.add_to(m)
    add_legend(
        m,
        title,
        [
            LegendEntry(_CLEARED_COLOUR, t("scn.map_cleared", lang)),
            LegendEntry(_NEW_FLAG_COLOUR, t("scn.map_new_flags", lang)),
            LegendEntry(NEW_SITE_COLOUR, t("scn.map_new_sites", lang)),
            LegendEntry(REMOVED_SITE_COLOUR, t("scn.map_removed_sites", lang)),
        ],
        position="topright",
    )


# --------------------------------------------------------------------------- the map


def scenario_map(
    communes: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame,
    *,
    sites: gpd.GeoDataFrame | None = None,
    new_cells: gpd.GeoDataFrame | None = None,
    removed_cells: gpd.GeoDataFrame | None = None,
    flag_changes: gpd.GeoDataFrame | None = None,
    change_overlay: tuple[bytes, tuple[float, float, float, float]] | None = None,
    change_title: str | None = None,
    proposed_cells: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    tiles: TileSource | None = None,
    lang: Lang = "vi",
    synthetic: Sequence[str] = (),
) -> folium.Map:
    """The scenario map, offline-safe (all assets inlined).

    Parameters
    ----------
    communes : GeoDataFrame
        Commune polygons for display (EPSG:4326, already simplified).
    hamlets : GeoDataFrame
        Gap-table rows to draw by main flag (:func:`layers.map.add_hamlets`): the baseline's, or
        the scenario's after-state once evaluated.
    sites : GeoDataFrame, optional
        Existing sites (:func:`layers.map.sites_from_cells`), drawn small and clustered.
    new_cells, removed_cells : GeoDataFrame, optional
        See :func:`add_new_sites` and :func:`add_removed_sites`.
    flag_changes : GeoDataFrame, optional
        :func:`flag_change_points`.
    change_overlay : (bytes, bounds), optional
        The PNG and bounds of :func:`coverage_change_png`.
    change_title : str, optional
        Title of the difference overlay (see :func:`add_coverage_change`).
    proposed_cells, candidates : GeoDataFrame, optional
        A site proposal not yet added (see :func:`add_proposed_sites` and :func:`add_candidates`).
    tiles : TileSource, optional
    lang : {"vi", "en"}
    synthetic : sequence of str
        The package's synthetic layers (hamlets and sites are labelled so).
    """
    m = base_map(tuple(communes.total_bounds), tiles=tiles, lang=lang)
    add_commune_layer(m, communes, lang=lang, style={"fillOpacity": 0.08, "weight": 0.8})
    if change_overlay is not None:
        add_coverage_change(m, *change_overlay, lang=lang, title=change_title)
    if sites is not None and not sites.empty:
        add_sites(m, sites, lang=lang, synthetic="towers" in synthetic)
    if candidates is not None:
        add_candidates(m, candidates, lang=lang)
    add_hamlets(m, hamlets, lang=lang, synthetic="hamlets" in synthetic)
    if removed_cells is not None:
        add_removed_sites(m, removed_cells, lang=lang)
    if flag_changes is not None:
        add_flag_changes(m, flag_changes, lang=lang)
    if new_cells is not None:
        add_new_sites(m, new_cells, lang=lang)
    if proposed_cells is not None:
        add_proposed_sites(m, proposed_cells, lang=lang)
    folium.LayerControl(collapsed=True).add_to(m)
    return localize_assets(m)
