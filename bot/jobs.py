"""Durable jobs: the only thing that crosses from the process that takes an event to the one
that does the work.

A job is a frozen dataclass of plain values (ids, not objects): everything else is read from
storage when it runs, so any worker process can run any job, and running one twice is harmless
(each executor first checks whether its work is already done). Jobs are deferred through a
:class:`JobQueue`: :class:`bot.inprocess.InProcessQueue` in one process (SQLite, the console,
tests), ``storage.pgqueue.ProcrastinateQueue`` on PostgreSQL, where several processes share it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class Job:
    """Base of every job. ``lock`` serialises jobs on one thing; ``queueing_lock`` keeps at most
    one of them waiting (a second defer while one is queued is dropped)."""

    kind: ClassVar[str] = "job"

    @property
    def lock(self) -> str | None:
        return None

    @property
    def queueing_lock(self) -> str | None:
        return None

    def to_dict(self) -> dict[str, Any]:
        """The job's fields as JSON-able values."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StartTask(Job):
    """Post a task's header and one placeholder per answer, then defer an :class:`AnswerJob` each."""

    kind: ClassVar[str] = "start_task"
    task_id: int

    @property
    def lock(self) -> str:
        return f"task:{self.task_id}"

    @property
    def queueing_lock(self) -> str:
        return f"start:{self.task_id}"


@dataclass(frozen=True)
class AnswerJob(Job):
    """Ask one contestant, stream its answer into its message, and finish it."""

    kind: ClassVar[str] = "answer"
    answer_id: int

    @property
    def lock(self) -> str:
        return f"answer:{self.answer_id}"

    @property
    def queueing_lock(self) -> str:
        return f"answer:{self.answer_id}"


@dataclass(frozen=True)
class RunJob(Job):
    """Run an answer's code in the sandbox for a user and post the result in the task's thread."""

    kind: ClassVar[str] = "run"
    answer_id: int
    user_id: str
    user_name: str = ""


@dataclass(frozen=True)
class RevealJob(Job):
    """Reveal a blind task's model names in its thread."""

    kind: ClassVar[str] = "reveal"
    task_id: int

    @property
    def lock(self) -> str:
        return f"task:{self.task_id}"


@dataclass(frozen=True)
class TestRunJob(Job):
    """Run a finished answer against its task's tests (or once, for a smoke run) and show it."""

    __test__ = False  # not a pytest class
    kind: ClassVar[str] = "test_run"
    answer_id: int

    @property
    def queueing_lock(self) -> str:
        return f"test_run:{self.answer_id}"


JOB_TYPES: dict[str, type[Job]] = {cls.kind: cls for cls in (StartTask, AnswerJob, RunJob, RevealJob, TestRunJob)}


def job_from_dict(kind: str, values: dict[str, Any]) -> Job:
    """Rebuild a job from :meth:`Job.to_dict` output (raises KeyError for an unknown kind)."""
    return JOB_TYPES[kind](**values)


class JobQueue(Protocol):
    """Where jobs go. ``defer`` returns once the job is durably queued (or running, in-process)."""

    async def defer(self, jobs: Sequence[Job]) -> None:
        """Queue ``jobs`` (in order)."""
        ...
