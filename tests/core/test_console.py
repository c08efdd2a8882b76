"""The console session, in process: commands, tasks, ratings and their wording.

The terminal itself (layout while streaming, Ctrl-C, pastes, restarts) is driven in a real
pseudo-terminal in tests/console/.
"""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from rich.console import Console
from sqlmodel import select

from adapters.console import ConsoleSession, ConsoleSurface
from storage.models import Rating, Task
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


async def run_session(arena, lines: list, width: int = 160) -> tuple[str, ConsoleSession]:
    """Run a console session over ``lines``; what it printed, and the session."""
    out = io.StringIO()
    surface = ConsoleSurface(Console(file=out, width=width, force_terminal=False, color_system=None))
    ref: list = []
    session = ConsoleSession(arena, surface, read=scripted([*lines, "quit"], ref))
    ref.append(session)
    await session.run()
    return out.getvalue(), session


def tasks_in(store) -> list[Task]:
    with store.session() as db:
        return list(db.exec(select(Task).order_by(Task.id)))


async def test_console_session_end_to_end(sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="Use slicing:\n```python\nprint('abc'[::-1])\n```")
    fake_openai.script("beta", status=500, fail_times=99, error_message="upstream overloaded")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])

    shown, session = await run_session(arena, [
        "reverse a string", "rate Z +1", "rate A 7", lambda s: f"rate {label_of('alpha')(s)} 4", "leaderboard",
    ])

    assert "reverse a string" in shown
    assert "print('abc'[::-1])" in shown
    assert "upstream overloaded" in shown
    assert "No answer 'Z'" in shown
    assert "unknown rating '7'" in shown
    assert "leaderboard" in shown.lower()
    with sqlite_store.session() as db:
        ratings = list(db.exec(select(Rating)))
    alpha = next(a for a in session.last.answers if a.contestant_id == "alpha")
    assert [(r.answer_id, r.scale, r.value) for r in ratings] == [(alpha.id, "stars", 4)]
    assert f"rated {alpha.label} (ALPHA) 4/5 on task #1" in shown


async def test_console_run_shows_the_sandbox_result(sqlite_store, fake_openai, make_arena):
    from bot.sandbox.service import SandboxService

    fake_openai.script("alpha", text="```python\nprint(sum(range(10)))\n```")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")], sandbox=SandboxService())

    shown, _ = await run_session(arena, ["add numbers", "run A"], width=120)

    assert "running python" in shown
    assert "45" in shown.split("running python", 1)[1]


async def test_a_one_word_typo_is_not_sent_as_a_task(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])

    shown, _ = await run_session(arena, ["lederboard", "modles", "xyzzy"])

    assert "unknown command 'lederboard', did you mean leaderboard?" in shown
    assert "unknown command 'modles', did you mean models?" in shown
    assert "unknown command 'xyzzy'." in shown
    assert fake_openai.requests_for("alpha") == []
    assert tasks_in(sqlite_store) == []


async def test_ask_sends_even_one_word_and_sentences_starting_with_a_command_word_are_tasks(
    sqlite_store, fake_openai, make_arena
):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])

    await run_session(arena, ["ask fizzbuzz", "rate limiter in python please", "run a web server in Go"])

    assert [t.text for t in tasks_in(sqlite_store)] == [
        "fizzbuzz", "rate limiter in python please", "run a web server in Go"]


async def test_help_lists_every_command(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])

    shown, _ = await run_session(arena, ["help"])

    after = shown.split("ALPHA", 1)[1]  # what `help` printed, after the banner's roster
    for usage in ("ask <task>", "run <label>", "rate <label> <+1|-1|1-5>", "unrate <label> <+1|-1|1-5>",
                  "leaderboard [category] [7d|28d|all]", "models", "help", "quit"):
        assert usage in after, usage


async def test_a_triple_quoted_block_is_one_task(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])

    await run_session(arena, ['"""', "Write a parser for:", "", "key = value", "run tests too", '"""',
                              '"""one line block"""'])

    assert [t.text for t in tasks_in(sqlite_store)] == [
        "Write a parser for:\n\nkey = value\nrun tests too", "one line block"]
    assert len(fake_openai.requests_for("alpha")) == 2


async def test_console_wording_is_the_consoles(sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="```python\nprint(1)\n```")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])

    shown, _ = await run_session(arena, ["print one please", "rate", "rate A"])

    assert "React" not in shown and "/codegen" not in shown
    assert "▶ Run" not in shown  # no button that cannot be pressed here
    assert "rate <label> +1" in shown  # the header's hint is the console's command
    assert shown.count("usage: rate <label> <+1|-1|1-5>") == 2


async def test_unrate_of_a_rating_never_given_says_so(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])

    shown, _ = await run_session(arena, ["say hello", "unrate A +1", "rate A +1", "rate A +1", "unrate A -1",
                                         "unrate A +1"])

    assert "you have not rated A (ALPHA) 👍 on task #1: nothing to take back." in shown
    assert "rated A (ALPHA) 👍 on task #1" in shown
    assert "A (ALPHA) already had your 👍 on task #1; unchanged." in shown
    assert "your rating of A (ALPHA) on task #1 is 👍, not 👎: kept it." in shown
    assert "took back your 👍 on A (ALPHA) on task #1" in shown
    with sqlite_store.session() as db:  # a retraction leaves only a tombstone (ratings apply in order)
        assert [r for r in db.exec(select(Rating)) if not r.retracted] == []


async def test_the_leaderboard_chart_is_saved_to_a_file_whose_path_is_printed(
    sqlite_store, fake_openai, make_arena, tmp_path, monkeypatch
):
    monkeypatch.setenv("CODEGEN_HOME", str(tmp_path / "home"))
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])

    shown, _ = await run_session(arena, [
        "first task here", lambda s: f"rate {label_of('alpha')(s)} +1", lambda s: f"rate {label_of('beta')(s)} -1",
        "leaderboard 7d",
    ], width=400)

    match = re.search(r"saved to (\S+\.png)", shown)
    assert match, shown
    chart = Path(match.group(1))
    assert chart.is_relative_to(tmp_path / "home")
    assert (await asyncio.to_thread(chart.read_bytes)).startswith(b"\x89PNG")


async def test_usage_and_budget_show_this_consoles_spend(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha", price_in=1.0, price_out=1.0),
                                      contestant(fake_openai, "beta")], budget_daily_usd=2.0)
    shown, _ = await run_session(arena, ["reverse a string", "usage 30d", "budget"])
    assert "Usage, last 30 days" in shown and "ALPHA" in shown and "BETA" in shown
    assert "of $2.00 spent today (workspace default)" in shown


async def test_dashboard_prints_a_signed_link_the_dashboard_accepts(sqlite_store, fake_openai, make_arena):
    from urllib.parse import parse_qs, urlsplit

    from bot.dashboard_access import LINK_PARAM, DashboardAccess

    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    shown, _ = await run_session(arena, ["dashboard"])
    found = re.search(r"(http://localhost:8077/\?link=[\w.-]+)", shown)
    assert found is not None, shown
    assert "works for" in shown and "Codegen Arena dashboard" in shown
    signed = parse_qs(urlsplit(found.group(1)).query)[LINK_PARAM][0]
    assert DashboardAccess.from_settings(arena.settings).check_link(signed).who == "console:console-user"


async def test_console_ask_with_models_asks_only_those(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])
    out, _ = await run_session(arena, ["ask --models beta reverse a string", "--models gamma sort a list"])
    assert [r.json["model"] for r in fake_openai.requests] == ["beta"]
    assert [t.text for t in tasks_in(sqlite_store)] == ["reverse a string"]
    assert "Unknown model id: gamma. Models you can ask here: alpha, beta." in " ".join(out.split())
