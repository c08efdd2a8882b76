"""A small usage fixture: tasks in two channels, answers with tokens and costs, one still streaming."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Store
from storage.models import Answer, AnswerStatus, Task
from storage.tasks import create_task

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def add_task(store: Store, channel: str, answers: list[tuple[str, str, int, int, float | None, float | None]],
             *, created: datetime = NOW, platform: str = "slack") -> None:
    """One task in ``channel`` with answers (model, status, prompt tokens, completion tokens, cost, estimate)."""
    task = Task(platform=platform, channel=channel, requester_id="U1", text="x", created_at=created)
    create_task(store, task, [
        Answer(task_id=0, contestant_id=model, contestant_name=model.upper(), status=status, prompt_tokens=p,
               completion_tokens=c, cost_usd=cost, cost_estimate_usd=estimate, created_at=created)
        for model, status, p, c, cost, estimate in answers])


def usage_fixture(store: Store) -> None:
    """C1: two tasks (alpha $0.01 + $0.02, beta free); C2: one task with alpha still streaming
    (estimate $0.005); an old task 40 days ago (outside every window but all-time)."""
    done, streaming = AnswerStatus.DONE, AnswerStatus.STREAMING
    add_task(store, "C1", [("alpha", done, 100, 200, 0.01, 0.02), ("beta", done, 100, 300, None, 0.0)])
    add_task(store, "C1", [("alpha", done, 50, 100, 0.02, 0.02)], created=NOW - timedelta(days=2))
    add_task(store, "C2", [("alpha", streaming, 0, 0, None, 0.005)])
    add_task(store, "C1", [("alpha", done, 10, 10, 1.0, 1.0)], created=NOW - timedelta(days=40))
