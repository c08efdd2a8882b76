"""A message that follows a changing value: edited at most once per interval, never blocking."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.messages import Message
from bot.surface import MessageRef, Surface, SurfaceError

log = logging.getLogger(__name__)


class LiveMessage:
    """Edits ``ref`` with ``render()`` whenever :meth:`touch` was called since the last edit.

    Edits run in their own task, so a slow platform (rate limits, Retry-After) never stalls the
    stream that feeds it: intermediate states are simply skipped. At most one edit per
    ``interval`` seconds. ``on_tick`` runs after each edit (e.g. to save the partial text).
    """

    def __init__(
        self,
        surface: Surface,
        ref: MessageRef,
        render: Callable[[], Message],
        interval: float,
        on_tick: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.surface = surface
        self.ref = ref
        self.render = render
        self.interval = interval
        self.on_tick = on_tick
        self.edits = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin following changes."""
        self._task = asyncio.create_task(self._loop())

    def touch(self) -> None:
        """Note that the content changed (cheap; call on every streamed piece)."""
        self._changed.set()

    async def stop(self) -> None:
        """Stop editing (the caller then posts the final state itself)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._changed.wait()
            self._changed.clear()
            started = loop.time()
            try:
                await self.surface.edit(self.ref, self.render())
                self.edits += 1
            except SurfaceError as exc:
                log.info("progress edit skipped: %s", exc.user_message)
                if exc.retry_after:
                    await asyncio.sleep(exc.retry_after)
            if self.on_tick is not None:
                await self.on_tick()
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))
