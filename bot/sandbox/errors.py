"""Sandbox exceptions. Every message is safe to show to the user who asked for the run."""

from __future__ import annotations

from bot.errors import ArenaError


class SandboxError(ArenaError):
    """Base class: the sandbox refused or could not do a run."""


class NoRunnableCode(SandboxError):
    """The answer has no code block that can be run."""

    def __init__(self, detail: str = "") -> None:
        text = "no runnable code in this answer"
        super().__init__(f"{text} ({detail})" if detail else text)


class UnsupportedLanguage(SandboxError):
    """The language is not available on this backend."""


class SandboxBusy(SandboxError):
    """The user already has a run in progress."""

    def __init__(self) -> None:
        super().__init__("you already have a run going; wait for it to finish")


class SandboxUnavailable(SandboxError):
    """The sandbox cannot run anything here; the message says why."""
