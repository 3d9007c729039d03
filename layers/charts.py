"""Static charts and the static province map of the leadership snapshot, as PNG bytes.

Matplotlib's object API with the Agg canvas only: every function builds its own
:class:`matplotlib.figure.Figure`, renders it and lets it go, so nothing is left in pyplot's global
figure registry and ``rcParams`` are never changed (one Streamlit process serves many users).
Labels use matplotlib's bundled DejaVu Sans, which has every Vietnamese glyph.
"""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.gaps import FLAG_INFO, GapFlag
from analysis.kpi import KpiKey, KpiTargets, higher_is_better
from geo.errors import SchemaError
from layers.i18n import Lang, format_number, format_percent

__all__ = [
    "FONT_FAMILY",
    "KPI_LABELS",
    "GAP_KIND_LABELS",
    "kpi_label",
    "group_labels",
    "district_share_chart_png",
    "district_underserved_chart_png",
    "province_map_png",
]

log = logging.getLogger(__name__)

FONT_FAMILY = "DejaVu Sans"
"""Font of every label (ships inside matplotlib; covers Vietnamese)."""

KPI_LABELS: dict[KpiKey, tuple[str, str]] = {
    KpiKey.GOOD_4G: ("Tỷ lệ hộ có sóng 4G tốt", "Households with good 4G"),
    KpiKey.NO_4G: ("Tỷ lệ hộ chưa có sóng 4G", "Households without 4G"),
    KpiKey.FTTH: ("Tỷ lệ hộ dùng cáp quang (FTTH)", "Households with fibre (FTTH)"),
    KpiKey.SMARTPHONE: ("Tỷ lệ người lớn có điện thoại thông minh", "Adults with a smartphone"),
    KpiKey.INTERNET: ("Tỷ lệ người lớn dùng Internet", "Adults using the internet"),
    KpiKey.COMMUNES_FIBRE: ("Tỷ lệ xã có cáp quang", "Communes with fibre"),
    KpiKey.UNDERSERVED_HAMLETS: ("Số ấp/khóm còn thiếu hụt", "Under-served hamlets"),
    KpiKey.HOUSEHOLDS_AFFECTED: ("Số hộ bị ảnh hưởng", "Households affected"),
}
"""(Vietnamese, English) name of each KPI."""

GAP_KIND_LABELS: dict[str, tuple[str, str]] = {
    "signal": ("Thiếu sóng 4G", "Signal gap (4G)"),
    "infrastructure": ("Chưa có cáp quang", "No fibre reach"),
    "usage": ("Ít dùng cáp quang", "Low FTTH take-up"),
    "device": ("Ít điện thoại thông minh", "Few smartphones"),
}
"""(Vietnamese, English) label of each gap kind (colour of a hamlet on the map)."""

_GAP_KIND_COLOURS: dict[str, str] = {
    "signal": "#d62728", "infrastructure": "#ff7f0e", "usage": "#9467bd", "device": "#8c564b",
}
_FLAG_ORDER: tuple[GapFlag, ...] = (
    GapFlag.NO_MOBILE_COVERAGE, GapFlag.WEAK_MOBILE_COVERAGE, GapFlag.NO_FIBRE_REACH,
    GapFlag.LOW_FTTH_TAKEUP, GapFlag.LOW_SMARTPHONE,
)
_MET_COLOUR = "#2c7fb8"
_NOT_MET_COLOUR = "#f03b20"
_TARGET_COLOUR = "#333333"


def kpi_label(key: KpiKey | str, lang: Lang | str = "vi") -> str:
    """Name of a KPI in ``lang``."""
    vi, en = KPI_LABELS[KpiKey(key)]
    return en if lang == "en" else vi


def _new_figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure, *, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def _short_district(name: str) -> str:
    """Drop the administrative prefix for axis labels ("Huyện Trà Cú" → "Trà Cú")."""
    for prefix in ("Thành phố ", "Thị xã ", "Huyện ", "Quận ", "TP. ", "TP ", "TX. ", "TX "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def group_labels(table: pd.DataFrame, group_column: str = "district_name") -> list[str]:
    """Axis labels of a group table's rows.

    Districts without their prefix ("Trà Cú"); former provinces as named; a former district with
    its former province ("Châu Thành (Bến Tre)"), since both Trà Vinh and Bến Tre had one. A ``$``
    in a name is escaped (shown as written, never as mathtext).
    """
    names = [str(n) for n in table[group_column]]
    if group_column == "former_district" and "former_province" in table:
        labels = [f"{_short_district(d)} ({p})" for d, p in zip(names, table["former_province"], strict=True)]
    elif group_column == "former_province":
        labels = names
    else:
        labels = [_short_district(n) for n in names]
    return [label.replace("$", r"\$") for label in labels]  # data, never matplotlib mathtext


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"{what} lacks column(s) {', '.join(missing)}")


def _meets(value: float, target: float, *, higher: bool) -> bool:
    """Whether a district value meets its target (as :attr:`analysis.kpi.Kpi.status` decides)."""
    if not np.isfinite(value):
        return False
    return value >= target - 1e-12 if higher else value <= target + 1e-12


def _share_panel(ax: Axes, districts: pd.DataFrame, key: KpiKey, target: float | None, lang: str, *,
                 title_width: int = 30) -> None:
    values = districts[key.value].astype(float).to_numpy()
    y = np.arange(len(values))
    higher = higher_is_better(key)
    colours = [_MET_COLOUR if target is None or _meets(float(v), target, higher=higher) else _NOT_MET_COLOUR
               for v in values]
    ax.barh(y, np.nan_to_num(values), color=colours, height=0.7)
    for yi, v in zip(y, values, strict=True):
        text = format_percent(float(v), lang, decimals=0) if np.isfinite(v) else "—"
        x = min(float(np.nan_to_num(v)), 1.0) + 0.01
        ax.text(x, float(yi), text, va="center", fontsize=7, family=FONT_FAMILY)
    if target is not None:
        ax.axvline(target, color=_TARGET_COLOUR, linestyle="--", linewidth=1)
    ax.set_xlim(0, 1.18)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_percent(x, lang, decimals=0)))
    ax.set_xticks([0, 0.5, 1.0])
    ax.set_title(textwrap.fill(kpi_label(key, lang), title_width), fontsize=8, family=FONT_FAMILY)
    ax.tick_params(labelsize=7)
    ax.invert_yaxis()


def district_share_chart_png(districts: pd.DataFrame, *, targets: KpiTargets, lang: Lang | str = "vi",
                             keys: Sequence[KpiKey] = (KpiKey.GOOD_4G, KpiKey.NO_4G, KpiKey.FTTH,
                                                       KpiKey.SMARTPHONE),
                             width_in: float = 7.5, height_in: float | None = None, dpi: int = 150,
                             group_column: str = "district_name") -> bytes:
    """Side-by-side horizontal bars of share KPIs per group, with each target as a dashed line.

    Bars that meet the target are blue, the others red (for ``no_4g``, lower is better: a district
    meets a target of 0 only when none of its households is without 4G).

    Parameters
    ----------
    districts
        :attr:`analysis.kpi.KpiSnapshot.districts` or a table of
        :attr:`analysis.kpi.KpiSnapshot.levels` (``group_column`` and the KPI columns, 0–1).
    targets
        Targets drawn as dashed lines.
    lang
        ``"vi"`` or ``"en"`` (labels and number format).
    keys
        Which share KPIs, one panel each.
    width_in, height_in
        Figure size in inches (height default grows with the number of districts).
    dpi
        Resolution of the PNG.
    group_column
        The column naming the rows: ``district_name`` (default), ``former_province`` or
        ``former_district`` (:func:`group_labels`).

    Returns
    -------
    bytes
        A PNG image.
    """
    _require(districts, [group_column, *(k.value for k in keys)], "group table")
    height_in = height_in or max(2.2, 0.9 + 0.28 * len(districts))
    fig = _new_figure(width_in, height_in)
    axes = fig.subplots(1, len(keys), sharey=True, squeeze=False)[0]
    names = group_labels(districts, group_column)
    title_width = max(16, min(30, int(88 / max(1, len(keys)))))  # narrower panels, shorter title lines
    for i, (ax, key) in enumerate(zip(axes, keys, strict=True)):
        _share_panel(ax, districts, key, targets.target_for(key), str(lang), title_width=title_width)
        ax.set_yticks(np.arange(len(names)))
        if i == 0:
            ax.set_yticklabels(names, fontsize=7, family=FONT_FAMILY)
    return _png(fig, dpi=dpi)


def district_underserved_chart_png(districts: pd.DataFrame, *, lang: Lang | str = "vi",
                                   width_in: float = 7.5, height_in: float | None = None,
                                   dpi: int = 150, group_column: str = "district_name") -> bytes:
    """Under-served hamlets and households affected per group (two bar panels).

    Parameters
    ----------
    districts
        :attr:`analysis.kpi.KpiSnapshot.districts` or a table of its ``levels``.
    lang, width_in, height_in, dpi, group_column
        As for :func:`district_share_chart_png`.

    Returns
    -------
    bytes
        A PNG image.
    """
    keys = (KpiKey.UNDERSERVED_HAMLETS, KpiKey.HOUSEHOLDS_AFFECTED)
    _require(districts, [group_column, *(k.value for k in keys)], "group table")
    height_in = height_in or max(2.2, 0.9 + 0.28 * len(districts))
    fig = _new_figure(width_in, height_in)
    axes = fig.subplots(1, 2, sharey=True, squeeze=False)[0]
    names = group_labels(districts, group_column)
    y = np.arange(len(names))
    for ax, key in zip(axes, keys, strict=True):
        values = districts[key.value].astype(float).to_numpy()
        ax.barh(y, values, color="#fd8d3c", height=0.7)
        top = float(values.max()) if len(values) and values.max() > 0 else 1.0
        for yi, v in zip(y, values, strict=True):
            ax.text(v + 0.01 * top, yi, format_number(float(v), lang), va="center", fontsize=7,
                    family=FONT_FAMILY)
        ax.set_xlim(0, top * 1.22)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_number(x, lang)))
        ax.set_title(textwrap.fill(kpi_label(key, lang), 30), fontsize=8, family=FONT_FAMILY)
        ax.tick_params(labelsize=7)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(names, fontsize=7, family=FONT_FAMILY)
    axes[0].invert_yaxis()
    return _png(fig, dpi=dpi)


def _main_gap_kind(flags: pd.Series) -> pd.Series:
    """The most severe gap kind of each hamlet ("" when it has no flag)."""
    tokens = flags.astype("string").fillna("").map(lambda s: {t.strip() for t in str(s).split(";")})
    kind = pd.Series("", index=flags.index, dtype=object)
    for flag in reversed(_FLAG_ORDER):
        has = tokens.map(lambda found, f=flag.value: f in found).astype(bool)
        kind = kind.where(~has, FLAG_INFO[flag].gap_kind)
    return kind


def _draw_hamlets(ax: Axes, hamlets: gpd.GeoDataFrame, lang: str) -> list[Line2D]:
    """Under-served hamlets as points coloured by their main gap kind; returns legend handles."""
    _require(hamlets, ["flags", "households"], "hamlet gap table")
    kind = _main_gap_kind(hamlets["flags"])
    flagged = hamlets[kind != ""]
    kinds = kind[kind != ""]
    points = flagged.geometry.representative_point()
    households = pd.to_numeric(flagged["households"], errors="coerce").fillna(0.0).to_numpy()
    sizes = 4.0 + 26.0 * np.sqrt(households / max(1.0, float(households.max(initial=1.0))))
    handles = []
    for name, colour in _GAP_KIND_COLOURS.items():
        sel = (kinds == name).to_numpy()
        if not sel.any():
            continue
        ax.scatter(points.x.to_numpy()[sel], points.y.to_numpy()[sel], s=sizes[sel], c=colour,
                   edgecolors="white", linewidths=0.3, zorder=3)
        vi, en = GAP_KIND_LABELS[name]
        label = f"{en if lang == 'en' else vi} ({format_number(int(sel.sum()), lang)})"
        handles.append(Line2D([], [], marker="o", linestyle="", color=colour, label=label, markersize=5))
    return handles


def province_map_png(communes: gpd.GeoDataFrame, *, values: pd.Series, value_label: str,
                     hamlets: gpd.GeoDataFrame | None = None, lang: Lang | str = "vi",
                     target: float | None = None, title: str = "", width_in: float = 7.0,
                     height_in: float | None = None, dpi: int = 150) -> bytes:
    """A static map: communes as a choropleth of a share (0–1), under-served hamlets on top.

    Parameters
    ----------
    communes
        Commune polygons with ``commune_id`` (EPSG:4326; drawn in lon/lat with the aspect
        corrected for latitude).
    values
        Share per commune (0–1) indexed by ``commune_id``; communes without a value are grey.
    value_label
        Colour-bar caption.
    hamlets
        The gap table (:func:`analysis.gaps.compute_gaps`, EPSG:4326) with ``flags`` and
        ``households``; flagged hamlets are drawn as points coloured by their most severe gap kind
        and sized by households. ``None`` = no points.
    lang
        ``"vi"`` or ``"en"``.
    target
        When given, drawn as a mark on the colour bar.
    title
        Optional title.
    width_in, height_in, dpi
        Figure size (inches) and resolution; the default height follows the province's shape.

    Returns
    -------
    bytes
        A PNG image.

    Raises
    ------
    SchemaError
        If ``communes`` lacks ``commune_id`` or is empty, or ``values`` match no commune.
    """
    _require(communes, ["commune_id"], "commune layer")
    if communes.empty:
        raise SchemaError("commune layer is empty: nothing to draw")
    shares = communes["commune_id"].astype(str).map(values.rename(index=str)).astype(float)
    if values.notna().any() and shares.isna().all():
        raise SchemaError(
            "map values match no commune: index them by commune_id "
            f"(got index values such as {list(values.index[:3])})"
        )
    minx, miny, maxx, maxy = communes.total_bounds
    stretch = 1.0 / np.cos(np.radians((miny + maxy) / 2.0))
    if height_in is None:
        map_width_in = width_in - 1.2  # colour bar and margins
        ratio = (maxy - miny) * stretch / max(maxx - minx, 1e-9)
        height_in = float(np.clip(map_width_in * ratio + 0.5, 3.0, 9.0))
    fig = _new_figure(width_in, height_in)
    ax = fig.add_subplot()
    cmap = "YlGnBu"
    norm = Normalize(vmin=0.0, vmax=1.0)
    frame = communes.assign(_share=shares.to_numpy())
    missing = frame["_share"].isna()
    if missing.any():
        frame[missing].plot(ax=ax, color="#dddddd", edgecolor="white", linewidth=0.3)
    if (~missing).any():
        frame[~missing].plot(ax=ax, column="_share", cmap=cmap, norm=norm, edgecolor="white", linewidth=0.3)
    handles = _draw_hamlets(ax, hamlets, str(lang)) if hamlets is not None and not hamlets.empty else []
    ax.set_aspect(stretch)
    ax.set_axis_off()
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.55, pad=0.01)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_percent(x, lang, decimals=0)))
    bar.set_label(value_label, fontsize=8, family=FONT_FAMILY)
    bar.ax.tick_params(labelsize=7)
    if target is not None:
        bar.ax.axhline(target, color=_TARGET_COLOUR, linewidth=1.5)
    if handles:
        heading = "Ấp/khóm còn thiếu hụt" if lang != "en" else "Under-served hamlets"
        legend = ax.legend(handles=handles, loc="lower left", title=heading, title_fontsize=7,
                           frameon=True, prop={"family": FONT_FAMILY, "size": 7})
        legend.get_frame().set_alpha(0.85)
    if title:
        ax.set_title(title, fontsize=9, family=FONT_FAMILY)
    return _png(fig, dpi=dpi)
