"""Scenarios (issue 12): the CLI on the hand-built acceptance scene A, the store, programmes, bad input.

Expectations come from the documented models (tests/acceptance/reference.py: Hata / COST-231, the
link budget, the class thresholds of docs/COVERAGE.md), never from the program's own numbers.
Scene A has a 2G-only site beside hamlet A-PLAN, hamlet A-NONE 20 km from any 4G site, and two
hamlets (A-NONE10, A-NONE40) at the edge of 4G coverage.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from geo.package import package_version
from tests.acceptance import reference as ref
from tests.acceptance.scenes import footprint, lonlat, metric, radio_scene, write_package
from tests.acceptance.support import read_csv_rows, run_cli, run_ok

LAYOUT = "2025-07"
#: docs/COVERAGE.md: 2G level = BCCH carrier EIRP - L(d); RxLev classes good -75, fair -85, poor -95.
RXLEV_GOOD, RXLEV_FAIR, RXLEV_POOR = -75.0, -85.0, -95.0


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("scenario") / "pkg"
    ids = write_package(radio_scene(), root, LAYOUT)
    return ids


def _sites_csv(path: Path, site_id: str, x_km: float, y_km: float, *, operator: str = "Viettel") -> Path:
    lon, lat = lonlat(x_km, y_km)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["site_id", "cell_id", "operator", "lat", "lon", "height_m", "status", "technology",
                    "band_mhz", "azimuth_deg", "beamwidth_deg", "eirp_dbm", "bandwidth_mhz"])  # fmt: skip
        for k, az in enumerate((0, 120, 240), start=1):
            w.writerow(
                [site_id, f"{site_id}-L18-{k}", operator, lat, lon, 30, "active", "4G", 1800, az, 65, 59, 20]
            )
    return path


def _levels_2g(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """RxLev of the scene's only 2G cell (VN-2G: 900 MHz, 30 m, 56 dBm, omni), rural."""
    cell = next(c for c in radio_scene().cells if c.cell_id == "VN-2G-G09-0")
    x0, y0 = metric(cell.x, cell.y)
    d_km = np.hypot(xs - x0, ys - y0) / 1000.0
    return 56.0 - ref.path_loss_db(900.0, 30.0, d_km, "rural")


def _class_2g(level: np.ndarray) -> np.ndarray:
    return (level >= RXLEV_POOR).astype(int) + (level >= RXLEV_FAIR) + (level >= RXLEV_GOOD)


def test_a_site_at_an_unserved_hamlet_clears_its_signal_flag(pkg, tmp_path: Path) -> None:
    """A 3-sector 4G site (59 dBm / 20 MHz, 30 m) at A-NONE: its whole 700 m footprint is good.

    Worst point of the footprint by the reference model: 700 m out and 60 degrees off boresight
    (three sectors 120 degrees apart), rural COST-231; it must be at or above the good threshold,
    so the after-share of good 4G is 1 and all 150 households are gained."""
    x, y = metric(24.5, 6.0)
    worst = ref.RadioCell("n", "Viettel", x, y, 30.0, 1800.0, 59.0, 20.0, 0.0, 65.0)
    edge = ref.rsrp_dbm(worst, x + 700.0 * math.sin(math.radians(60)), y + 700.0 * math.cos(math.radians(60)))
    assert float(edge) >= ref.GOOD_DBM + 5, "scene error: the new site would not make the footprint good"
    sites = _sites_csv(tmp_path / "sites.csv", "NEW-1", 24.5, 6.0)
    out = tmp_path / "out"
    run_ok("scenario", pkg.root, "--add-sites", sites, "--out", out)
    rows = read_csv_rows(out / "hamlets.csv")
    row = rows[pkg.hamlet_id["A-NONE"]]
    assert "NO_MOBILE_COVERAGE" in row["flags_before"].split(";"), row
    after = row["flags_after"].split(";")
    assert "NO_MOBILE_COVERAGE" not in after and "WEAK_MOBILE_COVERAGE" not in after, row
    assert "NO_MOBILE_COVERAGE" in row["flags_cleared"]
    assert float(row["share_hh_good_4g_after"]) == 1.0
    assert float(row["hh_gained_good_4g"]) == 150.0
    # Every hamlet's signal flags after, from the reference shares with the new cells (docs/GAPS.md:
    # NO_MOBILE when more than 20 % of households have no 4G, else WEAK below 80 % at good 4G).
    scene = radio_scene()
    cells = _metric_cells(scene) + [
        ref.RadioCell(f"n{k}", "Viettel", x, y, 30.0, 1800.0, 59.0, 20.0, az, 65.0)
        for k, az in enumerate((0, 120, 240))
    ]
    gained = 0.0
    for h in scene.hamlets:
        xs, ys = ref.lattice_in(footprint(scene, h.key), 10.0)
        best = ref.best_levels(cells, xs, ys).max(axis=0)
        none, good = float(np.mean(best < ref.POOR_DBM)), float(np.mean(best >= ref.GOOD_DBM))
        r = rows[pkg.hamlet_id[h.key]]
        assert float(r["share_hh_no_4g_after"]) == pytest.approx(none, abs=0.04), (h.key, r)
        assert float(r["share_hh_good_4g_after"]) == pytest.approx(good, abs=0.04), (h.key, r)
        flags = set(r["flags_after"].split(";"))
        if abs(none - 0.20) > 0.04:
            assert ("NO_MOBILE_COVERAGE" in flags) == (none > 0.20), (h.key, none, r["flags_after"])
        if abs(none - 0.20) > 0.04 and abs(good - 0.80) > 0.04:
            assert ("WEAK_MOBILE_COVERAGE" in flags) == (none <= 0.20 and good < 0.80), (h.key, good, flags)
        gained += float(r["hh_gained_good_4g"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["households_gained_good_4g"] == 150.0
    assert summary["costs"]["new_mast_sites"] == 1 and summary["costs"]["unit_costs_are_placeholders"]
    assert summary["cost_per_household_good_4g_vnd"] == round(summary["costs"]["sites_vnd"] / 150.0)
    assert (out / "changes.gpkg").is_file() and (out / "sites.csv").is_file()
    _check_pdf(out / "scenario.pdf")


def _check_pdf(path: Path) -> None:
    """One A4 page, Vietnamese text extractable, the gain and the placeholder-cost warning on it."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for needle in ("Kịch bản", "Hộ có thêm sóng 4G tốt", "150", "giá trị tạm", "DỮ LIỆU TỔNG HỢP"):
        assert needle in text, (needle, text[:400])


def test_2g_switch_off_lists_the_hamlets_that_depend_on_2g_only(pkg, tmp_path: Path) -> None:
    """Per hamlet, households that lose all service = households x share of the footprint where the
    2G cell reaches at least 'poor' (-95 dBm RxLev) and no active 4G cell reaches 'poor' (-115 dBm
    RSRP); drop to weak = before fair or good (best of 2G and 4G), after poor (4G). Footprints are
    sampled on a 10 m lattice; the program uses 25 m pixel centres (tolerance 4 % of households)."""
    out = tmp_path / "out"
    run_ok("scenario", pkg.root, "--switch-off", "2G", "--out", out)
    rows = read_csv_rows(out / "hamlets.csv")
    scene = radio_scene()
    cells_4g = [c for c in _metric_cells(scene)]
    hit = 0
    for h in scene.hamlets:
        xs, ys = ref.lattice_in(footprint(scene, h.key), 10.0)
        c4 = ref.class_index(ref.best_levels(cells_4g, xs, ys).max(axis=0))
        c2 = _class_2g(_levels_2g(xs, ys))
        before = np.maximum(c4, c2)
        lost = float(np.mean((before >= 1) & (c4 == 0))) * h.households
        weak = float(np.mean((before >= 2) & (c4 == 1))) * h.households
        row = rows[pkg.hamlet_id[h.key]]
        tol = 0.04 * h.households
        assert float(row["hh_lose_all_service"]) == pytest.approx(lost, abs=tol), (h.key, row)
        assert float(row["hh_drop_to_weak"]) == pytest.approx(weak, abs=tol), (h.key, row)
        hit += lost > 0
    assert hit >= 2, "scene error: no hamlet depends on 2G only"
    # A-PLAN (280 m from the 2G site) and A-NONE (5.2 km) have no 4G at all: every household.
    assert float(rows[pkg.hamlet_id["A-PLAN"]]["hh_lose_all_service"]) == 100.0
    assert float(rows[pkg.hamlet_id["A-NONE"]]["hh_lose_all_service"]) == 150.0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["hamlets_lose_all_service"] >= 2


def _without_meta(rows: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {k: {c: v for c, v in r.items() if not c.startswith("meta_")} for k, r in rows.items()}


def _metric_cells(scene):
    from tests.acceptance.scenes import metric_cells

    return metric_cells(scene)


def test_switch_off_for_an_operator_without_cells_of_it_is_refused(pkg, tmp_path: Path, capsys) -> None:
    assert (
        run_cli("scenario", pkg.root, "--switch-off", "2G", "--operator", "Nobody", "--out", tmp_path / "o")
        == 2
    )
    assert "operator" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--switch-off", "4G"), "--switch-off"),
        (("--remove-sites", "NO-SUCH-SITE"), "NO-SUCH-SITE"),
        (("--operator", "Viettel"), "--switch-off"),
        ((), "changes nothing"),
    ],
)
def test_bad_options_exit_2_with_a_message(pkg, tmp_path: Path, capsys, args, needle) -> None:
    assert run_cli("scenario", pkg.root, *args, "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_a_bad_site_row_names_the_file_row_and_field(pkg, tmp_path: Path, capsys) -> None:
    sites = _sites_csv(tmp_path / "sites.csv", "NEW-2", 24.5, 6.0)
    text = sites.read_text(encoding="utf-8").splitlines()
    cols = text[1].split(",")
    cols[5] = "-3"  # height_m
    text[1] = ",".join(cols)
    sites.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert run_cli("scenario", pkg.root, "--add-sites", sites, "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "sites.csv" in err and "row 2" in err and "height_m" in err, err


def test_an_added_cell_id_that_exists_is_refused(pkg, tmp_path: Path, capsys) -> None:
    sites = _sites_csv(tmp_path / "sites.csv", "VT-OMNI", 24.5, 6.0)
    text = sites.read_text(encoding="utf-8").replace("VT-OMNI-L18-1", "VT-OMNI-L18-0")
    sites.write_text(text, encoding="utf-8")
    assert run_cli("scenario", pkg.root, "--add-sites", sites, "--out", tmp_path / "o") == 2
    assert "VT-OMNI-L18-0" in capsys.readouterr().err


def test_saved_scenario_round_trips_and_leaves_the_package_unchanged(pkg, tmp_path: Path) -> None:
    from analysis.scenario.files import scenario_from_files
    from geo.scenario_store import delete_scenario, list_scenarios, read_scenario_files, scenario_versions
    from geo.store import file_hashes

    version = package_version(pkg.root)
    hashes = file_hashes(pkg.root)
    sites = _sites_csv(tmp_path / "sites.csv", "NEW-3", 24.5, 6.0)
    run_ok(
        "scenario", pkg.root, "--add-sites", sites, "--out", tmp_path / "o1", "--save", "Trạm mới Ấp Xa Xôi"
    )
    assert package_version(pkg.root) == version, "saving a scenario changed the package version"
    assert file_hashes(pkg.root) == hashes, "saving a scenario changed package data files"
    saved = {s.slug: s for s in list_scenarios(pkg.root)}
    assert "tram-moi-ap-xa-xoi" in saved
    assert saved["tram-moi-ap-xa-xoi"].document["name"] == "Trạm mới Ấp Xa Xôi"
    scn = scenario_from_files(read_scenario_files(pkg.root, "tram-moi-ap-xa-xoi"), layout=LAYOUT)
    assert scn.base_version == version and len(scn.added_sites) == 3
    # run it again by name: the same before/after table
    run_ok("scenario", pkg.root, "--scenario", "Trạm mới Ấp Xa Xôi", "--out", tmp_path / "o2")
    a = read_csv_rows(tmp_path / "o1" / "hamlets.csv")
    b = read_csv_rows(tmp_path / "o2" / "hamlets.csv")
    assert _without_meta(a) == _without_meta(b)
    delete_scenario(pkg.root, "tram-moi-ap-xa-xoi")
    assert [s.slug for s in list_scenarios(pkg.root)] == []
    assert scenario_versions(pkg.root), "the deleted scenario is kept as a version"
    assert file_hashes(pkg.root) == hashes


def test_programme_points_raise_shares_and_clear_the_smartphone_flag(pkg, tmp_path: Path) -> None:
    """A-FAIR's survey row: 100 of 200 adults with a smartphone (0.50 < the 0.80 target): LOW_SMARTPHONE.
    +35 points -> 0.85: the flag clears and the province smartphone KPI rises by 35 x 200 / total."""
    doc = {
        "name": "Điện thoại thông minh",
        "programmes": [
            {
                "name": "phones",
                "hamlet_ids": [pkg.hamlet_id["A-FAIR"]],
                "smartphone_points": 35,
                "cost_per_household_vnd": 1_000_000,
            }  # fmt: skip
        ],
    }
    folder = tmp_path / "scn"
    folder.mkdir()
    (folder / "scenario.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    run_ok("scenario", pkg.root, "--scenario", folder, "--out", out)
    row = read_csv_rows(out / "hamlets.csv")[pkg.hamlet_id["A-FAIR"]]
    assert float(row["smartphone_share_before"]) == pytest.approx(0.5)
    assert float(row["smartphone_share_after"]) == pytest.approx(0.85)
    assert row["flags_cleared"] == "LOW_SMARTPHONE"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["costs"]["programmes_vnd"] == 100 * 1_000_000
    kpi = {k["key"]: k for k in summary["kpis"]}["smartphone"]
    adults = sum(200 for h in radio_scene().hamlets if h.key != "A-SEC-NULL")
    assert kpi["after"] - kpi["before"] == pytest.approx(0.35 * 200 / adults)


def test_scenario_document_errors_name_the_field() -> None:
    from analysis.scenario.model import scenario_from_document
    from geo.errors import ParameterError

    with pytest.raises(ParameterError, match=r"programmes\[0\]\.ftth_points"):
        scenario_from_document({"name": "x", "programmes": [{"hamlet_ids": ["h"], "ftth_points": 250}]})
    with pytest.raises(ParameterError, match="switch_off"):
        scenario_from_document({"name": "x", "switch_off": {"technologies": ["4G"]}})
    with pytest.raises(ParameterError, match="name"):
        scenario_from_document({"name": "  "})


def test_switch_off_proposes_4g_sites_that_restore_the_lost_service(pkg, tmp_path: Path) -> None:
    """2G off leaves A-PLAN (100 households) and A-NONE (150) without any service; two proposed 4G
    sites (analysis.site_planning, targeted at those hamlets) bring their service back: the
    proposal's own before/after has fewer households losing all service, at most what no site
    could reach in the two hamlets at the 4G edge."""
    out = tmp_path / "out"
    run_ok("scenario", pkg.root, "--switch-off", "2G", "--propose-sites", "2", "--out", out)
    before = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    after = json.loads((out / "proposal" / "summary.json").read_text(encoding="utf-8"))
    assert before["households_lose_all_service"] >= 250.0
    rows = read_csv_rows(out / "proposal" / "hamlets.csv")
    assert float(rows[pkg.hamlet_id["A-PLAN"]]["hh_lose_all_service"]) == 0.0
    assert float(rows[pkg.hamlet_id["A-NONE"]]["hh_lose_all_service"]) == 0.0
    assert after["households_lose_all_service"] < before["households_lose_all_service"] - 249.0
    with (out / "proposal" / "sites.csv").open(encoding="utf-8") as fh:
        cells = list(csv.DictReader(fh))
    assert len({c["site_id"] for c in cells}) == 2 and {c["technology"] for c in cells} == {"4G"}
    assert after["costs"]["new_mast_sites"] + after["costs"]["shared_mast_sites"] == 2


def test_deleting_and_renaming_leave_no_empty_folder(tmp_path: Path) -> None:
    from analysis.scenario.files import scenario_files
    from analysis.scenario.model import Scenario
    from geo.scenario_store import delete_scenario, list_scenarios, save_scenario_files

    root = tmp_path / "pkg"
    root.mkdir()
    save_scenario_files(root, "mot", scenario_files(Scenario(name="Một", base_version="v")))
    save_scenario_files(
        root, "hai", scenario_files(Scenario(name="Hai", base_version="v")), previous_slug="mot"
    )
    assert not (root / "scenarios" / "mot").exists()
    assert [s.slug for s in list_scenarios(root)] == ["hai"]
    delete_scenario(root, "hai")
    assert not (root / "scenarios" / "hai").exists() and list_scenarios(root) == []
