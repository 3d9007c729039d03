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
    "app.dataset": ("Bộ dữ liệu: {name} · phiên bản {version}", "Data package: {name} · version {version}"),
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
    "lyr.communes": ("ranh giới xã", "commune boundaries"),
    "lyr.hamlets": ("ấp/khóm", "hamlets"),
    "lyr.towers": ("trạm BTS", "base stations"),
    "lyr.fibre_nodes": ("điểm cáp quang", "fibre nodes"),
    "lyr.fibre_routes": ("tuyến cáp quang", "fibre routes"),
    "lyr.roads": ("đường giao thông", "roads"),
    "lyr.survey": ("khảo sát hộ", "household survey"),
    "col.route_id": ("Tuyến", "Route"),
    "col.length_m": ("Chiều dài (m)", "Length (m)"),
    "col.node_id": ("Điểm truy nhập", "Access node"),
    "col.operator": ("Nhà mạng", "Operator"),
    "col.node_type": ("Loại", "Type"),
    "col.name": ("Tên", "Name"),
    "map.no_data": ("Không có số liệu", "No data"),
    "map.hamlet": ("Ấp/khóm", "Hamlet"),
    "map.hamlets": ("Ấp/khóm theo cờ thiếu hụt", "Hamlets by gap flag"),
    "map.flags": ("Cờ thiếu hụt", "Gap flags"),
    "map.explanation": ("Giải thích", "Explanation"),
    "map.sites": ("Trạm BTS", "Base stations"),
    "map.site": ("Trạm", "Site"),
    "map.operator": ("Nhà mạng", "Operator"),
    "map.operators": ("Nhà mạng (trạm BTS)", "Operators (base stations)"),
    "map.technology": ("Công nghệ", "Technology"),
    "map.status": ("Trạng thái", "Status"),
    "map.fibre_routes": ("Tuyến cáp quang", "Fibre routes"),
    "map.fibre_plan": ("Kế hoạch mở rộng cáp quang", "Fibre extension plan"),
    "map.fibre_nodes": ("Điểm truy nhập cáp quang", "Fibre access nodes"),
    "map.layers": ("Lớp bản đồ", "Map layers"),
    "map.no_layers": ("Chọn lớp để hiển thị", "Choose layers to show"),
    "map.technologies": ("Công nghệ (trạm BTS)", "Technologies (base stations)"),
    "map.indicator": ("Chỉ tiêu tô màu xã", "Commune indicator"),
    "map.all": ("Tất cả", "All"),
    "map.search": ("Tìm xã (không cần dấu)", "Find a commune (accents optional)"),
    "map.search_hits": ("{n} xã khớp", "{n} matching communes"),
    "map.hamlet_table": ("Các ấp/khóm của {name}", "Hamlets of {name}"),
    "map.click_hint": (
        "Bấm vào một xã trên bản đồ để chọn xã đó.",
        "Click a commune on the map to select it.",
    ),
    # groups: districts before the reform, former units after it (analysis/grouping.py)
    "group.district_name": ("Huyện/Quận", "District"),
    "group.former_province": ("Tỉnh cũ (trước 1/7/2025)", "Former province (before 1 July 2025)"),
    "group.former_district": ("Huyện cũ (trước 1/7/2025)", "Former district (before 1 July 2025)"),
    "group.by.district_name": ("Theo huyện", "By district"),
    "group.by.former_province": ("Theo tỉnh cũ (trước 1/7/2025)", "By former province (before 1 July 2025)"),
    "group.by.former_district": ("Theo huyện cũ (trước 1/7/2025)", "By former district (before 1 July 2025)"),
    "group.former_unit": ("{name} (cũ)", "{name} (former)"),
    "group.former_district_of": ("{name} (cũ, tỉnh {province})", "{name} (former, {province} province)"),
    "group.none": (
        "Bộ dữ liệu không ghi tỉnh/huyện cũ của các xã: chỉ có số liệu toàn tỉnh.",
        "The data package names no former province or district of its communes: province figures only.",
    ),
    "group.rule": (
        "Xã mới có địa bàn từ nhiều tỉnh/huyện cũ được tính vào đơn vị cũ đã góp nhiều hộ nhất (theo xã cũ "
        "của từng ấp), nếu không rõ thì đơn vị có nhiều xã cũ nhất, sau cùng là đơn vị ghi đầu tiên.",
        "A new commune whose territory came from several former provinces or districts counts in the one "
        "that gave it most households (by each hamlet's former commune), else the one with most of its "
        "former communes, else the first listed.",
    ),
    # search reasons (layers/search.py)
    "search.district": ("thuộc {name}", "in {name}"),
    "search.former_province": ("trước 1/7/2025 thuộc tỉnh {name}", "formerly part of {name} province"),
    "search.former_district": ("trước 1/7/2025 thuộc {name}", "formerly part of {name}"),
    "search.former_commune": ("gồm địa bàn {name} cũ", "took in territory of former {name}"),
    "search.former_hamlet_commune": ("có ấp/khóm thuộc {name} cũ", "has hamlets of former {name}"),
    "search.reason": ("Lý do khớp", "Why it matched"),
    # former boundaries overlay (layers/map.py)
    "map.former": ("Ranh giới cũ (trước 1/7/2025)", "Former boundaries (before 1 July 2025)"),
    "map.former_none": ("Không hiển thị", "Do not show"),
    "map.new_communes": ("Số xã/phường mới", "New communes"),
    "map.former_layer": (
        "{level}: ranh giới ghép từ các xã mới (gần đúng)",
        "{level}: outlines dissolved from the new communes (approximate)",
    ),
    "map.former_note": (
        "Ranh giới cũ chỉ để tham khảo: từ 1/7/2025 không còn cấp huyện, xã thuộc trực tiếp tỉnh.",
        "Former boundaries are for reference only: since 1 July 2025 there are no districts; communes "
        "belong directly to the province.",
    ),
    "status.active": ("đang hoạt động", "active"),
    "status.planned": ("kế hoạch", "planned"),
    "layer.communes": ("Xã (tô màu theo chỉ tiêu)", "Communes (choropleth)"),
    "layer.hamlets": ("Ấp/khóm (cờ thiếu hụt)", "Hamlets (gap flags)"),
    "layer.sites": ("Trạm BTS", "Base stations"),
    "layer.coverage": ("Vùng phủ sóng 4G", "4G coverage"),
    "layer.fibre": ("Cáp quang và kế hoạch mở rộng", "Fibre and extension plan"),
    "ind.good_4g": ("Hộ có sóng 4G tốt", "Households with good 4G"),
    "ind.no_4g": ("Hộ chưa có sóng 4G", "Households without 4G"),
    "ind.ftth": ("Hộ dùng cáp quang (FTTH)", "FTTH take-up"),
    "ind.smartphone": ("Người có điện thoại thông minh", "Smartphone ownership"),
    "ind.fibre_reach": ("Hộ trong tầm cáp quang", "Households within fibre reach"),
    "ind.priority": ("Điểm ưu tiên", "Priority score"),
    "ind.flagged": ("Số ấp thiếu hụt", "Under-served hamlets"),
    "flag.NO_MOBILE_COVERAGE": ("Không có sóng 4G", "No 4G signal"),
    "flag.WEAK_MOBILE_COVERAGE": ("Sóng 4G yếu", "Weak 4G signal"),
    "flag.NO_FIBRE_REACH": ("Chưa có cáp quang", "No fibre reach"),
    "flag.LOW_FTTH_TAKEUP": ("Ít hộ dùng cáp quang", "Low FTTH take-up"),
    "flag.LOW_SMARTPHONE": ("Ít người có điện thoại thông minh", "Low smartphone ownership"),
    "flag.none": ("Không thiếu hụt", "No gap"),
    "coverage.none": ("Không có sóng", "No signal"),
    "coverage.poor": ("Yếu", "Poor"),
    "coverage.fair": ("Trung bình", "Fair"),
    "coverage.good": ("Tốt", "Good"),
    # computations
    "app.computing": ("Đang tính toán…", "Computing…"),
    "app.step_coverage": (
        "Tính vùng phủ sóng 4G (lần đầu mất khoảng nửa phút)…",
        "Computing 4G coverage (about half a minute the first time)…",
    ),
    "app.step_fibre": (
        "Tính tầm với cáp quang và kế hoạch mở rộng…",
        "Computing fibre reach and extension plan…",
    ),
    "app.step_gaps": ("Xác định các ấp/khóm thiếu hụt…", "Flagging under-served hamlets…"),
    "app.ready": ("Đã tính xong", "Done"),
    # downloads
    "dl.intro": (
        "Chọn lớp dữ liệu, bộ lọc và định dạng. Tệp mang theo siêu dữ liệu (nguồn, ngày, ngưỡng).",
        "Choose a layer, filters and a format. Files carry their metadata (sources, date, thresholds).",
    ),
    "dl.layer": ("Lớp dữ liệu", "Layer"),
    "dl.gaps": ("Ấp/khóm thiếu hụt", "Under-served hamlets"),
    "dl.communes": ("Chỉ tiêu theo xã", "Commune indicators"),
    "dl.fibre_plan": ("Kế hoạch mở rộng cáp quang", "Fibre extension plan"),
    "dl.coverage": ("Bản đồ phủ sóng 4G (raster)", "4G coverage raster"),
    "dl.format": ("Định dạng", "Format"),
    "dl.preparing": ("Đang chuẩn bị tệp…", "Preparing the file…"),
    "dl.summary": ("{n} đối tượng, {size} KB", "{n} features, {size} KB"),
    "dl.button": ("Tải về {name}", "Download {name}"),
    "fmt.gpkg": ("GeoPackage", "GeoPackage"),
    "fmt.shp.zip": ("Shapefile (zip)", "Shapefile (zip)"),
    "fmt.kml": ("KML", "KML"),
    "fmt.geojson": ("GeoJSON", "GeoJSON"),
    "fmt.csv": ("CSV", "CSV"),
    "fmt.xlsx": ("Excel", "Excel"),
    "fmt.tif": ("GeoTIFF", "GeoTIFF"),
    # snapshot
    "snap.pdf": ("Tải báo cáo PDF (A4)", "Download the PDF report (A4)"),
    "snap.pdf_preparing": ("Đang tạo báo cáo PDF…", "Building the PDF report…"),
    "snap.by_district": ("Theo huyện", "By district"),
    "snap.static_map": ("Bản đồ tổng quan", "Overview map"),
    "snap.level": ("Phân nhóm", "Breakdown"),
    "snap.published": (
        "Các tỉnh cũ: số liệu của bộ dữ liệu và số liệu mỗi tỉnh đã công bố",
        "Former provinces: this package's figures and what each published",
    ),
    "snap.col_former_province": ("Tỉnh cũ", "Former province"),
    "snap.col_indicator": ("Chỉ tiêu", "Indicator"),
    "snap.col_ours": ("Bộ dữ liệu này", "This package"),
    "snap.col_published": ("Đã công bố", "Published"),
    "snap.col_source": ("Nguồn (năm số liệu)", "Source (year of the figure)"),
    "snap.published_none": ("không có trong nguồn của chúng tôi", "none in our sources"),
    "snap.published_note": (
        "Số đã công bố tính trên toàn tỉnh cũ, theo cách tính của tỉnh (có khi theo dân số, không phải người "
        "lớn); số của bộ dữ liệu tính từ khảo sát trong bộ dữ liệu{synthetic}.",
        "Published figures cover the whole former province, as the province counted them (sometimes of the "
        "population, not adults); this package's figures come from its own survey{synthetic}.",
    ),
    "snap.published_synthetic": (
        " (khảo sát TỔNG HỢP: chỉ minh hoạ)",
        " (a SYNTHETIC survey: illustrative only)",
    ),
    "ind.internet": ("Người dùng Internet", "Internet users"),
    "ind.mobile_subscriptions_per_100": ("Thuê bao di động / 100 dân", "Mobile subscriptions per 100 people"),
    "unit.per_100": ("{value} / 100 dân", "{value} per 100 people"),
    # settings
    "set.thresholds": ("Ngưỡng xác định thiếu hụt", "Gap thresholds"),
    "set.ftth": ("Mục tiêu hộ dùng cáp quang", "FTTH take-up target"),
    "set.smartphone": ("Mục tiêu người có điện thoại thông minh", "Smartphone ownership target"),
    "set.basis": ("Cơ sở so sánh", "Threshold basis"),
    "basis.national_target": ("Mục tiêu quốc gia", "National target"),
    "basis.province_average": ("Trung bình tỉnh", "Province average"),
    "basis.lower_of_both": ("Thấp hơn trong hai", "Lower of both"),
    "set.fibre": ("Tầm với cáp quang", "Fibre reach"),
    "set.drop_m": ("Khoảng cách kéo cáp thuê bao tối đa (m)", "Drop reach (m)"),
    "set.extendable_m": ("Khoảng cách có thể mở rộng (m)", "Extendable distance (m)"),
    "set.targets": ("Mục tiêu", "Targets"),
    "set.communes_fibre": ("Xã có cáp quang", "Communes with fibre"),
    "set.no_4g": ("Hộ chưa có sóng 4G (tối đa)", "Households without 4G (at most)"),
    "set.apply": ("Áp dụng", "Apply"),
    "set.applied": (
        "Đã áp dụng; các trang dùng thiết lập mới.",
        "Applied; every page uses the new settings.",
    ),
    "set.reset": ("Khôi phục mặc định", "Reset to defaults"),
    "set.changed": ("Đang dùng thiết lập đã thay đổi.", "Using changed settings."),
    "set.defaults": ("Đang dùng thiết lập mặc định.", "Using the default settings."),
    # upload
    "up.layer": ("Lớp cần nhập", "Layer to import"),
    "uplayer.boundaries": ("Ranh giới xã", "Commune boundaries"),
    "uplayer.hamlets": ("Ấp/khóm", "Hamlets"),
    "uplayer.towers": ("Trạm BTS", "Base stations"),
    "uplayer.fibre": ("Cáp quang", "Fibre"),
    "uplayer.roads": ("Đường giao thông", "Roads"),
    "uplayer.survey": ("Khảo sát", "Survey"),
    "up.file": ("Tệp", "File"),
    "up.hint": (
        "Chọn tệp để xem trước; bộ dữ liệu chỉ thay đổi khi bấm Áp dụng.",
        "Choose a file to preview; the data package changes only when you press Apply.",
    ),
    "up.checking": ("Đang kiểm tra tệp…", "Checking the file…"),
    "up.before": ("Trước", "Before"),
    "up.after": ("Sau", "After"),
    "up.added": ("Thêm", "Added"),
    "up.removed": ("Bớt", "Removed"),
    "up.changed": ("Đổi", "Changed"),
    "up.apply": ("Áp dụng", "Apply"),
    "up.applied": ("Đã nhập; phiên bản cũ lưu tại {version}", "Imported; previous version kept as {version}"),
    "up.versions": ("Các phiên bản trước", "Previous versions"),
    "up.version": ("Phiên bản", "Version"),
    "up.restore": ("Khôi phục phiên bản này", "Restore this version"),
    "up.restored": ("Đã khôi phục {version}", "Restored {version}"),
    "up.rejected": (
        "Tệp bị từ chối; bộ dữ liệu không thay đổi",
        "File refused; the data package is unchanged",
    ),
    "up.failed": (
        "Không áp dụng được; bộ dữ liệu không thay đổi",
        "Could not apply; the data package is unchanged",
    ),
    "up.nothing": (
        "Lớp này giống hệt lớp hiện có; không có gì để nhập.",
        "This layer is identical to the current one; nothing to import.",
    ),
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
