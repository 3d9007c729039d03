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

import streamlit as st

from auth.audit import AuditEvent, AuditLog
from auth.config import AuthSettings, audit_path, load_settings, users_path
from auth.roles import Permission, can_open_page, operator_filter
from auth.roles import require as _require
from auth.sessions import Session, is_expired, touch
from auth.signin import expire, refresh
from auth.startup import DEMO_USER, DemoMode, Refusal, SecureMode, startup_mode
from auth.users import User, UserStore
from geo.errors import NotPermittedError

__all__ = [
    "SESSION_KEY",
    "audit_log",
    "current_user",
    "is_demo",
    "mode",
    "partner_operator",
    "record_download",
    "require",
    "require_page",
    "settings",
    "user_store",
]

SESSION_KEY = "auth_session"


@st.cache_resource(show_spinner=False)
def settings() -> AuthSettings:
    """Idle time, lock-out and argon2 settings (``auth.toml`` and environment; read once)."""
    return load_settings()


def mode() -> DemoMode | SecureMode | Refusal:
    """How the app runs, from the users file and the address the server listens on."""
    return startup_mode(users_path(), str(st.get_option("server.address") or ""))


def is_demo() -> bool:
    """True in demo mode (no users file)."""
    return isinstance(mode(), DemoMode)


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
        del st.session_state[SESSION_KEY]
        return None
    fresh = refresh(session, user_store())
    if fresh is None:  # the account was removed
        del st.session_state[SESSION_KEY]
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
        _refused(user, f"page {page}")
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
