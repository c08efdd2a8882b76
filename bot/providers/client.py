"""One OpenAI-compatible chat-completions client for every contestant (streaming SSE over aiohttp).

Failures never raise: each ends its own :class:`Completion` with a one-line ``error`` a user can
read (cancellation still propagates). The flow of one :meth:`ChatClient.complete` call::

    send ──► headers ──► status 429/5xx, connect error? ──► wait (Retry-After or backoff), resend
                │            (only before the first token, within max_retries and the budget)
                ▼
            SSE bytes ──► on_text(delta) … ──► [DONE] ──► Completion(text, usage, cost, timings)
                │
                └─ first-token / idle / total timeout, malformed data, an HTML page, a dropped
                   connection, the character cap ──► Completion(partial text, error=...)

Cheap by design, since a busy team streams hundreds of answers at once: one shared aiohttp pool,
one loop over the response's bytes (no generator stack), and one timer per call whose deadline
is moved by assigning a number (:class:`_Watchdog`), not a timeout context per chunk.
Every configured secret is redacted from what the client emits (deltas, text, errors, logs).
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from yarl import URL

from bot.providers.errors import one_line, provider_message, public_url, seconds
from bot.providers.sse import DATA, ERROR, SSEParser
from bot.secrets import Redactor, StreamRedactor

log = logging.getLogger(__name__)

OnText = Callable[[str], Awaitable[None] | None]
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_ERROR_BODY = 16_384
DRAIN_GRACE = 1.0  # seconds to wait for the end of a response after [DONE] (to reuse the connection)
_REASONING_MODEL = re.compile(r"(?:^|/)(?:o\d|gpt-5)")  # OpenAI reasoning models: max_completion_tokens
_decode_json = json.JSONDecoder().raw_decode


@dataclass
class ChatRequest:
    """One chat completion to ask for. Prices are USD per 1M tokens."""

    base_url: str
    model: str
    messages: list[dict[str, Any]]
    api_key: str | None = field(default=None, repr=False)
    temperature: float | None = None
    max_tokens: int | None = None
    price_in: float | None = None
    price_out: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """What came back. ``error`` is None on success, else a one-line message for the user.

    An answer cut at the client's character cap keeps what fits, has ``truncated=True``,
    ``finish_reason="length"`` and an ``error`` saying it was cut: it is not a clean success.
    After a mid-stream failure ``text`` holds what arrived before it.
    ``ttft_ms`` and ``latency_ms`` are measured from the call, so they include retries.
    """

    text: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    ttft_ms: float | None
    latency_ms: float
    error: str | None
    truncated: bool = False
    retries: int = 0

    @property
    def ok(self) -> bool:
        """True when the answer completed without error."""
        return self.error is None


@dataclass(frozen=True)
class Timeouts:
    """Seconds: to connect, to the first token, between chunks, and for the whole call."""

    connect: float = 10
    first_token: float = 60
    idle: float = 30
    total: float = 300


class _Fail(Exception):
    """Internal: ends the call with this message (never escapes ``complete``)."""


class _Retry(Exception):
    """Internal: the attempt failed in a way worth retrying (before the first token)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _host(base_url: str) -> str:
    try:
        return urlsplit(base_url).hostname or ""
    except ValueError:
        return ""


def is_openrouter(base_url: str) -> bool:
    """True when the base URL is OpenRouter's (which reports cost on request)."""
    host = _host(base_url)
    return host == "openrouter.ai" or host.endswith(".openrouter.ai")


def compute_cost(
    prompt_tokens: int | None,
    completion_tokens: int | None,
    price_in: float | None,
    price_out: float | None,
) -> float | None:
    """USD from token counts and per-1M prices; None when tokens or both prices are unknown."""
    if prompt_tokens is None or completion_tokens is None:
        return None
    if price_in is None and price_out is None:
        return None
    return (prompt_tokens * (price_in or 0.0) + completion_tokens * (price_out or 0.0)) / 1e6


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    ``headers`` is a case-insensitive mapping (aiohttp's response headers).
    """
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class _Endpoint:
    """What one base URL means, worked out once per client."""

    url: str  # …/chat/completions
    where: str  # the base URL without credentials or query, for messages
    host: str  # host[:port], for messages
    openrouter: bool
    max_tokens_field: str  # "max_tokens", or "max_completion_tokens" where reasoning models need it
    invalid: str | None = None  # why the base URL cannot be used
    proxy: URL | None = None  # from HTTP(S)_PROXY / NO_PROXY
    proxy_auth: aiohttp.BasicAuth | None = None


class ChatClient:
    """Streams chat completions from any OpenAI-compatible endpoint over one shared connection pool.

    ``session``: an aiohttp session to use (the caller closes it); by default the client makes
    its own pool on first use (``pool_size`` connections, kept alive) and :meth:`aclose` closes it.
    ``max_retries``: resends after 429/5xx/connect errors, only before the first token.
    ``retry_after_cap``: longest Retry-After honoured; a provider asking for more fails clearly.
    ``max_answer_chars``: answers are cut there (``truncated=True``).
    ``secrets``: values redacted from everything the client emits, besides each request's key.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeouts: Timeouts = Timeouts(),
        max_retries: int = 3,
        max_answer_chars: int = 40_000,
        backoff_base: float = 0.5,
        retry_after_cap: float = 30.0,
        secrets: Iterable[str | None] = (),
        pool_size: int = 1000,
    ) -> None:
        self._session = session
        self._own_session = session is None
        self.pool_size = pool_size
        self.timeouts = timeouts
        self.max_retries = max_retries
        self.max_answer_chars = max_answer_chars
        self.backoff_base = backoff_base
        self.retry_after_cap = retry_after_cap
        self.redactor = Redactor(secrets)
        self.http_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.connect)
        self._endpoints: dict[str, _Endpoint] = {}
        self._redactors: dict[str | None, Redactor] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session requests go through (made on first use unless one was given)."""
        if self._session is None or (self._own_session and self._session.closed):
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool_size, keepalive_timeout=30),
                timeout=self.http_timeout,
                cookie_jar=aiohttp.DummyCookieJar(),  # no cookies carried between providers
            )
        return self._session

    async def aclose(self) -> None:
        """Close the connection pool if this client made it."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def complete(self, req: ChatRequest, on_text: OnText | None = None) -> Completion:
        """Stream one answer, calling ``on_text`` with each text delta; never raises on failure."""
        return await _Call(self, req, on_text).run()

    def endpoint(self, base_url: str) -> _Endpoint:
        """The parsed endpoint for ``base_url`` (cached)."""
        found = self._endpoints.get(base_url)
        if found is None:
            if len(self._endpoints) > 256:
                self._endpoints.clear()
            found = self._endpoints[base_url] = _parse_endpoint(base_url)
        return found

    def redactor_for(self, api_key: str | None) -> Redactor:
        """The client's redactor, plus this request's own key (cached)."""
        found = self._redactors.get(api_key)
        if found is None:
            if len(self._redactors) > 256:
                self._redactors.clear()
            found = self._redactors[api_key] = self.redactor.with_secrets([api_key])
        return found


def _parse_endpoint(base_url: str) -> _Endpoint:
    where = public_url(base_url)
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError:
        parts, host, port = None, None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        shown = base_url[:100] if "@" not in base_url else where
        invalid = f"invalid base URL {shown!r}: it must start with http:// or https:// and name a host"
        return _Endpoint("", where, "", False, "max_tokens", invalid)
    openrouter = host == "openrouter.ai" or host.endswith(".openrouter.ai")
    proxy, proxy_auth = _env_proxy(parts.scheme, host)
    return _Endpoint(
        url=base_url.rstrip("/") + "/chat/completions",
        where=where,
        host=f"{host}:{port}" if port else host,
        openrouter=openrouter,
        max_tokens_field="max_completion_tokens" if host == "api.openai.com" else "max_tokens",
        proxy=proxy,
        proxy_auth=proxy_auth,
    )


def _env_proxy(scheme: str, host: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` choose for this host, read once per
    endpoint (aiohttp's ``trust_env`` reads the environment in a thread on every request)."""
    found = getproxies().get(scheme)
    if not found or proxy_bypass(host):
        return None, None
    try:
        url = URL(found if "://" in found else f"http://{found}")
    except ValueError:
        return None, None
    auth = aiohttp.BasicAuth.from_url(url) if url.user else None
    return url.with_user(None), auth


class _Watchdog:
    """The one timer of a call: cancels the call's task once ``deadline`` (loop time) has passed.

    Moving the deadline later is an assignment; the timer notices when it fires and sleeps on.
    While ``paused`` (an async ``on_text`` is running) it never cancels.
    """

    __slots__ = ("deadline", "fired", "handle", "loop", "paused", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        self.loop = loop
        self.task = task
        self.deadline = 0.0
        self.handle: asyncio.TimerHandle | None = None
        self.fired = False
        self.paused = False

    def arm(self, deadline: float) -> None:
        """Cancel the task at ``deadline`` (moving an armed timer earlier when needed)."""
        self.deadline = deadline
        if self.handle is not None:
            if self.handle.when() <= deadline:
                return
            self.handle.cancel()
        self.handle = self.loop.call_at(deadline, self._check)

    def disarm(self) -> None:
        """Stop the timer."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def caught(self) -> bool:
        """Call on CancelledError: True when it was this timer's (which is then absorbed)."""
        if self.fired and self.task.uncancel() == 0:
            self.fired = False
            return True
        return False

    def _check(self) -> None:
        now = self.loop.time()
        if now < self.deadline:
            self.handle = self.loop.call_at(self.deadline, self._check)
        elif self.paused:
            self.handle = self.loop.call_at(now + 0.05, self._check)
        else:
            self.handle = None
            self.fired = True
            self.task.cancel()


class _Call:
    """The state of one ``complete`` call."""

    def __init__(self, client: ChatClient, req: ChatRequest, on_text: OnText | None) -> None:
        self.c = client
        self.req = req
        self.on_text = on_text
        self.ep = client.endpoint(req.base_url)
        self.where = self.ep.where
        self.redactor = client.redactor_for(req.api_key)
        self.stream: StreamRedactor = self.redactor.stream()
        self.loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self.watch = _Watchdog(self.loop, task)
        self.start = self.loop.time()
        self.total_deadline = self.start + client.timeouts.total
        self.parts: list[str] = []
        self.chars = 0
        self.ttft_ms: float | None = None
        self.got_token = False
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self.truncated = False
        self.retries = 0

    # -- outer loop: attempts and retries -----------------------------------------------------

    async def run(self) -> Completion:
        error: str | None = None
        try:
            if self.ep.invalid:
                raise _Fail(self.ep.invalid)
            error = await self._attempts()
        except _Fail as exc:
            error = str(exc)
        finally:
            self.watch.disarm()
        tail = self.stream.flush()
        if tail:
            await self._pass_on(tail)
        if error is None and not "".join(self.parts).strip():
            error = "the model returned an empty answer"
            if self.finish_reason == "length":
                error += " (it hit max_tokens before writing any text)"
        if error is not None:
            error = one_line(self.redactor.error(error))
            log.info("model %s at %s failed: %s", self.req.model, self.where, error)
        return self._result(error)

    async def _attempts(self) -> str | None:
        while True:
            try:
                await self._attempt()
                return None
            except _Retry as exc:
                message = str(exc)
                if self.retries >= self.c.max_retries:
                    suffix = f" (gave up after {self.retries} retries)" if self.retries else ""
                    return message + suffix
                wait = self._wait_for(exc.retry_after, message)
                self.retries += 1
                log.info(
                    "retrying model %s in %.2f s (%d/%d): %s",
                    self.req.model, wait, self.retries, self.c.max_retries, self.redactor.error(message),
                )
                await asyncio.sleep(wait)

    def _wait_for(self, retry_after: float | None, message: str) -> float:
        remaining = self.total_deadline - self.loop.time()
        if retry_after is not None:
            if retry_after > self.c.retry_after_cap:
                raise _Fail(
                    f"{message} (asked to retry after {seconds(retry_after)}, "
                    f"longer than the {seconds(self.c.retry_after_cap)} we wait)"
                )
            if retry_after >= remaining:
                raise _Fail(
                    f"{message} (asked to retry after {seconds(retry_after)}, beyond the "
                    f"{seconds(self.c.timeouts.total)} time limit)"
                )
            return retry_after
        wait = self.c.backoff_base * (2**self.retries)
        if wait >= remaining:
            raise _Fail(f"{message} (no time left to retry within {seconds(self.c.timeouts.total)})")
        return wait

    # -- one attempt ----------------------------------------------------------------------------

    async def _attempt(self) -> None:
        self.watch.arm(min(self.loop.time() + self.c.timeouts.first_token, self.total_deadline))
        response: aiohttp.ClientResponse | None = None
        try:
            response = await self._send()
            status = response.status
            if status >= 400:
                await self._raise_for_status(response)
            if 300 <= status < 400:
                raise _Fail(self._redirect_message(response))
            await self._read(response)
        except asyncio.CancelledError:
            if self.watch.caught():
                raise _Fail(self._deadline_message(self.watch.deadline)) from None
            raise
        finally:
            self.watch.disarm()
            if response is not None:
                if response.content.at_eof():
                    response.release()  # read to the end: back to the pool, kept alive
                else:
                    response.close()

    async def _send(self) -> aiohttp.ClientResponse:
        try:
            body = json.dumps(self._body()).encode()
        except (TypeError, ValueError) as exc:
            raise _Fail(f"could not build the request: {exc}") from None
        connect = seconds(self.c.timeouts.connect)
        try:
            return await self.c.session.post(
                self.ep.url, data=body, headers=self._headers(), allow_redirects=False,
                timeout=self.c.http_timeout, proxy=self.ep.proxy, proxy_auth=self.ep.proxy_auth,
            )
        except aiohttp.ServerTimeoutError:
            raise _Retry(f"could not connect to {self.where} within {connect}") from None
        except aiohttp.ClientConnectorCertificateError as exc:
            raise _Fail(f"the TLS certificate of {self.where} was refused: {exc.certificate_error}") from None
        except aiohttp.ClientConnectorError as exc:
            raise _Retry(self._connect_message(exc)) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise _Retry(f"{self.where} closed the connection before answering ({type(exc).__name__})") from None
        except aiohttp.ClientError as exc:
            raise _Fail(f"request to {self.where} failed: {type(exc).__name__}: {exc}") from None
        except ValueError as exc:  # e.g. a newline in the key, refused by aiohttp as a header value
            raise _Fail(f"could not build the request: {exc}") from None

    async def _raise_for_status(self, response: aiohttp.ClientResponse) -> None:
        body = await self._read_quietly(response, MAX_ERROR_BODY)
        message = provider_message(body, response.reason or "")
        text = f"provider returned {response.status}: {message}"
        if response.status in RETRY_STATUSES or response.status >= 500:
            raise _Retry(text, parse_retry_after(response.headers))
        raise _Fail(text)

    async def _read_quietly(self, response: aiohttp.ClientResponse, limit: int) -> bytes:
        """Up to ``limit`` bytes of the body; a deadline or a dropped connection just ends it."""
        body = b""
        try:
            while len(body) <= limit:
                chunk = await response.content.readany()
                if not chunk:
                    break
                body += chunk
        except asyncio.CancelledError:
            if not self.watch.caught():
                raise
        except aiohttp.ClientError:
            pass
        return body

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        ctype = response.headers.get("Content-Type", "")
        if "json" in ctype:
            await self._read_json(response)
            return
        if "text/html" in ctype:
            raise _Fail(self._html_message())
        parser = SSEParser()
        content = response.content
        idle = self.c.timeouts.idle
        sniffed = False
        while True:
            try:
                chunk = await content.readany()
            except aiohttp.ClientError as exc:
                raise _Fail(self._dropped_message(exc)) from None
            if not chunk:
                items = parser.end()
            else:
                if not sniffed:
                    sniffed = bool(chunk.strip())
                    if chunk.lstrip()[:1] == b"<":
                        raise _Fail(self._html_message())
                items = parser.feed(chunk)
            for kind, payload in items:
                if kind == DATA:
                    if payload.strip() == b"[DONE]":
                        await self._drain(response)
                        return
                    pending = self._handle(payload)
                    if pending is not None:
                        await self._await_callback(pending)
                elif kind == ERROR:
                    message = provider_message(payload, "unknown error")
                    raise _Fail(f"provider error mid-stream: {message}")
                # a COMMENT is a sign of life: it counts for the idle timer, below
            if not chunk:
                break
            if self.got_token:
                self.watch.deadline = min(self.loop.time() + idle, self.total_deadline)
        if self.finish_reason is None:
            raise _Fail(
                f"the stream ended before the answer was finished (after {self.chars:,} characters)"
            )

    async def _drain(self, response: aiohttp.ClientResponse) -> None:
        """After [DONE]: read to the end of the response for a short while, so the connection
        goes back to the pool; a provider that keeps it open just loses the connection."""
        if not response.content.at_eof():
            self.watch.arm(min(self.loop.time() + DRAIN_GRACE, self.total_deadline))
            await self._read_quietly(response, MAX_ERROR_BODY)

    async def _read_json(self, response: aiohttp.ClientResponse) -> None:
        """A provider that ignored ``stream: true`` and sent one JSON completion."""
        limit = 4 * self.c.max_answer_chars + 1_000_000
        body = b""
        try:
            while len(body) <= limit:
                chunk = await response.content.readany()
                if not chunk:
                    break
                body += chunk
        except aiohttp.ClientError as exc:
            raise _Fail(self._dropped_message(exc)) from None
        if body.lstrip()[:1] == b"<":
            raise _Fail(self._html_message())
        try:
            obj = json.loads(body)
            choice = obj["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _Fail(f"malformed response from provider: {body[:80]!r}") from None
        self.finish_reason = choice.get("finish_reason") or "stop"
        if isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
        pending = self._emit(text) if isinstance(text, str) else None
        if pending is not None:
            await self._await_callback(pending)

    def _handle(self, data: bytes) -> Awaitable[None] | None:
        """Apply one SSE data payload (a chunk of answer, the finish reason, usage, an error)."""
        try:
            text = data.decode()
            if text[:1].isspace():
                text = text.strip()
            obj, end = _decode_json(text)
            if end != len(text) and not text[end:].isspace():
                raise ValueError("extra data")
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise _Fail(f"malformed stream from provider: data is not JSON: {_shown(data)}") from None
        if type(obj) is not dict:
            raise _Fail(f"malformed stream from provider: unexpected data {_shown(data)}")
        if obj.get("error"):
            raise _Fail(f"provider error mid-stream: {provider_message(data)}")
        usage = obj.get("usage")
        if type(usage) is dict:
            self.usage = usage
        choices = obj.get("choices")
        if not choices:
            return None
        if type(choices) is not list or type(choices[0]) is not dict:
            raise _Fail(f"malformed stream from provider: unexpected data {_shown(data)}")
        choice = choices[0]
        finish = choice.get("finish_reason")
        if finish:
            self.finish_reason = finish
        delta = choice.get("delta")
        if not delta or type(delta) is not dict:
            return None
        if delta.get("reasoning") or delta.get("reasoning_content"):
            self.got_token = True  # thinking counts as alive, not as the first answer token
        content = delta.get("content")
        if content and type(content) is str:
            return self._emit(content)
        return None

    def _emit(self, text: str) -> Awaitable[None] | None:
        """Take in answer text: past the character cap keep what fits and fail; pass the rest on
        (redacted). Returns what an async ``on_text`` wants awaited."""
        if not text:
            return None
        room = self.c.max_answer_chars - self.chars
        cut = len(text) > room
        if cut:
            text = text[:room]
        pending = None
        if text:
            if self.ttft_ms is None:
                self.ttft_ms = (self.loop.time() - self.start) * 1000
            self.got_token = True
            self.chars += len(text)
            safe = self.stream.feed(text)
            if safe:
                self.parts.append(safe)
                if self.on_text is not None:
                    result = self.on_text(safe)
                    if result is not None and inspect.isawaitable(result):
                        pending = result
        if cut:
            self.truncated = True
            self.finish_reason = self.finish_reason or "length"
            if pending is not None:  # let the last delta land before failing
                return self._then_fail(pending)
            raise _Fail(self._cut_message())
        return pending

    async def _then_fail(self, pending: Awaitable[None]) -> None:
        await pending
        raise _Fail(self._cut_message())

    async def _await_callback(self, pending: Awaitable[None]) -> None:
        """Await an async ``on_text``; the timer never cancels it (its time is not the model's)."""
        self.watch.paused = True
        try:
            await pending
        finally:
            self.watch.paused = False

    async def _pass_on(self, text: str) -> None:
        """Pass on the redactor's held-back tail at the end of the call."""
        self.parts.append(text)
        if self.on_text is not None:
            result = self.on_text(text)
            if inspect.isawaitable(result):
                await result

    # -- pieces -------------------------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        req = self.req
        body: dict[str, Any] = {
            "model": req.model,
            "messages": req.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if req.temperature is not None:
            body["temperature"] = req.temperature
        if req.max_tokens is not None:
            reasoning = not self.ep.openrouter and _REASONING_MODEL.search(req.model)
            body["max_completion_tokens" if reasoning else self.ep.max_tokens_field] = req.max_tokens
        if self.ep.openrouter:
            body["usage"] = {"include": True}
        if req.extra_body:
            body.update(req.extra_body)
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Content-Type": "application/json"}
        if self.req.api_key:
            headers["Authorization"] = f"Bearer {self.req.api_key}"
        if self.ep.openrouter:
            headers["X-Title"] = "Codegen Arena"
        return headers

    def _connect_message(self, exc: aiohttp.ClientConnectorError) -> str:
        error: BaseException | None = exc.os_error
        while error is not None:
            if isinstance(error, ConnectionRefusedError) or "refused" in str(error).lower():
                return f"connection refused by {self.where}"
            error = error.__cause__ or error.__context__
        os_error = exc.os_error
        detail = os_error.strerror or str(os_error) if isinstance(os_error, OSError) else str(exc)
        return f"could not connect to {self.where}: {detail or type(exc).__name__}"

    def _dropped_message(self, exc: BaseException) -> str:
        where = f"after {self.chars:,} characters" if self.chars else "before any text"
        return f"the connection to {self.where} dropped mid-answer ({where}): {type(exc).__name__}"

    def _html_message(self) -> str:
        return f"the provider at {self.ep.host} returned an HTML page, not an API response: check base_url"

    def _redirect_message(self, response: aiohttp.ClientResponse) -> str:
        location = response.headers.get("Location", "")
        shown = public_url(location) if "://" in location else location.split("?")[0][:100]
        return f"the provider at {self.ep.host} redirected to {shown or 'elsewhere'}: check base_url"

    def _cut_message(self) -> str:
        return f"answer cut at {self.c.max_answer_chars:,} characters: it ran past the length limit"

    def _deadline_message(self, deadline: float) -> str:
        t = self.c.timeouts
        if deadline >= self.total_deadline:
            return f"timed out after {seconds(t.total)} (the total time limit)"
        if not self.got_token:
            return f"timed out waiting for the first token after {seconds(t.first_token)}"
        return f"the stream stalled: no data for {seconds(t.idle)}"

    def _result(self, error: str | None) -> Completion:
        prompt = _int_or_none(self.usage.get("prompt_tokens"))
        completion = _int_or_none(self.usage.get("completion_tokens"))
        reported = self.usage.get("cost")
        if isinstance(reported, (int, float)) and not isinstance(reported, bool):
            cost: float | None = float(reported)
        else:
            cost = compute_cost(prompt, completion, self.req.price_in, self.req.price_out)
        finish = self.finish_reason
        if finish is not None:
            finish = one_line(self.redactor.error(str(finish)), 40)  # the provider's own string
        return Completion(
            text="".join(self.parts),
            finish_reason=finish,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            ttft_ms=self.ttft_ms,
            latency_ms=(self.loop.time() - self.start) * 1000,
            error=error,
            truncated=self.truncated,
            retries=self.retries,
        )


def _shown(data: bytes) -> str:
    return repr(data[:80].decode("utf-8", "replace"))


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
