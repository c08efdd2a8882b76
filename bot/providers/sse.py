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
