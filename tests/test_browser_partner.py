"""End-to-end: a Viettel partner signs in and downloads; the files hold Viettel's data only and the
audit log has one ``download`` line per file (issue 13 §1 and §3; docs/ACCESS.md).

The app runs headless with the network cut (as in tests/test_browser.py) on the tiny package plus
a MobiFone 4G site, with its own users file (a Viettel partner made with
:class:`auth.users.UserStore`), audit log and cheap argon2 settings. The partner signs in through
the form, opens the downloads page from the sidebar and downloads the sites layer as CSV and as
GeoPackage and the 4G coverage raster. Browser tests skip with a visible reason when Chromium is
missing, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.streamlit_server import (
    choose_radio,
    offline_page,
    require_chromium,
    streamlit_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PARTNER, PASSWORD = "lan", "partner-Pass-03"
#: A MobiFone 4G site added to the tiny package (which has Viettel 4G and VinaPhone 3G), so that the
#: all-operator 4G coverage differs from Viettel's own.
MOBIFONE_SITE = "S3,S3-1,MobiFone,9.92,106.34,28,active,4G,1800,90,65,60,10\n"


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def partner_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Path]]]:
    """The app in secure mode: a users file holding the Viettel partner ``lan``."""
    from argon2 import PasswordHasher

    from auth.users import UserStore
    from tests.conftest import write_tiny_package

    root = tmp_path_factory.mktemp("partner")
    pkg = write_tiny_package(root / "pkg")
    with (pkg / "towers" / "sites.csv").open("a", encoding="utf-8") as out:
        out.write(MOBIFONE_SITE)
    paths = {
        "pkg": pkg,
        "users": root / "conf" / "users.json",
        "audit": root / "conf" / "audit.jsonl",
        "config": root / "auth.toml",
    }
    paths["config"].write_text(
        "[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n", encoding="utf-8"
    )
    store = UserStore(
        paths["users"], hasher=PasswordHasher(time_cost=1, memory_cost=19 * 1024, parallelism=1)
    )
    store.add(PARTNER, "partner", PASSWORD, operator="viettel")
    env = {
        "PHUSONG_DATA": str(pkg),
        "PHUSONG_USERS": str(paths["users"]),
        "PHUSONG_AUDIT": str(paths["audit"]),
        "PHUSONG_AUTH_CONFIG": str(paths["config"]),
    }
    with streamlit_app(env=env) as url:
        yield url, paths


@pytest.fixture
def page(chromium: str):
    with offline_page(chromium) as page:
        yield page


def _sign_in(page, url: str) -> None:
    """Sign in through the form, as a user does (user name, password, the submit button)."""
    from layers.i18n import t

    page.goto(url)
    page.get_by_role("heading", name=t("page.signin", "vi")).wait_for(timeout=60_000)
    page.get_by_label(t("auth.name", "vi"), exact=True).fill(PARTNER)
    page.get_by_label(t("auth.password", "vi"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("auth.submit", "vi"), exact=True).click()
    page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=60_000)


def _open_downloads(page) -> None:
    from layers.i18n import t

    title = t("page.downloads", "vi")
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    page.get_by_role("heading", name=title).wait_for(timeout=60_000)


def _choose_option(page, label: str, option: str) -> None:
    from playwright.sync_api import expect

    combo = page.get_by_role("combobox", name=label, exact=True)
    combo.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(combo).to_have_value(option, timeout=10_000)


def _download(page, pattern: str, tmp_path: Path) -> Path:
    """Press the download button whose label names a file matching ``pattern``; the saved file."""
    button = page.get_by_role("button", name=re.compile(rf"Tải về {pattern}"))
    button.wait_for(timeout=180_000)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    name = info.value.suggested_filename
    assert re.fullmatch(pattern, name), name
    path = tmp_path / name
    info.value.save_as(path)
    return path


def _viettel_coverage(pkg: Path) -> tuple[np.ndarray, np.ndarray]:
    """Viettel's own 4G classes and every operator's best class, as the app computes them."""
    from analysis.coverage import build_scene, compute_coverage_by_operator
    from analysis.coverage_params import default_coverage_params
    from geo.package import load_package

    package = load_package(pkg)
    cparams = default_coverage_params()
    scene = build_scene(
        package.communes, package.metric_crs, resolution_m=cparams.resolution_m, params=cparams
    )
    result = compute_coverage_by_operator(scene, package.cells, technology="4G", params=cparams)
    return result.classes_by_operator["Viettel"], result.combined.classes(cparams.tech("4G"))


def test_a_viettel_partners_downloads_hold_only_viettel_and_are_audited(
    page, partner_app, tmp_path: Path
) -> None:
    import pyogrio
    import rasterio

    from auth.audit import AuditLog
    from layers.i18n import t
    from views.downloads import label

    url, paths = partner_app
    _sign_in(page, url)
    _open_downloads(page)
    _choose_option(page, t("dl.layer", "vi"), label("dl.sites", "vi"))
    page.get_by_text(label("dl.partner", "vi", operator="Viettel")).wait_for(timeout=60_000)

    choose_radio(page, "CSV")
    csv_path = _download(page, r"tra-vinh_sites_\d{4}-\d{2}-\d{2}\.csv", tmp_path)
    text = csv_path.read_text(encoding="utf-8-sig")
    table = pd.read_csv(io.StringIO(text))
    assert table["site_id"].tolist() == ["S1"] and set(table["operator"]) == {"Viettel"}
    assert "MobiFone" not in text and "VinaPhone" not in text and "S2" not in text and "S3" not in text

    choose_radio(page, "GeoPackage")
    gpkg_path = _download(page, r"tra-vinh_sites_\d{4}-\d{2}-\d{2}\.gpkg", tmp_path)
    sites = pyogrio.read_dataframe(gpkg_path, layer="sites")
    assert sites["site_id"].tolist() == ["S1"] and set(sites["operator"]) == {"Viettel"}
    assert sites["cells"].tolist() == [3]
    raw = gpkg_path.read_bytes()
    assert b"MobiFone" not in raw and b"VinaPhone" not in raw

    _choose_option(page, t("dl.layer", "vi"), t("dl.coverage", "vi"))
    tif_path = _download(page, r"tra-vinh_coverage_\d{4}-\d{2}-\d{2}\.tif", tmp_path)
    with rasterio.open(tif_path) as src:
        band, tags = src.read(1), src.tags()
    viettel, combined = _viettel_coverage(paths["pkg"])
    assert not np.array_equal(viettel, combined), "the test package has other operators' 4G coverage"
    np.testing.assert_array_equal(band, viettel)
    assert tags["operator"] == "Viettel" and tags["restricted_to_operator"] == "Viettel"

    entries = [e for e in AuditLog(paths["audit"]).entries() if e.event == "download"]
    assert [
        (e.user, e.role, e.details["layer"], e.details["format"], e.details["rows"]) for e in entries
    ] == [
        (PARTNER, "partner", "sites", "csv", 1),
        (PARTNER, "partner", "sites", "gpkg", 1),
        (PARTNER, "partner", "coverage", "tif", 1),
    ]
    assert all(e.details["filters"]["restricted_to"] == "Viettel" for e in entries)
    assert page.outside_requests == []
