"""Versioned store: atomic commits, versions kept/listed/restored, recovery after a killed import."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo import store
from geo.errors import DataNotFoundError, ImportRejectedError, Problem, ValidationError
from geo.importers import apply_import, list_versions, plan_import, restore_version
from geo.validate import validate_package

REPO = Path(__file__).resolve().parent.parent

OCI_CSV = """\
radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal
LTE,452,4,101,1,0,106.3250,9.9250,500,10,1,1600000000,1700000000,0
LTE,452,4,101,2,0,106.3256,9.9251,500,10,1,1600000000,1700000000,0
UMTS,452,2,201,7,0,106.3800,9.9300,900,4,1,1600000000,1700000000,0
"""


def _ok(_: Path) -> list[Problem]:
    return []


def _bad(_: Path) -> list[Problem]:
    return [Problem("error", "x.csv", "row 2", "broken")]


def _commit(pkg: Path, rel: str, text: str, **kw: object) -> store.VersionInfo:
    return store.commit_files(
        pkg,
        {rel: text.encode()},
        validate=_ok,
        action="import",
        layer="towers",
        source="t.csv",
        summary=f"set {rel}",
        **kw,
    )  # type: ignore[arg-type]


def test_commit_keeps_previous_version_and_restores(tiny_package: Path) -> None:
    old = (tiny_package / "towers/sites.csv").read_bytes()
    info = _commit(tiny_package, "towers/sites.csv", "new")
    assert (tiny_package / "towers/sites.csv").read_text() == "new"
    versions = store.list_versions(tiny_package)
    assert [v.version_id for v in versions] == [info.version_id]
    assert versions[0].files == ("towers/sites.csv",)
    store.restore_version(tiny_package, info.version_id, validate=_ok)
    assert (tiny_package / "towers/sites.csv").read_bytes() == old
    assert len(store.list_versions(tiny_package)) == 2  # the restore is itself undoable


def test_restore_older_version_undoes_later_changes_and_deletes_created_files(tiny_package: Path) -> None:
    before = store.file_hashes(tiny_package)
    first = _commit(tiny_package, "towers/sites.csv", "v1")
    _commit(tiny_package, "towers/extra.csv", "created later")
    _commit(tiny_package, "towers/sites.csv", "v3")
    store.restore_version(tiny_package, first.version_id, validate=_ok)
    assert store.file_hashes(tiny_package) == before
    assert not (tiny_package / "towers/extra.csv").exists()


def test_at_least_five_versions_kept_and_older_pruned(tiny_package: Path) -> None:
    ids = [_commit(tiny_package, "towers/sites.csv", f"v{i}", keep=2).version_id for i in range(7)]
    listed = [v.version_id for v in store.list_versions(tiny_package)]
    assert listed == ids[::-1][:5]  # keep=2 is raised to the minimum of 5
    ids += [_commit(tiny_package, "towers/sites.csv", f"w{i}").version_id for i in range(6)]
    assert len(store.list_versions(tiny_package)) == store.DEFAULT_KEEP


def test_failed_validation_changes_nothing(tiny_package: Path) -> None:
    before = store.file_hashes(tiny_package)
    listing = sorted(p.name for p in tiny_package.iterdir())
    with pytest.raises(ValidationError, match="broken"):
        store.commit_files(
            tiny_package,
            {"towers/sites.csv": b"x"},
            validate=_bad,
            action="import",
            layer="t",
            source="s",
            summary="",
        )
    assert store.file_hashes(tiny_package) == before
    assert sorted(p.name for p in tiny_package.iterdir()) == listing


def test_commit_refused_when_package_changed_since_plan(tiny_package: Path) -> None:
    hashes = store.file_hashes(tiny_package)
    (tiny_package / "towers/sites.csv").write_text("edited meanwhile")
    with pytest.raises(ImportRejectedError, match="changed since"):
        _commit(tiny_package, "towers/sites.csv", "new", expected_hashes=hashes)


def test_paths_outside_package_refused(tiny_package: Path) -> None:
    for rel in ("../evil.csv", "/etc/x", ".versions/x", "a/../../b"):
        with pytest.raises(ImportRejectedError, match="outside the data package"):
            _commit(tiny_package, rel, "x")


def test_restore_unknown_version(tiny_package: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no saved version"):
        store.restore_version(tiny_package, "nope", validate=_ok)


def _fake_interrupted(pkg: Path, state: str) -> tuple[dict[str, str], dict[str, str]]:
    """Leave the package as a process killed in ``state`` would; return (old, new) hashes."""
    old = store.file_hashes(pkg)
    vid = "20260101T000000000000Z-abcdef"
    partial = pkg / store.VERSIONS_DIR / f"{vid}.partial"
    (partial / "files" / "towers").mkdir(parents=True)
    shutil.copy(pkg / "towers/sites.csv", partial / "files/towers/sites.csv")
    manifest = {
        "id": vid,
        "created": "2026-01-01T00:00:00+00:00",
        "action": "import",
        "layer": "towers",
        "source": "x",
        "summary": "",
        "files": [
            {"path": "towers/sites.csv", "existed": True, "old_sha256": "", "new_sha256": ""},
            {"path": "towers/new.csv", "existed": False, "old_sha256": None, "new_sha256": ""},
        ],
    }
    (partial / "manifest.json").write_text(json.dumps(manifest))
    (pkg / store.JOURNAL_NAME).write_text(
        json.dumps({"state": state, "id": vid, "files": ["towers/new.csv", "towers/sites.csv"]})
    )
    (pkg / "towers/new.csv").write_text("half-swapped")  # first file replaced already
    (pkg / f"{store.STAGING_PREFIX}{vid}").mkdir()
    if state == "committed":
        (pkg / "towers/sites.csv").write_text("new content")
    new = store.file_hashes(pkg)
    return old, new


@pytest.mark.parametrize("state", ["prepare", "swapping", "committed", "damaged"])
def test_recover_rolls_back_or_completes(tiny_package: Path, state: str) -> None:
    old, new = _fake_interrupted(tiny_package, state)
    if state == "damaged":
        (tiny_package / store.JOURNAL_NAME).write_text("{not json")
    outcome = store.recover(tiny_package)
    hashes = store.file_hashes(tiny_package)
    if state == "committed":
        assert outcome == "completed" and hashes == new
        assert [v.version_id for v in store.list_versions(tiny_package)] == ["20260101T000000000000Z-abcdef"]
    else:
        assert outcome == "rolled back"
        if state in ("swapping", "damaged"):
            assert hashes == old
        assert store.list_versions(tiny_package) == []
    assert not (tiny_package / store.JOURNAL_NAME).exists()
    assert not list(tiny_package.glob(store.STAGING_PREFIX + "*"))


def test_import_apply_list_restore_roundtrip(tiny_package: Path, tmp_path: Path) -> None:
    src = tmp_path / "cells.csv"
    src.write_text(OCI_CSV)
    before = store.file_hashes(tiny_package)
    plan = plan_import(tiny_package, "towers", src)
    assert plan.ok, plan.preview()
    info = apply_import(plan)
    assert not any(p.severity == "error" for p in validate_package(tiny_package))
    assert list_versions(tiny_package)[0].version_id == info.version_id
    restore_version(tiny_package, info.version_id)
    assert store.file_hashes(tiny_package) == before


# ---------------------------------------------------------------- kill during import

STAGES = ["staged", "validated", "backup", "swap-1", "swap-2", "committed"]


def _run_import_until(pkg: Path, src: Path, stage: str, marker: Path) -> None:
    env = {**os.environ, store.PAUSE_ENV: stage, store.PAUSE_FILE_ENV: str(marker)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "analysis", "import", str(pkg), "--layer", "towers", str(src)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, f"import ended (rc {proc.returncode}) before reaching stage {stage}"
            assert time.monotonic() < deadline, f"stage {stage} not reached"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.slow
def test_kill_during_import_leaves_old_or_new_version(tiny_package: Path, tmp_path: Path) -> None:
    src = tmp_path / "cells.csv"
    src.write_text(OCI_CSV)
    pristine = tmp_path / "pristine"
    shutil.copytree(tiny_package, pristine)
    old = store.file_hashes(pristine)
    done = tmp_path / "done"
    shutil.copytree(pristine, done)
    apply_import(plan_import(done, "towers", src))
    new = store.file_hashes(done)
    assert new != old
    outcomes = {}
    for stage in STAGES:
        pkg = tmp_path / f"pkg-{stage}"
        shutil.copytree(pristine, pkg)
        _run_import_until(pkg, src, stage, tmp_path / f"reached-{stage}")
        store.recover(pkg)
        hashes = store.file_hashes(pkg)
        assert hashes in (old, new), f"mixed package after kill at {stage}"
        outcomes[stage] = "new" if hashes == new else "old"
        assert not any(p.severity == "error" for p in validate_package(pkg)), stage
        assert not (pkg / store.JOURNAL_NAME).exists()
        versions = store.list_versions(pkg)
        assert len(versions) == (1 if outcomes[stage] == "new" else 0)
    assert outcomes == {
        "staged": "old",
        "validated": "old",
        "backup": "old",
        "swap-1": "old",
        "swap-2": "old",
        "committed": "new",
    }


def test_load_package_recovers_an_interrupted_import(tiny_package: Path) -> None:
    from geo.package import load_package

    old, _ = _fake_interrupted(tiny_package, "swapping")
    load_package(tiny_package)
    assert store.file_hashes(tiny_package) == old
    assert not (tiny_package / store.JOURNAL_NAME).exists()


def test_failure_during_swap_rolls_back_immediately(
    tiny_package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store.file_hashes(tiny_package)
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: object, dst: object) -> None:
        if str(dst).endswith("sites.csv") and not str(src).endswith(".tmp"):  # the swap, not the rollback
            calls["n"] += 1
            raise OSError(28, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(store.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="No space"):
        store.commit_files(
            tiny_package,
            {"dataset.toml": b"x = 1\n", "towers/sites.csv": b"new"},
            validate=_ok,
            action="import",
            layer="towers",
            source="s",
            summary="",
        )
    monkeypatch.undo()
    assert calls["n"] == 1
    assert store.file_hashes(tiny_package) == before  # dataset.toml was swapped first, then rolled back
    assert not (tiny_package / store.JOURNAL_NAME).exists()
    assert store.list_versions(tiny_package) == []
