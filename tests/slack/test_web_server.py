"""The web process's server (Starlette on uvicorn, app/web.py): junk is refused cheaply, slow
headers are cut off, /metrics moves with the work, and more ASGI apps can be mounted."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.web import WebServer, build_web_app
from bot.metrics import serve_metrics_from_env
from tests.slack.conftest import Harness, command_body, event_body, sign

CHANNEL = "C0GENERAL"


async def test_a_thousand_junk_requests_get_401_and_at_most_one_short_log_line_each(harness: Harness, caplog) -> None:
    h = harness
    caplog.set_level(logging.DEBUG)
    real = command_body("write a quicksort", response_url=h.slack.response_url())
    now = int(time.time())
    junk: list[tuple[bytes, str, dict[str, str]]] = [
        (b"{not json", "application/json", {}),                                    # no signature at all
        (b"payload=%7B%22type%22%3A", "application/x-www-form-urlencoded", {"X-Slack-Signature": "v0=abc"}),
        (b"\xff\xfe\x00garbage", "application/json", sign("x")),                   # not UTF-8, wrong signature
        (real.encode(), "application/x-www-form-urlencoded", sign(real, secret="not-the-secret")),
        (real.encode(), "application/x-www-form-urlencoded", sign(real, timestamp=now - 6 * 60)),  # stale
        (real.encode(), "application/x-www-form-urlencoded",
         {"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=" + "0" * 64}),
        (b"", "text/plain", {"X-Slack-Request-Timestamp": str(now)}),
        (event_body({"type": "app_mention"}).encode(), "application/json", {"X-Slack-Signature": "garbage"}),
    ]
    caplog.clear()
    statuses = []
    for i in range(1000):
        body, content_type, headers = junk[i % len(junk)]
        async with h.session.post(h.url, data=body, headers={"Content-Type": content_type, **headers}) as resp:
            statuses.append(resp.status)
            await resp.read()
    assert set(statuses) == {401}
    assert len(caplog.records) <= 1000
    assert not [r for r in caplog.records if r.exc_info], "no traceback for junk"
    assert "Traceback" not in caplog.text
    assert all(len(r.getMessage()) < 200 for r in caplog.records)
    await h.settle()
    assert h.models.requests == [] and h.slack.responses == []

    status, _ = await h.command("write a quicksort")  # a real request still goes through
    await h.settle()
    assert status == 200 and len(h.models.requests) == 2


async def test_a_correctly_signed_but_malformed_body_is_a_400_without_traceback(harness: Harness, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for body, content_type in (("{not json at all", "application/json"),
                               ("payload=%7Bbroken", "application/x-www-form-urlencoded")):
        status, text = await harness.post(body, content_type)
        assert (status, text) == (400, "malformed request\n")  # refused, not a 500
    assert not [r for r in caplog.records if r.exc_info]
    assert len([r for r in caplog.records if "could not handle a signed request" in r.getMessage()]) == 2


async def test_an_oversized_body_is_refused_before_it_is_read(harness: Harness) -> None:
    body = "x" * (2 * 1024 * 1024)
    status, _ = await harness.post(body, "application/json", signed=False)
    assert status == 413


async def _open_and_trickle(port: int, head: bytes, trickle: bytes, pause: float) -> tuple[int, bytes]:
    """Send ``head`` then ``trickle`` one byte per ``pause``; returns (bytes trickled, what came back)
    once the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    sent = 0
    received = b""
    try:
        for byte in trickle:
            try:
                chunk = await asyncio.wait_for(reader.read(1024), pause)
            except TimeoutError:
                chunk = None
            if chunk is not None:
                received += chunk
                if chunk == b"":
                    break
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
    return sent, received


async def test_a_client_trickling_a_header_is_cut_off_at_the_deadline() -> None:
    async with WebServer(build_web_app(), "127.0.0.1", 0, header_timeout=1.0) as server:
        # 60 header bytes at one per 0.1 s would take 6 s: each byte arrives well within any
        # per-read timeout, but the header as a whole misses its 1 s deadline.
        head = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n"
        sent, received = await _open_and_trickle(server.port, head, b"X-Slow: " + b"a" * 52, pause=0.1)
        assert sent < 40, "the connection was closed long before the header was finished"
        assert received.startswith(b"HTTP/1.1 408")

        # a later request on a kept-alive connection gets its own deadline, counted from its first byte
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        await writer.drain()
        first = await asyncio.wait_for(reader.readuntil(b'{"ok":true}'), 5)
        assert first.startswith(b"HTTP/1.1 200")
        await asyncio.sleep(1.5)  # idle between requests is the keep-alive timeout's business (5 s)
        writer.write(b"GET /healthz HTTP/1.1\r\n")
        await writer.drain()
        closed = await asyncio.wait_for(reader.read(), 5)  # header never finished: cut off
        assert closed.startswith(b"HTTP/1.1 408")
        writer.close()


async def test_a_prompt_client_is_unaffected_by_the_header_deadline() -> None:
    async with WebServer(build_web_app(), "127.0.0.1", 0, header_timeout=1.0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        for _ in range(3):  # three requests on one connection, each well inside its deadline
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
            await writer.drain()
            reply = await asyncio.wait_for(reader.readuntil(b'{"ok":true}'), 5)
            assert reply.startswith(b"HTTP/1.1 200")
            await asyncio.sleep(0.6)  # 3 × 0.6 s exceeds one deadline: each request has its own
        writer.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def test_metrics_count_tasks_answers_latency_and_429s(harness: Harness) -> None:
    h = harness
    metrics_url = h.url.replace("/slack/events", "/metrics")

    async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        async with h.session.get(metrics_url) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
            return _samples(await resp.text())

    before = await scrape()
    h.models.script("alpha", text="word " * 20 + "\n```python\nprint(1)\n```", chunk_delay=0.02)
    h.models.script("beta", status=400, error_message="bad request")
    h.slack.rate_limit("chat.update", retry_after=0.2, times=2)
    await h.command("write a counter")
    await h.settle()
    after = await scrape()

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("codegen_tasks_started_total", platform="slack") == 1
    assert moved("codegen_answers_total", model="alpha", outcome="done") == 1
    assert moved("codegen_answers_total", model="beta", outcome="error") == 1
    assert moved("codegen_provider_latency_seconds_count", model="alpha") == 1
    assert moved("codegen_provider_ttft_seconds_count", model="alpha") == 1
    assert moved("codegen_platform_rate_limited_total", platform="slack", method="chat.update") == 2
    async with h.session.get(metrics_url) as resp:
        names = {family.name for family in text_string_to_metric_families(await resp.text())}
    assert {"codegen_queue_depth", "codegen_oldest_job_age_seconds"} <= names  # for the job engine to feed


async def test_another_asgi_app_mounts_beside_slack() -> None:
    async def hello(request):  # type: ignore[no-untyped-def]
        return PlainTextResponse(f"dashboard at {request.url.path}")

    dashboard = Starlette(routes=[Route("/", hello), Route("/tasks", hello)])
    async with WebServer(build_web_app(mounts={"/dashboard": dashboard}), "127.0.0.1", 0) as server:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{server.port}/dashboard/tasks") as resp:
                assert resp.status == 200 and await resp.text() == "dashboard at /dashboard/tasks"
            async with session.get(f"http://127.0.0.1:{server.port}/healthz") as resp:
                assert resp.status == 200


async def test_a_process_without_the_web_app_serves_metrics_on_metrics_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert serve_metrics_from_env({}) is None
    server = serve_metrics_from_env({"METRICS_PORT": str(port), "METRICS_HOST": "127.0.0.1"})
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        assert b"codegen_answers" in body and b"codegen_platform_rate_limited" in body
    finally:
        server.shutdown()
    with pytest.raises(ValueError, match="METRICS_PORT must be a port number"):
        serve_metrics_from_env({"METRICS_PORT": "abc"})
