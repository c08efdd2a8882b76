"""`codegen-bot leaderboard`, `export` and `classify`: argparse wiring for the ranking features."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ArenaError, ConfigError

if TYPE_CHECKING:
    from storage.db import Store


def add_cli(sub: Any) -> None:
    """Register the `leaderboard`, `classify` and `export` subcommands on ``sub`` (argparse subparsers)."""
    board = sub.add_parser("leaderboard", help="print the current standings")
    board.add_argument("--window", default="28d", help="28d (default), 7d, 4w, … or all")
    board.add_argument("--category", metavar="NAME",
                       help="only tasks of one kind of work (web, data, …) or language (python, sql, …)")
    board.add_argument("--json", action="store_true", help="print one JSON object")
    board.add_argument("--chart", type=Path, metavar="FILE", help="also write the chart as PNG to FILE")
    board.add_argument("--value-chart", type=Path, metavar="FILE",
                       help="also write the score-vs-cost chart as PNG to FILE")
    board.add_argument("--bootstrap", type=int, default=1000, help=argparse.SUPPRESS)
    board.set_defaults(func=leaderboard_command)

    classify = sub.add_parser("classify", help="give stored tasks without a category one (kind of work, language)")
    classify.add_argument("--all", action="store_true", dest="everything",
                          help="reclassify every task the classifier set (never one a person tagged)")
    classify.set_defaults(func=classify_command)

    export = sub.add_parser("export", help="export tasks, answers and ratings for analysis")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv", dest="fmt")
    export.add_argument("--since", type=_date, metavar="DATE", help="only tasks created on or after DATE (YYYY-MM-DD, UTC)")
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(func=export_command)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def _store() -> Store:
    from bot.config import Settings
    from storage.db import Store

    store = Store(Settings.from_env().database_url)
    store.upgrade()
    return store


def leaderboard_command(args: argparse.Namespace) -> int:
    """Print the leaderboard (table or JSON); optionally save the charts."""
    from bot.categories import parse_category
    from bot.leaderboard import build_leaderboard, legend, length_lines, parse_window, render_chart, render_table
    from bot.value import render_value_chart, render_value_table, value_summary

    try:
        parse_window(args.window)
        category = parse_category(args.category) if args.category else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    store = _store()
    try:
        board = build_leaderboard(store, window=args.window, bootstrap=args.bootstrap, category=category)
    finally:
        store.dispose()
    for path, render in ((args.chart, render_chart), (args.value_chart, render_value_chart)):
        if path:
            try:
                path.write_bytes(render(board))
            except OSError as exc:
                raise ArenaError(f"cannot write the chart to {path}: {exc.strerror}") from None
    if args.json:
        print(json.dumps(board.to_dict(), ensure_ascii=False, indent=2))
    elif not board.rows:
        where = f"{category.label} tasks in " if category else ""
        print(f"No rated comparisons in {where}the window ({args.window}) yet.")
    else:
        if category:
            print(f"{category.label} tasks only\n")
        import textwrap

        print(render_table(board))
        print()
        for paragraph in legend(board).splitlines():
            print(textwrap.fill(paragraph, width=80, subsequent_indent="  "))
        print("\nValue for money:\n" + render_value_table(board))
        for line in [*value_summary(board), *length_lines(board)]:
            print(line)
    return 0


def classify_command(args: argparse.Namespace) -> int:
    """Classify stored tasks (those without a category, or with --all every untagged one)."""
    from bot.tagging import classify_stored

    store = _store()
    try:
        count = classify_stored(store, everything=args.everything)
    finally:
        store.dispose()
    print(f"classified {count} task{'s' * (count != 1)}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    """Write the export to stdout or ``--output``."""
    from bot.export import export

    store = _store()
    try:
        if args.output:
            try:
                with args.output.open("w", encoding="utf-8", newline="") as out:
                    count = export(store, args.fmt, args.since, out)
            except OSError as exc:
                raise ArenaError(f"cannot write {args.output}: {exc.strerror}") from None
            print(f"wrote {count} {'rows' if args.fmt == 'csv' else 'tasks'} to {args.output}", file=sys.stderr)
        else:
            export(store, args.fmt, args.since, sys.stdout)
    finally:
        store.dispose()
    return 0
