"""`codegen-bot`: the one command (serve, ask, run, leaderboard, models, export, db, …)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from bot.config import Settings
from bot.roster import RosterError

Command = Callable[[argparse.Namespace], int]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `codegen-bot` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from app.wiring import configure_logging

    configure_logging(getattr(args, "verbose", False))
    command: Command = getattr(args, "func", None) or _serve
    try:
        return command(args)
    except RosterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codegen-bot", description="Compare code-generation models on real tasks.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the bot (Slack/Discord when tokens are set, else the console)")
    serve.add_argument("--adapter", choices=["auto", "slack", "discord", "console"], default="auto",
                       help="which adapter to run (default: every platform whose token is set, else the console)")
    serve.set_defaults(func=_serve)

    ask = sub.add_parser("ask", help="one-shot comparison of a task")
    ask.add_argument("task", help="the coding task")
    ask.add_argument("--models", help="comma-separated contestant ids (default: all available)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(func=_ask)

    models = sub.add_parser("models", help="list contestants and whether they are available")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=_models)

    database = sub.add_parser("db", help="database maintenance")
    database_sub = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    database_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(func=_db_upgrade)

    from adapters.discord.cli import add_discord_commands  # argparse only; discord is imported lazily

    add_discord_commands(sub)

    from adapters.slack.manifest import add_cli as add_slack_manifest  # no slack_bolt import

    add_slack_manifest(sub)

    from app.leaderboard_cli import add_cli as add_leaderboard_commands

    add_leaderboard_commands(sub)

    from app.run_cli import add_cli as add_run_command

    add_run_command(sub)
    return parser


def _settings() -> Settings:
    return Settings.from_env()


def _serve(args: argparse.Namespace) -> int:
    from app.serve import serve
    from app.wiring import run_async

    return run_async(serve(_settings(), getattr(args, "adapter", "auto")))


def _ask(args: argparse.Namespace) -> int:
    from app.wiring import run_async

    return run_async(_ask_async(args))


ASK_USAGE = 'give a coding task, e.g. codegen-bot ask "reverse a string in Python" (--models a,b; --json)'


async def _ask_async(args: argparse.Namespace) -> int:
    from adapters.console import PLATFORM, ConsoleSurface
    from adapters.memory import MemorySurface
    from app.wiring import build_arena, close_arena
    from bot.arena import HELP_WORDS
    from bot.events import TaskRequested, User
    from bot.messages import Message

    if args.task.strip().lower() in HELP_WORDS:  # the core's usage reply is the chat's `/codegen` text
        print(json.dumps({"error": ASK_USAGE}) if args.json else f"error: {ASK_USAGE}",
              file=sys.stdout if args.json else sys.stderr)
        return 2
    arena = build_arena(_settings(), with_sandbox=False)
    problems: list[str] = []

    async def notify(message: Message) -> None:
        problems.append(message.plain())

    wanted = tuple(m.strip() for m in args.models.split(",") if m.strip()) if args.models else None
    event = TaskRequested(platform=PLATFORM, user=User(os.environ.get("USER", "cli"), "cli"),
                          channel="cli", text=args.task, models=wanted, notify=notify)
    try:
        if args.json:
            outcome = await arena.request_task(event, MemorySurface(platform=PLATFORM))
        else:
            surface = ConsoleSurface(interactive=False)
            surface.begin()
            try:
                outcome = await arena.request_task(event, surface)
            finally:
                surface.end()
    finally:
        await close_arena(arena)
    if outcome is None:
        text = "\n".join(problems) or "nothing to do"
        if args.json:
            print(json.dumps({"error": text}))
        else:
            print(text, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(outcome_json(outcome), indent=2, ensure_ascii=False))
    return 0 if any(a.status == "done" for a in outcome.answers) else 1


def outcome_json(outcome) -> dict:  # type: ignore[no-untyped-def]
    """The `ask --json` object: the task and every answer with its measurements."""
    return {
        "task_id": outcome.task.id,
        "task": outcome.task.text,
        "answers": [
            {
                "model": a.contestant_id,
                "name": a.contestant_name,
                "label": a.label,
                "position": a.position,
                "status": a.status,
                "text": a.text,
                "code": a.code,
                "language": a.language,
                "latency_ms": a.latency_ms,
                "ttft_ms": a.ttft_ms,
                "prompt_tokens": a.prompt_tokens,
                "completion_tokens": a.completion_tokens,
                "cost_usd": a.cost_usd,
                "error": a.error,
            }
            for a in outcome.answers
        ],
        "skipped": [{"model": s.contestant.id, "reason": s.reason} for s in outcome.skipped],
    }


def _models(args: argparse.Namespace) -> int:
    from bot.roster import check_availability, load_roster

    settings = _settings()
    roster = load_roster(settings.roster_path)
    rows = check_availability(roster, settings)
    if args.json:
        print(json.dumps([
            {"id": r.contestant.id, "name": r.contestant.name, "model": r.contestant.model,
             "base_url": r.contestant.base_url, "available": r.available, "reason": r.reason}
            for r in rows
        ], indent=2))
        return 0
    print(f"Roster: {roster.path}")
    for r in rows:
        state = "available" if r.available else f"unavailable ({r.reason})"
        print(f"  {r.contestant.id:<16} {r.contestant.name:<28} {state}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import Store

    settings = _settings()
    store = Store(settings.database_url)
    store.upgrade()
    store.dispose()
    print("database is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
