"""Prometheus metrics: every counter, histogram and gauge the bot exports, in one place.

The web process serves them at ``GET /metrics`` (see ``app/web.py``); a process without a web
server (a worker) serves them on ``METRICS_PORT`` with :func:`serve_metrics`. Each process exports
its own values; Prometheus sums them across processes.

    codegen_tasks_started_total{platform}
    codegen_answers_total{model, outcome}            outcome: done|error|truncated|interrupted|cancelled
    codegen_provider_latency_seconds{model}          whole answer, request to last token
    codegen_provider_ttft_seconds{model}             request to first token
    codegen_platform_rate_limited_total{platform, method}   HTTP 429s from Slack/Discord
    codegen_queue_depth{queue}                       jobs waiting (fed by the job engine)
    codegen_oldest_job_age_seconds{queue}            age of the oldest waiting job (ditto)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client import start_http_server as _start_http_server

log = logging.getLogger(__name__)
OUTCOMES = ("done", "error", "truncated", "interrupted", "cancelled")

TASKS_STARTED = Counter("codegen_tasks_started", "Tasks the arena started (fanned out to models).", ["platform"])
ANSWERS = Counter("codegen_answers", "Answers that reached a final state, by outcome.", ["model", "outcome"])
PROVIDER_LATENCY = Histogram(
    "codegen_provider_latency_seconds", "Time from request to the model's last token.", ["model"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)
TIME_TO_FIRST_TOKEN = Histogram(
    "codegen_provider_ttft_seconds", "Time from request to the model's first token.", ["model"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
PLATFORM_RATE_LIMITED = Counter(
    "codegen_platform_rate_limited", "HTTP 429 answers from a chat platform, per API method.", ["platform", "method"]
)
QUEUE_DEPTH = Gauge("codegen_queue_depth", "Jobs waiting to run.", ["queue"])
OLDEST_JOB_AGE = Gauge("codegen_oldest_job_age_seconds", "Age of the oldest job still waiting.", ["queue"])


def task_started(platform: str) -> None:
    """Count a task the arena fanned out."""
    TASKS_STARTED.labels(platform=platform).inc()


def answer_finished(model: str, outcome: str, latency_ms: float | None = None, ttft_ms: float | None = None) -> None:
    """Count an answer's final state, and observe the provider's latency and time to first token."""
    ANSWERS.labels(model=model, outcome=outcome).inc()
    if latency_ms is not None and outcome != "cancelled":
        PROVIDER_LATENCY.labels(model=model).observe(latency_ms / 1000)
    if ttft_ms is not None:
        TIME_TO_FIRST_TOKEN.labels(model=model).observe(ttft_ms / 1000)


def rate_limited(platform: str, method: str) -> None:
    """Count one 429 from ``platform`` for API ``method`` (e.g. 'chat.update')."""
    PLATFORM_RATE_LIMITED.labels(platform=platform, method=method).inc()


def exposition() -> tuple[bytes, str]:
    """The current values in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_metrics(port: int, host: str = "0.0.0.0") -> Any:
    """Serve ``/metrics`` on ``port`` from a background thread (for processes without a web app).
    Returns the HTTP server (``shutdown()`` stops it)."""
    server, _thread = _start_http_server(port, addr=host)
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server


def serve_metrics_from_env(env: Mapping[str, str] | None = None) -> Any:
    """Start :func:`serve_metrics` on ``METRICS_PORT`` (and ``METRICS_HOST``, default all
    interfaces) when it is set; returns the server, or None when it is not set."""
    env = env if env is not None else os.environ
    value = env.get("METRICS_PORT", "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"METRICS_PORT must be a port number, got {value!r}")
    return serve_metrics(int(value), env.get("METRICS_HOST", "0.0.0.0"))
