"""Test-run storage on SQLite and PostgreSQL: one result per answer, what still waits for a run."""

from __future__ import annotations

from datetime import timedelta

from storage import leaderboard as lb_store
from storage import tasks as db
from storage import testresults
from storage.models import Answer, AnswerStatus, Task, utcnow
from tests.storage.drift import schema_differences

TESTS = [{"name": "test_task.py", "language": "python", "source": "assert f()"}]


def finished_task(store, tests=TESTS, channel: str = "C1"):  # type: ignore[no-untyped-def]
    task = Task(platform="slack", channel=channel, requester_id="U1", text="write f", tests=tests)
    answers = [Answer(task_id=0, contestant_id=f"m{i}", position=i, label="AB"[i], status=AnswerStatus.DONE,
                      message_channel=channel, message_id=f"{channel}.{i}", finished_at=utcnow()) for i in range(2)]
    return db.create_task(store, task, answers)


def test_the_migrated_schema_matches_the_models(store) -> None:  # type: ignore[no-untyped-def]
    assert schema_differences(store) == []


def test_one_result_per_answer_and_the_first_one_wins(store) -> None:  # type: ignore[no-untyped-def]
    task, (first, _) = finished_task(store)
    assert db.get_task(store, task.id).tests == TESTS
    kept = testresults.record_once(store, first.id, {"kind": "tests", "status": "passed", "passed": 1, "total": 1,
                                                     "report": {"cases": []}})
    again = testresults.record_once(store, first.id, {"kind": "tests", "status": "failed", "total": 1})
    assert (again.id, again.status, again.report) == (kept.id, "passed", {"cases": []})
    assert list(testresults.results_for_task(store, task.id)) == [first.id]


def test_what_needs_a_run_or_a_footer_edit(store) -> None:  # type: ignore[no-untyped-def]
    task, (first, second) = finished_task(store)
    _, untested = finished_task(store, tests=None, channel="C2")
    since = utcnow() - timedelta(hours=1)
    assert testresults.needs_run(store, first.id) and not testresults.needs_run(store, untested[0].id)
    assert testresults.waiting(store, "slack", since) == [first.id, second.id]

    testresults.record_once(store, first.id, {"kind": "tests", "status": "passed"})
    assert testresults.needs_run(store, first.id), "stored but not yet shown"
    testresults.mark_shown(store, first.id)
    assert not testresults.needs_run(store, first.id)
    assert testresults.waiting(store, "slack", since) == [second.id]
    assert testresults.waiting(store, "discord", since) == []

    db.update_answer(store, second.id, status=AnswerStatus.ERROR)
    assert not testresults.needs_run(store, second.id), "a failed answer has nothing to run"


def test_smoke_runs_follow_the_channel_setting(store) -> None:  # type: ignore[no-untyped-def]
    _, before = finished_task(store, tests=None, channel="C2")
    lb_store.set_autorun(store, "slack", "C2", True)
    _, after = finished_task(store, tests=None, channel="C2")
    assert testresults.needs_run(store, after[0].id)
    since = utcnow() - timedelta(hours=1)
    assert testresults.waiting(store, "slack", since) == [a.id for a in after], "not answers from before it was on"
    lb_store.set_autorun(store, "slack", "C2", False)
    assert not testresults.needs_run(store, after[0].id)
