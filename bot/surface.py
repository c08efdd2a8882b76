"""The surface: the small protocol through which the core talks to a chat platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.messages import Message


@dataclass(frozen=True)
class Destination:
    """Where to post: a channel, optionally a thread in it (Slack thread ts, Discord thread id)."""

    channel: str
    thread: str | None = None


@dataclass(frozen=True)
class MessageRef:
    """A posted message: enough to edit it later or to find it from a reaction.

    ``channel`` is the channel (or Discord thread) that holds the message; ``message_id`` is the
    Slack ``ts`` or the Discord snowflake.
    """

    channel: str
    message_id: str
    thread: str | None = None


@dataclass(frozen=True)
class EditRate:
    """A platform's edit budget: ``limit`` edits per ``per_seconds`` for each scope key."""

    limit: int
    per_seconds: int
    scope: str = "all"  # "all": one budget per workspace; "channel": one per channel


@runtime_checkable
class Surface(Protocol):
    """What an adapter offers the core. Every method may raise :class:`SurfaceError`.

    ``edit_rate`` is the platform's edit budget (None: no limit worth scheduling for) and
    ``workspace`` names whose budget it is (a Slack team; empty when there is one).

    A surface may also set ``rating_hint``: its own wording for how to rate an answer there
    (see :func:`rating_hint`); chat platforms, where people react with emoji, need not.
    """

    platform: str
    edit_rate: EditRate | None
    workspace: str

    async def post(self, where: Destination, message: Message) -> MessageRef:
        """Post a new message and return its reference."""
        ...

    async def edit(self, ref: MessageRef, message: Message) -> None:
        """Replace a posted message's content (streaming updates, final answers)."""
        ...

    async def open_thread(self, parent: MessageRef, name: str) -> Destination:
        """Return the destination for replies threaded under ``parent`` (creating it if needed)."""
        ...

    async def reply_privately(self, reply_to: str, message: Message) -> None:
        """Tell one user something only they see. ``reply_to`` is what this adapter put in the
        event (a Slack response_url, a Discord interaction…); any process can use it."""
        ...


REACTION_RATING_HINT = "React 👍/👎 or 1️⃣–5️⃣ on an answer to rate it."


def rating_hint(surface: Surface) -> str:
    """How to rate an answer on ``surface``: its ``rating_hint`` if it has one, else by reactions."""
    hint = getattr(surface, "rating_hint", None)
    return hint if isinstance(hint, str) else REACTION_RATING_HINT


@runtime_checkable
class FindsMarkedPosts(Protocol):
    """A surface that can find its own recent post by the ``Message.marker`` it was posted with."""

    async def find_recent(self, where: Destination, marker: str) -> MessageRef | None:
        """The newest recent top-level post of ours in ``where`` tagged ``marker``, if any."""
        ...


@runtime_checkable
class KnowsAdmins(Protocol):
    """A surface that can say whether a user administers its workspace (Slack: admins and owners)."""

    async def is_workspace_admin(self, user_id: str) -> bool:
        """Whether ``user_id`` is a workspace admin or owner (False when it cannot tell)."""
        ...


class SurfaceError(Exception):
    """A platform refused an operation; ``user_message`` is safe to show the user.

    ``transient`` says trying again later may work (rate limits, network, platform outages);
    ``retry_after`` is how long the platform asked to wait, when it said.
    """

    def __init__(self, user_message: str, *, retry_after: float | None = None, transient: bool = False) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.retry_after = retry_after
        self.transient = transient or retry_after is not None
