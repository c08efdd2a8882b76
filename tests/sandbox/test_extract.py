"""Snippet extraction from answers as models really write them."""

from __future__ import annotations

import pytest

from bot.sandbox.errors import NoRunnableCode
from bot.sandbox.extract import Snippet, detect_language, extract_snippet


def test_tagged_python_block() -> None:
    md = "Here you go:\n\n```python\nprint('hi')\n```\n\nThis prints hi."
    assert extract_snippet(md) == Snippet("print('hi')", "python")


def test_aliases_and_tilde_fences() -> None:
    assert extract_snippet("~~~js\nconsole.log(1)\n~~~").language == "javascript"
    assert extract_snippet("```sh\necho hi\n```").language == "bash"
    assert extract_snippet("```py3\nx = 1\nprint(x)\n```").language == "python"


def test_untagged_block_language_is_detected() -> None:
    assert extract_snippet("```\ndef f(x):\n    return x * 2\n\nprint(f(2))\n```").language == "python"
    assert extract_snippet("```\nconst x = [1, 2].map(v => v * 2);\nconsole.log(x);\n```").language == "javascript"
    assert extract_snippet("```\n#!/bin/bash\nfor f in *; do echo $f; done\n```").language == "bash"


def test_install_lines_and_output_samples_are_ignored() -> None:
    md = (
        "Install first:\n```bash\npip install requests\n```\n"
        "Then:\n```python\nimport json\nprint(json.dumps({'a': 1}))\n```\n"
        "Output:\n```\n{\"a\": 1}\n```\n"
        "```text\nsome log\n```"
    )
    assert extract_snippet(md) == Snippet("import json\nprint(json.dumps({'a': 1}))", "python")


def test_pip_line_inside_python_block_is_dropped() -> None:
    md = "```python\n!pip install numpy\nprint(2)\n```"
    assert extract_snippet(md).code.strip() == "print(2)"


def test_split_program_is_joined_in_order() -> None:
    md = (
        "First the function:\n```python\ndef add(a, b):\n    return a + b\n```\n"
        "Then use it:\n```python\nprint(add(2, 3))\n```"
    )
    snippet = extract_snippet(md)
    assert snippet.code == "def add(a, b):\n    return a + b\n\nprint(add(2, 3))"


def test_alternative_versions_take_the_largest_block() -> None:
    md = (
        "Simple:\n```python\ndef fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n```\n"
        "Faster:\n```python\ndef fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
        "        a, b = b, a + b\n    return a\n\nprint(fib(10))\n```"
    )
    assert "a, b = 0, 1" in extract_snippet(md).code
    assert "fib(n-1)" not in extract_snippet(md).code


def test_main_language_is_the_one_with_most_code() -> None:
    md = (
        "```bash\nexport DEBUG=1\n```\n"
        "```python\nimport os\nfor k in range(3):\n    print(k, os.getenv('DEBUG'))\n```"
    )
    assert extract_snippet(md).language == "python"


def test_repl_transcript_keeps_only_input() -> None:
    md = "```pycon\n>>> x = 2\n>>> print(x * 3)\n6\n```"
    assert extract_snippet(md) == Snippet("x = 2\nprint(x * 3)", "python")


def test_unclosed_fence_of_a_cut_off_answer_still_runs() -> None:
    assert extract_snippet("Sure:\n```python\nprint('partial')\n").code == "print('partial')"


def test_bare_code_without_fences() -> None:
    assert extract_snippet("import sys\nprint(sys.version)").language == "python"


@pytest.mark.parametrize(
    "md",
    [
        "I can't help with that.",
        "Use `print()` inline.",
        "```bash\npip install flask\nnpm install express\n```",
        "```text\nhello world\n```",
        "```\njust some words here\n```",
        "",
    ],
)
def test_no_runnable_code_is_reported(md: str) -> None:
    with pytest.raises(NoRunnableCode, match="no runnable code in this answer"):
        extract_snippet(md)


def test_unrunnable_language_is_named() -> None:
    with pytest.raises(NoRunnableCode, match="found java"):
        extract_snippet("```java\nclass A {}\n```")


def test_detect_language_rejects_prose() -> None:
    assert detect_language("The answer is 42 because of reasons.") is None


def test_filename_in_the_info_string() -> None:
    assert extract_snippet("```python:main.py\nprint(1)\n```") == Snippet("print(1)", "python")
    assert extract_snippet("```python title=\"main.py\"\nprint(1)\n```").language == "python"


def test_pytest_file_is_left_out() -> None:
    md = (
        "```python\ndef add(a, b):\n    return a + b\n\nprint(add(1, 2))\n```\n"
        "Tests:\n```python\nimport pytest\nfrom main import add\n\ndef test_add():\n"
        "    assert add(1, 2) == 3\n```"
    )
    snippet = extract_snippet(md)
    assert "import pytest" not in snippet.code and "print(add(1, 2))" in snippet.code
