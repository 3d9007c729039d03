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
    "page.scenarios": ("Kịch bản", "Scenarios"),
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
    "map.coverage_own": ("Vùng phủ sóng 4G của {operator}", "4G coverage of {operator}"),
    "map.partner_note": (
        "Tài khoản đối tác {operator}: trạm và vùng phủ sóng trên bản đồ chỉ gồm của {operator}; "
        "các ấp thiếu hụt và chỉ số xã là của toàn tỉnh.",
        "Partner account of {operator}: the map's sites and coverage are {operator}'s only; "
        "gap hamlets and commune indicators cover the whole province.",
    ),
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
    "set.official": (
        "Giá trị chính thức do {name} công bố lúc {when} (phiên bản {version}).",
        "Official values published by {name} on {when} (version {version}).",
    ),
    "set.no_official": (
        "Chưa công bố giá trị chính thức: áp dụng giá trị mặc định của analysis/config/gaps.toml.",
        "No official values published: the defaults of analysis/config/gaps.toml apply.",
    ),
    "set.official_damaged": (
        "Không đọc được giá trị chính thức (settings/official.json); đang dùng giá trị mặc định",
        "The official values (settings/official.json) cannot be read; the defaults apply",
    ),
    "set.session_only": (
        "Thay đổi ở đây chỉ áp dụng cho phiên làm việc này; người dùng khác vẫn dùng giá trị chính thức.",
        "Changes made here apply to this session only; other users keep the official values.",
    ),
    "set.session_changed": (
        "Phiên này đang dùng giá trị riêng (chỉ cho phiên này).",
        "This session uses its own values (this session only).",
    ),
    "set.using_official": ("Đang dùng giá trị chính thức.", "Using the official values."),
    "set.back_official": ("Quay về giá trị chính thức", "Back to the official values"),
    "set.applied_session": (
        "Đã áp dụng cho phiên này (chỉ phiên này); các trang dùng thiết lập mới.",
        "Applied to this session only; every page of this session uses the new settings.",
    ),
    "set.publish_header": ("Công bố giá trị chính thức", "Publish as official"),
    "set.publish_help": (
        "Công bố các giá trị phiên này đang dùng (ở trên) cho mọi người dùng. "
        "Các lần công bố trước được lưu lại và có thể khôi phục.",
        "Publishes the values this session uses (above) for every user. "
        "Earlier publications are kept and can be restored.",
    ),
    "set.publish_confirm": (
        "Tôi xác nhận công bố các giá trị này làm ngưỡng và mục tiêu chính thức",
        "I confirm: publish these values as the official thresholds and targets",
    ),
    "set.publish": ("Công bố chính thức", "Publish as official"),
    "set.publish_same": (
        "Các giá trị này đã là giá trị chính thức; không có gì để công bố.",
        "These values already are the official values; nothing to publish.",
    ),
    "set.published_ok": (
        "Đã công bố giá trị chính thức: {name}, phiên bản {version}.",
        "Published as the official values by {name} (version {version}).",
    ),
    "set.publish_failed": ("Chưa công bố được", "Not published"),
    "set.history": ("Các lần công bố trước", "Earlier publications"),
    "set.history_none": ("Chưa có lần công bố nào trước đây.", "No earlier publication."),
    "set.hist_values": ("Giá trị chính thức", "Official values"),
    "set.hist_replaced": ("Bị thay lúc", "Replaced on"),
    "set.hist_by": ("Thay bởi", "Replaced by"),
    "set.state_published": (
        "do {name} công bố lúc {when} (phiên bản {version})",
        "published by {name} on {when} (version {version})",
    ),
    "set.state_defaults": (
        "chưa có giá trị chính thức (giá trị mặc định)",
        "no official values (the defaults)",
    ),
    "set.change_publish": ("công bố của {name}", "publication by {name}"),
    "set.change_restore": ("khôi phục", "a restore"),
    "set.restore_choice": ("Giá trị chính thức cần khôi phục", "Official values to restore"),
    "set.restore": ("Khôi phục giá trị chính thức này", "Restore these official values"),
    "set.restored_ok": (
        "Đã khôi phục giá trị chính thức (phiên bản {version}).",
        "Official values restored (version {version}).",
    ),
    "set.restore_failed": ("Chưa khôi phục được", "Not restored"),
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
    "up.audit_failed": ("Không ghi được nhật ký kiểm tra", "The audit log could not be written"),
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
    # scenarios (views/scenarios.py, layers/scenario_map.py)
    "scn.intro": (
        "Thử một phương án trước khi xin kinh phí: đặt trạm mới, tắt 2G/3G, mở rộng cáp quang, chương trình "
        "hỗ trợ; so sánh trước và sau với bộ dữ liệu hiện tại. Bộ dữ liệu không bị thay đổi.",
        "Test a fix before it is funded: place sites, switch 2G/3G off, extend fibre, run programmes; "
        "compare before and after with the data package as it is. The data package is never changed.",
    ),
    "scn.baseline_computing": (
        "Đang tính hiện trạng (vùng phủ, cáp quang, cờ thiếu hụt)…",
        "Computing the baseline (coverage, fibre, gap flags)…",
    ),
    "scn.baseline_ready": ("Đã tính hiện trạng trong {seconds} giây", "Baseline computed in {seconds} s"),
    "scn.unnamed": ("Kịch bản chưa đặt tên", "Unnamed scenario"),
    "scn.name": ("Tên kịch bản", "Scenario name"),
    "scn.add_site": ("Thêm trạm mới", "Add a site"),
    "scn.click_hint": (
        "Bấm vào bản đồ để lấy toạ độ, hoặc nhập toạ độ.",
        "Click the map to take its coordinates, or type them.",
    ),
    "scn.lat": ("Vĩ độ", "Latitude"),
    "scn.lon": ("Kinh độ", "Longitude"),
    "scn.height": ("Độ cao ăng-ten (m)", "Antenna height (m)"),
    "scn.band": ("Băng tần (MHz)", "Band (MHz)"),
    "scn.eirp": ("Công suất EIRP (dBm)", "EIRP (dBm)"),
    "scn.azimuths": ("Hướng các cell (độ)", "Cell azimuths (degrees)"),
    "scn.azimuths_help": (
        "Mỗi hướng một cell, cách nhau bằng dấu phẩy; để trống: một cell vô hướng.",
        "One cell per azimuth, comma-separated; empty: one omnidirectional cell.",
    ),
    "scn.add_site_button": ("Thêm trạm", "Add site"),
    "scn.site_added": ("Đã thêm trạm {site} ({cells} cell)", "Added site {site} ({cells} cells)"),
    "scn.err_no_point": (
        "Chưa có toạ độ: bấm vào bản đồ hoặc nhập vĩ độ và kinh độ.",
        "No location yet: click the map or type the latitude and longitude.",
    ),
    "scn.err_azimuths": (
        "Hướng cell không hợp lệ: {value} (cần số từ 0 đến 360)",
        "Invalid azimuth: {value} (give numbers from 0 to 360)",
    ),
    "scn.err_outside": ("Điểm này nằm ngoài tỉnh.", "This point is outside the province."),
    "scn.err_site": (
        "Không thêm được trạm; kịch bản không thay đổi.",
        "The site was not added; the scenario is unchanged.",
    ),
    "scn.upload": ("Hoặc nhập danh sách trạm dự kiến (CSV)", "Or upload planned sites (CSV)"),
    "scn.upload_help": (
        "Cùng định dạng với towers/sites.csv: mỗi dòng một cell, cell_id mới.",
        "The towers/sites.csv format: one row per cell, with new cell_id values.",
    ),
    "scn.csv_rejected": (
        "Tệp bị từ chối; kịch bản không thay đổi:",
        "File refused; the scenario is unchanged:",
    ),
    "scn.csv_added": ("Đã thêm các trạm trong {name}", "Added the sites of {name}"),
    "scn.changes": ("Các thay đổi của kịch bản", "Changes of the scenario"),
    "scn.pending_site": (
        "Trạm mới {site}: {operator} {tech}, {cells} cell tại ({lat}, {lon})",
        "New site {site}: {operator} {tech}, {cells} cells at ({lat}, {lon})",
    ),
    "scn.pending_programme": (
        "Chương trình {name}: {hamlets} ấp, {communes} xã; +{phones} điểm điện thoại thông minh, +{ftth} "
        "điểm FTTH",
        "Programme {name}: {hamlets} hamlets, {communes} communes; +{phones} points smartphones, +{ftth} "
        "points FTTH",
    ),
    "scn.pending_extra": (
        "Kịch bản đã mở còn {n} thay đổi khác (di dời trạm, sửa cell, điểm cáp quang) được giữ nguyên.",
        "The loaded scenario has {n} other changes (moved sites, cell edits, fibre nodes), kept as they are.",
    ),
    "scn.nothing": ("Kịch bản chưa có thay đổi nào.", "The scenario changes nothing yet."),
    "scn.remove": ("Bỏ", "Remove"),
    "scn.clear": ("Xoá mọi thay đổi", "Clear all changes"),
    "scn.remove_sites": ("Gỡ bỏ trạm hiện có", "Remove existing sites"),
    "scn.remove_sites_none": ("Không gỡ trạm nào", "No site removed"),
    "scn.switch_off": ("Tắt công nghệ", "Switch off"),
    "scn.switch_off_operator": ("Tắt cho nhà mạng", "Switch off for operator"),
    "scn.none": ("Không", "None"),
    "scn.fibre_plan": ("Thực hiện kế hoạch mở rộng cáp quang", "Adopt the fibre extension plan"),
    "scn.fibre_plan_help": (
        "Mỗi ấp trong kế hoạch có một tủ cáp quang; chi phí theo kế hoạch.",
        "One cabinet per hamlet of the plan; costed as the plan.",
    ),
    "scn.programmes": ("Chương trình hỗ trợ (điện thoại, FTTH)", "Programmes (smartphones, FTTH)"),
    "scn.prog_hamlets": ("Ấp/khóm", "Hamlets"),
    "scn.prog_communes": ("Xã/phường (mọi ấp của xã)", "Communes (all their hamlets)"),
    "scn.prog_phones": ("Tăng tỷ lệ điện thoại thông minh (điểm %)", "Smartphone share increase (points)"),
    "scn.prog_ftth": ("Tăng tỷ lệ dùng FTTH (điểm %)", "FTTH take-up increase (points)"),
    "scn.prog_cost": ("Chi phí mỗi hộ (đồng)", "Cost per household (VND)"),
    "scn.prog_add": ("Thêm chương trình", "Add programme"),
    "scn.prog_default": ("Chương trình {n}", "Programme {n}"),
    "scn.err_prog_where": ("Chọn ít nhất một ấp hoặc một xã.", "Choose at least one hamlet or commune."),
    "scn.err_prog_effect": (
        "Chương trình cần tăng tỷ lệ điện thoại thông minh hoặc FTTH.",
        "A programme must raise the smartphone or FTTH share.",
    ),
    "scn.evaluate": ("Đánh giá", "Evaluate"),
    "scn.evaluating": ("Đang đánh giá kịch bản…", "Evaluating the scenario…"),
    "scn.err_evaluate": ("Không đánh giá được kịch bản:", "The scenario could not be evaluated:"),
    "scn.stale": (
        "Kịch bản đã thay đổi sau lần đánh giá trước: bấm Đánh giá để xem kết quả mới.",
        "The scenario changed since it was evaluated: press Evaluate for new results.",
    ),
    "scn.timing": ("Đánh giá trong {seconds} giây", "Evaluated in {seconds} s"),
    "scn.m_gained": ("Hộ có thêm sóng 4G tốt", "Households gaining good 4G"),
    "scn.m_cleared": ("Ấp được xoá cờ", "Hamlets with flags cleared"),
    "scn.m_new_flags": ("Ấp có cờ mới", "Hamlets with new flags"),
    "scn.m_lose_all": ("Hộ mất hết sóng", "Households losing all service"),
    "scn.m_cost": ("Tổng chi phí", "Total cost"),
    "scn.m_cost_per_hh": ("Chi phí mỗi hộ đạt mục tiêu", "Cost per household brought to target"),
    "scn.vnd_million": ("{value} triệu đồng", "VND {value} million"),
    "scn.placeholder_costs": (
        "Đơn giá là giá tạm của PhuSong (analysis/config/scenario_costs.toml), không phải giá của tỉnh: "
        "chỉ dùng để so sánh các kịch bản.",
        "Unit costs are PhuSong's placeholders (analysis/config/scenario_costs.toml), not the province's "
        "prices: use them to compare scenarios only.",
    ),
    "scn.hamlets": ("Ấp/khóm: trước và sau", "Hamlets: before and after"),
    "scn.communes": ("Xã/phường: trước và sau", "Communes: before and after"),
    "scn.kpis": ("Chỉ tiêu so với mục tiêu", "KPIs against the targets"),
    "scn.downloads": ("Tải kết quả", "Download the results"),
    "scn.col_good_before": ("Hộ có 4G tốt (trước)", "Households good 4G (before)"),
    "scn.col_good_after": ("Hộ có 4G tốt (sau)", "Households good 4G (after)"),
    "scn.col_gained": ("Hộ có thêm 4G tốt", "Households gaining good 4G"),
    "scn.col_flags_before": ("Cờ thiếu hụt (trước)", "Gap flags (before)"),
    "scn.col_flags_after": ("Cờ thiếu hụt (sau)", "Gap flags (after)"),
    "scn.col_cleared": ("Cờ được xoá", "Flags cleared"),
    "scn.col_new": ("Cờ mới", "New flags"),
    "scn.col_lose_all": ("Hộ mất hết sóng", "Households losing all service"),
    "scn.col_drop_weak": ("Hộ còn sóng yếu", "Households dropping to weak"),
    "scn.col_flagged_before": ("Ấp thiếu hụt (trước)", "Flagged hamlets (before)"),
    "scn.col_flagged_after": ("Ấp thiếu hụt (sau)", "Flagged hamlets (after)"),
    "scn.col_n_cleared": ("Số cờ được xoá", "Flags cleared"),
    "scn.col_n_new": ("Số cờ mới", "New flags"),
    "scn.col_kpi": ("Chỉ tiêu", "Indicator"),
    "scn.col_target": ("Mục tiêu", "Target"),
    "scn.col_before": ("Trước", "Before"),
    "scn.col_after": ("Sau", "After"),
    "scn.col_status": ("Đạt mục tiêu (trước → sau)", "Target met (before → after)"),
    "scn.col_measure": ("Kết quả", "Result"),
    "scn.status.met": ("Đạt", "Met"),
    "scn.status.not_met": ("Chưa đạt", "Not met"),
    "scn.status.no_target": ("Không có mục tiêu", "No target"),
    "scn.status.no_data": ("Không có số liệu", "No data"),
    "scn.map_change": ("Thay đổi vùng phủ 4G tốt", "Change in good 4G coverage"),
    "scn.map_gained": ("Có thêm 4G tốt", "Gains good 4G"),
    "scn.map_lost": ("Mất 4G tốt", "Loses good 4G"),
    "scn.map_change_kind": ("Thay đổi", "Change"),
    "scn.map_new_sites": ("Trạm mới (kịch bản)", "New sites (scenario)"),
    "scn.map_removed_sites": ("Trạm gỡ bỏ hoặc tắt", "Removed or switched-off sites"),
    "scn.map_flag_changes": ("Ấp thay đổi cờ", "Hamlets whose flags changed"),
    "scn.map_change_own": (
        "Thay đổi vùng phủ 4G tốt của {operator}",
        "Change in {operator}'s good 4G coverage",
    ),
    "scn.partner_note": (
        "Tài khoản đối tác {operator}: kịch bản chỉ thay đổi mạng của {operator} (thêm, gỡ, tắt trạm); "
        "bản đồ chỉ hiện trạm và vùng phủ 4G tốt của {operator}.",
        "Partner account of {operator}: the scenario changes {operator}'s network only (sites added, "
        "removed, switched off); the map shows {operator}'s sites and good 4G coverage only.",
    ),
    "scn.err_other_operator": (
        "{display} dòng {rows}: nhà mạng {found}; tài khoản đối tác {operator} chỉ được thêm trạm của "
        "{operator}.",
        "{display} row(s) {rows}: operator {found}; a partner account of {operator} may only add "
        "{operator}'s sites.",
    ),
    "scn.partner_dropped": (
        "Đã bỏ {n} thay đổi trên mạng của nhà mạng khác (tài khoản đối tác {operator}).",
        "{n} change(s) to other operators' networks were left out (partner account of {operator}).",
    ),
    "scn.map_cleared": ("Cờ được xoá", "Flags cleared"),
    "scn.map_new_flags": ("Cờ mới", "New flags"),
    "scn.change_new": ("trạm mới", "new site"),
    "scn.change_removed": ("gỡ bỏ", "removed"),
    "scn.change_switched_off": ("tắt công nghệ", "switched off"),
    "scn.show_sites": ("Hiện các trạm hiện có", "Show existing sites"),
    # the "Propose sites" panel of the scenario page (views/scenario_propose.py)
    "scn.propose.title": ("Đề xuất trạm", "Propose sites"),
    "scn.propose.intro": (
        "PhuSong chọn tối đa N trạm 4G mới (hoặc số trạm ngân sách cho phép) đưa nhiều hộ nhất của các ấp "
        "thiếu sóng lên 4G tốt, trên mạng lưới của kịch bản (docs/PLANNING.md). Đề xuất chỉ vào kịch bản "
        "khi bạn bấm Thêm vào kịch bản; sau đó có thể bỏ từng trạm và đánh giá trước và sau.",
        "PhuSong chooses up to N new 4G sites (or as many as the budget allows) that bring the most "
        "households of under-served hamlets to good 4G, on the scenario's network (docs/PLANNING.md). "
        "The proposal joins the scenario only when you press Add to the scenario; then remove any site "
        "and evaluate before and after.",
    ),
    "scn.propose.n": ("Số trạm tối đa", "Most sites"),
    "scn.propose.budget": ("Ngân sách (đồng)", "Budget (VND)"),
    "scn.propose.no_budget": ("Không giới hạn", "No limit"),
    "scn.propose.budget_help": (
        "Tuỳ chọn: tổng chi phí các trạm không vượt quá số này (đơn giá là giá tạm).",
        "Optional: the sites' total cost stays within it (the unit costs are placeholders).",
    ),
    "scn.propose.any_operator": ("Nhà mạng bất kỳ", "Any operator"),
    "scn.propose.operator_help": (
        "Một nhà mạng: theo vùng phủ và trạm của nhà mạng đó. Nhà mạng bất kỳ: theo sóng tốt nhất của mọi "
        "nhà mạng; các cell đề xuất được gán cho nhà mạng có nhiều trạm 4G nhất.",
        "One operator: planned on its own coverage and masts. Any operator: on every operator's best "
        "server; the proposed cells are given to the operator with most 4G sites.",
    ),
    "scn.propose.target": ("Đề xuất cho", "Propose for"),
    "scn.propose.target_underserved": (
        "Các ấp thiếu sóng (cờ sóng di động)",
        "Under-served hamlets (signal flags)",
    ),
    "scn.propose.target_service_loss": (
        "Các ấp mất hết sóng khi tắt {techs}",
        "Hamlets left without service by the {techs} switch-off",
    ),
    "scn.propose.partner": (
        "Tài khoản đối tác: chỉ đề xuất trạm của {operator}, trên mạng lưới của {operator}.",
        "Partner account: only {operator}'s sites are proposed, on {operator}'s own network.",
    ),
    "scn.propose.button": ("Đề xuất trạm", "Propose sites"),
    "scn.propose.phase_next": ("Đang tính: {phase}…", "Computing: {phase}…"),
    "scn.propose.phase_done": ("Xong {phase}: {seconds} giây", "Done {phase}: {seconds} s"),
    "scn.propose.phase_evaluate": (
        "đánh giá kịch bản (ấp mất sóng)",
        "evaluating the scenario (service lost)",
    ),
    "scn.propose.phase_coverage": ("vùng phủ hiện tại", "coverage today"),
    "scn.propose.phase_targets": ("các ấp thiếu sóng", "under-served hamlets"),
    "scn.propose.phase_candidates": ("các vị trí ứng viên", "candidate locations"),
    "scn.propose.phase_matrix": ("ma trận vùng phủ của ứng viên", "coverage matrix of the candidates"),
    "scn.propose.phase_choice": ("chọn trạm", "choice of the sites"),
    "scn.propose.ready": ("Đã đề xuất trong {seconds} giây", "Proposed in {seconds} s"),
    "scn.propose.failed": ("Không đề xuất được trạm:", "Sites could not be proposed:"),
    "scn.propose.stale": (
        "Kịch bản đã thay đổi sau khi đề xuất: đề xuất này tính cho kịch bản trước đó.",
        "The scenario changed since the proposal: it was made for the earlier scenario.",
    ),
    "scn.propose.no_loss": (
        "Không ấp nào mất hết sóng khi tắt: không có trạm nào để đề xuất.",
        "No hamlet loses all service in the switch-off: no site to propose.",
    ),
    "scn.propose.none": (
        "Không trạm nào đưa thêm được hộ lên 4G tốt (hoặc ngân sách không đủ cho một trạm).",
        "No site brings more households to good 4G (or the budget does not cover one site).",
    ),
    "scn.propose.summary": (
        "{n} trạm đưa {gained} trong {target} hộ chưa có 4G tốt của {hamlets} ấp lên 4G tốt; "
        "{candidates} vị trí ứng viên; chi phí {cost}.",
        "{n} site(s) bring {gained} of the {target} households without good 4G in {hamlets} hamlets "
        "to good 4G; {candidates} candidates; cost {cost}.",
    ),
    "scn.propose.stop_budget": ("Dừng vì hết ngân sách.", "Stopped: the budget is spent."),
    "scn.propose.stop_no_gain": (
        "Dừng vì không trạm nào đưa thêm được hộ.",
        "Stopped: no further site brings any household.",
    ),
    "scn.propose.cells_of": (
        "Các cell đề xuất thuộc {operator}.",
        "The proposed cells are {operator}'s.",
    ),
    "scn.propose.placeholder_costs": (
        "Chi phí theo đơn giá tạm (analysis/config/planning.toml), không phải giá của tỉnh: chỉ để so sánh.",
        "Costs use placeholder unit costs (analysis/config/planning.toml), not the province's prices: "
        "use them to compare only.",
    ),
    "scn.propose.add": ("Thêm vào kịch bản", "Add to the scenario"),
    "scn.propose.discard": ("Bỏ đề xuất", "Discard the proposal"),
    "scn.propose.added": (
        "Đã thêm {n} trạm đề xuất vào kịch bản: bấm Đánh giá để xem trước và sau.",
        "Added {n} proposed site(s) to the scenario: press Evaluate for before and after.",
    ),
    "scn.propose.col_rank": ("Thứ tự", "Rank"),
    "scn.propose.col_site": ("Trạm", "Site"),
    "scn.propose.col_kind": ("Loại", "Kind"),
    "scn.propose.col_host": ("Cột có sẵn", "Host mast"),
    "scn.propose.col_gain": ("Hộ thêm 4G tốt", "Households gained"),
    "scn.propose.col_cumulative": ("Hộ cộng dồn", "Cumulative households"),
    "scn.propose.col_cost": ("Chi phí", "Cost"),
    "scn.propose.col_hamlets": ("Ấp được phục vụ", "Hamlets served"),
    "scn.propose.kind_shared": ("Dùng chung cột", "Shared mast"),
    "scn.propose.kind_new": ("Cột mới", "New mast"),
    "scn.propose.map_sites": ("Trạm đề xuất (chưa thêm)", "Proposed sites (not added yet)"),
    "scn.propose.map_candidates": ("Vị trí ứng viên", "Candidate locations"),
    "scn.propose.map_gain_alone": ("Hộ lên 4G tốt nếu chỉ có trạm này", "Households brought to good alone"),
    "scn.saved_title": ("Kịch bản đã lưu", "Saved scenarios"),
    "scn.save_hint": (
        "Lưu kịch bản theo tên vào thư mục scenarios/ của bộ dữ liệu (dữ liệu gốc không đổi).",
        "Save the scenario under its name in the data package's scenarios/ folder (the data is unchanged).",
    ),
    "scn.overwrite": ("Ghi đè nếu trùng tên", "Replace one of the same name"),
    "scn.save": ("Lưu kịch bản", "Save scenario"),
    "scn.saved": ("Đã lưu {name} ({slug})", "Saved {name} ({slug})"),
    "scn.err_name": ("Hãy đặt tên cho kịch bản.", "Give the scenario a name."),
    "scn.err_exists": (
        "Đã có kịch bản {slug}: đặt tên khác hoặc chọn ghi đè.",
        "A scenario {slug} is already saved: choose another name or tick replace.",
    ),
    "scn.none_saved": ("Chưa có kịch bản nào được lưu.", "No scenario saved yet."),
    "scn.saved_list": ("Kịch bản", "Scenario"),
    "scn.load": ("Mở", "Load"),
    "scn.loaded": ("Đã mở {name}", "Loaded {name}"),
    "scn.err_load": ("Không mở được kịch bản:", "The scenario could not be loaded:"),
    "scn.missing_sites": (
        "Bộ dữ liệu hiện không có các trạm cần gỡ sau: {sites}",
        "The data package no longer has these sites to remove: {sites}",
    ),
    "scn.delete": ("Xoá", "Delete"),
    "scn.deleted": ("Đã xoá {slug} (vẫn khôi phục được)", "Deleted {slug} (it can be restored)"),
    "scn.other_version": (
        "Kịch bản này lập trên phiên bản dữ liệu {made}; bộ dữ liệu nay là phiên bản {now}. Các thay đổi "
        "được áp dụng lên dữ liệu hiện tại.",
        "This scenario was made on data version {made}; the package is now version {now}. Its changes are "
        "applied to the current data.",
    ),
    "scn.rebase": ("Chuyển sang phiên bản hiện tại", "Re-base on the current version"),
    "scn.rebased": ("Đã chuyển {slug} sang phiên bản hiện tại", "Re-based {slug} on the current version"),
    "scn.rename_to": ("Tên mới", "New name"),
    "scn.rename": ("Đổi tên", "Rename"),
    "scn.renamed": ("Đã đổi tên thành {slug}", "Renamed to {slug}"),
    "scn.compare": ("So sánh kịch bản", "Compare scenarios"),
    "scn.compare_pick": ("Chọn 2 đến 4 kịch bản đã lưu", "Choose 2 to 4 saved scenarios"),
    "scn.compare_button": ("So sánh", "Compare"),
    # sign-in, roles and the admin pages (docs/ACCESS.md)
    "page.signin": ("Đăng nhập", "Sign in"),
    "page.audit": ("Nhật ký truy cập", "Audit log"),
    "page.users": ("Tài khoản", "User accounts"),
    "auth.demo_banner": (
        "CHẾ ĐỘ DÙNG THỬ: chưa có tệp tài khoản nên mọi trang đều mở và ứng dụng chỉ phục vụ trên máy "
        "này. Tạo tài khoản quản trị đầu tiên bằng `python -m analysis users add TÊN --role admin` để "
        "bật đăng nhập.",
        "DEMO MODE: no users file, so every page is open and the app only listens on this computer. "
        "Create the first admin with `python -m analysis users add NAME --role admin` to turn on sign-in.",
    ),
    "auth.demo_remote": (
        "Chế độ dùng thử chỉ phục vụ trên chính máy chạy ứng dụng. Hãy nhờ văn phòng dữ liệu tạo tài "
        "khoản để dùng qua mạng.",
        "Demo mode serves only the computer the app runs on. Ask the data office to create accounts to use "
        "it over the network.",
    ),
    "auth.no_start": ("PhuSong không khởi động", "PhuSong does not start"),
    "auth.config_error": ("Không đọc được thiết lập đăng nhập", "The sign-in settings could not be read"),
    "auth.not_permitted": (
        "Không được phép: tài khoản của bạn không được mở trang này hoặc làm thao tác này.",
        "Not permitted: your account may not open this page or do this.",
    ),
    "auth.intro": (
        "Đăng nhập bằng tài khoản văn phòng dữ liệu đã cấp cho bạn.",
        "Sign in with the account the data office gave you.",
    ),
    "auth.name": ("Tên đăng nhập", "User name"),
    "auth.password": ("Mật khẩu", "Password"),
    "auth.submit": ("Đăng nhập", "Sign in"),
    "auth.empty": ("Hãy nhập tên đăng nhập và mật khẩu.", "Enter your user name and password."),
    "auth.wrong": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "auth.locked": (
        "Đăng nhập sai quá nhiều lần: tài khoản bị khóa đến {time}. Hãy thử lại sau thời điểm đó, hoặc "
        "nhờ văn phòng dữ liệu đặt lại mật khẩu.",
        "Too many failed sign-ins: the account is locked until {time}. Try again then, or ask the data "
        "office to reset the password.",
    ),
    "auth.expired": (
        "Phiên làm việc đã kết thúc sau {minutes} phút không sử dụng; hãy đăng nhập lại.",
        "Your session ended after {minutes} minutes without use; please sign in again.",
    ),
    "auth.ended": (
        "Tài khoản của bạn không còn; phiên làm việc đã kết thúc.",
        "Your account no longer exists; the session has ended.",
    ),
    "auth.signed_out": ("Đã đăng xuất.", "Signed out."),
    "auth.signed_in_as": ("Đăng nhập: {name} ({role})", "Signed in as {name} ({role})"),
    "auth.sign_out": ("Đăng xuất", "Sign out"),
    "auth.time_zone": ("giờ Việt Nam", "Vietnam time"),
    "role.admin": ("quản trị", "admin"),
    "role.planner": ("quy hoạch", "planner"),
    "role.partner": ("đối tác", "partner"),
    "role.leadership": ("lãnh đạo", "leadership"),
    # users page
    "usr.intro": (
        "Tài khoản đăng nhập và vai trò. Mật khẩu chỉ được nhập ở đây, không bao giờ hiện ra hay ghi lại.",
        "Sign-in accounts and their roles. Passwords are only typed here, never shown or logged.",
    ),
    "usr.demo_note": (
        "Chế độ dùng thử: thêm tài khoản đầu tiên sẽ bật đăng nhập ngay; hãy thêm tài khoản quản trị trước.",
        "Demo mode: adding the first account turns sign-in on at once; add an admin account first.",
    ),
    "usr.none": ("Chưa có tài khoản nào.", "No accounts yet."),
    "usr.col_name": ("Tên đăng nhập", "User name"),
    "usr.col_role": ("Vai trò", "Role"),
    "usr.col_operator": ("Nhà mạng", "Operator"),
    "usr.col_locked": ("Khóa đến", "Locked until"),
    "usr.col_failures": ("Số lần sai", "Failed sign-ins"),
    "usr.add": ("Thêm tài khoản", "Add an account"),
    "usr.role": ("Vai trò", "Role"),
    "usr.operator": ("Nhà mạng (chỉ cho đối tác)", "Operator (partners only)"),
    "usr.password": ("Mật khẩu (ít nhất 8 ký tự)", "Password (at least 8 characters)"),
    "usr.repeat": ("Nhập lại mật khẩu", "Repeat the password"),
    "usr.mismatch": (
        "Hai mật khẩu không khớp; không có gì thay đổi.",
        "The two passwords differ; nothing changed.",
    ),
    "usr.submit_add": ("Thêm", "Add"),
    "usr.operator_rule": (
        "Tài khoản đối tác cần chọn một nhà mạng; các vai trò khác không chọn nhà mạng.",
        "A partner account needs an operator; the other roles have none.",
    ),
    "usr.added": ("Đã thêm tài khoản {name}.", "Added the account {name}."),
    "usr.account": ("Tài khoản", "Account"),
    "usr.remove": ("Xóa tài khoản", "Remove an account"),
    "usr.confirm": ("Tôi chắc chắn muốn xóa tài khoản này", "I am sure I want to remove this account"),
    "usr.submit_remove": ("Xóa", "Remove"),
    "usr.removed": ("Đã xóa tài khoản {name}.", "Removed the account {name}."),
    "usr.not_confirmed": (
        "Hãy đánh dấu ô xác nhận trước khi xóa.",
        "Tick the confirmation box before removing.",
    ),
    "usr.not_self": (
        "Không thể tự xóa tài khoản đang đăng nhập.",
        "You cannot remove the account you are using.",
    ),
    "usr.last_admin": (
        "Không thể xóa tài khoản quản trị cuối cùng.",
        "The last admin account cannot be removed.",
    ),
    "usr.unlock": ("Mở khóa tài khoản", "Unlock an account"),
    "usr.submit_unlock": ("Mở khóa", "Unlock"),
    "usr.unlocked": ("Đã mở khóa {name}.", "Unlocked {name}."),
    "usr.no_locked": ("Không có tài khoản nào đang bị khóa.", "No account is locked."),
    "usr.reset": ("Đặt lại mật khẩu", "Reset a password"),
    "usr.submit_reset": ("Đặt mật khẩu", "Set the password"),
    "usr.reset_done": (
        "Đã đặt mật khẩu mới cho {name}; số lần sai và khóa đã được xóa.",
        "New password set for {name}; failed sign-ins and any lock cleared.",
    ),
    "usr.failed": ("Không thực hiện được", "Not done"),
    # audit page
    "aud.intro": (
        "Ai đã làm gì: đăng nhập, tải dữ liệu, nhập dữ liệu, thay đổi tài khoản, truy cập bị từ chối.",
        "Who did what: sign-ins, downloads, imports, account changes, refused access.",
    ),
    "aud.event": ("Sự kiện", "Event"),
    "aud.user": ("Người dùng", "User"),
    "aud.from": ("Từ ngày", "From"),
    "aud.to": ("Đến ngày", "To"),
    "aud.all": ("(tất cả)", "(all)"),
    "aud.count": ("{shown} / {total} mục, mới nhất trước", "{shown} of {total} entries, newest first"),
    "aud.truncated": (
        "Chỉ hiện {n} mục mới nhất; tệp tải về có đủ các mục đã lọc.",
        "Only the newest {n} entries are shown; the download holds every filtered entry.",
    ),
    "aud.empty": ("Không có mục nào.", "No entries."),
    "aud.col_time": ("Thời gian", "Time"),
    "aud.col_event": ("Sự kiện", "Event"),
    "aud.col_user": ("Người dùng", "User"),
    "aud.col_role": ("Vai trò", "Role"),
    "aud.col_details": ("Chi tiết", "Details"),
    "aud.download": ("Tải nhật ký (JSON Lines)", "Download the log (JSON Lines)"),
    "aud.error": ("Không đọc được nhật ký truy cập", "The audit log could not be read"),
    "ev.sign_in": ("đăng nhập", "sign-in"),
    "ev.sign_in_failed": ("đăng nhập thất bại", "failed sign-in"),
    "ev.account_locked": ("khóa tài khoản", "account locked"),
    "ev.sign_out": ("đăng xuất", "sign-out"),
    "ev.session_expired": ("hết phiên", "session expired"),
    "ev.refused": ("bị từ chối", "refused"),
    "ev.upload_preview": ("xem trước tệp nhập", "upload preview"),
    "ev.import_applied": ("nhập dữ liệu", "import applied"),
    "ev.version_restored": ("khôi phục phiên bản", "version restored"),
    "ev.thresholds_published": ("công bố ngưỡng", "thresholds published"),
    "ev.download": ("tải dữ liệu", "download"),
    "ev.user_added": ("thêm tài khoản", "account added"),
    "ev.user_removed": ("xóa tài khoản", "account removed"),
    "ev.password_set": ("đặt mật khẩu", "password set"),
    "ev.user_unlocked": ("mở khóa tài khoản", "account unlocked"),
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
