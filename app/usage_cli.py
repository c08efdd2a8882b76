"""`codegen-bot usage`: tasks, answers, tokens and cost by model and by channel, with budgets left."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any


def add_cli(sub: Any) -> None:
    """Register the `usage` subcommand on ``sub`` (argparse subparsers)."""
    usage = sub.add_parser("usage", help="tasks, tokens and cost by model and channel, and the budget left")
    usage.add_argument("--days", type=_days, default=7, help="how far back (default 7)")
    usage.add_argument("--json", action="store_true", help="print one JSON object")
    usage.set_defaults(func=usage_command)


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 3660:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r} (1 to 3660)")
    return int(text)


def usage_command(args: argparse.Namespace) -> int:
    """Print usage over the last ``--days`` days (every platform), as tables or JSON."""
    from app.leaderboard_cli import _store
    from bot import budget
    from bot.config import Settings
    from bot.controls import usage_table
    from storage.controls import usage
    from storage.leaderboard import channel_settings

    settings = Settings.from_env()
    store = _store()
    try:
        since = datetime.now(UTC) - timedelta(days=args.days)
        models, channels = usage(store, since)
        budgets: dict[str, list[budget.Period]] = {}
        for row in channels:
            platform, _, channel = row.key.partition(":")
            found = channel_settings(store, platform, channel)
            budgets[row.key] = budget.status(store, settings, platform, channel, found, only_capped=True)
    finally:
        store.dispose()
    if args.json:
        print(json.dumps({
            "days": args.days, "since": since.isoformat(), "models": [asdict(m) for m in models],
            "channels": [{**asdict(c), "budget": [_period(p) for p in budgets[c.key]]} for c in channels],
        }, indent=2))
        return 0
    print(f"Usage, last {args.days} days (since {since:%Y-%m-%d %H:%M} UTC)\n")
    print(usage_table(models, channels, args.days, fence=""))
    for key, periods in budgets.items():
        for period in periods:
            print(f"{key}: {budget.ADJECTIVE[period.name]} budget {period.describe()}")
    return 0


def _period(period: Any) -> dict[str, Any]:
    return {"period": period.name, "cap_usd": period.cap, "source": period.source, "spent_usd": round(period.spent, 6),
            "left_usd": None if period.left is None else round(period.left, 6), "resets_at": period.resets_at.isoformat()}
