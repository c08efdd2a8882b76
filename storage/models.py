"""SQLModel tables. Schema changes go through a numbered migration in storage/migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware now in UTC (every datetime column stores aware UTC values)."""
    return datetime.now(UTC)


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"  # the asker stopped it while it streamed (the console's Ctrl-C)


class AnswerStatus(StrEnum):
    PENDING = "pending"
    STREAMING = "streaming"
    DONE = "done"
    ERROR = "error"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


UNFINISHED_TASK = (TaskStatus.PENDING, TaskStatus.RUNNING)  # still being answered (or waiting to be)
UNFINISHED_ANSWER = (AnswerStatus.PENDING, AnswerStatus.STREAMING)


class Task(SQLModel, table=True):
    """A coding task someone asked the arena to compare models on."""

    __table_args__ = (Index("ix_task_channel", "platform", "channel", "created_at"),
                      Index("ix_task_thread", "platform", "thread"),  # a thread's task (follow-ups)
                      Index("ix_task_requester", "platform", "requester_id", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    channel: str
    thread: str | None = None  # where the answers live (Slack thread ts / Discord thread id)
    parent_message_id: str | None = None
    requester_id: str
    requester_name: str = ""
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=TaskStatus.PENDING, index=True)
    blind: bool = False
    revealed: bool = False
    # Where to reply privately to the asker (opaque to the core; the adapter wrote it: a Slack
    # response_url, a Discord interaction token…), so a worker in another process can do it.
    reply_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    anchor: str | None = None  # a message in ``channel`` to open the answer thread on (Discord)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON header fields
    # The task's own tests: [{"name", "language", "source"}] (bot/testing/suite.py), or None.
    tests: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    show_tests: bool = False  # the asker sent the tests to the models too (--show-tests)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    kind: str | None = Field(default=None, index=True)  # kind of work (bot/categories.py)
    language: str | None = Field(default=None, index=True)  # None: the task named none
    tagged_by: str | None = None  # who corrected the category (None: the classifier set it)
    tagged_at: datetime | None = None
    # The channel's instruction (``/codegen prompt set``) when the task was asked, for every model.
    channel_prompt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Waiting for a free slot (CODEGEN_WORKSPACE_CONCURRENT_TASKS): the "N ahead of you" its header
    # shows; None once it started (or when it never waited).
    queue_ahead: int | None = None
    parent_channel: str | None = None  # where the header message is (to edit it while queued)
    # When its contents were deleted (CODEGEN_RETENTION_DAYS, or the asker's forget): texts, answers,
    # code, tests and run output are gone; models, positions, timings, costs and ratings stay.
    expired_at: datetime | None = None
    # Follow-ups (bot/followups.py): a turn after the first is a task of its own whose ``root_id``
    # is the first turn's task; ``turn`` counts from 1 (the task itself).
    root_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    turn: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    # Text files attached to the request, sent to every model after the task: [{"name", "text"}]
    # (bot/attachments.py), or None.
    files: list[dict[str, str]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))


class Answer(SQLModel, table=True):
    """One contestant's answer to a task."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    contestant_id: str = Field(index=True)
    contestant_name: str = ""
    position: int = 0  # randomised display order, recorded for position-bias analysis
    label: str = ""  # "A", "B", ... (shown instead of the name in blind mode)
    status: str = Field(default=AnswerStatus.PENDING)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    code: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    language: str | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    message_channel: str | None = None
    message_id: str | None = Field(default=None, index=True)
    latency_ms: float | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cost_estimate_usd: float | None = None  # the budget's estimate when asked (counts while unfinished)
    finish_reason: str | None = None
    truncated: bool = False  # cut at the length cap: kept, but not a clean success
    attempts: int = 0  # times a worker started streaming it (crash recovery gives up after a few)
    chars: int | None = None  # the text's length, kept when the text expires (the length-bias check)
    # Earlier turns left out of this answer's prompt to fit its model's ``context_tokens``.
    context_dropped: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Rating(SQLModel, table=True):
    """A rater's current rating of an answer on one scale ('thumbs' 0/1 or 'stars' 1-5).

    ``event_us`` is the platform time (µs since the epoch) of the event that last set the row; an
    older event never overwrites it. A retraction keeps the row as a tombstone (``retracted``) so a
    late, older "add" cannot bring the rating back; the leaderboard and exports skip tombstones.
    """

    __table_args__ = (UniqueConstraint("answer_id", "rater_id", "scale", name="uq_rating"),)

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    rater_id: str
    scale: str
    value: int
    emoji: str = ""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    event_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    retracted: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class Run(SQLModel, table=True):
    """One sandbox execution of an answer's code."""

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    requester_id: str
    language: str = ""
    exit_code: int | None = None
    signal: str | None = None  # e.g. "SIGKILL"
    stdout: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    stderr: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    duration_ms: float | None = None
    timed_out: bool = False
    memory_exceeded: bool = False
    truncated: bool = False
    error: str | None = None  # the sandbox could not run it at all
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LeaderboardPost(SQLModel, table=True):
    """The weekly post for one channel and ISO week: claimed before posting, exactly once."""

    __table_args__ = (UniqueConstraint("platform", "channel", "iso_week", name="uq_leaderboard_post"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    channel: str
    iso_week: str  # e.g. "2026-W48"
    message_id: str | None = None
    claimed_by: str = ""
    claimed_at: datetime = Field(default_factory=utcnow)
    posted_at: datetime | None = None


class ChannelSettings(SQLModel, table=True):
    """Per-channel preferences: weekly post, blind mode, smoke runs, roster, prompt, budgets."""

    __table_args__ = (UniqueConstraint("platform", "channel", name="uq_channel_settings"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    channel: str
    subscribed: bool = False
    blind: bool = False
    autorun: bool = False  # smoke-run every answer's code once (tasks without tests)
    models: str | None = None  # comma-separated contestant ids; None = all available
    updated_at: datetime = Field(default_factory=utcnow)
    prompt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # added to every system prompt
    budget_daily_usd: float | None = None  # None: the workspace default (CODEGEN_BUDGET_DAILY_USD)
    budget_monthly_usd: float | None = None


class SettingsChange(SQLModel, table=True):
    """One change of a channel setting: who, when, which key, old → new (as shown to people)."""

    __tablename__ = "settings_change"
    __table_args__ = (Index("ix_settings_change_channel", "platform", "channel", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    channel: str
    user_id: str
    user_name: str = ""
    key: str
    old: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class TestResult(SQLModel, table=True):
    """An answer's automatic run: against its task's tests (``kind`` "tests") or a smoke run.

    One row per answer (its key makes the run idempotent). ``status`` is one of
    :class:`bot.testing.outcome.Status`; ``report`` holds the failures and the code's output tail.
    """

    __test__ = False  # not a pytest test class, despite the name
    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", unique=True)
    kind: str = "tests"
    status: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    total: int = 0
    duration_ms: float | None = None
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    shown_at: datetime | None = None  # when the answer's footer was edited to show it


class PseudonymKey(SQLModel, table=True):
    """The random key of rater pseudonyms (one row, made on first use): expired ratings keep
    ``HMAC(key, rater id)`` instead of the id, and the ranking groups every rating that way."""

    __tablename__ = "pseudonym_key"
    id: int = Field(default=1, primary_key=True)
    key: str


class ProcessedEvent(SQLModel, table=True):
    """Platform deliveries already handled (Slack/Discord retries are dropped by key)."""

    key: str = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class RateCounter(SQLModel, table=True):
    """A fixed-window counter of a shared rate budget (e.g. Slack chat.update per workspace).

    Used on PostgreSQL, where every process shares it; one process on SQLite counts in memory.
    """

    key: str = Field(primary_key=True)
    count: int = 0
    expires_at: datetime = Field(default_factory=utcnow)
