"""Parsing the wire: SSE framing, provider error bodies, Retry-After, URLs, cost."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from bot.providers import compute_cost
from bot.providers.client import is_openrouter, parse_retry_after
from bot.providers.errors import provider_message, public_url
from bot.providers.sse import COMMENT, DATA, ERROR, SSEParser


def test_sse_joins_multiline_data_and_reports_comments_and_errors() -> None:
    stream = (
        b": OPENROUTER PROCESSING\n\n"
        b"event: message\n"
        b'data: {"a":\n'
        b"data:1}\n\n"
        b'error: {"code": 500, "message": "slot unavailable"}\n'
        b"data: [DONE]"  # final event without the closing blank line
    )
    parser = SSEParser()
    items = parser.feed(stream) + parser.end()
    assert items == [
        (COMMENT, b""),
        (DATA, b'{"a":\n1}'),
        (ERROR, b'{"code": 500, "message": "slot unavailable"}'),
        (DATA, b"[DONE]"),
    ]


def test_sse_split_anywhere_gives_the_same_events() -> None:
    """However the network cuts the bytes (inside a line, a CRLF, a multi-byte character)."""
    stream = 'data: {"content": "héllo 🙂"}\r\n\r\n: ping\n\ndata: {"b": 2}\n\ndata: [DONE]\n\n'.encode()
    whole = SSEParser().feed(stream)
    assert whole == [(DATA, '{"content": "héllo 🙂"}'.encode()), (COMMENT, b""), (DATA, b'{"b": 2}'),
                     (DATA, b"[DONE]")]
    for cut in range(1, len(stream)):
        parser = SSEParser()
        assert parser.feed(stream[:cut]) + parser.feed(stream[cut:]) + parser.end() == whole, cut


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


def test_public_url_drops_credentials_and_query() -> None:
    assert public_url("https://user:pw@api.example.com:8443/v1?key=abc") == (
        "https://api.example.com:8443/v1"
    )
    assert public_url("not a url") == "<invalid URL>"


def test_retry_after_forms() -> None:
    assert parse_retry_after(CIMultiDict({"Retry-After": "7"})) == 7
    assert parse_retry_after(CIMultiDict({"retry-after-ms": "250", "Retry-After": "1"})) == 0.25
    assert parse_retry_after(CIMultiDict({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert parse_retry_after(CIMultiDict({"Retry-After": "soon"})) is None
    assert parse_retry_after(CIMultiDict()) is None


def test_cost_from_prices_and_openrouter_detection() -> None:
    assert compute_cost(1000, 500, 2.5, 10.0) == pytest.approx(0.0075)
    assert compute_cost(1000, 500, None, None) is None
    assert compute_cost(None, 500, 2.5, 10.0) is None
    assert is_openrouter("https://openrouter.ai/api/v1")
    assert not is_openrouter("https://api.openai.com/v1")
    assert not is_openrouter("https://openrouter.ai.evil.example/v1")
