"""The provider client against the fake OpenAI-compatible server, over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest

from bot.providers import ChatClient, ChatRequest, Timeouts
from tests.fakes import FakeOpenAI
from tests.fakes.hosts import session_resolving

MESSAGES = [{"role": "user", "content": "write add(a, b) in python"}]
FAST = Timeouts(connect=2, first_token=2, idle=2, total=5)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[ChatClient]:
    c = ChatClient(timeouts=FAST, max_retries=2, backoff_base=0.01)
    yield c
    await c.aclose()


def req(fake: FakeOpenAI, model: str = "m", **kw: object) -> ChatRequest:
    return ChatRequest(base_url=fake.base_url, model=model, messages=MESSAGES, **kw)  # type: ignore[arg-type]


async def test_streams_answer_with_timings_tokens_and_cost_from_prices(
    fake: FakeOpenAI, client: ChatClient
) -> None:
    fake.script("m", chunks=["def ", "add(a, b):", "\n    return a + b"], chunk_delay=0.01)
    seen: list[str] = []
    result = await client.complete(
        req(fake, temperature=0.3, max_tokens=50, price_in=2.0, price_out=10.0), seen.append
    )
    assert result.error is None and result.ok
    assert result.text == "def add(a, b):\n    return a + b"
    assert seen == ["def ", "add(a, b):", "\n    return a + b"]
    assert result.finish_reason == "stop"
    assert result.completion_tokens == 3
    assert result.prompt_tokens is not None and result.prompt_tokens > 0
    expected = (result.prompt_tokens * 2.0 + 3 * 10.0) / 1e6
    assert result.cost_usd == pytest.approx(expected)
    assert result.ttft_ms is not None and 0 < result.ttft_ms <= result.latency_ms
    assert result.retries == 0 and not result.truncated

    path, headers, body = fake.requests[0]
    assert path == "/v1/chat/completions"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.3 and body["max_tokens"] == 50
    assert "usage" not in body  # only OpenRouter is asked for its cost
    assert "authorization" not in headers


async def test_async_callback_and_extra_body(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", text="hello there world")
    seen: list[str] = []

    async def on_text(delta: str) -> None:
        await asyncio.sleep(0)
        seen.append(delta)

    result = await client.complete(
        req(fake, extra_body={"max_completion_tokens": 2, "seed": 7}), on_text
    )
    assert "".join(seen) == result.text == "hello there"
    assert result.finish_reason == "length"
    assert fake.requests[0].json["seed"] == 7


async def test_openrouter_is_asked_for_cost_and_reported_cost_wins(fake: FakeOpenAI) -> None:
    fake.script("openai/gpt-4o", text="print(1)", cost=0.00042)
    async with session_resolving("openrouter.ai") as session:
        client = ChatClient(session, timeouts=FAST)
        result = await client.complete(
            ChatRequest(
                base_url=f"http://openrouter.ai:{fake.port}/api/v1",
                model="openai/gpt-4o",
                messages=MESSAGES,
                api_key="sk-or-v1-abcdefghijklmnop",
                price_in=1000.0,
                price_out=1000.0,
            )
        )
    assert result.error is None
    assert result.cost_usd == pytest.approx(0.00042)
    path, headers, body = fake.requests[0]
    assert path == "/api/v1/chat/completions"
    assert body["usage"] == {"include": True}
    assert headers["authorization"] == "Bearer sk-or-v1-abcdefghijklmnop"


async def test_openai_and_reasoning_models_get_max_completion_tokens(fake: FakeOpenAI) -> None:
    """OpenAI's reasoning models refuse max_tokens; OpenAI takes max_completion_tokens for all."""
    fake.script("gpt-4o", text="one two three")
    fake.script("o3-mini", text="one two three")
    async with session_resolving("api.openai.com") as session:
        client = ChatClient(session, timeouts=FAST)
        openai = await client.complete(ChatRequest(
            base_url=f"http://api.openai.com:{fake.port}/v1", model="gpt-4o", messages=MESSAGES, max_tokens=2))
        elsewhere = await client.complete(req(fake, "o3-mini", max_tokens=2))
        plain = await client.complete(req(fake, "gpt-4o", max_tokens=2))
    for result in (openai, elsewhere, plain):
        assert result.text == "one two" and result.finish_reason == "length"
    bodies = [r.json for r in fake.requests]
    assert [("max_completion_tokens" in b, "max_tokens" in b) for b in bodies] == [
        (True, False), (True, False), (False, True)
    ]


async def test_429_with_retry_after_is_waited_then_succeeds(fake: FakeOpenAI) -> None:
    fake.script("m", status=429, retry_after=0.4, fail_times=1, error_message="slow down")
    client = ChatClient(timeouts=FAST, backoff_base=0.01)
    try:
        result = await client.complete(req(fake))
    finally:
        await client.aclose()
    assert result.error is None
    assert result.retries == 1
    assert len(fake.requests) == 2
    assert fake.request_times[1] - fake.request_times[0] >= 0.39  # Retry-After, not the backoff


async def test_500_then_success(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", status=500, fail_times=1, text="ok then")
    result = await client.complete(req(fake))
    assert result.error is None and result.text == "ok then"
    assert result.retries == 1


async def test_500_forever_gives_a_clear_error(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", status=503, error_message="upstream overloaded")
    result = await client.complete(req(fake))
    assert result.error == "provider returned 503: upstream overloaded (gave up after 2 retries)"
    assert result.retries == 2 and len(fake.requests) == 3
    assert result.text == "" and result.ttft_ms is None


async def test_retry_after_beyond_cap_or_budget_fails_without_waiting(fake: FakeOpenAI) -> None:
    fake.script("m", status=429, retry_after=120, error_message="rate limited")
    client = ChatClient(timeouts=FAST, retry_after_cap=30)
    try:
        capped = await client.complete(req(fake))
        fake.script("m", status=429, retry_after=20, error_message="rate limited")
        budget = await client.complete(req(fake))
    finally:
        await client.aclose()
    assert capped.error == (
        "provider returned 429: rate limited (asked to retry after 120 s, longer than the 30 s we wait)"
    )
    assert budget.error == (
        "provider returned 429: rate limited (asked to retry after 20 s, beyond the 5 s time limit)"
    )
    assert len(fake.requests) == 2


async def test_401_shows_provider_message_and_is_not_retried(client: ChatClient) -> None:
    async with FakeOpenAI(api_key="sk-right-key-123456") as fake:
        result = await client.complete(req(fake, api_key="sk-wrong-key-987654"))
        assert len(fake.requests) == 1
    assert result.error == "provider returned 401: Invalid API key"
    assert result.retries == 0


async def test_api_key_sent_as_bearer_and_never_in_error(
    fake: FakeOpenAI, client: ChatClient
) -> None:
    key = "sk-proj-SECRETSECRET1234"
    fake.script("m", status=401, error_message=f"Incorrect API key provided: {key}.")
    result = await client.complete(req(fake, api_key=key))
    assert fake.requests[0].headers["authorization"] == f"Bearer {key}"
    assert result.error is not None and result.error.startswith("provider returned 401")
    assert key not in result.error and "SECRET" not in result.error


async def test_connection_refused(client: ChatClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await client.complete(
        ChatRequest(base_url=f"http://127.0.0.1:{port}/v1", model="m", messages=MESSAGES)
    )
    assert result.error == (
        f"connection refused by http://127.0.0.1:{port}/v1 (gave up after 2 retries)"
    )
    assert result.retries == 2


async def test_malformed_sse(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", chunks=["first", "second"], malformed=True)
    result = await client.complete(req(fake))
    assert result.error is not None
    assert result.error.startswith("malformed stream from provider: data is not JSON")
    assert result.text == "first"


async def test_dropped_connection_keeps_partial_text_and_is_not_retried(
    fake: FakeOpenAI, client: ChatClient
) -> None:
    fake.script("m", chunks=["a", "b", "c", "d"], drop_after=2)
    result = await client.complete(req(fake))
    assert result.text == "ab"
    assert result.error is not None
    assert "dropped mid-answer (after 2 characters)" in result.error
    assert len(fake.requests) == 1 and result.retries == 0


async def test_endless_stream_stopped_by_total_timeout(fake: FakeOpenAI) -> None:
    fake.script("m", chunks=["x"], endless=True, chunk_delay=0.01)
    client = ChatClient(timeouts=Timeouts(connect=1, first_token=1, idle=1, total=0.5))
    try:
        result = await client.complete(req(fake))
    finally:
        await client.aclose()
    assert result.error == "timed out after 0.5 s (the total time limit)"
    assert result.text.startswith("xxx")


async def test_endless_stream_cut_at_char_cap_and_stream_closed(fake: FakeOpenAI) -> None:
    fake.script("m", chunks=["abc"], endless=True)
    client = ChatClient(timeouts=FAST, max_answer_chars=100)
    try:
        result = await client.complete(req(fake))
    finally:
        await client.aclose()
    assert result.truncated and result.finish_reason == "length" and not result.ok
    assert len(result.text) == 100
    assert result.error == "answer cut at 100 characters: it ran past the length limit"
    for _ in range(100):  # the fake notices the closed connection on its next write
        if fake.disconnects:
            break
        await asyncio.sleep(0.02)
    assert fake.disconnects == 1


async def test_slow_first_token_times_out_without_retry(fake: FakeOpenAI) -> None:
    fake.script("m", text="late", first_token_delay=2)
    client = ChatClient(timeouts=Timeouts(connect=1, first_token=0.3, idle=5, total=5))
    try:
        result = await client.complete(req(fake))
    finally:
        await client.aclose()
    assert result.error == "timed out waiting for the first token after 0.3 s"
    assert result.text == "" and len(fake.requests) == 1


async def test_idle_gap_times_out_keeping_partial(fake: FakeOpenAI) -> None:
    fake.script("m", chunks=["a", "b"], chunk_delay=2)
    client = ChatClient(timeouts=Timeouts(connect=1, first_token=1, idle=0.3, total=5))
    try:
        result = await client.complete(req(fake))
    finally:
        await client.aclose()
    assert result.error == "the stream stalled: no data for 0.3 s"
    assert result.text == "a"


async def test_empty_answer_is_an_error(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", chunks=[])
    result = await client.complete(req(fake))
    assert result.error == "the model returned an empty answer"


async def test_one_failure_leaves_other_answers_alone(
    fake: FakeOpenAI, client: ChatClient
) -> None:
    fake.script("bad", status=500, error_message="boom")
    fake.script("good", text="fine")
    bad, good = await asyncio.gather(
        client.complete(req(fake, "bad")), client.complete(req(fake, "good"))
    )
    assert bad.error is not None and "boom" in bad.error
    assert good.error is None and good.text == "fine"


async def test_cancellation_propagates(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", chunks=["x"], endless=True, chunk_delay=0.05)
    started = asyncio.Event()
    task = asyncio.create_task(client.complete(req(fake), lambda _: started.set()))
    await asyncio.wait_for(started.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_error_event_mid_stream_keeps_partial(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", chunks=["part", "rest"], mid_stream_error="upstream provider crashed")
    result = await client.complete(req(fake))
    assert result.error == "provider error mid-stream: upstream provider crashed"
    assert result.text == "part"


async def test_provider_that_ignores_stream_flag_still_answers(
    fake: FakeOpenAI, client: ChatClient
) -> None:
    fake.script("m", text="whole answer at once", ignore_stream=True)
    seen: list[str] = []
    result = await client.complete(req(fake), seen.append)
    assert result.error is None
    assert seen == ["whole answer at once"] and result.text == "whole answer at once"
    assert result.completion_tokens == 4


async def test_keepalive_comments_do_not_count_as_the_first_token(fake: FakeOpenAI) -> None:
    fake.script("m", text="late", first_token_delay=2, keepalive=True)
    client = ChatClient(timeouts=Timeouts(connect=1, first_token=0.3, idle=5, total=5))
    try:
        result = await client.complete(req(fake))
    finally:
        await client.aclose()
    assert result.error == "timed out waiting for the first token after 0.3 s"


async def test_invalid_base_url_is_a_clear_error(client: ChatClient) -> None:
    for url in ("local", "ftp://example.com/v1", "http://"):
        result = await client.complete(ChatRequest(base_url=url, model="m", messages=MESSAGES))
        assert result.error is not None
        assert "must start with http:// or https://" in result.error


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/event-stream"])
async def test_html_page_with_status_200_is_reported_as_such(
    fake: FakeOpenAI, client: ChatClient, content_type: str
) -> None:
    """A captive portal or a base_url pointing at a website answers 200 with a web page."""
    fake.script("m", html=content_type)
    result = await client.complete(req(fake))
    assert result.error == (
        f"the provider at 127.0.0.1:{fake.port} returned an HTML page, not an API response: check base_url"
    )
    assert result.text == "" and result.retries == 0 and len(fake.requests) == 1


async def test_redirect_is_reported_not_followed(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", redirect_to="https://example.com/login?session=abc123")
    result = await client.complete(req(fake))
    assert result.error == (
        f"the provider at 127.0.0.1:{fake.port} redirected to https://example.com/login: check base_url"
    )
    assert len(fake.requests) == 1


async def test_connections_are_kept_alive_between_answers(fake: FakeOpenAI, client: ChatClient) -> None:
    fake.script("m", text="first answer")
    first = await client.complete(req(fake))
    second = await client.complete(req(fake))
    assert first.ok and second.ok
    assert fake.peers[0] == fake.peers[1]  # the second request reused the first one's connection


KEY = "sk-or-v1-0123456789abcdefECHOED"


async def test_echoed_key_split_across_chunks_is_redacted_everywhere(
    fake: FakeOpenAI, client: ChatClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A provider that quotes the Authorization header back: the key, arriving in 5-character
    pieces, reaches no delta, no Completion field and no log record."""
    caplog.set_level(logging.DEBUG)
    fake.script("m", echo_auth=True)
    seen: list[str] = []
    result = await client.complete(req(fake, api_key=KEY), seen.append)
    assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert result.ok
    assert result.text == "Here is what you sent me: Authorization: Bearer [redacted]. Anything else?"
    assert "".join(seen) == result.text
    for piece in seen:
        assert not any(KEY[i:i + 6] in piece for i in range(len(KEY) - 5))  # not even a part
    assert all(KEY not in str(value) for value in vars(result).values())
    assert KEY not in repr(req(fake, api_key=KEY))
    assert all(KEY not in r.getMessage() for r in caplog.records)


async def test_configured_secrets_are_redacted_from_answers_and_errors(fake: FakeOpenAI) -> None:
    """Secrets the client is built with (a Slack token, say) are caught like the request's key,
    also when the stream is cut in the middle of one."""
    slack = "xoxb-1111-2222-SECRETSLACKTOKEN"
    fake.script("echo", chunks=["you are ", slack[:5], slack[5:9], slack[9:], " right"])
    fake.script("cut", chunks=["token: ", slack[:12], slack[12:]], endless=True)
    fake.script("err", status=400, error_message=f"bad header {slack}")
    client = ChatClient(timeouts=FAST, secrets=[slack])
    capped = ChatClient(timeouts=FAST, secrets=[slack], max_answer_chars=25)
    try:
        echoed = await client.complete(req(fake, "echo", api_key="sk-another-key-0000"))
        err = await client.complete(req(fake, "err"))
        cut = await capped.complete(req(fake, "cut"))
    finally:
        await client.aclose()
        await capped.aclose()
    assert echoed.text == "you are [redacted] right"
    assert cut.truncated and cut.text == "token: [redacted]"  # 18 of its characters fit the cap
    assert err.error == "provider returned 400: bad header [redacted]"
    for result in (echoed, cut, err):
        assert slack[:8] not in result.text and slack[:8] not in (result.error or "")


async def test_proxy_from_the_environment_is_used(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a corporate proxy: HTTP_PROXY is honoured (here the fake plays the proxy)."""
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{fake.port}")
    fake.script("m", text="through the proxy")
    client = ChatClient(timeouts=FAST, max_retries=0)
    try:
        result = await client.complete(ChatRequest(base_url="http://provider.invalid/v1", model="m", messages=MESSAGES))
    finally:
        await client.aclose()
    assert result.error is None and result.text == "through the proxy"
    assert fake.requests[0].headers["host"] == "provider.invalid"


async def test_a_slow_async_callback_is_not_the_models_stall(fake: FakeOpenAI) -> None:
    """Time spent in on_text (say, a chat edit) does not count against the idle timeout."""
    fake.script("m", chunks=["a", "b", "c"], chunk_delay=0.05)
    client = ChatClient(timeouts=Timeouts(connect=1, first_token=1, idle=0.2, total=5))

    async def slow(delta: str) -> None:
        await asyncio.sleep(0.4)

    try:
        result = await client.complete(req(fake), slow)
    finally:
        await client.aclose()
    assert result.error is None and result.text == "abc"
