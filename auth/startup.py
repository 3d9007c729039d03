"""How the app may start: demo mode on localhost, secure mode with sign-in, or not at all.

The rule (issue 13, docs/ACCESS.md):

* a users file exists -> :class:`SecureMode`: every page behind sign-in, whatever the address;
* no users file, served on localhost (``127.0.0.1``, ``::1``, ``localhost``, or no address given,
  which then must be bound to ``127.0.0.1``) -> :class:`DemoMode`: every page open, with a banner;
* no users file, served on any other address (``0.0.0.0``, a LAN address, a host name) ->
  :class:`Refusal`: the app does not start, and the message says how to create the first admin.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from auth.roles import Role
from auth.users import User

__all__ = [
    "DEMO_BANNER",
    "DEMO_USER",
    "LOCALHOST_NAMES",
    "DemoMode",
    "SecureMode",
    "Refusal",
    "StartupMode",
    "is_localhost",
    "startup_mode",
]

#: The stand-in user of demo mode: every page is open.
DEMO_USER = User(name="demo", role=Role.ADMIN)

#: Address names that count as localhost besides loopback IP addresses.
LOCALHOST_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})

DEMO_BANNER = (
    "DEMO MODE: no users file, so every page is open and the app only listens on this computer. "
    "Create the first admin with `python -m analysis users add NAME --role admin` to turn on sign-in."
)


@dataclass(frozen=True)
class DemoMode:
    """No users file, localhost only: every page open, a banner on every page.

    Parameters
    ----------
    bind_address : str
        The address the server must listen on (``127.0.0.1`` when none was given).
    users_path : Path
        Where the users file would be.
    banner : str
        Text of the banner shown on every page.
    """

    bind_address: str
    users_path: Path
    banner: str = DEMO_BANNER


@dataclass(frozen=True)
class SecureMode:
    """A users file exists: sign-in required, pages and actions by role.

    Parameters
    ----------
    users_path : Path
        The users file.
    """

    users_path: Path


@dataclass(frozen=True)
class Refusal:
    """The app must not start; ``message`` says why and what to do.

    Parameters
    ----------
    message : str
        For the operator starting the app (printed, then exit non-zero).
    """

    message: str


StartupMode = DemoMode | SecureMode | Refusal


def is_localhost(address: str) -> bool:
    """Whether ``address`` (a host name or an IP, IPv6 possibly in brackets) is this computer only."""
    text = address.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text in LOCALHOST_NAMES:
        return True
    try:
        return ipaddress.ip_address(text.split("%")[0]).is_loopback
    except ValueError:
        return False


def startup_mode(users_path: Path | str, server_address: str | None) -> StartupMode:
    """Decide how the app starts (pure but for one look at whether ``users_path`` exists).

    Parameters
    ----------
    users_path : Path
        The users file (:func:`auth.config.users_path`).
    server_address : str or None
        The address the server is asked to listen on (Streamlit's ``server.address``); None or ""
        when not set (Streamlit would then listen on every interface, so demo mode binds
        ``127.0.0.1`` instead).

    Returns
    -------
    DemoMode, SecureMode or Refusal
    """
    path = Path(users_path)
    if path.is_dir():
        return Refusal(
            f"the users file {str(path)!r} is a folder; point PHUSONG_USERS at a file "
            "(e.g. ~/.config/phusong/users.json)"
        )
    if path.exists():
        return SecureMode(users_path=path)
    address = (server_address or "").strip()
    if not address:
        return DemoMode(bind_address="127.0.0.1", users_path=path)
    if is_localhost(address):
        return DemoMode(bind_address=address, users_path=path)
    return Refusal(
        f"no users file at {str(path)!r}, and the app is asked to listen on {address!r}, which other "
        "computers can reach: without accounts every page would be open to them, so PhuSong does "
        "not start. Create the first admin account, then start again:\n"
        f"    PHUSONG_USERS={path} python -m analysis users add NAME --role admin\n"
        "or serve on this computer only (demo mode): --server.address 127.0.0.1"
    )
