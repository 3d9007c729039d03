"""Start the app: ``python -m cli.serve [--port PORT] [--address ADDRESS] [-- STREAMLIT OPTIONS]``.

What ``make run`` calls (``make run ADDRESS=0.0.0.0 PORT=8501``). Before Streamlit starts, the
users file and the address decide how the app may run (:func:`auth.startup.startup_mode`,
docs/ACCESS.md):

* no users file, no address or a localhost one: demo mode, bound to ``127.0.0.1`` (or the
  localhost address given), so a fresh clone's ``make run`` stays one command and no other
  computer can reach the open pages;
* a users file: sign-in required, served on the address given (Streamlit's default, every
  interface, when none);
* no users file and any other address: refused, exit 2, with the command that creates the first
  admin on stderr.

The sign-in settings (``auth.toml``, ``PHUSONG_*``) and the users file are checked too, so a typo
or a damaged file stops the start rather than the first sign-in.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from auth.config import load_settings, users_path
from auth.startup import DemoMode, Refusal, SecureMode, StartupMode, startup_mode
from auth.users import UserStore
from geo.errors import ParameterError, PhuSongError

APP = Path(__file__).resolve().parent.parent / "app.py"
EXIT_REFUSED = 2
DEFAULT_PORT = 8501
#: Options the launcher sets itself (the address must come from --address, where it is checked).
_RESERVED = ("--server.address", "--server.port")


def streamlit_command(
    mode: DemoMode | SecureMode,
    *,
    address: str = "",
    port: int = DEFAULT_PORT,
    extra: Sequence[str] = (),
    python: str = sys.executable,
    app: Path = APP,
) -> list[str]:
    """The command line that runs the app with Streamlit in ``mode``.

    Parameters
    ----------
    mode : DemoMode or SecureMode
        From :func:`auth.startup.startup_mode`.
    address : str
        The address asked for (``--address``); demo mode uses its own ``bind_address`` instead.
    port : int
        TCP port.
    extra : sequence of str
        More Streamlit options, passed on as given (not ``--server.address`` / ``--server.port``).

    Raises
    ------
    ParameterError
        When ``extra`` sets the address or the port.
    """
    for option in extra:
        if option.split("=")[0] in _RESERVED:
            raise ParameterError(f"{option.split('=')[0]} is set by the launcher: use --address / --port")
    command = [python, "-m", "streamlit", "run", str(app)]
    command += ["--server.port", str(int(port)), "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false"]
    bind = mode.bind_address if isinstance(mode, DemoMode) else address.strip()
    if bind:
        command += ["--server.address", bind]
    return command + list(extra)


def decide(address: str, users: Path | None = None) -> StartupMode:
    """How the app may start on ``address`` with the users file (default :func:`auth.config.users_path`)."""
    return startup_mode(users if users is not None else users_path(), address or None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cli.serve",
        description="Start the PhuSong app (demo mode on localhost when there is no users file).",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--address",
        default="",
        help="address to listen on (default: 127.0.0.1 in demo mode, every interface with accounts)",
    )
    parser.add_argument("streamlit", nargs=argparse.REMAINDER, help="-- then more Streamlit options")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    execute: Callable[[str, list[str]], object] = os.execv,
) -> int:
    """Check, then replace this process with Streamlit (``execute``: injectable for tests).

    Returns
    -------
    int
        2 when the app may not start (message on stderr); otherwise ``execute``'s return, which
        never comes with :func:`os.execv`.
    """
    args = _parser().parse_args(argv)
    extra = [a for a in args.streamlit if a != "--"]
    mode = decide(args.address)
    if isinstance(mode, Refusal):
        print(f"phusong: {mode.message}", file=sys.stderr)
        print(
            "phusong: with make, `make run` without ADDRESS serves demo mode on this computer",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    try:
        settings = load_settings()
        if isinstance(mode, SecureMode):  # a damaged users file: say so now, not at the first sign-in
            UserStore(mode.users_path, hasher=settings.hasher()).list_users()
        command = streamlit_command(mode, address=args.address, port=args.port, extra=extra)
    except PhuSongError as exc:
        print(f"phusong: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if isinstance(mode, DemoMode):
        print(
            f"phusong: demo mode (no users file at {mode.users_path}): every page open, "
            f"listening on {mode.bind_address} only",
            file=sys.stderr,
        )
    else:
        print(f"phusong: sign-in required (users file {mode.users_path})", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    execute(command[0], command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
