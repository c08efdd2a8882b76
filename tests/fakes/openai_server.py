"""A fake OpenAI-compatible chat-completions server for tests and benchmarks.

It speaks the wire protocol (``POST /v1/chat/completions`` with or without SSE streaming,
``GET /v1/models``) on a random loopback port and records every request it receives.
Behaviour is scripted per upstream model name (the request's ``model`` field)::

    async with FakeOpenAI() as fake:
        fake.script("gpt-4o", text="hello world", first_token_delay=0.2)
        fake.script("flaky", status=429, retry_after=1, fail_times=1)
        ...  # point a client at fake.base_url
        assert fake.requests[0].json["model"] == "gpt-4o"

Non-async code (benchmarks) can use :meth:`FakeOpenAI.start_in_thread`.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp import web

from tests.fakes.loopback import serve_on_loopback

DEFAULT_ERROR = "the fake provider was told to fail"


def default_answer(model: str) -> str:
    """What an unscripted model answers: a short sentence and a python code block."""
    return (
        f"Here is a solution from {model}:\n\n"
        "```python\n"
        "def add(a, b):\n"
        "    return a + b\n"
        "\n"
        "print(add(2, 3))\n"
        "```\n"
    )


def split_text(text: str) -> list[str]:
    """Split text into token-like chunks (a word with its leading whitespace); joins back to text."""
    return re.findall(r"\s*\S+|\s+", text) or [text]


@dataclass
class Script:
    """How the fake answers one model. See :meth:`FakeOpenAI.script` for the fields."""

    chunks: list[str] | None = None
    text: str | None = None
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    status: int | None = None
    retry_after: float | None = None
    error_message: str = DEFAULT_ERROR
    fail_times: int = 0
    malformed: bool = False
    drop_after: int | None = None
    endless: bool = False
    usage: dict[str, Any] | None = None
    cost: float | None = None
    finish_reason: str = "stop"
    mid_stream_error: str | None = None
    ignore_stream: bool = False
    keepalive: bool = False
    html: str | None = None
    echo_auth: bool = False
    redirect_to: str | None = None


class RecordedRequest(NamedTuple):
    """One request the fake received. ``headers`` keys are lower-cased."""

    path: str
    headers: dict[str, str]
    json: Any


class FakeOpenAI:
    """An OpenAI-compatible HTTP server on 127.0.0.1:<random port>.

    ``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` get a 401 with
    ``{"error": {"message": "Invalid API key"}}`` (the key is never echoed).
    """

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.host = "127.0.0.1"
        self.port: int = 0
        self.requests: list[RecordedRequest] = []
        self.request_times: list[float] = []  # time.monotonic() at each request's arrival
        self.scripts: dict[str, Script] = {}
        self.attempts: dict[str, int] = {}
        self.disconnects: int = 0  # streams the client closed before the fake finished
        self.peers: list[tuple[str, int]] = []  # the client's (host, port) of each request
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API base a client is configured with, e.g. ``http://127.0.0.1:41234/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    async def start(self) -> FakeOpenAI:
        """Start listening; returns self."""
        app = web.Application()
        for prefix in ("/v1", "/api/v1"):  # /api/v1 is OpenRouter's layout
            app.router.add_post(f"{prefix}/chat/completions", self._chat)
            app.router.add_get(f"{prefix}/models", self._models)
        self._runner, self.port = await serve_on_loopback(app, handle_signals=False)
        return self

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @classmethod
    def start_in_thread(cls, **kwargs: Any) -> ThreadedFakeOpenAI:
        """Run a fake on its own event loop in a daemon thread (for sync code and benchmarks)."""
        return ThreadedFakeOpenAI(cls(**kwargs))

    # -- scripting -------------------------------------------------------------------------

    def script(
        self,
        model: str,
        *,
        chunks: list[str] | None = None,
        text: str | None = None,
        first_token_delay: float = 0,
        chunk_delay: float = 0,
        status: int | None = None,
        retry_after: float | None = None,
        error_message: str = DEFAULT_ERROR,
        fail_times: int = 0,
        malformed: bool = False,
        drop_after: int | None = None,
        endless: bool = False,
        usage: dict[str, Any] | None = None,
        cost: float | None = None,
        finish_reason: str = "stop",
        mid_stream_error: str | None = None,
        ignore_stream: bool = False,
        keepalive: bool = False,
        html: str | None = None,
        echo_auth: bool = False,
        redirect_to: str | None = None,
    ) -> None:
        """Set how ``model`` answers (replaces any earlier script and resets its attempt count).

        - ``chunks`` / ``text``: the answer, as explicit stream deltas or a text split into
          word-sized deltas (default: a short answer with a python code block).
        - ``first_token_delay``: seconds between the response headers (plus an empty role delta)
          and the first content delta. ``chunk_delay``: seconds between content deltas.
        - ``status`` (+ ``retry_after`` header, ``error_message`` in the JSON error body): answer
          with that HTTP error. With ``fail_times`` = 0 every request fails; with
          ``fail_times`` = n the first n requests fail and later ones succeed.
        - ``malformed``: after the first delta, send a ``data:`` line that is not JSON.
        - ``drop_after``: close the connection abruptly after that many deltas.
        - ``endless``: repeat the deltas forever (until the client goes away).
        - ``usage``: overrides merged into the reported usage. ``cost``: the cost reported in
          usage (only when the request asks OpenRouter-style with ``usage: {"include": true}``).
        - ``finish_reason``: reported at the end (``"length"`` also when max_tokens cuts).
        - ``mid_stream_error``: after the first delta, send an OpenRouter-style
          ``data: {"error": {"message": ...}}`` event and end the stream.
        - ``ignore_stream``: answer with one JSON completion even when asked to stream.
        - ``keepalive``: send ``: OPENROUTER PROCESSING`` comments every 0.05 s while waiting
          for the first token.
        - ``html``: answer 200 with an HTML page (a captive portal, a website) served with this
          Content-Type.
        - ``echo_auth``: answer with the request's ``Authorization`` header quoted in the text,
          streamed 5 characters per delta (so the key is split across chunks), like a provider
          that echoes what it was sent.
        - ``redirect_to``: answer 301 with this ``Location``.
        """
        self.scripts[model] = Script(
            chunks=chunks,
            text=text,
            first_token_delay=first_token_delay,
            chunk_delay=chunk_delay,
            status=status,
            retry_after=retry_after,
            error_message=error_message,
            fail_times=fail_times,
            malformed=malformed,
            drop_after=drop_after,
            endless=endless,
            usage=usage,
            cost=cost,
            finish_reason=finish_reason,
            mid_stream_error=mid_stream_error,
            ignore_stream=ignore_stream,
            keepalive=keepalive,
            html=html,
            echo_auth=echo_auth,
            redirect_to=redirect_to,
        )
        self.attempts[model] = 0

    def requests_for(self, model: str) -> list[RecordedRequest]:
        """The chat requests received for ``model``, in order."""
        return [
            r for r in self.requests if isinstance(r.json, dict) and r.json.get("model") == model
        ]

    # -- handlers --------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        self._record(request, None)
        names = sorted(set(self.scripts) | {"fake-model"})
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "fake"} for n in names]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            self._record(request, raw.decode("utf-8", "replace"))
            return _error(400, "request body is not valid JSON")
        self._record(request, body)
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _error(400, "field 'model' is required")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return _error(400, "field 'messages' must be a non-empty list")
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Invalid API key")

        model: str = body["model"]
        script = self.scripts.get(model, Script())
        attempt = self.attempts.get(model, 0) + 1
        self.attempts[model] = attempt
        if script.status is not None and (script.fail_times == 0 or attempt <= script.fail_times):
            headers = {}
            if script.retry_after is not None:
                headers["Retry-After"] = _format_seconds(script.retry_after)
            return _error(script.status, script.error_message, headers)
        if script.redirect_to is not None:
            return web.Response(status=301, headers={"Location": script.redirect_to})
        if script.html is not None:
            page = "<!DOCTYPE html>\n<html><head><title>Sign in to the Wi-Fi</title></head><body>Welcome</body></html>"
            return web.Response(body=page.encode(), headers={"Content-Type": script.html})

        deltas = self._deltas(model, script, request.headers.get("Authorization", ""))
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) + 4
            for m in body["messages"]
            if isinstance(m, dict)
        )
        if body.get("stream") and not script.ignore_stream:
            return await self._stream(request, body, model, script, deltas, max_tokens, prompt_tokens)
        return self._complete(body, model, script, deltas, max_tokens, prompt_tokens)

    def _deltas(self, model: str, script: Script, authorization: str) -> list[str]:
        if script.echo_auth:
            text = f"Here is what you sent me: Authorization: {authorization}. Anything else?"
            return [text[i : i + 5] for i in range(0, len(text), 5)]
        if script.chunks is not None:
            return list(script.chunks)
        return split_text(script.text if script.text is not None else default_answer(model))

    def _usage(
        self, body: dict[str, Any], script: Script, prompt_tokens: int, completion_tokens: int
    ) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        wants_cost = isinstance(body.get("usage"), dict) and body["usage"].get("include")
        if wants_cost:
            usage["cost"] = (
                script.cost
                if script.cost is not None
                else round((prompt_tokens + completion_tokens) * 1e-6, 9)
            )
        if script.usage:
            usage.update(script.usage)
        return usage

    def _complete(
        self,
        body: dict[str, Any],
        model: str,
        script: Script,
        deltas: list[str],
        max_tokens: int | None,
        prompt_tokens: int,
    ) -> web.Response:
        finish = script.finish_reason
        if isinstance(max_tokens, int) and len(deltas) > max_tokens:
            deltas, finish = deltas[:max_tokens], "length"
        return web.json_response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(deltas)},
                        "finish_reason": finish,
                    }
                ],
                "usage": self._usage(body, script, prompt_tokens, len(deltas)),
            }
        )

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        model: str,
        script: Script,
        deltas: list[str],
        max_tokens: int | None,
        prompt_tokens: int,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            obj = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(obj)}\n\n".encode()

        sent = 0
        finish = script.finish_reason
        try:
            await resp.write(chunk({"role": "assistant", "content": ""}))
            if script.first_token_delay:
                await self._wait_first_token(resp, script)
            for piece in _cycle(deltas, script.endless):
                if script.drop_after is not None and sent >= script.drop_after:
                    self._drop(request)
                    return resp
                if isinstance(max_tokens, int) and sent >= max_tokens:
                    finish = "length"
                    break
                if sent and script.chunk_delay:
                    await asyncio.sleep(script.chunk_delay)
                elif sent and script.endless:
                    await asyncio.sleep(0)
                await resp.write(chunk({"content": piece}))
                sent += 1
                if script.malformed and sent == 1:
                    await resp.write(b'data: {"choices": [{"delta": {"content": "oops"\n\n')
                if script.mid_stream_error is not None and sent == 1:
                    err = {"error": {"message": script.mid_stream_error, "code": 502}}
                    await resp.write(f"data: {json.dumps(err)}\n\n".encode())
                    await resp.write_eof()
                    return resp
            await resp.write(chunk({}, finish))
            options = body.get("stream_options")
            if isinstance(options, dict) and options.get("include_usage"):
                usage = self._usage(body, script, prompt_tokens, sent)
                obj = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
                await resp.write(f"data: {json.dumps(obj)}\n\n".encode())
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except (ConnectionResetError, ConnectionError, RuntimeError):
            self.disconnects += 1  # the client went away (timeout, cap, cancellation)
        return resp

    async def _wait_first_token(self, resp: web.StreamResponse, script: Script) -> None:
        if not script.keepalive:
            await asyncio.sleep(script.first_token_delay)
            return
        end = time.monotonic() + script.first_token_delay
        while (left := end - time.monotonic()) > 0:
            await resp.write(b": OPENROUTER PROCESSING\n\n")
            await asyncio.sleep(min(0.05, left))

    def _drop(self, request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.abort()

    def _record(self, request: web.Request, body: Any) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(RecordedRequest(request.path, headers, body))
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.peers.append(tuple(peer[:2]) if peer else ("", 0))
        self.request_times.append(time.monotonic())


class ThreadedFakeOpenAI:
    """A :class:`FakeOpenAI` running on its own loop in a daemon thread. Call :meth:`stop`."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(fake.start(), self._loop).result(timeout=10)

    @property
    def base_url(self) -> str:
        """The fake's API base URL."""
        return self.fake.base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests the fake received."""
        return self.fake.requests

    def script(self, model: str, **kwargs: Any) -> None:
        """Same as :meth:`FakeOpenAI.script` (applied on the fake's loop)."""
        done = threading.Event()

        def apply() -> None:
            self.fake.script(model, **kwargs)
            done.set()

        self._loop.call_soon_threadsafe(apply)
        done.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server, the loop and the thread."""
        if not self._loop.is_running():
            return
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ThreadedFakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _cycle(items: list[str], endless: bool) -> Iterator[str]:
    if not endless:
        yield from items
        return
    if not items:
        items = ["x"]
    while True:
        yield from items


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    kind = "rate_limit_error" if status == 429 else "invalid_request_error"
    return web.json_response(
        {"error": {"message": message, "type": kind, "code": status}},
        status=status,
        headers=headers,
    )
