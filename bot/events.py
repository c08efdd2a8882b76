"""Core events: the only language between adapters and the core.

An adapter builds one of these from a platform payload and hands it to
:meth:`bot.arena.Arena.handle`. ``notify`` replies privately to the user who caused the event
(ephemeral in Slack, an ephemeral interaction reply in Discord, a line in the console); it is
how the core reports usage help and errors, never a silent drop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.messages import Message
from bot.surface import MessageRef

Notify = Callable[[Message], Awaitable[None]]
log = logging.getLogger(__name__)


async def _drop(message: Message) -> None:
    return None


@dataclass(frozen=True)
class User:
    """Who did something: platform user id and a display name (never used to ping). ``admin``: the
    platform says they administer the server (Discord: Manage Server); bot/permissions.py decides."""

    id: str
    name: str = ""
    admin: bool = False


@dataclass(frozen=True, kw_only=True)
class Event:
    """Fields every event carries."""

    platform: str
    user: User
    event_id: str | None = None  # platform delivery id, for deduplicating retries
    notify: Notify = field(default=_drop, compare=False, repr=False)
    # How the adapter can reply privately to this user later, from any process (see
    # ``Surface.reply_privately``); None when it cannot (then only ``notify`` works).
    reply_to: str | None = field(default=None, compare=False, repr=False)


async def notify_safely(event: Event, message: Message) -> None:
    """Reply privately to the event's user; a failure to deliver is logged, never raised."""
    try:
        await event.notify(message)
    except Exception:
        log.exception("could not notify %s", event.user.id)


@dataclass(frozen=True)
class AttachedFile:
    """A file attached to a request (filled by the adapters: Slack ``files``, Discord attachments).

    ``size`` and ``mimetype`` are what the platform said (the adapter does not fetch what
    :func:`bot.attachments.to_read` would skip, so ``content`` is then empty); ``error`` says why
    a fetch failed ("HTTP 404", "not on Slack's file host"), None when it did not."""

    name: str
    content: bytes = b""
    size: int | None = None
    mimetype: str | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class TaskRequested(Event):
    """Someone asked for a comparison.

    ``thread`` is set when the request came from inside a thread (answers go there).
    ``anchor`` is a message to open the answer thread on (Discord: the triggering message);
    without either, the core posts a parent message in ``channel`` and threads under it.
    ``tests`` are test snippets given beside the text (Discord's ``test:`` option; in the text
    they are ``--test "…"``), ``show_tests`` sends them to the models too, and ``files`` are the
    request's attachments (those named like tests become the task's tests).

    In a task's thread the request is a follow-up to that task (the core decides: bot/followups.py).
    ``follows`` names the task to continue outright (the console), ``only`` the answer label it
    goes to (else a ``B:`` prefix of the text does, else every model), and ``replying_to`` the
    message it replies to (Discord: a reply to an answer continues that answer's model).
    """

    channel: str
    text: str
    thread: str | None = None
    anchor: MessageRef | None = None
    models: tuple[str, ...] | None = None
    tests: tuple[str, ...] = ()
    show_tests: bool = False
    files: tuple[AttachedFile, ...] = ()
    follows: int | None = None
    only: str | None = None
    replying_to: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReactionChanged(Event):
    """A reaction was added to or removed from a message. ``emoji`` is its short name.

    ``occurred_us`` is when it happened (µs since the epoch: Slack's ``event_ts``, Discord's
    receive time); ratings apply events in that order. None: when the core handles it."""

    channel: str
    message_id: str
    emoji: str
    added: bool
    occurred_us: int | None = None


@dataclass(frozen=True, kw_only=True)
class RunRequested(Event):
    """Someone pressed Run on an answer."""

    answer_id: int
    channel: str = ""
    thread: str | None = None


@dataclass(frozen=True, kw_only=True)
class RetryRequested(Event):
    """Someone pressed Retry on a failed answer."""

    answer_id: int


@dataclass(frozen=True, kw_only=True)
class LeaderboardRequested(Event):
    """Someone asked for the standings. ``window`` is e.g. '28d', '7d' or 'all'; ``category`` a
    kind of work or language as typed ('data', 'python'; the core checks it), None for all tasks."""

    channel: str
    window: str = "28d"
    category: str | None = None


@dataclass(frozen=True, kw_only=True)
class TagRequested(Event):
    """Someone corrects a task's category: ``tags`` as typed ('data', 'sql'); the core checks them.

    ``task_id`` is None when the adapter found no task number where one was expected.
    """

    task_id: int | None
    tags: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DashboardRequested(Event):
    """Someone asked for a link to the web dashboard (answered privately, signed, expiring)."""


@dataclass(frozen=True, kw_only=True)
class SubscriptionChanged(Event):
    """A channel (un)subscribes from the weekly leaderboard post."""

    channel: str
    subscribed: bool


@dataclass(frozen=True, kw_only=True)
class BlindModeChanged(Event):
    """A channel turns blind mode (answers labelled A/B/C, names revealed later) on or off."""

    channel: str
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class AutorunChanged(Event):
    """A channel turns smoke runs (every answer's code run once, for tasks without tests) on or off."""

    channel: str
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class RevealRequested(Event):
    """The asker wants a blind task's model names revealed."""

    task_id: int


@dataclass(frozen=True, kw_only=True)
class ControlRequested(Event):
    """A channel control (issue 12): ``control`` is settings, models, prompt, budget or usage and
    ``args`` the rest as typed ("use a,b", "set <text>", "5/day 50/month", "7d"); the core checks them
    (see :func:`bot.controls.parse_control`)."""

    channel: str
    control: str
    args: str = ""
