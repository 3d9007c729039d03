"""``python -m analysis users ACTION ...``: manage the local accounts (docs/ACCESS.md).

::

    users add NAME --role ROLE [--operator OPERATOR] [--password-stdin]
    users list
    users remove NAME
    users set-password NAME [--password-stdin]

The users file is ``$PHUSONG_USERS`` (default ``~/.config/phusong/users.json``), or ``--users FILE``.
A password is asked twice at a prompt that does not echo, or read from the first line of standard
input with ``--password-stdin`` (for scripts); there is no way to give it on the command line,
where other users could see it. Every change is written to the audit log as ``cli:<login>``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import ParameterError, UserExistsError

if TYPE_CHECKING:  # imported on use: listing the CLI's commands stays fast
    from auth.users import UserStore

NAME = "users"
HELP = "manage sign-in accounts: add, list, remove, set-password"

#: Attempts at typing a matching password twice at the prompt.
PROMPT_ATTEMPTS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the actions ``add``, ``list``, ``remove`` and ``set-password``."""
    parser.add_argument(
        "--users",
        metavar="FILE",
        type=Path,
        default=None,
        help="users file (default: $PHUSONG_USERS, else ~/.config/phusong/users.json)",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="create an account", description="Create an account.")
    add.add_argument("name", metavar="NAME", help="account name (letters, digits, . _ @ -)")
    add.add_argument("--role", required=True, help="admin, planner, partner or leadership")
    add.add_argument(
        "--operator",
        default=None,
        help="the partner's operator (required for --role partner, refused otherwise)",
    )
    _password_source(add)

    actions.add_parser("list", help="list the accounts", description="List the accounts (never hashes).")

    remove = actions.add_parser("remove", help="delete an account", description="Delete an account.")
    remove.add_argument("name", metavar="NAME")

    setpw = actions.add_parser(
        "set-password",
        help="set a new password (also unlocks the account)",
        description="Set a new password; also clears failed sign-ins and any lock.",
    )
    setpw.add_argument("name", metavar="NAME")
    _password_source(setpw)


def _password_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of a prompt",
    )


def _read_password(args: argparse.Namespace) -> str:
    """The new password: first line of stdin, or typed twice at a prompt."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise ParameterError("--password-stdin: standard input holds no password")
        return password
    for _ in range(PROMPT_ATTEMPTS):
        first = getpass.getpass("New password: ")
        if first == getpass.getpass("Repeat password: "):
            return first
        print("the two passwords differ; try again", file=sys.stderr)
    raise ParameterError("the passwords typed did not match; nothing changed")


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (container without a passwd entry)
        return "cli:unknown"


def run(args: argparse.Namespace) -> int:
    """Run one action on the users file."""
    from auth.audit import AuditEvent, AuditLog
    from auth.config import USERS_ENV, audit_path, load_settings, users_path
    from auth.roles import Role, check_operator, parse_role
    from auth.users import UserStore, normalize_user_name, utc_now

    env = dict(os.environ)
    if args.users is not None:  # as if PHUSONG_USERS: audit log and auth.toml default beside it
        env[USERS_ENV] = str(args.users)
    path = users_path(env)
    settings = load_settings(env)
    store = UserStore(
        path, hasher=settings.hasher(), max_failures=settings.max_failures, lock_minutes=settings.lock_minutes
    )
    audit = AuditLog(audit_path(env))

    if args.action == "list":
        return _list(store)
    if args.action == "remove":
        user = store.get(args.name)
        store.remove(user.name)
        audit.append(AuditEvent.USER_REMOVED, _who(), {"account": user.name, "account_role": user.role})
        print(f"removed {user.name} ({user.role.value}) from {path}")
        return 0
    if args.action == "add":
        role = parse_role(args.role)
        if role is Role.PARTNER and not args.operator:
            raise ParameterError(f"a partner account needs --operator: {_operators()}")
        if role is not Role.PARTNER and args.operator:
            raise ParameterError(f"--operator is only for --role partner, not {role.value}")
        operator = check_operator(args.operator) if args.operator else None
        name = normalize_user_name(args.name)
        if name in {u.name for u in store.list_users()}:  # before asking for a password
            raise UserExistsError(f"user {name!r} already exists in {str(path)!r}")
        user = store.add(args.name, role, _read_password(args), operator=operator)
        details = {"account": user.name, "account_role": user.role, "operator": user.operator}
        audit.append(AuditEvent.USER_ADDED, _who(), details)
        print(
            f"added {user.name} ({user.role.value}{', ' + user.operator if user.operator else ''}) to {path}"
        )
        return 0
    if args.action == "set-password":
        store.get(args.name)  # unknown user: refused before asking for a password
        user = store.set_password(args.name, _read_password(args), now=utc_now())
        audit.append(AuditEvent.PASSWORD_SET, _who(), {"account": user.name})
        print(f"new password set for {user.name}; failed sign-ins and any lock cleared")
        return 0
    raise ParameterError(f"unknown action {args.action!r}")  # argparse allows only the four


def _operators() -> str:
    from geo.schema import Operator

    return "one of " + ", ".join(o.value for o in Operator)


def _list(store: UserStore) -> int:
    from auth.users import utc_now

    if not store.exists():
        print(f"no users file at {store.path}: the app runs in demo mode on localhost only")
        return 0
    users = store.list_users()
    if not users:
        print(f"{store.path}: no accounts")
        return 0
    now = utc_now()
    print(f"{'NAME':<24} {'ROLE':<11} {'OPERATOR':<13} LOCKED UNTIL (UTC)")
    for user in users:
        locked = f"{user.locked_until:%Y-%m-%d %H:%M}" if user.is_locked(now) and user.locked_until else "-"
        print(f"{user.name:<24} {user.role.value:<11} {user.operator or '-':<13} {locked}")
    return 0
