"""A hosts-file entry for tests: an aiohttp session that resolves chosen names to 127.0.0.1.

A client pointed at ``http://openrouter.ai:<fake port>/api/v1`` then reaches the local fake while
still seeing OpenRouter's host name (which decides what it sends)."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class LoopbackResolver(AbstractResolver):
    """Resolves ``names`` to 127.0.0.1 and everything else as usual."""

    def __init__(self, *names: str) -> None:
        self.names = set(names)
        self.inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        if host in self.names:
            return [ResolveResult(hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET,
                                  proto=0, flags=socket.AI_NUMERICHOST)]
        return await self.inner.resolve(host, port, family)

    async def close(self) -> None:
        await self.inner.close()


def session_resolving(*names: str) -> aiohttp.ClientSession:
    """An aiohttp session for which ``names`` live on 127.0.0.1 (call in a running loop)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=LoopbackResolver(*names)))
