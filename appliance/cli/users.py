"""``clinicbox user add|passwd|list|hash-password``: staff accounts for the web UI."""

from __future__ import annotations

import argparse
import getpass
import sys

from appliance.cli import context
from appliance.store.users import ROLES, hash_password


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    u = sub.add_parser("user", help="web UI accounts: add, passwd, list")
    usub = u.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    p = usub.add_parser("add", help="add a user (prints a generated password unless --password-stdin)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--name", default="", help="display name")
    p.add_argument("--language", default="en", help="UI language (en, es, pl, tr, ko, zh)")
    p.add_argument("--station", default=None, help="the station this user works at")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_add)
    p = usub.add_parser("passwd", help="set a new password (generated unless --password-stdin)")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_passwd)
    p = usub.add_parser("list", help="list users and roles")
    p.set_defaults(func=cmd_list)
    p = usub.add_parser(
        "hash-password", help="print a password's hash for a provisioning bundle's [manager] (reads standard input)"
    )
    p.set_defaults(func=cmd_hash_password, password_stdin=True)


def _password(args: argparse.Namespace) -> str | None:
    if not args.password_stdin:
        return None
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\n")


def cmd_add(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    repos = context.repos(cfg, context.open_store(cfg))
    given = _password(args)
    password = repos.users.add(args.username, args.role, context.actor(), given, args.name, args.language, args.station)
    print(f"added {args.username} ({args.role})")
    if given is None:
        print(f"password: {password}   (they must change it at first login)")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    repos = context.repos(cfg, context.open_store(cfg))
    given = _password(args)
    password = repos.users.set_password(args.username, given, context.actor())
    print(f"password changed for {args.username}")
    if given is None:
        print(f"password: {password}   (they must change it at next login)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    repos = context.repos(cfg, context.open_store(cfg))
    users = repos.users.list()
    if not users:
        print("no users yet; add one with: clinicbox user add NAME --role manager")
    for u in users:
        flags = " ".join(f for f, on in (("disabled", u.disabled), ("locked", bool(u.locked_until))) if on)
        print(
            f"{u.username:<20} {u.role:<11} {u.display_name:<24} {u.last_login_at or 'never logged in'} {flags}".rstrip()
        )
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    """The argon2id hash a bundle carries instead of a clear password (no config or store needed)."""
    password = _password(args) or ""
    print(hash_password(password))
    return 0
