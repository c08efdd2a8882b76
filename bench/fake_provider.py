"""Run the fake OpenAI-compatible provider in its own process (so it never competes for the
benchmark's GIL). Prints its base URL on the first line of stdout, then serves until killed.

    python bench/fake_provider.py --models 8 --latency 1.0 --chunks 10
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.openai_server import FakeOpenAI


async def serve(models: int, latency: float, chunks: int) -> None:
    async with FakeOpenAI() as fake:
        for i in range(models):
            fake.script(f"m{i}", chunks=[f"tok{j} " for j in range(chunks)],
                        first_token_delay=latency * 0.8, chunk_delay=latency * 0.2 / chunks)
        print(fake.base_url, flush=True)
        await asyncio.Event().wait()


def start(models: int, latency: float, chunks: int) -> tuple[subprocess.Popen[str], str]:
    """Start the fake in a child process; returns it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--models", str(models), "--latency", str(latency), "--chunks", str(chunks)],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--chunks", type=int, default=10)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.models, args.latency, args.chunks))
    except KeyboardInterrupt:
        pass
