"""The pure rules behind files as context and --models: which files are read, how a block is fenced,
how the flag is read and matched against the roster."""

from __future__ import annotations

import pytest

from bot.attachments import TextFile, fenced, fit_context, kilobytes, screen, skip_reason, to_read
from bot.choosing import ChoiceError, resolve, take_flag
from bot.events import AttachedFile


def test_a_fence_is_longer_than_any_backtick_run_in_the_file() -> None:
    block = fenced(TextFile("README.md", "```py\nx\n`````\n"))
    assert block.startswith("`README.md`:\n``````markdown\n") and block.endswith("\n``````")


def test_names_cannot_break_the_block_header() -> None:
    [kept] = screen([AttachedFile("../../etc/a`b.txt", b"ok")]).readable
    assert kept.name == "../../etc/a`b.txt"  # screening keeps the platform's name; the block cleans it
    [text_file], _ = fit_context([kept], 1000, "M")
    assert text_file.name == "a_b.txt"


def test_what_is_read_before_fetching() -> None:
    assert skip_reason("photo.JPG", 10, None) == "images are not sent to models"
    assert skip_reason("x", 10, "image/svg+xml") == "images are not sent to models"
    assert skip_reason("a.pdf", 10, "application/pdf") == "not a text file"
    assert skip_reason("a.py", 10, "text/x-python") is None
    assert skip_reason("Dockerfile", None, None) is None
    many = [(f"{i}.txt", 1, "text/plain") for i in range(12)]
    assert to_read([("a.png", 1, "image/png"), *many]) == [False] + [True] * 10 + [False] * 2


def test_a_utf8_file_with_a_bom_is_text_and_latin1_is_not() -> None:
    result = screen([AttachedFile("a.txt", "\ufeffé".encode()), AttachedFile("b.txt", "é".encode("latin-1"))])
    assert [f.name for f in result.readable] == ["a.txt"]
    assert result.notes == ["skipped b.txt: not a text file (not UTF-8)"]


@pytest.mark.parametrize(("text", "ids", "rest"), [
    ("--models a,b write x", ("a", "b"), "write x"),
    ("--models=a, b ,c write x", ("a", "b", "c"), "write x"),
    ("--model a write", ("a",), "write"),
    ("write --models a", None, "write --models a"),  # only at the start
    ("--modelsx a", None, "--modelsx a"),
])
def test_the_models_flag(text: str, ids: tuple[str, ...] | None, rest: str) -> None:
    assert take_flag(text) == (ids, rest)


def test_ids_match_the_roster_loosely_and_in_roster_order() -> None:
    roster = ["gpt-4o", "llama-3.2-3b", "gpt-4o-mini"]
    assert resolve(["LLAMA-3.2-3B", "gpt4o"], roster, None) == ["gpt-4o", "llama-3.2-3b"]
    with pytest.raises(ChoiceError, match=r"Unknown model id: llama3b\. Models you can ask here: gpt-4o, llama"):
        resolve(["llama3b"], roster, None)
    with pytest.raises(ChoiceError, match=r"Not in this channel's roster: gpt-4o-mini.*ask here: gpt-4o\.$"):
        resolve(["gpt4omini"], roster, ["gpt-4o"])


def test_sizes_read_as_people_say_them() -> None:
    assert [kilobytes(n) for n in (1, 9, 1024, 1536, 200 * 1024, 5 * 1024 * 1024)] == [
        "1 byte", "9 bytes", "1 KB", "1.5 KB", "200 KB", "5,120 KB"]
