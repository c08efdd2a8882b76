"""The sandbox as the core sees it: one run per user, a global cap, a backend chosen from env."""

from __future__ import annotations

import asyncio
import os
from typing import Protocol

from bot.sandbox.errors import SandboxBusy, UnsupportedLanguage
from bot.sandbox.languages import RUNNABLE, normalize_language
from bot.sandbox.result import RunResult


class Backend(Protocol):
    """Something that runs code: :class:`~bot.sandbox.local.LocalBackend` or Piston."""

    name: str

    async def run(self, code: str, language: str) -> RunResult:
        """Run ``code`` and report what happened."""
        ...


class SandboxService:
    """Admission control in front of a backend.

    ``per_user`` runs at a time per user (a further one raises :class:`SandboxBusy`), at most
    ``global_cap`` runs at once overall (further runs wait their turn). The backend is built on
    first use when not given, so a missing bwrap is reported by the run, not at import.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        per_user: int = 1,
        global_cap: int | None = None,
    ) -> None:
        self._backend = backend
        self.per_user = per_user
        self.global_cap = global_cap or os.cpu_count() or 1
        self._slots = asyncio.Semaphore(self.global_cap)
        self._running: dict[str, int] = {}

    @classmethod
    def from_env(cls) -> SandboxService:
        """Piston when ``SANDBOX_URL`` is set, else local bwrap; ``SANDBOX_CONCURRENCY`` caps runs."""
        from bot.config import env_setting, integer
        from bot.sandbox.limits import Limits

        Limits.from_env()  # malformed limits are a start-up error, not a failed run later
        cap = env_setting("SANDBOX_CONCURRENCY", None, integer(minimum=1))
        # The backend is built on first run, so a host without bwrap still starts the bot and
        # the Run button answers with the reason.
        return cls(backend=None, global_cap=cap)

    @property
    def backend(self) -> Backend:
        """The backend in use (built now if it was deferred)."""
        if self._backend is None:
            self._backend = _backend_from_env()
        return self._backend

    async def drain(self) -> None:
        """Wait for finished runs' background cleanup (call before closing the event loop)."""
        drain = getattr(self._backend, "drain", None)
        if drain is not None:
            await drain()

    def active(self, user_id: str) -> int:
        """How many runs ``user_id`` has going."""
        return self._running.get(user_id, 0)

    async def run(self, user_id: str, code: str, language: str) -> RunResult:
        """Run a snippet for a user. Raises SandboxBusy, SandboxUnavailable, UnsupportedLanguage."""
        lang = normalize_language(language)
        if lang is None:
            raise UnsupportedLanguage(
                f"cannot run {language!r}: runnable languages are {', '.join(RUNNABLE)}"
            )
        if self._running.get(user_id, 0) >= self.per_user:
            raise SandboxBusy()
        self._running[user_id] = self._running.get(user_id, 0) + 1
        try:
            async with self._slots:
                return await self.backend.run(code, lang)
        finally:
            self._running[user_id] -= 1
            if not self._running[user_id]:
                del self._running[user_id]


def _backend_from_env() -> Backend:
    url = os.environ.get("SANDBOX_URL")
    if url:
        from bot.sandbox.piston import PistonBackend

        return PistonBackend(url)
    from bot.sandbox.local import UNSAFE_ENV, LocalBackend

    return LocalBackend(unsafe_fallback=os.environ.get(UNSAFE_ENV) == "1")
