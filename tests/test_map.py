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
from layers import map_layers


def _grid_communes(n: int = 3, size_deg: float = 0.05) -> gpd.GeoDataFrame:
    """n×n adjacent square communes near Trà Vinh with wiggly shared edges (many vertices)."""
    rows = []
    for i in range(n):
        for j in range(n):
            x0, y0 = 106.2 + i * size_deg, 9.8 + j * size_deg
            square = Polygon(
                [(x0, y0), (x0 + size_deg, y0), (x0 + size_deg, y0 + size_deg), (x0, y0 + size_deg)]
            )
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
    [
        ("ftp://tiles/{z}/{x}/{y}.png", "http"),
        ("http://localhost:8080/{z}/{x}.png", "{y}"),
        ("tiles", "template"),
    ],
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
    online = (
        lmap.localize_assets(
            lmap.base_map(bounds, tiles=lmap.tiles_from_setting("http://localhost:8080/{z}/{x}/{y}.png"))
        )
        .get_root()
        .render()
    )
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


# --------------------------------------------------------------------------- thematic layers


def _gaps_frame() -> gpd.GeoDataFrame:
    from shapely.geometry import Point

    return gpd.GeoDataFrame(
        {
            "hamlet_id": ["h1", "h2"],
            "hamlet_name": ["Ấp Chợ", "Khóm 3"],
            "commune_name": ["Xã Thử 00", "Xã Thử 00"],
            "district_name": ["Huyện Trà Cú", "Huyện Trà Cú"],
            "households": [1234, 56],
            "share_hh_good_4g": [0.2, 1.0],
            "ftth_share": [0.5, float("nan")],
            "smartphone_share": [0.6, 0.9],
            "flags": ["NO_MOBILE_COVERAGE;LOW_FTTH_TAKEUP", ""],
            "main_flag": ["NO_MOBILE_COVERAGE", ""],
            "explanation_vi": ["Thiếu sóng 4G ở ấp này", ""],
            "explanation_en": ["No 4G in this hamlet", ""],
        },
        geometry=[Point(106.21, 9.81), Point(106.22, 9.82)],
        crs=4326,
    )


def test_choropleth_of_shares_has_fixed_classes_and_a_legend() -> None:
    communes = _grid_communes(2)
    communes["share"] = [0.3, 0.75, 0.95, float("nan")]
    m = lmap.base_map(tuple(communes.total_bounds))
    lmap.add_choropleth(m, communes, "share", title="Hộ có sóng 4G tốt", lang="vi")
    html = lmap.localize_assets(m).get_root().render()
    assert "phusong-legend" in html and "Không có số liệu" in html
    assert "75,0 %" in html and "90,0 % – 100,0 %" in html
    fills = {map_layers._bin_colour(v, list(lmap.SHARE_BREAKS)) for v in communes["share"]}
    assert len(fills) == 4  # three classes + grey for no data


def test_hamlets_coloured_by_flag_with_explanation_popup() -> None:
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    lmap.add_hamlets(m, _gaps_frame(), lang="en", synthetic=True)
    html = lmap.localize_assets(m).get_root().render()
    assert "No 4G in this hamlet" in html
    assert "Hamlets by gap flag (synthetic)" in html
    assert lmap.FLAG_COLOURS["NO_MOBILE_COVERAGE"] in html and lmap.FLAG_COLOURS[""] in html
    assert "No 4G signal, Low FTTH take-up" in html
    assert "1,234" in html


def test_sites_grouped_by_operator_and_clustered_offline() -> None:
    from shapely.geometry import Point

    cells = gpd.GeoDataFrame(
        {
            "site_id": ["s1", "s1", "s1", "s2"],
            "cell_id": ["a", "b", "c", "d"],
            "operator": ["Viettel", "Viettel", "Viettel", "MobiFone"],
            "technology": ["4G", "4G", "2G", "4G"],
            "status": ["active", "active", "active", "planned"],
        },
        geometry=[Point(106.21, 9.81)] * 3 + [Point(106.25, 9.85)],
        crs=4326,
    )
    sites = lmap.sites_from_cells(cells)
    assert list(sites["site_id"]) == ["s1", "s2"]
    assert list(sites["technologies"]) == ["2G/4G", "4G"] and list(sites["cells"]) == [3, 1]
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    groups = lmap.add_sites(m, sites, lang="vi")
    assert len(groups) == 2
    html = lmap.localize_assets(m).get_root().render()
    assert "markerClusterGroup" in html and json.dumps("kế hoạch")[1:-1] in html
    assert lmap.external_asset_urls(m) == []


def test_coverage_png_is_warped_to_degrees_with_transparent_outside() -> None:
    import io

    import numpy as np
    from affine import Affine
    from PIL import Image
    from pyproj import CRS

    classes = np.full((40, 60), 255, dtype=np.uint8)
    classes[5:35, 5:55] = np.repeat(np.arange(4, dtype=np.uint8), 50 * 30 // 4 + 1)[: 30 * 50].reshape(30, 50)
    transform = Affine(100.0, 0.0, 600_000.0, 0.0, -100.0, 1_090_000.0)  # UTM 48N, 100 m pixels
    png, (minx, miny, maxx, maxy) = lmap.coverage_png(classes, transform=transform, crs=CRS(32648))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    assert 105.5 < minx < maxx < 106.5 and 9.5 < miny < maxy < 10.0
    assert image[0, 0, 3] == 0  # outside the province: transparent
    colours = {tuple(int(v) for v in px) for px in image.reshape(-1, 4) if px[3] > 0}
    assert colours == set(lmap.COVERAGE_RGBA.values())
    m = lmap.base_map((minx, miny, maxx, maxy))
    lmap.add_coverage_overlay(m, png, (minx, miny, maxx, maxy), title="Vùng phủ sóng 4G", lang="vi")
    html = lmap.localize_assets(m).get_root().render()
    assert "L.imageOverlay" in html and "data:image/png;base64," in html and "Tốt" in html


def test_fibre_layers() -> None:
    from shapely.geometry import LineString, Point

    nodes = gpd.GeoDataFrame(
        {"node_id": ["n1"], "operator": ["VinaPhone"], "node_type": ["OLT"]},
        geometry=[Point(106.21, 9.81)],
        crs=4326,
    )
    routes = gpd.GeoDataFrame(
        {"route_id": ["r1"]}, geometry=[LineString([(106.2, 9.8), (106.3, 9.9)])], crs=4326
    )
    plan = gpd.GeoDataFrame(
        {"route_id": ["EXT-0001"], "length_m": [1234.0]},
        geometry=[LineString([(106.3, 9.9), (106.31, 9.91)])],
        crs=4326,
    )
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    lmap.add_fibre(m, nodes=nodes, routes=routes, plan_routes=plan, lang="en")
    folium.LayerControl().add_to(m)
    html = lmap.localize_assets(m).get_root().render()
    assert "Fibre extension plan" in html and "Fibre access nodes (synthetic)" in html and "EXT-0001" in html
    assert "6 4" in html  # the plan is dashed


# --------------------------------------------------------------------------- 2025-07 layout: former units

HOSTILE = "<img src=x onerror=alert(1)>"


def _reform_communes() -> gpd.GeoDataFrame:
    """The 3×3 grid as a 2025-07 package: no districts; two former districts, one hostile name."""
    communes = _grid_communes()
    communes["district_name"] = float("nan")
    communes["former_province"] = ["Trà Vinh"] * 6 + ["Bến Tre"] * 3
    communes["former_district"] = ["Huyện Trà Cú"] * 3 + [HOSTILE] * 3 + ["Huyện Châu Thành"] * 3
    return communes


def _json_text(text: str) -> str:
    """``text`` as folium writes it into the page's scripts (JSON, HTML-safe: ``<`` is ``\\u003c``)."""
    return (
        json.dumps(text)[1:-1]
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def _assert_escaped(html: str) -> None:
    """The hostile name reaches the page only as text: escaped before folium JSON-encodes it."""
    assert _json_text(HOSTILE) not in html and HOSTILE not in html
    assert _json_text("&lt;img src=x onerror=alert(1)&gt;") in html


def test_2025_commune_tooltips_name_former_units_as_former_and_escape_them() -> None:
    communes = _reform_communes()
    assert lmap.commune_label_columns(communes, "en") == {
        "commune_name": "Commune",
        "former_district": "Former district (before 1 July 2025)",
        "former_province": "Former province (before 1 July 2025)",
    }
    assert lmap.commune_label_columns(_grid_communes(), "vi") == {
        "commune_name": "Xã/phường",
        "district_name": "Huyện/thị xã",
    }
    communes["share"] = 0.5
    m = lmap.base_map(tuple(communes.total_bounds))
    lmap.add_choropleth(m, communes, "share", title="FTTH", lang="vi")
    html = lmap.province_map(communes, lang="vi").get_root().render() + m.get_root().render()
    assert _json_text("Huyện cũ (trước 1/7/2025)") in html
    _assert_escaped(html)


def test_former_units_dissolved_and_drawn_dashed_labelled_former() -> None:
    import pandas as pd

    from analysis.grouping import assign_groups

    communes = _reform_communes()
    groups = assign_groups(pd.DataFrame(communes.drop(columns="geometry")), "2025-07")
    provinces = lmap.dissolve_former_units(communes, groups, ("former_province",))
    assert provinces["former_province"].tolist() == ["Bến Tre", "Trà Vinh"]
    assert provinces["communes"].tolist() == [3, 6]
    areas = [round(shapely.area(g), 6) for g in provinces.geometry]
    assert areas == [round(3 * 0.05**2, 6), round(6 * 0.05**2, 6)]  # square degrees: whole communes
    districts = lmap.dissolve_former_units(communes, groups, ("former_province", "former_district"))
    assert len(districts) == 3 and set(districts["former_province"]) == {"Trà Vinh", "Bến Tre"}

    m = lmap.base_map(tuple(communes.total_bounds))
    lmap.add_former_units(m, districts, level="former_district", lang="en")
    folium.LayerControl().add_to(m)
    html = lmap.localize_assets(m).get_root().render()
    assert "Former district (before 1 July 2025): outlines dissolved from the new communes" in html
    assert _json_text("Huyện Trà Cú (former)") in html and _json_text("Bến Tre") in html
    assert '"dashArray": "8 6"' in html and '"fill": false' in html
    _assert_escaped(html)
    assert lmap.external_asset_urls(m) == []
