"""Text that PostgreSQL's text type cannot hold (NUL) still works, the same on both backends."""

from __future__ import annotations

from sqlmodel import select

from adapters.memory import MemorySurface
from bot.events import TaskRequested, User
from storage import tasks as db
from storage.db import Store
from storage.models import AnswerStatus, Task
from tests.conftest import contestant


async def test_a_task_and_an_answer_with_nul_characters_are_stored_and_answered(store: Store, fake_openai,
                                                                                make_arena) -> None:
    fake_openai.script("alpha", text="binary\x00junk then ```python\nprint('ok\x00')\n```")
    arena = make_arena(store, [contestant(fake_openai, "alpha")])
    surface = MemorySurface()
    event = TaskRequested(platform="memory", user=User("U1", "ada\x00"), channel="C1",
                          text="parse this:\x00\x00 a NUL-separated list", event_id="Ev\x00nul")

    await arena.handle(event, surface)
    await arena.join()

    with store.session() as session:
        [task] = session.exec(select(Task)).all()
    assert task.text == "parse this:\ufffd\ufffd a NUL-separated list"
    [answer] = db.task_answers(store, task.id)
    assert answer.status == AnswerStatus.DONE
    assert answer.text == "binary\ufffdjunk then ```python\nprint('ok\ufffd')\n```"
    final = surface.messages[surface.posts()[-1].ref]
    assert "binary" in final.plain() and "first token" in final.plain()
    assert not db.claim_event(store, "memory:Ev\x00nul"), "the delivery was recorded (and is found again)"
