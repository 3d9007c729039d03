"""Map layers: data is text, never markup (every layer, every property), and compactly encoded.

The browser side (hostile names shown as text in real tooltips and popups) is in
``tests/test_browser.py``; here every layer the app draws is built from hostile values and each
property, label and layer name is checked after decoding, as the browser would show it.
"""

from __future__ import annotations

import html
import json
import re

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon
from streamlit_folium import generate_leaflet_string

from geo.errors import ParameterError
from layers import map as lmap
from layers.i18n import Lang, t
from layers.map_geojson import CompactGeoJson, Parts, add_geojson, decoded_properties, html_text

#: Markup with a script hook, quotes of both kinds, an ampersand and Jinja syntax: one per data field.
HOSTILE = "<img src=x onerror=\"window.__xss=1\"> & 'q' {{ 7*7 }}ssti {% if 1 %}{# c #}{% endif %}"


def hostile(field: str) -> str:
    """A hostile value naming its field, so each field's value can be found after decoding."""
    return f"{field}:{HOSTILE}"


_ENTITY = re.compile(r"&(?:[a-z]+|#\d+);")


def is_escaped(text: str) -> bool:
    """No markup, quote or brace character; every ``&`` starts a character reference."""
    return not re.search(r"[<>\"'{}]", text) and "&" not in _ENTITY.sub("", text)


# --------------------------------------------------------------------------- the helper


@pytest.mark.parametrize(
    "value",
    [HOSTILE, "<script>alert(1)</script>", "a & b &amp; c", "{{ config }}", "Ấp Chợ; Khóm 3", "", 12, 0.5],
)
def test_html_text_shows_any_value_as_typed(value: object) -> None:
    text = html_text(value)
    assert is_escaped(text)
    assert html.unescape(text) == str(value)  # nothing lost: the browser shows exactly the value


def test_html_text_of_missing_values_is_empty() -> None:
    assert html_text(None) == "" and html_text(float("nan")) == ""


# --------------------------------------------------------------------------- every layer


def _communes() -> gpd.GeoDataFrame:
    squares = [
        Polygon(
            [
                (106.2 + i * 0.05, 9.8),
                (106.25 + i * 0.05, 9.8),
                (106.25 + i * 0.05, 9.85),
                (106.2 + i * 0.05, 9.85),
            ]
        )
        for i in range(3)
    ]
    return gpd.GeoDataFrame(
        {
            "commune_id": ["c0", "c1", "c2"],
            "commune_name": [hostile("commune_name")] * 3,
            "district_name": [float("nan")] * 3,
            "former_district": [hostile("former_district")] * 3,
            "former_province": [hostile("former_province")] * 3,
            "population": [1000, 2000, 3000],
            "households": [300, 600, 900],
            "share": [0.2, 0.8, float("nan")],
        },
        geometry=squares,
        crs=4326,
    )


def _hamlets() -> gpd.GeoDataFrame:
    name = hostile("hamlet_name")
    return gpd.GeoDataFrame(
        {
            "hamlet_name": [name, "Khóm 2"],
            "commune_name": [hostile("hamlet_commune"), "Xã 1"],
            "households": [120, 80],
            "share_hh_good_4g": [0.1, 0.9],
            "ftth_share": [0.5, float("nan")],
            "smartphone_share": [0.6, 0.9],
            "flags": ["NO_MOBILE_COVERAGE;LOW_FTTH_TAKEUP", ""],
            "main_flag": ["NO_MOBILE_COVERAGE", ""],
            "explanation_vi": [f"{name}: {hostile('explanation')}; lý do 2", "Khóm 2: không thiếu hụt"],
            "explanation_en": [f"{name}: {hostile('explanation')}; reason 2", "Khóm 2: no gap"],
        },
        geometry=[Point(106.21, 9.81), Point(106.26, 9.82)],
        crs=4326,
    )


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": [hostile("site_id"), "S2"],
            "operator": [hostile("operator"), "Viettel"],
            "technologies": [hostile("technologies"), "4G"],
            "status": [hostile("status"), "active"],
            "cells": [1, 3],
        },
        geometry=[Point(106.22, 9.82), Point(106.27, 9.83)],
        crs=4326,
    )


def _fibre() -> dict[str, gpd.GeoDataFrame]:
    nodes = gpd.GeoDataFrame(
        {
            "node_id": [hostile("node_id")],
            "name": [hostile("node_name")],
            "operator": [hostile("node_operator")],
            "node_type": [hostile("node_type")],
        },
        geometry=[Point(106.23, 9.83)],
        crs=4326,
    )
    routes = gpd.GeoDataFrame(
        {"route_id": ["r1", "r2"]},
        geometry=[LineString([(106.2, 9.8), (106.25, 9.8)]), LineString([(106.22, 9.8), (106.3, 9.8)])],
        crs=4326,
    )
    plan = gpd.GeoDataFrame(
        {"route_id": [hostile("route_id")], "length_m": [1234.5]},
        geometry=[LineString([(106.3, 9.9), (106.31, 9.91)])],
        crs=4326,
    )
    return {"nodes": nodes, "routes": lmap.fibre_network_for_display(routes), "plan_routes": plan}


def _every_layer_map(lang: Lang) -> folium.Map:
    communes = _communes()
    m = lmap.base_map(
        tuple(communes.total_bounds), tiles=lmap.TileSource("http://t/{z}/{x}/{y}.png", HOSTILE)
    )
    lmap.add_commune_layer(m, communes, lang=lang, name=hostile("layer"))
    lmap.add_choropleth(m, communes, "share", title=hostile("indicator"), lang=lang)
    outlines = gpd.GeoDataFrame(
        {
            "former_province": [hostile("outline_province")],
            "former_district": [hostile("outline")],
            "communes": [3],
        },
        geometry=[communes.union_all()],
        crs=4326,
    )
    lmap.add_former_units(m, outlines, level="former_district", lang=lang)
    lmap.add_hamlets(m, _hamlets(), lang=lang)
    lmap.add_sites(m, _sites(), lang=lang)
    lmap.add_fibre(m, lang=lang, **_fibre())
    lmap.add_coverage_overlay(m, b"png", (106.2, 9.8, 106.35, 9.85), title=hostile("coverage"))
    folium.LayerControl().add_to(m)
    return lmap.localize_assets(m)


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


EXPECTED_FIELDS = {
    "commune_name",
    "former_district",
    "former_province",
    "outline",
    "outline_province",
    "hamlet_name",
    "hamlet_commune",
    "explanation",
    "site_id",
    "operator",
    "technologies",
    "status",
    "node_id",
    "node_name",
    "node_operator",
    "node_type",
    "route_id",
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_text_property_of_every_layer_is_escaped(lang: Lang) -> None:
    m = _every_layer_map(lang)
    layers = [e for e in _walk(m) if isinstance(e, CompactGeoJson)]
    # commune layer, choropleth, former units, hamlets (2 flag colours), 2 site layers, 3 fibre
    assert len(layers) == 10
    every = [e for e in _walk(m) if isinstance(e, folium.GeoJson)]
    assert len(every) == len(layers), "every GeoJSON layer is written escaped"
    shown: set[str] = set()
    for layer in layers:
        assert all(is_escaped(label) for label in layer.labels.values())
        for row in decoded_properties(layer):
            for label, text in row.items():
                assert is_escaped(text), (label, text)
                field, _, rest = html.unescape(text).partition(":")
                if rest.startswith(HOSTILE) or rest.endswith(HOSTILE):
                    shown.add(field)
        for detail in layer._children.values():
            if isinstance(detail, folium.GeoJsonTooltip | folium.GeoJsonPopup):
                assert all(is_escaped(alias) for alias in detail.aliases)
    assert shown == EXPECTED_FIELDS  # each hostile value reached its layer, as text
    assert any(label.startswith("indicator:&lt;img") for layer in layers for label in layer.labels.values())
    names = [e.layer_name for e in _walk(m) if isinstance(e, folium.map.Layer) and e.layer_name]
    assert any("layer:" in n for n in names) and any("operator:" in n for n in names)
    assert all(is_escaped(name) for name in names)
    # the legend titles and the attribution
    legend = lmap.map_figure(m).html.render()
    assert "indicator:&lt;img" in legend and "<img" not in legend
    tiles = [e for e in _walk(m) if isinstance(e, folium.TileLayer)]
    assert tiles and all(is_escaped(str(tile.options["attribution"])) for tile in tiles)


def test_no_markup_or_template_runs_in_the_rendered_map() -> None:
    """Neither the standalone HTML nor what streamlit-folium sends holds the raw values.

    folium compiles each rendered script as a Jinja template on the server: ``{{ 7*7 }}`` in the
    data would come out as ``49`` (and ``{{ … }}`` could run Python), so braces are escaped too.
    """
    m = _every_layer_map("vi")
    page = m.get_root().render()
    m.render()
    script = generate_leaflet_string(m)
    for text in (page, script):
        assert "<img src=x" not in text and "\\u003cimg" not in text  # never markup, in no encoding
        assert "49ssti" not in text and "{{ 7*7 }}" not in text
        assert "\\u0026lt;img src=x onerror=\\u0026quot;window.__xss=1\\u0026quot;\\u0026gt;" in text


def test_hamlet_popup_shows_every_field_and_the_explanation_once() -> None:
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    lmap.add_hamlets(m, _hamlets(), lang="en")
    # one layer per flag colour, the most severe drawn last (on top), sharing one string table
    unflagged, flagged = [e for e in _walk(m) if isinstance(e, CompactGeoJson)]
    assert unflagged.tables is flagged.tables
    (second,), (first,) = decoded_properties(unflagged), decoded_properties(flagged)
    keys = ("map.hamlet", "map.commune", "map.households", "ind.good_4g", "ind.ftth", "ind.smartphone")
    assert list(first) == [t(k, "en") for k in (*keys, "map.flags", "map.explanation")]
    assert html.unescape(first["Hamlet"]) == hostile("hamlet_name")
    assert first["Households"] == "120" and first[t("ind.good_4g", "en")] == "10.0%"
    assert second[t("ind.ftth", "en")] == "—"
    assert first["Gap flags"] == "No 4G signal, Low FTTH take-up"
    # the explanation without the repeated "<hamlet name>: " (the popup's first line names it)
    assert html.unescape(first["Explanation"]) == f"{hostile('explanation')}; reason 2"
    assert second["Explanation"] == "no gap"
    popup = next(c for c in flagged._children.values() if isinstance(c, folium.GeoJsonPopup))
    tooltip = next(c for c in flagged._children.values() if isinstance(c, folium.GeoJsonTooltip))
    assert popup.aliases == list(first) and tooltip.aliases == ["Hamlet", "Commune"]


# --------------------------------------------------------------------------- compact encoding


def test_compact_layer_sends_each_text_once_and_decodes_to_it() -> None:
    m = folium.Map()
    points = [Point(106.123456789, 9.987654321), Point(106.2, 9.8), None, Point(106.3, 9.7)]
    layer = add_geojson(
        m,
        points,
        {
            "Tên": ["Ấp A", "Ấp A", "gone", "Ấp <B>"],
            "Số": [1, 2, 3, float("nan")],
            "Lý do": Parts([["x", "y"], ["y"], [], []], sep="; "),
        },
        tooltip=["Tên"],
        popup=["Tên", "Số", "Lý do"],
        style=[{"fillColor": c} for c in ("#111111", "#222222", "#333333", "#111111")],
    )
    features = layer.data["features"]
    assert [f["id"] for f in features] == [0, 1, 3]  # the missing geometry is left out with its values
    assert features[0]["properties"] == {"a": 0, "b": 0, "c": [0, 1]}
    assert list(features[0]["geometry"]["coordinates"]) == [106.12346, 9.98765]  # ≈ 1 m
    assert all("bbox" not in f for f in features)
    assert layer.tables.texts == {
        "a": ["Ấp A", "gone", "Ấp &lt;B&gt;"],
        "b": ["1", "2", "3", ""],
        "c": ["x", "y"],
    }
    assert decoded_properties(layer) == [
        {"Tên": "Ấp A", "Số": "1", "Lý do": "x; y"},
        {"Tên": "Ấp A", "Số": "2", "Lý do": "y"},
        {"Tên": "Ấp &lt;B&gt;", "Số": "", "Lý do": ""},
    ]
    m.render()
    script = generate_leaflet_string(m)
    assert script.index(".decode = function") < script.index(".addData(")  # decoder defined first
    assert "switch(feature.id)" in script and "case 0:" in script  # style by feature id, no property
    assert '"fillColor": "#111111"' in script and '"fillColor": "#222222"' in script


def test_compact_layer_refuses_mismatched_fields() -> None:
    with pytest.raises(ValueError, match="2 values for 3 geometries"):
        add_geojson(folium.Map(), [Point(0, 0)] * 3, {"a": [1, 2]})
    with pytest.raises(ValueError, match="no field labelled"):
        add_geojson(folium.Map(), [Point(0, 0)], {"a": [1]}, tooltip=["b"])


def test_hamlet_layer_costs_little_per_hamlet() -> None:
    """About 3,000 hamlets (the bundled province) stay far below the 3 MB map budget (issue 6)."""
    rng = np.random.default_rng(1)
    n = 3000
    names = [f"Ấp {i % 40}" for i in range(n)]
    reasons = [
        f"{int(p)}% người lớn có điện thoại thông minh (ngưỡng 80%)" for p in rng.integers(50, 80, size=n)
    ]
    hamlets = gpd.GeoDataFrame(
        {
            "hamlet_name": names,
            "commune_name": [f"Xã Thử {i % 120}" for i in range(n)],
            "households": rng.integers(50, 900, size=n),
            "share_hh_good_4g": rng.random(n),
            "ftth_share": rng.random(n),
            "smartphone_share": rng.random(n),
            "flags": ["LOW_FTTH_TAKEUP;LOW_SMARTPHONE"] * n,
            "main_flag": ["LOW_FTTH_TAKEUP"] * n,
            "explanation_vi": [
                f"{a}: 70% hộ dùng cáp quang (ngưỡng 80%); {r}" for a, r in zip(names, reasons, strict=True)
            ],
            "explanation_en": [""] * n,
        },
        geometry=gpd.points_from_xy(rng.uniform(105.5, 106.8, n), rng.uniform(9.5, 10.5, n)),
        crs=4326,
    )
    m = lmap.base_map((105.5, 9.5, 106.8, 10.5))
    lmap.add_hamlets(m, hamlets)
    m.render()
    script = generate_leaflet_string(m)
    sent = len(json.dumps(script))  # as Streamlit sends it: JSON in JSON
    assert sent / n < 300, f"{sent / n:.0f} bytes per hamlet"
    assert "case 0:" not in script  # one layer per flag colour: no style switch on hamlet ids


def test_fibre_network_drawn_once_where_routes_share_roads() -> None:
    road = [(106.2, 9.8), (106.25, 9.8), (106.3, 9.8)]
    routes = gpd.GeoDataFrame(
        {"route_id": ["a", "b", "c"]},
        geometry=[LineString(road), LineString(road[:2]), LineString([(106.25, 9.8), (106.25, 9.9)])],
        crs=4326,
    )
    network = lmap.fibre_network_for_display(routes)
    assert len(network) == 1 and network.crs.to_epsg() == 4326
    geom = network.geometry.iloc[0]
    assert geom.length == pytest.approx(0.1 + 0.1)  # the shared stretch once
    assert geom.covers(shapely.union_all(routes.geometry.values))
    assert lmap.fibre_network_for_display(routes.iloc[:0]).empty


def test_every_map_has_a_zoom_range_for_marker_clusters() -> None:
    """Without tiles a map has no maxZoom, and Leaflet.markercluster throws: the sites never drew."""
    page = lmap.base_map((106.2, 9.8, 106.3, 9.9)).get_root().render()
    assert f'"maxZoom": {lmap.MAX_ZOOM}' in page


def test_clustered_layers_bind_their_tooltips_to_each_marker() -> None:
    """A marker cluster puts the markers, not their layer, on the map: a layer tooltip never opens."""
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    lmap.add_sites(m, _sites())
    m.render()
    script = generate_leaflet_string(m)
    assert script.count('group["unbind" + kind]()') == 2  # one per operator layer
    assert script.index("bindTooltip(") < script.index('group["unbind" + kind]()')
    unclustered = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    lmap.add_sites(unclustered, _sites(), cluster=False)
    unclustered.render()
    assert 'group["unbind" + kind]()' not in generate_leaflet_string(unclustered)


def test_jquery_only_when_an_element_needs_it() -> None:
    plain = lmap.localize_assets(lmap.province_map(_communes()))
    assert "jquery" not in {name for name, _ in plain.default_js}
    with_popup = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    folium.Marker([9.85, 106.25], popup="folium HTML popups call $()").add_to(with_popup)
    assert "jquery" in {name for name, _ in lmap.localize_assets(with_popup).default_js}


# --------------------------------------------------------------------------- basemap settings


@pytest.mark.parametrize(
    "value",
    [
        "http://t/{z}/{x}/{y}.png{{7*7}}",
        "http://t/{z}/{x}/{y}.png?{% if 1 %}",
        "http://t/{z}/{x}/{y}.png?a=<b>",
        'http://t/{z}/{x}/{y}.png"+alert(1)+"',
        "http://t/{z}/{x}/{y}.png?k={apikey}",
    ],
)
def test_tile_url_with_markup_or_template_syntax_refused(value: str) -> None:
    with pytest.raises(ParameterError, match="not allowed in a tile URL template"):
        lmap.tiles_from_setting(value)


def test_tile_url_placeholders_accepted() -> None:
    source = lmap.tiles_from_setting("https://{s}.tiles.example/{z}/{x}/{y}{r}.png?key=a%20b&x=1")
    assert source.url is not None and source.attribution == "{s}.tiles.example"


def test_attribution_is_text() -> None:
    tiles = lmap.tiles_from_env(
        {"PHUSONG_TILES": "http://t/{z}/{x}/{y}.png", "PHUSONG_TILES_ATTRIBUTION": HOSTILE}
    )
    page = lmap.base_map((106.2, 9.8, 106.3, 9.9), tiles=tiles).get_root().render()
    assert "\\u003cimg" not in page and "49ssti" not in page
    assert "\\u0026lt;img src=x" in page


def test_frames_with_no_rows_draw_nothing() -> None:
    m = lmap.base_map((106.2, 9.8, 106.3, 9.9))
    lmap.add_hamlets(m, _hamlets().iloc[:0])
    lmap.add_sites(m, _sites().iloc[:0])
    m.get_root().render()
