"""Leadership snapshot: charts, the A4 PDF (Vietnamese text extractable) and the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pypdf import PdfReader
from shapely.geometry import Point, box

from analysis.kpi import KpiTargets, compute_kpis
from analysis.params import GapParams
from cli.main import main
from geo.errors import ParameterError, SchemaError
from geo.package import load_package
from layers.charts import district_share_chart_png, district_underserved_chart_png, province_map_png
from layers.report import LayerSource, ReportMeta, build_snapshot_pdf, render_snapshot_pdf
from tests.conftest import write_tiny_package

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPORT_DAY = dt.date(2026, 11, 25)


def _pypdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_package(tmp_path_factory.mktemp("snapshot") / "pkg")


@pytest.fixture(scope="module")
def tiny_gaps(tiny_root: Path) -> tuple[object, gpd.GeoDataFrame]:
    from analysis.gaps import compute_gaps

    pkg = load_package(tiny_root)
    return pkg, compute_gaps(pkg, GapParams())


@pytest.fixture(scope="module")
def pdf_vi(tiny_gaps) -> bytes:
    pkg, gaps = tiny_gaps
    return build_snapshot_pdf(pkg, lang="vi", params=GapParams(), gaps=gaps, today=REPORT_DAY)


@pytest.fixture(scope="module")
def pdf_en(tiny_gaps) -> bytes:
    pkg, gaps = tiny_gaps
    return build_snapshot_pdf(pkg, lang="en", params=GapParams(), gaps=gaps, today=REPORT_DAY)


# Tiny package survey (tests/conftest.py): H1, H2, H3 rows; the C2 commune row is shadowed by H3.
# FTTH = (70 + 90 + 130) / (100 + 150 + 180) = 290 / 430 = 67.44 %
# smartphone = (220 + 330 + 400) / (300 + 450 + 520) = 950 / 1270 = 74.80 %
VI_EXPECTED = (
    "Trà Vinh",
    "Tỷ lệ hộ",
    "Tỷ lệ hộ chưa có sóng 4G",
    "Báo cáo nhanh hạ tầng số",
    "25/11/2026",
    "67,4 %",
    "74,8 %",
    "1.270",
    "Ấp Giồng Lớn",
    "Xã Long Đức",
    "TỔNG HỢP",
    "Khảo sát hộ",
    "CHƯA ĐẠT",
    "411/QĐ-TTg",
)
EN_EXPECTED = (
    "Trà Vinh province",
    "Households with good 4G",
    "Households without 4G",
    "25 Nov 2026",
    "67.4%",
    "74.8%",
    "1,270",
    "Ấp Giồng Lớn",
    "SYNTHETIC",
    "NOT MET",
    "Top 3 priority hamlets",
    "Thresholds and targets used",
)


def test_pdf_is_a4_with_extractable_vietnamese_text_pypdf(pdf_vi):
    assert pdf_vi.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf_vi))
    box_ = reader.pages[0].mediabox
    assert (round(float(box_.width)), round(float(box_.height))) == (595, 842)  # A4 in points
    text = _pypdf_text(pdf_vi)
    for expected in VI_EXPECTED:
        assert expected in text, expected


def test_pdf_vietnamese_text_extractable_with_pdftotext(pdf_vi, tmp_path):
    text = _pdftotext(pdf_vi, tmp_path)
    for expected in VI_EXPECTED:
        assert expected in text, expected
    assert "Ấp Chợ" in text and "Khóm 3" in text


def test_pdf_embeds_dejavu_fonts(pdf_vi):
    reader = PdfReader(io.BytesIO(pdf_vi))
    fonts = {
        str(f["/BaseFont"])
        for f in reader.pages[0]["/Resources"]["/Font"].get_object().values()
        if "/BaseFont" in f.get_object()
    }
    assert any("DejaVuSans" in name for name in fonts), fonts


def test_english_variant(pdf_en, tmp_path):
    for text in (_pypdf_text(pdf_en), _pdftotext(pdf_en, tmp_path)):
        for expected in EN_EXPECTED:
            assert expected in text, expected
        assert "Tỷ lệ hộ" not in text and "25/11/2026" not in text


def test_synthetic_layers_are_named_on_the_first_page(pdf_vi, pdf_en):
    first_vi = PdfReader(io.BytesIO(pdf_vi)).pages[0].extract_text()
    assert "DỮ LIỆU TỔNG HỢP" in first_vi and "Trạm BTS" in first_vi
    first_en = PdfReader(io.BytesIO(pdf_en)).pages[0].extract_text()
    assert "SYNTHETIC DATA" in first_en and "Base stations" in first_en


def test_top_n_limits_the_priority_table(tiny_gaps):
    pkg, gaps = tiny_gaps
    pdf = build_snapshot_pdf(pkg, lang="en", params=GapParams(), gaps=gaps, top_n=1, today=REPORT_DAY)
    text = _pypdf_text(pdf)
    assert "Top 1 priority hamlets" in text
    first = gaps.sort_values("priority_score", ascending=False)["hamlet_name"].iloc[0]
    others = [n for n in gaps["hamlet_name"] if n != first]
    table = text.split("Top 1 priority hamlets")[1].split("Thresholds and targets used")[0]
    assert first in table and not any(name in table for name in others)


# ---------------------------------------------------------------- hand-built scene (no package)


@pytest.fixture
def scene() -> dict[str, object]:
    communes = gpd.GeoDataFrame(
        {
            "commune_id": ["c1", "c2"],
            "commune_name": ["Xã An", "Phường 1"],
            "district_name": ["Huyện Trà Cú", "Thành phố Trà Vinh"],
        },
        geometry=[box(106.2, 9.9, 106.3, 10.0), box(106.3, 9.9, 106.4, 10.0)],
        crs=4326,
    )
    gaps = gpd.GeoDataFrame(
        {
            "hamlet_id": ["h1", "h2"],
            "hamlet_name": ["Ấp Chợ", "Khóm 3"],
            "commune_id": ["c1", "c2"],
            "households": [100, 300],
            "share_hh_good_4g": [0.2, 1.0],
            "share_hh_no_4g": [0.8, 0.0],
            "fibre_reach_class": ["out_of_reach", "drop"],
            "flags": ["NO_MOBILE_COVERAGE;NO_FIBRE_REACH", ""],
            "affected_households": [100, 0],
            "priority_score": [180.0, 0.0],
            "explanation_vi": ["Ấp Chợ: 80% hộ chưa có sóng 4G", ""],
            "explanation_en": ["Ấp Chợ: 80% of households without 4G", ""],
        },
        geometry=[Point(106.25, 9.95), Point(106.35, 9.95)],
        crs=4326,
    )
    meta = ReportMeta(
        province_name="Trà Vinh",
        dataset_name="Cảnh thử",
        boundary_vintage="2009 layout",
        version="0123456789abcdef",
        layers=(
            LayerSource("communes", False, "censusVN2009", "MIT"),
            LayerSource("hamlets", True, "datagen", "CC0-1.0"),
        ),
    )
    return {
        "communes": communes,
        "gaps": gaps,
        "meta": meta,
        "snapshot": compute_kpis(gaps, communes=communes, targets=KpiTargets()),
    }


def test_render_from_ready_results(scene):
    pdf = render_snapshot_pdf(
        meta=scene["meta"],
        snapshot=scene["snapshot"],
        communes=scene["communes"],
        gaps=scene["gaps"],
        params=GapParams(),
        today=REPORT_DAY,
    )
    text = _pypdf_text(pdf)
    # good 4G = (100 * 0.2 + 300 * 1.0) / 400 = 80.0 %
    assert "80,0 %" in text and "Ấp Chợ: 80% hộ chưa có sóng 4G" in text and "Ấp/khóm" in text
    assert "KHÔNG CÓ DỮ LIỆU" in text  # no survey: FTTH and smartphone have no data
    # without 4G = 100 * 0.8 / 400 = 20.0 %, i.e. 80 households
    assert "Tỷ lệ hộ chưa có sóng 4G" in text and "20,0 %" in text and "80 hộ trên 400 hộ" in text


def test_pdf_shows_households_without_4g(scene, tmp_path):
    """The hand-computed dead zone: 100 households with no 4G, 300 covered -> 25 %, 100 households."""
    gaps = scene["gaps"].assign(share_hh_good_4g=[0.0, 1.0], share_hh_no_4g=[1.0, 0.0])
    snapshot = compute_kpis(gaps, communes=scene["communes"], targets=KpiTargets())
    # good 4G is 75 % of the same 400 households; only the no-4G card has a 0 % target
    for lang, expected in (
        ("vi", ("Tỷ lệ hộ chưa có sóng 4G", "25,0 %", "100 hộ trên 400 hộ", "Mục tiêu: 0 %", "75,0 %")),
        ("en", ("Households without 4G", "25.0%", "100 of 400 households", "Target: 0%", "75.0%")),
    ):
        pdf = render_snapshot_pdf(
            meta=scene["meta"],
            snapshot=snapshot,
            communes=scene["communes"],
            gaps=gaps,
            params=GapParams(),
            lang=lang,
            today=REPORT_DAY,
        )
        text = _pdftotext(pdf, tmp_path)
        for piece in expected:
            assert piece in text, piece


def test_render_rejects_bad_options(scene):
    kwargs = {
        "meta": scene["meta"],
        "snapshot": scene["snapshot"],
        "communes": scene["communes"],
        "gaps": scene["gaps"],
        "params": GapParams(),
    }
    with pytest.raises(ParameterError, match="language"):
        render_snapshot_pdf(**kwargs, lang="fr")
    with pytest.raises(ParameterError, match="top_n"):
        render_snapshot_pdf(**kwargs, top_n=0)


def test_charts_are_png_and_leave_no_pyplot_figures(scene):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    snap = scene["snapshot"]
    images = [
        district_share_chart_png(snap.districts, targets=snap.targets, lang="vi"),
        district_underserved_chart_png(snap.districts, lang="en"),
        province_map_png(
            scene["communes"],
            values=snap.communes.set_index("commune_id")["good_4g"],
            value_label="Tỷ lệ hộ có sóng 4G tốt",
            hamlets=scene["gaps"],
            target=1.0,
        ),
    ]
    for png in images:
        assert png.startswith(PNG_MAGIC) and len(png) > 2000
    assert plt.get_fignums() == before


def test_map_refuses_values_not_indexed_by_commune_id(scene):
    with pytest.raises(SchemaError, match="index them by commune_id"):
        province_map_png(scene["communes"], values=pd.Series([0.5, 0.7]), value_label="x")


def test_map_greys_communes_without_values(scene):
    png = province_map_png(scene["communes"], values=pd.Series({"c1": 0.5}), value_label="x")
    assert png.startswith(PNG_MAGIC)


# ---------------------------------------------------------------- CLI


def test_cli_writes_and_refuses_to_overwrite(tiny_root, tmp_path, capsys):
    out = tmp_path / "report.pdf"
    assert main(["snapshot", str(tiny_root), "--out", str(out), "--date", "2026-11-25"]) == 0
    first = out.read_bytes()
    assert first.startswith(b"%PDF-") and "25/11/2026" in _pypdf_text(first)
    assert main(["snapshot", str(tiny_root), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == first
    assert main(["snapshot", str(tiny_root), "--out", str(out), "--lang", "en", "--force", "--top", "2"]) == 0
    assert "Households with good 4G" in _pypdf_text(out.read_bytes())
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x.txt"], "must end in .pdf"),
        (["--out", "missing-folder/x.pdf"], "does not exist"),
        (["--out", "x.pdf", "--top", "0"], "--top"),
        (["--out", "x.pdf", "--date", "25/11/2026"], "YYYY-MM-DD"),
    ],
)
def test_cli_bad_arguments_exit_2(tiny_root, tmp_path, monkeypatch, capsys, extra, message):
    monkeypatch.chdir(tmp_path)
    assert main(["snapshot", str(tiny_root), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()


def test_cli_bad_language_is_an_argparse_error(tiny_root, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["snapshot", str(tiny_root), "--out", str(tmp_path / "r.pdf"), "--lang", "fr"])
    assert exc.value.code == 2


def test_cli_bad_data_and_config_exit_2(tmp_path, capsys):
    broken = write_tiny_package(tmp_path / "broken")
    (broken / "boundaries" / "hamlets.geojson").unlink()
    assert main(["snapshot", str(broken), "--out", str(tmp_path / "a.pdf")]) == 2
    assert "hamlets" in capsys.readouterr().err
    assert main(["snapshot", str(tmp_path / "nowhere"), "--out", str(tmp_path / "b.pdf")]) == 2
    assert "does not exist" in capsys.readouterr().err
    config = tmp_path / "gaps.toml"
    config.write_text("[thresholds]\nftth_min_share = 1.7\n", encoding="utf-8")
    good = write_tiny_package(tmp_path / "good")
    assert main(["snapshot", str(good), "--out", str(tmp_path / "c.pdf"), "--config", str(config)]) == 2
    assert "ftth_min_share" in capsys.readouterr().err
    assert not any(tmp_path.glob("*.pdf"))


def test_cli_config_targets_reach_the_report(tiny_root, tmp_path):
    config = tmp_path / "gaps.toml"
    config.write_text("[thresholds]\nftth_min_share = 0.6\n", encoding="utf-8")
    out = tmp_path / "r.pdf"
    assert main(["snapshot", str(tiny_root), "--out", str(out), "--lang", "en", "--config", str(config)]) == 0
    text = _pypdf_text(out.read_bytes())
    assert "Target: 60%" in text  # FTTH 67.4% now meets its target


def test_bundled_province_report_by_former_province():
    """The bundled new Vĩnh Long: figures by former province beside what each published."""
    pkg = load_package(Path(__file__).resolve().parents[1] / "data")
    pdf = build_snapshot_pdf(pkg, lang="vi", today=REPORT_DAY)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) <= 4
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in ("Vĩnh Long", "Bến Tre", "Trà Vinh", "Tỷ lệ hộ chưa có sóng 4G", "DỮ LIỆU TỔNG HỢP"):
        assert expected in text, expected
    assert "Huyện " not in text.split("10 ấp/khóm ưu tiên hàng đầu")[0]  # no current districts


def test_tra_vinh_2009_report_fits_three_pages():
    root = Path(__file__).resolve().parents[1] / "examples" / "tra-vinh-2009"
    pkg = load_package(root)
    pdf = build_snapshot_pdf(pkg, lang="vi", today=REPORT_DAY)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Tỉnh Trà Vinh",
        "Huyện",
        "Tỷ lệ hộ có sóng 4G tốt",
        "Tỷ lệ hộ chưa có sóng 4G",
        "10 ấp/khóm ưu tiên hàng đầu",
        "censusVN2009",
        "DỮ LIỆU TỔNG HỢP",
    ):
        assert expected in text, expected


def test_kpi_card_text_in_both_languages(scene):
    from analysis.kpi import KpiKey
    from layers.report import kpi_card_text

    kpi = scene["snapshot"].get(KpiKey.GOOD_4G)  # 80 % against a 100 % target
    vi, en = kpi_card_text(kpi, "vi"), kpi_card_text(kpi, "en")
    assert (vi.value, vi.target, vi.status, vi.detail) == (
        "80,0 %",
        "Mục tiêu: 100 %",
        "CHƯA ĐẠT",
        "còn thiếu 20,0 điểm %",
    )
    assert (en.value, en.target, en.status, en.detail) == (
        "80.0%",
        "Target: 100%",
        "NOT MET",
        "20.0 percentage points to go",
    )
    assert en.label == "Households with good 4G" and vi.basis == "trên 400 hộ"


def test_no_4g_card_text_is_lower_is_better(scene):
    from analysis.kpi import KpiKey
    from layers.report import kpi_card_text

    kpi = scene["snapshot"].get(KpiKey.NO_4G)  # 20 % (80 of 400 households) against a 0 % target
    vi, en = kpi_card_text(kpi, "vi"), kpi_card_text(kpi, "en")
    assert (vi.label, vi.value, vi.basis, vi.target, vi.status, vi.detail) == (
        "Tỷ lệ hộ chưa có sóng 4G",
        "20,0 %",
        "80 hộ trên 400 hộ",
        "Mục tiêu: 0 %",
        "CHƯA ĐẠT",
        "vượt mục tiêu 20,0 điểm %",
    )
    assert (en.label, en.value, en.basis, en.target, en.status, en.detail) == (
        "Households without 4G",
        "20.0%",
        "80 of 400 households",
        "Target: 0%",
        "NOT MET",
        "20.0 percentage points above target",
    )
    met = kpi_card_text(dataclasses.replace(kpi, value=0.0, numerator=0.0), "vi")
    assert (met.value, met.basis, met.status, met.detail) == ("0,0 %", "0 hộ trên 400 hộ", "ĐẠT", "")


def test_district_chart_colours_no_4g_lower_is_better(scene):
    from analysis.kpi import KpiKey
    from layers.charts import _meets

    snap = scene["snapshot"]
    assert snap.districts.set_index("district_name")["no_4g"].to_dict() == {
        "Huyện Trà Cú": pytest.approx(0.8),
        "Thành phố Trà Vinh": 0.0,
    }
    assert _meets(0.0, 0.0, higher=False) and not _meets(0.8, 0.0, higher=False)
    assert _meets(1.0, 1.0, higher=True) and not _meets(float("nan"), 0.0, higher=False)
    png = district_share_chart_png(snap.districts, targets=snap.targets, keys=(KpiKey.NO_4G,), lang="en")
    assert png.startswith(PNG_MAGIC)


# ---------------------------------------------------------------- 2025-07 layout: former provinces


@pytest.fixture(scope="module")
def reform_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    from tests.package_2025 import package_and_gaps

    pkg, gaps = package_and_gaps(tmp_path_factory.mktemp("reform") / "pkg")
    return {
        lang: build_snapshot_pdf(pkg, lang=lang, params=GapParams(), gaps=gaps, today=REPORT_DAY)
        for lang in ("vi", "en")
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_2025_report_by_former_province_with_published_figures_vi(reform_pdfs, tmp_path) -> None:
    text = _pdftotext(reform_pdfs["vi"], tmp_path)
    flat = _one_line(text)
    assert "Tỉnh Vĩnh Long" in text
    assert "Theo tỉnh cũ (trước 1/7/2025)" in text and "Theo huyện/thị xã/thành phố" not in text
    assert "Ấp/khóm còn thiếu hụt theo tỉnh cũ (trước 1/7/2025)" in text
    assert "được tính vào đơn vị cũ đã góp nhiều hộ nhất" in flat  # the rule for split communes
    section = flat.split("Các tỉnh cũ: số liệu của bộ dữ liệu và số liệu mỗi tỉnh đã công bố")[1]
    # Trà Vinh: this package's figures (hand-computed, tests/package_2025.py) beside the published ones
    assert "Trà Vinh Tỷ lệ người lớn dùng Internet 81,8 % 84,0 % [1], 2023" in section
    assert "Trà Vinh Tỷ lệ người lớn có điện thoại thông minh 71,4 % 76,0 % [1], 2023" in section
    assert "Trà Vinh Tỷ lệ hộ dùng cáp quang (FTTH) 61,5 % 69,3 % [1], 2023" in section
    assert "Bến Tre Tỷ lệ hộ dùng cáp quang (FTTH) 33,3 % — không có trong nguồn của chúng tôi" in section
    assert "Vĩnh Long Thuê bao di động / 100 dân — 130 / 100 dân [2], 2022" in section
    assert "[1] Trà Vinh provincial press article" in section
    assert "[2] Báo Vĩnh Long, “Sớm hình thành văn hóa số cho người dân” (An Chi), 14/03/2023" in section
    assert "khảo sát TỔNG HỢP" in section
    # the priority table names the former district as former, never as a current unit
    assert "Xã / huyện cũ" in flat and "Huyện Trà Cú (cũ)" in flat


def test_2025_report_in_english(reform_pdfs, tmp_path) -> None:
    flat = _one_line(_pdftotext(reform_pdfs["en"], tmp_path))
    assert "By former province (before 1 July 2025)" in flat and "By district" not in flat
    assert "Former provinces: this package's figures and what each published" in flat
    assert "Trà Vinh Households with fibre (FTTH) 61.5% 69.3% [1], 2023" in flat
    assert "Vĩnh Long Mobile subscriptions per 100 people — 130 per 100 people [2], 2022" in flat
    assert "Bến Tre Adults using the internet 66.7% — none in our sources" in flat
    assert "Commune / former district" in flat and "Huyện Châu Thành (former)" in flat
    assert len(PdfReader(io.BytesIO(reform_pdfs["en"])).pages) == 3


def test_2025_report_without_former_units_has_province_figures_only(tmp_path) -> None:
    from analysis.gaps import compute_gaps
    from tests.package_2025 import COMMUNES, edit_features, write_2025_package

    root = write_2025_package(tmp_path / "pkg")

    def drop(doc: dict) -> None:
        for feature in doc["features"]:
            for key in ("former_province", "former_district", "old_commune_codes"):
                feature["properties"].pop(key, None)

    edit_features(root, COMMUNES, drop)
    pkg = load_package(root)
    gaps = compute_gaps(pkg, GapParams(), signal_model="standin")
    pdf = build_snapshot_pdf(pkg, lang="en", params=GapParams(), gaps=gaps, today=REPORT_DAY)
    text = _one_line(_pypdf_text(pdf))
    assert "names no former province or district of its communes: province figures only" in text
    assert "By former province" not in text and "By district" not in text
    # the figures the former provinces of Vĩnh Long published are still listed
    assert "Trà Vinh Households with fibre (FTTH) — 69.3%" in text


def test_group_labels_of_every_layout() -> None:
    from layers.charts import group_labels

    districts = pd.DataFrame({"district_name": ["Huyện Trà Cú", "Thành phố Trà Vinh"]})
    assert group_labels(districts) == ["Trà Cú", "Trà Vinh"]
    former = pd.DataFrame(
        {
            "former_province": ["Bến Tre", "Trà Vinh"],
            "former_district": ["Huyện Châu Thành", "Huyện Châu Thành"],
        }
    )
    assert group_labels(former, "former_province") == ["Bến Tre", "Trà Vinh"]
    assert group_labels(former, "former_district") == ["Châu Thành (Bến Tre)", "Châu Thành (Trà Vinh)"]
    odd = pd.DataFrame({"former_province": ["$\\frac{1}{0$"]})
    png = district_share_chart_png(
        odd.assign(good_4g=0.5, no_4g=0.1, ftth=0.4, smartphone=0.7),
        targets=KpiTargets(),
        group_column="former_province",
    )
    assert png.startswith(PNG_MAGIC) and group_labels(odd, "former_province") == ["\\$\\frac{1}{0\\$"]
