"""Every log line emitted while the bot handles a task says which task and answer it is about."""

from __future__ import annotations

import logging

from sqlmodel import select

from bot import logcontext
from storage.models import Answer
from tests.slack.conftest import Harness


async def test_log_lines_during_a_task_carry_its_task_and_answer_ids(harness: Harness, caplog) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    h.models.script("alpha", text="word " * 30, chunk_delay=0.02)
    h.slack.rate_limit("chat.update", retry_after=0.1, times=2)  # the editor logs each 429 it meets
    await h.post("junk", "application/json", signed=False)  # logged outside any task
    await h.command("write a ring buffer")
    await h.settle()
    with h.arena.store.session() as s:
        answers = {a.id: a for a in s.exec(select(Answer))}

    limited = [r for r in caplog.records if r.name == "bot.edits" and "rate-limiting" in r.getMessage()]
    assert len(limited) == 2
    for record in limited:
        assert record.answer_id in answers, "the 429 happened while streaming one answer"
        assert record.task_id == answers[record.answer_id].task_id
        line = logging.Formatter(logcontext.FORMAT).format(record)
        assert f" task={record.task_id} answer={record.answer_id} " in line

    [rejected] = [r for r in caplog.records if "rejected a request" in r.getMessage()]
    assert rejected.task_id is None and rejected.answer_id is None
    assert logcontext.current() == (None, None), "nothing leaks into the code that handled no task"
