"""The limits' counts (issue 12) come from storage, so they hold across replicas: two Stores (two
processes' engines) on one database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.db import Store
from storage.limits import TooManyTasks, older_unfinished
from storage.models import Answer, Task, TaskStatus
from storage.tasks import create_task, update_task


def ask(store: Store, user: str = "U1", per_hour: int = 0) -> int:
    task, _ = create_task(store, Task(platform="slack", channel="C1", requester_id=user, text="t"),
                          [Answer(task_id=0, contestant_id="alpha")], per_hour=per_hour)
    return task.id or 0


def test_the_hourly_limit_holds_across_replicas(store: Store, second_store_factory: Callable[[], Store]) -> None:
    replicas = [store, second_store_factory()]

    def attempt(i: int) -> bool:
        try:
            ask(replicas[i % 2], per_hour=5)
        except TooManyTasks:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        accepted = list(pool.map(attempt, range(16)))
    assert accepted.count(True) == 5
    with pytest.raises(TooManyTasks) as refused:
        ask(replicas[1], per_hour=5)
    assert refused.value.asked == 5
    ask(replicas[1], user="U2", per_hour=5)  # someone else is not limited


def test_the_queue_is_counted_from_storage(store: Store, second_store_factory: Callable[[], Store]) -> None:
    other = second_store_factory()
    ids = [ask(store if i % 2 else other, user=f"U{i}") for i in range(4)]
    assert [older_unfinished(other, "slack", i) for i in ids] == [0, 1, 2, 3]
    update_task(store, ids[0], status=TaskStatus.DONE)  # one replica finishes a task …
    update_task(other, ids[2], status=TaskStatus.INTERRUPTED)
    assert [older_unfinished(other, "slack", i) for i in ids[1:]] == [0, 1, 1]  # … the other sees the queue move
    assert older_unfinished(store, "discord", ids[3]) == 0  # each platform's workspace has its own
