"""Saved scenarios of a data package: one folder per scenario under ``DATA_DIR/scenarios/``.

A scenario folder holds ``scenario.json`` and its layers (``sites.csv``, ``fibre_nodes.csv``).
``scenarios/`` is a versioned store of its own (:func:`geo.store.commit_files`: atomic, crash-safe,
every change kept as a version that can be restored), separate from the package data: saving,
renaming or deleting a scenario never changes the package version, and importing data never
prunes a scenario's history. This module moves bytes; :mod:`analysis.scenario.files` turns them
into scenarios.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from geo.errors import DataNotFoundError, ImportRejectedError, Problem
from geo.store import SCENARIOS_DIR, VersionInfo, commit_files, list_versions, restore_version

__all__ = [
    "SCENARIO_FILE",
    "StoredScenario",
    "delete_scenario",
    "list_scenarios",
    "read_scenario_files",
    "save_scenario_files",
    "scenario_versions",
]

SCENARIO_FILE = "scenario.json"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_LAYER_FILES = ("sites.csv", "fibre_nodes.csv", "fibre_routes.geojson")


@dataclass(frozen=True)
class StoredScenario:
    """A saved scenario's folder name and its ``scenario.json`` document."""

    slug: str
    document: dict[str, Any]


def _check_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise ImportRejectedError(f"scenario folder name {slug!r}: use a-z, 0-9 and '-' (at most 60)")
    return slug


def _root(package_root: Path | str, *, create: bool = False) -> Path:
    package = Path(package_root)
    if not package.is_dir():
        raise DataNotFoundError(f"{package}: data package folder not found")
    root = package / SCENARIOS_DIR
    if create:
        root.mkdir(exist_ok=True)
    return root


def _validate(view: Path) -> list[Problem]:
    """Every scenario folder of the would-be store has a readable ``scenario.json`` object."""
    problems: list[Problem] = []
    if not view.is_dir():  # no scenario left
        return problems
    for folder in sorted(p for p in view.iterdir() if p.is_dir() and not p.name.startswith(".")):
        rel = f"{SCENARIOS_DIR}/{folder.name}/{SCENARIO_FILE}"
        path = folder / SCENARIO_FILE
        if not path.is_file():
            problems.append(Problem("error", rel, "", "file missing", "save the scenario again"))
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(
                Problem("error", rel, "", f"not a JSON document ({exc})", "save the scenario again")
            )
            continue
        if not isinstance(doc, dict) or not str(doc.get("name", "")).strip():
            problems.append(Problem("error", rel, "", "no scenario name", "save the scenario again"))
    return problems


def _remove_if_empty(folder: Path) -> None:
    """Remove a scenario folder the store has emptied (its files live on in the versions)."""
    with contextlib.suppress(OSError):
        folder.rmdir()


def list_scenarios(package_root: Path | str) -> list[StoredScenario]:
    """Saved scenarios, by folder name (a folder with an unreadable document is skipped)."""
    root = _root(package_root)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _SLUG.match(p.name)):
        try:
            doc = json.loads((folder / SCENARIO_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict):
            out.append(StoredScenario(folder.name, doc))
    return out


def read_scenario_files(package_root: Path | str, slug: str) -> dict[str, bytes]:
    """The files of a saved scenario by name (``scenario.json`` and its layers)."""
    folder = _root(package_root) / _check_slug(slug)
    if not (folder / SCENARIO_FILE).is_file():
        known = ", ".join(s.slug for s in list_scenarios(package_root)) or "none"
        raise DataNotFoundError(f"no saved scenario {slug!r} (saved: {known})")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def save_scenario_files(
    package_root: Path | str,
    slug: str,
    files: Mapping[str, bytes],
    *,
    overwrite: bool = False,
    previous_slug: str | None = None,
) -> VersionInfo:
    """Save a scenario's files atomically (the previous state is kept as a version).

    Parameters
    ----------
    files
        ``scenario.json`` and its layer files by name; layer files not given are removed.
    overwrite
        Replace a saved scenario of the same folder name (else refused).
    previous_slug
        The scenario's old folder when it is renamed (that folder is removed in the same change).
    """
    root = _root(package_root, create=True)
    _check_slug(slug)
    if SCENARIO_FILE not in files:
        raise ImportRejectedError(f"a scenario needs {SCENARIO_FILE}")
    unknown = [n for n in files if n != SCENARIO_FILE and n not in _LAYER_FILES]
    if unknown:
        raise ImportRejectedError(f"scenario files {', '.join(unknown)}: not a scenario file")
    exists = (root / slug / SCENARIO_FILE).is_file()
    if exists and not overwrite and previous_slug != slug:
        raise ImportRejectedError(
            f"a scenario {slug!r} is already saved; choose another name or overwrite it"
        )
    change: dict[str, bytes | None] = {f"{slug}/{n}": data for n, data in files.items()}
    for name in _LAYER_FILES:
        if name not in files and (root / slug / name).is_file():
            change[f"{slug}/{name}"] = None
    if previous_slug and previous_slug != slug:
        for path in (root / _check_slug(previous_slug)).glob("*"):
            change[str(PurePosixPath(previous_slug, path.name))] = None
    action = "rename scenario" if previous_slug and previous_slug != slug else "save scenario"
    info = commit_files(
        root,
        change,
        validate=_validate,
        action=action,
        layer="scenario",
        source=slug,
        summary=f"{action} {slug}",
    )
    if previous_slug and previous_slug != slug:
        _remove_if_empty(root / previous_slug)
    return info


def delete_scenario(package_root: Path | str, slug: str) -> VersionInfo:
    """Delete a saved scenario (kept as a version: :func:`scenario_versions` can bring it back)."""
    files = read_scenario_files(package_root, slug)
    root = _root(package_root)
    change: dict[str, bytes | None] = {f"{slug}/{name}": None for name in files}
    info = commit_files(
        root,
        change,
        validate=_validate,
        action="delete scenario",
        layer="scenario",
        source=slug,
        summary=f"deleted {slug}",
    )
    _remove_if_empty(root / slug)
    return info


def scenario_versions(package_root: Path | str) -> list[VersionInfo]:
    """Previous states of the saved scenarios, newest first."""
    root = _root(package_root)
    return list_versions(root) if root.is_dir() else []


def restore_scenarios(package_root: Path | str, version_id: str) -> VersionInfo:
    """Bring the saved scenarios back to how they were just before change ``version_id``."""
    return restore_version(_root(package_root), version_id, validate=_validate)
