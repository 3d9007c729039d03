"""Offline folium maps: vendored assets only, basemap settings, display simplification."""

from __future__ import annotations

import base64
import json
import re

import branca
import folium
import folium.plugins
import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon

from geo.errors import OfflineAssetError, ParameterError
from layers import map as lmap


def _grid_communes(n: int = 3, size_deg: float = 0.05) -> gpd.GeoDataFrame:
    """n×n adjacent square communes near Trà Vinh with wiggly shared edges (many vertices)."""
    rows = []
    for i in range(n):
        for j in range(n):
            x0, y0 = 106.2 + i * size_deg, 9.8 + j * size_deg
            square = Polygon([(x0, y0), (x0 + size_deg, y0), (x0 + size_deg, y0 + size_deg), (x0, y0 + size_deg)])
            rows.append(
                {
                    "commune_id": f"c{i}{j}",
                    "commune_name": f"Xã Thử {i}{j}",
                    "district_name": "Huyện Trà Cú",
                    "population": 12345 + i,
                    "households": 3000 + j,
                    "geometry": shapely.segmentize(square, size_deg / 200),
                }
            )
    return gpd.GeoDataFrame(rows, crs=4326)


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("name", sorted(lmap.VENDORED))
def test_every_vendored_asset_inlines_without_external_references(name: str) -> None:
    uri = lmap.asset_data_uri(name)
    head, payload = uri.split(",", 1)
    text = base64.b64decode(payload).decode("utf-8")
    assert head.startswith("data:text/")
    assert len(text) > 500
    assert "sourceMappingURL" not in text
    if head.startswith("data:text/css"):
        assert "url(images/" not in text


def test_unknown_asset_is_refused() -> None:
    with pytest.raises(OfflineAssetError, match="not vendored"):
        lmap.asset_data_uri("fullscreen_js")


def test_province_map_has_only_inline_assets() -> None:
    m = lmap.province_map(_grid_communes())
    html = m.get_root().render()
    urls = _asset_urls(html)
    assert urls, "the map must load Leaflet"
    assert all(u.startswith("data:") for u in urls), [u[:60] for u in urls if not u.startswith("data:")]
    assert lmap.external_asset_urls(m) == []
    assert "cdn" not in html.lower()


def test_localize_leaves_folium_class_defaults_alone() -> None:
    lmap.province_map(_grid_communes())
    assert any(url.startswith("https://") for _n, url in folium.Map.default_js)


def test_marker_cluster_is_vendored() -> None:
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    cluster = folium.plugins.MarkerCluster().add_to(m)
    folium.CircleMarker([9.85, 106.25], radius=3).add_to(cluster)
    lmap.localize_assets(m)
    assert lmap.external_asset_urls(m) == []
    assert all(u.startswith("data:") for u in _asset_urls(m.get_root().render()))


def test_plugin_without_vendored_assets_fails_loudly() -> None:
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(OfflineAssetError, match="not vendored"):
        lmap.localize_assets(m)


def test_branca_colormap_is_refused() -> None:
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    m.add_child(branca.colormap.LinearColormap(["red", "blue"], vmin=0, vmax=1))
    with pytest.raises(OfflineAssetError, match="d3"):
        lmap.localize_assets(m)


def test_commune_tooltip_uses_language_and_number_format() -> None:
    html_vi = lmap.province_map(_grid_communes(), lang="vi").get_root().render()
    html_en = lmap.province_map(_grid_communes(), lang="en").get_root().render()
    assert json.dumps("Dân số")[1:-1] in html_vi and "12.345" in html_vi
    assert "Population" in html_en and "12,345" in html_en


@pytest.mark.parametrize("value", [None, "", "none", "OFF", " offline "])
def test_tiles_off_by_default(value: str | None) -> None:
    source = lmap.tiles_from_setting(value)
    assert source.is_offline and source.url is None


def test_tiles_osm_and_local_server() -> None:
    osm = lmap.tiles_from_setting("osm")
    assert osm.url is not None and osm.url.startswith("https://") and "OpenStreetMap" in osm.attribution
    local = lmap.tiles_from_setting("http://localhost:8080/{z}/{x}/{y}.png")
    assert local.url == "http://localhost:8080/{z}/{x}/{y}.png"
    assert local.attribution == "localhost:8080"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("ftp://tiles/{z}/{x}/{y}.png", "http"), ("http://localhost:8080/{z}/{x}.png", "{y}"), ("tiles", "template")],
)
def test_bad_tile_setting_says_what_to_fix(value: str, fragment: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(fragment)):
        lmap.tiles_from_setting(value)


def test_tiles_from_env() -> None:
    assert lmap.tiles_from_env({}).is_offline
    env = {"PHUSONG_TILES": "http://10.0.0.5/tiles/{z}/{x}/{y}.png", "PHUSONG_TILES_ATTRIBUTION": "Sở TT&TT"}
    source = lmap.tiles_from_env(env)
    assert source.url == env["PHUSONG_TILES"] and source.attribution == "Sở TT&TT"


def test_tile_layer_only_when_configured() -> None:
    bounds = (106.2, 9.8, 106.3, 9.9)
    offline = lmap.localize_assets(lmap.base_map(bounds)).get_root().render()
    online = lmap.localize_assets(
        lmap.base_map(bounds, tiles=lmap.tiles_from_setting("http://localhost:8080/{z}/{x}/{y}.png"))
    ).get_root().render()
    assert "L.tileLayer" not in offline
    assert "localhost:8080/{z}/{x}/{y}.png" in online


def test_simplify_keeps_coverage_topology_and_drops_vertices() -> None:
    communes = _grid_communes()
    simple = lmap.simplify_for_display(communes, tolerance_m=30.0)
    before = shapely.get_num_coordinates(communes.geometry.values).sum()
    after = shapely.get_num_coordinates(simple.geometry.values).sum()
    assert after < before / 5
    assert simple.crs.to_epsg() == 4326 and simple.is_valid.all()
    metric = simple.to_crs(32648)
    overlaps = sum(
        metric.geometry.iloc[i].intersection(metric.geometry.iloc[j]).area
        for i in range(len(metric))
        for j in range(i + 1, len(metric))
    )
    assert overlaps < 100.0  # m² of ~30 km² communes: only coordinate rounding, no real overlaps
    assert metric.union_all().area == pytest.approx(communes.to_crs(32648).union_all().area, rel=1e-3)
    assert communes.geometry.iloc[0].equals(_grid_communes().geometry.iloc[0])  # input untouched
