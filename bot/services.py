"""What the core's handlers and jobs work with, built once per process by the composition root.

Handlers and job executors receive a :class:`Services` and take what they need from it; none of
them reaches into another. :class:`Surfaces` holds this process's chat surfaces (one per platform)
with the one :class:`~bot.edits.Editor` that schedules each surface's edits.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.edits import Budget, Editor
from bot.inprocess import Tracker
from bot.jobs import JobQueue
from bot.local_model import LocalModelServer
from bot.providers.client import ChatClient
from bot.roster import Roster
from bot.surface import Surface
from storage.db import Store

if TYPE_CHECKING:
    from bot.sandbox.service import SandboxService


class TaskWaiters:
    """Lets this process wait for a task it queued to finish (the console, the CLI's ``ask``)."""

    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}

    async def wait(self, task_id: int) -> None:
        """Until :meth:`done` is called for ``task_id``."""
        try:
            await self._events.setdefault(task_id, asyncio.Event()).wait()
        finally:
            self._events.pop(task_id, None)

    def done(self, task_id: int) -> None:
        """``task_id`` finished (every answer is final)."""
        self._events.setdefault(task_id, asyncio.Event()).set()


class NoSurface(LookupError):
    """This process has no surface for a platform (its token is not configured here)."""


class Surfaces:
    """This process's surfaces by platform, each with its editor."""

    def __init__(self, *, edit_interval: float = 1.0, budget: Budget | None = None) -> None:
        self.edit_interval = edit_interval
        self.budget = budget
        self._surfaces: dict[str, Surface] = {}
        self._editors: dict[str, Editor] = {}

    def add(self, surface: Surface) -> None:
        """Serve ``surface.platform`` with ``surface`` (replacing any earlier one)."""
        self._surfaces[surface.platform] = surface
        self._editors[surface.platform] = Editor(
            surface, interval=self.edit_interval, budget=self.budget,
            rate=getattr(surface, "edit_rate", None), budget_scope=getattr(surface, "workspace", ""),
        )

    def get(self, platform: str) -> Surface:
        """The surface for ``platform``; raises :class:`NoSurface` when this process has none."""
        try:
            return self._surfaces[platform]
        except KeyError:
            raise NoSurface(f"no {platform} surface in this process") from None

    def editor(self, platform: str) -> Editor:
        """The editor of ``platform``'s surface."""
        self.get(platform)
        return self._editors[platform]

    def __contains__(self, platform: object) -> bool:
        return platform in self._surfaces

    @property
    def platforms(self) -> list[str]:
        return list(self._surfaces)


@dataclass
class Services:
    """Everything a handler or a job may use."""

    store: Store
    roster: Roster
    client: ChatClient
    settings: Settings
    queue: JobQueue
    surfaces: Surfaces
    sandbox: SandboxService | None = None
    local_model: LocalModelServer = field(default_factory=LocalModelServer)
    rng: random.Random = field(default_factory=random.SystemRandom)
    tracker: Tracker = field(default_factory=Tracker)
    finished: TaskWaiters = field(default_factory=TaskWaiters)
