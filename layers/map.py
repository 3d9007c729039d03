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

The thematic layers (communes, choropleth, hamlets, sites, fibre, coverage: :mod:`layers.map_layers`)
and the compact, escaped GeoJSON they are written with (:mod:`layers.map_geojson`: data is text,
never markup) are importable from here too.

All geometries are EPSG:4326 (lon/lat degrees).
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import branca
import folium
import geopandas as gpd
import shapely

from geo.errors import OfflineAssetError, ParameterError
from layers.i18n import Lang, t
from layers.map_geojson import (
    CompactGeoJson,
    LegendEntry,
    Parts,
    add_geojson,
    add_geojson_by_style,
    add_legend,
    decoded_properties,
    html_text,
    map_figure,
)
from layers.map_layers import (
    COVERAGE_RGBA,
    FLAG_COLOURS,
    OPERATOR_COLOURS,
    SEQUENTIAL,
    SHARE_BREAKS,
    add_choropleth,
    add_commune_layer,
    add_coverage_overlay,
    add_fibre,
    add_former_units,
    add_hamlets,
    add_sites,
    class_breaks,
    commune_label_columns,
    coverage_png,
    dissolve_former_units,
    fibre_network_for_display,
    flag_label,
    flag_labels,
    sites_from_cells,
)

log = logging.getLogger(__name__)

__all__ = [
    "ASSETS_DIR",
    "COVERAGE_RGBA",
    "FLAG_COLOURS",
    "OPERATOR_COLOURS",
    "SEQUENTIAL",
    "SHARE_BREAKS",
    "MAX_ZOOM",
    "TILES_ENV",
    "CompactGeoJson",
    "LegendEntry",
    "Parts",
    "TileSource",
    "add_choropleth",
    "add_commune_layer",
    "add_coverage_overlay",
    "add_fibre",
    "add_former_units",
    "add_geojson",
    "add_geojson_by_style",
    "add_hamlets",
    "add_legend",
    "add_sites",
    "asset_data_uri",
    "base_map",
    "class_breaks",
    "commune_label_columns",
    "coverage_png",
    "decoded_properties",
    "dissolve_former_units",
    "external_asset_urls",
    "fibre_network_for_display",
    "flag_label",
    "flag_labels",
    "html_text",
    "localize_assets",
    "map_figure",
    "province_map",
    "simplify_for_display",
    "sites_from_cells",
    "tiles_from_env",
    "tiles_from_setting",
]

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
TILES_ENV = "PHUSONG_TILES"
#: Deepest zoom of every map (folium's default for tile layers).
MAX_ZOOM = 18
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
#: Leaflet's tile URL placeholders, and the characters a tile URL template may hold besides them
#: (RFC 3986: no quotes, spaces, angle brackets or braces, which reach the page's script and HTML).
_TILE_PLACEHOLDER_RE = re.compile(r"\{(?:s|z|x|y|r)\}")
_URL_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&()*+,;=%")


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


def _walk(element: branca.element.Element) -> Iterator[branca.element.Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _localized(assets: list[tuple[str, str]], dropped: frozenset[str]) -> list[tuple[str, str]]:
    return [(name, asset_data_uri(name)) for name, _url in assets if name not in dropped]


def _needs_jquery(m: folium.Map) -> bool:
    """True when an element of ``m`` calls jQuery (``$``): folium's HTML popups, a GeoJSON layer
    loaded by URL, objects kept in front, the time-slider choropleth. PhuSong's layers use none of
    them, so their maps do without it (about 90 kB less per map sent)."""
    import folium.plugins

    for element in _walk(m):
        if isinstance(element, folium.Popup | folium.plugins.TimeSliderChoropleth):
            return True
        if isinstance(element, folium.GeoJson) and not element.embed:
            return True
        if isinstance(element, folium.Map) and element.objects_to_stay_in_front:
            return True
    return False


def localize_assets(m: folium.Map) -> folium.Map:
    """Point every JS/CSS asset of ``m`` and its children at the vendored files, in place.

    Assets are replaced per element instance (class defaults are shared by every user of the
    process and stay untouched). jQuery is left out when no element uses it (:func:`_needs_jquery`).

    Raises
    ------
    OfflineAssetError
        If an element needs an asset that is not vendored, or is a branca colour map (for which
        streamlit-folium would add d3 from a CDN).
    """
    dropped = DROPPED if _needs_jquery(m) else DROPPED | {"jquery"}
    for element in _walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            raise OfflineAssetError(
                "branca colour maps pull d3 from a CDN in streamlit-folium; use an HTML legend"
            )
        for attr in ("default_js", "default_css"):
            assets = getattr(element, attr, None)
            if assets:
                setattr(element, attr, _localized(list(assets), dropped))
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
    stray = sorted(set(_TILE_PLACEHOLDER_RE.sub("", text)) - _URL_CHARS)
    if stray:
        raise ParameterError(
            f"basemap tiles {text!r}: character(s) {' '.join(stray)} not allowed in a tile URL template "
            "(placeholders are {s}, {z}, {x}, {y}, {r}; percent-encode anything else)"
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
    # A map without tiles has no zoom range, and Leaflet.markercluster (the sites layer) refuses
    # one ("Map has no maxZoom specified"): give it the range of folium's tile layers.
    m.options["max_zoom"] = MAX_ZOOM
    if tiles.url is not None:
        folium.TileLayer(
            tiles=tiles.url, attr=html_text(tiles.attribution), name=html_text(t("map.basemap", lang))
        ).add_to(m)
    else:
        map_figure(m).header.add_child(
            branca.element.Element("<style>.leaflet-container{background:#eef2f5;}</style>")
        )
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


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
