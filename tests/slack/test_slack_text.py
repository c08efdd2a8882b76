"""Slack message text → the task the user meant."""

from __future__ import annotations

from adapters.slack.app import task_text


def test_bot_mention_removed_and_entities_decoded() -> None:
    assert task_text("<@U0BOT> parse &lt;tags&gt; &amp; attrs", "U0BOT") == "parse <tags> & attrs"


def test_links_channels_and_people_become_readable_text() -> None:
    text = ("<@U0BOT> see <https://example.com/spec|example.com/spec> and <https://x.dev|the docs>, "
            "ask <@U0ALICE|alice> in <#C0DEV|dev>, mail <mailto:a@b.c|a@b.c> <!here>")
    assert task_text(text, "U0BOT") == ("see https://example.com/spec and the docs (https://x.dev), "
                                        "ask @U0ALICE in #dev, mail a@b.c @here")


def test_plain_slash_command_text_is_kept() -> None:
    assert task_text("  write a CSV parser in Go  ") == "write a CSV parser in Go"
