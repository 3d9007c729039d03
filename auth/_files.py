"""File helpers shared by the users file and the audit log: private folders, flock, atomic writes.

Everything here creates files readable by their owner only (mode 0600, folders 0700): the users
file holds password hashes and the audit log who did what.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from geo.errors import UsersFileError

__all__ = ["LOCK_TIMEOUT_S", "private_dir", "lock_fd", "flocked", "write_private_atomic", "fsync_dir"]

#: How long a writer waits for another one before giving up (seconds).
LOCK_TIMEOUT_S = 30.0


def private_dir(folder: Path) -> None:
    """Create ``folder`` (and missing parents) readable by its owner only; an existing one is kept."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsersFileError(f"cannot create folder {str(folder)!r}: {exc.strerror}") from None


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_fd(fd: int, what: Path, timeout_s: float = LOCK_TIMEOUT_S) -> None:
    """Take an exclusive ``flock`` on ``fd``, waiting up to ``timeout_s`` (released on close)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                raise UsersFileError(f"{what}: locked by another process for too long; try again") from exc
            time.sleep(0.02)


@contextlib.contextmanager
def flocked(lock_path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (created 0600 if missing) for the block."""
    private_dir(lock_path.parent)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise UsersFileError(f"cannot open lock file {str(lock_path)!r}: {exc.strerror}") from None
    try:
        lock_fd(fd, lock_path, timeout_s)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_private_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically (temporary file, fsync, rename); the file ends 0600.

    Readers see the old content or the new one, never a mix; a crash leaves at most a stray
    ``.*.tmp`` file beside it.
    """
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), 0o600)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsersFileError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    fsync_dir(path.parent)
