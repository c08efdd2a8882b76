"""The console's `follow <text>` and `follow B <text>` (issue 11): each model continues its own conversation."""

from __future__ import annotations

from sqlmodel import select

from storage import tasks as db_tasks
from storage.models import Rating
from tests.conftest import contestant
from tests.core.test_console import label_of, run_session, tasks_in


def sent(fake, model: str) -> list[list[tuple[str, str]]]:
    return [[(m["role"], m["content"]) for m in r.json["messages"][1:]] for r in fake.requests_for(model)]


async def test_follow_continues_every_model_then_follow_b_only_that_one(sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="alpha one")
    fake_openai.script("beta", text="beta one")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")])

    def then(model: str, text: str):
        """An empty line that, when read, scripts ``model``'s next answer."""
        def line(session) -> str:
            fake_openai.script(model, text=text)
            return ""
        return line

    shown, session = await run_session(arena, [
        "reverse a string",
        then("alpha", "alpha two"), then("beta", "beta two"),
        "follow now handle unicode",
        lambda s: f"rate {label_of('beta')(s)} +1",
        then("beta", "beta three"),
        lambda s: f"follow {label_of('beta')(s)} add tests",
    ])

    assert "Follow-up #2 by you" in shown and "Follow-up #3 by you" in shown
    assert sent(fake_openai, "alpha") == [
        [("user", "reverse a string")],
        [("user", "reverse a string"), ("assistant", "alpha one"), ("user", "now handle unicode")]]
    assert sent(fake_openai, "beta")[-1] == [
        ("user", "reverse a string"), ("assistant", "beta one"), ("user", "now handle unicode"),
        ("assistant", "beta two"), ("user", "add tests")]
    assert [(t.turn, t.root_id) for t in tasks_in(sqlite_store)] == [(1, None), (2, 1), (3, 1)]
    assert [a.contestant_id for a in session.last.answers] == ["beta"]
    with sqlite_store.session() as db:
        [rating] = list(db.exec(select(Rating)))
    assert "on task #2" in shown  # the rating went to turn 2's answer, a ballot of its own
    assert rating.answer_id in {a.id for a in db_tasks.task_answers(sqlite_store, 2)}


async def test_follow_without_a_task_or_text_explains(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    shown, _ = await run_session(arena, ["follow make it async", "write fizzbuzz", "follow"])
    assert "Ask a task first" in shown
    assert "usage: follow [<label>] <text>" in shown
    assert len(tasks_in(sqlite_store)) == 1
