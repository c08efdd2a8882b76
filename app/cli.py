"""`codegen-bot`: the one command (serve, ask, run, leaderboard, models, export, db, …).

Start-up is kept light: this module and the parser import nothing heavy; each command imports
what it needs (the database, the chat clients, numpy) when it runs. ``main`` is the one place that
turns an :class:`~bot.errors.ArenaError` into ``error: …`` on stderr (or ``{"error": …}`` with
``--json``) and exit status 2; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot.errors import ArenaError, ConfigError

if TYPE_CHECKING:
    from bot.arena import TaskOutcome
    from bot.config import Settings

Command = Callable[[argparse.Namespace], int]
EXIT_USAGE = 2  # bad input or a setting, file or server the person has to fix


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `codegen-bot` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose or args.debug)
    command: Command = getattr(args, "func", None) or _serve
    try:
        code = command(args)
        sys.stdout.flush()  # a closed pipe shows up here, not at exit
        return code
    except ArenaError as error:
        return _fail(args, str(error))
    except BrokenPipeError:
        _discard_stdout()
        return _fail(args, "the output was closed before it was complete (broken pipe)", stdout_closed=True)
    except KeyboardInterrupt:
        return 130


def _fail(args: argparse.Namespace, message: str, *, stdout_closed: bool = False) -> int:
    """Report an error a person can act on: one line (``--json``: one object), exit 2."""
    if args.debug:
        import traceback

        traceback.print_exc()
    if getattr(args, "json", False) and not stdout_closed:
        print(json.dumps({"error": message}, ensure_ascii=False))
    else:
        print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr; HTTP client chatter stays quiet (it could print URLs with tokens)."""
    import logging

    named = os.environ.get("LOG_LEVEL", "WARNING").upper()
    level = logging.DEBUG if verbose else getattr(logging, named, logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _Version(argparse.Action):
    """``--version``: reads the installed version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("codegen-arena")
        except PackageNotFoundError:
            number = "unknown (not installed)"
        print(f"codegen-bot {number}")
        parser.exit()


def _add_global_flags(parser: argparse.ArgumentParser, *, on_subcommand: bool) -> None:
    """-v and --debug, accepted before or after the subcommand."""
    default = argparse.SUPPRESS if on_subcommand else False  # a subcommand must not reset them
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help="debug logging")
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show the traceback of an error (and debug logging)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_global_flags(child, on_subcommand=True)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (argparse only: no command's dependencies are imported)."""
    parser = argparse.ArgumentParser(prog="codegen-bot", description="Compare code-generation models on real tasks.")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the bot (Slack/Discord when tokens are set, else the console)")
    serve.add_argument("--adapter", choices=["auto", "slack", "discord", "console"], default="auto",
                       help="which adapter to run (default: every platform whose token is set, else the console)")
    serve.add_argument("--no-worker", action="store_true",
                       help="take events only; `codegen-bot worker` processes run the jobs (PostgreSQL)")
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run jobs only: answers, runs, reveals (PostgreSQL; scale these out)")
    worker.set_defaults(func=_worker)

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

    from app.usage_cli import add_cli as add_usage_command

    add_usage_command(sub)

    from app.retention_cli import add_cli as add_retention_commands

    add_retention_commands(sub)

    from app.run_cli import add_cli as add_run_command

    add_run_command(sub)

    from app.web_cli import add_cli as add_web_command

    add_web_command(sub)
    _add_global_flags(parser, on_subcommand=False)
    return parser


def _settings() -> Settings:
    from bot.config import Settings

    return Settings.from_env()


def _serve(args: argparse.Namespace) -> int:
    from app.serve import serve
    from app.wiring import run_async

    return run_async(serve(_settings(), getattr(args, "adapter", "auto"), worker=not getattr(args, "no_worker", False)))


def _worker(args: argparse.Namespace) -> int:
    from app.serve import work
    from app.wiring import run_async

    return run_async(work(_settings()))


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
    arena = build_arena(_settings(), with_sandbox=False, shared_queue=False)
    problems: list[str] = []

    async def notify(message: Message) -> None:
        problems.append(message.plain())

    wanted = tuple(m.strip() for m in args.models.split(",") if m.strip()) if args.models else None
    event = TaskRequested(platform=PLATFORM, user=User(os.environ.get("USER", "cli"), "cli"),
                          channel="cli", text=args.task, models=wanted, notify=notify)
    try:
        if args.json:
            outcome = await arena.ask(event, MemorySurface(platform=PLATFORM))
        else:
            surface = ConsoleSurface(interactive=False)
            surface.begin()
            try:
                outcome = await arena.ask(event, surface)
            finally:
                surface.end()
    finally:
        await close_arena(arena)
    if outcome is None:
        raise ConfigError("; ".join(" ".join(p.split()) for p in problems) or "nothing to do")
    if args.json:
        print(json.dumps(outcome_json(outcome), indent=2, ensure_ascii=False))
    return 0 if any(a.status == "done" for a in outcome.answers) else 1


def outcome_json(outcome: TaskOutcome) -> dict[str, Any]:
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
    from bot.roster import check_availability, check_reachable, load_roster

    settings = _settings()
    roster = load_roster(settings.roster_path)
    rows = check_reachable(check_availability(roster, settings))
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
