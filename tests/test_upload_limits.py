"""Upload size limits per layer (issue 13 §4): refused from the size alone, with a clear message,
before the file is read; the upload page stores nothing (geo/upload_limits.py, views/upload.py)."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import ImportRejectedError, ParameterError
from geo.importers import LAYERS
from geo.safety import ImportLimits
from geo.upload_limits import (
    DEFAULT_LIMITS_MB,
    MB,
    check_upload_size,
    describe_size,
    import_limits,
    upload_limit_bytes,
    upload_limits,
)
from tests.conftest import TINY_SURVEY_CSV, write_tiny_package

REPO = Path(__file__).resolve().parent.parent


def test_every_importable_layer_has_a_documented_default() -> None:
    assert set(DEFAULT_LIMITS_MB) == set(LAYERS)
    assert upload_limits({}) == {
        "boundaries": 200 * MB,
        "hamlets": 50 * MB,
        "towers": 50 * MB,
        "fibre": 50 * MB,
        "roads": 300 * MB,
        "survey": 20 * MB,
    }
    text = (REPO / "geo" / "upload_limits.py").read_text(encoding="utf-8")
    for layer, mb in DEFAULT_LIMITS_MB.items():
        assert f"{layer:<11}  {int(mb):<7}" in text, f"{layer} is documented with its limit"


def test_the_environment_overrides_one_layer() -> None:
    env = {"PHUSONG_UPLOAD_LIMIT_MB_TOWERS": "80", "PHUSONG_UPLOAD_LIMIT_MB_SURVEY": " 0.5 "}
    assert upload_limit_bytes("towers", env) == 80 * MB
    assert upload_limit_bytes("survey", env) == 500_000
    assert upload_limit_bytes("roads", env) == 300 * MB
    assert upload_limit_bytes("roads", {"PHUSONG_UPLOAD_LIMIT_MB_ROADS": ""}) == 300 * MB


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf", "20000"])
def test_a_bad_override_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ParameterError, match="PHUSONG_UPLOAD_LIMIT_MB_FIBRE"):
        upload_limit_bytes("fibre", {"PHUSONG_UPLOAD_LIMIT_MB_FIBRE": value})


def test_size_at_the_limit_passes_one_byte_more_is_refused_with_file_size_and_limit() -> None:
    check_upload_size("towers", "sites.csv", 50 * MB, environ={})
    with pytest.raises(ImportRejectedError) as refused:
        check_upload_size("towers", "cells_2026.csv", 61_300_000, environ={})
    message = str(refused.value)
    assert message.startswith("cells_2026.csv: the file is 61.3 MB, larger than the 50.0 MB limit")
    assert "towers" in message and "not read" in message and "PHUSONG_UPLOAD_LIMIT_MB_TOWERS" in message
    with pytest.raises(ImportRejectedError, match="unknown layer"):
        check_upload_size("cells", "x.csv", 1, environ={})


def test_sizes_are_described_in_decimal_units() -> None:
    assert describe_size(12) == "12 bytes"
    assert describe_size(850_000) == "850 KB"
    assert describe_size(61_300_000) == "61.3 MB"


def test_the_importer_gets_the_same_limit() -> None:
    base = ImportLimits(max_features=10, max_zip_ratio=50)
    roads = import_limits("roads", base, environ={})
    assert roads.max_upload_bytes == 300 * MB and roads.max_unzipped_bytes == 300 * MB
    assert (roads.max_features, roads.max_zip_ratio) == (10, 50)
    survey = import_limits("survey", environ={})
    assert survey.max_upload_bytes == 20 * MB
    assert survey.max_unzipped_bytes == ImportLimits().max_unzipped_bytes  # never lowered


def test_streamlit_accepts_every_layers_limit() -> None:
    """``server.maxUploadSize`` (MiB) is at least the largest default limit, so the page's own message
    is what a user sees for a file too large for its layer."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 1024 * 1024 >= max(upload_limits({}).values())


# --------------------------------------------------------------------------- the upload page


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _upload_page() -> None:
    from views import upload

    upload.render()


@pytest.fixture
def demo_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny package, served in demo mode (no users file: the admin stand-in may upload)."""
    root = write_tiny_package(tmp_path / "pkg")
    monkeypatch.setenv("PHUSONG_DATA", str(root))
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_USERS", str(tmp_path / "conf" / "users.json"))
    monkeypatch.setenv("PHUSONG_AUDIT", str(tmp_path / "conf" / "audit.jsonl"))
    monkeypatch.setenv("PHUSONG_AUTH_CONFIG", str(tmp_path / "auth.toml"))
    return root


def _survey_upload(monkeypatch: pytest.MonkeyPatch, data: bytes, name: str = "khao_sat.csv") -> AppTest:
    at = AppTest.from_function(_upload_page, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="upload_layer").set_value("survey").run()
    at.file_uploader(key="upload_file_0").upload(name, data, "text/csv").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_an_oversize_upload_is_refused_before_it_is_read_and_nothing_is_stored(
    demo_package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    import views.upload

    def never(*args, **kwargs):
        raise AssertionError("an oversize file was read")

    monkeypatch.setenv("PHUSONG_UPLOAD_LIMIT_MB_SURVEY", "0.0001")  # 100 bytes
    monkeypatch.setattr(views.upload, "plan_import", never)
    monkeypatch.setattr(UploadedFile, "getvalue", never)
    monkeypatch.setattr(UploadedFile, "read", never)
    before = _hashes(demo_package)
    data = TINY_SURVEY_CSV.encode("utf-8")
    at = _survey_upload(monkeypatch, data)
    (error,) = at.error
    assert error.value.startswith("Tệp bị từ chối")
    assert f"khao_sat.csv: the file is {len(data)} bytes, larger than the 100 bytes limit" in error.value
    assert "survey uploads" in error.value and "PHUSONG_UPLOAD_LIMIT_MB_SURVEY" in error.value
    assert not any(b.key == "upload_apply" for b in at.button), "nothing to apply"
    assert _hashes(demo_package) == before, "the package bytes are unchanged"


def test_an_upload_within_its_limit_is_previewed_with_that_limit(
    demo_package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import views.upload

    seen: list = []
    real = views.upload.plan_import

    def spy(root, layer, data, name, *, options=None):
        seen.append((layer, name, options.limits.max_upload_bytes))
        return real(root, layer, data, name, options=options)

    monkeypatch.setattr(views.upload, "plan_import", spy)
    before = _hashes(demo_package)
    at = _survey_upload(monkeypatch, TINY_SURVEY_CSV.replace(",70,", ",71,").encode("utf-8"))
    assert seen == [("survey", "khao_sat.csv", 20 * MB)]
    assert not at.error, [e.value for e in at.error]
    assert at.button(key="upload_apply") is not None
    assert _hashes(demo_package) == before, "a preview stores nothing"
