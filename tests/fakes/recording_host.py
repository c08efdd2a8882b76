"""A stranger's web server on a random loopback port: it serves anything and records every request
(and its ``Authorization`` header), so a test can prove a secret never reached a host it must not."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from tests.fakes.loopback import serve_on_loopback


@dataclass(frozen=True)
class Seen:
    """One request the host received."""

    method: str
    path: str
    authorization: str | None


class RecordingHost:
    """Async context manager; ``url(path)`` is an address on it, ``seen`` what reached it."""

    def __init__(self, body: bytes = b"print('from a stranger')\n") -> None:
        self.body = body
        self.seen: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> RecordingHost:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    @property
    def authorizations(self) -> list[str]:
        """Every Authorization header that reached this host."""
        return [s.authorization for s in self.seen if s.authorization is not None]

    async def _any(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(request.method, request.path, request.headers.get("Authorization")))
        return web.Response(body=self.body, content_type="text/plain")
