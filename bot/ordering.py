"""Per-key delivery order inside one process.

Events that touch the same thing (a rater's rating of one answer) must be applied in the order
they arrived, yet they run as separate tasks that wait on a pool of database threads and could
overtake each other. :meth:`KeyedOrder.hold` queues them per key: asyncio hands a lock to its
waiters first come, first served, and an uncontended lock is taken without yielding, so a task
that calls ``hold`` before its first ``await`` keeps its arrival position.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class KeyedOrder:
    """One FIFO lock per live key; a key's lock is dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable | None) -> AsyncIterator[None]:
        """Run the body after every earlier holder of ``key`` has finished (``None``: no ordering)."""
        if key is None:
            yield
            return
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
