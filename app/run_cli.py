"""`codegen-bot run FILE [--lang python|javascript|bash] [--json]`: run a file in the sandbox.

The exit status is the program's own: its exit code, 128 + the signal number when a signal ended
it (as shells report it), 124 when it ran out of time (as timeout(1) does); 2 when the run was
refused (no such file, unknown language, no sandbox here).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.sandbox.errors import SandboxError
from bot.sandbox.languages import RUNNABLE, normalize_language

if TYPE_CHECKING:
    from bot.sandbox.result import RunResult

EXIT_TIMED_OUT = 124

_EXTENSIONS = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
               ".sh": "bash", ".bash": "bash"}


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register the ``run`` subcommand on the main parser's subparsers."""
    run = sub.add_parser("run", help="run a file (or an answer saved as .md) in the sandbox")
    run.add_argument("file", help="source file, or a markdown answer to extract the code from")
    run.add_argument("--lang", choices=RUNNABLE, help="language (default: from the extension or the code)")
    run.add_argument("--json", action="store_true", help="print the result as one JSON object")
    run.set_defaults(func=run_command)


def _source(path: str, lang: str | None) -> tuple[str, str]:
    """The code and its language. Raises SandboxError with a clear message."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SandboxError(f"cannot read {path}: {exc.strerror}") from exc
    suffix = Path(path).suffix.lower()
    if lang:
        return text, lang
    if suffix in (".md", ".markdown"):
        from bot.sandbox.extract import extract_snippet

        snippet = extract_snippet(text)
        return snippet.code, snippet.language
    detected = _EXTENSIONS.get(suffix)
    if detected is None:
        from bot.sandbox.extract import detect_language

        detected = detect_language(text)
    if detected is None:
        raise SandboxError(f"cannot tell the language of {path}; pass --lang ({', '.join(RUNNABLE)})")
    return text, normalize_language(detected) or detected


def run_command(args: argparse.Namespace) -> int:
    """Run the file and exit with the program's status (see the module docstring)."""
    import asyncio

    code, language = _source(args.file, args.lang)
    result = asyncio.run(_run(code, language))
    _print(result, as_json=args.json)
    return exit_status(result)


def exit_status(result: RunResult) -> int:
    """The shell-style exit status of a finished run."""
    if result.timed_out:
        return EXIT_TIMED_OUT
    if result.exit_code is not None:
        return result.exit_code & 0xFF
    if result.signal:
        number = result.signal.removeprefix("SIG")
        known = signal.Signals.__members__.get(result.signal)
        return 128 + (known.value if known else int(number) if number.isdigit() else 0)
    return 0 if result.ok else 1


async def _run(code: str, language: str) -> RunResult:
    from bot.sandbox.service import SandboxService

    service = SandboxService.from_env()
    try:
        return await service.run(os.environ.get("USER", "cli"), code, language)
    finally:
        await service.drain()


def _print(result: RunResult, *, as_json: bool) -> None:
    from bot.sandbox.result import status_line

    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.write(result.stderr)
    if result.truncated:
        print("[output cut: the sandbox keeps the first 1 MiB]", file=sys.stderr)
    print(status_line(result), file=sys.stderr)
