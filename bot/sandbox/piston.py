"""Remote backend: a Piston execution service (``POST {SANDBOX_URL}/api/v2/execute``)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from bot.sandbox.errors import SandboxUnavailable
from bot.sandbox.limits import Limits
from bot.sandbox.result import RunResult

_FILENAMES = {"python": "main.py", "javascript": "main.js", "bash": "main.sh"}


class PistonBackend:
    """Runs snippets on a Piston server; ``base_url`` is the server root (``SANDBOX_URL``)."""

    name = "piston"

    def __init__(
        self,
        base_url: str,
        limits: Limits | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/api/v2"):
            self.base_url = self.base_url[: -len("/api/v2")]
        self.limits = limits or Limits.from_env()
        self._transport = transport

    async def run(self, code: str, language: str) -> RunResult:
        """Send the snippet to Piston and map its answer to a :class:`RunResult`."""
        body = {
            "language": language,
            "version": "*",
            "files": [{"name": _FILENAMES.get(language, "main"), "content": code}],
            "stdin": "",
            "args": [],
            "run_timeout": int(self.limits.wall_s * 1000),
            "run_memory_limit": self.limits.memory,
        }
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self.limits.wall_s + 15
            ) as client:
                response = await client.post(f"{self.base_url}/api/v2/execute", json=body)
        except httpx.HTTPError as exc:
            raise SandboxUnavailable(
                f"the execution service at {self.base_url} is unreachable ({type(exc).__name__})"
            ) from exc
        elapsed = int((time.monotonic() - started) * 1000)
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict) or "run" not in data:
            detail = data.get("message") if isinstance(data, dict) else None
            raise SandboxUnavailable(
                f"the execution service refused the run (HTTP {response.status_code}"
                + (f": {str(detail)[:200]}" if detail else "") + ")"
            )
        return _to_result(data, elapsed, self.limits)


def _to_result(data: dict[str, Any], elapsed_ms: int, limits: Limits) -> RunResult:
    stage: dict[str, Any] = data["compile"] if (data.get("compile") or {}).get("code") else data["run"]
    stdout = str(stage.get("stdout") or "")
    stderr = str(stage.get("stderr") or "")
    status = str(stage.get("status") or "")
    message = str(stage.get("message") or "")
    signal = stage.get("signal") or None
    code = stage.get("code")
    truncated = status in ("OL", "EL")
    if len(stdout) > limits.output_kept:
        stdout, truncated = stdout[: limits.output_kept], True
    if len(stderr) > limits.output_kept:
        stderr, truncated = stderr[: limits.output_kept], True
    wall = stage.get("wall_time")
    return RunResult(
        exit_code=None if signal else (int(code) if code is not None else None),
        signal=str(signal) if signal else None,
        stdout=stdout,
        stderr=stderr,
        duration_ms=int(wall) if isinstance(wall, (int, float)) else elapsed_ms,
        timed_out=status == "TO" or ("time" in message.lower() and "limit" in message.lower()),
        memory_exceeded=status == "ML" or "memory" in message.lower(),
        truncated=truncated,
    )
