"""`codegen-bot run FILE [--lang python|javascript|bash] [--json]`: run a file in the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from bot.sandbox.errors import SandboxError
from bot.sandbox.extract import RUNNABLE, detect_language, extract_snippet, normalize_language
from bot.sandbox.render import status_line
from bot.sandbox.result import RunResult
from bot.sandbox.service import SandboxService

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
        snippet = extract_snippet(text)
        return snippet.code, snippet.language
    detected = _EXTENSIONS.get(suffix) or detect_language(text)
    if detected is None:
        raise SandboxError(f"cannot tell the language of {path}; pass --lang ({', '.join(RUNNABLE)})")
    return text, normalize_language(detected) or detected


def run_command(args: argparse.Namespace) -> int:
    """Run the file; exit 0 when the program succeeded, 1 when it failed, 2 when refused."""
    try:
        code, language = _source(args.file, args.lang)
        result = asyncio.run(_run(code, language))
    except SandboxError as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    _print(result, as_json=args.json)
    return 0 if result.ok else 1


async def _run(code: str, language: str) -> RunResult:
    service = SandboxService.from_env()
    try:
        return await service.run(os.environ.get("USER", "cli"), code, language)
    finally:
        await service.drain()


def _print(result: RunResult, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.write(result.stderr)
    if result.truncated:
        print("[output cut: the sandbox keeps the first 1 MiB]", file=sys.stderr)
    print(status_line(result), file=sys.stderr)
