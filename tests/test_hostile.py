"""Hostile and malformed uploads are refused with a specific message, exit 2, and no byte changed.

The corpus lives in ``tests/hostile/files`` (made by ``tests/hostile/make_corpus.py``) with the
expected message of each file in ``tests/hostile/cases.toml``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cli.main import main
from geo.errors import ImportRejectedError
from geo.safety import ImportLimits, check_json_depth, detect_legacy_encoding, safe_zip_members, sniff_kind
from tests.conftest import write_tiny_package

HOSTILE = Path(__file__).parent / "hostile"
CASES = tomllib.loads((HOSTILE / "cases.toml").read_text(encoding="utf-8"))["case"]
REPO = Path(__file__).resolve().parent.parent


def tree_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, hidden ones included, plus the set of folders."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root) + "/"] = "dir"
        for f in filenames:
            path = os.path.join(dirpath, f)
            out[os.path.relpath(path, root)] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def base_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_package(tmp_path_factory.mktemp("hostile") / "pkg")


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    for c in CASES:
        assert (HOSTILE / "files" / c["file"]).is_file(), c["file"]


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_hostile_upload_refused_package_unchanged(
    case: dict, base_package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = tmp_path / "pkg"
    shutil.copytree(base_package, pkg)
    before = tree_hashes(pkg)
    rc = main(
        ["import", str(pkg), "--layer", case["layer"], str(HOSTILE / "files" / case["file"]), *case["args"]]
    )
    err = capsys.readouterr().err
    assert rc == 2, err
    assert case["message"] in err, err
    assert "Traceback" not in err
    assert tree_hashes(pkg) == before


@pytest.mark.parametrize("name", ["zip_slip.zip", "deeply_nested.geojson"])
def test_hostile_cli_process_exits_2_without_traceback(name: str, base_package: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    shutil.copytree(base_package, pkg)
    layer = next(c["layer"] for c in CASES if c["file"] == name)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "import",
            str(pkg),
            "--layer",
            layer,
            str(HOSTILE / "files" / name),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_sniff_kind_recognises_formats() -> None:
    assert sniff_kind(b"")[0] == "empty"
    assert sniff_kind(b"a,b\n1,2\n")[0] == "text"
    assert sniff_kind(b"%PDF-1.7")[0] == "pdf"
    assert sniff_kind("a,b\n".encode("utf-16"))[0] == "text"


def test_json_depth_ignores_brackets_inside_strings() -> None:
    check_json_depth('{"name": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', "x.geojson", max_depth=3)
    with pytest.raises(ImportRejectedError, match="nested deeper than 3"):
        check_json_depth("[[[[1]]]]", "x.geojson", max_depth=3)


def test_zip_bomb_ratio_limit_is_configurable() -> None:
    data = (HOSTILE / "files" / "zip_bomb_ratio.zip").read_bytes()
    with pytest.raises(ImportRejectedError, match="compression ratio"):
        safe_zip_members(data, "b.zip", limits=ImportLimits())
    assert safe_zip_members(data, "b.zip", limits=ImportLimits(max_zip_ratio=1e9))


def test_legacy_encoding_detection_has_no_false_positive_on_unicode() -> None:
    real = [
        "Xã Long Đức",
        "Phường 1",
        "Thị trấn Càng Long",
        "Ấp Sóc Chuối",
        "Hòa Thuận",
        "Ðinh Bộ Lĩnh",
        "Long Hòa",
        "Ô Chát",
        "Khóm 3",
        "Ngãi Xuyên",
    ]
    assert detect_legacy_encoding(real) is None
    assert detect_legacy_encoding(["Xaõ Long Ñöùc", "Phöôøng 1"]) == "VNI"
    assert detect_legacy_encoding(["X\xb7 Long \xa7\xf8c", "X\xb7 \xa7\xb9i An"]) == "TCVN3"
