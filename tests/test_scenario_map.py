"""The scenario map layers (layers/scenario_map.py): the good-4G difference overlay, new and removed
sites, hamlets whose flags changed; every value shown as text, never markup; offline assets only."""

from __future__ import annotations

import io

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from affine import Affine
from PIL import Image
from shapely.geometry import Point, box

from layers import scenario_map as smap
from layers.i18n import t
from layers.map import OPERATOR_COLOURS, external_asset_urls
from layers.map_geojson import CompactGeoJson, decoded_properties

HOSTILE = '<img src=x onerror="window.__xss=1"> {{ 7*7 }}'
CRS = pyproj.CRS.from_epsg(32648)
#: 25 m pixels, top-left corner at E 600,000 / N 1,090,000 (UTM 48N, about 105.9° E, 9.86° N).
TRANSFORM = Affine(25.0, 0.0, 600_000.0, 0.0, -25.0, 1_090_000.0)


def _layers(element) -> list[CompactGeoJson]:
    found = []
    for child in element._children.values():
        if isinstance(child, CompactGeoJson):
            found.append(child)
        found += _layers(child)
    return found


def _rows(m: folium.Map) -> list[dict[str, str]]:
    return [row for layer in _layers(m) for row in decoded_properties(layer)]


# --------------------------------------------------------------------------- the difference overlay


def test_change_codes_mark_gained_lost_and_outside() -> None:
    before = np.array([[0, 3, 2, 3, 255], [1, 3, 0, 2, 3]], dtype=np.uint8)
    after = np.array([[3, 3, 2, 1, 3], [3, 0, 255, 3, 3]], dtype=np.uint8)
    codes = smap.coverage_change_codes(before, after)
    assert codes.tolist() == [
        [smap.GAINED, smap.UNCHANGED, smap.UNCHANGED, smap.LOST, 255],
        [smap.GAINED, smap.LOST, 255, smap.GAINED, smap.UNCHANGED],
    ]
    with pytest.raises(ValueError, match="shapes"):
        smap.coverage_change_codes(before, after[:, :3])


def test_no_change_no_overlay() -> None:
    classes = np.full((40, 60), 2, dtype=np.uint8)
    assert smap.coverage_change_png(classes, classes.copy(), transform=TRANSFORM, crs=CRS) is None


def test_overlay_is_cropped_to_the_change_and_coloured() -> None:
    before = np.zeros((400, 600), dtype=np.uint8)
    after = before.copy()
    after[100:120, 200:230] = 3  # 20 x 30 pixels gain good 4G
    before[300:305, 500:510] = 3  # 5 x 10 pixels lose it
    found = smap.coverage_change_png(before, after, transform=TRANSFORM, crs=CRS, margin_px=0)
    assert found is not None
    png, (minx, miny, maxx, maxy), counts = found
    assert counts == {"gained": 600, "lost": 50}
    # the image covers rows 100..305 and columns 200..510 only, not the 600 x 400 grid
    full = smap.coverage_change_png(before, after, transform=TRANSFORM, crs=CRS, margin_px=10_000)
    assert full is not None
    fminx, fminy, fmaxx, fmaxy = full[1]
    assert fminx < minx < maxx < fmaxx and fminy < miny < maxy < fmaxy
    assert (maxx - minx) / (fmaxx - fminx) == pytest.approx(310 / 600, rel=0.02)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    colours = {tuple(c) for c in image.reshape(-1, 4)}
    assert smap.CHANGE_RGBA[smap.GAINED] in colours and smap.CHANGE_RGBA[smap.LOST] in colours
    assert (0, 0, 0, 0) in colours  # unchanged pixels are transparent


# --------------------------------------------------------------------------- sites


def _cells(site_ids: list[str], *, operator: str = "Viettel", technology: str = "4G") -> gpd.GeoDataFrame:
    rows = [
        {
            "site_id": s,
            "cell_id": f"{s}-{k}",
            "operator": operator,
            "technology": technology,
            "status": "active",
        }
        for s in site_ids
        for k in range(3)
    ]
    points = [Point(106.0 + 0.01 * i, 9.8) for i, s in enumerate(site_ids) for _ in range(3)]
    return gpd.GeoDataFrame(rows, geometry=points, crs=4326)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_new_sites_are_one_large_magenta_marker_each_with_escaped_text(lang: str) -> None:
    m = folium.Map()
    smap.add_new_sites(m, _cells([HOSTILE, "NEW-2"]), lang=lang)
    (layer,) = _layers(m)
    rows = decoded_properties(layer)
    assert len(rows) == 2  # one per site, not per cell
    site = t("map.site", lang)
    assert {r[site] for r in rows} == {
        "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt; &#123;&#123; 7*7 &#125;&#125;",
        "NEW-2",
    }
    assert all(r[t("scn.map_change_kind", lang)] == t("scn.change_new", lang) for r in rows)
    marker = layer.marker.options
    assert marker["fillColor"] == smap.NEW_SITE_COLOUR not in OPERATOR_COLOURS.values()
    assert marker["radius"] > 4  # existing sites are 4 px dots


def test_removed_and_switched_off_sites_are_labelled_and_clustered_when_many() -> None:
    cells = _cells(["A", "B"])
    cells["change"] = ["removed"] * 3 + ["switched_off"] * 3
    m = folium.Map()
    smap.add_removed_sites(m, cells, lang="en")
    rows = _rows(m)
    assert {(r["Site"], r["Change"]) for r in rows} == {("A", "removed"), ("B", "switched off")}
    assert "MarkerCluster" not in m.get_root().render()
    many = _cells([f"S{i}" for i in range(12)])
    many["change"] = "switched_off"
    clustered = folium.Map()
    smap.add_removed_sites(clustered, many, lang="en", cluster_above=10)
    assert "markerClusterGroup" in clustered.get_root().render()


# --------------------------------------------------------------------------- hamlets


def _compared() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hamlet_id": ["H1", "H2", "H3"],
            "hamlet_name": [HOSTILE, "Ấp Chợ", "Ấp Mới"],
            "commune_name": ["Xã Trà Cú", "Xã Trà Cú", "Xã Hòa Minh"],
            "flags_before": ["NO_MOBILE_COVERAGE", "", "NO_MOBILE_COVERAGE"],
            "flags_after": ["", "", "WEAK_MOBILE_COVERAGE"],
            "flags_cleared": ["NO_MOBILE_COVERAGE", "", "NO_MOBILE_COVERAGE"],
            "flags_new": ["", "", "WEAK_MOBILE_COVERAGE"],
        }
    )


def _hamlet_geometry() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"hamlet_id": ["H3", "H2", "H1"]},
        geometry=[box(106.2, 9.9, 106.21, 9.91), Point(106.1, 9.8), Point(106.0, 9.7)],
        crs=4326,
    ).to_crs(CRS)


def test_flag_change_points_keep_only_hamlets_whose_flags_moved() -> None:
    points = smap.flag_change_points(_compared(), _hamlet_geometry())
    assert points["hamlet_id"].tolist() == ["H1", "H3"]
    assert points.crs.to_epsg() == 4326
    assert points.geometry.iloc[0].distance(Point(106.0, 9.7)) < 1e-6
    assert box(106.2, 9.9, 106.21, 9.91).contains(points.geometry.iloc[1])


def test_flag_change_rings_show_names_as_text() -> None:
    m = folium.Map()
    smap.add_flag_changes(m, smap.flag_change_points(_compared(), _hamlet_geometry()), lang="vi")
    rows = _rows(m)
    # H1 cleared (green ring), H3 cleared and new (both rings)
    assert sorted(r["Ấp/khóm"] for r in rows) == sorted(
        [
            "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt; &#123;&#123; 7*7 &#125;&#125;",
            "Ấp Mới",
            "Ấp Mới",
        ]
    )
    h3 = [r for r in rows if r["Ấp/khóm"] == "Ấp Mới"][0]
    assert h3[t("scn.col_flags_before", "vi")] == "Không có sóng 4G"
    assert h3[t("scn.col_flags_after", "vi")] == "Sóng 4G yếu"
    assert HOSTILE not in m.get_root().render()


# --------------------------------------------------------------------------- the whole map


def test_scenario_map_is_offline_and_escapes_every_value() -> None:
    communes = gpd.GeoDataFrame(
        {"commune_id": ["C1"], "commune_name": [HOSTILE]}, geometry=[box(105.9, 9.6, 106.3, 10.0)], crs=4326
    )
    gaps = gpd.GeoDataFrame(
        {
            "hamlet_name": [HOSTILE],
            "commune_name": ["Xã Trà Cú"],
            "households": [150],
            "main_flag": ["NO_MOBILE_COVERAGE"],
            "flags": ["NO_MOBILE_COVERAGE"],
            "share_hh_good_4g": [0.0],
            "ftth_share": [0.5],
            "smartphone_share": [0.5],
            "explanation_vi": [f"{HOSTILE}: không có sóng"],
            "explanation_en": [f"{HOSTILE}: no signal"],
        },
        geometry=[Point(106.0, 9.7)],
        crs=4326,
    )
    removed = _cells(["OLD"])
    removed["change"] = "removed"
    before = np.zeros((400, 600), dtype=np.uint8)
    after = before.copy()
    after[10:20, 10:20] = 3
    png, bounds, _ = smap.coverage_change_png(before, after, transform=TRANSFORM, crs=CRS)
    m = smap.scenario_map(
        communes,
        gaps,
        sites=None,
        new_cells=_cells(["NEW-1"]),
        removed_cells=removed,
        flag_changes=smap.flag_change_points(_compared(), _hamlet_geometry()),
        change_overlay=(png, bounds),
        lang="en",
        synthetic=("hamlets",),
    )
    assert external_asset_urls(m) == []
    html = m.get_root().render()
    assert HOSTILE not in html and "<img src=x" not in html
    for label in ("New sites (scenario)", "Removed or switched-off sites", "Change in good 4G coverage"):
        assert label in html
