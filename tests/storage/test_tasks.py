"""Task/answer storage on SQLite and PostgreSQL (the `store` fixture runs each test on both)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from storage import tasks as db
from storage.models import Answer, AnswerStatus, ProcessedEvent, Task, TaskStatus, utcnow


def new_task(store, n_answers: int = 2):
    task = Task(platform="slack", channel="C1", requester_id="U1", text="write fizzbuzz")
    answers = [Answer(task_id=0, contestant_id=f"m{i}", position=i, label=chr(65 + i)) for i in range(n_answers)]
    return db.create_task(store, task, answers)


def test_task_and_answers_are_written_together(store):
    task, answers = new_task(store)
    assert task.id and all(a.id and a.task_id == task.id for a in answers)
    assert [a.contestant_id for a in db.task_answers(store, task.id)] == ["m0", "m1"]
    assert db.get_task(store, task.id).text == "write fizzbuzz"


def test_long_answer_text_round_trips(store):
    task, answers = new_task(store, 1)
    text = "```python\n" + "print('ü')\n" * 20_000 + "```"
    db.update_answer(store, answers[0].id, text=text, status=AnswerStatus.DONE)
    found, _task = db.get_answer(store, answers[0].id)
    assert found.text == text and found.status == AnswerStatus.DONE


def test_event_claim_is_exactly_once_under_concurrency(store):
    results: list[bool] = []

    def claim() -> None:
        results.append(db.claim_event(store, "slack:Ev42"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and results.count(False) == 7


def test_old_event_keys_are_pruned(store):
    db.claim_event(store, "old")
    with store.session() as session:
        session.get(ProcessedEvent, "old").created_at = utcnow() - timedelta(days=3)
    db.claim_event(store, "new")
    assert db.prune_events(store) == 1
    with store.session() as session:
        assert [e.key for e in session.exec(select(ProcessedEvent))] == ["new"]


def test_task_is_done_only_when_every_answer_finished(store):
    task, answers = new_task(store)
    db.update_answer(store, answers[0].id, status=AnswerStatus.DONE)
    db.update_answer(store, answers[1].id, status=AnswerStatus.STREAMING)
    assert [a.status for a in db.finish_task_if_done(store, task.id)] == [AnswerStatus.DONE, AnswerStatus.STREAMING]
    assert db.get_task(store, task.id).status == TaskStatus.PENDING
    assert [t.id for t in db.unfinished_tasks(store)] == [task.id]
    db.update_answer(store, answers[1].id, status=AnswerStatus.ERROR, error="boom")
    assert len(db.finish_task_if_done(store, task.id)) == 2
    assert db.get_task(store, task.id).status == TaskStatus.DONE
    assert db.unfinished_tasks(store) == []


def test_upgrade_is_idempotent(store):
    store.upgrade()
    store.upgrade()
    task, _ = new_task(store, 1)
    assert db.get_task(store, task.id) is not None


def test_start_answers_records_message_refs_and_thread(store):
    task, answers = new_task(store)
    db.update_answer(store, answers[0].id, status=AnswerStatus.ERROR, error="boom", text="partial")
    db.start_answers(store, task.id, {answers[0].id: ("T1", "m1"), answers[1].id: ("T1", "m2")},
                     thread="T1", parent_message_id="p1")
    stored = db.task_answers(store, task.id)
    assert [(a.status, a.error, a.text, a.message_channel, a.message_id) for a in stored] == [
        (AnswerStatus.STREAMING, None, "", "T1", "m1"),
        (AnswerStatus.STREAMING, None, "", "T1", "m2"),
    ]
    saved = db.get_task(store, task.id)
    assert (saved.status, saved.thread, saved.parent_message_id) == (TaskStatus.RUNNING, "T1", "p1")


def test_tasks_in_blind_channels_are_created_blind(store):
    from storage.leaderboard import set_blind

    set_blind(store, "slack", "C1", True)
    task, _ = new_task(store)
    assert task.blind and db.get_task(store, task.id).blind


def test_a_reused_message_reference_finds_the_newest_answer(store):
    """A surface that reused message ids (the console before its ids were unique) must not send a
    rating to an earlier task's answer: the newest message with that reference is the one on screen."""
    from storage.ratings import find_answer

    ids = []
    for _ in range(3):
        task, answers = new_task(store, 1)
        db.start_answers(store, task.id, {answers[0].id: ("terminal", "c2")})
        ids.append(answers[0].id)
    found = find_answer(store, "slack", "terminal", "c2")
    assert found is not None and found.answer_id == ids[-1]


def test_cancel_task_ends_unfinished_answers_and_keeps_finished_ones(store):
    task, answers = new_task(store, 3)
    db.start_answers(store, task.id, {a.id: ("C1", f"m{a.id}") for a in answers})
    db.update_answer(store, answers[0].id, status=AnswerStatus.DONE, text="finished")
    db.update_answer(store, answers[1].id, text="half an ans")

    cancelled_task, after = db.cancel_task(store, task.id)

    assert cancelled_task.status == TaskStatus.CANCELLED and cancelled_task.finished_at is not None
    assert [(a.status, a.text) for a in after] == [
        (AnswerStatus.DONE, "finished"), (AnswerStatus.CANCELLED, "half an ans"), (AnswerStatus.CANCELLED, "")]
    assert [a.status for a in db.task_answers(store, task.id)] == [a.status for a in after]
    assert db.unfinished_tasks(store) == []
    assert db.cancel_task(store, 10_000) is None
