"""Private sandbox uids: leased exclusively, and not handed straight back after release."""

from __future__ import annotations

import pytest

from bot.sandbox import uids


@pytest.fixture
def private_pool(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_LOCK_DIR", str(tmp_path))
    monkeypatch.setenv("SANDBOX_UID_BASE", "63000")


async def test_a_released_uid_is_not_reused_by_the_next_job(private_pool):
    # A finished job's processes may still count against its uid until the kernel reaps them:
    # handing the same uid to the next job made its bwrap fail with "Can't fork".
    seen = []
    for _ in range(5):
        uid, fd = await uids.lease()
        seen.append(uid)
        uids.release(fd)
    assert len(set(seen)) == 5


async def test_a_leased_uid_is_exclusive(private_pool):
    uid, fd = await uids.lease()
    try:
        assert uids.try_lease(uid) is None
        other, other_fd = await uids.lease()
        assert other != uid
        uids.release(other_fd)
    finally:
        uids.release(fd)
    again = uids.try_lease(uid)
    assert again is not None
    uids.release(again)
