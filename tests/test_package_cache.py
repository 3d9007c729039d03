"""Per-user cache of validated packages (geo/package_cache.py): hits, invalidation, failure modes."""

from __future__ import annotations

import pickle

import pytest

import geo.package as package_module
import geo.package_cache as package_cache
from geo.errors import ValidationError
from geo.package import load_package


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("PHUSONG_PACKAGE_CACHE", "1")
    monkeypatch.setenv("PHUSONG_CACHE_DIR", str(folder))
    return folder


def _validation_calls(monkeypatch) -> list[object]:
    calls: list[object] = []
    real = package_module.check_package

    def spy(root):
        calls.append(root)
        return real(root)

    monkeypatch.setattr(package_module, "check_package", spy)
    return calls


def test_second_load_comes_from_the_cache_with_equal_frames(tiny_package, cache, monkeypatch):
    calls = _validation_calls(monkeypatch)
    first = load_package(tiny_package)
    second = load_package(tiny_package)
    assert len(calls) == 1
    assert len(list(cache.glob("*.pickle"))) == 1
    assert second.version == first.version and second.root == first.root
    for name in ("communes", "hamlets", "cells", "fibre_nodes", "roads", "survey"):
        assert getattr(second, name).equals(getattr(first, name))
    assert second.metric_crs == first.metric_crs
    assert second.warnings == first.warnings


def test_any_file_change_validates_again(tiny_package, cache, monkeypatch):
    calls = _validation_calls(monkeypatch)
    first = load_package(tiny_package)
    survey = tiny_package / "survey" / "hamlet_survey.csv"
    survey.write_bytes(survey.read_bytes() + b"\n")
    second = load_package(tiny_package)
    assert len(calls) == 2
    assert second.version != first.version


def test_a_broken_file_is_never_served_from_the_cache(tiny_package, cache):
    load_package(tiny_package)
    (tiny_package / "boundaries" / "communes.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError):
        load_package(tiny_package)


def test_code_change_makes_a_new_key(tiny_package, cache, monkeypatch):
    calls = _validation_calls(monkeypatch)
    load_package(tiny_package)
    monkeypatch.setattr(package_cache, "_code_fingerprint", lambda: "other validation code")
    load_package(tiny_package)
    assert len(calls) == 2


def test_corrupt_entry_and_unwritable_cache_only_cost_a_validation(tiny_package, cache, monkeypatch):
    calls = _validation_calls(monkeypatch)
    load_package(tiny_package)
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_package(tiny_package).version
    assert pickle.loads(entry.read_bytes()).version  # rewritten
    blocker = cache.parent / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    monkeypatch.setenv("PHUSONG_CACHE_DIR", str(blocker / "cache"))
    assert load_package(tiny_package).version
    assert len(calls) == 3


def test_cache_can_be_turned_off(tiny_package, cache, monkeypatch):
    monkeypatch.setenv("PHUSONG_PACKAGE_CACHE", "0")
    calls = _validation_calls(monkeypatch)
    load_package(tiny_package)
    load_package(tiny_package)
    assert len(calls) == 2
    assert not cache.exists()


def test_keeps_only_the_newest_entries(tiny_package, cache, monkeypatch):
    monkeypatch.setattr(package_cache, "MAX_ENTRIES", 2)
    for i in range(4):
        monkeypatch.setattr(package_cache, "_code_fingerprint", lambda i=i: f"code {i}")
        load_package(tiny_package)
    assert len(list(cache.glob("*.pickle"))) == 2
