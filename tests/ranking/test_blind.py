"""Blind mode through the arena: labels hide the models until the asker (or time) reveals them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import MemorySurface
from bot.blind import BlindRevealer, should_reveal
from bot.events import RevealRequested, TaskRequested, User
from bot.messages import Message
from storage import tasks as task_store
from storage.leaderboard import is_blind, set_blind
from storage.models import Task
from tests.conftest import contestant

ASKER = User("U1", "ada")


def _event(cls, notes: list[Message], user: User = ASKER, **fields):  # type: ignore[no-untyped-def]
    async def notify(message: Message) -> None:
        notes.append(message)

    return cls(platform="memory", user=user, notify=notify, **fields)


async def _blind_task(store, fake_openai, make_arena, surface):  # type: ignore[no-untyped-def]
    for name in ("alpha", "beta", "gamma"):
        fake_openai.script(name, text=f"```python\nprint('{name}')\n```")
    set_blind(store, "memory", "C1", True)
    arena = make_arena(store, [contestant(fake_openai, n) for n in ("alpha", "beta", "gamma")])
    outcome = await arena.ask(_event(TaskRequested, [], channel="C1", text="say hi"), surface)
    assert outcome is not None
    return arena, outcome.task


def _titles(surface: MemorySurface) -> list[str]:
    return [m.title or "" for m in surface.messages.values()]


def test_should_reveal() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    task = Task(platform="x", channel="c", requester_id="u", text="t", blind=True, created_at=now - timedelta(hours=25))
    assert should_reveal(task, now)
    assert not should_reveal(task, now, after=timedelta(hours=26))
    task.revealed = True
    assert not should_reveal(task, now)
    assert not should_reveal(Task(platform="x", channel="c", requester_id="u", text="t", created_at=now - timedelta(days=9)), now)


async def test_blind_setting_is_per_channel(store) -> None:  # type: ignore[no-untyped-def]
    assert not is_blind(store, "slack", "C1")
    set_blind(store, "slack", "C1", True)
    assert is_blind(store, "slack", "C1") and not is_blind(store, "slack", "C2")
    assert not is_blind(store, "discord", "C1")
    set_blind(store, "slack", "C1", False)
    assert not is_blind(store, "slack", "C1")


async def test_only_the_asker_reveals_early(store, fake_openai, make_arena) -> None:  # type: ignore[no-untyped-def]
    surface = MemorySurface()
    arena, task = await _blind_task(store, fake_openai, make_arena, surface)
    answer_titles = [t for t in _titles(surface) if t.startswith("Answer ")]
    assert sorted(answer_titles) == ["Answer A", "Answer B", "Answer C"]
    assert not any("ALPHA" in t for t in _titles(surface))
    positions = sorted(a.position for a in task_store.task_answers(store, task.id))
    assert positions == [0, 1, 2]

    notes: list[Message] = []
    await arena.handle(_event(RevealRequested, notes, user=User("U2", "bob"), task_id=task.id), surface)
    await arena.join()
    assert "Only the person who asked" in notes[0].text and "24 h" in notes[0].text
    assert not any("ALPHA" in t for t in _titles(surface))

    await arena.handle(_event(RevealRequested, notes, task_id=task.id), surface)
    await arena.join()
    assert len(notes) == 1
    titles = _titles(surface)
    assert {t.split(" · ")[1] for t in titles if " · " in t} == {"ALPHA", "BETA", "GAMMA"}
    key = surface.posts()[-1].message
    assert key is not None and key.title and "models behind the answers" in key.title
    by_label = {a.label: a.contestant_name for a in task_store.task_answers(store, task.id)}
    for label, name in by_label.items():
        assert f"Answer {label} → {name}" in key.text

    await arena.handle(_event(RevealRequested, notes, task_id=task.id), surface)
    await arena.join()
    assert "already revealed" in notes[-1].text
    await arena.handle(_event(RevealRequested, notes, task_id=99999), surface)
    await arena.join()
    assert "There is no task #99999" in notes[-1].text


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends above
async def test_revealer_reveals_old_tasks_once(store, fake_openai, make_arena) -> None:  # type: ignore[no-untyped-def]
    surface = MemorySurface()
    _, task = await _blind_task(store, fake_openai, make_arena, surface)
    revealer = BlindRevealer(store, {"memory": surface})
    assert await revealer.tick(datetime.now(UTC) + timedelta(hours=23)) == []
    posts_before = len(surface.posts())
    assert await revealer.tick(datetime.now(UTC) + timedelta(hours=25)) == [task.id]
    assert len(surface.posts()) == posts_before + 1
    assert await revealer.tick(datetime.now(UTC) + timedelta(hours=26)) == []
    assert len(surface.posts()) == posts_before + 1
    assert task_store.get_task(store, task.id).revealed  # type: ignore[union-attr]
