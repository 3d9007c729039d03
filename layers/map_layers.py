"""Thematic layers of the planning map: communes, choropleth, former units, hamlets, sites, fibre, coverage.

Every layer is written by :func:`layers.map_geojson.add_geojson`: compact (string tables, rounded
coordinates) and with every data value escaped (:func:`layers.map_geojson.html_text`), so names,
identifiers and explanations from a data package show as text in tooltips, popups and the layer
control, never as markup. Values are formatted for the language here (numbers, shares, labels).

All geometries are EPSG:4326 (lon/lat degrees). The public names are importable from
:mod:`layers.map` too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd

from layers.i18n import Lang, format_number, format_percent, t
from layers.map_geojson import (
    CompactGeoJson,
    FieldValues,
    LegendEntry,
    Parts,
    add_geojson,
    add_geojson_by_style,
    add_legend,
    html_text,
)

__all__ = [
    "COVERAGE_RGBA",
    "FLAG_COLOURS",
    "OPERATOR_COLOURS",
    "SEQUENTIAL",
    "SHARE_BREAKS",
    "add_choropleth",
    "add_commune_layer",
    "add_coverage_overlay",
    "add_fibre",
    "add_former_units",
    "add_hamlets",
    "add_sites",
    "class_breaks",
    "commune_label_columns",
    "coverage_png",
    "dissolve_former_units",
    "fibre_network_for_display",
    "flag_label",
    "flag_labels",
    "sites_from_cells",
]

#: Colour of a hamlet by its main flag ("" = no flag).
FLAG_COLOURS: dict[str, str] = {
    "NO_MOBILE_COVERAGE": "#d7191c",
    "WEAK_MOBILE_COVERAGE": "#fdae61",
    "NO_FIBRE_REACH": "#7b3294",
    "LOW_FTTH_TAKEUP": "#2c7bb6",
    "LOW_SMARTPHONE": "#e7298a",
    "": "#1a9641",
}
OPERATOR_COLOURS: dict[str, str] = {
    "Viettel": "#c62828",
    "VinaPhone": "#1565c0",
    "MobiFone": "#00897b",
    "Vietnamobile": "#f9a825",
    "Gmobile": "#6d4c41",
}
#: Coverage class code -> RGBA (classes of analysis.coverage_params.CLASS_NAMES: none, poor, fair, good).
COVERAGE_RGBA: dict[int, tuple[int, int, int, int]] = {
    0: (215, 25, 28, 150),
    1: (253, 174, 97, 150),
    2: (255, 255, 140, 140),
    3: (26, 150, 65, 140),
}
#: Fixed class edges of share choropleths (0–1): comparable between indicators and maps.
SHARE_BREAKS: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8, 0.9, 1.0)
#: Sequential palette (light -> dark) for choropleths.
SEQUENTIAL: tuple[str, ...] = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
_NO_DATA_COLOUR = "#d9d9d9"
_STATUS_KEYS = frozenset({"status.active", "status.planned"})
_T = TypeVar("_T")


# --------------------------------------------------------------------------- communes


def _has_text(communes: gpd.GeoDataFrame, column: str) -> bool:
    if column not in communes:
        return False
    return bool((communes[column].astype("string").fillna("").str.strip() != "").any())


def commune_label_columns(communes: gpd.GeoDataFrame, lang: Lang = "vi") -> dict[str, str]:
    """Tooltip fields naming a commune: column -> label.

    The commune's name, and its district when the layer has one; otherwise (the 2025-07 layout,
    no districts) the former district and province it came from, labelled as former units.
    """
    cols = {"commune_name": t("map.commune", lang)}
    if _has_text(communes, "district_name"):
        cols["district_name"] = t("map.district", lang)
        return cols
    for column in ("former_district", "former_province"):
        if _has_text(communes, column):
            cols[column] = t(f"group.{column}", lang)
    return cols


def _unit_list(value: object) -> str:
    """A naming value as plain text: ``;``-joined units as a comma-separated list, missing as ``""``."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return ", ".join(p.strip() for p in str(value).split(";") if p.strip())


def _commune_names(communes: gpd.GeoDataFrame, lang: Lang) -> dict[str, FieldValues]:
    """Label -> values of the fields naming each commune (:func:`commune_label_columns`)."""
    return {
        label: [_unit_list(v) for v in communes[column]]
        for column, label in commune_label_columns(communes, lang).items()
    }


def add_commune_layer(
    m: folium.Map,
    communes: gpd.GeoDataFrame,
    *,
    lang: Lang = "vi",
    name: str | None = None,
    style: dict[str, Any] | None = None,
) -> CompactGeoJson:
    """Add commune outlines (EPSG:4326) with a name/district/population tooltip.

    Parameters
    ----------
    m : folium.Map
    communes : GeoDataFrame
        Needs ``commune_name``; ``district_name``, or in the 2025-07 layout ``former_district`` /
        ``former_province`` (labelled as former units), and ``population``/``households`` when
        present. Text values are HTML-escaped.
    lang : {"vi", "en"}
    name : str, optional
        Layer name in the layer control (default: "Commune boundaries" translated).
    style : dict, optional
        Leaflet path style (colour, weight, fillOpacity).
    """
    fields = _commune_names(communes, lang)
    for column, key in (("population", "map.population"), ("households", "map.households")):
        if column in communes:
            fields[t(key, lang)] = [format_number(v, lang) for v in communes[column]]
    path_style = {"color": "#2b5d8a", "weight": 1, "fillColor": "#9ecae1", "fillOpacity": 0.35}
    path_style.update(style or {})
    return add_geojson(
        m,
        communes.geometry,
        fields,
        tooltip=list(fields),
        style=path_style,
        highlight={"weight": 3, "color": "#08306b"},
        name=name or t("map.communes", lang),
    )


def class_breaks(values: Any, *, n: int = 5) -> list[float]:
    """Quantile class breaks (``n + 1`` increasing edges) of the finite ``values``."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return [0.0, 1.0]
    edges = np.unique(np.quantile(arr, np.linspace(0, 1, n + 1)))
    if edges.size < 2:
        edges = np.array([edges[0], edges[0] + 1e-9])
    return [float(e) for e in edges]


def _bin_colour(value: float | None, edges: list[float]) -> str:
    if value is None or value != value:  # NaN
        return _NO_DATA_COLOUR
    for i in range(len(edges) - 1):
        if value <= edges[i + 1]:
            return SEQUENTIAL[min(i, len(SEQUENTIAL) - 1) if len(edges) > 2 else -1]
    return SEQUENTIAL[-1]


def add_choropleth(
    m: folium.Map,
    communes: gpd.GeoDataFrame,
    column: str,
    *,
    title: str,
    lang: Lang = "vi",
    share: bool = True,
    name: str | None = None,
) -> CompactGeoJson:
    """Communes coloured by ``column`` in quantile classes, with a tooltip and an HTML legend.

    Parameters
    ----------
    communes : GeoDataFrame
        EPSG:4326 polygons with ``commune_name``, ``column`` and the naming columns of
        :func:`commune_label_columns` (``district_name``, or the former units in the 2025-07 layout);
        their text is HTML-escaped in the tooltip.
    column : str
        Indicator to map; NaN is drawn grey ("no data").
    title : str
        Indicator label (legend title and tooltip field).
    share : bool, default True
        Values are shares 0–1 (shown as percentages) rather than counts.
    """

    def fmt(value: float) -> str:
        if value is None or value != value:
            return "—"
        return format_percent(value, lang) if share else format_number(value, lang, decimals=0)

    edges = list(SHARE_BREAKS) if share else class_breaks(communes[column])
    values = communes[column].astype(float)
    fields = _commune_names(communes, lang)
    fields[title] = [fmt(v) for v in values]
    style = {"color": "#3d3d3d", "weight": 0.7, "fillOpacity": 0.75}
    layer = add_geojson(
        m,
        communes.geometry,
        fields,
        tooltip=list(fields),
        style=[{**style, "fillColor": _bin_colour(v, edges)} for v in values],
        highlight={"weight": 3, "color": "#000000"},
        name=name or title,
    )
    entries = [
        LegendEntry(_bin_colour(edges[i + 1], edges), f"{fmt(edges[i])} – {fmt(edges[i + 1])}")
        for i in range(len(edges) - 1)
    ]
    if values.isna().any():
        entries.append(LegendEntry(_NO_DATA_COLOUR, t("map.no_data", lang)))
    add_legend(m, title, entries, position="bottomleft")
    return layer


# --------------------------------------------------------------------------- former units


def dissolve_former_units(
    communes: gpd.GeoDataFrame, groups: pd.DataFrame, keys: tuple[str, ...]
) -> gpd.GeoDataFrame:
    """Outlines of former units dissolved from the new communes (EPSG:4326).

    Parameters
    ----------
    communes : GeoDataFrame
        Commune polygons with ``commune_id``.
    groups : DataFrame
        :func:`analysis.grouping.assign_groups` (``commune_id`` and the one unit each commune
        counts in).
    keys : tuple of str
        The level's key columns (``("former_province",)`` or ``("former_province",
        "former_district")``, :func:`analysis.grouping.level_keys`).

    Returns
    -------
    GeoDataFrame
        One row per unit: the key columns, ``communes`` (how many new communes) and the dissolved
        geometry; communes that name no unit are left out. The outline is approximate where a
        commune took territory from several units (it counts whole in one).
    """
    from analysis.grouping import NO_GROUP

    frame = communes[["commune_id", "geometry"]].copy()
    frame["commune_id"] = frame["commune_id"].astype(str)
    frame = frame.merge(groups[["commune_id", *keys]], on="commune_id", how="left")
    named = frame[list(keys)].fillna(NO_GROUP).ne(NO_GROUP).all(axis=1)
    frame = frame[named]
    if frame.empty:
        return gpd.GeoDataFrame({**{k: [] for k in keys}, "communes": []}, geometry=[], crs=4326)
    out = frame.dissolve(by=list(keys), aggfunc={"commune_id": "count"}).reset_index()
    out = out.rename(columns={"commune_id": "communes"})
    return gpd.GeoDataFrame(out, geometry="geometry", crs=communes.crs).to_crs(4326)


def add_former_units(
    m: folium.Map, outlines: gpd.GeoDataFrame, *, level: str, lang: Lang = "vi"
) -> CompactGeoJson:
    """Former provinces or districts as a dashed overlay labelled "former" (2025-07 layout).

    Parameters
    ----------
    outlines : GeoDataFrame
        :func:`dissolve_former_units` (EPSG:4326).
    level : {"former_province", "former_district"}
        Which former unit; its name is shown as "Huyện Trà Cú (former)", HTML-escaped.
    """
    label = t(f"group.{level}", lang)
    fields: dict[str, FieldValues] = {label: [t("group.former_unit", lang, name=v) for v in outlines[level]]}
    if level == "former_district" and "former_province" in outlines:
        fields[t("group.former_province", lang)] = list(outlines["former_province"])
    fields[t("map.new_communes", lang)] = [format_number(n, lang) for n in outlines["communes"]]
    return add_geojson(
        m,
        outlines.geometry,
        fields,
        tooltip=list(fields),
        style={"color": "#6a3d00", "weight": 2.5, "dashArray": "8 6", "fill": False},
        name=t("map.former_layer", lang, level=label),
        interactive=True,
    )


# --------------------------------------------------------------------------- hamlets


def flag_label(flag: str, lang: Lang = "vi") -> str:
    """Human label of a gap flag (``""`` = no flag)."""
    return t(f"flag.{flag}" if flag else "flag.none", lang)


def flag_labels(flags: object, lang: Lang = "vi") -> str:
    """Labels of ``;``-joined flags, comma-separated (``—`` when none)."""
    items = [f for f in str(flags or "").split(";") if f]
    return ", ".join(flag_label(f, lang) for f in items) if items else "—"


def _explanation_parts(name: object, text: object) -> list[str]:
    """The reasons of a hamlet's explanation, without the leading ``"<hamlet name>: "``.

    The popup names the hamlet on its first line; the reasons repeat across hamlets and are sent
    once each (:class:`layers.map_geojson.Parts`).
    """
    if text is None or (isinstance(text, float) and text != text):
        return []
    body, prefix = str(text), f"{name}: "
    if body.startswith(prefix):
        body = body[len(prefix) :]
    return body.split("; ")


def add_hamlets(
    m: folium.Map, hamlets: gpd.GeoDataFrame, *, lang: Lang = "vi", synthetic: bool = True
) -> folium.FeatureGroup:
    """Hamlet points coloured by their main gap flag, with a popup of values and the explanation.

    One layer per flag colour in a feature group (:func:`layers.map_geojson.add_geojson_by_style`),
    the most severe flag drawn on top.

    Parameters
    ----------
    hamlets : GeoDataFrame
        :func:`analysis.gaps.compute_gaps` rows (EPSG:4326): ``hamlet_name``, ``commune_name``,
        ``households``, ``main_flag``, indicator shares and ``explanation_vi``/``explanation_en``.
        Every text is shown escaped.
    synthetic : bool
        Label the layer "(synthetic)".
    """
    severity = {flag: rank for rank, flag in enumerate(reversed(FLAG_COLOURS))}  # no flag first
    main_flags = [str(f or "") for f in hamlets["main_flag"].tolist()]
    order = sorted(range(len(main_flags)), key=lambda i: severity.get(main_flags[i], 0))
    hamlets = hamlets.iloc[order]
    main_flags = [main_flags[i] for i in order]
    names = hamlets["hamlet_name"].tolist()
    explanation = hamlets["explanation_en" if lang == "en" else "explanation_vi"].tolist()
    fields: dict[str, FieldValues] = {
        t("map.hamlet", lang): names,
        t("map.commune", lang): hamlets["commune_name"].tolist(),
        t("map.households", lang): _formatted(
            hamlets["households"].tolist(), lambda v: format_number(v, lang)
        ),
        t("ind.good_4g", lang): _percents(hamlets["share_hh_good_4g"], lang),
        t("ind.ftth", lang): _percents(hamlets["ftth_share"], lang),
        t("ind.smartphone", lang): _percents(hamlets["smartphone_share"], lang),
        t("map.flags", lang): _formatted(hamlets["flags"].tolist(), lambda f: flag_labels(f, lang)),
        t("map.explanation", lang): Parts(
            [_explanation_parts(n, e) for n, e in zip(names, explanation, strict=True)]
        ),
    }
    labels = list(fields)
    name = t("map.hamlets", lang) + (f" {t('map.synthetic_suffix', lang)}" if synthetic else "")
    group = folium.FeatureGroup(name=html_text(name))
    add_geojson_by_style(
        group,
        hamlets.geometry.representative_point(),
        fields,
        tooltip=labels[:2],
        popup=labels,
        style=_formatted(main_flags, lambda f: {"fillColor": FLAG_COLOURS.get(f, FLAG_COLOURS[""])}),
        marker=folium.CircleMarker(radius=5, weight=1, color="#222222", fill=True, fill_opacity=0.9),
    )
    group.add_to(m)
    present = set(main_flags)
    entries = [
        LegendEntry(colour, flag_label(flag, lang))
        for flag, colour in FLAG_COLOURS.items()
        if flag in present
    ]
    add_legend(m, name, entries, position="bottomright")
    return group


def _percents(shares: pd.Series, lang: Lang) -> list[str]:
    return [format_percent(v, lang) for v in shares.astype(float).tolist()]


def _formatted(values: list[Any], fmt: Callable[[Any], _T]) -> list[_T]:
    """``fmt`` of each value, computed once per distinct value (the same object for repeats)."""
    done: dict[Any, _T] = {}
    out = []
    for value in values:
        try:
            found = done[value]
        except KeyError:
            found = done[value] = fmt(value)
        except TypeError:  # unhashable
            found = fmt(value)
        out.append(found)
    return out


# --------------------------------------------------------------------------- sites


def sites_from_cells(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per site (EPSG:4326 point).

    Columns: ``site_id``, ``operator``, ``technologies`` ("2G/4G"), ``status``, ``cells``.
    """
    grouped = cells.groupby("site_id", sort=True)
    first = grouped.first()
    techs = grouped["technology"].agg(lambda s: "/".join(sorted({str(v) for v in s})))
    status = grouped["status"].agg(
        lambda s: "active" if (s.astype(str) == "active").any() else str(s.iloc[0])
    )
    out = gpd.GeoDataFrame(
        {
            "site_id": first.index.astype(str),
            "operator": first["operator"].astype(str).to_numpy(),
            "technologies": techs.to_numpy(),
            "status": status.to_numpy(),
            "cells": grouped.size().to_numpy(),
        },
        geometry=gpd.GeoSeries(first.geometry.to_numpy(), crs=cells.crs).to_crs(4326).to_numpy(),
        crs=4326,
    )
    return out.reset_index(drop=True)


def add_sites(
    m: folium.Map, sites: gpd.GeoDataFrame, *, lang: Lang = "vi", synthetic: bool = True, cluster: bool = True
) -> list[folium.FeatureGroup]:
    """Base-station sites, one layer per operator, clustered at low zoom (vendored markercluster).

    Parameters
    ----------
    sites : GeoDataFrame
        :func:`sites_from_cells` rows (EPSG:4326). Identifiers, operators, technologies and
        statuses are shown escaped.
    """
    groups = []
    suffix = f" {t('map.synthetic_suffix', lang)}" if synthetic else ""
    for operator, frame in sites.groupby("operator", sort=True):
        colour = OPERATOR_COLOURS.get(str(operator), "#555555")
        group = folium.FeatureGroup(name=html_text(f"{t('map.sites', lang)}: {operator}{suffix}"))
        parent: Any = (
            folium.plugins.MarkerCluster(
                options={"disableClusteringAtZoom": 13, "maxClusterRadius": 50}
            ).add_to(group)
            if cluster
            else group
        )
        fields: dict[str, FieldValues] = {
            t("map.site", lang): list(frame["site_id"]),
            t("map.operator", lang): list(frame["operator"]),
            t("map.technology", lang): list(frame["technologies"]),
            t("map.status", lang): [
                t(f"status.{s}", lang) if f"status.{s}" in _STATUS_KEYS else s for s in frame["status"]
            ],
        }
        add_geojson(
            parent,
            frame.geometry,
            fields,
            tooltip=list(fields),
            marker=folium.CircleMarker(
                radius=4, weight=1, color="#ffffff", fill=True, fill_color=colour, fill_opacity=0.95
            ),
        )
        group.add_to(m)
        groups.append(group)
    return groups


# --------------------------------------------------------------------------- fibre


def fibre_network_for_display(routes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The cable network to draw: every route merged into one geometry, shared stretches once.

    Routes that follow the same roads overlap; their union (noded, then merged into maximal lines)
    draws the same network with a fraction of the vertices (about 1/5 on the bundled province)
    and as one map object. For display only: the analysis keeps every route.

    Parameters
    ----------
    routes : GeoDataFrame
        Fibre routes (any CRS).

    Returns
    -------
    GeoDataFrame
        One row (none when ``routes`` is empty), EPSG:4326, no attributes.
    """
    import shapely

    lines = routes.to_crs(4326).geometry.values
    lines = lines[~(shapely.is_missing(lines) | shapely.is_empty(lines))]
    if len(lines) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    network = shapely.line_merge(shapely.union_all(lines))
    return gpd.GeoDataFrame(geometry=[network], crs=4326)


def add_fibre(
    m: folium.Map,
    *,
    nodes: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    plan_routes: gpd.GeoDataFrame | None,
    lang: Lang = "vi",
    synthetic: bool = True,
) -> None:
    """Fibre access nodes, existing cable routes and the planned extension (dashed).

    ``routes`` are drawn as given, without a tooltip: pass :func:`fibre_network_for_display` of
    them (cached by the caller) to send the network once. Node identifiers, names, operators and
    types and plan route identifiers are shown escaped.
    """
    suffix = f" {t('map.synthetic_suffix', lang)}" if synthetic else ""
    if routes is not None and not routes.empty:
        add_geojson(
            m,
            routes.to_crs(4326).geometry,
            {},
            style={"color": "#6a3d9a", "weight": 2, "opacity": 0.8},
            name=t("map.fibre_routes", lang) + suffix,
        )
    if plan_routes is not None and not plan_routes.empty:
        plan = plan_routes.to_crs(4326)
        fields: dict[str, FieldValues] = {}
        if "route_id" in plan:
            fields[t("col.route_id", lang)] = list(plan["route_id"])
        if "length_m" in plan:
            fields[t("col.length_m", lang)] = [format_number(v, lang) for v in plan["length_m"]]
        add_geojson(
            m,
            plan.geometry,
            fields,
            tooltip=list(fields),
            style={"color": "#ff7f00", "weight": 3, "dashArray": "6 4"},
            name=t("map.fibre_plan", lang),
        )
    if nodes is not None and not nodes.empty:
        data = nodes.to_crs(4326)
        node_fields: dict[str, FieldValues] = {
            t(f"col.{c}", lang): list(data[c])
            for c in ("node_id", "name", "operator", "node_type")
            if c in data
        }
        add_geojson(
            m,
            data.geometry,
            node_fields,
            tooltip=list(node_fields),
            marker=folium.CircleMarker(
                radius=3, weight=1, color="#3f007d", fill=True, fill_color="#9e9ac8", fill_opacity=1.0
            ),
            name=t("map.fibre_nodes", lang) + suffix,
            show=False,
        )


# --------------------------------------------------------------------------- coverage


def coverage_png(
    classes: Any, *, transform: Any, crs: Any, max_width_px: int = 900
) -> tuple[bytes, tuple[float, float, float, float]]:
    """Colour a coverage-class raster and warp it to EPSG:4326 for a map overlay.

    Parameters
    ----------
    classes : ndarray of uint8
        Class codes (0 none … 3 good), 255 outside the province, on a metric grid.
    transform : affine.Affine
        Pixel-to-CRS transform of ``classes``.
    crs : pyproj.CRS
        Metric CRS of the grid.
    max_width_px : int
        Width of the warped image (nearest-neighbour), which bounds the payload.

    Returns
    -------
    (bytes, (minx, miny, maxx, maxy))
        PNG bytes and the image bounds in degrees.
    """
    import io

    import numpy as np
    from affine import Affine
    from PIL import Image
    from rasterio.crs import CRS as RioCRS
    from rasterio.warp import Resampling, reproject, transform_bounds

    rows, cols = classes.shape
    left, top = transform.c, transform.f
    right, bottom = left + cols * transform.a, top + rows * transform.e
    src_crs = RioCRS.from_wkt(crs.to_wkt())
    minx, miny, maxx, maxy = transform_bounds(src_crs, "EPSG:4326", left, bottom, right, top)
    width = min(max_width_px, cols)
    height = max(1, round(width * (maxy - miny) / (maxx - minx)))
    dst = np.full((height, width), 255, dtype=np.uint8)
    reproject(
        np.ascontiguousarray(classes, dtype=np.uint8),
        dst,
        src_transform=transform,
        src_crs=src_crs,
        dst_transform=Affine((maxx - minx) / width, 0.0, minx, 0.0, -(maxy - miny) / height, maxy),
        dst_crs="EPSG:4326",
        src_nodata=255,
        dst_nodata=255,
        resampling=Resampling.nearest,
    )
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    for code, colour in COVERAGE_RGBA.items():
        rgba[dst == code] = colour
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
    return buf.getvalue(), (minx, miny, maxx, maxy)


def add_coverage_overlay(
    m: folium.Map, png: bytes, bounds_deg: tuple[float, float, float, float], *, title: str, lang: Lang = "vi"
) -> None:
    """Add a coverage PNG (from :func:`coverage_png`) as an image overlay with a legend."""
    minx, miny, maxx, maxy = bounds_deg
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    folium.raster_layers.ImageOverlay(
        image=uri,
        bounds=[[miny, minx], [maxy, maxx]],
        name=html_text(title),
        opacity=0.8,
        interactive=False,
    ).add_to(m)
    entries = [
        LegendEntry("#{:02x}{:02x}{:02x}".format(*rgba[:3]), t(f"coverage.{name}", lang))
        for (_code, rgba), name in zip(COVERAGE_RGBA.items(), ("none", "poor", "fair", "good"), strict=True)
    ][::-1]
    add_legend(m, title, entries, position="topleft")
