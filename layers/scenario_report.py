"""One-page A4 PDF of a scenario for leadership (Vietnamese by default, or English).

The same machinery as the snapshot (:mod:`layers.report_base`): title, data version and the
synthetic layers clearly labelled, what the scenario changes, its headline numbers (households
brought to good 4G, hamlets whose flags clear or appear, service lost in a switch-off, cost and cost
per household, with the placeholder-cost warning), the KPIs before and after against their targets,
and a map of the province after the scenario. Nothing here writes files.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from fpdf.enums import XPos, YPos

from analysis.kpi import KpiKey
from analysis.scenario.evaluate import ScenarioResult
from layers.charts import kpi_label, province_map_png
from layers.i18n import Lang, format_date, format_number, format_percent
from layers.report_base import (
    FONT,
    ReportPDF,
    check_lang,
    date_text,
    heading,
    image,
    nfc,
    note,
    png_aspect,
    report_meta_from_package,
    synthetic_box,
    tr,
    two_col_table,
)

__all__ = ["build_scenario_pdf"]

_T: dict[str, tuple[str, str]] = {
    "title": ("Kịch bản: {name}", "Scenario: {name}"),
    "province": ("Tỉnh {name} — so sánh trước / sau", "{name} province — before / after"),
    "base": ("Lập trên phiên bản dữ liệu {version}", "Made on data version {version}"),
    "changes": ("Kịch bản thay đổi gì", "What the scenario changes"),
    "results": ("Kết quả", "Results"),
    "kpis": ("Chỉ tiêu trước / sau so với mục tiêu", "Indicators before / after against the targets"),
    "map": (
        "Tỷ lệ hộ có sóng 4G tốt theo xã, sau kịch bản",
        "Share of households with good 4G by commune, after",
    ),
    "footer": ("PhuSong — kịch bản {name}", "PhuSong — scenario {name}"),
    "added_sites": (
        "Thêm {n} trạm ({shared} dùng chung cột, {new} cột mới)",
        "{n} sites added ({shared} on shared masts, {new} new masts)",
    ),  # fmt: skip
    "removed_sites": ("Bỏ {n} trạm: {ids}", "{n} sites removed: {ids}"),
    "moved_sites": ("Dời {n} trạm", "{n} sites moved"),
    "edited_cells": ("Sửa thông số {n} cell", "{n} cells edited"),
    "switch_off": ("Tắt sóng {techs} ({who})", "{techs} switched off ({who})"),
    "all_operators": ("mọi nhà mạng", "every operator"),
    "fibre_nodes": ("Thêm {n} nút cáp quang", "{n} fibre access nodes added"),
    "fibre_plan": ("Thực hiện kế hoạch mở rộng cáp quang", "The fibre extension plan is built"),
    "programme": (
        "Chương trình “{name}”: +{sp} điểm % điện thoại thông minh, +{ft} điểm % FTTH, {hh} hộ",
        "Programme “{name}”: +{sp} points smartphones, +{ft} points FTTH, {hh} households",
    ),  # fmt: skip
    "r_gained": ("Hộ có thêm sóng 4G tốt", "Households brought to good 4G"),
    "r_lost": ("Hộ mất sóng 4G tốt", "Households losing good 4G"),
    "r_cleared": ("Ấp/khóm hết ít nhất một thiếu hụt", "Hamlets with a gap cleared"),
    "r_unflagged": ("Ấp/khóm hết mọi thiếu hụt", "Hamlets with every gap cleared"),
    "r_new": ("Ấp/khóm có thiếu hụt mới", "Hamlets with a new gap"),
    "r_lose_all": (
        "Hộ mất hoàn toàn sóng di động ({n} ấp/khóm)",
        "Households losing all mobile service ({n} hamlets)",
    ),
    "r_weak": ("Hộ chỉ còn sóng yếu ({n} ấp/khóm)", "Households left with weak service ({n} hamlets)"),
    "r_op_lose": (
        "Hộ mất sóng của nhà mạng tắt sóng ({n} ấp/khóm)",
        "Households losing the switching operator's service ({n} hamlets)",
    ),  # fmt: skip
    "r_cost": ("Tổng chi phí", "Total cost"),
    "r_cost_hh": ("Chi phí cho mỗi hộ đạt mục tiêu", "Cost per household brought to target"),
    "placeholder": (
        "Đơn giá là giá trị tạm (chưa có giá công bố): thay bằng đơn giá của tỉnh trong "
        "analysis/config/scenario_costs.toml và gaps.toml trước khi dùng con số chi phí.",
        "Unit costs are placeholders (no published prices): replace them with the province's own in "
        "analysis/config/scenario_costs.toml and gaps.toml before using the cost figures.",
    ),
    "moved_note": (
        "Thiếu hụt có thể chuyển sang loại khác: khi cáp quang đến, “chưa có cáp” hết và "
        "“ít dùng cáp” có thể xuất hiện.",
        "A gap can change kind: when fibre arrives, 'no fibre' clears and 'low take-up' may appear.",
    ),  # fmt: skip
    "col_indicator": ("Chỉ tiêu", "Indicator"),
    "col_target": ("Mục tiêu", "Target"),
    "col_before": ("Trước", "Before"),
    "col_after": ("Sau", "After"),
    "vnd": ("{value} đồng", "VND {value}"),
    "none": ("—", "—"),
}


def _t(key: str, lang: str, **fields: object) -> str:
    vi, en = _T[key]
    text = en if lang == "en" else vi
    return text.format(**fields) if fields else text


def _num(value: object, lang: str, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return _t("none", lang)
    return format_number(float(value), lang, decimals=decimals)  # type: ignore[arg-type]


def _kpi_value(key: str, value: object, lang: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return _t("none", lang)
    if KpiKey(key) in (KpiKey.UNDERSERVED_HAMLETS, KpiKey.HOUSEHOLDS_AFFECTED):
        return format_number(float(value), lang, decimals=0)  # type: ignore[arg-type]
    return format_percent(float(value), lang, decimals=1)  # type: ignore[arg-type]


def _change_lines(result: ScenarioResult, lang: str) -> list[str]:
    s = result.scenario
    costs = result.costs.as_dict()
    lines = []
    n_sites = costs["new_mast_sites"] + costs["shared_mast_sites"]
    if n_sites:
        lines.append(
            _t("added_sites", lang, n=n_sites, shared=costs["shared_mast_sites"], new=costs["new_mast_sites"])
        )
    if s.removed_sites:
        lines.append(_t("removed_sites", lang, n=len(s.removed_sites), ids=", ".join(s.removed_sites[:8])))
    if s.moved_sites:
        lines.append(_t("moved_sites", lang, n=len(s.moved_sites)))
    if s.cell_edits:
        lines.append(_t("edited_cells", lang, n=len(s.cell_edits)))
    if s.switch_off is not None:
        who = s.switch_off.operator or _t("all_operators", lang)
        lines.append(_t("switch_off", lang, techs=", ".join(s.switch_off.technologies), who=who))
    if s.added_fibre_nodes is not None and len(s.added_fibre_nodes):
        lines.append(_t("fibre_nodes", lang, n=len(s.added_fibre_nodes)))
    if s.adopt_fibre_plan:
        lines.append(_t("fibre_plan", lang))
    for p in s.programmes:
        hh = costs["programme_households"].get(p.name, 0)
        lines.append(
            _t(
                "programme",
                lang,
                name=p.name,
                sp=_num(p.smartphone_points, lang),
                ft=_num(p.ftth_points, lang),
                hh=_num(hh, lang),
            )
        )
    return lines


def _result_rows(summary: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    rows = [
        (_t("r_gained", lang), _num(summary["households_gained_good_4g"], lang)),
        (_t("r_lost", lang), _num(summary["households_lost_good_4g"], lang)),
        (_t("r_cleared", lang), _num(summary["hamlets_with_cleared_flags"], lang)),
        (_t("r_unflagged", lang), _num(summary["hamlets_now_unflagged"], lang)),
        (_t("r_new", lang), _num(summary["hamlets_with_new_flags"], lang)),
    ]
    if "households_lose_all_service" in summary:
        n = summary["hamlets_lose_all_service"]
        rows.append((_t("r_lose_all", lang, n=n), _num(summary["households_lose_all_service"], lang)))
        n = summary["hamlets_drop_to_weak"]
        rows.append((_t("r_weak", lang, n=n), _num(summary["households_drop_to_weak"], lang)))
    if "households_lose_operator_service" in summary:
        n = summary["hamlets_lose_operator_service"]
        rows.append((_t("r_op_lose", lang, n=n), _num(summary["households_lose_operator_service"], lang)))
    rows.append((_t("r_cost", lang), _t("vnd", lang, value=_num(summary["cost_total_vnd"], lang))))
    per = summary.get("cost_per_household_to_target_vnd")
    rows.append((_t("r_cost_hh", lang), _t("vnd", lang, value=_num(per, lang)) if per else _t("none", lang)))
    return rows


def _kpi_rows(summary: dict[str, Any], lang: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for k in summary["kpis"]:
        target = _kpi_value(k["key"], k["target"], lang) if k["target"] is not None else _t("none", lang)
        rows.append(
            (
                kpi_label(k["key"], lang),
                target,
                _kpi_value(k["key"], k["before"], lang),
                _kpi_value(k["key"], k["after"], lang),
            )
        )
    return rows


def _commune_shares(result: ScenarioResult) -> pd.Series:
    """Share of each commune's households at good 4G after the scenario (NaN without households)."""
    c = result.communes.set_index("commune_id")
    return c["hh_good_4g_after"] / c["households"].where(c["households"] > 0)


def build_scenario_pdf(
    result: ScenarioResult, *, lang: Lang | str = "vi", today: dt.date | None = None
) -> bytes:
    """The one-page scenario report as PDF bytes.

    Raises
    ------
    ParameterError
        Unknown language.
    """
    lang = check_lang(str(lang))
    today = today or dt.date.today()
    pkg = result.baseline.pkg
    meta = report_meta_from_package(pkg)
    name = nfc(result.scenario.name)
    pdf = ReportPDF(
        lang=lang, footer_text=_t("footer", lang, name=name), synthetic=bool(meta.synthetic_layers)
    )
    pdf.set_title(nfc(_t("title", lang, name=name)))
    pdf.set_author("PhuSong")
    pdf.set_lang(lang)
    pdf.set_creation_date(dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC))
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 7, nfc(_t("title", lang, name=name)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, nfc(_t("province", lang, name=meta.province_name)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8.5)
    pdf.cell(0, 4.5, tr("made_on", lang, date=format_date(today, lang)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    created = tr("created", lang, date=date_text(meta.created, lang)) if meta.created else ""
    pdf.multi_cell(
        0, 4.5, nfc(tr("dataset", lang, name=meta.dataset_name, version=meta.version[:12], created=created)),
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    synthetic_box(pdf, meta, lang=lang)
    heading(pdf, _t("changes", lang))
    for line in _change_lines(result, lang):
        note(pdf, "• " + line, size=8)
    heading(pdf, _t("results", lang))
    two_col_table(pdf, _result_rows(result.summary, lang), widths=(3, 1))
    if result.costs.placeholder:
        pdf.set_text_color(170, 90, 0)
        note(pdf, _t("placeholder", lang))
        pdf.set_text_color(0, 0, 0)
    if result.summary.get("flags_new_by_type"):
        note(pdf, _t("moved_note", lang))
    heading(pdf, _t("kpis", lang))
    header = [_t(k, lang) for k in ("col_indicator", "col_target", "col_before", "col_after")]
    two_col_table(pdf, _kpi_rows(result.summary, lang), widths=(5, 2, 2, 2), header=header)
    room_mm = pdf.h - pdf.b_margin - pdf.get_y() - 10
    if room_mm > 40:
        heading(pdf, _t("map", lang))
        png = province_map_png(
            pkg.communes, values=_commune_shares(result), value_label=_t("col_after", lang), lang=lang,
            target=result.baseline.targets.good_4g_household_share, width_in=6.0,
        )  # fmt: skip
        aspect = png_aspect(png)
        width = min(pdf.epw, (room_mm - 9) / aspect)
        image(pdf, png, width_mm=width, aspect=aspect)
    return bytes(pdf.output())
