"""Rendering core messages as Slack Block Kit: escaping, mrkdwn, splitting, limits."""

from __future__ import annotations

import json

from adapters.slack.render import SECTION_LIMIT, escape, render, to_sections
from bot.messages import Action, ActionKind, Field, Message


def test_markdown_becomes_mrkdwn() -> None:
    [text] = to_sections("# Plan\n**bold**, *it*, ~~gone~~, [docs](https://x.dev/a?b=1&c=2)\n- one\n* two")
    assert text == ("*Plan*\n*bold*, _it_, ~gone~, <https://x.dev/a?b=1&amp;c=2|docs>\n• one\n• two")


def test_nothing_can_ping_or_inject_links() -> None:
    hostile = "<!channel> <!here> <@U0BOSS> <!subteam^S1|team> <http://evil|click> @everyone @here &lt;!channel&gt;"
    rendered = render(Message(title="<!channel>", text=hostile, footer="<@U0BOSS>",
                              fields=[Field("<!here>", "<!everyone>")]))
    parsed: list[str] = [rendered.text]  # what Slack parses for mentions: top-level text and mrkdwn

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                parsed.append(node["text"])
            elif node.get("type") == "plain_text":
                assert node["text"] == "<!channel>"  # shown literally by Slack, never parsed
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(rendered.blocks)
    payload = json.dumps(parsed)
    for ping in ("<!channel>", "<!here>", "<@U0BOSS>", "<!subteam", "<http://evil", "@everyone", "<!everyone>"):
        assert ping not in payload
    assert "&amp;lt;!channel&amp;gt;" in payload  # an already-escaped ping stays literal text


def test_code_is_fenced_without_language_and_kept_verbatim() -> None:
    [text] = to_sections("Try:\n```python\nif a < b and c > d:\n    print('```')\n```\nDone.")
    assert text.startswith("Try:\n```\nif a &lt; b and c &gt; d:")
    assert text.count("```") == 2  # the fence inside the code cannot end the block
    assert text.endswith("```\nDone.")


def test_long_code_splits_on_lines_with_every_piece_fenced() -> None:
    lines = [f"x{i} = {i}  # {'pad' * 20}" for i in range(400)]
    sections = to_sections("intro\n```py\n" + "\n".join(lines) + "\n```\noutro")
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    code_parts = [s for s in sections if "x1 = 1" in s or "x399" in s]
    assert all(part.count("```") % 2 == 0 for part in sections)
    rebuilt = "\n".join(line for s in sections for line in s.split("\n") if line.startswith("x"))
    assert rebuilt == "\n".join(lines) and code_parts


def test_unclosed_fence_while_streaming_still_renders_as_code() -> None:
    [text] = to_sections("Here:\n```python\nprint(1)")
    assert text == "Here:\n```\nprint(1)\n```"


def test_limits_hold_for_huge_messages() -> None:
    rendered = render(Message(title="T" * 500, text="word " * 100_000,
                              actions=[Action(ActionKind.RUN, 7, "▶ " + "R" * 100)]))
    assert len(rendered.blocks) <= 50 and rendered.overflow is not None
    assert len(rendered.blocks[0]["text"]["text"]) <= 150
    button = rendered.blocks[-1]["elements"][0]
    assert len(button["text"]["text"]) <= 75 and button["value"] == "7"
    assert len(rendered.text) <= 300


def test_escape_is_minimal() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
