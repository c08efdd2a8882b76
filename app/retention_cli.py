"""`codegen-bot expire` and `codegen-bot forget --user ID`: retention and deletion by an admin."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from typing import Any


def add_cli(sub: Any) -> None:
    """Register the `expire` and `forget` subcommands on ``sub`` (argparse subparsers)."""
    expire = sub.add_parser("expire", help="delete the contents of tasks older than CODEGEN_RETENTION_DAYS now")
    expire.add_argument("--days", type=_days, default=None,
                        help="this many days instead of CODEGEN_RETENTION_DAYS (default 90)")
    expire.add_argument("--json", action="store_true", help="print one JSON object")
    expire.set_defaults(func=expire_command)
    forget = sub.add_parser("forget", help="delete one user's tasks and ratings (and name them forgotten)")
    forget.add_argument("--user", required=True, type=_user, help="the platform user id (Slack U…, a Discord id)")
    forget.add_argument("--platform", choices=["slack", "discord", "console"], default=None,
                        help="only on this platform (default: every platform)")
    forget.add_argument("--json", action="store_true", help="print one JSON object")
    forget.set_defaults(func=forget_command)


def _days(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r} (1 or more)")
    return int(text)


def _user(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty user id")
    return text.strip()


def expire_command(args: argparse.Namespace) -> int:
    """Expire now (what the daily job does); repeatable."""
    from dataclasses import replace

    from app.leaderboard_cli import _store
    from bot.config import Settings
    from bot.retention import expire_old

    settings = Settings.from_env()
    if args.days is not None:
        settings = replace(settings, retention_days=args.days)
    store = _store()
    try:
        expired = asyncio.run(expire_old(store, settings)) if settings.retention_days else 0
    finally:
        store.dispose()
    if args.json:
        print(json.dumps({"retention_days": settings.retention_days, "expired_tasks": expired}))
    elif not settings.retention_days:
        print("CODEGEN_RETENTION_DAYS is 0: tasks are kept; nothing was deleted.")
    else:
        print(f"Deleted the contents of {expired} task(s) older than {settings.retention_days} days.")
    return 0


def forget_command(args: argparse.Namespace) -> int:
    """Forget one user (every platform, or ``--platform``); repeatable."""
    from app.leaderboard_cli import _store
    from bot.retention import describe
    from storage.retention import forget

    store = _store()
    try:
        done = forget(store, args.user, args.platform)
    finally:
        store.dispose()
    if args.json:
        print(json.dumps({"user": args.user, "platform": args.platform, **asdict(done)}))
    else:
        print(f"Forgot {args.user} ({args.platform or 'every platform'}): deleted {describe(done)}.")
    return 0
