"""The fake OpenAI server itself: the behaviours other tests rely on."""

from __future__ import annotations

import httpx

from tests.fakes import FakeOpenAI

MESSAGES = [{"role": "user", "content": "write add()"}]


async def test_non_streaming_answer_honours_max_tokens() -> None:
    async with FakeOpenAI() as fake:
        fake.script("m", text="one two three four")
        async with httpx.AsyncClient() as http:
            r = await http.post(
                f"{fake.base_url}/chat/completions",
                json={"model": "m", "messages": MESSAGES, "max_tokens": 2},
            )
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "one two"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 2


async def test_fail_times_then_success_and_requests_recorded() -> None:
    async with FakeOpenAI() as fake:
        fake.script("m", status=503, fail_times=1, error_message="busy", retry_after=2)
        async with httpx.AsyncClient() as http:
            first = await http.post(
                f"{fake.base_url}/chat/completions", json={"model": "m", "messages": MESSAGES}
            )
            second = await http.post(
                f"{fake.base_url}/chat/completions", json={"model": "m", "messages": MESSAGES}
            )
            models = await http.get(f"{fake.base_url}/models")
    assert first.status_code == 503
    assert first.headers["retry-after"] == "2"
    assert first.json()["error"]["message"] == "busy"
    assert second.status_code == 200
    assert [r.path for r in fake.requests] == [
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/models",
    ]
    assert "m" in [m["id"] for m in models.json()["data"]]


async def test_api_key_required_when_configured() -> None:
    async with FakeOpenAI(api_key="sk-right") as fake, httpx.AsyncClient() as http:
        r = await http.post(
            f"{fake.base_url}/chat/completions",
            json={"model": "m", "messages": MESSAGES},
            headers={"Authorization": "Bearer sk-wrong"},
        )
    assert r.status_code == 401
    assert "sk-" not in r.text


def test_threaded_variant_serves_sync_clients() -> None:
    fake = FakeOpenAI.start_in_thread()
    try:
        fake.script("m", text="hi there")
        r = httpx.post(f"{fake.base_url}/chat/completions", json={"model": "m", "messages": MESSAGES})
        assert r.json()["choices"][0]["message"]["content"] == "hi there"
        assert len(fake.requests) == 1
    finally:
        fake.stop()
