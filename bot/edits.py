"""The one edit throttle: every edit of a posted message goes through an :class:`Editor`.

A platform caps how often a bot may edit (Slack's ``chat.update`` is Tier 3: about 50 a minute
per workspace; Discord about 5 per 5 s per channel). Several answers streaming at once would
burn that budget and set off a storm of 429s, so one editor per surface schedules them:

- final edits (an answer's finished state) go first, and are retried with backoff, honouring
  Retry-After, until they land (or the message is gone, or ``give_up_after`` passes);
- progress edits of live messages are round-robin: the message edited longest ago goes next,
  at most one edit per message per ``interval``, and an edit that fails is simply dropped
  (the next one carries newer content);
- never two edits of one message in flight, so an older state can never overwrite a newer one;
- each edit first takes a token from a :class:`Budget` that every process talking to the same
  workspace shares (PostgreSQL; in memory when there is one process).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from bot.messages import Message
from bot.surface import EditRate, MessageRef, Surface, SurfaceError

log = logging.getLogger(__name__)


class Budget(Protocol):
    """Shared tokens. ``take`` returns 0 when one was taken, else the seconds until one may be."""

    async def take(self, key: str, rate: EditRate) -> float:
        ...


class LimitsBudget:
    """A :class:`Budget` on the `limits` library's fixed windows, over any of its async storages
    (memory for one process; ``storage.rate_budget.PostgresStorage`` to share across processes)."""

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage or MemoryStorage()
        self.limiter = FixedWindowRateLimiter(self.storage)

    async def take(self, key: str, rate: EditRate) -> float:
        item = RateLimitItemPerSecond(rate.limit, rate.per_seconds)
        if await self.limiter.hit(item, key):
            return 0.0
        stats = await self.limiter.get_window_stats(item, key)
        return max(0.05, stats.reset_time - time.time())


@dataclass
class LiveEdit:
    """A message that follows changing content (see :meth:`Editor.live`)."""

    ref: MessageRef
    render: Callable[[], Message]
    editor: Editor
    context: contextvars.Context = field(default_factory=contextvars.copy_context)  # the owner's (log ids)
    dirty: bool = False
    closed: bool = False
    last_sent: float = float("-inf")
    edits: int = 0

    def touch(self) -> None:
        """Note that the content changed (cheap; call it on every streamed piece)."""
        if not self.dirty and not self.closed:
            self.dirty = True
            self.editor._due(self)

    def close(self) -> None:
        """No more progress edits (the caller then sends the final state)."""
        self.closed = True
        self.editor._live.pop(self.ref, None)


@dataclass
class _Final:
    ref: MessageRef
    message: Message
    done: asyncio.Future[bool]
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    not_before: float = 0.0
    attempt: int = 0
    give_up_at: float = 0.0


@dataclass
class Editor:
    """Schedules the edits of one surface (see the module docstring)."""

    surface: Surface
    interval: float = 1.0
    budget: Budget | None = None
    rate: EditRate | None = None
    budget_scope: str = ""  # e.g. the Slack workspace; part of every budget key
    concurrency: int = 8
    max_backoff: float = 60.0
    _live: dict[MessageRef, LiveEdit] = field(default_factory=dict)
    # Dirty live messages by when they were last edited (the longest ago first); an entry whose
    # message was edited, closed or replaced since is dropped when it comes up.
    _dirty: list[tuple[float, int, LiveEdit]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _finals: deque[_Final] = field(default_factory=deque)
    _busy: set[MessageRef] = field(default_factory=set)
    _blocked_until: float = 0.0
    _event: asyncio.Event = field(default_factory=asyncio.Event)
    _loop_task: asyncio.Task[None] | None = None
    _slots: asyncio.Semaphore | None = None
    _sending: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def busy(self) -> bool:
        """True while a message follows live content or an edit is waiting or in flight."""
        return bool(self._live or self._finals or self._busy)

    def live(self, ref: MessageRef, render: Callable[[], Message]) -> LiveEdit:
        """Follow ``render()`` in ``ref``: edited after :meth:`LiveEdit.touch`, within budget."""
        handle = LiveEdit(ref, render, self, last_sent=time.monotonic())
        self._live[ref] = handle
        return handle

    async def final(self, ref: MessageRef, message: Message, *, give_up_after: float = 900.0) -> bool:
        """Put ``message`` in ``ref`` for good: True once it landed, False if the platform says
        the message is gone or it could not land within ``give_up_after`` seconds."""
        live = self._live.pop(ref, None)
        if live is not None:
            live.closed = True
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._finals.append(_Final(ref, message, done, give_up_at=time.monotonic() + give_up_after))
        self._wake()
        return await asyncio.shield(done)

    # ---------------------------------------------------------------------------- scheduling

    def _due(self, handle: LiveEdit) -> None:
        """``handle`` became dirty: it waits its turn."""
        heapq.heappush(self._dirty, (handle.last_sent, next(self._order), handle))
        self._wake()

    def _wake(self) -> None:
        self._event.set()
        if self._loop_task is None or self._loop_task.done():
            self._slots = asyncio.Semaphore(self.concurrency)
            # The scheduler belongs to no answer; each send runs in its message's owner's context,
            # so its log lines carry that task's and answer's ids.
            self._loop_task = asyncio.get_running_loop().create_task(
                self._loop(), name="editor", context=contextvars.Context())

    async def _loop(self) -> None:
        assert self._slots is not None
        while self._live or self._finals or self._busy:
            job, wait = self._next()
            if job is None:
                self._event.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), timeout=wait)
                continue
            self._busy.add(job.ref)
            try:
                await self._take_budget(job.ref)  # in the loop: edits leave in the order picked
                await self._slots.acquire()
            except BaseException:
                self._busy.discard(job.ref)
                if isinstance(job, _Final):
                    self._finals.appendleft(job)
                raise
            self._sending.add(asyncio.get_running_loop().create_task(self._send(job), context=job.context.copy()))
        self._dirty.clear()  # no live message is left: only stale entries
        self._loop_task = None

    def _next(self) -> tuple[_Final | LiveEdit | None, float]:
        """What to send now, or (None, seconds worth waiting before looking again)."""
        now = time.monotonic()
        if now < self._blocked_until:
            return None, self._blocked_until - now
        wait = 1.0
        for final in self._finals:
            if final.ref in self._busy:
                continue
            if final.not_before > now:
                wait = min(wait, final.not_before - now)
                continue
            self._finals.remove(final)
            return final, 0.0
        best: LiveEdit | None = None
        dirty, aside = self._dirty, []
        while dirty:
            last_sent, _, handle = dirty[0]
            if (not handle.dirty or handle.closed or handle.last_sent != last_sent
                    or self._live.get(handle.ref) is not handle):
                heapq.heappop(dirty)  # edited, closed or replaced since it was queued
            elif handle.ref in self._busy:
                aside.append(heapq.heappop(dirty))  # its last edit is still in flight
            elif last_sent + self.interval > now:
                wait = min(wait, last_sent + self.interval - now)
                break
            else:
                best = heapq.heappop(dirty)[2]
                break
        for entry in aside:
            heapq.heappush(dirty, entry)
        return best, wait

    async def _take_budget(self, ref: MessageRef) -> None:
        if self.budget is None or self.rate is None:
            return
        key = f"edits:{self.surface.platform}:{self.budget_scope}"
        if self.rate.scope == "channel":
            key += f":{ref.channel}"
        while (wait := await self.budget.take(key, self.rate)) > 0:
            await asyncio.sleep(wait)

    async def _send(self, job: _Final | LiveEdit) -> None:
        assert self._slots is not None
        try:
            if isinstance(job, LiveEdit):
                await self._send_progress(job)
            else:
                await self._send_final(job)
        except Exception:  # never let the scheduler die with a job half-done
            log.exception("edit of %s failed unexpectedly", job.ref.message_id)
            if isinstance(job, _Final) and not job.done.done():
                job.done.set_result(False)
        finally:
            self._busy.discard(job.ref)
            self._slots.release()
            task = asyncio.current_task()
            if task is not None:
                self._sending.discard(task)
            self._wake()

    async def _send_progress(self, handle: LiveEdit) -> None:
        if handle.closed:
            return
        handle.dirty = False
        handle.last_sent = time.monotonic()
        try:
            await self.surface.edit(handle.ref, handle.render())
            handle.edits += 1
        except SurfaceError as exc:
            log.info("progress edit of %s dropped: %s", handle.ref.message_id, exc.user_message)
            self._note_retry_after(exc)

    async def _send_final(self, job: _Final) -> None:
        try:
            await self.surface.edit(job.ref, job.message)
        except SurfaceError as exc:
            self._note_retry_after(exc)
            now = time.monotonic()
            if not exc.transient or now >= job.give_up_at:
                log.warning("final edit of %s abandoned: %s", job.ref.message_id, exc.user_message)
                job.done.set_result(False)
                return
            job.attempt += 1
            pause = exc.retry_after if exc.retry_after else min(self.max_backoff, 0.5 * 2 ** job.attempt)
            job.not_before = now + pause
            log.info("final edit of %s failed (%s); retrying in %.1f s", job.ref.message_id, exc.user_message, pause)
            self._finals.appendleft(job)
            return
        job.done.set_result(True)

    def _note_retry_after(self, exc: SurfaceError) -> None:
        if exc.retry_after:
            self._blocked_until = max(self._blocked_until, time.monotonic() + exc.retry_after)
