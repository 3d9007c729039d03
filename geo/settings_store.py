"""Official thresholds and targets of a data package, published by an admin, versioned.

A planner's changes on the settings page apply to that session only. An admin *publishes* values:
they are written to ``DATA_DIR/settings/official.json`` through :func:`geo.store.commit_files`
(atomic; every earlier publication kept as a version that can be restored), with who published
them and when. ``settings/`` is a store of its own, not package data: publishing never changes the
package version. This module moves documents; :mod:`analysis.published` turns them into
parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.errors import DataNotFoundError, ImportRejectedError, Problem
from geo.store import SETTINGS_DIR, VersionInfo, commit_files, list_versions, restore_version

__all__ = ["OFFICIAL_FILE", "publish_settings", "read_published", "restore_settings", "settings_versions"]

OFFICIAL_FILE = "official.json"
FORMAT = "phusong-settings/1"


def _root(package_root: Path | str, *, create: bool = False) -> Path:
    package = Path(package_root)
    if not package.is_dir():
        raise DataNotFoundError(f"{package}: data package folder not found")
    root = package / SETTINGS_DIR
    if create:
        root.mkdir(exist_ok=True)
    return root


def _validate(view: Path) -> list[Problem]:
    path = view / OFFICIAL_FILE
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Problem("error", f"{SETTINGS_DIR}/{OFFICIAL_FILE}", "", f"not a JSON document ({exc})", "")]
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not doc.get("published_by"):
        return [
            Problem("error", f"{SETTINGS_DIR}/{OFFICIAL_FILE}", "", "not a published-settings document", "")
        ]
    return []


def publish_settings(
    package_root: Path | str, values: Mapping[str, Any], *, user: str, now: datetime | None = None
) -> VersionInfo:
    """Publish ``values`` (``{"gap_params": {...}, "kpi_targets": {...}}``) as the official settings.

    Returns the saved previous version (restoring it undoes the publication).

    Raises
    ------
    ImportRejectedError
        No user name, or the values are not a JSON object.
    """
    if not user.strip():
        raise ImportRejectedError("publishing needs the name of the admin who publishes")
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {"format": FORMAT, "published_by": user.strip(), "published_utc": stamp, **dict(values)}
    try:
        data = (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ImportRejectedError(f"settings are not plain values: {exc}") from None
    return commit_files(
        _root(package_root, create=True),
        {OFFICIAL_FILE: data},
        validate=_validate,
        action="publish settings",
        layer="settings",
        source=user.strip(),
        summary=f"official thresholds and targets published by {user.strip()}",
    )


def read_published(package_root: Path | str) -> dict[str, Any] | None:
    """The published document (with ``published_by`` and ``published_utc``), or None."""
    path = _root(package_root) / OFFICIAL_FILE
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def settings_versions(package_root: Path | str) -> list[VersionInfo]:
    """Earlier publications, newest first."""
    root = _root(package_root)
    return list_versions(root) if root.is_dir() else []


def restore_settings(package_root: Path | str, version_id: str) -> VersionInfo:
    """Bring the official settings back to how they were just before publication ``version_id``."""
    return restore_version(_root(package_root), version_id, validate=_validate)
