"""Server-sent events, decoded incrementally from the raw bytes of a response."""

from __future__ import annotations

DATA, ERROR, COMMENT = 0, 1, 2
"""Kinds of :meth:`SSEParser.feed` items: an event's data, an ``error:`` line, a comment."""


class SSEParser:
    """Turns the byte chunks of an SSE stream into ``(kind, payload)`` items.

    ``DATA``: an event's ``data:`` lines joined by newlines (bytes, for ``json.loads``).
    ``COMMENT``: a comment line (``: OPENROUTER PROCESSING``), a sign of life.
    ``ERROR``: an ``error:`` line (llama.cpp's server reports failures so).
    ``event:``/``id:``/``retry:`` fields are ignored. Lines are split on ``\\n`` before any
    decoding, so a multi-byte character split across chunks stays whole (no UTF-8 sequence
    contains that byte).
    """

    __slots__ = ("_data", "_pending")

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        """The items completed by this chunk (the rest waits for the next one)."""
        if self._pending:
            chunk = self._pending + chunk
        lines = chunk.split(b"\n")
        self._pending = lines.pop()
        items: list[tuple[int, bytes]] = []
        data = self._data
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if data:
                    items.append((DATA, data[0] if len(data) == 1 else b"\n".join(data)))
                    data.clear()
            elif line.startswith(b"data:"):
                data.append(line[6:] if line.startswith(b"data: ") else line[5:])
            elif line.startswith(b":"):
                items.append((COMMENT, b""))
            elif line.startswith(b"error:"):
                items.append((ERROR, line[7:] if line.startswith(b"error: ") else line[6:]))
        return items

    def end(self) -> list[tuple[int, bytes]]:
        """The items left when the stream ends (a last event without its closing blank line)."""
        items = self.feed(b"\n\n") if self._pending or self._data else []
        self._pending = b""
        return items
