"""Integration with the real embedded model: SmolLM2 served by xllamacpp on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.memory import MemorySurface
from bot.events import TaskRequested, User
from bot.local_model import LocalModelServer, find_gguf
from bot.providers.client import ChatClient, ChatRequest, Timeouts
from bot.roster import LOCAL_BASE_URL, Contestant
from storage.models import AnswerStatus


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalModelServer]:
    server = LocalModelServer(parallel=2, context=4096)
    yield server
    server.close()


def test_the_model_file_ships_with_the_install():
    path = find_gguf()
    assert path is not None and path.stat().st_size > 50_000_000


async def test_local_server_streams_a_real_answer_on_loopback(local_server):
    base_url = await local_server.base_url()
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    pieces: list[str] = []
    async with ChatClient(timeouts=Timeouts(first_token=120, idle=60, total=240)) as client:
        completion = await client.complete(
            ChatRequest(base_url=base_url, model="smollm2", max_tokens=24,
                        messages=[{"role": "user", "content": "Write a Python function that adds two numbers."}]),
            pieces.append,
        )
    assert completion.error is None, completion.error
    assert completion.text and "".join(pieces) == completion.text
    assert len(pieces) > 3  # it really streamed
    assert completion.completion_tokens and completion.completion_tokens <= 24
    assert completion.prompt_tokens and completion.ttft_ms is not None
    assert completion.ttft_ms <= completion.latency_ms


async def test_two_local_contestants_answer_a_task_through_the_core(sqlite_store, make_arena, local_server):
    contestants = [
        Contestant(id="smol", name="SmolLM2", base_url=LOCAL_BASE_URL, model="smollm2", max_tokens=32),
        Contestant(id="smol-terse", name="SmolLM2 terse", base_url=LOCAL_BASE_URL, model="smollm2",
                   max_tokens=32, temperature=0.8, system_prompt="Reply with code only."),
    ]
    # Generous limits: these guard against a hang, they do not time the model (CI machines are shared).
    arena = make_arena(sqlite_store, contestants, timeouts=Timeouts(connect=10, first_token=120, idle=60, total=240))
    arena.services.local_model = local_server
    surface = MemorySurface()

    outcome = await arena.ask(
        TaskRequested(platform="memory", user=User("U1"), channel="C", text="Reverse a string in Python."), surface
    )

    assert outcome is not None and len(outcome.answers) == 2
    for answer in outcome.answers:
        assert answer.status == AnswerStatus.DONE, answer.error
        assert answer.text.strip() and answer.completion_tokens
        final = surface.messages[next(c.ref for c in surface.posts() if c.ref.message_id == answer.message_id)]
        assert answer.text.strip()[:20] in final.text
