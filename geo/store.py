"""Versioned, crash-safe store for a data package folder.

Every change to a data package goes through :func:`commit_files`:

1. **stage** – a view of the would-be package is built in
   ``DATA_DIR/.phusong-staging-<id>/`` (same filesystem): unchanged files are
   hard links (copies where links are impossible), changed files are written
   and fsync'ed;
2. **validate** – the caller's validator runs on that view; any error aborts
   and the view is deleted, so a refused import changes no byte of the package;
3. **back up** – a journal ``DATA_DIR/.phusong-journal.json`` is written
   (state ``prepare``), and the current content of every file about to change
   is copied to ``DATA_DIR/.versions/<id>.partial/files/`` with a
   ``manifest.json``;
4. **swap** – the journal moves to ``swapping`` and each staged file replaces
   its original with :func:`os.replace` (atomic per file), directories fsync'ed;
5. **commit** – the journal moves to ``committed``, the backup folder is renamed
   to ``.versions/<id>`` and the journal removed. Old versions beyond ``keep``
   are pruned.

A process killed at any point is repaired by :func:`recover`, which every
public function runs first (under the same lock): a journal in ``prepare`` or
``swapping`` is rolled back from the backup, one in ``committed`` is completed.
So the package is always either the old or the new version, never a mix.

Versions are listed newest first by :func:`list_versions`;
:func:`restore_version` brings back the state *just before* a given change
(undoing it and every later one) and is itself recorded as a new version, so a
restore can be undone too.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from geo.errors import DataNotFoundError, ImportRejectedError, PhuSongError, Problem, ValidationError

__all__ = [
    "VersionInfo",
    "VERSIONS_DIR",
    "JOURNAL_NAME",
    "DEFAULT_KEEP",
    "package_files",
    "file_hashes",
    "commit_files",
    "recover",
    "list_versions",
    "restore_version",
    "version_files",
]

log = logging.getLogger(__name__)

VERSIONS_DIR = ".versions"
JOURNAL_NAME = ".phusong-journal.json"
STAGING_PREFIX = ".phusong-staging-"
#: Folder of a data package that holds its saved scenarios (a store of its own, not package data).
SCENARIOS_DIR = "scenarios"
#: Folder of a data package that holds its published thresholds and targets (a store of its own).
SETTINGS_DIR = "settings"
#: Folders of a data package that are not package data (left out of its files and version).
NON_DATA_DIRS = frozenset({SCENARIOS_DIR, SETTINGS_DIR})
DEFAULT_KEEP = 10
MIN_KEEP = 5
LOCK_TIMEOUT_S = 60.0

#: Test hook: name of a stage at which to pause (see :func:`_stage`).
PAUSE_ENV = "PHUSONG_STORE_PAUSE_AT"
PAUSE_FILE_ENV = "PHUSONG_STORE_PAUSE_FILE"

Validator = Callable[[Path], list[Problem]]


@dataclass(frozen=True)
class VersionInfo:
    """One saved previous version: the files as they were before a change.

    Parameters
    ----------
    version_id : str
        Sortable id, e.g. "20261125T150102123456Z-1a2b3c".
    created : str
        ISO 8601 UTC time of the change.
    action : str
        "import" or "restore".
    layer : str
        Layer the change touched ("towers", ...; "" for a restore).
    source : str
        Uploaded file name, or the version id restored.
    summary : str
        One line: what changed (rows added/removed/changed).
    files : tuple of str
        Package-relative paths (POSIX) the change touched.
    """

    version_id: str
    created: str
    action: str
    layer: str
    source: str
    summary: str
    files: tuple[str, ...]


# ---------------------------------------------------------------- low-level helpers


def _stage(name: str) -> None:
    """Named point of the commit protocol; tests may pause a process here to kill it."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    marker = os.environ.get(PAUSE_FILE_ENV)
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    log.warning("store: paused at stage %s (test hook)", name)
    time.sleep(3600)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durable(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    _write_durable(tmp, data)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _is_internal(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def package_files(root: Path) -> list[str]:
    """Package-relative POSIX paths of every data file (store internals and dot-files left out; in a
    data package, i.e. a folder with ``dataset.toml``, also :data:`NON_DATA_DIRS`: saved scenarios and
    published settings)."""
    root = Path(root)
    skip = NON_DATA_DIRS if (root / "dataset.toml").is_file() else frozenset()
    out = []
    for path in sorted(root.rglob("*")):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        if path.is_file() and not _is_internal(rel) and rel.parts[0] not in skip:
            out.append(str(rel))
    return out


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every data file of the package, by relative path."""
    return {rel: _sha256(Path(root) / rel) for rel in package_files(root)}


def _check_rel(rel: str) -> str:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or _is_internal(pure):
        raise ImportRejectedError(f"refusing to write outside the data package: {rel!r}")
    return str(pure)


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Exclusive lock on the package folder itself (flock on the directory; no file created)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise PhuSongError(
                        f"{root}: another import or restore is running; try again later"
                    ) from exc
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _check_root(root: Path | str) -> Path:
    path = Path(root)
    if not path.is_dir():
        raise DataNotFoundError(f"{path}: data package folder not found")
    return path


def _new_version_id() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


# ---------------------------------------------------------------- journal and recovery


def _journal_path(root: Path) -> Path:
    return root / JOURNAL_NAME


def _write_journal(root: Path, state: str, version_id: str, files: list[str]) -> None:
    payload = {"state": state, "id": version_id, "files": files}
    _write_atomic(_journal_path(root), json.dumps(payload).encode("utf-8"))


def _remove_journal(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        _journal_path(root).unlink()
    _fsync_dir(root)


def recover(root: Path | str) -> str | None:
    """Repair the package after a killed import (takes the lock).

    Returns
    -------
    str or None
        "rolled back", "completed" or "cleaned" when something was repaired, else None.
    """
    path = _check_root(root)
    with _locked(path):
        return _recover_locked(path)


def _recover_locked(root: Path) -> str | None:
    journal = _journal_path(root)
    outcome = None
    if journal.exists():
        try:
            state = json.loads(journal.read_text(encoding="utf-8"))
            vid, phase = str(state["id"]), str(state["state"])
        except (ValueError, KeyError, OSError):
            # written atomically, so unreadable only if damaged afterwards: undo every complete backup
            vid, phase = "", "unknown"
            for backup in sorted((root / VERSIONS_DIR).glob("*.partial")):
                if (backup / "manifest.json").is_file():
                    _rollback(root, backup)
        partial = root / VERSIONS_DIR / f"{vid}.partial"
        if phase == "swapping" and vid:
            _rollback(root, partial)
            outcome = "rolled back"
        elif phase == "committed" and vid:
            if partial.exists():
                os.replace(partial, root / VERSIONS_DIR / vid)
                _fsync_dir(root / VERSIONS_DIR)
            outcome = "completed"
        else:
            outcome = "rolled back"
        if phase != "committed" and partial.exists():
            shutil.rmtree(partial)
        _remove_journal(root)
        log.warning("store: %s an interrupted change (%s, state %s) in %s", outcome, vid, phase, root)
    if _clean_leftovers(root):
        outcome = outcome or "cleaned"
    return outcome


def _rollback(root: Path, partial: Path) -> None:
    manifest = json.loads((partial / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        target = root / entry["path"]
        if entry["existed"]:
            data = (partial / "files" / entry["path"]).read_bytes()
            _write_atomic(target, data)
        elif target.exists():
            target.unlink()
            _fsync_dir(target.parent)


def _clean_leftovers(root: Path) -> bool:
    found = False
    for stray in root.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(stray, ignore_errors=False)
        found = True
    versions = root / VERSIONS_DIR
    if versions.is_dir():
        for stray in versions.glob("*.partial"):
            shutil.rmtree(stray)
            found = True
    return found


# ---------------------------------------------------------------- commit


def _build_view(root: Path, view: Path, new_files: Mapping[str, bytes | None]) -> None:
    for rel in package_files(root):
        if rel in new_files:
            continue
        target = view / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(root / rel, target)
        except OSError:
            shutil.copy2(root / rel, target)
    for rel, data in new_files.items():
        if data is not None:
            _write_durable(view / rel, data)


def validate_view(
    root: Path | str, new_files: Mapping[str, bytes | None], validate: Validator
) -> list[Problem]:
    """Validate the would-be package (current files with ``new_files`` applied) without changing it.

    Parameters
    ----------
    root : Path or str
        Data package folder.
    new_files : mapping of str to bytes or None
        Package-relative path -> new content (None deletes the file).
    validate : callable
        ``validate(folder) -> list[Problem]``, e.g. :func:`geo.validate.validate_package`.

    Returns
    -------
    list of Problem
        Everything the validator found.
    """
    path = _check_root(root)
    files = {_check_rel(k): v for k, v in new_files.items()}
    with _locked(path):
        _recover_locked(path)
        view = path / f"{STAGING_PREFIX}{_new_version_id()}"
        try:
            _build_view(path, view, files)
            return list(validate(view))
        finally:
            shutil.rmtree(view, ignore_errors=True)


def commit_files(
    root: Path | str,
    new_files: Mapping[str, bytes | None],
    *,
    validate: Validator,
    action: str,
    layer: str,
    source: str,
    summary: str,
    expected_hashes: Mapping[str, str] | None = None,
    keep: int = DEFAULT_KEEP,
) -> VersionInfo:
    """Validate and atomically apply a change, keeping the previous files as a version.

    Parameters
    ----------
    root : Path or str
        Data package folder.
    new_files : mapping of str to bytes or None
        Package-relative POSIX path -> new content; None deletes the file.
    validate : callable
        ``validate(folder) -> list[Problem]`` run on the would-be package.
    action, layer, source, summary : str
        Recorded in the version manifest.
    expected_hashes : mapping, optional
        SHA-256 of the package files when the change was planned; if the package
        changed since, the commit is refused (plan again).
    keep : int, default 10
        Versions to keep (at least 5); older ones are deleted.

    Returns
    -------
    VersionInfo
        The saved previous version (its id restores the package as it was before).

    Raises
    ------
    ValidationError
        The would-be package has errors; nothing was changed.
    ImportRejectedError
        The package changed since planning, or a path escapes the package.
    """
    path = _check_root(root)
    files = {_check_rel(k): v for k, v in new_files.items()}
    keep = max(int(keep), MIN_KEEP)
    with _locked(path):
        _recover_locked(path)
        if expected_hashes is not None and file_hashes(path) != dict(expected_hashes):
            raise ImportRejectedError(
                f"{path}: the data package changed since this import was previewed; preview it again"
            )
        vid = _new_version_id()
        view = path / f"{STAGING_PREFIX}{vid}"
        try:
            _build_view(path, view, files)
            _stage("staged")
            problems = list(validate(view))
            if any(p.severity == "error" for p in problems):
                raise ValidationError(problems)
            _stage("validated")
            try:
                info = _swap_in(
                    path, view, vid, files, action=action, layer=layer, source=source, summary=summary
                )
            except BaseException:
                # disk full, permission denied, Ctrl-C mid-swap: put the old version back now
                _recover_locked(path)
                raise
        finally:
            shutil.rmtree(view, ignore_errors=True)
        _prune(path, keep)
        return info


def _swap_in(root: Path, view: Path, vid: str, files: dict[str, bytes | None], **meta: str) -> VersionInfo:
    changed = sorted(files)
    (root / VERSIONS_DIR).mkdir(exist_ok=True)
    _write_journal(root, "prepare", vid, changed)
    partial = root / VERSIONS_DIR / f"{vid}.partial"
    entries = []
    for rel in changed:
        original = root / rel
        existed = original.is_file()
        if existed:
            _write_durable(partial / "files" / rel, original.read_bytes())
        entries.append(
            {
                "path": rel,
                "existed": existed,
                "old_sha256": _sha256(original) if existed else None,
                "new_sha256": _digest(files[rel]),
            }
        )
    info = VersionInfo(
        version_id=vid, created=datetime.now(UTC).isoformat(timespec="seconds"), files=tuple(changed), **meta
    )
    manifest = {**_info_to_json(info), "files": entries}
    _write_durable(
        partial / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    )
    _fsync_dir(partial)
    _stage("backup")
    _write_journal(root, "swapping", vid, changed)
    for i, rel in enumerate(changed):
        target = root / rel
        if files[rel] is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(view / rel, target)
        _fsync_dir(target.parent)
        _stage(f"swap-{i + 1}")
    _write_journal(root, "committed", vid, changed)
    _stage("committed")
    os.replace(partial, root / VERSIONS_DIR / vid)
    _fsync_dir(root / VERSIONS_DIR)
    _remove_journal(root)
    log.info("store: %s %s in %s (previous version %s)", meta["action"], ", ".join(changed), root, vid)
    return info


def _info_to_json(info: VersionInfo) -> dict[str, object]:
    return {
        "id": info.version_id,
        "created": info.created,
        "action": info.action,
        "layer": info.layer,
        "source": info.source,
        "summary": info.summary,
    }


def _prune(root: Path, keep: int) -> None:
    versions = _version_dirs(root)
    for old in versions[keep:]:
        shutil.rmtree(old)
        log.info("store: pruned old version %s", old.name)


# ---------------------------------------------------------------- listing and restoring


def _version_dirs(root: Path) -> list[Path]:
    base = root / VERSIONS_DIR
    if not base.is_dir():
        return []
    dirs = [
        d
        for d in base.iterdir()
        if d.is_dir() and not d.name.endswith(".partial") and (d / "manifest.json").is_file()
    ]
    return sorted(dirs, key=lambda d: d.name, reverse=True)


def _read_manifest(vdir: Path) -> dict:
    return json.loads((vdir / "manifest.json").read_text(encoding="utf-8"))


def _info_from_manifest(manifest: dict) -> VersionInfo:
    return VersionInfo(
        version_id=manifest["id"],
        created=manifest["created"],
        action=manifest["action"],
        layer=manifest.get("layer", ""),
        source=manifest.get("source", ""),
        summary=manifest.get("summary", ""),
        files=tuple(e["path"] for e in manifest["files"]),
    )


def list_versions(root: Path | str) -> list[VersionInfo]:
    """Saved previous versions of a data package, newest first (repairs a killed import first)."""
    path = _check_root(root)
    with _locked(path):
        _recover_locked(path)
        return [_info_from_manifest(_read_manifest(d)) for d in _version_dirs(path)]


def version_files(root: Path | str, version_id: str) -> dict[str, bytes | None]:
    """The package files as they were just before change ``version_id`` (None: the file did not exist).

    Only files touched by that change or any later one are returned; the rest
    are unchanged since.
    """
    path = _check_root(root)
    dirs = _version_dirs(path)
    names = [d.name for d in dirs]
    if version_id not in names:
        known = ", ".join(names[:10]) or "none"
        raise DataNotFoundError(f"{path}: no saved version '{version_id}' (known: {known})")
    state: dict[str, bytes | None] = {}
    for vdir in dirs[: names.index(version_id) + 1]:  # newest ... target: the oldest backup wins
        for entry in _read_manifest(vdir)["files"]:
            rel = entry["path"]
            state[rel] = (vdir / "files" / rel).read_bytes() if entry["existed"] else None
    return state


def restore_version(
    root: Path | str, version_id: str, *, validate: Validator, keep: int = DEFAULT_KEEP
) -> VersionInfo:
    """Bring the package back to how it was just before change ``version_id``.

    The restore is itself a change: it is validated, swapped in atomically and
    the state it replaces is kept as a new version.

    Returns
    -------
    VersionInfo
        The version saved by the restore (restoring it undoes the restore).
    """
    path = _check_root(root)
    with _locked(path):
        _recover_locked(path)
    state = version_files(path, version_id)
    current = {rel: ((path / rel).read_bytes() if (path / rel).is_file() else None) for rel in state}
    changed = {rel: data for rel, data in state.items() if current[rel] != data}
    if not changed:
        raise ImportRejectedError(
            f"{path}: the package already equals version {version_id}; nothing to restore"
        )
    return commit_files(
        path,
        changed,
        validate=validate,
        action="restore",
        layer="",
        source=version_id,
        summary=f"restored the state before {version_id} ({len(changed)} file(s))",
        keep=keep,
    )
