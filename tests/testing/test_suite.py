"""Finding a task's tests in a request, and what the models are sent."""

from __future__ import annotations

import pytest

from bot.events import AttachedFile
from bot.testing.suite import TestsError, split_tests


def test_a_tagged_block_is_taken_out_of_the_task() -> None:
    found = split_tests("write is_even\n\n```python test\nassert is_even(2)\n```\n\nkeep it short")
    assert found.text == "write is_even\n\nkeep it short"
    assert [(t.name, t.language, t.source) for t in found.tests] == [("test_task.py", "python", "assert is_even(2)")]
    assert found.stored() == [{"name": "test_task.py", "language": "python", "source": "assert is_even(2)"}]


def test_a_block_whose_first_line_is_a_test_comment() -> None:
    found = split_tests("do it\n```\n# test\nassert f() == 1\n```\n```js\n// test\nassert.ok(g());\n```")
    assert [(t.name, t.language) for t in found.tests] == [("test_task.py", "python"), ("task.test.js", "javascript")]
    assert found.text == "do it"


def test_ordinary_code_blocks_stay_in_the_task() -> None:
    text = "fix this:\n```python\n# tests for my parser are below\ndef parse(x): ...\n```"
    found = split_tests(text)
    assert found.text == text and found.tests == ()


def test_test_flags_in_quotes_become_assertions() -> None:
    found = split_tests('--test "is_even(4) and not is_even(3)" --test “assert is_even(0)” write is_even')
    assert found.text == "write is_even"
    [test] = found.tests
    assert test.source == "assert is_even(4) and not is_even(3)\n\nassert is_even(0)"
    assert test.checks == 2


def test_a_javascript_flag_and_other_flags_left_for_others() -> None:
    found = split_tests("--models a,b --test 'assert.strictEqual(isEven(4), true)' write isEven")
    assert found.text == "--models a,b write isEven"
    assert [(t.language, t.source) for t in found.tests] == [("javascript", "assert.strictEqual(isEven(4), true)")]


def test_a_flag_without_quotes_or_closing_quote_is_explained() -> None:
    with pytest.raises(TestsError, match="needs its test in quotes"):
        split_tests("--test is_even(4) write it")
    with pytest.raises(TestsError, match="closing quote is missing"):
        split_tests('--test "is_even(4) write it')


def test_a_flag_later_in_the_text_is_part_of_the_task() -> None:
    found = split_tests("add a --test flag to my CLI")
    assert found.text == "add a --test flag to my CLI" and found.tests == ()


def test_show_tests_appends_them_for_the_models() -> None:
    found = split_tests("--show-tests write is_even\n```python test\nassert is_even(2)\n```")
    assert found.show
    assert found.text.startswith("write is_even\n\nMake these tests pass")
    assert "`test_task.py`:\n```python\nassert is_even(2)\n```" in found.text


def test_attached_files_named_like_tests_are_tests_and_the_others_are_left() -> None:
    files = (
        AttachedFile("test_calc.py", b"from calc import add\nassert add(1, 2) == 3\n"),
        AttachedFile("calc_test.py", b"\xff\xfe not text"),
        AttachedFile("ui.test.js", b"assert.ok(true);\n"),
        AttachedFile("notes.md", b"context"),
    )
    found = split_tests("write calc", files=files)
    assert [(t.name, t.language) for t in found.tests] == [("test_calc.py", "python"), ("ui.test.js", "javascript")]
    assert found.skipped == ("calc_test.py: not UTF-8 text",)
    assert [f.name for f in found.files] == ["notes.md"]


def test_a_test_block_in_a_language_that_cannot_run_is_noted() -> None:
    found = split_tests("write it\n```ts test\nexpect(f()).toBe(1)\n```")
    assert found.tests == () and "tests in ts cannot run here" in found.skipped[0]


def test_tests_alone_and_oversized_tests_are_refused() -> None:
    with pytest.raises(TestsError, match="only tests"):
        split_tests("```python test\nassert True\n```")
    with pytest.raises(TestsError, match="limit is 50,000"):
        split_tests("write it", tests=["assert True  # " + "x" * 50_000])
