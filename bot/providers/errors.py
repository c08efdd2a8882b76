"""Readable, secret-free one-line messages for provider failures."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import httpx

_KEY_PATTERNS = [
    re.compile(r"\b(?:sk|pk|rk|gsk|xai|or)-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)\S+"),
    re.compile(r"(?i)([?&](?:api[_-]?key|key|token)=)[^&\s]+"),
]
MAX_MESSAGE_CHARS = 300


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace the given secrets and anything shaped like an API key with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _KEY_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Collapse whitespace to single spaces and cut at ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def public_url(url: str) -> str:
    """The URL without credentials or query string (which may carry keys)."""
    try:
        u = httpx.URL(url)
    except Exception:
        return "<invalid URL>"
    if not u.scheme or not u.host:
        return "<invalid URL>"
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}{u.path}".rstrip("/")


def provider_message(body: bytes, reason: str = "") -> str:
    """The provider's own error message from an error response body.

    Understands ``{"error": {"message": ...}}`` (OpenAI, OpenRouter, Groq, vLLM),
    ``{"error": "..."}`` (Ollama), ``{"message": ...}`` and ``{"detail": ...}``; otherwise the
    body's text, or the HTTP reason phrase when the body is empty.
    """
    text = body.decode("utf-8", "replace").strip()
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        err = obj.get("error")
        if isinstance(err, dict):
            msg = err.get("message")
            meta = err.get("metadata")
            if isinstance(meta, dict) and isinstance(meta.get("raw"), str) and meta["raw"]:
                msg = f"{msg} ({meta['raw']})" if msg else meta["raw"]
            if msg:
                return str(msg)
        if isinstance(err, str) and err:
            return err
        for key in ("message", "detail"):
            if obj.get(key):
                return str(obj[key])
    if text and not text.lstrip().startswith("<"):
        return text
    return reason or "no error message"


def seconds(value: float) -> str:
    """Format a duration for a message: ``60 s``, ``0.5 s``."""
    return f"{value:g} s"
