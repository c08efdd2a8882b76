"""Sandbox fixtures: a local backend with a short wall limit, and a stray-process check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.limits import Limits
from bot.sandbox.local import LocalBackend
from bot.sandbox.uids import strays

# A short wall limit keeps the hostile suite quick; every other limit is the production default.
TEST_LIMITS = Limits(wall_s=2.0, cpu_s=2)


@pytest.fixture(scope="session")
def backend() -> LocalBackend:
    """The real bwrap backend (the machine has user namespaces; CI runs as root here too)."""
    return LocalBackend(TEST_LIMITS)


@pytest.fixture
async def no_strays(backend: LocalBackend) -> AsyncIterator[None]:
    """Fail the test if any sandbox-uid process outlives its job's cleanup (jobs of other
    processes on this shared machine hold their uid's lease and are not counted)."""
    yield
    await backend.drain()
    assert strays() == [], "a sandboxed process outlived its job"
