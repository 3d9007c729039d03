"""Where the users file and the audit log are, and the sign-in settings (docs/ACCESS.md).

Paths
-----
``PHUSONG_USERS``
    The users file; default ``$XDG_CONFIG_HOME/phusong/users.json``, i.e.
    ``~/.config/phusong/users.json``. Never inside the data package.
``PHUSONG_AUDIT``
    The audit log; default ``audit.jsonl`` beside the users file.
``PHUSONG_AUTH_CONFIG``
    The settings file; default ``auth.toml`` beside the users file (optional).

Settings (defaults, then ``auth.toml``, then environment variables)::

    idle_minutes = 30        # PHUSONG_IDLE_MINUTES: a session ends after this long without use
    max_failures = 5         # PHUSONG_MAX_FAILURES: failed sign-ins that lock an account
    lock_minutes = 15        # PHUSONG_LOCK_MINUTES: how long the lock lasts

    [argon2]                 # password hashing cost (defaults: argon2-cffi's RFC 9106 profile)
    time_cost = 3
    memory_kib = 65536
    parallelism = 4

    [oidc]                   # identity-provider claims -> role (see auth.roles.ClaimMapping)
    roles_claim = "realm_access.roles"
    operator_claim = "operator"
    [oidc.roles]
    "phusong-admin" = "admin"
    [oidc.operators]
    "/partners/viettel" = "Viettel"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher, Type

from auth.roles import ClaimMapping, claim_mapping_from_dict
from auth.sessions import DEFAULT_IDLE_MINUTES
from auth.users import DEFAULT_LOCK_MINUTES, DEFAULT_MAX_FAILURES
from geo.errors import ParameterError

__all__ = [
    "USERS_ENV",
    "AUDIT_ENV",
    "AUTH_CONFIG_ENV",
    "IDLE_ENV",
    "MAX_FAILURES_ENV",
    "LOCK_ENV",
    "AuthSettings",
    "config_dir",
    "users_path",
    "audit_path",
    "auth_config_path",
    "load_settings",
    "settings_from_dict",
]

USERS_ENV = "PHUSONG_USERS"
AUDIT_ENV = "PHUSONG_AUDIT"
AUTH_CONFIG_ENV = "PHUSONG_AUTH_CONFIG"
IDLE_ENV = "PHUSONG_IDLE_MINUTES"
MAX_FAILURES_ENV = "PHUSONG_MAX_FAILURES"
LOCK_ENV = "PHUSONG_LOCK_MINUTES"

#: Accepted ranges: (minimum, maximum) of each setting.
_LIMITS: Mapping[str, tuple[int, int]] = {
    "idle_minutes": (1, 24 * 60),
    "max_failures": (1, 100),
    "lock_minutes": (1, 7 * 24 * 60),
    "time_cost": (1, 20),
    "memory_kib": (19 * 1024, 4 * 1024 * 1024),  # OWASP's floor for argon2id: 19 MiB
    "parallelism": (1, 16),
}

_DEFAULT_HASHER = PasswordHasher()


@dataclass(frozen=True)
class AuthSettings:
    """Sign-in settings.

    Parameters
    ----------
    idle_minutes : int
        A session ends after this many minutes without interaction.
    max_failures : int
        Failed sign-ins in a row that lock an account.
    lock_minutes : int
        How long a lock lasts.
    time_cost, memory_kib, parallelism : int
        argon2id cost parameters for new hashes (older hashes are re-hashed at the next sign-in).
    claims : ClaimMapping
        How identity-provider claims map to a role (used with OIDC sign-in only).
    """

    idle_minutes: int = DEFAULT_IDLE_MINUTES
    max_failures: int = DEFAULT_MAX_FAILURES
    lock_minutes: int = DEFAULT_LOCK_MINUTES
    time_cost: int = _DEFAULT_HASHER.time_cost
    memory_kib: int = _DEFAULT_HASHER.memory_cost
    parallelism: int = _DEFAULT_HASHER.parallelism
    claims: ClaimMapping = field(default_factory=ClaimMapping)

    def __post_init__(self) -> None:
        for name, (lo, hi) in _LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ParameterError(f"{name} = {value!r} is out of range: use a whole number {lo}-{hi}")

    def hasher(self) -> PasswordHasher:
        """An argon2id :class:`~argon2.PasswordHasher` with these cost parameters."""
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/phusong``, else ``~/.config/phusong`` (the user's config folder)."""
    base = _env(env).get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "phusong"


def users_path(env: Mapping[str, str] | None = None) -> Path:
    """The users file: ``$PHUSONG_USERS``, else ``users.json`` in :func:`config_dir`."""
    value = _env(env).get(USERS_ENV, "").strip()
    return Path(value).expanduser() if value else config_dir(env) / "users.json"


def audit_path(env: Mapping[str, str] | None = None) -> Path:
    """The audit log: ``$PHUSONG_AUDIT``, else ``audit.jsonl`` beside the users file."""
    value = _env(env).get(AUDIT_ENV, "").strip()
    return Path(value).expanduser() if value else users_path(env).parent / "audit.jsonl"


def auth_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The settings file: ``$PHUSONG_AUTH_CONFIG``, else ``auth.toml`` beside the users file."""
    value = _env(env).get(AUTH_CONFIG_ENV, "").strip()
    return Path(value).expanduser() if value else users_path(env).parent / "auth.toml"


def settings_from_dict(table: Mapping[str, Any], source: str = "auth.toml") -> AuthSettings:
    """Settings from a parsed ``auth.toml`` (unknown keys are refused, not ignored).

    Raises
    ------
    ParameterError
        On an unknown key or an out-of-range value.
    """
    known = {"idle_minutes", "max_failures", "lock_minutes", "argon2", "oidc"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ParameterError(f"{source}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {
        k: table[k] for k in ("idle_minutes", "max_failures", "lock_minutes") if k in table
    }
    argon = table.get("argon2", {})
    if not isinstance(argon, Mapping):
        raise ParameterError(f"{source}: [argon2] must be a table")
    bad = sorted(set(argon) - {"time_cost", "memory_kib", "parallelism"})
    if bad:
        raise ParameterError(f"{source}: unknown key(s) in [argon2]: {', '.join(bad)}")
    kwargs.update(argon)
    if "oidc" in table:
        if not isinstance(table["oidc"], Mapping):
            raise ParameterError(f"{source}: [oidc] must be a table")
        kwargs["claims"] = claim_mapping_from_dict(table["oidc"], source=f"{source} [oidc]")
    try:
        return AuthSettings(**kwargs)
    except ParameterError as exc:
        raise ParameterError(f"{source}: {exc}") from None


def load_settings(env: Mapping[str, str] | None = None) -> AuthSettings:
    """Defaults, then ``auth.toml`` (if it exists), then ``PHUSONG_IDLE_MINUTES`` /
    ``PHUSONG_MAX_FAILURES`` / ``PHUSONG_LOCK_MINUTES``.

    Raises
    ------
    ParameterError
        On an unreadable or invalid ``auth.toml`` or a bad environment value.
    """
    environ = _env(env)
    path = auth_config_path(environ)
    table: dict[str, Any] = {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if environ.get(AUTH_CONFIG_ENV, "").strip():
            raise ParameterError(f"{AUTH_CONFIG_ENV}={str(path)!r}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"cannot read {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{str(path)!r} is not valid TOML: {exc}") from None
    for key, var in (
        ("idle_minutes", IDLE_ENV),
        ("max_failures", MAX_FAILURES_ENV),
        ("lock_minutes", LOCK_ENV),
    ):
        raw = environ.get(var, "").strip()
        if raw:
            try:
                table[key] = int(raw)
            except ValueError:
                raise ParameterError(f"{var}={raw!r} is not a whole number") from None
    return settings_from_dict(table, source=str(path))
