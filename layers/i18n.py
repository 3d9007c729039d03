"""User-interface strings in Vietnamese (default) and English, and locale-aware formatting.

Vietnamese writes ``1.234,5`` and ``25/11/2026``; English ``1,234.5`` and ``25/11/2026`` (day first,
as Vietnamese offices read dates in either language). Every label, legend and tooltip the app shows
comes from :data:`STRINGS` through :func:`t`, so a missing translation is caught by the tests.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

__all__ = [
    "LANGUAGES",
    "Lang",
    "STRINGS",
    "format_date",
    "format_number",
    "format_percent",
    "t",
]

Lang = Literal["vi", "en"]

#: Selectable languages with their own names, default first.
LANGUAGES: dict[str, str] = {"vi": "Tiếng Việt", "en": "English"}

#: key -> (Vietnamese, English). ``{name}`` fields are filled by :func:`t`.
STRINGS: dict[str, tuple[str, str]] = {
    # app shell
    "app.title": ("PhuSong — Quy hoạch hạ tầng số", "PhuSong — digital infrastructure planning"),
    "app.language": ("Ngôn ngữ", "Language"),
    "app.data_package": ("Bộ dữ liệu", "Data package"),
    "app.synthetic_note": (
        "Lớp dữ liệu tổng hợp (không phải số liệu thật): {layers}",
        "Synthetic data layers (not real data): {layers}",
    ),
    "app.load_error": ("Không đọc được bộ dữ liệu", "The data package could not be read"),
    "app.loading": ("Đang tải dữ liệu…", "Loading data…"),
    "app.version": ("Phiên bản dữ liệu", "Data version"),
    # pages
    "page.map": ("Bản đồ quy hoạch", "Planning map"),
    "page.downloads": ("Tải dữ liệu", "Downloads"),
    "page.snapshot": ("Tổng quan lãnh đạo", "Leadership snapshot"),
    "page.settings": ("Thiết lập", "Settings"),
    "page.upload": ("Nhập dữ liệu", "Data upload"),
    # map
    "map.communes": ("Ranh giới xã", "Commune boundaries"),
    "map.commune": ("Xã/phường", "Commune"),
    "map.district": ("Huyện/thị xã", "District"),
    "map.population": ("Dân số", "Population"),
    "map.households": ("Số hộ", "Households"),
    "map.commune_count": ("{n} xã/phường/thị trấn", "{n} communes"),
    "map.no_tiles": ("Không có nền bản đồ (ngoại tuyến)", "No basemap (offline)"),
    "map.basemap": ("Nền bản đồ", "Basemap"),
    "map.basemap_none": ("Không (ngoại tuyến)", "None (offline)"),
    "map.basemap_url": ("Máy chủ ô bản đồ (URL)", "Tile server (URL)"),
    "map.basemap_url_help": (
        "Mẫu URL có {z}, {x}, {y}, ví dụ http://localhost:8080/{z}/{x}/{y}.png",
        "URL template with {z}, {x}, {y}, e.g. http://localhost:8080/{z}/{x}/{y}.png",
    ),
    "map.basemap_attribution": ("Ghi nguồn nền bản đồ", "Basemap attribution"),
    "map.synthetic_suffix": ("(tổng hợp)", "(synthetic)"),
}


def t(key: str, lang: Lang | str = "vi", /, **fields: object) -> str:
    """Return the UI string ``key`` in ``lang`` with ``{fields}`` filled in.

    Parameters
    ----------
    key : str
        A key of :data:`STRINGS`.
    lang : {"vi", "en"}
        Language; anything else falls back to Vietnamese.
    **fields
        Values for the ``{name}`` placeholders.

    Raises
    ------
    KeyError
        If ``key`` has no entry (a programming error, caught by the tests).
    """
    vi, en = STRINGS[key]
    text = en if lang == "en" else vi
    return text.format(**fields) if fields else text


def _separators(lang: Lang | str) -> tuple[str, str]:
    """(thousands, decimal) separators for ``lang``."""
    return (",", ".") if lang == "en" else (".", ",")


def format_number(value: float | int | None, lang: Lang | str = "vi", *, decimals: int = 0) -> str:
    """Format a number for ``lang``: vi ``1.234,5``; en ``1,234.5``; ``—`` for missing values.

    Parameters
    ----------
    value : float, int or None
        The number (NaN and None give an em dash).
    lang : {"vi", "en"}
    decimals : int, default 0
        Digits after the decimal separator.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    thousands, decimal = _separators(lang)
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def format_percent(share: float | None, lang: Lang | str = "vi", *, decimals: int = 1) -> str:
    """Format a share (0–1) as a percentage: vi ``69,3 %``; en ``69.3%``."""
    if share is None or (isinstance(share, float) and not math.isfinite(share)):
        return "—"
    number = format_number(100.0 * share, lang, decimals=decimals)
    return f"{number}%" if lang == "en" else f"{number} %"


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: dt.date | dt.datetime | str, lang: Lang | str = "vi") -> str:
    """Format a date as ``dd/mm/yyyy`` (both languages; Vietnamese offices read day first).

    Parameters
    ----------
    value : date, datetime or ISO ``YYYY-MM-DD`` string
    lang : {"vi", "en"}
        English spells the month out to avoid day/month confusion: ``25 Nov 2026``.
    """
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if lang == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day:02d}/{value.month:02d}/{value.year}"
