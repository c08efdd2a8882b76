"""A fake Piston execution service on a random loopback port: speaks POST /api/v2/execute,
records every request body, and answers with a scripted response."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.loopback import serve_on_loopback


class FakePiston:
    """``async with FakePiston() as fake``: ``fake.url`` is the server root (``SANDBOX_URL``)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.reply: dict[str, Any] = self.run_reply(stdout="hello\n")
        self._runner: web.AppRunner | None = None
        self.url = ""

    @staticmethod
    def run_reply(**run: Any) -> dict[str, Any]:
        """A Piston success body with the given ``run`` fields."""
        base = {"stdout": "", "stderr": "", "code": 0, "signal": None, "output": ""}
        base.update(run)
        return {"language": "python", "version": "3.10.0", "run": base}

    async def _execute(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        return web.json_response(self.reply, status=self.status)

    async def __aenter__(self) -> FakePiston:
        app = web.Application()
        app.router.add_post("/api/v2/execute", self._execute)
        self._runner, port = await serve_on_loopback(app)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
