"""Sign-in and sign-out with their audit entries: what the sign-in page will call.

:func:`sign_in` authenticates against the users file, writes ``sign_in`` / ``sign_in_failed``
(and ``account_locked`` when this failure locked the account) to the audit log, and returns a new
:class:`~auth.sessions.Session` or raises. The password is never written anywhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from auth.audit import AuditEvent, AuditLog
from auth.roles import Role
from auth.sessions import Session, new_session
from auth.users import AuthOutcome, User, UserStore, as_utc
from geo.errors import AccountLockedError, AuthenticationError, ParameterError, UnknownUserError

__all__ = ["WRONG_CREDENTIALS", "UNKNOWN_NAME", "sign_in", "sign_out", "expire", "refresh"]

#: The one message for an unknown name and a wrong password.
WRONG_CREDENTIALS = "wrong user name or password"

#: Who a failed sign-in with a name that is no account is recorded as: what was typed is not
#: written, since people type their password into the name field now and then.
UNKNOWN_NAME = "(unknown)"


def _account(store: UserStore, name: str) -> User | None:
    try:
        return store.get(name)
    except (UnknownUserError, ParameterError):
        return None


def sign_in(
    store: UserStore, audit: AuditLog, name: str, password: str, now: datetime | None = None
) -> Session:
    """Authenticate ``name`` / ``password`` and open a session.

    Parameters
    ----------
    store : UserStore
        The users file.
    audit : AuditLog
        Where the attempt is recorded.
    name, password : str
        What the user typed (the password is only verified, never kept).
    now : datetime, optional
        Aware time of the attempt (default: the current time).

    Returns
    -------
    Session

    Raises
    ------
    AccountLockedError
        The account is locked (``.until`` says until when), also when this attempt locked it.
    AuthenticationError
        Unknown name or wrong password (one message for both).
    """
    when = as_utc(now)
    result = store.authenticate(name, password, when)
    if result.ok and result.user is not None:
        audit.append(AuditEvent.SIGN_IN, result.user, now=when)
        return new_session(result.user, when)
    account = _account(store, name)
    who: User | str = account if account is not None else UNKNOWN_NAME
    if result.outcome is AuthOutcome.JUST_LOCKED and result.locked_until is not None:
        audit.append(AuditEvent.SIGN_IN_FAILED, who, {"reason": "wrong password"}, now=when)
        details = {"until": result.locked_until, "after_failures": store.max_failures}
        audit.append(AuditEvent.ACCOUNT_LOCKED, who, details, now=when)
        raise AccountLockedError(_locked_message(result.locked_until), until=result.locked_until)
    if result.outcome is AuthOutcome.LOCKED and result.locked_until is not None:
        audit.append(AuditEvent.SIGN_IN_FAILED, who, {"reason": "account locked"}, now=when)
        raise AccountLockedError(_locked_message(result.locked_until), until=result.locked_until)
    reason = "wrong password" if account is not None else "unknown name"
    audit.append(AuditEvent.SIGN_IN_FAILED, who, {"reason": reason}, now=when)
    raise AuthenticationError(WRONG_CREDENTIALS)


def _locked_message(until: datetime) -> str:
    return (
        f"too many failed sign-ins: the account is locked until {until:%Y-%m-%d %H:%M} UTC; "
        "try again then, or ask the data office to reset the password"
    )


def sign_out(session: Session, audit: AuditLog, now: datetime | None = None) -> None:
    """Record a sign-out (the caller drops the session)."""
    audit.append(AuditEvent.SIGN_OUT, session.user, now=now)


def expire(session: Session, audit: AuditLog, now: datetime | None = None) -> None:
    """Record that a session ended for being idle (the caller drops it and asks for sign-in)."""
    audit.append(AuditEvent.SESSION_EXPIRED, session.user, {"last_seen": session.last_seen}, now=now)


def refresh(session: Session, store: UserStore) -> Session | None:
    """The session with its account as the users file holds it now, or None when it is gone.

    Call on every rerun (one small file read): a removed account ends its sessions at once, and a
    changed role or operator applies at once. A lock does not end a running session (the lock is
    about someone guessing the password, not about the user at the keyboard).
    """
    account = _account(store, session.user.name)
    if account is None:
        return None
    fresh = User(account.name, Role(account.role), account.operator)
    return session if fresh == session.user else replace(session, user=fresh)
