"""Partners' downloads: a gap layer, filters and a format; same export code as the CLI.

The area filter is the package's group: districts before the reform; in the 2025-07 layout the
former province and former district (a commune matches when it lists the chosen unit among those
its territory came from). Tables of a 2025-07 package carry ``former_province``,
``former_district`` and ``old_commune_codes`` (and the hamlets' former commune).

Partners (docs/ACCESS.md, "What partners get"): every layer goes through
:func:`layers.access_filters.restrict_layer` with :func:`views.access.partner_operator` on the
server *before* its bytes are built, so a partner's file never holds another operator's sites,
cells or per-operator coverage (a coverage raster is the partner's own operator's only).

Audit: the bytes are built when the page runs (the summary shows their size), but the button hands
them to the browser through a callable (:func:`audited`): Streamlit runs it only when the file is
actually fetched, and it writes one ``download`` entry (who, layer, format, filters, rows) before
returning the bytes. So a rerun that rebuilds the file (another filter, another format) writes
nothing, and every file that leaves the server is written down once. The callable runs outside the
page's run (Streamlit's file handler), so the user is the one the page run checked, captured then.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from analysis.grouping import is_pre_reform, listed_units, split_joined
from geo.names import fold_diacritics
from layers.access_filters import CoverageRasters, coverage_raster, restrict_layer
from layers.exports import ExportFormat, export_bytes
from layers.i18n import Lang, format_number, t
from layers.map import flag_label
from views import access, common

LAYERS = ("gaps", "communes", "fibre_plan", "sites", "cells", "coverage")
#: Layers of base-station data: a partner's hold its own operator's only.
OPERATOR_LAYERS = ("sites", "cells", "coverage")
VECTOR_FORMATS = ("gpkg", "shp.zip", "kml", "geojson", "csv", "xlsx")
FLAGS = ("NO_MOBILE_COVERAGE", "WEAK_MOBILE_COVERAGE", "NO_FIBRE_REACH", "LOW_FTTH_TAKEUP", "LOW_SMARTPHONE")

#: This page's labels that layers/i18n.py does not have (yet): key -> (Vietnamese, English).
_LABELS: dict[str, tuple[str, str]] = {
    "dl.sites": ("Trạm BTS (vị trí trạm)", "Base-station sites"),
    "dl.cells": ("Cell của trạm BTS", "Base-station cells"),
    "dl.partner": (
        "Tài khoản đối tác {operator}: trạm, cell và vùng phủ sóng tải về chỉ gồm của {operator}; "
        "lớp thiếu hụt và chỉ tiêu xã là của cả tỉnh.",
        "Partner account of {operator}: downloads of sites, cells and coverage hold {operator}'s only; "
        "gap layers and commune indicators cover the whole province.",
    ),
}


def label(key: str, lang: Lang, **fields: object) -> str:
    """:func:`layers.i18n.t`, or this page's own label (:data:`_LABELS`) when i18n lacks ``key``."""
    if key not in _LABELS:
        return t(key, lang, **fields)
    vi, en = _LABELS[key]
    text = en if lang == "en" else vi
    return text.format(**fields) if fields else text


def audited(
    build: Callable[[], tuple[bytes, int]],
    *,
    user: Any,
    layer: str,
    fmt: str,
    filters: Mapping[str, object],
    audit: Any = None,
) -> Callable[[], bytes]:
    """A ``data=`` callable for ``st.download_button``: builds (or hands over) the file and audits it.

    Parameters
    ----------
    build
        Returns the file's bytes and its row count (features, table rows; 1 for a raster or a
        report).
    user
        The signed-in user, as the page's run found it (:func:`views.access.current_user`): the
        callable runs in Streamlit's file handler, where the session is not at hand.
    layer, fmt, filters
        What the audit entry says (filters: the area, flag and operator choices, and
        ``restricted_to`` for a partner).
    audit
        The :class:`auth.audit.AuditLog` (default :func:`views.access.audit_log`).

    Raises
    ------
    NotPermittedError
        ``user`` is None: a download is never served anonymously (nothing is built).
    """
    from geo.errors import NotPermittedError

    if user is None:
        raise NotPermittedError("sign in to download", "download")

    def serve() -> bytes:
        data, rows = build()
        (audit or access.audit_log()).download(user, layer, fmt, rows, dict(filters))
        return data

    return serve


def _ready(data: bytes, rows: int) -> Callable[[], tuple[bytes, int]]:
    """A :func:`audited` ``build`` for bytes built already."""
    return lambda: (data, rows)


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


def _geotiff(pkg, choice: str, operator: str | None, meta: dict[str, str]) -> bytes:
    """The 4G class raster: every operator's best class, or the chosen operator's own classes.

    A partner (``operator``) gets its own operator's classes whatever was chosen.
    """
    from geo.raster import write_cog

    cov = common.coverage(pkg.version, pkg)
    rasters = restrict_layer("coverage", CoverageRasters(cov.classes, cov.classes_by_operator), operator)
    chosen = operator or choice
    classes = coverage_raster(rasters, chosen)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_cog(
            Path(tmp) / "coverage.tif",
            np.asarray(classes, dtype=np.uint8),
            transform=cov.transform,
            crs=cov.crs,
            nodata=255,
            tags={**meta, "operator": chosen or "all operators (best class)"},
            band_description="4G coverage class: 0 none, 1 poor, 2 fair, 3 good; 255 outside",
        )
        return path.read_bytes()


def _stations(layer: str, pkg, choice: str) -> gpd.GeoDataFrame:
    """Sites (one row per site) or cells of the package, of the chosen operator when one is chosen."""
    data = common.sites(pkg.version, pkg) if layer == "sites" else pkg.cells
    if choice:
        data = data[data["operator"].astype(str) == choice]
    return data


def _payload(
    layer: str, fmt: ExportFormat, pkg, opts: dict, operator: str | None = None
) -> tuple[bytes, int]:
    """Export bytes and feature count of the chosen layer, restricted to ``operator`` (a partner's)."""
    params = common.gap_params()
    gaps = common.gaps(pkg.version, params, pkg)
    meta = dict(gaps.attrs.get("phusong", {}))
    meta["synthetic_layers"] = ", ".join(pkg.synthetic_layers) or "none"
    if operator:
        meta["restricted_to_operator"] = operator
    if layer == "coverage":
        return _geotiff(pkg, opts["operator"], operator, {**meta, "layer": "4G coverage classes"}), 1
    if layer == "gaps":
        data = _filtered_gaps(gaps, opts["groups"], opts["operator"], opts["flags"])
        data = restrict_layer("gaps", data, operator)
        return export_bytes(data, fmt, metadata=meta, layer="gaps"), len(data)
    if layer == "communes":
        data = common.commune_table(pkg.version, params, pkg)
        data = restrict_layer("communes", data[in_groups(data, opts["groups"])], operator)
        return export_bytes(data, fmt, metadata=meta, layer="communes"), len(data)
    if layer in ("sites", "cells"):
        data = restrict_layer(layer, _stations(layer, pkg, opts["operator"]), operator)
        meta["title"] = f"PhuSong base-station {layer}: {getattr(pkg.meta, 'name', '')}"
        return export_bytes(data, fmt, metadata=meta, layer=layer), len(data)
    fib = common.fibre(pkg.version, params, pkg)
    routes = restrict_layer("fibre_plan_routes", fib.plan.routes, operator)
    hamlets = fib.reach_layer[fib.reach_layer["plan_status"] != ""]
    hamlets = restrict_layer("fibre_plan_hamlets", hamlets, operator)
    if fmt in ("geojson", "csv"):
        return export_bytes(routes, fmt, metadata=fib.metadata, layer="fibre_plan"), len(routes)
    return export_bytes(
        {"fibre_plan_routes": routes, "fibre_plan_hamlets": hamlets}, fmt, metadata=fib.metadata
    ), len(routes)


def download_filters(opts: dict, operator: str | None) -> dict[str, object]:
    """The choices a download was made with, for the audit log (empty choices left out)."""
    layer = opts["layer"]
    out: dict[str, object] = {}
    if layer in ("gaps", "communes"):
        out.update({column: list(units) for column, units in opts["groups"].items() if units})
    if layer == "gaps":
        if opts["flags"]:
            out["flags"] = list(opts["flags"])
        if opts["operator"]:
            out["fibre_operator"] = opts["operator"]
    if layer in OPERATOR_LAYERS:
        out["operator"] = operator or opts["operator"] or "all"
    if operator:
        out["restricted_to"] = operator
    return out


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


def _options(lang: Lang, pkg, partner: str | None = None) -> dict:
    """The page's choices; a partner (``partner``: its operator) is offered its own operator only."""
    layer = st.selectbox(
        t("dl.layer", lang), LAYERS, key="downloads_layer", format_func=lambda k: label(f"dl.{k}", lang)
    )
    c1, c2, c3 = st.columns(3)
    groups = _group_filters(lang, pkg, c1, disabled=layer in ("coverage", "fibre_plan", "sites", "cells"))
    operators = [partner] if partner else sorted(pkg.cells["operator"].astype(str).unique())
    operator = c2.selectbox(
        t("map.operator", lang),
        ["", *operators],
        key="downloads_operator",
        format_func=lambda o: o or t("map.all", lang),
        disabled=layer not in ("gaps", *OPERATOR_LAYERS),
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
    access.require_page("downloads", t("auth.not_permitted", lang))
    st.title(t("page.downloads", lang))
    pkg = common.package()
    if pkg is None:
        return
    common.synthetic_note(pkg)
    st.write(t("dl.intro", lang))
    user, partner = access.current_user(), access.partner_operator()
    if partner:
        st.info(label("dl.partner", lang, operator=partner))
    opts = _options(lang, pkg, partner)
    common.analysis_ready(pkg, common.gap_params())
    with st.spinner(t("dl.preparing", lang)):
        data, count = _payload(opts["layer"], opts["format"], pkg, opts, partner)
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
        data=audited(
            _ready(data, count),
            user=user,
            layer=opts["layer"],
            fmt=opts["format"],
            filters=download_filters(opts, partner),
        ),
        file_name=name,
        key="downloads_button",
        mime="application/octet-stream",
        type="primary",
        on_click="ignore",
    )
