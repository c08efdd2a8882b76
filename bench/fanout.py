"""Fan-out benchmark: M concurrent tasks x N contestants through the core.

A fake OpenAI-compatible provider (its own process, bench/fake_provider.py) answers every request after a
fixed latency L, streamed in chunks. Each task runs through the real arena (SQLite storage,
throttled live edits) into an in-memory recording surface. Prints, per configuration, the ratio
of each task's end-to-end time to L (p50, p99), then peak RSS, then the local model's time to
first token and tokens per second.

    .venv/bin/python bench/fanout.py [--latency 1.0] [--tasks 50] [--contestants 8]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fake_provider

from adapters.memory import MemorySurface
from app.wiring import (
    provider_http_client,
    run_async,
)
from bot.arena import Arena
from bot.config import Settings
from bot.events import TaskRequested, User
from bot.local_model import LocalModelServer
from bot.providers.client import ChatClient, ChatRequest
from bot.roster import Contestant, Roster
from storage.db import Store

CHUNKS = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run_config(fake_url: str, store: Store, latency: float, tasks: int, contestants: int) -> list[float]:
    roster = Roster([
        Contestant(id=f"m{i}", name=f"Model {i}", base_url=fake_url, model=f"m{i}") for i in range(contestants)
    ])
    http = provider_http_client()
    arena = Arena(store, roster, ChatClient(http), Settings(database_url=store.url, edit_interval=1.0))

    async def one(i: int) -> float:
        started = time.perf_counter()
        await arena.ask(
            TaskRequested(platform="bench", user=User(f"U{i}"), channel=f"C{i}", text=f"task {i}"), MemorySurface()
        )
        return (time.perf_counter() - started) / latency

    ratios = await asyncio.gather(*(one(i) for i in range(tasks)))
    await http.aclose()
    return list(ratios)


async def local_model_figures(runs: int = 3) -> tuple[float, float]:
    server = LocalModelServer()
    base_url = await server.base_url()
    ttfts, speeds = [], []
    async with ChatClient(httpx.AsyncClient()) as client:
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
    parser.add_argument("--skip-local", action="store_true", help="skip the local model figures")
    args = parser.parse_args()

    fake, fake_url = fake_provider.start(args.contestants, args.latency, CHUNKS)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.upgrade()
        print(f"fake provider latency L = {args.latency:.2f} s, streamed in {CHUNKS} chunks; SQLite store")
        results = {}
        for n in (1, args.contestants):
            ratios = await run_config(fake_url, store, args.latency, args.tasks, n)
            results[n] = ratios
            print(f"M={args.tasks:>3} tasks x N={n} contestants: end-to-end / L  "
                  f"p50 {percentile(ratios, 50):.3f}  p99 {percentile(ratios, 99):.3f}  max {max(ratios):.3f}")
        store.dispose()
    fake.terminate()
    fake.wait()
    p50_1, p50_n = percentile(results[1], 50), percentile(results[args.contestants], 50)
    print(f"concurrency: p50 with N={args.contestants} is {100 * (p50_n / p50_1 - 1):+.1f}% vs N=1")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (the bot side: core, storage, client)")
    if not args.skip_local:
        ttft, speed = await local_model_figures()
        print(f"local model (SmolLM2-135M via xllamacpp): time to first token {ttft:.3f} s, {speed:.0f} tokens/s (median of 3)")


if __name__ == "__main__":
    run_async(main())  # the bot's own event loop (uvloop)
