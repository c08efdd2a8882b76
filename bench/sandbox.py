"""Sandbox benchmark: `print("hello")` in the sandbox vs the bare interpreter, and throughput.

    .venv/bin/python bench/sandbox.py [--runs 60] [--jobs 60]

Prints the median wall time of each (as the caller sees it: for the sandbox that includes the
uid lease, the job cgroup, bwrap, the interpreter and the cleanup), their ratio and difference,
and runs/s with the global cap at the core count. Targets: overhead <= 30 ms, >= 20 runs/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.wiring import run_async
from bot.sandbox import cgroups
from bot.sandbox.local import LocalBackend
from bot.sandbox.service import SandboxService

HELLO = 'print("hello")'


def bare(python: str, runs: int) -> list[float]:
    """Wall times (ms) of the bare interpreter, same flags as in the sandbox."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([python, "-I", "-u", "-B", "-c", HELLO], capture_output=True, check=True)
        times.append((time.perf_counter() - started) * 1000)
        assert out.stdout == b"hello\n"
    return times


async def sandboxed(backend: LocalBackend, runs: int) -> list[float]:
    """Wall times (ms) of sequential sandboxed runs."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await backend.run(HELLO, "python")
        times.append((time.perf_counter() - started) * 1000)
        assert result.stdout == "hello\n", result
    return times


async def throughput(backend: LocalBackend, jobs: int, cap: int) -> float:
    """Runs per second with ``jobs`` users asking at once and the global cap at ``cap``."""
    service = SandboxService(backend, global_cap=cap)
    started = time.perf_counter()
    results = await asyncio.gather(*(service.run(f"user{i}", HELLO, "python") for i in range(jobs)))
    elapsed = time.perf_counter() - started
    failed = [r for r in results if r.stdout != "hello\n"]
    assert not failed, f"{len(failed)} of {jobs} runs failed, e.g. {failed[0]}"
    return jobs / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=60)
    args = parser.parse_args()
    backend = LocalBackend()
    await backend.run(HELLO, "python")  # warm up (probe, page cache)
    python = backend._interpreter("python") or "/usr/bin/python3"
    bare(python, 3)
    cores = os.cpu_count() or 1

    b = statistics.median(bare(python, args.runs))
    s = statistics.median(await sandboxed(backend, args.runs))
    rate = await throughput(backend, args.jobs, cores)
    os.environ["SANDBOX_NO_CGROUPS"] = "1"  # the same without the per-job cgroup, for comparison
    s_nocg = statistics.median(await sandboxed(backend, args.runs))
    del os.environ["SANDBOX_NO_CGROUPS"]
    print(f"host: {cores} cores, cgroups {cgroups.mode()}, uid switch {backend.switch_uid}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"bare {python} print('hello'): median {b:.1f} ms over {args.runs} runs")
    print(f"sandboxed print('hello'):        median {s:.1f} ms over {args.runs} runs")
    print(f"ratio {s / b:.2f}x, overhead {s - b:+.1f} ms (target <= 30 ms)")
    print(f"  without the per-job cgroup (rlimits + uid only): median {s_nocg:.1f} ms, "
          f"overhead {s_nocg - b:+.1f} ms; joining the cgroup costs {s - s_nocg:+.1f} ms")
    print(f"throughput: {rate:.1f} runs/s with the global cap at {cores} ({args.jobs} jobs)"
          f" (target >= 20)")


if __name__ == "__main__":
    run_async(main())  # the bot's own event loop (uvloop)
