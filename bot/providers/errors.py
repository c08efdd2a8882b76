"""Readable one-line messages for provider failures."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

MAX_MESSAGE_CHARS = 300


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Collapse whitespace to single spaces and cut at ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def public_url(url: str) -> str:
    """The URL without credentials or query string (which may carry keys)."""
    try:
        u = urlsplit(url)
        host, port = u.hostname, u.port
    except ValueError:
        return "<invalid URL>"
    if not u.scheme or not host:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{u.scheme}://{host}{f':{port}' if port else ''}{u.path}".rstrip("/")


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
