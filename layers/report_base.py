"""What every PhuSong PDF report shares: fonts, the A4 page with its footer, the data-provenance
block (synthetic layers clearly labelled), headings, notes, images and tables.

:mod:`layers.report` (the leadership snapshot) and :mod:`layers.scenario_report` (one scenario on
one page) are built from these parts. Text goes through :func:`nfc`; data values are plain text in
a PDF (no markup is interpreted).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.util import Padding

from geo.errors import ParameterError
from layers.i18n import format_date

if TYPE_CHECKING:
    from geo.package import DataPackage

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
LANGS = ("vi", "en")

BASE_STRINGS: dict[str, tuple[str, str]] = {
    "made_on": ("Ngày lập báo cáo: {date}", "Report date: {date}"),
    "dataset": ("Bộ dữ liệu: {name} (phiên bản {version}{created})",
                "Data package: {name} (version {version}{created})"),
    "created": ("; lập ngày {date}", "; made {date}"),
    "vintage": ("Ranh giới hành chính: {vintage}; khảo sát hộ: {survey}",
                "Administrative boundaries: {vintage}; household survey: {survey}"),
    "synthetic_head": ("LƯU Ý: DỮ LIỆU TỔNG HỢP", "NOTE: SYNTHETIC DATA"),
    "synthetic_body": (
        "Các lớp sau là dữ liệu tổng hợp (mô phỏng), không phải số liệu thật: {layers}. "
        "Các con số dựa trên các lớp này chỉ có giá trị minh hoạ.",
        "These layers are synthetic (generated), not real data: {layers}. "
        "Figures based on them are illustrative only.",
    ),
    "no_synthetic": ("Tất cả các lớp dữ liệu là số liệu thật.", "Every data layer is real (observed) data."),
    "page": ("Trang {n}/{total}", "Page {n}/{total}"),
    "has_synthetic": ("Có dữ liệu tổng hợp — xem trang 1", "Includes synthetic data — see page 1"),
}

LAYER_NAMES: dict[str, tuple[str, str]] = {
    "communes": ("Ranh giới xã", "Commune boundaries"),
    "hamlets": ("Ấp/khóm", "Hamlets"),
    "towers": ("Trạm BTS (cell)", "Base stations (cells)"),
    "fibre_nodes": ("Nút cáp quang", "Fibre nodes"),
    "fibre_routes": ("Tuyến cáp quang", "Fibre routes"),
    "roads": ("Đường giao thông", "Roads"),
    "survey": ("Khảo sát hộ", "Household survey"),
    "population": ("Mật độ dân số (raster)", "Population raster"),
    "dem": ("Độ cao địa hình (DEM)", "Terrain (DEM)"),
}


def tr(key: str, lang: str, **fields: object) -> str:
    """A string of :data:`BASE_STRINGS` in ``lang``."""
    vi, en = BASE_STRINGS[key]
    text = en if lang == "en" else vi
    return text.format(**fields) if fields else text


@dataclass(frozen=True)
class LayerSource:
    """Provenance of one data layer, as shown in the report.

    Parameters
    ----------
    key
        Layer key (``communes``, ``hamlets``, ``towers``, ...).
    synthetic
        True when generated rather than observed.
    source, licence
        Who made it and under which licence.
    """

    key: str
    synthetic: bool
    source: str
    licence: str


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about the data (from ``dataset.toml``).

    Parameters
    ----------
    province_name
        E.g. ``"Trà Vinh"``.
    dataset_name
        Name of the data package.
    boundary_vintage
        Vintage of the administrative boundaries (e.g. ``"2009 layout"``).
    version
        Data version (content hash, shortened in the report).
    layers
        One :class:`LayerSource` per layer.
    survey_dates
        ISO dates (first, last) of the survey rows; ("", "") when unknown.
    created
        ISO date the data package was made (``dataset.toml`` ``created``; "" when absent).
    """

    province_name: str
    dataset_name: str
    boundary_vintage: str
    version: str
    layers: tuple[LayerSource, ...] = field(default_factory=tuple)
    survey_dates: tuple[str, str] = ("", "")
    created: str = ""

    @property
    def synthetic_layers(self) -> tuple[str, ...]:
        """Keys of the synthetic layers."""
        return tuple(layer.key for layer in self.layers if layer.synthetic)


def nfc(text: object) -> str:
    """NFC text (precomposed Vietnamese letters; the font has them all)."""
    return unicodedata.normalize("NFC", "" if text is None else str(text))


def layer_name(key: str, lang: str) -> str:
    vi, en = LAYER_NAMES.get(key, (key, key))
    return en if lang == "en" else vi


def survey_dates(survey: pd.DataFrame | None) -> tuple[str, str]:
    if survey is None or "survey_date" not in survey or survey.empty:
        return ("", "")
    dates = survey["survey_date"].astype("string").dropna().str.slice(0, 10)
    dates = dates[dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    return (str(dates.min()), str(dates.max())) if len(dates) else ("", "")


def report_meta_from_package(pkg: DataPackage) -> ReportMeta:
    """:class:`ReportMeta` from a loaded data package (``pkg.meta`` is the parsed dataset.toml)."""
    meta = pkg.meta
    layers = tuple(
        LayerSource(key=key, synthetic=bool(layer.synthetic), source=str(layer.source),
                    licence=str(layer.licence))
        for key, layer in meta.layers.items()
    )
    return ReportMeta(
        province_name=str(meta.province_name), dataset_name=str(meta.name),
        boundary_vintage=str(meta.boundary_vintage), version=str(pkg.version), layers=layers,
        survey_dates=survey_dates(pkg.survey), created=str(getattr(meta, "created", "") or ""),
    )


class ReportPDF(FPDF):
    """A4 portrait, DejaVu fonts, a footer line (``footer_text``, synthetic-data note, page numbers)."""

    def __init__(self, *, lang: str, footer_text: str, synthetic: bool) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.lang = lang
        self.footer_text = footer_text
        self.synthetic = synthetic
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(14, 14, 14)
        self.set_auto_page_break(auto=True, margin=16)
        self.alias_nb_pages("{nb}")

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.footer_text, align="L")
        if self.synthetic:
            self.set_x(self.l_margin)
            self.set_text_color(200, 110, 0)
            self.cell(0, 5, tr("has_synthetic", self.lang), align="C")
            self.set_text_color(110, 110, 110)
        self.set_x(self.l_margin)
        self.cell(0, 5, tr("page", self.lang, n=self.page_no(), total="{nb}"), align="R")
        self.set_text_color(0, 0, 0)


def heading(pdf: ReportPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.set_text_color(20, 60, 120)
    pdf.cell(0, 7, nfc(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def date_text(iso: str, lang: str) -> str:
    """A date for ``lang``; text that is not an ISO date is shown as written."""
    try:
        return format_date(iso, lang)
    except ValueError:
        return iso


def synthetic_box(pdf: ReportPDF, meta: ReportMeta, *, lang: str) -> None:
    pdf.ln(1.5)
    synthetic = meta.synthetic_layers
    if not synthetic:
        pdf.set_font(FONT, "", 8.5)
        pdf.multi_cell(0, 4.5, tr("no_synthetic", lang), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    names = ", ".join(layer_name(k, lang) for k in synthetic)
    pdf.set_fill_color(255, 236, 179)
    pdf.set_draw_color(230, 150, 0)
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 5.5, " " + tr("synthetic_head", lang), border="LTR", fill=True,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8.5)
    pdf.multi_cell(0, 4.5, nfc(tr("synthetic_body", lang, layers=names)), border="LBR", fill=True,
                   padding=Padding(top=0, right=1.5, bottom=1.5, left=1.5),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(0, 0, 0)


def keep_with_image(pdf: ReportPDF, png: bytes, *, width_mm: float) -> None:
    """Start a new page when a heading and the image below it would not fit together."""
    if pdf.get_y() + 9 + width_mm * png_aspect(png) > pdf.h - pdf.b_margin:  # heading: 2 + 7 mm
        pdf.add_page()


def image(pdf: ReportPDF, png: bytes, *, width_mm: float, aspect: float) -> None:
    """Place a PNG at full text width (or ``width_mm``), breaking the page first if it does not fit."""
    height_mm = width_mm * aspect
    if pdf.get_y() + height_mm > pdf.h - pdf.b_margin:
        pdf.add_page()
    x = pdf.l_margin + (pdf.epw - width_mm) / 2
    pdf.image(io.BytesIO(png), x=x, y=pdf.get_y(), w=width_mm, h=height_mm)
    pdf.set_y(pdf.get_y() + height_mm + 1)


def png_aspect(png: bytes) -> float:
    """Height / width of a PNG (from its IHDR chunk)."""
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    return height / width


def note(pdf: ReportPDF, text: str, *, size: float = 7) -> None:
    pdf.set_font(FONT, "", size)
    pdf.multi_cell(0, 3.5, nfc(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def headings_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", fill_color=(225, 232, 242), size_pt=7)


def two_col_table(pdf: ReportPDF, rows: Sequence[Sequence[str]], *, widths: tuple[int, ...],
                   header: Sequence[str] | None = None) -> None:
    pdf.set_font(FONT, "", 7.5)
    with pdf.table(col_widths=widths, line_height=3.8, padding=0.8, first_row_as_headings=header is not None,
                   text_align="LEFT",
                   headings_style=headings_style()) as table:
        if header is not None:
            table.row(list(header))
        for values in rows:
            table.row([nfc(v) for v in values])


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ParameterError(f"unknown report language {lang!r}; use one of {', '.join(LANGS)}")
    return lang


