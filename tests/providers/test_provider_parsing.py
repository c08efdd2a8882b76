"""Parsing the wire: SSE framing, provider error bodies, Retry-After, key redaction, cost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.providers import compute_cost
from bot.providers.client import is_openrouter, parse_retry_after
from bot.providers.errors import provider_message, public_url, redact
from bot.providers.sse import SSEItem, byte_lines, sse_items


async def _collect(lines: list[str]) -> list[SSEItem]:
    async def gen() -> AsyncIterator[str]:
        for line in lines:
            yield line

    return [item async for item in sse_items(gen())]


async def test_sse_joins_multiline_data_and_reports_comments_and_errors() -> None:
    items = await _collect(
        [
            ": OPENROUTER PROCESSING",
            "",
            "event: message",
            "data: {\"a\":",
            "data:1}",
            "",
            'error: {"code": 500, "message": "slot unavailable"}',
            "data: [DONE]",
        ]
    )
    assert items == [
        SSEItem(comment=True),
        SSEItem(data='{"a":\n1}'),
        SSEItem(error='{"code": 500, "message": "slot unavailable"}'),
        SSEItem(data="[DONE]"),  # final event without the closing blank line
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": {"message": "Invalid API key", "code": 401}}', "Invalid API key"),
        (
            b'{"error": {"message": "Provider returned error", "metadata": {"raw": "overloaded"}}}',
            "Provider returned error (overloaded)",
        ),
        (b'{"error": "model \\"x\\" not found"}', 'model "x" not found'),
        (b'{"detail": "Not Found"}', "Not Found"),
        (b"upstream connect error", "upstream connect error"),
        (b"<html><body>502 Bad Gateway</body></html>", "Bad Gateway"),
        (b"", "Bad Gateway"),
    ],
)
def test_provider_message_from_error_bodies(body: bytes, expected: str) -> None:
    assert provider_message(body, "Bad Gateway") == expected


def test_redact_removes_given_secret_and_key_shaped_strings() -> None:
    text = "bad key sk-proj-abcdefghijkl, Bearer xyz123, url ?key=AIzaSecret&x=1, mine: hunter22"
    out = redact(text, ["hunter22"])
    for secret in ("sk-proj-abcdefghijkl", "xyz123", "AIzaSecret", "hunter22"):
        assert secret not in out
    assert "bad key ***" in out


def test_public_url_drops_credentials_and_query() -> None:
    assert public_url("https://user:pw@api.example.com:8443/v1?key=abc") == (
        "https://api.example.com:8443/v1"
    )


def test_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "7"})) == 7
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250", "Retry-After": "1"})) == 0.25
    assert parse_retry_after(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert parse_retry_after(httpx.Headers()) is None


def test_cost_from_prices_and_openrouter_detection() -> None:
    assert compute_cost(1000, 500, 2.5, 10.0) == pytest.approx(0.0075)
    assert compute_cost(1000, 500, None, None) is None
    assert compute_cost(None, 500, 2.5, 10.0) is None
    assert is_openrouter("https://openrouter.ai/api/v1")
    assert not is_openrouter("https://api.openai.com/v1")
    assert not is_openrouter("https://openrouter.ai.evil.example/v1")


async def test_byte_lines_keeps_characters_split_across_chunks_whole() -> None:
    text = 'data: {"content": "héllo 🙂"}\r\n\r\ndata: [DONE]'.encode()
    cut = text.index("🙂".encode()) + 2  # inside the emoji's 4-byte sequence

    async def chunks() -> AsyncIterator[bytes]:
        for piece in (text[:5], text[5:cut], text[cut:]):
            yield piece

    lines = [line async for line in byte_lines(chunks())]
    assert lines == ['data: {"content": "héllo 🙂"}\r', "\r", "data: [DONE]"]
    items = await _collect(lines)
    assert [i.data for i in items] == ['{"content": "héllo 🙂"}', "[DONE]"]

