"""`codegen-bot` as a user runs it: a real subprocess against the fake provider."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

ROSTER = """
[[models]]
id = "alpha"
name = "Alpha"
base_url = "{url}"
model = "alpha"

[[models]]
id = "beta"
name = "Beta"
base_url = "{url}"
model = "beta"
price_in = 1.0
price_out = 2.0

[[models]]
id = "paid"
name = "Paid"
base_url = "{url}"
model = "paid"
api_key_env = "ARENA_TEST_ABSENT_KEY"
"""


async def codegen_bot(tmp_path: Path, *args: str, roster: str | None = None) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env["CODEGEN_HOME"] = str(tmp_path / "home")
    if roster is not None:
        (tmp_path / "models.toml").write_text(roster)
        env["CODEGEN_MODELS"] = str(tmp_path / "models.toml")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", *args, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_ask_json_prints_every_answer_with_measurements(tmp_path, fake_openai):
    fake_openai.script("alpha", text="Here:\n```python\nprint(42)\n```")
    fake_openai.script("beta", status=503, fail_times=99, error_message="no capacity")
    code, out, err = await codegen_bot(tmp_path, "ask", "print 42", "--json",
                                       roster=ROSTER.format(url=fake_openai.base_url))
    assert code == 0, err
    data = json.loads(out)
    answers = {a["model"]: a for a in data["answers"]}
    assert set(answers) == {"alpha", "beta"}
    assert answers["alpha"]["code"] == "print(42)" and answers["alpha"]["error"] is None
    assert answers["alpha"]["latency_ms"] > 0 and answers["alpha"]["ttft_ms"] is not None
    assert answers["alpha"]["completion_tokens"]
    assert "no capacity" in answers["beta"]["error"]
    assert data["skipped"] == [{"model": "paid", "reason": "set ARENA_TEST_ABSENT_KEY"}]


async def test_ask_with_models_selects_contestants(tmp_path, fake_openai):
    code, out, err = await codegen_bot(tmp_path, "ask", "x", "--models", "beta", "--json",
                                       roster=ROSTER.format(url=fake_openai.base_url))
    assert code == 0, err
    assert [a["model"] for a in json.loads(out)["answers"]] == ["beta"]
    code, out, err = await codegen_bot(tmp_path, "ask", "x", "--models", "nope", "--json",
                                       roster=ROSTER.format(url=fake_openai.base_url))
    assert code == 2 and "Unknown model id: nope. Models you can ask here: alpha, beta, paid" in json.loads(out)["error"]


async def test_models_lists_availability_and_reasons(tmp_path, fake_openai):
    code, out, err = await codegen_bot(tmp_path, "models", roster=ROSTER.format(url=fake_openai.base_url))
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "unavailable (set ARENA_TEST_ABSENT_KEY)" in lines["paid"]
    assert lines["alpha"].rstrip().endswith("available")


async def test_malformed_roster_is_a_clear_error_not_a_traceback(tmp_path):
    code, out, err = await codegen_bot(tmp_path, "models", roster='[[models]]\nid = "x"\nbase_url = 3\n')
    assert code == 2
    assert "models.toml:3: field 'base_url': expected str" in err
    assert "Traceback" not in err


async def test_db_upgrade_creates_the_database(tmp_path):
    code, out, err = await codegen_bot(tmp_path, "db", "upgrade")
    assert code == 0, err
    assert (tmp_path / "home" / "codegen.db").is_file()


async def test_ask_with_no_task_says_how_to_ask_in_cli_terms(tmp_path, fake_openai):
    for task in ("", "  ", "help"):
        code, out, err = await codegen_bot(tmp_path, "ask", task, roster=ROSTER.format(url=fake_openai.base_url))
        assert code == 2
        assert err.startswith("error: give a coding task, e.g. codegen-bot ask \"")
        assert "/codegen" not in err + out and "Traceback" not in err
    code, out, err = await codegen_bot(tmp_path, "ask", "", "--json", roster=ROSTER.format(url=fake_openai.base_url))
    assert code == 2 and json.loads(out)["error"].startswith("give a coding task")
    assert fake_openai.requests == []


async def test_plain_ask_output_has_the_answers_and_no_chat_buttons_or_hints(tmp_path, fake_openai):
    fake_openai.script("alpha", text="Here:\n```python\nprint(42)\n```")
    code, out, err = await codegen_bot(tmp_path, "ask", "print 42", "--models", "alpha",
                                       roster=ROSTER.format(url=fake_openai.base_url))
    assert code == 0, err
    assert "print(42)" in out and "Codegen task #1" in out
    assert "▶ Run" not in out and "Retry" not in out  # buttons nobody can press here
    assert "React" not in out and "rate <label>" not in out  # no way to rate from a one-shot ask
