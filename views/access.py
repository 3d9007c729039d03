"""Who is using the app and what they may do: the pages' side of :mod:`auth`.

Every check runs on the server. A page calls :func:`require_page` first (a deep link to a page the
role lacks shows "not permitted" and nothing of the page runs); an action calls :func:`require`;
downloads call :func:`record_download`. Session-state keys are prefixed ``auth_``.

Without a users file the app runs in demo mode (localhost only, every page open, a banner): the
user is :data:`auth.startup.DEMO_USER`. With one, the user is the signed-in session's, refreshed
from the users file on every run (a removed account or a changed role takes effect at once) and
expired after the idle time.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import streamlit as st

from auth.audit import AuditEvent, AuditLog
from auth.config import (
    AUTH_CONFIG_ENV,
    IDLE_ENV,
    LOCK_ENV,
    MAX_FAILURES_ENV,
    AuthSettings,
    audit_path,
    auth_config_path,
    load_settings,
    users_path,
)
from auth.roles import PAGE_PERMISSION, Permission, can_open_page, operator_filter
from auth.roles import require as _require
from auth.sessions import Session, is_expired, touch
from auth.signin import expire, refresh
from auth.startup import DEMO_USER, DemoMode, Refusal, SecureMode, is_localhost, startup_mode
from auth.users import User, UserStore, as_utc
from geo.errors import NotPermittedError

__all__ = [
    "SESSION_KEY",
    "NOTICE_KEY",
    "KEPT_KEYS",
    "LOCAL_TZ",
    "audit_log",
    "current_user",
    "end_session",
    "is_demo",
    "is_local_address",
    "local_client",
    "local_time",
    "mode",
    "partner_operator",
    "record_download",
    "require",
    "require_page",
    "settings",
    "user_store",
]

SESSION_KEY = "auth_session"
#: Why the last session ended ("expired", "ended", "signed_out"), for the sign-in page to say.
NOTICE_KEY = "auth_notice"
#: Session-state keys that outlive a session (everything else is dropped at sign-out and expiry, so
#: the next person at the keyboard inherits no scenario, setting or table of the previous user).
KEPT_KEYS = frozenset({"app_lang"})
#: Times on the pages are Vietnam's (UTC+7 all year; the audit log itself is in UTC).
LOCAL_TZ = timezone(timedelta(hours=7), "UTC+7")


@st.cache_resource(show_spinner=False, max_entries=4)
def _settings(key: tuple[str, ...]) -> AuthSettings:
    return load_settings()


def settings() -> AuthSettings:
    """Idle time, lock-out and argon2 settings (``auth.toml`` and environment).

    Read once per settings file version and environment (cached on the file's path and mtime and
    the ``PHUSONG_*`` variables, so a changed ``auth.toml`` applies at the next run).

    Raises
    ------
    ParameterError
        On an invalid ``auth.toml`` or environment value.
    """
    path = auth_config_path()
    try:
        stamp = str(path.stat().st_mtime_ns)
    except OSError:
        stamp = ""
    env = tuple(os.environ.get(v, "") for v in (AUTH_CONFIG_ENV, IDLE_ENV, MAX_FAILURES_ENV, LOCK_ENV))
    return _settings((str(path), stamp, *env))


def mode() -> DemoMode | SecureMode | Refusal:
    """How the app runs, from the users file and the address the server listens on."""
    return startup_mode(users_path(), str(st.get_option("server.address") or ""))


def is_demo() -> bool:
    """True in demo mode (no users file)."""
    return isinstance(mode(), DemoMode)


def local_client() -> bool:
    """Whether this browser session comes from this computer (the only one demo mode serves).

    The launcher binds demo mode to ``127.0.0.1``; this check also holds when the app was started
    some other way (``streamlit run app.py`` listens on every interface).
    """
    return is_local_address(st.context.ip_address)


def is_local_address(address: object) -> bool:
    """Whether a client address (``st.context.ip_address``) is this computer.

    None is: Streamlit gives None for ``127.0.0.1`` and ``::1``, and outside a browser session
    (scripts, AppTest, where it is not even a string).
    """
    return not isinstance(address, str) or is_localhost(address)


def local_time(when: datetime, fmt: str = "%H:%M") -> str:
    """``when`` (aware) in Vietnam time, formatted (default ``HH:MM``)."""
    return as_utc(when).astimezone(LOCAL_TZ).strftime(fmt)


def end_session(notice: str | None = None) -> None:
    """Drop the session and everything the user left in session state (but the language).

    ``notice`` says why, for the sign-in page ("expired", "ended" or "signed_out").
    """
    for key in list(st.session_state):
        if key not in KEPT_KEYS:
            del st.session_state[key]
    if notice:
        st.session_state[NOTICE_KEY] = notice


def user_store() -> UserStore:
    """The users file."""
    s = settings()
    return UserStore(
        users_path(), hasher=s.hasher(), max_failures=s.max_failures, lock_minutes=s.lock_minutes
    )


def audit_log() -> AuditLog:
    """The audit log."""
    return AuditLog(audit_path())


def current_user() -> User | None:
    """The user of this browser session, or None when nobody is signed in (or the session expired).

    Demo mode: :data:`auth.startup.DEMO_USER`. Otherwise the session is refreshed from the users
    file and touched; an idle session past the configured time is ended (audited).
    """
    current = mode()
    if isinstance(current, DemoMode):
        return DEMO_USER
    if isinstance(current, Refusal):
        return None
    session: Session | None = st.session_state.get(SESSION_KEY)
    if session is None:
        return None
    if is_expired(session, idle_minutes=settings().idle_minutes):
        expire(session, audit_log())
        end_session("expired")
        return None
    fresh = refresh(session, user_store())
    if fresh is None:  # the account was removed
        end_session("ended")
        return None
    st.session_state[SESSION_KEY] = touch(fresh)
    return fresh.user


def partner_operator() -> str | None:
    """The operator a partner's data is limited to (None for every other role)."""
    return operator_filter(current_user())


def _refused(user: User | None, what: str, permission: str = "") -> None:
    audit_log().append(AuditEvent.REFUSED, user, {"what": what, "permission": permission})


def require(permission: Permission) -> User | None:
    """The current user if they have ``permission``; otherwise the refusal is audited and raised.

    Raises
    ------
    NotPermittedError
        The role lacks the permission (pages show its message; nothing of the action runs).
    """
    user = current_user()
    try:
        _require(user, permission)
    except NotPermittedError as exc:
        _refused(user, str(permission), exc.permission)
        raise
    return user


def require_page(page: str, message: str) -> User | None:
    """Stop the page unless the current user may open it (``message``: the "not permitted" text).

    Call first thing in a page's ``render``: on refusal the page shows ``message``, the refusal is
    audited, and :func:`streamlit.stop` ends the run, so nothing of the page runs.
    """
    user = current_user()
    if not can_open_page(user, page):
        _refused(user, f"page {page}", str(PAGE_PERMISSION.get(page, "")))
        st.error(message)
        st.stop()
    return user


def record_download(layer: str, fmt: str, rows: int, filters: dict[str, object] | None = None) -> None:
    """Audit one download (who, what layer, which filters, how many rows).

    Raises
    ------
    NotPermittedError
        Nobody is signed in (a download is never served anonymously).
    """
    user = current_user()
    if user is None:
        raise NotPermittedError("sign in to download", str(Permission.DOWNLOAD))
    audit_log().download(user, layer, fmt, rows, dict(filters or {}))
