"""Partners' downloads: a gap layer, filters and a format; same export code as the CLI.

The area filter is the package's group: districts before the reform; in the 2025-07 layout the
former province and former district (a commune matches when it lists the chosen unit among those
its territory came from). Tables of a 2025-07 package carry ``former_province``,
``former_district`` and ``old_commune_codes`` (and the hamlets' former commune).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from analysis.grouping import is_pre_reform, listed_units, split_joined
from geo.names import fold_diacritics
from layers.exports import ExportFormat, export_bytes
from layers.i18n import Lang, format_number, t
from layers.map import flag_label
from views import common

LAYERS = ("gaps", "communes", "fibre_plan", "coverage")
VECTOR_FORMATS = ("gpkg", "shp.zip", "kml", "geojson", "csv", "xlsx")
FLAGS = ("NO_MOBILE_COVERAGE", "WEAK_MOBILE_COVERAGE", "NO_FIBRE_REACH", "LOW_FTTH_TAKEUP", "LOW_SMARTPHONE")


def file_name(province: str, layer: str, fmt: str, *, today: dt.date | None = None) -> str:
    """``tra-vinh_gaps_2026-11-25.gpkg``: province, layer and date in ASCII."""
    slug = "-".join(fold_diacritics(province).replace("/", " ").split())
    return f"{slug}_{layer}_{(today or dt.date.today()).isoformat()}.{fmt}"


def in_groups(table: pd.DataFrame, chosen: dict[str, list[str]]) -> pd.Series:
    """Rows whose group matches every chosen filter (a commune listing the unit among several counts).

    Parameters
    ----------
    table
        Gap or commune table with the group columns (``district_name``; ``former_province``,
        ``former_district``, ``;``-joined).
    chosen
        Column -> chosen units; an empty list does not filter.
    """
    mask = pd.Series(True, index=table.index)
    for column, units in chosen.items():
        if units and column in table:
            wanted = set(units)
            mask &= listed_units(table, column).map(lambda listed, w=wanted: bool(w & set(listed)))
    return mask


def _filtered_gaps(
    gaps: gpd.GeoDataFrame, groups: dict[str, list[str]], operator: str, flags: list[str]
) -> gpd.GeoDataFrame:
    out = gaps[gaps["n_flags"] > 0]
    out = out[in_groups(out, groups)]
    if operator:
        out = out[out["fibre_operator"].astype(str) == operator]
    if flags:
        out = out[out["flags"].fillna("").map(lambda f: any(x in str(f).split(";") for x in flags))]
    return out


def _geotiff(pkg, operator: str, meta: dict[str, str]) -> bytes:
    from geo.raster import write_cog

    cov = common.coverage(pkg.version, pkg)
    classes = cov.classes_by_operator.get(operator, cov.classes) if operator else cov.classes
    with tempfile.TemporaryDirectory() as tmp:
        path = write_cog(
            Path(tmp) / "coverage.tif",
            np.asarray(classes, dtype=np.uint8),
            transform=cov.transform,
            crs=cov.crs,
            nodata=255,
            tags=meta,
            band_description="4G coverage class: 0 none, 1 poor, 2 fair, 3 good; 255 outside",
        )
        return path.read_bytes()


def _payload(layer: str, fmt: ExportFormat, pkg, opts: dict) -> tuple[bytes, int]:
    """Export bytes and feature count of the chosen layer."""
    params = common.gap_params()
    gaps = common.gaps(pkg.version, params, pkg)
    meta = dict(gaps.attrs.get("phusong", {}))
    meta["synthetic_layers"] = ", ".join(pkg.synthetic_layers) or "none"
    if layer == "coverage":
        return _geotiff(pkg, opts["operator"], {**meta, "layer": "4G coverage classes"}), 1
    if layer == "gaps":
        data = _filtered_gaps(gaps, opts["groups"], opts["operator"], opts["flags"])
        return export_bytes(data, fmt, metadata=meta, layer="gaps"), len(data)
    if layer == "communes":
        data = common.commune_table(pkg.version, params, pkg)
        data = data[in_groups(data, opts["groups"])]
        return export_bytes(data, fmt, metadata=meta, layer="communes"), len(data)
    fib = common.fibre(pkg.version, params, pkg)
    routes = fib.plan.routes
    hamlets = fib.reach_layer[fib.reach_layer["plan_status"] != ""]
    if fmt in ("geojson", "csv"):
        return export_bytes(routes, fmt, metadata=fib.metadata, layer="fibre_plan"), len(routes)
    return export_bytes(
        {"fibre_plan_routes": routes, "fibre_plan_hamlets": hamlets}, fmt, metadata=fib.metadata
    ), len(routes)


def _unit_options(communes: pd.DataFrame, column: str, within: dict[str, list[str]]) -> list[str]:
    """Every unit the communes list in ``column`` (of those matching ``within``), sorted."""
    shown = communes[in_groups(communes, within)]
    return sorted({u for v in shown[column] for u in split_joined(v)}, key=fold_diacritics)


def _group_filters(lang: Lang, pkg, column, disabled: bool) -> dict[str, list[str]]:
    """The area filter: districts before the reform; former province, then district, in 2025-07."""
    communes = pkg.communes
    if is_pre_reform(common.layout(pkg)):
        districts = column.multiselect(
            t("map.district", lang),
            sorted(communes["district_name"].unique()),
            key="downloads_districts",
            placeholder=t("map.all", lang),
            disabled=disabled,
        )
        return {"district_name": districts}
    chosen: dict[str, list[str]] = {}
    for group in common.groups(pkg):
        options = _unit_options(communes, group, chosen)
        key = f"downloads_{group}"
        if key in st.session_state:  # a finer unit no longer offered after a coarser choice changed
            st.session_state[key] = [u for u in st.session_state[key] if u in options]
        chosen[group] = column.multiselect(
            t(f"group.{group}", lang),
            options,
            key=key,
            placeholder=t("map.all", lang),
            disabled=disabled,
        )
    return chosen


def _options(lang: Lang, pkg) -> dict:
    layer = st.selectbox(
        t("dl.layer", lang), LAYERS, key="downloads_layer", format_func=lambda k: t(f"dl.{k}", lang)
    )
    c1, c2, c3 = st.columns(3)
    groups = _group_filters(lang, pkg, c1, disabled=layer in ("coverage", "fibre_plan"))
    operators = sorted(pkg.cells["operator"].astype(str).unique())
    operator = c2.selectbox(
        t("map.operator", lang),
        ["", *operators],
        key="downloads_operator",
        format_func=lambda o: o or t("map.all", lang),
        disabled=layer not in ("gaps", "coverage"),
    )
    flags = c3.multiselect(
        t("map.flags", lang),
        FLAGS,
        key="downloads_flags",
        placeholder=t("map.all", lang),
        disabled=layer != "gaps",
        format_func=lambda f: flag_label(f, lang),
    )
    formats = ("tif",) if layer == "coverage" else VECTOR_FORMATS
    fmt = st.radio(
        t("dl.format", lang),
        formats,
        key=f"downloads_format_{layer == 'coverage'}",
        horizontal=True,
        format_func=lambda f: t(f"fmt.{f}", lang),
    )
    return {"layer": layer, "groups": groups, "operator": operator, "flags": flags, "format": fmt}


def render() -> None:
    """Page function: choose, filter, download."""
    lang = common.lang()
    st.title(t("page.downloads", lang))
    pkg = common.package()
    if pkg is None:
        return
    common.synthetic_note(pkg)
    st.write(t("dl.intro", lang))
    opts = _options(lang, pkg)
    common.analysis_ready(pkg, common.gap_params())
    with st.spinner(t("dl.preparing", lang)):
        data, count = _payload(opts["layer"], opts["format"], pkg, opts)
    name = file_name(pkg.meta.province_name, opts["layer"], opts["format"])
    st.caption(
        t(
            "dl.summary",
            lang,
            n=format_number(count, lang),
            size=format_number(len(data) / 1024, lang, decimals=1),
        )
    )
    st.download_button(
        t("dl.button", lang, name=name),
        data=data,
        file_name=name,
        key="downloads_button",
        mime="application/octet-stream",
        type="primary",
    )
