"""Keep configured secrets out of everything the bot shows, stores or logs.

One mechanism, used everywhere: a :class:`Redactor` built from the configured secret values
(``Settings.secret_values``) replaces each of them with ``[redacted]``.

- Text that arrives in pieces (a streamed answer) goes through :meth:`Redactor.stream`: a secret
  split across pieces is still caught, because a tail that could be the start of a secret is held
  back (never more than ``len(longest secret) - 1`` characters) until the next piece settles it.
- Error messages also lose anything shaped like a key or a bearer token (:meth:`Redactor.error`),
  since a provider may echo a key we were never told about.
- :func:`redact_logs` makes every log record of the process pass through the same replacement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 8
"""Shorter values are not redacted: they are placeholders ("ollama", "none"), not keys, and
replacing such a word everywhere would mangle answers."""

_KEY_SHAPES = [
    re.compile(r"\b(?:sk|pk|rk|gsk|xai|or)-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{8,}"),  # Slack tokens
    re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"),
    re.compile(r"(?i)([?&](?:api[_-]?key|key|token)=)[^&\s]+"),
]


class Redactor:
    """Replaces every given secret (at least :data:`MIN_SECRET_CHARS` long) with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        unique = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}
        self.secrets: tuple[str, ...] = tuple(sorted(unique, key=len, reverse=True))
        self.hold = max((len(s) for s in self.secrets), default=1) - 1
        # For finding where a secret might begin at the end of a piece (StreamRedactor):
        self.heads = tuple((s, s[:2], s[0], 1 - len(s)) for s in self.secrets)
        self.any_head = re.compile("|".join(sorted({re.escape(s[:2]) for s in self.secrets})) or "(?!)")
        self.firsts = "".join(sorted({s[0] for s in self.secrets}))

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def with_secrets(self, secrets: Iterable[str | None]) -> Redactor:
        """A redactor for these secrets as well as this one's (self when nothing is new)."""
        extra = [s for s in secrets if s and len(s) >= MIN_SECRET_CHARS and s not in self.secrets]
        return Redactor([*self.secrets, *extra]) if extra else self

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def error(self, text: str) -> str:
        """An error message with every secret and anything shaped like a key or token replaced."""
        text = self.redact(text)
        for pattern in _KEY_SHAPES:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
        return text

    def stream(self) -> StreamRedactor:
        """A redactor for one stream of text pieces."""
        return StreamRedactor(self)


class StreamRedactor:
    """Redacts a text that arrives in pieces; :meth:`feed` each piece, then :meth:`flush`."""

    __slots__ = ("_any_head", "_firsts", "_heads", "_held", "_hold", "_secrets")

    def __init__(self, redactor: Redactor) -> None:
        self._secrets = redactor.secrets
        self._heads = redactor.heads
        self._any_head = redactor.any_head
        self._firsts = redactor.firsts
        self._hold = redactor.hold
        self._held = ""

    def feed(self, piece: str) -> str:
        """The text that is safe to pass on now (possibly empty); the rest is held back."""
        if not self._secrets:
            return piece
        text = self._held + piece if self._held else piece
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        keep = self._unsettled_tail(text)
        if keep:
            self._held = text[-keep:]
            return text[:-keep]
        self._held = ""
        return text

    def flush(self) -> str:
        """What is still held back, at the end of the stream.

        A held tail is the beginning of a secret the stream ended in the middle of (say, cut at
        the character cap); when it is long enough to matter it is redacted too.
        """
        text, self._held = self._held, ""
        if len(text) >= MIN_SECRET_CHARS:
            return REDACTED
        return text

    def _unsettled_tail(self, text: str) -> int:
        """Length of the longest end of ``text`` that is the start of a secret (0 if none).

        Candidates start with a secret's first two characters, rare in ordinary text: one regex
        search usually rules them all out, so a piece costs a few C-level searches.
        """
        n = len(text)
        if self._any_head.search(text, max(0, n - self._hold)) is None:  # the usual case
            return 1 if text and text[-1] in self._firsts else 0
        longest = 0
        for secret, head, first, back in self._heads:
            i = text.find(head, max(0, n + back))
            while i != -1 and n - i > longest:
                if secret.startswith(text[i:]):
                    longest = n - i
                    break
                i = text.find(head, i + 1)
            if not longest and text[-1:] == first:
                longest = 1
        return longest


# -- logs --------------------------------------------------------------------------------------

_log_redactor = Redactor()
_base_factory: Callable[..., logging.LogRecord] | None = None


def redact_logs(secrets: Iterable[str | None]) -> None:
    """Redact these secrets (and those given before) from every log record this process makes.

    It works at record creation (the log record factory), so every handler sees the redacted
    record: stderr, pytest's caplog, anything a library adds later. The message is formatted
    once, there, and an exception's traceback text too.
    """
    global _log_redactor, _base_factory
    _log_redactor = _log_redactor.with_secrets(secrets)
    if _base_factory is None:  # wrap whatever factory is in place (others stamp records too)
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    assert _base_factory is not None
    record = _base_factory(*args, **kwargs)
    redactor = _log_redactor
    if not redactor:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when the record is emitted
        return record
    clean = redactor.redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redactor.redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redactor.redact(record.stack_info)
    return record
