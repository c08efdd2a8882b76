"""Rendering a run result for chat: status lines, neutralised output, attachments."""

from __future__ import annotations

from bot.messages import Tone
from bot.sandbox.render import INLINE_LINES, ZWSP, neutralise, render_result
from bot.sandbox.result import JSON_KEYS, RunResult


def _result(**kw: object) -> RunResult:
    base = dict(exit_code=0, signal=None, stdout="", stderr="", duration_ms=42)
    base.update(kw)
    return RunResult(**base)  # type: ignore[arg-type]


def test_status_lines() -> None:
    assert render_result(_result(stdout="hi\n"), title="t").text.startswith("✅ exited 0 in 42 ms")
    assert render_result(_result(exit_code=1), title="t").text.startswith("❌ exited with code 1")
    timed = _result(exit_code=None, signal="SIGKILL", timed_out=True, duration_ms=6010)
    assert render_result(timed, title="t").text.startswith("⏱ timed out after 6.01 s")
    segv = _result(exit_code=None, signal="SIGSEGV")
    assert "killed by SIGSEGV" in render_result(segv, title="t").text
    mem = _result(exit_code=1, memory_exceeded=True)
    assert "memory limit exceeded" in render_result(mem, title="t").text


def test_tone_and_title() -> None:
    ok = render_result(_result(), title="▶ Run: GPT-4o")
    assert ok.title == "▶ Run: GPT-4o" and ok.tone is Tone.SUCCESS
    assert render_result(_result(exit_code=2), title="x").tone is Tone.ERROR
    assert "(no output)" in ok.text


def test_mentions_cannot_ping() -> None:
    out = "@everyone @here <!channel> <!here> <@U123> <@&456> <#C1> @Channel"
    text = render_result(_result(stdout=out), title="t").text
    for bad in ("@everyone", "@here", "<!channel>", "<!here>", "<@U123>", "<@&456>", "<#C1>", "@Channel"):
        assert bad not in text
    assert f"@{ZWSP}everyone" in text and f"<{ZWSP}@U123>" in text


def test_output_cannot_close_the_code_block() -> None:
    text = render_result(_result(stdout="```\n**bold** @everyone\n~~~"), title="t").text
    # exactly one opening and one closing fence: the ones the renderer wrote
    assert text.count("```") == 2
    assert "~~~" not in text


def test_long_output_is_cut_and_attached() -> None:
    out = "".join(f"line {i}\n" for i in range(500))
    message = render_result(_result(stdout=out), title="t")
    assert "line 0" in message.text and "line 499" not in message.text
    assert "attached" in message.text
    [attachment] = message.attachments
    assert attachment.filename == "output.txt"
    assert b"line 499" in attachment.content
    assert message.text.count("\n") < INLINE_LINES + 20


def test_short_output_has_no_attachment() -> None:
    assert render_result(_result(stdout="x\n"), title="t").attachments == []


def test_sandbox_truncation_is_marked() -> None:
    message = render_result(_result(exit_code=None, signal="SIGKILL", stdout="x" * 100, truncated=True), title="t")
    assert "too much output" in message.text
    assert "cut" in message.text and message.attachments


def test_eof_hint() -> None:
    err = "Traceback (most recent call last):\nEOFError: EOF when reading a line\n"
    assert "no input" in render_result(_result(exit_code=1, stderr=err), title="t").text


def test_neutralise_null_bytes() -> None:
    assert "\x00" not in neutralise("a\x00b")


def test_to_json_has_exactly_the_cli_keys() -> None:
    data = _result(stdout="hi").to_json()
    assert tuple(data) == JSON_KEYS
    assert data["stdout"] == "hi" and data["exit_code"] == 0
