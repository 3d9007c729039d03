"""One-click A4 PDF snapshot report for provincial leadership (Vietnamese by default, or English).

Built on the server with fpdf2 and the DejaVu Sans fonts that ship inside matplotlib (every
Vietnamese glyph; the text stays extractable with ``pdftotext`` / pypdf). Contents: title with
province and date, data vintage and the synthetic layers (clearly labelled), KPI cards against the
national 2025 targets, charts by group (districts; in the 2025-07 layout former provinces, with
each former province's figures beside what it published), a static map, the top-N priority hamlets
with their one-line explanation, the thresholds used and the sources.

Nothing here writes files: :func:`build_snapshot_pdf` returns the PDF as bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from fpdf.enums import XPos, YPos

from analysis import gaps as gap_analysis
from analysis.gaps import FLAG_INFO, GapFlag
from analysis.grouping import former_provinces_of, is_pre_reform
from analysis.kpi import (
    Kpi,
    KpiKey,
    KpiSnapshot,
    KpiStatus,
    KpiTargets,
    compute_kpis,
    former_province_comparison,
    targets_from_gap_params,
)
from analysis.params import GapParams, default_gap_params
from geo.errors import ParameterError, SchemaError
from layers.charts import (
    district_share_chart_png,
    district_underserved_chart_png,
    kpi_label,
    province_map_png,
)
from layers.i18n import Lang, format_date, format_number, format_percent, t
from layers.report_base import (
    BASE_STRINGS,
    FONT_DIR,
    LayerSource,
    ReportMeta,
    ReportPDF,
    report_meta_from_package,
)
from layers.report_base import FONT as _FONT
from layers.report_base import check_lang as _check_lang
from layers.report_base import date_text as _date_text
from layers.report_base import heading as _heading
from layers.report_base import headings_style as _headings_style
from layers.report_base import image as _image
from layers.report_base import keep_with_image as _keep_with_image
from layers.report_base import layer_name as _layer_name
from layers.report_base import nfc as _nfc
from layers.report_base import note as _note
from layers.report_base import png_aspect as _png_aspect
from layers.report_base import synthetic_box as _synthetic_box
from layers.report_base import two_col_table as _two_col_table

if TYPE_CHECKING:
    from geo.package import DataPackage

__all__ = [
    "FONT_DIR",
    "KpiCardText",
    "LayerSource",
    "ReportMeta",
    "kpi_card_text",
    "package_comparison",
    "published_comparison_rows",
    "report_meta_from_package",
    "render_snapshot_pdf",
    "build_snapshot_pdf",
]

log = logging.getLogger(__name__)

"""Where DejaVu Sans (Bitstream Vera licence, shipped with matplotlib) is read from."""


# key -> (Vietnamese, English)
_T: dict[str, tuple[str, str]] = {
    **BASE_STRINGS,
    "title": ("Báo cáo nhanh hạ tầng số", "Digital infrastructure snapshot"),
    "province": ("Tỉnh {name}", "{name} province"),
    "kpis": ("Chỉ tiêu chính so với mục tiêu 2025", "Key indicators against the 2025 targets"),
    "target": ("Mục tiêu: {value}", "Target: {value}"),
    "no_target": ("Không có mục tiêu quốc gia", "No national target"),
    "met": ("ĐẠT", "MET"),
    "not_met": ("CHƯA ĐẠT", "NOT MET"),
    "no_data": ("KHÔNG CÓ DỮ LIỆU", "NO DATA"),
    "gap_share": ("còn thiếu {gap} điểm %", "{gap} percentage points to go"),
    "gap_share_above": ("vượt mục tiêu {gap} điểm %", "{gap} percentage points above target"),
    "gap_count": ("vượt mục tiêu {gap}", "{gap} above target"),
    "of_total_hh": ("trên {total} hộ", "of {total} households"),
    "count_of_total_hh": ("{count} hộ trên {total} hộ", "{count} of {total} households"),
    "of_total_adults": ("khảo sát {total} người lớn", "of {total} adults surveyed"),
    "of_total_survey_hh": ("khảo sát {total} hộ", "of {total} households surveyed"),
    "of_total_communes": ("trên {total} xã/phường/thị trấn", "of {total} communes"),
    "of_total_hamlets": ("trên {total} ấp/khóm", "of {total} hamlets"),
    "districts": ("Theo huyện/thị xã/thành phố", "By district"),
    "chart_note": (
        "Cột xanh: đạt mục tiêu; cột đỏ: chưa đạt; đường nét đứt: mục tiêu.",
        "Blue bars meet the target, red bars do not; dashed line: target.",
    ),
    "map": ("Bản đồ: {indicator} theo xã và các ấp/khóm còn thiếu hụt",
            "Map: {indicator} by commune and the under-served hamlets"),
    "map_note": (
        "Màu xã: {indicator} (xám: chưa có số liệu). Chấm: ấp/khóm có ít nhất một thiếu hụt, màu theo "
        "thiếu hụt nặng nhất, kích thước theo số hộ.",
        "Commune colour: {indicator} (grey: no data). Dots: hamlets with at least one gap, coloured by "
        "their most severe gap, sized by households.",
    ),
    "underserved_by_district": ("Ấp/khóm còn thiếu hụt theo huyện", "Under-served hamlets by district"),
    "underserved_by_former_province": ("Ấp/khóm còn thiếu hụt theo tỉnh cũ (trước 1/7/2025)",
                                       "Under-served hamlets by former province (before 1 July 2025)"),
    "underserved_by_former_district": ("Ấp/khóm còn thiếu hụt theo huyện cũ (trước 1/7/2025)",
                                       "Under-served hamlets by former district (before 1 July 2025)"),
    "col_commune_former": ("Xã / huyện cũ", "Commune / former district"),
    "top": ("{n} ấp/khóm ưu tiên hàng đầu", "Top {n} priority hamlets"),
    "top_none": ("Không có ấp/khóm nào bị gắn cờ thiếu hụt.", "No hamlet is flagged as under-served."),
    "col_rank": ("#", "#"),
    "col_hamlet": ("Ấp/khóm", "Hamlet"),
    "col_commune": ("Xã / Huyện", "Commune / district"),
    "col_hh": ("Số hộ", "House-holds"),
    "col_priority": ("Điểm ưu tiên", "Priority"),
    "col_flags": ("Thiếu hụt", "Gaps"),
    "col_explain": ("Giải thích", "Explanation"),
    "thresholds": ("Ngưỡng và mục tiêu đã dùng", "Thresholds and targets used"),
    "sources": ("Nguồn dữ liệu", "Sources"),
    "col_layer": ("Lớp", "Layer"),
    "col_kind": ("Loại", "Kind"),
    "col_source": ("Nguồn", "Source"),
    "col_licence": ("Giấy phép", "Licence"),
    "real": ("thật", "real"),
    "synthetic": ("TỔNG HỢP", "SYNTHETIC"),
    "policy": (
        "Mục tiêu: Quyết định 411/QĐ-TTg (2022) — 80 % người trưởng thành có điện thoại thông minh, 80 % hộ "
        "gia đình có cáp quang đến năm 2025; Quyết định 749/QĐ-TTg (2020) — phổ cập 4G, cáp quang đến 100 % "
        "xã. Hộ chưa có sóng 4G, số ấp/khóm và số hộ còn thiếu hụt: mục tiêu 0 là lựa chọn chính sách.",
        "Targets: Decision 411/QĐ-TTg (2022) — 80% of adults with a smartphone and 80% of households with "
        "fibre broadband by 2025; Decision 749/QĐ-TTg (2020) — universal 4G, fibre in 100% of communes. "
        "Households without 4G, under-served hamlets and households: a target of 0 is a policy choice.",
    ),
    "footer": ("PhuSong — báo cáo nhanh {province}", "PhuSong — {province} snapshot"),
    "basis_national_target": ("mục tiêu quốc gia", "national target"),
    "basis_province_average": ("trung bình của tỉnh", "province average"),
    "basis_lower_of_both": ("thấp hơn trong hai giá trị", "lower of the two"),
    "signal_layer": ("Sóng 4G theo ấp", "4G signal per hamlet"),
    "model": ("mô hình", "model"),
}


_THRESHOLD_LABELS: dict[str, tuple[str, str]] = {
    "weak_mobile": ("Sóng 4G yếu: tỷ lệ hộ có sóng 4G tốt dưới",
                    "Weak 4G: share of households with good 4G below"),
    "no_mobile": ("Không có sóng: tỷ lệ hộ không có 4G trên",
                  "No signal: share of households without 4G above"),
    "good_rsrp": ("Sóng 4G tốt: RSRP từ", "Good 4G: RSRP at least"),
    "drop": ("Trong tầm cáp quang (theo đường): tối đa", "Within fibre drop reach (by road): up to"),
    "extendable": ("Có thể kéo cáp: tối đa", "Extendable: up to"),
    "ftth": ("Ít dùng cáp quang: tỷ lệ hộ dưới", "Low FTTH take-up: share of households below"),
    "smartphone": ("Ít điện thoại thông minh: tỷ lệ người lớn dưới",
                   "Few smartphones: share of adults below"),
    "basis": ("Cách chọn ngưỡng FTTH/điện thoại", "Basis of the FTTH/smartphone thresholds"),
}






def _tr(key: str, lang: str, **fields: object) -> str:
    vi, en = _T[key]
    text = en if lang == "en" else vi
    return text.format(**fields) if fields else text
















def _title_block(pdf: ReportPDF, meta: ReportMeta, *, lang: str, today: dt.date) -> None:
    pdf.set_font(_FONT, "B", 17)
    pdf.cell(0, 9, _nfc(_tr("title", lang)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "B", 13)
    pdf.cell(0, 7, _nfc(_tr("province", lang, name=meta.province_name)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 9)
    pdf.cell(0, 5, _tr("made_on", lang, date=format_date(today, lang)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    created = _tr("created", lang, date=_date_text(meta.created, lang)) if meta.created else ""
    dataset = _tr("dataset", lang, name=meta.dataset_name, version=meta.version[:12] or "—", created=created)
    pdf.multi_cell(0, 4.5, _nfc(dataset), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    first, last = meta.survey_dates
    survey = "—" if not first else _date_text(first, lang)
    if last and last != first:
        survey += " – " + _date_text(last, lang)
    pdf.multi_cell(0, 4.5, _nfc(_tr("vintage", lang, vintage=meta.boundary_vintage, survey=survey)),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _synthetic_box(pdf, meta, lang=lang)




def _format_value(kpi: Kpi, lang: str) -> str:
    if not math.isfinite(kpi.value):
        return "—"
    return format_percent(kpi.value, lang, decimals=1) if kpi.is_share else format_number(kpi.value, lang)


def _target_text(kpi: Kpi, lang: str) -> str:
    if kpi.target is None:
        return _tr("no_target", lang)
    value = format_percent(kpi.target, lang, decimals=0) if kpi.is_share else format_number(kpi.target, lang)
    return _tr("target", lang, value=value)


def _status_text(kpi: Kpi, lang: str) -> tuple[str, str, tuple[int, int, int]]:
    """(status word, gap detail, RGB colour) of a KPI card."""
    status = kpi.status
    if status is KpiStatus.MET:
        return _tr("met", lang), "", (26, 127, 55)
    if status is KpiStatus.NO_DATA:
        return _tr("no_data", lang), "", (110, 110, 110)
    if status is KpiStatus.NO_TARGET:
        return "", "", (110, 110, 110)
    gap = kpi.gap or 0.0
    if kpi.is_share:
        key = "gap_share" if kpi.higher_is_better else "gap_share_above"  # no_4g: lower is better
        detail = _tr(key, lang, gap=format_number(100.0 * gap, lang, decimals=1))
    else:
        detail = _tr("gap_count", lang, gap=format_number(gap, lang))
    return _tr("not_met", lang), detail, (200, 30, 30)


_BASIS_KEY: dict[KpiKey, str] = {
    KpiKey.GOOD_4G: "of_total_hh", KpiKey.NO_4G: "count_of_total_hh", KpiKey.FTTH: "of_total_survey_hh",
    KpiKey.SMARTPHONE: "of_total_adults",
    KpiKey.INTERNET: "of_total_adults", KpiKey.COMMUNES_FIBRE: "of_total_communes",
    KpiKey.UNDERSERVED_HAMLETS: "of_total_hamlets", KpiKey.HOUSEHOLDS_AFFECTED: "of_total_hh",
}


@dataclass(frozen=True)
class KpiCardText:
    """The texts of one KPI card, as the PDF prints them (the app's cards use the same).

    Parameters
    ----------
    label
        Indicator name.
    value
        Formatted value (``67,4 %`` / ``67.4%``, or a count).
    basis
        What the value is out of (``khảo sát 1.270 người lớn``); for ``no_4g`` also the number of
        households without 4G (``100 hộ trên 400 hộ``).
    target
        ``Mục tiêu: 80 %`` / ``Target: 80%`` or "no national target".
    status
        ``ĐẠT`` / ``CHƯA ĐẠT`` / ``MET`` / ``NOT MET`` / no data; "" without a target.
    detail
        The gap still to go ("" when met).
    rgb
        Status colour (0–255 each).
    """

    label: str
    value: str
    basis: str
    target: str
    status: str
    detail: str
    rgb: tuple[int, int, int]


def kpi_card_text(kpi: Kpi, lang: Lang | str = "vi") -> KpiCardText:
    """Texts of a KPI card in ``lang`` (numbers formatted for the language)."""
    lang = _check_lang(str(lang))
    status, detail, colour = _status_text(kpi, lang)
    total = format_number(kpi.denominator, lang) if math.isfinite(kpi.denominator) else "—"
    count = format_number(round(kpi.numerator), lang) if math.isfinite(kpi.numerator) else "—"
    return KpiCardText(
        label=_nfc(kpi_label(kpi.key, lang)), value=_format_value(kpi, lang),
        basis=_nfc(_tr(_BASIS_KEY[kpi.key], lang, total=total, count=count)),
        target=_nfc(_target_text(kpi, lang)), status=_nfc(status), detail=_nfc(detail), rgb=colour,
    )


def _kpi_card(pdf: ReportPDF, kpi: Kpi, *, x: float, y: float, w: float, h: float, lang: str) -> None:
    card = kpi_card_text(kpi, lang)
    pdf.set_fill_color(246, 248, 251)
    pdf.set_draw_color(*card.rgb)
    pdf.set_line_width(0.6)
    pdf.rect(x, y, w, h, style="DF")
    pdf.set_line_width(0.2)
    pdf.set_xy(x + 2, y + 1.5)
    pdf.set_font(_FONT, "", 7.5)
    pdf.multi_cell(w - 4, 3.4, card.label, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    lines = (
        (9.0, 7.0, "B", 15.0, (0, 0, 0), card.value),
        (16.5, 3.2, "", 6.2, (90, 90, 90), card.basis),
        (20.0, 3.6, "", 7.5, (0, 0, 0), card.target),
        (23.8, 3.6, "B", 7.5, card.rgb, card.status),
        (27.2, 3.4, "", 6.8, card.rgb, card.detail),
    )
    for dy, height, style, size, rgb, text in lines:
        pdf.set_xy(x + 2, y + dy)
        pdf.set_font(_FONT, style, size)
        pdf.set_text_color(*rgb)
        pdf.cell(w - 4, height, text)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def _kpi_cards(pdf: ReportPDF, snapshot: KpiSnapshot, *, lang: str) -> None:
    _heading(pdf, _tr("kpis", lang))
    per_row, gap_mm, h = 4, 2.5, 32.0
    w = (pdf.epw - gap_mm * (per_row - 1)) / per_row
    y0 = pdf.get_y() + 1
    for i, kpi in enumerate(snapshot.kpis):
        row, col = divmod(i, per_row)
        x = pdf.l_margin + col * (w + gap_mm)
        _kpi_card(pdf, kpi, x=x, y=y0 + row * (h + gap_mm), w=w, h=h, lang=lang)
    rows = (len(snapshot.kpis) + per_row - 1) // per_row
    pdf.set_xy(pdf.l_margin, y0 + rows * (h + gap_mm))
    pdf.set_font(_FONT, "", 7)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 3.5, _nfc(_tr("policy", lang)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)










def _charts(pdf: ReportPDF, snapshot: KpiSnapshot, *, lang: str) -> None:
    group = snapshot.group_column
    if group is None:  # a 2025-07 package naming no former unit: the province is the only level
        _note(pdf, t("group.none", lang), size=8)
        return
    _heading(pdf, _tr("districts", lang) if group == "district_name" else t(f"group.by.{group}", lang))
    share_png = district_share_chart_png(snapshot.districts, targets=snapshot.targets, lang=lang,
                                         group_column=group)
    _image(pdf, share_png, width_mm=pdf.epw, aspect=_png_aspect(share_png))
    _note(pdf, _tr("chart_note", lang))
    if not is_pre_reform(snapshot.layout):
        _note(pdf, t("group.rule", lang))


def _underserved_chart(pdf: ReportPDF, snapshot: KpiSnapshot, *, lang: str) -> None:
    group = snapshot.group_column
    if group is None:
        return
    under_png = district_underserved_chart_png(snapshot.districts, lang=lang, group_column=group)
    _keep_with_image(pdf, under_png, width_mm=pdf.epw)
    _heading(pdf, _tr("underserved_by_district" if group == "district_name" else f"underserved_by_{group}",
                      lang))
    _image(pdf, under_png, width_mm=pdf.epw, aspect=_png_aspect(under_png))


def _indicator_label(indicator: str, lang: str) -> str:
    if not indicator:
        return "—"
    if indicator in KpiKey.__members__.values():
        return kpi_label(KpiKey(indicator), lang)
    return t(f"ind.{indicator}", lang)


def _figure_text(value: float, *, is_share: bool, lang: str) -> str:
    if not math.isfinite(value):
        return "—"
    if is_share:
        return format_percent(value, lang, decimals=1)
    return t("unit.per_100", lang, value=format_number(value, lang))


def published_comparison_rows(comparison: pd.DataFrame, lang: Lang | str = "vi", *,
                              sources: list[str] | None = None) -> list[list[str]]:
    """The former provinces' figures beside the published ones, as table rows of text.

    Parameters
    ----------
    comparison
        :func:`analysis.kpi.former_province_comparison`.
    lang
        ``"vi"`` or ``"en"``.
    sources
        When given, the source cell is a reference ("[1], 2023") and each distinct source is
        appended to this list once (number = position + 1); otherwise the cell holds the source.

    Returns
    -------
    list of list of str
        Per row: former province, indicator, this package's figure ("—" without data), the
        published figure ("—" when none) and its source with the year the figure describes ("none
        in our sources" when there is none). The header is ``snap.col_*`` of :mod:`layers.i18n`.
    """
    lang = str(lang)
    rows = []
    for r in comparison.itertuples(index=False):
        if r.source:
            if sources is not None:
                if r.source not in sources:
                    sources.append(str(r.source))
                source = f"[{sources.index(r.source) + 1}], {r.year}"
            else:
                source = f"{r.source} ({r.year})"
        else:
            source = t("snap.published_none", lang)
        rows.append([_nfc(r.former_province), _nfc(_indicator_label(str(r.indicator), lang)),
                     _figure_text(float(r.value), is_share=bool(r.is_share), lang=lang),
                     _figure_text(float(r.published), is_share=bool(r.is_share), lang=lang), _nfc(source)])
    return rows


def _published(pdf: ReportPDF, comparison: pd.DataFrame, meta: ReportMeta, *, lang: str) -> None:
    _heading(pdf, t("snap.published", lang))
    header = [t(f"snap.col_{k}", lang)
              for k in ("former_province", "indicator", "ours", "published", "source")]
    sources: list[str] = []
    rows = published_comparison_rows(comparison, lang, sources=sources)
    _two_col_table(pdf, rows, widths=(14, 30, 13, 16, 22), header=header)
    pdf.ln(1)
    for i, source in enumerate(sources, start=1):
        _note(pdf, f"[{i}] {source}")
    synthetic = t("snap.published_synthetic", lang) if "survey" in meta.synthetic_layers else ""
    _note(pdf, t("snap.published_note", lang, synthetic=synthetic))


def _map(pdf: ReportPDF, snapshot: KpiSnapshot, communes: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame, *,
         indicator: KpiKey, lang: str) -> None:
    label = kpi_label(indicator, lang)
    values = snapshot.communes.set_index("commune_id")[indicator.value]
    png = province_map_png(communes, values=values, value_label=label, hamlets=gaps, lang=lang,
                           target=snapshot.targets.target_for(indicator))
    _keep_with_image(pdf, png, width_mm=min(pdf.epw, 160.0))
    _heading(pdf, _tr("map", lang, indicator=label.lower() if lang == "en" else label))
    _image(pdf, png, width_mm=min(pdf.epw, 160.0), aspect=_png_aspect(png))
    pdf.set_font(_FONT, "", 7)
    pdf.multi_cell(0, 3.5, _nfc(_tr("map_note", lang, indicator=label)), new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)


def _flag_labels(flags: object, lang: str) -> str:
    out = []
    for token in str(flags or "").split(";"):
        token = token.strip()
        if token in GapFlag.__members__.values():
            info = FLAG_INFO[GapFlag(token)]
            out.append(info.label_en if lang == "en" else info.label_vi)
    return "; ".join(out)


def _top_hamlets(gaps: pd.DataFrame, communes: pd.DataFrame, *, top_n: int,
                 place: tuple[str, ...] = ("commune_name", "district_name")) -> pd.DataFrame:
    flagged = gaps[gaps["flags"].astype("string").fillna("").str.strip() != ""]
    if "priority_score" in flagged:
        flagged = flagged.sort_values("priority_score", ascending=False, kind="stable")
    top = pd.DataFrame(flagged.drop(columns="geometry", errors="ignore")).head(top_n).copy()
    names = communes.set_index(communes["commune_id"].astype(str))
    for col in place:
        if col not in top and col in names:
            top[col] = top["commune_id"].astype(str).map(names[col])
    return top


def _place_text(row: pd.Series, place: tuple[str, ...], lang: str) -> str:
    """"Xã An / Huyện Trà Cú"; in the 2025-07 layout "Xã Trà Cú / Huyện Trà Cú (cũ)"."""
    parts = []
    for col in place:
        value = row.get(col, "")
        text = "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
        if text and col == "former_district":
            text = t("group.former_unit", lang, name=text.replace(";", ", "))
        parts.append(text)
    return " / ".join(p for p in parts if p)


def _table_rows(top: pd.DataFrame, *, lang: str,
                place_columns: tuple[str, ...] = ("commune_name", "district_name")) -> list[list[str]]:
    explain_col = "explanation_en" if lang == "en" else "explanation_vi"
    rows = []
    for rank, (_, row) in enumerate(top.iterrows(), start=1):
        place = _place_text(row, place_columns, lang)
        score = row.get("priority_score", float("nan"))
        rows.append([
            format_number(rank, lang), _nfc(row.get("hamlet_name", row.get("hamlet_id", ""))), _nfc(place),
            format_number(float(row.get("households", float("nan"))), lang),
            format_number(float(score), lang, decimals=0),
            _nfc(_flag_labels(row.get("flags"), lang)), _nfc(row.get(explain_col, "")),
        ])
    return rows


def _priority_table(pdf: ReportPDF, gaps: pd.DataFrame, communes: pd.DataFrame, *, top_n: int,
                    lang: str, pre_reform: bool = True) -> None:
    place = ("commune_name", "district_name") if pre_reform else ("commune_name", "former_district")
    top = _top_hamlets(gaps, communes, top_n=top_n, place=place)
    _heading(pdf, _tr("top", lang, n=format_number(len(top), lang)))
    if top.empty:
        pdf.set_font(_FONT, "", 9)
        pdf.cell(0, 6, _tr("top_none", lang), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    header = [_tr(k, lang) for k in ("col_rank", "col_hamlet",
                                      "col_commune" if pre_reform else "col_commune_former", "col_hh",
                                      "col_priority", "col_flags", "col_explain")]
    pdf.set_font(_FONT, "", 6.8)
    with pdf.table(col_widths=(5, 18, 26, 11, 12, 27, 63), line_height=3.3, padding=0.8,
                   text_align=("RIGHT", "LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "LEFT"),
                   headings_style=_headings_style(), repeat_headings=1) as table:
        table.row(header)
        for values in _table_rows(top, lang=lang, place_columns=place):
            table.row(values)




def _share_text(value: float, lang: str) -> str:
    return format_percent(value, lang, decimals=0)


def _threshold_rows(params: GapParams, resolved: Mapping[str, Any], *, lang: str) -> list[tuple[str, str]]:
    th, reach, sig = params.thresholds, params.reach, params.signal
    ftth = float(resolved.get("ftth_min_share", th.ftth_min_share))
    smart = float(resolved.get("smartphone_min_share", th.smartphone_min_share))
    m = "m"
    values = {
        "weak_mobile": _share_text(th.weak_mobile_min_share_good_4g, lang),
        "no_mobile": _share_text(th.no_mobile_max_share_no_4g, lang),
        "good_rsrp": f"{format_number(sig.good_rsrp_dbm, lang)} dBm",
        "drop": f"{format_number(reach.drop_reach_m, lang)} {m}",
        "extendable": f"{format_number(reach.extendable_m, lang)} {m}",
        "ftth": _share_text(ftth, lang),
        "smartphone": _share_text(smart, lang),
        "basis": _tr(f"basis_{th.basis}", lang),
    }
    return [(_THRESHOLD_LABELS[k][1 if lang == "en" else 0], v) for k, v in values.items()]




def _thresholds_and_sources(pdf: ReportPDF, meta: ReportMeta, params: GapParams,
                            gaps: pd.DataFrame, *, lang: str) -> None:
    _heading(pdf, _tr("thresholds", lang))
    _two_col_table(pdf, _threshold_rows(params, _resolved_thresholds(gaps), lang=lang), widths=(3, 1))
    _heading(pdf, _tr("sources", lang))
    header = [_tr(k, lang) for k in ("col_layer", "col_kind", "col_source", "col_licence")]
    rows = [[_layer_name(layer.key, lang), _tr("synthetic" if layer.synthetic else "real", lang),
             layer.source, layer.licence] for layer in meta.layers]
    signal = str(_gap_attrs(gaps).get("signal_source", ""))
    if signal:
        rows.append([_tr("signal_layer", lang), _tr("model", lang), signal, ""])
    _two_col_table(pdf, rows, widths=(18, 10, 54, 12), header=header)


def _gap_attrs(gaps: pd.DataFrame) -> Mapping[str, Any]:
    """The gap table's export metadata (``attrs["phusong"]``), or an empty mapping."""
    attrs = gaps.attrs.get("phusong", {})
    return attrs if isinstance(attrs, Mapping) else {}


def _resolved_thresholds(gaps: pd.DataFrame) -> Mapping[str, Any]:
    """Resolved FTTH/smartphone thresholds from the gap table's metadata, when it carries them.

    They differ from the configured targets when the threshold basis is the province average.
    """
    attrs = _gap_attrs(gaps)
    out: dict[str, Any] = {}
    for key in ("ftth_min_share", "smartphone_min_share"):
        try:
            out[key] = float(attrs[f"threshold_{key}"])
        except (KeyError, TypeError, ValueError):
            continue
    return out




def render_snapshot_pdf(*, meta: ReportMeta, snapshot: KpiSnapshot, communes: gpd.GeoDataFrame,
                        gaps: gpd.GeoDataFrame, params: GapParams, lang: Lang | str = "vi", top_n: int = 10,
                        map_indicator: KpiKey = KpiKey.FTTH, today: dt.date | None = None,
                        comparison: pd.DataFrame | None = None) -> bytes:
    """Lay out the snapshot report from ready results (no analysis here).

    Parameters
    ----------
    meta
        Province, data vintage and layer provenance.
    snapshot
        :func:`analysis.kpi.compute_kpis` result.
    communes
        Commune polygons (EPSG:4326) with ``commune_id`` (and names).
    gaps
        :func:`analysis.gaps.compute_gaps` result (EPSG:4326).
    params
        The gap parameters used (their thresholds are printed).
    lang
        ``"vi"`` (default) or ``"en"``.
    top_n
        Number of priority hamlets listed.
    map_indicator
        Share KPI the commune choropleth shows.
    today
        Report date (default: today's date).
    comparison
        :func:`analysis.kpi.former_province_comparison` (2025-07 layout): printed as "former
        provinces: this package's figures and what each published"; ``None`` = no such section.

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    ParameterError
        Unknown language, ``top_n`` < 1 or a count KPI as the map indicator.
    SchemaError
        If ``gaps`` lacks ``flags``.
    """
    lang = _check_lang(str(lang))
    if top_n < 1:
        raise ParameterError(f"top_n must be at least 1, got {top_n}")
    if map_indicator in (KpiKey.UNDERSERVED_HAMLETS, KpiKey.HOUSEHOLDS_AFFECTED):
        raise ParameterError(f"map_indicator must be a share KPI, got {map_indicator.value!r}")
    if "flags" not in gaps:
        raise SchemaError("gap table lacks column flags")
    today = today or dt.date.today()
    footer = _tr("footer", lang, province=_nfc(meta.province_name))
    pdf = ReportPDF(lang=lang, footer_text=footer, synthetic=bool(meta.synthetic_layers))
    pdf.set_title(_nfc(f"{_tr('title', lang)} — {meta.province_name}"))
    pdf.set_author("PhuSong")
    pdf.set_lang(lang)
    pdf.set_creation_date(dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC))
    pdf.add_page()
    _title_block(pdf, meta, lang=lang, today=today)
    _kpi_cards(pdf, snapshot, lang=lang)
    _charts(pdf, snapshot, lang=lang)
    pdf.add_page()
    if comparison is not None and not comparison.empty:
        _published(pdf, comparison, meta, lang=lang)
    _map(pdf, snapshot, communes, gaps, indicator=map_indicator, lang=lang)
    _underserved_chart(pdf, snapshot, lang=lang)
    pdf.add_page()
    _priority_table(pdf, gaps, communes, top_n=top_n, lang=lang, pre_reform=is_pre_reform(snapshot.layout))
    _thresholds_and_sources(pdf, meta, params, gaps, lang=lang)
    return bytes(pdf.output())


def build_snapshot_pdf(pkg: DataPackage, *, lang: Lang | str = "vi", params: GapParams | None = None,
                       gaps: gpd.GeoDataFrame | None = None, targets: KpiTargets | None = None,
                       top_n: int = 10, today: dt.date | None = None) -> bytes:
    """The leadership snapshot of one data package as an A4 PDF.

    Parameters
    ----------
    pkg
        Loaded data package (:func:`geo.package.load_package`).
    lang
        ``"vi"`` (default) or ``"en"``.
    params
        Gap parameters (default :func:`analysis.params.default_gap_params`).
    gaps
        A gap table already computed with ``params`` (the app passes its cached one); ``None`` =
        compute it here.
    targets
        KPI targets (default: from ``params`` via :func:`analysis.kpi.targets_from_gap_params`).
    top_n
        Number of priority hamlets listed.
    today
        Report date (default: today).

    Returns
    -------
    bytes
        The PDF.
    """
    lang = _check_lang(str(lang))
    params = params or default_gap_params()
    if gaps is None:
        log.info("computing gaps for the snapshot report")
        gaps = gap_analysis.compute_gaps(pkg, params)
    targets = targets or targets_from_gap_params(params)
    layout = str(getattr(pkg.meta, "layout", "2009") or "2009")
    snapshot = compute_kpis(gaps, communes=pkg.communes, survey=pkg.survey, fibre_nodes=pkg.fibre_nodes,
                            targets=targets, layout=layout)
    return render_snapshot_pdf(meta=report_meta_from_package(pkg), snapshot=snapshot, communes=pkg.communes,
                               gaps=gaps, params=params, lang=lang, top_n=top_n, today=today,
                               comparison=package_comparison(pkg, snapshot))


def package_comparison(pkg: DataPackage, snapshot: KpiSnapshot) -> pd.DataFrame | None:
    """The former provinces' figures beside the published ones for a 2025-07 package, else ``None``.

    Lists every former province the package's province was made of (official old → new mapping)
    and any other its communes name.
    """
    if is_pre_reform(snapshot.layout):
        return None
    code = str(pkg.meta.province_code)
    return former_province_comparison(snapshot, province_code=code,
                                      former_provinces=former_provinces_of(code))
