"""One OpenAI-compatible chat-completions client for every contestant (streaming SSE over httpx).

Failures never raise: each ends its own :class:`Completion` with a one-line ``error`` a user can
read (cancellation still propagates). The flow of one :meth:`ChatClient.complete` call::

    send ──► headers ──► status 429/5xx, connect error? ──► wait (Retry-After or backoff), resend
                │            (only before the first token, within max_retries and the budget)
                ▼
            SSE events ──► on_text(delta) … ──► [DONE] ──► Completion(text, usage, cost, timings)
                │
                └─ first-token / idle / total timeout, malformed data, dropped connection,
                   character cap ──► Completion(partial text, error=...)
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.providers.errors import one_line, provider_message, public_url, redact, seconds
from bot.providers.sse import SSEItem, byte_lines, sse_items

log = logging.getLogger(__name__)

OnText = Callable[[str], Awaitable[None] | None]
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_ERROR_BODY = 16_384


@dataclass
class ChatRequest:
    """One chat completion to ask for. Prices are USD per 1M tokens."""

    base_url: str
    model: str
    messages: list[dict[str, Any]]
    api_key: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    price_in: float | None = None
    price_out: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """What came back. ``error`` is None on success, else a one-line message for the user.

    A truncated answer keeps its text, has ``truncated=True`` and an ``error`` saying where it
    was cut. After a mid-stream failure ``text`` holds what arrived before it.
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


def is_openrouter(base_url: str) -> bool:
    """True when the base URL is OpenRouter's (which reports cost on request)."""
    try:
        host = httpx.URL(base_url).host
    except Exception:
        return False
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


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
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


class ChatClient:
    """Streams chat completions from any OpenAI-compatible endpoint over one shared connection pool.

    ``max_retries``: resends after 429/5xx/connect errors, only before the first token.
    ``retry_after_cap``: longest Retry-After honoured; a provider asking for more fails clearly.
    ``max_answer_chars``: answers are cut there (``truncated=True``).
    """

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        timeouts: Timeouts = Timeouts(),
        max_retries: int = 3,
        max_answer_chars: int = 40_000,
        backoff_base: float = 0.5,
        retry_after_cap: float = 30.0,
    ) -> None:
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeouts.connect, read=None),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        self.timeouts = timeouts
        self.max_retries = max_retries
        self.max_answer_chars = max_answer_chars
        self.backoff_base = backoff_base
        self.retry_after_cap = retry_after_cap

    async def aclose(self) -> None:
        """Close the HTTP pool if this client created it."""
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def complete(self, req: ChatRequest, on_text: OnText | None = None) -> Completion:
        """Stream one answer, calling ``on_text`` with each text delta; never raises on failure."""
        return await _Call(self, req, on_text).run()


class _Call:
    """The state of one ``complete`` call."""

    def __init__(self, client: ChatClient, req: ChatRequest, on_text: OnText | None) -> None:
        self.c = client
        self.req = req
        self.on_text = on_text
        self.where = public_url(req.base_url)
        self.start = time.perf_counter()
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
            self._check_url()
            error = await self._attempts()
        except _Fail as exc:
            error = str(exc)
        if error is None and not "".join(self.parts).strip():
            error = "the model returned an empty answer"
            if self.finish_reason == "length":
                error += " (it hit max_tokens before writing any text)"
        if error is not None:
            error = one_line(redact(error, [self.req.api_key]))
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
                    self.req.model, wait, self.retries, self.c.max_retries,
                    redact(message, [self.req.api_key]),
                )
                await asyncio.sleep(wait)

    def _wait_for(self, retry_after: float | None, message: str) -> float:
        remaining = self.total_deadline - time.perf_counter()
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

    def _check_url(self) -> None:
        try:
            url = httpx.URL(self.req.base_url)
        except Exception:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            shown = self.req.base_url[:100] if "@" not in self.req.base_url else self.where
            raise _Fail(
                f"invalid base URL {shown!r}: it must start with http:// or https:// and name a host"
            )

    # -- one attempt ----------------------------------------------------------------------------

    async def _attempt(self) -> None:
        t = self.c.timeouts
        attempt_start = time.perf_counter()
        first_deadline = min(attempt_start + t.first_token, self.total_deadline)
        try:
            request = self.c.http.build_request(
                "POST",
                self.req.base_url.rstrip("/") + "/chat/completions",
                json=self._body(),
                headers=self._headers(),
                timeout=httpx.Timeout(t.connect, read=None, write=t.connect, pool=None),
            )
        except (TypeError, ValueError, httpx.InvalidURL) as exc:
            raise _Fail(f"could not build the request: {exc}") from None
        try:
            async with asyncio.timeout_at(self._loop_time(first_deadline)):
                response = await self.c.http.send(request, stream=True)
        except TimeoutError:
            raise _Fail(self._deadline_message(first_deadline)) from None
        except httpx.ConnectTimeout:
            raise _Retry(f"could not connect to {self.where} within {seconds(t.connect)}") from None
        except httpx.ConnectError as exc:
            raise _Retry(self._connect_message(exc)) from None
        except httpx.HTTPError as exc:
            raise _Fail(f"request to {self.where} failed: {type(exc).__name__}: {exc}") from None
        try:
            if response.status_code >= 400:
                await self._raise_for_status(response, first_deadline)
            await self._read(response, first_deadline)
        finally:
            await response.aclose()

    async def _raise_for_status(self, response: httpx.Response, deadline: float) -> None:
        body = b""
        try:
            async with asyncio.timeout_at(self._loop_time(deadline)):
                async for piece in response.aiter_bytes():
                    body += piece
                    if len(body) > MAX_ERROR_BODY:
                        break
        except (TimeoutError, httpx.HTTPError):
            pass
        message = provider_message(body, response.reason_phrase)
        text = f"provider returned {response.status_code}: {message}"
        if response.status_code in RETRY_STATUSES or response.status_code >= 500:
            raise _Retry(text, parse_retry_after(response.headers))
        raise _Fail(text)

    async def _read(self, response: httpx.Response, first_deadline: float) -> None:
        ctype = response.headers.get("content-type", "")
        if "application/json" in ctype:
            await self._read_json(response, first_deadline)
            return
        items: AsyncIterator[SSEItem] = sse_items(byte_lines(response.aiter_bytes())).__aiter__()
        t = self.c.timeouts
        deadline = first_deadline
        try:
            while True:
                try:
                    async with asyncio.timeout_at(self._loop_time(deadline)):
                        item = await items.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise _Fail(self._deadline_message(deadline)) from None
                except httpx.HTTPError as exc:
                    raise _Fail(self._dropped_message(exc)) from None
                if item.data is not None and item.data.strip() == "[DONE]":
                    return
                if item.error is not None:
                    message = provider_message(item.error.encode(), "unknown error")
                    raise _Fail(f"provider error mid-stream: {message}")
                if item.data is not None:
                    await self._handle(item.data)
                if self.got_token:
                    deadline = min(time.perf_counter() + t.idle, self.total_deadline)
        finally:
            await items.aclose()  # type: ignore[attr-defined]
        if self.finish_reason is None:
            raise _Fail(
                f"the stream ended before the answer was finished (after {self.chars:,} characters)"
            )

    async def _read_json(self, response: httpx.Response, deadline: float) -> None:
        """A provider that ignored ``stream: true`` and sent one JSON completion."""
        try:
            async with asyncio.timeout_at(self._loop_time(deadline)):
                body = await response.aread()
        except TimeoutError:
            raise _Fail(self._deadline_message(deadline)) from None
        except httpx.HTTPError as exc:
            raise _Fail(self._dropped_message(exc)) from None
        try:
            obj = json.loads(body)
            choice = obj["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _Fail(f"malformed response from provider: {body[:80]!r}") from None
        self.finish_reason = choice.get("finish_reason") or "stop"
        if isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
        await self._emit(text)

    async def _handle(self, data: str) -> None:
        """Apply one SSE data payload (a chunk of answer, the finish reason, usage, an error)."""
        try:
            obj = json.loads(data)
        except ValueError:
            raise _Fail(f"malformed stream from provider: data is not JSON: {data[:80]!r}") from None
        if not isinstance(obj, dict):
            raise _Fail(f"malformed stream from provider: unexpected data {data[:80]!r}")
        if obj.get("error"):
            raise _Fail(f"provider error mid-stream: {provider_message(data.encode())}")
        if isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
        choices = obj.get("choices") or []
        if not isinstance(choices, list):
            raise _Fail(f"malformed stream from provider: unexpected data {data[:80]!r}")
        for choice in choices[:1]:
            if not isinstance(choice, dict):
                raise _Fail(f"malformed stream from provider: unexpected data {data[:80]!r}")
            delta = choice.get("delta") or {}
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            if delta.get("reasoning") or delta.get("reasoning_content"):
                self.got_token = True  # thinking counts as alive, not as the first answer token
            content = delta.get("content")
            if isinstance(content, str) and content:
                await self._emit(content)

    async def _emit(self, text: str) -> None:
        """Append text and pass it on; past the character cap, keep what fits and fail."""
        if not text:
            return
        room = self.c.max_answer_chars - self.chars
        cut = len(text) > room
        if cut:
            text = text[:room]
        if text:
            if self.ttft_ms is None:
                self.ttft_ms = (time.perf_counter() - self.start) * 1000
            self.got_token = True
            self.parts.append(text)
            self.chars += len(text)
            if self.on_text is not None:
                result = self.on_text(text)
                if inspect.isawaitable(result):
                    await result
        if cut:
            self.truncated = True
            self.finish_reason = self.finish_reason or "length"
            raise _Fail(f"answer cut at {self.c.max_answer_chars:,} characters")

    # -- pieces -------------------------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.req.model,
            "messages": self.req.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.req.temperature is not None:
            body["temperature"] = self.req.temperature
        if self.req.max_tokens is not None:
            body["max_tokens"] = self.req.max_tokens
        if is_openrouter(self.req.base_url):
            body["usage"] = {"include": True}
        body.update(self.req.extra_body)
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.req.api_key:
            headers["Authorization"] = f"Bearer {self.req.api_key}"
        if is_openrouter(self.req.base_url):
            headers["X-Title"] = "Codegen Arena"
        return headers

    def _connect_message(self, exc: httpx.ConnectError) -> str:
        detail = str(exc)
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
                return f"connection refused by {self.where}"
            if isinstance(cause, OSError) and cause.strerror:
                detail = cause.strerror
            cause = cause.__cause__ or cause.__context__
        return f"could not connect to {self.where}: {detail or type(exc).__name__}"

    def _dropped_message(self, exc: httpx.HTTPError) -> str:
        where = f"after {self.chars:,} characters" if self.chars else "before any text"
        return f"the connection to {self.where} dropped mid-answer ({where}): {type(exc).__name__}"

    def _deadline_message(self, deadline: float) -> str:
        t = self.c.timeouts
        if deadline >= self.total_deadline:
            return f"timed out after {seconds(t.total)} (the total time limit)"
        if not self.got_token:
            return f"timed out waiting for the first token after {seconds(t.first_token)}"
        return f"the stream stalled: no data for {seconds(t.idle)}"

    @staticmethod
    def _loop_time(deadline: float) -> float:
        """Convert a perf_counter deadline to the event loop's clock."""
        return asyncio.get_running_loop().time() + (deadline - time.perf_counter())

    def _result(self, error: str | None) -> Completion:
        prompt = _int_or_none(self.usage.get("prompt_tokens"))
        completion = _int_or_none(self.usage.get("completion_tokens"))
        reported = self.usage.get("cost")
        if isinstance(reported, (int, float)) and not isinstance(reported, bool):
            cost: float | None = float(reported)
        else:
            cost = compute_cost(prompt, completion, self.req.price_in, self.req.price_out)
        return Completion(
            text="".join(self.parts),
            finish_reason=self.finish_reason,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            ttft_ms=self.ttft_ms,
            latency_ms=(time.perf_counter() - self.start) * 1000,
            error=error,
            truncated=self.truncated,
            retries=self.retries,
        )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
