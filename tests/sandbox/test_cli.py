"""`codegen-bot run FILE [--lang] [--json]` end to end through the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from bot.sandbox.result import JSON_KEYS


def test_run_json_prints_exactly_the_result_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "prog.py"
    source.write_text("import sys\nprint('hi from the sandbox')\nsys.exit(3)\n")
    assert main(["run", str(source), "--json"]) == 3  # the program's own exit code
    data = json.loads(capsys.readouterr().out)
    assert tuple(data) == JSON_KEYS
    assert data["exit_code"] == 3 and data["stdout"] == "hi from the sandbox\n"
    assert data["timed_out"] is False and data["signal"] is None


def test_run_plain_shows_output_and_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "prog"
    source.write_text("echo from bash")
    assert main(["run", str(source), "--lang", "bash"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "from bash\n"
    assert "✅ exited 0" in captured.err


def test_run_markdown_answer_extracts_the_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = tmp_path / "answer.md"
    answer.write_text("Install:\n```bash\npip install nothing\n```\nCode:\n```python\nprint(6 * 7)\n```\n")
    assert main(["run", str(answer), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stdout"] == "42\n"


def test_run_refusals_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.py")]) == 2
    assert "cannot read" in capsys.readouterr().err
    prose = tmp_path / "notes.txt"
    prose.write_text("just words")
    assert main(["run", str(prose), "--json"]) == 2
    assert "pass --lang" in json.loads(capsys.readouterr().out)["error"]
    answer = tmp_path / "a.md"
    answer.write_text("No code here.")
    assert main(["run", str(answer)]) == 2
    assert "no runnable code in this answer" in capsys.readouterr().err


def test_run_exits_with_the_programs_own_status(tmp_path: Path) -> None:
    from tests.core.test_cli_errors import codegen_bot

    (tmp_path / "seven.py").write_text("import sys\nprint('bye')\nsys.exit(7)\n")
    done = codegen_bot(tmp_path, "run", "seven.py")
    assert done.returncode == 7 and done.stdout == "bye\n"
    assert "❌ exited with code 7" in done.stderr


def test_a_python_block_with_a_syntax_error_is_run_and_shows_it(tmp_path: Path) -> None:
    from tests.core.test_cli_errors import codegen_bot

    (tmp_path / "answer.md").write_text("Try this:\n```\ndef greet(name:\n    print('hi', name)\n```\n")
    done = codegen_bot(tmp_path, "run", "answer.md")
    assert "no runnable code" not in done.stderr
    assert "SyntaxError" in done.stderr and done.returncode == 1
