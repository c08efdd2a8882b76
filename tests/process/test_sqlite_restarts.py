"""The embedded default (SQLite, one process) through real processes: kill -9 or SIGTERM the
serving process mid-stream, start it again, and every answer message ends final in place."""

from __future__ import annotations

import asyncio
import signal

from tests.process.conftest import Processes, finished


async def test_kill_9_mid_stream_then_restart_every_answer_ends_final_in_the_same_messages(
        processes: Processes) -> None:
    p = processes
    web = p.start("serve", "--adapter", "slack")
    await p.serving(web)
    for n in range(2):
        assert await p.command(web, f"write program number {n} for me") == 200
    await p.streaming()
    web.kill()
    before = {(m.channel, m.ts) for m in p.answer_messages()}
    assert len(before) == 4  # 2 tasks × 2 models, each still "writing…"

    again = p.start("serve", "--adapter", "slack")
    await p.serving(again)
    messages = await p.all_final(expected=4, timeout=60)
    assert {(m.channel, m.ts) for m in messages} == before  # the same messages, none posted twice
    assert all(finished(m) for m in messages)  # asked again: finished answers, not just "interrupted"


async def test_sigterm_mid_stream_exits_0_within_the_grace_and_the_next_start_finishes_the_answers(
        processes: Processes) -> None:
    p = processes
    p.env["CODEGEN_SHUTDOWN_GRACE"] = "1"  # shorter than the answers: some are left for resumption
    web = p.start("serve", "--adapter", "slack")
    await p.serving(web)
    assert await p.command(web, "write a long program for me") == 200
    await p.streaming()
    web.popen.send_signal(signal.SIGTERM)
    for _ in range(200):  # exit 0 within the grace (plus start-up of the stop)
        if web.popen.poll() is not None:
            break
        await asyncio.sleep(0.1)
    assert web.popen.returncode == 0, web.output()
    before = {(m.channel, m.ts) for m in p.answer_messages()}
    assert len(before) == 2

    again = p.start("serve", "--adapter", "slack")
    await p.serving(again)
    messages = await p.all_final(expected=2, timeout=60)
    assert {(m.channel, m.ts) for m in messages} == before
    assert all(finished(m) for m in messages)
