"""Process benchmark on PostgreSQL: a web process (`serve --no-worker`) plus N `worker` processes,
the fake Slack and the fake provider in their own process (which also sends the load).

For each N in ``--workers``: signed /codegen requests at ``--rate`` for ``--seconds``; prints ack
p50/p99, tasks finished, end-to-end / L p50/p99 (L: the fake answer's own streaming time;
end-to-end: the task's parent post to the answer's final edit), CPU per answer per process kind
(from /proc, over the load) and each process's RSS. ``--recovery K``: K rounds of one task,
kill -9 of the worker streaming it, a replacement started; prints median and worst seconds from
the kill until every answer of the task is final.

    .venv/bin/python bench/processes.py [--workers 1,2] [--rate 50] [--seconds 5] [--models 2]
        [--stream 2.0] [--recovery K] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.slack_ack import FakesProcess, percentile
from tests.conftest import DEFAULT_POSTGRES_URL, PostgresSchemas
from tests.slack.conftest import SECRET

BIN = Path(sys.executable).with_name("codegen-bot")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Fleet:
    """The bot's processes for one run (killed on exit)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, kind: str, *args: str, port: int | None = None) -> subprocess.Popen[bytes]:
        env = dict(self.env, **({"PORT": str(port)} if port else {}))
        with (self.logs / f"{kind}-{len(self.procs)}.log").open("wb") as out:
            proc = subprocess.Popen([str(BIN), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append((kind, proc))
        return proc

    def alive(self, kind: str) -> list[subprocess.Popen[bytes]]:
        return [p for k, p in self.procs if k == kind and p.poll() is None]

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


async def until_serving(port: int, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"the web process exited with {proc.returncode}")
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the web process did not start")


async def until_final(fakes: FakesProcess, expected: int, timeout: float) -> tuple[bool, dict[str, Any]]:
    """Until ``expected`` answer messages exist and all are final (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = await fakes.request_async("stats")
        answers = stats["answers"]
        if len(answers) >= expected and all(final for _, final in answers):
            return True, stats
        if time.monotonic() > deadline:
            return False, stats
        await asyncio.sleep(0.25)


async def run(workers: int, args: argparse.Namespace, fakes: FakesProcess, url: str) -> None:
    schemas = PostgresSchemas(url)
    store = schemas.store()
    store.dispose()
    tmp = Path(tempfile.mkdtemp(prefix="bench-procs-"))
    roster = tmp / "models.toml"
    roster.write_text("".join(f'[[models]]\nid = "m{i}"\nname = "Model {i}"\nbase_url = "{fakes.models_url}"\n'
                              f'model = "m{i}"\n\n' for i in range(args.models)))
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN", "_SECRET"))}
    env |= {"DATABASE_URL": store.url, "CODEGEN_HOME": str(tmp), "CODEGEN_MODELS": str(roster),
            "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fakes.api_url,
            "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING", "SLACK_EDITS_PER_MINUTE": str(args.edits_per_minute),
            "CODEGEN_USER_TASKS_PER_HOUR": "0", "CODEGEN_WORKSPACE_CONCURRENT_TASKS": "0"}  # the bot, not its limits
    fleet = Fleet(env, tmp)
    await fakes.request_async("clear")
    try:
        port = free_port()
        web = fleet.start("web", "serve", "--adapter", "slack", "--no-worker", port=port)
        await until_serving(port, web)
        for _ in range(workers):
            fleet.start("worker", "worker")
        events = f"http://127.0.0.1:{port}/slack/events"
        await fakes.request_async(("load", events, fakes.response_url, 10.0, 2))  # warm up
        await until_final(fakes, 2 * args.models, 120)
        await fakes.request_async("reset")
        if args.recovery:
            await recovery(args, fakes, fleet, events)
            return
        await load(workers, args, fakes, fleet, events)
    finally:
        fleet.stop()
        schemas.drop_all()


async def load(workers: int, args: argparse.Namespace, fakes: FakesProcess, fleet: Fleet, events: str) -> None:
    before = {p.pid: cpu_seconds(p.pid) for _, p in fleet.procs}
    total = int(args.rate * args.seconds)
    latencies, statuses = await fakes.request_async(("load", events, fakes.response_url, args.rate, total))
    done, stats = await until_final(fakes, (total + 2) * args.models, 600)
    cpu = {kind: sum(cpu_seconds(p.pid) - before[p.pid] for k, p in fleet.procs if k == kind)
           for kind in ("web", "worker")}
    answers = total * args.models
    final = sum(1 for _, f in stats["answers"] if f) - 2 * args.models
    ms = [v * 1000 for v in latencies]
    e2e = [v / args.stream for v in stats["e2e"]]
    print(f"{workers} worker process(es), web --no-worker; {total} tasks at {args.rate:g}/s × {args.models} models, "
          f"L = {args.stream:g} s, SLACK_EDITS_PER_MINUTE={args.edits_per_minute}")
    print(f"  HTTP statuses {statuses}; ack p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
          f"max {max(ms):.1f} ms")
    print(f"  answers final: {final} of {answers} ({'every task finished' if done else 'NOT all finished'})")
    if e2e:
        print(f"  end-to-end / L: p50 {percentile(e2e, 0.5):.2f}, p99 {percentile(e2e, 0.99):.2f}")
    for kind, seconds in cpu.items():
        print(f"  CPU per answer, {kind}: {seconds / answers * 1000:.2f} ms")
    for kind, proc in fleet.procs:
        if proc.poll() is None:
            print(f"  RSS {kind} {proc.pid}: {rss_mib(proc.pid):.0f} MiB")


async def recovery(args: argparse.Namespace, fakes: FakesProcess, fleet: Fleet, events: str) -> None:
    times: list[float] = []
    expected = 2 * args.models
    models_port = int(fakes.models_url.rsplit(":", 1)[1].split("/")[0])
    for _ in range(args.recovery):
        expected += args.models
        seen = len((await fakes.request_async("stats"))["peers"])
        await fakes.request_async(("load", events, fakes.response_url, 1.0, 1))
        holder = None
        for _ in range(400):
            streaming = set((await fakes.request_async("stats"))["peers"][seen:])  # this task's model requests
            for proc in fleet.alive("worker"):
                conns = psutil.Process(proc.pid).net_connections(kind="tcp")
                if any(c.raddr and c.raddr.port == models_port and c.laddr.port in streaming for c in conns):
                    holder = proc
            if holder is not None:
                break
            await asyncio.sleep(0.05)
        if holder is None:
            print("  no worker was streaming the task; round skipped")
            continue
        holder.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        holder.wait(10)
        fleet.start("worker", "worker")
        done, _ = await until_final(fakes, expected, 300)
        times.append(time.monotonic() - killed)
        print(f"  round {len(times)}: every answer final {times[-1]:.1f} s after kill -9"
              f"{'' if done else ' (NOT final: gave up)'}")
    if times:
        print(f"recovery after kill -9 of the streaming worker ({len(times)} rounds): "
              f"median {statistics.median(times):.1f} s, worst {max(times):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="worker process counts to run, e.g. 1,2")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--models", type=int, default=2)
    parser.add_argument("--stream", type=float, default=2.0, help="seconds each fake answer streams (L)")
    parser.add_argument("--edits-per-minute", type=int, default=60000,
                        help="SLACK_EDITS_PER_MINUTE (default: high, so Tier 3 does not dominate the figures; "
                             "at 50 every final edit of 500 answers alone takes 10 minutes)")
    parser.add_argument("--recovery", type=int, default=0, help="K rounds of kill -9 of the streaming worker")
    parser.add_argument("--database-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    args = parser.parse_args()
    fakes = FakesProcess(args.models, args.stream)
    try:
        for n in (int(w) for w in args.workers.split(",")):
            asyncio.run(run(n, args, fakes, args.database_url))
    finally:
        fakes.stop()


if __name__ == "__main__":
    main()
