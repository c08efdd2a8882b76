"""An in-memory surface that records everything the core posts: for tests and benchmarks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.messages import Message
from bot.surface import Destination, EditRate, MessageRef, SurfaceError


@dataclass
class Call:
    """One surface call: 'post', 'edit', 'thread' or 'private', with where and what."""

    op: str
    ref: MessageRef
    message: Message | None = None


@dataclass
class MemorySurface:
    """Records posts, edits and threads; ``messages`` holds each message's latest content."""

    platform: str = "memory"
    edit_rate: EditRate | None = None
    workspace: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: dict[MessageRef, Message] = field(default_factory=dict)
    fail_posts_with: str | None = None  # make every post fail with this user message
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def post(self, where: Destination, message: Message) -> MessageRef:
        if self.fail_posts_with:
            raise SurfaceError(self.fail_posts_with)
        ref = MessageRef(where.thread or where.channel, f"m{next(self._ids)}", where.thread)
        self.calls.append(Call("post", ref, message))
        self.messages[ref] = message
        return ref

    async def edit(self, ref: MessageRef, message: Message) -> None:
        if ref not in self.messages:
            raise SurfaceError(f"no such message {ref.message_id}")
        self.calls.append(Call("edit", ref, message))
        self.messages[ref] = message

    async def open_thread(self, parent: MessageRef, name: str) -> Destination:
        self.calls.append(Call("thread", parent, Message(text=name)))
        return Destination(parent.channel, parent.message_id)

    async def reply_privately(self, reply_to: str, message: Message) -> None:
        self.calls.append(Call("private", MessageRef(reply_to, ""), message))

    def private_replies(self) -> list[Call]:
        """Private replies sent from jobs (``reply_privately``), in order."""
        return [c for c in self.calls if c.op == "private"]

    def posts(self, thread: str | None = None) -> list[Call]:
        """Posts, optionally only those in one thread."""
        return [c for c in self.calls if c.op == "post" and (thread is None or c.ref.thread == thread)]

    def edits_of(self, ref: MessageRef) -> list[Call]:
        """Every edit of one message, in order."""
        return [c for c in self.calls if c.op == "edit" and c.ref == ref]
