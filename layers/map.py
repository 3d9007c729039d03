"""Folium maps that work offline: vendored Leaflet assets, configurable basemap, display geometry.

Folium points every map at CDNs (Leaflet, jQuery, Bootstrap, Font Awesome, …). Provincial intranets
have no internet, so :func:`localize_assets` replaces each asset of every element of a map with the
file vendored in ``layers/assets`` (see its README), inlined as a ``data:`` URI. Inlining reaches both
Streamlit's component iframe (streamlit-folium loads ``default_js``/``default_css`` by URL) and
standalone HTML exports, with no web server involved. An asset that is not vendored raises
:class:`~geo.errors.OfflineAssetError`; a map never silently falls back to a CDN.

Basemap tiles are off by default (offline). :func:`tiles_from_setting` accepts ``"none"``,
``"osm"`` (OpenStreetMap, online) or any ``http(s)://…/{z}/{x}/{y}…`` template, e.g. a local tile
server; the app reads the ``PHUSONG_TILES`` environment variable and a settings widget.

All geometries are EPSG:4326 (lon/lat degrees).
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import branca
import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import OfflineAssetError, ParameterError
from layers.i18n import Lang, format_number, t

log = logging.getLogger(__name__)

__all__ = [
    "ASSETS_DIR",
    "TILES_ENV",
    "TileSource",
    "add_commune_layer",
    "add_former_units",
    "asset_data_uri",
    "commune_label_columns",
    "dissolve_former_units",
    "base_map",
    "external_asset_urls",
    "localize_assets",
    "province_map",
    "simplify_for_display",
    "tiles_from_env",
    "tiles_from_setting",
]

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
TILES_ENV = "PHUSONG_TILES"
TILES_ATTRIBUTION_ENV = "PHUSONG_TILES_ATTRIBUTION"

#: folium asset name -> vendored file (relative to ``ASSETS_DIR``).
VENDORED: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "jquery": "jquery/jquery.min.js",
    "markerclusterjs": "markercluster/leaflet.markercluster.js",
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
}

#: folium's default assets that PhuSong maps do not use (no awesome-markers icons, no Bootstrap).
DROPPED: frozenset[str] = frozenset(
    {
        "bootstrap",
        "awesome_markers",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)

_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTRIBUTION = "© OpenStreetMap contributors"
_SOURCE_MAP_RE = re.compile(r"^\s*/[/*][#@] sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL_RE = re.compile(r"url\((images/[A-Za-z0-9_.-]+\.png)\)")


# --------------------------------------------------------------------------- assets


@functools.cache
def asset_data_uri(name: str) -> str:
    """Return the vendored asset ``name`` (a folium asset name) as a ``data:`` URI.

    Source-map comments are removed; images referenced by a stylesheet are inlined too, so the
    stylesheet needs no further requests.

    Raises
    ------
    OfflineAssetError
        If ``name`` is not vendored.
    """
    if name not in VENDORED:
        raise OfflineAssetError(
            f"map asset {name!r} is not vendored in {ASSETS_DIR}; "
            "add the file from its npm/PyPI package with its licence (layers/assets/README.md)"
        )
    path = ASSETS_DIR / VENDORED[name]
    text = _SOURCE_MAP_RE.sub("", path.read_text(encoding="utf-8"))
    if path.suffix == ".css":
        text = _CSS_URL_RE.sub(lambda m: f"url({_png_data_uri(path.parent / m.group(1))})", text)
        mime = "text/css"
    else:
        mime = "text/javascript"
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"data:{mime};charset=utf-8;base64,{encoded}"


def _png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figure(m: folium.Map) -> branca.element.Figure:
    root = m.get_root()
    if not isinstance(root, branca.element.Figure):  # folium always puts a map in a Figure
        raise TypeError(f"map root is {type(root).__name__}, expected a branca Figure")
    return root


def _walk(element: branca.element.Element) -> Iterator[branca.element.Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _localized(assets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, asset_data_uri(name)) for name, _url in assets if name not in DROPPED]


def localize_assets(m: folium.Map) -> folium.Map:
    """Point every JS/CSS asset of ``m`` and its children at the vendored files, in place.

    Assets are replaced per element instance (class defaults are shared by every user of the
    process and stay untouched).

    Raises
    ------
    OfflineAssetError
        If an element needs an asset that is not vendored, or is a branca colour map (for which
        streamlit-folium would add d3 from a CDN).
    """
    for element in _walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            raise OfflineAssetError(
                "branca colour maps pull d3 from a CDN in streamlit-folium; use an HTML legend"
            )
        for attr in ("default_js", "default_css"):
            assets = getattr(element, attr, None)
            if assets:
                setattr(element, attr, _localized(list(assets)))
    return m


def external_asset_urls(m: folium.Map) -> list[str]:
    """Asset URLs of ``m`` (and children) that are not inlined ``data:`` URIs; empty when offline-safe."""
    urls: list[str] = []
    for element in _walk(m):
        for attr in ("default_js", "default_css"):
            urls += [url for _name, url in getattr(element, attr, None) or [] if not url.startswith("data:")]
    return urls


# --------------------------------------------------------------------------- basemap


@dataclass(frozen=True)
class TileSource:
    """A basemap: no tiles (``url is None``, offline) or an XYZ tile URL template.

    Parameters
    ----------
    url : str or None
        ``http(s)://…{z}…{x}…{y}…`` template; ``None`` for no basemap.
    attribution : str
        Credit shown in the map corner (required by most tile providers).
    """

    url: str | None = None
    attribution: str = ""

    @property
    def is_offline(self) -> bool:
        """True when the basemap needs no server (no tiles)."""
        return self.url is None


def tiles_from_setting(value: str | None, *, attribution: str = "") -> TileSource:
    """Parse a basemap setting: ``"none"``/empty, ``"osm"``, or an XYZ URL template.

    Raises
    ------
    ParameterError
        If the value is neither a keyword nor an ``http(s)`` template with ``{z}``, ``{x}``, ``{y}``.
    """
    text = (value or "").strip()
    if text.lower() in {"", "none", "off", "offline"}:
        return TileSource()
    if text.lower() == "osm":
        return TileSource(_OSM_URL, attribution or _OSM_ATTRIBUTION)
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in text]
    if not re.match(r"^https?://", text) or missing:
        raise ParameterError(
            f"basemap tiles {text!r}: expected 'none', 'osm' or an http(s) URL template with "
            f"{{z}}, {{x}} and {{y}} (missing: {', '.join(missing) or 'http(s)://'}), "
            "e.g. http://localhost:8080/{z}/{x}/{y}.png"
        )
    return TileSource(text, attribution or text.split("/")[2])


def tiles_from_env(environ: Mapping[str, str] | None = None) -> TileSource:
    """Basemap from ``PHUSONG_TILES`` (and ``PHUSONG_TILES_ATTRIBUTION``); none when unset."""
    env = os.environ if environ is None else environ
    return tiles_from_setting(env.get(TILES_ENV), attribution=env.get(TILES_ATTRIBUTION_ENV, ""))


# --------------------------------------------------------------------------- geometry


def simplify_for_display(
    gdf: gpd.GeoDataFrame, *, tolerance_m: float = 30.0, decimals: int = 5
) -> gpd.GeoDataFrame:
    """Simplify polygons for display without opening gaps or overlaps between neighbours.

    Uses :func:`shapely.coverage_simplify` (shared edges are simplified once) in the UTM zone of the
    layer, then rounds coordinates to ``decimals`` (5 ≈ 1 m).

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygon coverage in EPSG:4326 (e.g. communes). Not modified.
    tolerance_m : float, default 30
        Simplification tolerance in metres.
    decimals : int, default 5
        Decimal places kept in degrees.

    Returns
    -------
    GeoDataFrame
        A copy in EPSG:4326.
    """
    if gdf.empty:
        return gdf.copy()
    metric = gdf.to_crs(gdf.estimate_utm_crs())
    simplified = shapely.coverage_simplify(metric.geometry.values, tolerance_m, simplify_boundary=True)
    out = gdf.copy()
    back = gpd.GeoSeries(simplified, index=gdf.index, crs=metric.crs).to_crs(gdf.crs)
    out.geometry = shapely.set_precision(back.values, 10.0**-decimals, mode="pointwise")
    return out


# --------------------------------------------------------------------------- maps


def base_map(
    bounds_deg: tuple[float, float, float, float], *, tiles: TileSource | None = None, lang: Lang = "vi"
) -> folium.Map:
    """An empty map fitted to ``bounds_deg`` (minx, miny, maxx, maxy; lon/lat) with local assets.

    Parameters
    ----------
    bounds_deg : tuple of float
        Extent to show, EPSG:4326 degrees.
    tiles : TileSource, optional
        Basemap; none by default (offline, light grey background).
    lang : {"vi", "en"}
    """
    tiles = tiles or TileSource()
    minx, miny, maxx, maxy = bounds_deg
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    if tiles.url is not None:
        folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name=t("map.basemap", lang)).add_to(m)
    else:
        _figure(m).header.add_child(
            branca.element.Element("<style>.leaflet-container{background:#eef2f5;}</style>")
        )
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


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


def _tooltip_text(value: object) -> str:
    """A data value for a tooltip: text (``;``-joined units as a list), HTML-escaped.

    Folium's tooltips put property values into ``innerHTML``; escaping shows any markup in the data
    (``<img src=x onerror=…>``) as text.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return _html_escape(", ".join(p.strip() for p in str(value).split(";") if p.strip()))


def _commune_tooltip_frame(communes: gpd.GeoDataFrame, lang: Lang) -> gpd.GeoDataFrame:
    cols = commune_label_columns(communes, lang)
    frame = communes[[*cols, "geometry"]].copy()
    for col in cols:
        frame[col] = frame[col].map(_tooltip_text)
    frame = frame.rename(columns=cols)
    if "population" in communes:
        frame[t("map.population", lang)] = [format_number(v, lang) for v in communes["population"]]
    if "households" in communes:
        frame[t("map.households", lang)] = [format_number(v, lang) for v in communes["households"]]
    return frame


def add_commune_layer(
    m: folium.Map,
    communes: gpd.GeoDataFrame,
    *,
    lang: Lang = "vi",
    name: str | None = None,
    style: dict[str, Any] | None = None,
) -> folium.GeoJson:
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
    frame = _commune_tooltip_frame(communes, lang)
    fields = [c for c in frame.columns if c != "geometry"]
    path_style = {"color": "#2b5d8a", "weight": 1, "fillColor": "#9ecae1", "fillOpacity": 0.35}
    path_style.update(style or {})
    layer = folium.GeoJson(
        frame.__geo_interface__,
        name=name or t("map.communes", lang),
        style_function=lambda _f: path_style,
        highlight_function=lambda _f: {"weight": 3, "color": "#08306b"},
        tooltip=folium.GeoJsonTooltip(fields=fields, localize=False),
    )
    layer.add_to(m)
    return layer


def province_map(
    communes: gpd.GeoDataFrame, *, tiles: TileSource | None = None, lang: Lang = "vi", simplify: bool = True
) -> folium.Map:
    """The province with its communes, offline-safe (all assets inlined).

    Parameters
    ----------
    communes : GeoDataFrame
        Commune polygons, EPSG:4326.
    tiles : TileSource, optional
        Basemap (none by default).
    lang : {"vi", "en"}
    simplify : bool, default True
        Simplify the polygons for display (pass False when they already are).
    """
    display = simplify_for_display(communes) if simplify else communes
    m = base_map(tuple(display.total_bounds), tiles=tiles, lang=lang)
    add_commune_layer(m, display, lang=lang)
    folium.LayerControl(collapsed=False).add_to(m)
    return localize_assets(m)


# --------------------------------------------------------------------------- thematic layers

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


@dataclass(frozen=True)
class LegendEntry:
    """One swatch of an HTML legend."""

    colour: str
    label: str


def add_legend(
    m: folium.Map, title: str, entries: list[LegendEntry], *, position: str = "bottomleft"
) -> None:
    """Add a plain-HTML legend (no branca colour map, no CDN) to ``m``."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:6px;'
        f'background:{e.colour};border:1px solid #555"></span>{_html_escape(e.label)}</div>'
        for e in entries
    )
    vertical = {"bottomleft": "bottom:60px", "bottomright": "bottom:24px", "topleft": "top:80px"}.get(
        position, "top:10px"
    )
    horizontal = "left:10px" if position.endswith("left") else "right:10px"
    html = (
        f'<div class="phusong-legend" style="position:absolute;{vertical};{horizontal};z-index:800;'
        "background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;font:12px sans-serif;"
        f'box-shadow:0 1px 4px rgba(0,0,0,.3)"><b>{_html_escape(title)}</b>{rows}</div>'
    )
    _figure(m).html.add_child(branca.element.Element(html))


def _html_escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


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
        return "#d9d9d9"
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
) -> folium.GeoJson:
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
    from layers.i18n import format_percent

    def fmt(value: float) -> str:
        if value is None or value != value:
            return "—"
        return format_percent(value, lang) if share else format_number(value, lang, decimals=0)

    edges = list(SHARE_BREAKS) if share else class_breaks(communes[column])
    label_cols = commune_label_columns(communes, lang)
    frame = communes[[*label_cols, "geometry"]].copy()
    for col in label_cols:
        frame[col] = frame[col].map(_tooltip_text)
    frame["_fill"] = [_bin_colour(v, edges) for v in communes[column].astype(float)]
    frame = frame.rename(columns=label_cols)
    frame[title] = [fmt(v) for v in communes[column].astype(float)]
    layer = folium.GeoJson(
        frame.__geo_interface__,
        name=name or title,
        style_function=lambda f: {
            "fillColor": f["properties"]["_fill"],
            "color": "#3d3d3d",
            "weight": 0.7,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda _f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=[*label_cols.values(), title], localize=False),
    )
    layer.add_to(m)
    entries = [
        LegendEntry(_bin_colour(edges[i + 1], edges), f"{fmt(edges[i])} – {fmt(edges[i + 1])}")
        for i in range(len(edges) - 1)
    ]
    if communes[column].isna().any():
        entries.append(LegendEntry("#d9d9d9", t("map.no_data", lang)))
    add_legend(m, title, entries, position="bottomleft")
    return layer


def dissolve_former_units(communes: gpd.GeoDataFrame, groups: pd.DataFrame,
                          keys: tuple[str, ...]) -> gpd.GeoDataFrame:
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


def add_former_units(m: folium.Map, outlines: gpd.GeoDataFrame, *, level: str, lang: Lang = "vi"
                     ) -> folium.GeoJson:
    """Former provinces or districts as a dashed overlay labelled "former" (2025-07 layout).

    Parameters
    ----------
    outlines : GeoDataFrame
        :func:`dissolve_former_units` (EPSG:4326).
    level : {"former_province", "former_district"}
        Which former unit; its name is shown as "Huyện Trà Cú (former)", HTML-escaped.
    """
    label = t(f"group.{level}", lang)
    frame = gpd.GeoDataFrame(
        {label: [_html_escape(t("group.former_unit", lang, name=v)) for v in outlines[level]]},
        geometry=outlines.geometry.values,
        crs=4326,
    )
    if level == "former_district" and "former_province" in outlines:
        frame[t("group.former_province", lang)] = [_html_escape(v) for v in outlines["former_province"]]
    frame[t("map.new_communes", lang)] = [format_number(n, lang) for n in outlines["communes"]]
    layer = folium.GeoJson(
        frame.__geo_interface__,
        name=t("map.former_layer", lang, level=label),
        style_function=lambda _f: {"color": "#6a3d00", "weight": 2.5, "dashArray": "8 6", "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=[c for c in frame.columns if c != "geometry"], localize=False),
        interactive=True,
    )
    layer.add_to(m)
    return layer


def add_hamlets(
    m: folium.Map, hamlets: gpd.GeoDataFrame, *, lang: Lang = "vi", synthetic: bool = True
) -> folium.FeatureGroup:
    """Hamlet points coloured by their main gap flag, with a popup of values and the explanation.

    Parameters
    ----------
    hamlets : GeoDataFrame
        :func:`analysis.gaps.compute_gaps` rows (EPSG:4326): ``hamlet_name``, ``commune_name``,
        ``households``, ``main_flag``, indicator shares and ``explanation_vi``/``explanation_en``.
    synthetic : bool
        Label the layer "(synthetic)".
    """
    from layers.i18n import format_percent

    points = hamlets.copy()
    points["geometry"] = points.geometry.representative_point()
    explanation = "explanation_en" if lang == "en" else "explanation_vi"
    popup = gpd.GeoDataFrame(
        {
            t("map.hamlet", lang): points["hamlet_name"],
            t("map.commune", lang): points["commune_name"],
            t("map.households", lang): [format_number(v, lang) for v in points["households"]],
            t("ind.good_4g", lang): [
                format_percent(v, lang) for v in points["share_hh_good_4g"].astype(float)
            ],
            t("ind.ftth", lang): [format_percent(v, lang) for v in points["ftth_share"].astype(float)],
            t("ind.smartphone", lang): [
                format_percent(v, lang) for v in points["smartphone_share"].astype(float)
            ],
            t("map.flags", lang): [flag_labels(f, lang) for f in points["flags"]],
            t("map.explanation", lang): points[explanation].fillna(""),
            "_colour": [FLAG_COLOURS.get(str(f or ""), FLAG_COLOURS[""]) for f in points["main_flag"]],
        },
        geometry=points.geometry.values,
        crs=4326,
    )
    fields = [c for c in popup.columns if not c.startswith("_") and c != "geometry"]
    name = t("map.hamlets", lang) + (f" {t('map.synthetic_suffix', lang)}" if synthetic else "")
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        popup.__geo_interface__,
        marker=folium.CircleMarker(radius=5, weight=1, color="#222222", fill=True, fill_opacity=0.9),
        style_function=lambda f: {"fillColor": f["properties"]["_colour"]},
        tooltip=folium.GeoJsonTooltip(fields=fields[:2], localize=False),
        popup=folium.GeoJsonPopup(fields=fields, localize=False, max_width=360),
    ).add_to(group)
    group.add_to(m)
    present = {str(f or "") for f in hamlets["main_flag"]}
    entries = [
        LegendEntry(colour, flag_label(flag, lang))
        for flag, colour in FLAG_COLOURS.items()
        if flag in present
    ]
    add_legend(m, name, entries, position="bottomright")
    return group


def flag_label(flag: str, lang: Lang = "vi") -> str:
    """Human label of a gap flag (``""`` = no flag)."""
    return t(f"flag.{flag}" if flag else "flag.none", lang)


def flag_labels(flags: object, lang: Lang = "vi") -> str:
    """Labels of ``;``-joined flags, comma-separated (``—`` when none)."""
    items = [f for f in str(flags or "").split(";") if f]
    return ", ".join(flag_label(f, lang) for f in items) if items else "—"


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
        :func:`sites_from_cells` rows (EPSG:4326).
    """
    import folium.plugins

    groups = []
    suffix = f" {t('map.synthetic_suffix', lang)}" if synthetic else ""
    for operator, frame in sites.groupby("operator", sort=True):
        colour = OPERATOR_COLOURS.get(str(operator), "#555555")
        group = folium.FeatureGroup(name=f"{t('map.sites', lang)}: {operator}{suffix}")
        parent: Any = (
            folium.plugins.MarkerCluster(
                options={"disableClusteringAtZoom": 13, "maxClusterRadius": 50}
            ).add_to(group)
            if cluster
            else group
        )
        data = gpd.GeoDataFrame(
            {
                t("map.site", lang): frame["site_id"],
                t("map.operator", lang): frame["operator"],
                t("map.technology", lang): frame["technologies"],
                t("map.status", lang): [
                    t(f"status.{s}", lang) if f"status.{s}" in _STATUS_KEYS else s for s in frame["status"]
                ],
            },
            geometry=frame.geometry.values,
            crs=4326,
        )
        folium.GeoJson(
            data.__geo_interface__,
            marker=folium.CircleMarker(
                radius=4, weight=1, color="#ffffff", fill=True, fill_color=colour, fill_opacity=0.95
            ),
            tooltip=folium.GeoJsonTooltip(
                fields=[c for c in data.columns if c != "geometry"], localize=False
            ),
        ).add_to(parent)
        group.add_to(m)
        groups.append(group)
    return groups


_STATUS_KEYS = frozenset({"status.active", "status.planned"})


def add_fibre(
    m: folium.Map,
    *,
    nodes: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    plan_routes: gpd.GeoDataFrame | None,
    lang: Lang = "vi",
    synthetic: bool = True,
) -> None:
    """Fibre access nodes, existing cable routes and the planned extension (dashed)."""
    suffix = f" {t('map.synthetic_suffix', lang)}" if synthetic else ""
    if routes is not None and not routes.empty:
        folium.GeoJson(
            routes[["geometry"]].to_crs(4326).__geo_interface__,
            name=t("map.fibre_routes", lang) + suffix,
            style_function=lambda _f: {"color": "#6a3d9a", "weight": 2, "opacity": 0.8},
        ).add_to(m)
    if plan_routes is not None and not plan_routes.empty:
        plan = plan_routes.to_crs(4326)
        cols = [c for c in ("route_id", "length_m") if c in plan]
        folium.GeoJson(
            plan[cols + ["geometry"]].__geo_interface__,
            name=t("map.fibre_plan", lang),
            style_function=lambda _f: {"color": "#ff7f00", "weight": 3, "dashArray": "6 4"},
            tooltip=folium.GeoJsonTooltip(
                fields=cols, aliases=[t(f"col.{c}", lang) for c in cols], localize=False
            )
            if cols
            else None,
        ).add_to(m)
    if nodes is not None and not nodes.empty:
        data = nodes.to_crs(4326)
        cols = [c for c in ("node_id", "operator", "node_type") if c in data]
        folium.GeoJson(
            data[cols + ["geometry"]].__geo_interface__,
            name=t("map.fibre_nodes", lang) + suffix,
            marker=folium.CircleMarker(
                radius=3, weight=1, color="#3f007d", fill=True, fill_color="#9e9ac8", fill_opacity=1.0
            ),
            tooltip=folium.GeoJsonTooltip(
                fields=cols, aliases=[t(f"col.{c}", lang) for c in cols], localize=False
            )
            if cols
            else None,
            show=False,
        ).add_to(m)


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
        image=uri, bounds=[[miny, minx], [maxy, maxx]], name=title, opacity=0.8, interactive=False
    ).add_to(m)
    entries = [
        LegendEntry("#{:02x}{:02x}{:02x}".format(*rgba[:3]), t(f"coverage.{name}", lang))
        for (_code, rgba), name in zip(COVERAGE_RGBA.items(), ("none", "poor", "fair", "good"), strict=True)
    ][::-1]
    add_legend(m, title, entries, position="topleft")
