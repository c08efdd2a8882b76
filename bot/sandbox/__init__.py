"""Run an answer's code safely: extraction, sandbox backends, results and their rendering.

Exception tree (its root is :class:`bot.errors.ArenaError`, the root of every error a person
can act on)::

    SandboxError                 anything the sandbox refuses; ``str(exc)`` is safe to show a user
    ├── NoRunnableCode           the answer has no code block we can run
    ├── UnsupportedLanguage      the language is not runnable on this backend
    ├── SandboxBusy              the user already has a run going
    └── SandboxUnavailable       the sandbox cannot start here (says why)
"""

from bot.sandbox.errors import (
    NoRunnableCode,
    SandboxBusy,
    SandboxError,
    SandboxUnavailable,
    UnsupportedLanguage,
)

__all__ = [
    "NoRunnableCode",
    "SandboxBusy",
    "SandboxError",
    "SandboxUnavailable",
    "UnsupportedLanguage",
]
