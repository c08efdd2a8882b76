"""CLI start-up benchmark: `codegen-bot --help` and `codegen-bot run hello.py` vs the sandbox alone.

    .venv/bin/python bench/cli_startup.py [--runs 15]

Prints the median wall time (and CPU time) of each command run as a user runs it (a fresh
process of the installed console script), the median of the same `print("hello")` run through
the sandbox in-process (measured separately, so the CLI's own cost is the difference), which
heavy modules each command imported, and the load average (on a shared machine wall times
grow with it; CPU times much less). Targets: `run` within 300 ms of the sandbox time, `--help` under
150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HELLO = 'print("hello")\n'
# As a user runs it: Python caches compiled modules (this machine's shells set
# PYTHONDONTWRITEBYTECODE, which would recompile every module on every start).
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "numpy", "matplotlib", "httpx", "aiohttp", "slack_bolt",
         "slack_sdk", "discord", "rich", "xllamacpp", "storage.db", "bot.arena")
PROBE = """
import runpy, sys
sys.argv = ["codegen-bot", *{args!r}]
try:
    runpy.run_module("app.cli", run_name="__main__")
except SystemExit:
    pass
heavy = sorted({{m.split(".")[0] if not m.startswith(("storage.", "bot.")) else m for m in sys.modules}} & set({heavy!r}))
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


def console_script() -> str:
    """The installed `codegen-bot` next to this interpreter."""
    script = Path(sys.executable).parent / "codegen-bot"
    if not script.exists():
        raise SystemExit(f"{script} not found: run `make test` (or pip install -e .) first")
    return str(script)


def timed_ms(command: list[str], runs: int, cwd: str) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) times (ms) of ``command`` run ``runs`` times, after a warm-up.

    CPU time is what the command itself costs; wall time also holds waiting for a busy machine."""
    subprocess.run(command, capture_output=True, cwd=cwd, env=USER_ENV)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, cwd=cwd, env=USER_ENV)
        wall.append((time.perf_counter() - started) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, cpu


def _cpu_ms() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime) * 1000


async def sandbox_ms(runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU times (ms, this process and its children) of the same snippet through the
    sandbox service in this process."""
    from bot.sandbox.service import SandboxService

    service = SandboxService.from_env()
    await service.run("bench", HELLO, "python")  # warm up (probe, page cache)
    await service.drain()
    wall, cpu = [], []
    for _ in range(runs):
        cpu_before = _cpu_ms()
        started = time.perf_counter()
        result = await service.run("bench", HELLO, "python")
        await service.drain()  # the CLI waits for the cleanup too
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append(_cpu_ms() - cpu_before)
        assert result.stdout == "hello\n", result
    return wall, cpu


def heavy_modules(args: list[str], cwd: str) -> str:
    """Which heavy libraries a command imports (by running it under a probe)."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], capture_output=True,
                          text=True, cwd=cwd)
    line = next((ln for ln in done.stderr.splitlines() if ln.startswith("HEAVY:")), "HEAVY:?")
    return line.removeprefix("HEAVY:") or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    script = console_script()
    med = statistics.median
    with tempfile.TemporaryDirectory() as work:
        Path(work, "hello.py").write_text(HELLO)
        help_wall, help_cpu = timed_ms([script, "--help"], args.runs, work)
        run_wall, run_cpu = timed_ms([script, "run", "hello.py"], args.runs, work)
        bare_wall, bare_cpu = timed_ms([sys.executable, "-c", "pass"], args.runs, work)
        sandbox_wall, sandbox_cpu = asyncio.run(sandbox_ms(args.runs))
        sandbox = med(sandbox_wall)
        help_heavy = heavy_modules(["--help"], work)
        run_heavy = heavy_modules(["run", "hello.py"], work)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.runs} runs each after a warm-up; "
          "medians, wall (cpu) in ms")
    print(f"python -c pass (for scale)   {med(bare_wall):6.0f} ({med(bare_cpu):4.0f})")
    print(f"codegen-bot --help           {med(help_wall):6.0f} ({med(help_cpu):4.0f})  target < 150  "
          f"heavy imports: {help_heavy}")
    print(f"codegen-bot run hello.py     {med(run_wall):6.0f} ({med(run_cpu):4.0f})  heavy imports: {run_heavy}")
    print(f"sandbox alone (in-process)   {sandbox:6.0f} ({med(sandbox_cpu):4.0f})")
    print(f"run - sandbox                {med(run_wall) - sandbox:6.0f} ({med(run_cpu) - med(sandbox_cpu):4.0f})  "
          "target <= 300")


if __name__ == "__main__":
    main()
