"""Local accounts: the users file, argon2id password hashes, failed-attempt lockout.

The users file (``PHUSONG_USERS``, see :mod:`auth.config`) lives outside the data package. It is
JSON, readable by its owner only (mode 0600), replaced atomically on every change under an
``flock`` on ``<file>.lock``, so concurrent writers (two CLI runs, the app) never lose a change::

    {"format": "phusong-users", "version": 1,
     "users": {"lan": {"role": "partner", "operator": "Viettel",
                       "hash": "$argon2id$v=19$m=65536,t=3,p=4$...",
                       "failed_attempts": 0, "locked_until": null,
                       "created": "2026-11-25T08:00:00+00:00",
                       "password_changed": "2026-11-25T08:00:00+00:00"}}}

The clear password is never stored, logged or kept on a :class:`User`; only its argon2id hash
(argon2-cffi's :class:`~argon2.PasswordHasher`, salted per password) is written.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import stat
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth._files import flocked, write_private_atomic
from auth.roles import Role, check_operator, parse_role
from geo.errors import ParameterError, UnknownUserError, UserExistsError, UsersFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MIN_PASSWORD_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "DEFAULT_MAX_FAILURES",
    "DEFAULT_LOCK_MINUTES",
    "User",
    "AuthOutcome",
    "AuthResult",
    "UserStore",
    "normalize_user_name",
    "check_password",
    "utc_now",
    "as_utc",
]

log = logging.getLogger(__name__)

FORMAT = "phusong-users"
FORMAT_VERSION = 1
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
DEFAULT_MAX_FAILURES = 5
DEFAULT_LOCK_MINUTES = 15

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(when: datetime | None) -> datetime:
    """``when`` in UTC (now when None); a naive datetime is refused (whose local time would it be?)."""
    if when is None:
        return utc_now()
    if when.tzinfo is None or when.utcoffset() is None:
        raise ParameterError(f"time {when.isoformat()} has no time zone; give an aware datetime (UTC)")
    return when.astimezone(UTC)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else as_utc(when).isoformat()


def _parse_time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except (ValueError, ParameterError):
        raise UsersFileError(f"{where}: {value!r} is not an ISO time with a time zone") from None


def normalize_user_name(name: str) -> str:
    """The account name as stored: stripped, lower case; names are case-insensitive.

    Raises
    ------
    ParameterError
        Unless the name is 1-64 characters of ``a-z 0-9 . _ @ -`` starting with a letter or digit.
    """
    key = str(name).strip().lower()
    if not _NAME_RE.fullmatch(key):
        raise ParameterError(
            f"user name {name!r} is not valid: use 1-64 letters a-z, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return key


def check_password(password: str) -> None:
    """Refuse a password that is not a string of 8 to 1024 characters (it is never echoed back)."""
    if not isinstance(password, str):
        raise ParameterError("the password must be text")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ParameterError(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ParameterError(f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters")


@dataclass(frozen=True)
class User:
    """One account as the app sees it: no password, no hash.

    Parameters
    ----------
    name : str
        Account name, lower case (:func:`normalize_user_name`).
    role : Role
        What the account may do (:mod:`auth.roles`).
    operator : str or None
        Canonical operator name (:class:`geo.schema.Operator`) for a partner; None for every other
        role. A partner without one, or another role with one, is refused.
    locked_until : datetime or None
        UTC end of a lock after too many failed sign-ins (may be in the past: then unlocked).
    failed_attempts : int
        Failed sign-ins since the last success or lock.
    """

    name: str
    role: Role
    operator: str | None = None
    locked_until: datetime | None = None
    failed_attempts: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", normalize_user_name(self.name))
        object.__setattr__(self, "role", parse_role(self.role))
        if self.role is Role.PARTNER:
            if not self.operator:
                raise ParameterError("a partner account needs an operator (--operator)")
            object.__setattr__(self, "operator", check_operator(self.operator))
        elif self.operator:
            raise ParameterError(f"only a partner account has an operator, not a {self.role.value} account")
        else:
            object.__setattr__(self, "operator", None)

    def is_locked(self, now: datetime | None = None) -> bool:
        """Whether the account is locked at ``now`` (default: the current time)."""
        return self.locked_until is not None and as_utc(now) < self.locked_until


class AuthOutcome(StrEnum):
    """How a sign-in attempt ended."""

    OK = "ok"
    """Right name and password, account not locked."""
    WRONG = "wrong"
    """Unknown name or wrong password (the two are not told apart)."""
    LOCKED = "locked"
    """The account was already locked; the password was not accepted, right or wrong."""
    JUST_LOCKED = "just_locked"
    """Wrong password, and this failure locked the account."""


@dataclass(frozen=True)
class AuthResult:
    """The outcome of :meth:`UserStore.authenticate`.

    Parameters
    ----------
    outcome : AuthOutcome
        What happened.
    user : User or None
        The account, only when ``outcome`` is OK.
    locked_until : datetime or None
        End of the lock for LOCKED and JUST_LOCKED.
    """

    outcome: AuthOutcome
    user: User | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        """True for a successful sign-in."""
        return self.outcome is AuthOutcome.OK


_DUMMY_HASHES: dict[tuple[int, int, int, int, int, str], str] = {}


def _hasher_key(hasher: PasswordHasher) -> tuple[int, int, int, int, int, str]:
    return (
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
        str(hasher.type),
    )


class UserStore:
    """The users file: add, remove, list accounts, set passwords, authenticate.

    Parameters
    ----------
    path : Path
        The users file (need not exist yet; created 0600, its folder 0700, on the first add).
    hasher : argon2.PasswordHasher, optional
        Hashing parameters (default: argon2-cffi's, argon2id). Hashes made with other parameters
        still verify and are re-hashed with these on the next successful sign-in.
    max_failures : int
        Failed sign-ins that lock an account (default 5).
    lock_minutes : float
        How long a lock lasts (default 15).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        hasher: PasswordHasher | None = None,
        max_failures: int = DEFAULT_MAX_FAILURES,
        lock_minutes: float = DEFAULT_LOCK_MINUTES,
    ) -> None:
        if max_failures < 1:
            raise ParameterError(f"max_failures must be at least 1, not {max_failures}")
        if lock_minutes <= 0:
            raise ParameterError(f"lock_minutes must be positive, not {lock_minutes}")
        self.path = Path(path)
        self.hasher = hasher or PasswordHasher()
        self.max_failures = int(max_failures)
        self.lock_minutes = float(lock_minutes)

    # ------------------------------------------------------------ file

    @property
    def lock_path(self) -> Path:
        """The file ``flock`` is taken on (the users file itself is replaced on each write)."""
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        """Whether the users file exists."""
        return self.path.is_file()

    def _read(self) -> dict[str, dict[str, Any]]:
        """The records by name; {} when the file does not exist yet."""
        try:
            raw = self.path.read_bytes()
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise UsersFileError(f"cannot read users file {str(self.path)!r}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning(
                "users file %s is readable by others (mode %o); it is rewritten 0600", self.path, mode
            )
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise UsersFileError(f"users file {str(self.path)!r} is not valid JSON") from None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("users"), dict)
        ):
            raise UsersFileError(f"{str(self.path)!r} is not a PhuSong users file")
        if data.get("version") != FORMAT_VERSION:
            raise UsersFileError(
                f"users file {str(self.path)!r} has version {data.get('version')!r}; "
                f"this PhuSong reads version {FORMAT_VERSION}"
            )
        records: dict[str, dict[str, Any]] = data["users"]
        for name, record in records.items():
            self._to_user(name, record)  # validates
        return records

    def _write(self, records: dict[str, dict[str, Any]]) -> None:
        payload = {"format": FORMAT, "version": FORMAT_VERSION, "users": dict(sorted(records.items()))}
        write_private_atomic(self.path, (json.dumps(payload, indent=1, ensure_ascii=False) + "\n").encode())

    def _to_user(self, name: str, record: Any) -> User:
        where = f"users file {str(self.path)!r}, user {name!r}"
        if not isinstance(record, dict) or not str(record.get("hash", "")).startswith("$argon2"):
            raise UsersFileError(f"{where}: not an account record with an argon2 hash")
        try:
            return User(
                name=name,
                role=parse_role(str(record.get("role"))),
                operator=record.get("operator"),
                locked_until=_parse_time(record.get("locked_until"), where),
                failed_attempts=int(record.get("failed_attempts", 0)),
            )
        except (ParameterError, TypeError, ValueError) as exc:
            raise UsersFileError(f"{where}: {exc}") from None

    # ------------------------------------------------------------ accounts

    def list_users(self) -> list[User]:
        """Every account, sorted by name (no hashes)."""
        return [self._to_user(name, rec) for name, rec in sorted(self._read().items())]

    def get(self, name: str) -> User:
        """The account ``name``.

        Raises
        ------
        UnknownUserError
            When there is no such account.
        """
        key = normalize_user_name(name)
        record = self._read().get(key)
        if record is None:
            raise UnknownUserError(f"no user {key!r} in {str(self.path)!r}")
        return self._to_user(key, record)

    def add(
        self,
        name: str,
        role: Role | str,
        password: str,
        operator: str | None = None,
        now: datetime | None = None,
    ) -> User:
        """Create an account.

        Raises
        ------
        UserExistsError
            When the name is taken (case-insensitively).
        ParameterError
            On a bad name, role, operator (required for a partner, refused for the others) or password.
        """
        user = User(name=name, role=parse_role(role), operator=operator)
        check_password(password)
        digest = self.hasher.hash(password)
        when = _iso(as_utc(now))
        with flocked(self.lock_path):
            records = self._read()
            if user.name in records:
                raise UserExistsError(f"user {user.name!r} already exists in {str(self.path)!r}")
            records[user.name] = {
                "role": user.role.value,
                "operator": user.operator,
                "hash": digest,
                "failed_attempts": 0,
                "locked_until": None,
                "created": when,
                "password_changed": when,
            }
            self._write(records)
        return user

    def remove(self, name: str) -> None:
        """Delete an account (its sessions end on their next check, see :mod:`auth.sessions`).

        Raises
        ------
        UnknownUserError
            When there is no such account.
        """
        key = normalize_user_name(name)
        with flocked(self.lock_path):
            records = self._read()
            if key not in records:
                raise UnknownUserError(f"no user {key!r} in {str(self.path)!r}")
            del records[key]
            self._write(records)

    def set_password(self, name: str, password: str, now: datetime | None = None) -> User:
        """Replace an account's password; also clears its failed attempts and any lock.

        Raises
        ------
        UnknownUserError, ParameterError
        """
        key = normalize_user_name(name)
        check_password(password)
        digest = self.hasher.hash(password)
        with flocked(self.lock_path):
            records = self._read()
            if key not in records:
                raise UnknownUserError(f"no user {key!r} in {str(self.path)!r}")
            records[key].update(
                hash=digest, failed_attempts=0, locked_until=None, password_changed=_iso(as_utc(now))
            )
            self._write(records)
            return self._to_user(key, records[key])

    def unlock(self, name: str) -> User:
        """Clear an account's lock and failed attempts (an admin's action).

        Raises
        ------
        UnknownUserError
        """
        key = normalize_user_name(name)
        with flocked(self.lock_path):
            records = self._read()
            if key not in records:
                raise UnknownUserError(f"no user {key!r} in {str(self.path)!r}")
            records[key].update(failed_attempts=0, locked_until=None)
            self._write(records)
            return self._to_user(key, records[key])

    # ------------------------------------------------------------ sign-in

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(digest, password))
        except VerificationError:
            return False
        except InvalidHashError:
            log.error("users file %s holds a damaged password hash", self.path)
            return False

    def _dummy_verify(self, password: str) -> None:
        """Spend the time a real verification takes, for names that do not exist."""
        key = _hasher_key(self.hasher)
        if key not in _DUMMY_HASHES:
            _DUMMY_HASHES[key] = self.hasher.hash(secrets.token_urlsafe(24))
        self._verify(_DUMMY_HASHES[key], password)

    def authenticate(self, name: str, password: str, now: datetime | None = None) -> AuthResult:
        """Check a sign-in attempt and count it.

        An unknown name takes the same time as a wrong password (a verification against a dummy
        hash) and gives the same outcome. A wrong password counts a failure; the ``max_failures``-th
        locks the account for ``lock_minutes`` (and the count starts again). A locked account is
        refused even with the right password until the lock ends. Success resets the count and
        re-hashes the password when the hasher's parameters changed.

        Parameters
        ----------
        name, password : str
            What the user typed.
        now : datetime, optional
            Aware time of the attempt (default: the current time); tests inject it.

        Returns
        -------
        AuthResult
        """
        when = as_utc(now)
        try:
            key = normalize_user_name(name)
        except ParameterError:
            key = ""
        record = self._read().get(key) if key else None
        if record is None or not isinstance(password, str):
            self._dummy_verify(password if isinstance(password, str) else "")
            return AuthResult(AuthOutcome.WRONG)
        verified_hash = str(record["hash"])
        ok = self._verify(verified_hash, password)  # slow: outside the lock
        with flocked(self.lock_path):
            records = self._read()
            record = records.get(key)
            if record is None:  # removed meanwhile
                return AuthResult(AuthOutcome.WRONG)
            if record["hash"] != verified_hash:  # password changed meanwhile
                ok = self._verify(str(record["hash"]), password)
            user = self._to_user(key, record)
            if user.locked_until is not None and when < user.locked_until:
                return AuthResult(AuthOutcome.LOCKED, locked_until=user.locked_until)
            changed = user.locked_until is not None  # an ended lock is cleared
            record["locked_until"] = None
            if ok:
                changed |= user.failed_attempts != 0
                record["failed_attempts"] = 0
                if self.hasher.check_needs_rehash(str(record["hash"])):
                    record["hash"] = self.hasher.hash(password)
                    changed = True
                if changed:
                    self._write(records)
                return AuthResult(AuthOutcome.OK, user=replace(user, locked_until=None, failed_attempts=0))
            failures = user.failed_attempts + 1
            if failures >= self.max_failures:
                until = when + timedelta(minutes=self.lock_minutes)
                record.update(failed_attempts=0, locked_until=_iso(until))
                self._write(records)
                log.warning("account %s locked until %s after %d failed sign-ins", key, _iso(until), failures)
                return AuthResult(AuthOutcome.JUST_LOCKED, locked_until=until)
            record["failed_attempts"] = failures
            self._write(records)
            return AuthResult(AuthOutcome.WRONG)
