"""The console adapter: type a task, see every answer, rate it, view the standings."""

from __future__ import annotations

import io

from rich.console import Console
from sqlmodel import select

from adapters.console import ConsoleSession, ConsoleSurface
from storage.models import Rating
from tests.conftest import contestant


def scripted(lines: list, session_ref: list):
    """Feed lines; a callable line is computed from the session when it is read."""
    feed = iter(lines)

    def read(prompt: str) -> str:
        try:
            line = next(feed)
        except StopIteration:
            raise EOFError from None
        return line(session_ref[0]) if callable(line) else line

    return read


def label_of(model: str):
    return lambda session: next(a.label for a in session.last.answers if a.contestant_id == model)


async def test_console_session_end_to_end(sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="Use slicing:\n```python\nprint('abc'[::-1])\n```")
    fake_openai.script("beta", status=500, fail_times=99, error_message="upstream overloaded")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])
    out = io.StringIO()
    surface = ConsoleSurface(Console(file=out, width=160, force_terminal=False, color_system=None))
    ref: list = []
    session = ConsoleSession(arena, surface, read=scripted([
        "reverse a string", "rate Z +1", "rate A 7",
        lambda s: f"rate {label_of('alpha')(s)} 4", "leaderboard", "quit",
    ], ref))
    ref.append(session)

    await session.run()

    shown = out.getvalue()
    assert "reverse a string" in shown
    assert "print('abc'[::-1])" in shown
    assert "upstream overloaded" in shown
    assert "No answer 'Z'" in shown
    assert "unknown rating '7'" in shown
    assert "Leaderboard" in shown or "leaderboard" in shown.lower()
    with sqlite_store.session() as db:
        ratings = list(db.exec(select(Rating)))
    alpha = next(a for a in session.last.answers if a.contestant_id == "alpha")
    assert [(r.answer_id, r.scale, r.value) for r in ratings] == [(alpha.id, "stars", 4)]


async def test_console_run_shows_the_sandbox_result(sqlite_store, fake_openai, make_arena):
    from bot.sandbox.service import SandboxService

    fake_openai.script("alpha", text="```python\nprint(sum(range(10)))\n```")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")], sandbox=SandboxService())
    out = io.StringIO()
    surface = ConsoleSurface(Console(file=out, width=120, force_terminal=False, color_system=None))
    ref: list = []
    session = ConsoleSession(arena, surface, read=scripted(["add numbers", "run A", "quit"], ref))
    ref.append(session)

    await session.run()

    shown = out.getvalue()
    assert "running python" in shown
    assert "45" in shown.split("running python", 1)[1]
