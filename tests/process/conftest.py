"""Real processes: `codegen-bot serve` and `codegen-bot worker` started as subprocesses against
the fake Slack and the fake provider (both on loopback ports in the test's event loop), so a test
can kill -9 or SIGTERM one mid-stream and look at what users see. Every process a test starts is
killed when the test ends, whatever happened."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.slack.conftest import SECRET, command_body, sign
from tests.slack.fake_slack import FakeSlack, PostedMessage

CHANNEL = "C0GENERAL"
BIN = Path(sys.executable).with_name("codegen-bot")
STREAM = "word " * 60 + "\n```python\nprint('ok')\n```"  # 60+ deltas: several seconds at the pace below
ROSTER = """
[[models]]
id = "alpha"
name = "ALPHA"
base_url = "{base}"
model = "alpha"

[[models]]
id = "beta"
name = "BETA"
base_url = "{base}"
model = "beta"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """One started bot process (its output goes to a log file in the test's directory)."""

    kind: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """kill -9: no cleanup of any kind."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Processes:
    """The fakes, the environment every process gets, and the processes started so far."""

    slack: FakeSlack
    models: FakeOpenAI
    env: dict[str, str]
    directory: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, *args: str, kind: str = "serve") -> Proc:
        """Start ``codegen-bot ARGS…``; a serving process gets its own PORT."""
        env = dict(self.env)
        port = None
        if args and args[0] == "serve":
            port = free_port()
            env["PORT"] = str(port)
        log = self.directory / f"{kind}-{len(self.started)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen([str(BIN), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                     cwd=self.directory)
        proc = Proc(kind, popen, log, port)
        self.started.append(proc)
        return proc

    async def serving(self, proc: Proc, timeout: float = 60) -> None:
        """Until ``proc`` answers /healthz (it fails the test, with its log, if it exits first)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if proc.popen.poll() is not None:
                    pytest.fail(f"{proc.kind} exited with {proc.popen.returncode}:\n{proc.output()}")
                try:
                    async with session.get(f"http://127.0.0.1:{proc.port}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        pytest.fail(f"{proc.kind} did not start within {timeout} s:\n{proc.output()}")

    async def command(self, proc: Proc, text: str) -> int:
        """A signed /codegen to ``proc``'s /slack/events; returns the HTTP status."""
        body = command_body(text, response_url=self.slack.response_url())
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        url = f"http://127.0.0.1:{proc.port}/slack/events"
        async with aiohttp.ClientSession() as session, session.post(url, data=body.encode(), headers=headers) as resp:
            return resp.status

    def answer_messages(self) -> list[PostedMessage]:
        """Every threaded reply (one per model per task) in the channel."""
        return [m for m in self.slack.channel_messages(CHANNEL) if m.thread_ts is not None]

    async def streaming(self, timeout: float = 60) -> None:
        """Until the answers are being streamed into Slack (the first progress edit arrived)."""
        try:
            async with asyncio.timeout(timeout):
                while not any("▌" in json.dumps(c.body, ensure_ascii=False) for c in self.slack.calls_to("chat.update")):
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pytest.fail(f"no streaming edit within {timeout} s: {[c.method for c in self.slack.calls]}\n"
                        f"{self.logs()}")

    def logs(self) -> str:
        """The tail of every started process's output (for failure messages)."""
        return "\n".join(f"--- {p.kind} {p.pid}\n{p.output()[-3000:]}" for p in self.started)

    async def all_final(self, expected: int, timeout: float) -> list[PostedMessage]:
        """Until ``expected`` answer messages exist and each is final: the finished answer (its
        footer) or an "interrupted" note with Retry; fails naming what was still open."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    messages = self.answer_messages()
                    if len(messages) >= expected and all(is_final(m) for m in messages):
                        return messages
                    await asyncio.sleep(0.2)
        except TimeoutError:
            open_ = [m.all_text()[-120:] for m in self.answer_messages() if not is_final(m)]
            pytest.fail(f"answers not final after {timeout} s: {open_}\n{self.logs()}")


def is_final(message: PostedMessage) -> bool:
    """A user sees a finished state: the answer with its footer, or interrupted with 🔁 Retry."""
    text = message.all_text()
    if "▌" in text or "writing" in text:
        return False
    finished = "first token" in text
    interrupted = "interrupted" in text.lower() and "retry" in text.lower()
    return finished or interrupted


def finished(message: PostedMessage) -> bool:
    return "first token" in message.all_text() and "print('ok')" in message.all_text()


@pytest.fixture
def slow_models() -> float:
    """Seconds between two streamed deltas (answers take several seconds)."""
    return 0.08


@pytest.fixture
async def processes(tmp_path: Path, slow_models: float) -> AsyncIterator[Processes]:
    """Fakes on loopback, a roster on the fake provider, and cleanup of every started process."""
    async with FakeSlack() as slack, FakeOpenAI() as models:
        for model in ("alpha", "beta"):
            models.script(model, text=STREAM, chunk_delay=slow_models)
        roster = tmp_path / "models.toml"
        roster.write_text(ROSTER.format(base=models.base_url))
        home = tmp_path / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN", "_SECRET"))}
        env.pop("DATABASE_URL", None)
        env |= {
            "CODEGEN_HOME": str(home), "CODEGEN_MODELS": str(roster), "CODEGEN_EDIT_INTERVAL": "0.3",
            "SLACK_BOT_TOKEN": "xoxb-process-test", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url, "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        procs = Processes(slack, models, env, tmp_path)
        try:
            yield procs
        finally:
            for proc in procs.started:
                if proc.popen.poll() is None:
                    proc.popen.kill()
                    proc.popen.wait(10)
