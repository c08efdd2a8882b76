"""The Piston backend against a fake Piston server on loopback."""

from __future__ import annotations

import socket

import pytest

from bot.sandbox.errors import SandboxUnavailable
from bot.sandbox.limits import Limits
from bot.sandbox.piston import PistonBackend
from bot.sandbox.service import SandboxService
from tests.sandbox.fake_piston import FakePiston


async def test_runs_code_and_maps_the_result() -> None:
    async with FakePiston() as fake:
        backend = PistonBackend(fake.url, Limits(wall_s=3, memory=128 * 2**20))
        result = await backend.run("print('hello')", "python")
    assert result.ok and result.stdout == "hello\n"
    [body] = fake.requests
    assert body["language"] == "python" and body["version"] == "*"
    assert body["files"] == [{"name": "main.py", "content": "print('hello')"}]
    assert body["run_timeout"] == 3000 and body["run_memory_limit"] == 128 * 2**20
    assert body["stdin"] == ""


async def test_timeout_signal_and_output_limit() -> None:
    async with FakePiston() as fake:
        backend = PistonBackend(fake.url + "/api/v2/")
        fake.reply = fake.run_reply(code=None, signal="SIGKILL", status="TO", message="Timeout")
        timed = await backend.run("while True: pass", "python")
        fake.reply = fake.run_reply(code=None, signal="SIGSEGV", status="SG")
        segv = await backend.run("x", "python")
        fake.reply = fake.run_reply(stdout="x" * 2_000_000, status="OL")
        flood = await backend.run("x", "javascript")
    assert timed.timed_out and timed.signal == "SIGKILL" and timed.exit_code is None
    assert segv.signal == "SIGSEGV" and not segv.timed_out
    assert flood.truncated and len(flood.stdout) <= Limits().output_kept
    assert fake.requests[-1]["files"][0]["name"] == "main.js"


async def test_refusal_is_reported_with_its_status() -> None:
    async with FakePiston() as fake:
        fake.status, fake.reply = 400, {"message": "runtime is unknown"}
        with pytest.raises(SandboxUnavailable, match="HTTP 400: runtime is unknown"):
            await PistonBackend(fake.url).run("x", "bash")


async def test_unreachable_service_is_reported() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SandboxUnavailable, match="unreachable"):
        await PistonBackend(f"http://127.0.0.1:{port}").run("x", "python")


async def test_service_from_env_uses_piston(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakePiston() as fake:
        monkeypatch.setenv("SANDBOX_URL", fake.url)
        service = SandboxService.from_env()
        result = await service.run("u1", "print('hello')", "py")
    assert service.backend.name == "piston" and result.stdout == "hello\n"
    assert fake.requests[0]["language"] == "python"
