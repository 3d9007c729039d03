"""Official thresholds and targets published by an admin: versioned, outside the package version."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.kpi import KpiTargets
from analysis.params import default_gap_params
from analysis.published import published_document, published_from_document
from geo.errors import ImportRejectedError, ParameterError
from geo.package import package_version
from geo.settings_store import publish_settings, read_published, restore_settings, settings_versions
from geo.store import file_hashes
from tests.acceptance.scenes import radio_scene, write_package


@pytest.fixture
def pkg_root(tmp_path: Path) -> Path:
    return write_package(radio_scene(), tmp_path / "pkg", "2025-07").root


def test_publish_round_trip_and_versions_leave_the_package_version_unchanged(pkg_root: Path) -> None:
    version, hashes = package_version(pkg_root), file_hashes(pkg_root)
    assert read_published(pkg_root) is None
    base = default_gap_params()
    params = base.with_overrides(thresholds=base.thresholds.with_overrides(ftth_min_share=0.7))
    publish_settings(
        pkg_root, published_document(params, KpiTargets(good_4g_household_share=0.95)), user="an"
    )
    doc = read_published(pkg_root)
    assert doc is not None and doc["published_by"] == "an" and doc["published_utc"].endswith("Z")
    got = published_from_document(doc)
    assert got.params == params and got.targets.good_4g_household_share == 0.95
    first = settings_versions(pkg_root)
    publish_settings(pkg_root, published_document(base, KpiTargets()), user="bình")
    assert published_from_document(read_published(pkg_root)).params == base
    assert len(settings_versions(pkg_root)) == len(first) + 1
    restore_settings(pkg_root, settings_versions(pkg_root)[0].version_id)  # undo the second publication
    assert published_from_document(read_published(pkg_root)).params == params
    assert package_version(pkg_root) == version and file_hashes(pkg_root) == hashes


def test_bad_documents_are_refused(pkg_root: Path) -> None:
    with pytest.raises(ImportRejectedError):
        publish_settings(pkg_root, {"gap_params": {}}, user=" ")
    with pytest.raises(ParameterError, match="ftth_min_share"):
        published_from_document({"gap_params": {"thresholds": {"ftth_min_share": 7}}})
    with pytest.raises(ParameterError, match="nonsense"):
        published_from_document({"kpi_targets": {"nonsense": 1}})
