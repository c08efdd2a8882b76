"""Server-sent events: turn a stream of text lines into event data payloads."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SSEItem:
    """One thing read from the stream: an event's data, an ``error:`` line, or a comment."""

    data: str | None = None
    comment: bool = False
    error: str | None = None


async def byte_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """Split a byte stream into text lines (without their newline).

    Splitting on ``\n`` before decoding keeps multi-byte characters whole (no UTF-8 sequence
    contains that byte), and is several times cheaper per line than a text decoder + line splitter.
    """
    pending = b""
    async for chunk in chunks:
        pending += chunk
        if b"\n" not in chunk:
            continue
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.decode("utf-8", "replace")
    if pending:
        yield pending.decode("utf-8", "replace")


async def sse_items(lines: AsyncIterable[str]) -> AsyncIterator[SSEItem]:
    """Yield each event's data (``data:`` lines joined by newlines) and each comment line.

    Comments (``: OPENROUTER PROCESSING``) are yielded so a caller can count them as signs of
    life; an ``error:`` line (llama.cpp's server reports failures so) is yielded as ``error``;
    ``event:``/``id:``/``retry:`` fields are ignored. A final event without the closing
    blank line is still yielded.
    """
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SSEItem(data="\n".join(data))
                data = []
            continue
        if line.startswith(":"):
            yield SSEItem(comment=True)
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "error":
            yield SSEItem(error=value)
    if data:
        yield SSEItem(data="\n".join(data))
