"""The ranking features through the arena: reactions rate, the leaderboard posts, bad windows explain."""

from __future__ import annotations

import pytest

from adapters.memory import MemorySurface
from bot.events import LeaderboardRequested, ReactionChanged, TaskRequested, User
from bot.messages import Message
from storage import tasks as task_store
from storage.ratings import ratings_of
from tests.conftest import contestant

pytestmark = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


def _notes_event(cls, notes: list[Message], user: str = "U1", **fields):  # type: ignore[no-untyped-def]
    async def notify(message: Message) -> None:
        notes.append(message)

    return cls(platform="memory", user=User(user), notify=notify, **fields)


async def test_reactions_on_answers_rate_and_the_leaderboard_posts(store, fake_openai, make_arena) -> None:  # type: ignore[no-untyped-def]
    for name in ("alpha", "beta"):
        fake_openai.script(name, text=f"```python\nprint('{name}')\n```")
    arena = make_arena(store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])
    surface = MemorySurface()
    outcome = await arena.ask(_notes_event(TaskRequested, [], channel="C1", text="hi"), surface)
    assert outcome is not None
    answers = {a.contestant_id: a for a in task_store.task_answers(store, outcome.task.id)}
    for rater in ("U1", "U2"):
        for model, emoji in (("alpha", "five"), ("beta", "two")):
            a = answers[model]
            await arena.handle(_notes_event(ReactionChanged, [], user=rater, channel=a.message_channel,
                                            message_id=a.message_id, emoji=emoji, added=True), surface)
    assert sorted(r.value for r in ratings_of(store, answers["alpha"].id)) == [5, 5]

    await arena.handle(_notes_event(LeaderboardRequested, [], channel="C9", window="7d"), surface)
    board = surface.posts()[-1]
    assert board.ref.channel == "C9" and board.message is not None
    text = board.message.text
    assert text.index("ALPHA") < text.index("BETA")
    assert board.message.attachments[0].content.startswith(b"\x89PNG")


async def test_bad_window_gets_a_private_explanation(store, fake_openai, make_arena) -> None:  # type: ignore[no-untyped-def]
    arena = make_arena(store, [contestant(fake_openai, "alpha")])
    surface = MemorySurface()
    notes: list[Message] = []
    await arena.handle(_notes_event(LeaderboardRequested, notes, channel="C1", window="fortnight"), surface)
    assert surface.posts() == []
    assert "Unknown window 'fortnight'" in notes[0].text and "28d" in notes[0].text
