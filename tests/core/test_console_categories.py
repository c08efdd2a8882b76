"""The console's `leaderboard data 7d`: one category over one window."""

from __future__ import annotations

import io

from rich.console import Console

from adapters.console import ConsoleSession, ConsoleSurface
from tests.conftest import contestant
from tests.core.test_console import scripted


async def test_console_leaderboard_for_a_category_and_window(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    out = io.StringIO()
    surface = ConsoleSurface(Console(file=out, width=160, force_terminal=False, color_system=None))
    ref: list = []
    session = ConsoleSession(arena, surface, read=scripted(["leaderboard data 7d", "leaderboard nosuch", "quit"], ref))
    ref.append(session)

    await session.run()

    shown = out.getvalue()
    assert "Data & ML · last 7d" in shown
    assert "Unknown category 'nosuch'" in shown
