"""On-disk cache of validated data packages, addressed by content.

Reading and validating the bundled province takes about 0.25 s; unpickling the validated frames
takes about 0.01 s. :func:`geo.package.load_package` therefore keeps each validated package in a
per-user cache directory under a key made of

* the SHA-256 of every file of the package (the same digest as :func:`geo.package.package_version`),
* the package folder as given and resolved,
* a fingerprint of the code that reads and validates it (every ``geo/**/*.py`` file) and of the
  Python and library versions that pickled it.

Any change to a file, to the validation code or to a library makes a new key, so a stale entry is
never used. Entries are written atomically (temporary file + ``os.replace``) and the directory keeps
the :data:`MAX_ENTRIES` newest. The cache lives outside the package folder (nothing is written
into the data) in ``$PHUSONG_CACHE_DIR``, else ``$XDG_CACHE_HOME/phusong/packages``, else
``~/.cache/phusong/packages``. ``PHUSONG_PACKAGE_CACHE=0`` turns it off. Any problem reading or
writing the cache (missing, unwritable, corrupt) only means the package is read and validated again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import TypeVar

__all__ = ["MAX_ENTRIES", "cache_dir", "load_cached", "store"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

MAX_ENTRIES = 8
"""Validated packages kept in the cache directory (oldest removed first)."""

_LIBRARIES = ("numpy", "pandas", "geopandas", "shapely", "pyproj", "pyogrio")


def cache_dir() -> Path | None:
    """Directory of the package cache, or None when it is turned off."""
    if os.environ.get("PHUSONG_PACKAGE_CACHE", "1").strip().lower() in ("0", "off", "false", "no"):
        return None
    explicit = os.environ.get("PHUSONG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "phusong" / "packages"


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """Hash of the reading/validation code and of the versions that pickle its output."""
    digest = hashlib.sha256(sys.version.encode("utf-8"))
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={importlib.metadata.version(name)};".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name}=?;".encode())
    geo_dir = Path(__file__).resolve().parent
    for path in sorted(geo_dir.rglob("*.py")):
        digest.update(path.relative_to(geo_dir).as_posix().encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _key(root: Path, content_digest: str) -> str:
    parts = (str(root), str(root.resolve()), content_digest, _code_fingerprint())
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]


def load_cached(root: Path, content_digest: str, kind: type[_T]) -> _T | None:
    """The cached validated package for this content and code, or None.

    ``kind`` is the class the entry must be (:class:`geo.package.DataPackage`, passed by the caller
    so that this module does not import the one that uses it); an entry of another class, or one
    whose ``root`` is not ``root``, counts as a miss.
    """
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{_key(root, content_digest)}.pickle"
    try:
        with path.open("rb") as fh:
            package = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception as exc:  # corrupt or incompatible entry: validate again (and overwrite it)
        logger.info("package cache entry %s not usable (%s); validating again", path, exc)
        return None
    if not isinstance(package, kind) or getattr(package, "root", None) != root:
        return None
    try:
        os.utime(path)  # most recently used: pruned last
    except OSError:
        pass
    return package


def store(root: Path, content_digest: str, package: object) -> None:
    """Keep ``package`` in the cache (best effort: errors are logged, never raised)."""
    folder = cache_dir()
    if folder is None:
        return
    target = folder / f"{_key(root, content_digest)}.pickle"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pickle", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(package, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _prune(folder)
    except (OSError, pickle.PicklingError) as exc:
        logger.info("package cache not written (%s)", exc)


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
