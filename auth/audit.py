"""The append-only audit log: one JSON object per line, outside the data package.

Path: ``PHUSONG_AUDIT``, default ``audit.jsonl`` beside the users file (:mod:`auth.config`).
Every line has ``ts`` (UTC, ISO 8601), ``event``, ``user``, ``role`` (null when none applies, e.g.
a failed sign-in or the CLI) and the event's details, e.g.::

    {"ts": "2026-11-25T08:00:03.120000+00:00", "event": "download", "user": "lan", "role": "partner",
     "layer": "sites", "format": "gpkg", "filters": {"operator": "Viettel"}, "rows": 412}

Each entry is appended with one ``write`` on a descriptor opened ``O_APPEND``, under an exclusive
``flock`` on the log, then ``fsync``-ed: entries of concurrent writers (several app processes, the
CLI) never interleave, and a written entry survives a crash. A line cut short by a crash mid-write
is skipped by the reader, and the next writer starts a fresh line after it. Nothing named like a
secret (password, hash, token, ...) is accepted in an entry.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Any

from auth._files import lock_fd, private_dir
from auth.roles import Principal, Role, parse_role
from auth.users import as_utc
from geo.errors import ParameterError, SensitiveFieldError, UsersFileError

__all__ = ["AuditEvent", "AuditEntry", "AuditLog", "RESERVED_FIELDS", "is_sensitive_field"]

log = logging.getLogger(__name__)

#: Field names every entry has; details may not use them.
RESERVED_FIELDS = frozenset({"ts", "event", "user", "role"})

_SENSITIVE = re.compile(r"pass(word|wd|phrase)?|pwd|hash|secret|token|credential|cookie|salt", re.IGNORECASE)


class AuditEvent(StrEnum):
    """What can be audited."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    ACCOUNT_LOCKED = "account_locked"
    SIGN_OUT = "sign_out"
    SESSION_EXPIRED = "session_expired"
    REFUSED = "refused"
    """A page or action reached (e.g. by a deep link) without the permission."""
    UPLOAD_PREVIEW = "upload_preview"
    IMPORT_APPLIED = "import_applied"
    VERSION_RESTORED = "version_restored"
    THRESHOLDS_PUBLISHED = "thresholds_published"
    DOWNLOAD = "download"
    USER_ADDED = "user_added"
    USER_REMOVED = "user_removed"
    PASSWORD_SET = "password_set"
    USER_UNLOCKED = "user_unlocked"


def is_sensitive_field(name: str) -> bool:
    """Whether a field name looks like a secret (password, passwd, pwd, hash, secret, token, ...)."""
    return bool(_SENSITIVE.search(name))


def _check_fields(details: Mapping[str, Any], where: str = "") -> None:
    for key, value in details.items():
        if not isinstance(key, str):
            raise ParameterError(f"audit field names must be text, not {key!r}")
        if is_sensitive_field(key):
            raise SensitiveFieldError(f"audit entries never hold secrets: field {where + key!r} refused")
        if isinstance(value, Mapping):
            _check_fields(value, f"{where}{key}.")
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, Mapping):
                    _check_fields(item, f"{where}{key}[].")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log.

    Parameters
    ----------
    ts : datetime
        UTC time of the event.
    event : str
        An :class:`AuditEvent` value (or one this version does not know, from a newer one).
    user : str
        Who: an account name, the name typed at a failed sign-in, or ``cli:<login>``.
    role : str or None
        The user's role then, if any.
    details : dict
        Everything else: layer, filters, rows, file, version id...
    """

    ts: datetime
    event: str
    user: str
    role: str | None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The entry as one line of JSON (no newline)."""
        record = {"ts": self.ts.isoformat(), "event": self.event, "user": self.user, "role": self.role}
        record.update(self.details)
        return json.dumps(record, ensure_ascii=False, default=_json_default, allow_nan=False)


class AuditLog:
    """Writer and reader of the audit log at ``path`` (created 0600, its folder 0700, on first use).

    Parameters
    ----------
    path : Path
        The JSON-lines file.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    # ------------------------------------------------------------ writing

    def append(
        self,
        event: AuditEvent,
        user: Principal | str | None,
        details: Mapping[str, Any] | None = None,
        *,
        role: Role | str | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        """Append one entry and make it durable.

        Parameters
        ----------
        event : AuditEvent
            What happened.
        user : Principal, str or None
            Who: a signed-in user (name and role taken from it), a bare name, or None ("").
        details : mapping, optional
            JSON-able fields of the event; no field may be named like a secret, nor ``ts``,
            ``event``, ``user`` or ``role``.
        role : Role or str, optional
            The role, when ``user`` is a bare name.
        now : datetime, optional
            Aware time of the event (default: the current time).

        Returns
        -------
        AuditEntry
            What was written.

        Raises
        ------
        SensitiveFieldError
            When a field (at any depth) is named like a password, hash, token or secret.
        ParameterError
            On a reserved field name or a value that is not JSON.
        UsersFileError
            When the log cannot be written.
        """
        details = dict(details or {})
        _check_fields(details)
        clash = sorted(RESERVED_FIELDS & set(details))
        if clash:
            raise ParameterError(f"audit details may not use the field name(s) {', '.join(clash)}")
        if user is not None and not isinstance(user, str):
            name, role = user.name, user.role
        else:
            name = user or ""
        entry = AuditEntry(
            ts=as_utc(now),
            event=AuditEvent(event).value,
            user=name,
            role=None if role is None else parse_role(role).value,
            details=details,
        )
        try:
            line = entry.to_json()
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"audit entry {entry.event!r} has a value that is not JSON: {exc}") from None
        self._append_line(line.encode("utf-8"))
        return entry

    def download(
        self,
        user: Principal,
        layer: str,
        fmt: str,
        rows: int,
        filters: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        **extra: Any,
    ) -> AuditEntry:
        """Record one download: who, which layer, in which format, with which filters, how many rows."""
        details = {"layer": layer, "format": fmt, "filters": dict(filters or {}), "rows": int(rows), **extra}
        return self.append(AuditEvent.DOWNLOAD, user, details, now=now)

    def _append_line(self, line: bytes) -> None:
        private_dir(self.path.parent)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise UsersFileError(f"cannot open audit log {str(self.path)!r}: {exc.strerror}") from None
        try:
            lock_fd(fd, self.path)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # the previous writer died mid-line: start a fresh one
            data = memoryview(line + b"\n")
            while data:
                written = os.write(fd, data)
                data = data[written:]
            os.fsync(fd)
        except OSError as exc:
            raise UsersFileError(f"cannot write audit log {str(self.path)!r}: {exc.strerror}") from None
        finally:
            os.close(fd)  # releases the lock

    # ------------------------------------------------------------ reading

    def entries(
        self,
        event: AuditEvent | str | None = None,
        user: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[AuditEntry]:
        """The entries, oldest first, optionally filtered.

        Parameters
        ----------
        event : AuditEvent or str, optional
            Only this event.
        user : str, optional
            Only this user (case-insensitive).
        since, until : datetime, optional
            Only entries with ``since <= ts < until``.

        Yields
        ------
        AuditEntry
            Lines that are not a JSON object with ``ts`` and ``event`` (a line cut short by a
            crash) are skipped with a warning.
        """
        lo = None if since is None else as_utc(since)
        hi = None if until is None else as_utc(until)
        wanted_user = None if user is None else user.strip().lower()
        wanted_event = None if event is None else str(event)
        try:
            fh = open(self.path, "rb")  # closed by the with below, also when the caller stops early
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsersFileError(f"cannot read audit log {str(self.path)!r}: {exc.strerror}") from None
        with fh:
            for number, raw in enumerate(fh, start=1):
                entry = _parse_line(raw)
                if entry is None:
                    if raw.strip():
                        log.warning(
                            "audit log %s: line %d is not a complete entry; skipped", self.path, number
                        )
                    continue
                if wanted_event is not None and entry.event != wanted_event:
                    continue
                if wanted_user is not None and entry.user.lower() != wanted_user:
                    continue
                if (lo is not None and entry.ts < lo) or (hi is not None and entry.ts >= hi):
                    continue
                yield entry


def _parse_line(raw: bytes) -> AuditEntry | None:
    if not raw.endswith(b"\n"):
        return None  # cut short (or still being written)
    try:
        record = json.loads(raw.decode("utf-8"))
        if not isinstance(record, dict):
            return None
        ts = as_utc(datetime.fromisoformat(str(record.pop("ts"))))
        event = str(record.pop("event"))
        user = str(record.pop("user", "") or "")
        role = record.pop("role", None)
    except (UnicodeDecodeError, ValueError, KeyError, ParameterError):
        return None
    return AuditEntry(ts=ts, event=event, user=user, role=None if role is None else str(role), details=record)
