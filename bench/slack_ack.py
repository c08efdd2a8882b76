"""Slack ack benchmark: signed `/codegen` requests at a steady rate to the HTTP endpoint.

The real Bolt app (adapters.slack) serves POST /slack/events on loopback; the real arena
(SQLite, live edits at the production interval) handles every task; the Slack Web API and the
models are fakes running in another process, which also sends the requests. Prints the ack latency (request
sent → HTTP response; Slack's limit is 3 s) p50/p99/max, then Web API calls per task and the
edit rate per answer message (Slack allows chat.update about 50+/min per workspace method tier,
so each streaming message must stay near one edit per second).

    .venv/bin/python bench/slack_ack.py [--rate 50] [--seconds 10] [--models 2] [--stream 2.0] [--ack-only]
    .venv/bin/python bench/slack_ack.py --worker-process [--rate 50] [--seconds 10]

``--worker-process``: the production split instead, on PostgreSQL (``TEST_POSTGRES_URL`` or the
local default): a web process (`serve --no-worker`) that only acks, and one `worker` process that
streams (bench/processes.py with one worker).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack.app import create_app
from app.web import WebServer, build_web_app
from app.wiring import run_async
from bot.arena import Arena
from bot.config import Settings
from bot.providers.client import ChatClient
from bot.roster import Contestant, Roster
from storage.db import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.slack.conftest import SECRET, command_body, sign
from tests.slack.fake_slack import FakeSlack


class FakesProcess:
    """The fake Slack API and fake models in a child process (as remote services would be:
    they must not compete with the bot for its interpreter lock)."""

    def __init__(self, n_models: int, stream_s: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_fakes_main, args=(child, n_models, stream_s), daemon=True)
        self.proc.start()
        self.api_url, self.models_url, self.response_url = self.conn.recv()

    def request(self, command: Any) -> Any:
        self.conn.send(command)
        return self.conn.recv()

    async def request_async(self, command: Any) -> Any:
        """Like :meth:`request`, without blocking the bot's event loop meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(None, self.request, command)

    def stop(self) -> None:
        self.conn.send("stop")
        self.proc.join(10)


def _fakes_main(conn: Any, n_models: int, stream_s: float) -> None:
    async def serve() -> None:
        async with FakeSlack(text_limit=4000) as slack, FakeOpenAI() as models:
            chunks = 20
            for i in range(n_models):
                models.script(f"m{i}", text=" ".join(["word"] * chunks) + "\n```python\nprint(1)\n```",
                              chunk_delay=stream_s / chunks)
            conn.send((slack.api_url, models.base_url, slack.response_url("bench")))
            loop = asyncio.get_running_loop()
            while True:
                command = await loop.run_in_executor(None, conn.recv)
                if isinstance(command, tuple) and command[0] == "load":
                    conn.send(await _send_load(*command[1:]))
                elif command == "reset":
                    slack.calls.clear()
                    conn.send(None)
                elif command == "clear":  # a fresh workspace: no calls, no messages
                    slack.calls.clear()
                    slack.messages.clear()
                    conn.send(None)
                elif command == "stats":
                    conn.send({
                        "calls": [(c.method, c.body.get("channel"), c.body.get("ts"), c.at) for c in slack.calls],
                        "mid_stream": sum(1 for m in slack.messages.values() if "▌" in m.all_text()),
                        "answers": [(m.thread_ts, "▌" not in m.all_text() and "first token" in m.all_text())
                                    for m in slack.messages.values() if m.thread_ts],
                        # per answer: its task's parent post → its last edit
                        "e2e": [m.edited_at - slack.messages[(m.channel, m.thread_ts)].posted_at
                                for m in slack.messages.values()
                                if m.thread_ts and (m.channel, m.thread_ts) in slack.messages and m.edited_at],
                        "refused": [str(v) for v in slack.take_violations()],
                        "peers": [port for _host, port in models.peers],  # each model request's client port
                    })
                else:
                    return

    asyncio.run(serve())


async def _send_load(url: str, response_url: str, rate: float, total: int) -> tuple[list[float], dict[int, int]]:
    """Send ``total`` signed /codegen requests at ``rate``/s (from this process, as Slack would:
    a sender inside the bot's process would time its own event loop); returns ack latencies."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def one(i: int) -> None:
            body = command_body(f"task {i}: write a function", channel=f"C{i % 20:04d}", response_url=response_url)
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
            started = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as resp:
                await resp.read()
                latencies.append(time.perf_counter() - started)
                statuses[resp.status] += 1

        start = time.perf_counter()
        sends = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sends.append(asyncio.create_task(one(i)))
        await asyncio.gather(*sends)
    return latencies, dict(statuses)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class NoWorkArena:
    """Baseline for --ack-only: accepts every event and does nothing, isolating the adapter's
    own cost (signature check, Bolt dispatch, payload → event) from the comparison work."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle(self, event: Any, surface: Any) -> None:
        return None


async def bench(rate: float, seconds: float, n_models: int, stream_s: float, ack_only: bool = False) -> None:
    fakes = FakesProcess(n_models, stream_s)
    tmp = tempfile.TemporaryDirectory()
    store = Store(f"sqlite:///{tmp.name}/bench.db")
    store.upgrade()
    commits = [0]
    sqlalchemy.event.listen(store.engine, "commit", lambda conn: commits.__setitem__(0, commits[0] + 1))
    roster = Roster([Contestant(id=f"m{i}", name=f"Model {i}", base_url=fakes.models_url, model=f"m{i}")
                     for i in range(n_models)])
    client = ChatClient()  # the provider client the bot itself uses (its own aiohttp pool)
    settings = Settings(database_url=store.url, edit_interval=1.0, user_tasks_per_hour=0,
                        workspace_concurrent_tasks=0)  # measure the bot, not its limits
    arena: Any = NoWorkArena(store) if ack_only else Arena(store, roster, client, settings)
    adapter = create_app(arena, token="xoxb-bench", signing_secret=SECRET, api_url=fakes.api_url)
    server = WebServer(build_web_app(slack=adapter), "127.0.0.1", 0)  # the web process's own server
    await server.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"

    # warm up: first-use imports and connections are not what a steady state looks like
    await fakes.request_async(("load", url, fakes.response_url, 100.0, 3))
    await adapter.drain(timeout=60)
    fakes.request("reset")
    commits[0] = 0

    lags: list[float] = []

    async def watch_loop() -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t - 0.01)

    watcher = asyncio.create_task(watch_loop())
    total = int(rate * seconds)
    start = time.perf_counter()
    latencies, status_counts = await fakes.request_async(("load", url, fakes.response_url, rate, total))
    statuses: Counter[int] = Counter(status_counts)
    sent_for = time.perf_counter() - start
    await adapter.drain(timeout=600)
    finished_after = time.perf_counter() - start
    watcher.cancel()

    stats = fakes.request("stats")
    calls = stats["calls"]
    by_method = Counter(method for method, *_ in calls)
    updates: dict[str, list[float]] = defaultdict(list)
    for method, channel, ts, at in calls:
        if method == "chat.update":
            updates[f"{channel}/{ts}"].append(at)
    def busiest_second(stamps: list[float]) -> int:
        stamps = sorted(stamps)
        return max((sum(1 for t in stamps[i:] if t - start < 1.0) for i, start in enumerate(stamps)), default=0)

    peak = max((busiest_second(ts) for ts in updates.values()), default=0)
    answers = total * n_models

    work = ("no comparison work (--ack-only: adapter cost alone)" if ack_only else
            f"{n_models} fake models streaming {stream_s:g} s each; edit interval {settings.edit_interval:g} s")
    print(f"Slack ack benchmark: {total} signed /codegen requests at {rate:g}/s over {sent_for:.1f} s; {work}")
    print(f"  HTTP statuses: {dict(statuses)}")
    ms = [v * 1000 for v in latencies]
    print(f"  ack latency: p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
          f"max {max(ms):.1f} ms, mean {statistics.mean(ms):.1f} ms  (Slack's limit: 3000 ms)")
    print(f"  event-loop lag while loaded: p50 {percentile(lags, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(lags, 0.99) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms")
    print(f"  all tasks finished {finished_after:.1f} s after the first request")
    print(f"  Web API calls per task: {sum(by_method.values()) / total:.2f} "
          f"({', '.join(f'{m} {n / total:.2f}' for m, n in sorted(by_method.items()))})")
    print(f"  database commits per task: {commits[0] / total:.1f} (SQLite, one store thread)")
    per_answer = [len(v) for v in updates.values()]
    print(f"  chat.update per answer: mean {sum(per_answer) / max(1, answers):.2f}, max {max(per_answer, default=0)}; "
          f"most edits of one message within any 1 s: {peak} (progress edits ≤ 1/s, plus the final edit)")
    print(f"  answers left mid-stream: {stats['mid_stream']}")
    print(f"  Web API calls the real Slack would refuse: {len(stats['refused'])}")
    for violation in stats["refused"][:5]:
        print(f"    {violation}")

    await adapter.close()
    await server.stop()
    await client.aclose()
    store.dispose()
    fakes.stop()
    tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send")
    parser.add_argument("--models", type=int, default=2, help="fake models per task")
    parser.add_argument("--stream", type=float, default=2.0, help="seconds each fake answer streams")
    parser.add_argument("--ack-only", action="store_true", help="measure the adapter alone (no comparison work)")
    parser.add_argument("--worker-process", action="store_true",
                        help="a web process and a separate worker process on PostgreSQL (see bench/processes.py)")
    args = parser.parse_args()
    if args.worker_process:
        from bench import processes

        sys.argv = [sys.argv[0], "--workers", "1", "--rate", str(args.rate), "--seconds", str(args.seconds),
                    "--models", str(args.models), "--stream", str(args.stream)]
        processes.main()
        return
    run_async(bench(args.rate, args.seconds, args.models, args.stream, args.ack_only))


if __name__ == "__main__":
    main()
