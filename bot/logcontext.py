"""Task and answer ids on every log line emitted while handling them.

The arena binds the ids (:func:`bind`) where it starts a task and streams an answer; they live in
context variables, so they follow the work into the tasks it spawns and nowhere else.
:func:`install` (called by the CLI's logging set-up) makes every log record carry them as
``record.task_id``, ``record.answer_id`` and ``record.context`` (" task=12 answer=34", or "" outside
any task), whatever logger emitted it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

_task: ContextVar[int | None] = ContextVar("codegen_task_id", default=None)
_answer: ContextVar[int | None] = ContextVar("codegen_answer_id", default=None)
FORMAT = "%(asctime)s %(levelname)s %(name)s:%(context)s %(message)s"


def bind(*, task: int | None = None, answer: int | None = None) -> None:
    """Tag what follows in this context with a task id (and an answer id)."""
    if task is not None:
        _task.set(task)
    if answer is not None:
        _answer.set(answer)


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Undo, on leaving, whatever :func:`bind` set inside the block."""
    task, answer = _task.set(_task.get()), _answer.set(_answer.get())
    try:
        yield
    finally:
        _task.reset(task)
        _answer.reset(answer)


def current() -> tuple[int | None, int | None]:
    """(task id, answer id) bound here, if any."""
    return _task.get(), _answer.get()


def describe() -> str:
    """' task=12 answer=34' for the current context ('' outside a task)."""
    task, answer = _task.get(), _answer.get()
    return (f" task={task}" if task is not None else "") + (f" answer={answer}" if answer is not None else "")


def _stamp(record: logging.LogRecord) -> logging.LogRecord:
    record.task_id, record.answer_id = _task.get(), _answer.get()
    record.context = describe()
    return record


_installed = False


def install() -> None:
    """Stamp every log record created from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _stamp(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


install()
