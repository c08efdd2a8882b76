"""SQL for retention and deletion (issue 12): tasks' contents expire, and a user can be forgotten.

Expiring a task deletes its contents: the task's text, tests, attached files and channel prompt, its answers'
text, code and errors, its runs' output and its test reports. What the leaderboard and the spend
figures read stays: the task's time, platform, channel and category, each answer's model,
position, status, timings, tokens, cost and length (``answer.chars``), each run's exit status,
each test result's counts, and each rating's value, scale and time, with the rater replaced by a
pseudonym. Pseudonyms are ``HMAC(key, rater id)`` with one random key kept in the database
(``pseudonym_key``); :func:`storage.ratings.ranking_rows` groups every rating by pseudonym, expired
or not, so the standings are the same before and after.

Forgetting a user (:func:`forget`) deletes their ratings and runs, clears their tasks' contents the
same way and names them ``forgotten`` as asker and in the settings audit; other people's rows are
left as they are. Both work in batches, each in one transaction that also marks its tasks done
(``task.expired_at`` / the ``forgotten`` asker), so a run that is interrupted is simply run again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from storage.db import Store
from storage.models import (
    UNFINISHED_ANSWER,
    UNFINISHED_TASK,
    Answer,
    AnswerStatus,
    PseudonymKey,
    Rating,
    Run,
    SettingsChange,
    Task,
    TaskStatus,
    TestResult,
    utcnow,
)

PREFIX = "anon-"  # every pseudonym starts so (a platform user id never does)
FORGOTTEN = "forgotten"  # the asker or settings changer who was forgotten
FORGOTTEN_NAME = "a forgotten user"
BATCH = 200
_TASKS: Table = Task.__table__  # type: ignore[attr-defined]
_ANSWERS: Table = Answer.__table__  # type: ignore[attr-defined]
_RATINGS: Table = Rating.__table__  # type: ignore[attr-defined]
_RUNS: Table = Run.__table__  # type: ignore[attr-defined]


def pseudonymiser(store: Store) -> Callable[[str], str]:
    """The function from a rater id to its pseudonym (a pseudonym maps to itself)."""
    secret = _key(store)
    memo: dict[str, str] = {}

    def pseudonym(rater_id: str) -> str:
        if rater_id.startswith(PREFIX) or rater_id == FORGOTTEN:
            return rater_id
        found = memo.get(rater_id)
        if found is None:
            found = memo[rater_id] = PREFIX + hmac.new(secret, rater_id.encode(), hashlib.sha256).hexdigest()[:20]
        return found

    return pseudonym


_KEYS: weakref.WeakKeyDictionary[Store, bytes] = weakref.WeakKeyDictionary()


def _key(store: Store) -> bytes:
    """The database's pseudonym key, made on first use (every process then reads the same one);
    read once per Store, as it never changes (the leaderboard asks for it on every board)."""
    found = _KEYS.get(store)
    if found is None:
        with store.engine.begin() as conn:
            key = conn.execute(select(col(PseudonymKey.key)).where(col(PseudonymKey.id) == 1)).scalar()
            if key is None:
                conn.execute(store.upsert(PseudonymKey).values(id=1, key=secrets.token_hex(32)).on_conflict_do_nothing())
                key = conn.execute(select(col(PseudonymKey.key)).where(col(PseudonymKey.id) == 1)).scalar_one()
        found = _KEYS[store] = bytes.fromhex(key)
    return found


def expire(store: Store, created_before: datetime, batch: int = BATCH) -> int:
    """Delete the contents of up to ``batch`` tasks created before ``created_before`` that still
    have them; returns how many (0: nothing is left to do)."""
    pseudonym = pseudonymiser(store)
    with store.engine.begin() as conn:
        ids = list(conn.execute(select(_TASKS.c.id).where(
            _TASKS.c.created_at < created_before, _TASKS.c.expired_at.is_(None)).order_by(_TASKS.c.id).limit(batch))
            .scalars())
        _clear(conn, ids, pseudonym, expiring=True)
    return len(ids)


def _clear(conn: Connection, task_ids: Sequence[int], requester: Callable[[str], str], *, expiring: bool) -> None:
    """Delete the contents of ``task_ids`` (see the module docstring); the asker becomes
    ``requester(id)``. ``expiring``: also pseudonymise every rater and run requester, drop the
    tombstones of retracted ratings and mark the tasks expired (forgetting an asker leaves other
    people's rows alone: retention does that when the task's time comes)."""
    if not task_ids:
        return
    rater = requester if expiring else None
    answer_ids = list(conn.execute(select(_ANSWERS.c.id).where(_ANSWERS.c.task_id.in_(task_ids))).scalars())
    if answer_ids:
        in_answers = _ANSWERS.c.id.in_(answer_ids)
        conn.execute(update(_ANSWERS).where(in_answers, _ANSWERS.c.status.in_(UNFINISHED_ANSWER))
                     .values(status=AnswerStatus.INTERRUPTED, finished_at=utcnow()))
        conn.execute(update(_ANSWERS).where(in_answers).values(
            chars=func.coalesce(_ANSWERS.c.chars, func.length(_ANSWERS.c.text)), text="", code=None, error=None))
        conn.execute(update(TestResult).where(col(TestResult.answer_id).in_(answer_ids)).values(report=None))
        conn.execute(update(_RUNS).where(_RUNS.c.answer_id.in_(answer_ids)).values(stdout="", stderr=""))
        if rater is not None:
            conn.execute(delete(_RATINGS).where(_RATINGS.c.answer_id.in_(answer_ids), _RATINGS.c.retracted))
            _rename(conn, _RATINGS, "rater_id", _RATINGS.c.answer_id.in_(answer_ids), rater)
            _rename(conn, _RUNS, "requester_id", _RUNS.c.answer_id.in_(answer_ids), rater)
    in_tasks = _TASKS.c.id.in_(task_ids)
    conn.execute(update(_TASKS).where(in_tasks, _TASKS.c.status.in_(UNFINISHED_TASK))
                 .values(status=TaskStatus.INTERRUPTED, finished_at=utcnow()))
    conn.execute(update(_TASKS).where(in_tasks).values(
        text="", tests=None, files=None, channel_prompt=None, reply_to=None, requester_name="", queue_ahead=None))
    _rename(conn, _TASKS, "requester_id", in_tasks, requester)
    if rater is not None:
        conn.execute(update(_TASKS).where(in_tasks).values(expired_at=utcnow()))
        _rename(conn, _TASKS, "tagged_by", in_tasks & _TASKS.c.tagged_by.is_not(None), rater)


def _rename(conn: Connection, table: Table, column: str, where: Any, to: Callable[[str], str]) -> None:
    """Set ``column`` to ``to(value)`` on the rows ``where`` selects (only where it changes)."""
    rows = conn.execute(select(table.c.id, table.c[column]).where(where)).all()
    changes = [{"row_id": row_id, "new_value": to(value)} for row_id, value in rows if to(value) != value]
    if changes:
        conn.execute(update(table).where(table.c.id == bindparam("row_id")).values({column: bindparam("new_value")}),
                     changes)


# ------------------------------------------------------------------------------ forget


@dataclass(frozen=True)
class Forgotten:
    """What forgetting a user deletes (or did): their tasks and ratings, their runs, settings changes."""

    tasks: int
    ratings: int
    runs: int
    settings_changes: int


def _platform_answers(platform: str | None) -> Any:
    query = select(_ANSWERS.c.id).join(_TASKS, _TASKS.c.id == _ANSWERS.c.task_id)
    return query.where(_TASKS.c.platform == platform) if platform else query


def _theirs(column: Any, user_id: str, pseudonym: Callable[[str], str]) -> Any:
    return or_(column == user_id, column == pseudonym(user_id))


def _user_tasks(user_id: str, platform: str | None, pseudonym: Callable[[str], str]) -> Any:
    where = _theirs(_TASKS.c.requester_id, user_id, pseudonym)
    return where & (_TASKS.c.platform == platform) if platform else where


def forget_counts(store: Store, user_id: str, platform: str | None = None) -> Forgotten:
    """What :func:`forget` would delete for ``user_id`` (on ``platform``, or every platform)."""
    pseudonym = pseudonymiser(store)
    answers = _platform_answers(platform)
    with store.engine.connect() as conn:
        def count(table: Table, where: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar() or 0)

        return Forgotten(
            tasks=count(_TASKS, _user_tasks(user_id, platform, pseudonym)),
            ratings=count(_RATINGS, _theirs(_RATINGS.c.rater_id, user_id, pseudonym) & ~_RATINGS.c.retracted
                          & _RATINGS.c.answer_id.in_(answers)),
            runs=count(_RUNS, _theirs(_RUNS.c.requester_id, user_id, pseudonym) & _RUNS.c.answer_id.in_(answers)),
            settings_changes=count(SettingsChange.__table__, _changes(user_id, platform)),  # type: ignore[attr-defined]
        )


def _changes(user_id: str, platform: str | None) -> Any:
    where = col(SettingsChange.user_id) == user_id
    return where & (col(SettingsChange.platform) == platform) if platform else where


def forget(store: Store, user_id: str, platform: str | None = None, batch: int = BATCH) -> Forgotten:
    """Delete ``user_id``'s ratings and runs and their tasks' contents (on ``platform``, or every
    platform), and name them "a forgotten user" in the settings audit. Their tasks keep their
    anonymous skeleton (models, costs: the channel's spend) and other people's ratings of them.
    Repeatable: a second run finds nothing left. Returns what this run deleted."""
    pseudonym = pseudonymiser(store)
    answers = _platform_answers(platform)
    with store.engine.begin() as conn:
        theirs = _theirs(_RATINGS.c.rater_id, user_id, pseudonym) & _RATINGS.c.answer_id.in_(answers)
        ratings = int(conn.execute(select(func.count()).select_from(_RATINGS).where(theirs & ~_RATINGS.c.retracted))
                      .scalar() or 0)
        conn.execute(delete(_RATINGS).where(theirs))
        runs = conn.execute(delete(_RUNS).where(
            _theirs(_RUNS.c.requester_id, user_id, pseudonym), _RUNS.c.answer_id.in_(answers)))
        tagged = _theirs(_TASKS.c.tagged_by, user_id, pseudonym)
        conn.execute(update(_TASKS).where(tagged & (_TASKS.c.platform == platform) if platform else tagged)
                     .values(tagged_by=FORGOTTEN))
        changes = conn.execute(update(SettingsChange).where(_changes(user_id, platform))
                               .values(user_id=FORGOTTEN, user_name=FORGOTTEN_NAME))
    tasks = 0
    while True:
        with store.engine.begin() as conn:
            ids = list(conn.execute(select(_TASKS.c.id).where(_user_tasks(user_id, platform, pseudonym))
                                    .order_by(_TASKS.c.id).limit(batch)).scalars())
            _clear(conn, ids, lambda _: FORGOTTEN, expiring=False)
        tasks += len(ids)
        if len(ids) < batch:
            break
    return Forgotten(tasks=tasks, ratings=ratings, runs=int(runs.rowcount or 0),
                     settings_changes=int(changes.rowcount or 0))
