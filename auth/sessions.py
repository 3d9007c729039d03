"""Session bookkeeping, pure: when a session started, when it was last used, whether it expired.

The app keeps one :class:`Session` per browser session (server side, in Streamlit's session
state; nothing about it is sent to the browser). On every rerun it checks :func:`is_expired` and
otherwise :func:`touch`-es the session; an expired one is signed out (audit event
``session_expired``) and the user asked to sign in again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from auth.users import User, as_utc
from geo.errors import ParameterError

__all__ = ["DEFAULT_IDLE_MINUTES", "Session", "new_session", "is_expired", "touch", "idle_for"]

#: Minutes without any interaction after which a session ends (auth.toml / PHUSONG_IDLE_MINUTES).
DEFAULT_IDLE_MINUTES = 30


@dataclass(frozen=True)
class Session:
    """A signed-in user's session.

    Parameters
    ----------
    user : User
        Who is signed in (no password, no hash).
    started : datetime
        UTC time of the sign-in.
    last_seen : datetime
        UTC time of the latest interaction.
    """

    user: User
    started: datetime
    last_seen: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "started", as_utc(self.started))
        object.__setattr__(self, "last_seen", as_utc(self.last_seen))
        if self.last_seen < self.started:
            raise ParameterError("a session cannot be last seen before it started")


def new_session(user: User, now: datetime | None = None) -> Session:
    """A session that starts (and was last seen) at ``now`` (default: the current time)."""
    when = as_utc(now)
    return Session(user=user, started=when, last_seen=when)


def idle_for(session: Session, now: datetime | None = None) -> timedelta:
    """How long the session has been idle at ``now`` (zero if ``now`` is earlier than last seen)."""
    return max(as_utc(now) - session.last_seen, timedelta(0))


def is_expired(
    session: Session, now: datetime | None = None, idle_minutes: float = DEFAULT_IDLE_MINUTES
) -> bool:
    """Whether ``session`` has been idle for ``idle_minutes`` or longer at ``now``.

    Raises
    ------
    ParameterError
        When ``idle_minutes`` is not positive.
    """
    if idle_minutes <= 0:
        raise ParameterError(f"idle_minutes must be positive, not {idle_minutes}")
    return idle_for(session, now) >= timedelta(minutes=idle_minutes)


def touch(session: Session, now: datetime | None = None) -> Session:
    """The session last seen at ``now`` (never moved backwards); the session itself is unchanged."""
    return replace(session, last_seen=max(session.last_seen, as_utc(now)))
