"""Fan-out benchmark: M concurrent tasks x N contestants, each figure a ratio to a bare reference.

A fake OpenAI-compatible provider (its own process, bench/fake_provider.py) answers every request
after a fixed latency L, streamed in chunks. The same load runs three ways in this one process:

  (a) reference: a bare aiohttp client (one session, read the bytes, json.loads each data line);
  (b) our ChatClient alone (what bot/providers/client.py adds: timers, retries, redaction, ...);
  (c) the full arena path: arena + SQLite storage + throttled edits into an in-memory surface.

For each it prints the CPU time of this process per streamed answer (process CPU / answers; the
fake runs elsewhere), its ratio to (a), and each task's end-to-end time / L (p50, p99). Runs are
interleaved (a, b, c, a, b, c, ...) and the median of each figure is shown. Then peak RSS and the
local model's time to first token and tokens per second.

    .venv/bin/python bench/fanout.py [--latency 1.0] [--tasks 50] [--contestants 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fake_provider

from adapters.memory import MemorySurface
from app.wiring import provider_client, run_async
from bot.arena import Arena
from bot.config import Settings
from bot.events import TaskRequested, User
from bot.local_model import LocalModelServer
from bot.providers.client import ChatClient, ChatRequest
from bot.roster import Contestant, Roster
from storage.db import Store

CHUNKS = 10
# What a deployment redacts (b and c stream through the redactor, as the bot does): a provider key
# sent with every request, Slack's bot and app tokens and signing secret.
API_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
SECRETS = {"OPENROUTER_API_KEY": API_KEY, "SLACK_BOT_TOKEN": "xoxb-1234567890-1234567890123-" + "A" * 24,
           "SLACK_APP_TOKEN": "xapp-1-A0123456789-1234567890123-" + "b" * 64, "SLACK_SIGNING_SECRET": "c" * 32}
MESSAGES = [{"role": "user", "content": "write add(a, b) in python"}]
Task = Callable[[int], Awaitable[None]]  # runs task i (its N answers) to the end


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(run_task: Task, tasks: int, latency: float) -> tuple[float, list[float]]:
    """Run ``tasks`` tasks at once; returns this process's CPU seconds and each task's time / L."""

    async def one(i: int) -> float:
        started = time.perf_counter()
        await run_task(i)
        return (time.perf_counter() - started) / latency

    gc.collect()
    cpu = time.process_time()
    ratios = await asyncio.gather(*(one(i) for i in range(tasks)))
    return time.process_time() - cpu, list(ratios)


async def bare_reference(url: str, latency: float, tasks: int, contestants: int) -> tuple[float, list[float]]:
    """(a) The least a client can do: post, read the bytes, split lines, json.loads each data line."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as session:

        async def stream(model: str) -> str:
            body = json.dumps({"model": model, "messages": MESSAGES, "stream": True,
                               "stream_options": {"include_usage": True}}).encode()
            headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
            parts: list[str] = []
            async with session.post(url + "/chat/completions", data=body, headers=headers) as resp:
                pending = b""
                async for chunk in resp.content.iter_any():
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        if line.startswith(b"data: ") and line != b"data: [DONE]":
                            for choice in json.loads(line[6:]).get("choices") or ():
                                if text := (choice.get("delta") or {}).get("content"):
                                    parts.append(text)
            return "".join(parts)

        async def run_task(i: int) -> None:
            await asyncio.gather(*(stream(f"m{j}") for j in range(contestants)))

        return await measure(run_task, tasks, latency)


async def chat_client_alone(url: str, latency: float, tasks: int, contestants: int) -> tuple[float, list[float]]:
    """(b) The same load through our ChatClient, built and used as the bot does (its own pool,
    every configured secret redacted, a key sent with each request)."""
    roster = Roster([Contestant(id="m", name="M", base_url=url, model="m", api_key_env="OPENROUTER_API_KEY")])
    async with provider_client(Settings(secrets=SECRETS), roster) as client:

        async def stream(model: str) -> str:
            parts: list[str] = []
            request = ChatRequest(base_url=url, model=model, messages=MESSAGES, api_key=API_KEY)
            done = await client.complete(request, parts.append)
            if done.error:
                raise SystemExit(f"ChatClient failed: {done.error}")
            return "".join(parts)

        async def run_task(i: int) -> None:
            await asyncio.gather(*(stream(f"m{j}") for j in range(contestants)))

        return await measure(run_task, tasks, latency)


async def arena_path(url: str, store: Store, latency: float, tasks: int, contestants: int) -> tuple[float, list[float]]:
    """(c) The full path as the bot runs it: arena, SQLite, throttled edits, ChatClient (as in b)."""
    roster = Roster([
        Contestant(id=f"m{i}", name=f"Model {i}", base_url=url, model=f"m{i}", api_key_env="OPENROUTER_API_KEY")
        for i in range(contestants)
    ])
    settings = Settings(database_url=store.url, edit_interval=1.0, secrets=SECRETS, user_tasks_per_hour=0,
                        workspace_concurrent_tasks=0)  # measure the bot, not its limits
    async with provider_client(settings, roster) as client:
        arena = Arena(store, roster, client, settings)
        surface = MemorySurface(platform="bench")  # one surface for every task, as an adapter has

        async def run_task(i: int) -> None:
            event = TaskRequested(platform=surface.platform, user=User(f"U{i}"), channel=f"C{i}", text=f"task {i}")
            outcome = await arena.ask(event, surface)
            if outcome is None or any(a.status != "done" for a in outcome.answers):
                raise SystemExit(f"task {i} did not finish: {outcome}")

        return await measure(run_task, tasks, latency)


async def local_model_figures(runs: int = 3) -> tuple[float, float]:
    server = LocalModelServer()
    base_url = await server.base_url()
    ttfts, speeds = [], []
    async with ChatClient() as client:
        for _ in range(runs):
            done = await client.complete(ChatRequest(
                base_url=base_url, model="smollm2", max_tokens=128, temperature=0.2,
                messages=[{"role": "user", "content": "Write a Python function that checks if a number is prime."}],
            ))
            if done.error or done.ttft_ms is None or not done.completion_tokens:
                raise SystemExit(f"local model failed: {done.error}")
            ttfts.append(done.ttft_ms / 1000)
            speeds.append(done.completion_tokens / max(1e-6, (done.latency_ms - done.ttft_ms) / 1000))
    server.close()
    return statistics.median(ttfts), statistics.median(speeds)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="fake provider latency L in seconds")
    parser.add_argument("--tasks", type=int, default=50, help="M concurrent tasks")
    parser.add_argument("--contestants", type=int, default=8, help="N contestants per task")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs of each; medians are shown")
    parser.add_argument("--skip-local", action="store_true", help="skip the local model figures")
    args = parser.parse_args()
    m, n, latency = args.tasks, args.contestants, args.latency

    fake, url = fake_provider.start(n, latency, CHUNKS)
    names = ["(a) bare aiohttp client (reference)", "(b) ChatClient alone",
             "(c) arena + SQLite + MemorySurface edits"]
    cpu: dict[str, list[float]] = {k: [] for k in names}
    p50: dict[str, list[float]] = {k: [] for k in names}
    p99: dict[str, list[float]] = {k: [] for k in names}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.upgrade()
        runs = {
            names[0]: lambda tasks: bare_reference(url, latency, tasks, n),
            names[1]: lambda tasks: chat_client_alone(url, latency, tasks, n),
            names[2]: lambda tasks: arena_path(url, store, latency, tasks, n),
        }
        for run in runs.values():  # warm-up: first-use imports and caches are not the steady state
            await run(2)
        for _ in range(args.rounds):
            for name, run in runs.items():
                seconds, ratios = await run(m)
                cpu[name].append(seconds * 1000 / (m * n))
                p50[name].append(percentile(ratios, 50))
                p99[name].append(percentile(ratios, 99))
        store.dispose()
    fake.terminate()
    fake.wait()

    med = statistics.median
    ref_cpu, ref_p50 = med(cpu[names[0]]), med(p50[names[0]])
    print(f"fake provider in its own process: L = {latency:.2f} s, {CHUNKS} chunks per answer; "
          f"M={m} tasks x N={n} contestants = {m * n} concurrent answers; median of {args.rounds} interleaved runs")
    print(f"{'':44} {'CPU/answer':>10} {'x ref':>6}   {'p50/L':>6} {'p99/L':>6} {'p50 x ref':>9}")
    for name in names:
        c, p = med(cpu[name]), med(p50[name])
        print(f"{name:44} {c:8.3f}ms {c / ref_cpu:6.2f}   {p:6.3f} {med(p99[name]):6.3f} {p / ref_p50:9.3f}")
    print("targets (issue 9, full path (c)): CPU <= 1.6 x ref, p50 <= 1.25 x L")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (the bot side: core, storage, client)")
    if not args.skip_local:
        ttft, speed = await local_model_figures()
        print(f"local model (SmolLM2-135M via xllamacpp): time to first token {ttft:.3f} s, {speed:.0f} tokens/s (median of 3)")


if __name__ == "__main__":
    run_async(main())  # the bot's own event loop (uvloop)
