"""Errors a person can act on: `codegen-bot` run as a subprocess prints one line `error: …` on
stderr and exits 2, with no traceback unless `--debug` is given."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def codegen_bot(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
                stdout: int | None = subprocess.PIPE, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, with state in ``tmp_path`` and no token from the developer."""
    base = {k: v for k, v in os.environ.items()
            if not k.endswith(("_API_KEY", "_TOKEN", "_SECRET")) and not k.startswith(("SANDBOX_", "CODEGEN_"))
            and k not in ("DATABASE_URL", "LEADERBOARD_TZ", "DISCORD_API_BASE", "PYTHONPATH")}
    base["CODEGEN_HOME"] = str(tmp_path / "home")
    base["PYTHONPATH"] = str(ROOT)
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=base, cwd=tmp_path, text=True,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=timeout)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single `error: …` line of a refused command (asserting exit 2 and no traceback)."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["leaderboard"], ["export"], ["ask", "x"], ["serve"]])
def test_unreachable_database_is_one_line_for_any_command(tmp_path: Path, command: list[str]) -> None:
    port = closed_port()
    url = f"postgresql://arena:hunter2pw@127.0.0.1:{port}/arena"
    line = one_error_line(codegen_bot(tmp_path, *command, env={"DATABASE_URL": url}))
    assert f"cannot open the database postgresql+psycopg://arena:***@127.0.0.1:{port}/arena" in line
    assert "refused" in line.lower()
    assert "hunter2pw" not in line


def test_sqlite_path_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    line = one_error_line(codegen_bot(tmp_path, "db", "upgrade",
                                      env={"DATABASE_URL": f"sqlite:///{tmp_path}/afile/codegen.db"}))
    assert f"cannot create the folder {tmp_path}/afile for the SQLite database" in line


@pytest.mark.parametrize(("name", "value", "says"), [
    ("CODEGEN_MAX_TASK_CHARS", "abc", "expected a whole number"),
    ("CODEGEN_EDIT_INTERVAL", "fast", "expected a number"),
    ("CODEGEN_BLIND_REVEAL_HOURS", "-1", "must be at least 0"),
    ("LEADERBOARD_TZ", "Mars/Olympus", "unknown timezone"),
])
def test_malformed_setting_names_the_variable_and_the_value(tmp_path: Path, name: str, value: str, says: str) -> None:
    line = one_error_line(codegen_bot(tmp_path, "models", env={name: value}))
    assert line.startswith(f"error: {name}={value!r} is not usable: ") and says in line


@pytest.mark.parametrize(("name", "value", "says"), [
    ("SANDBOX_WALL_S", "abc", "expected a number"),
    ("SANDBOX_MEMORY_MIB", "1", "the limit is too low"),
    ("SANDBOX_CONCURRENCY", "many", "expected a whole number"),
])
def test_malformed_sandbox_limit_is_refused_before_running(tmp_path: Path, name: str, value: str, says: str) -> None:
    (tmp_path / "hello.py").write_text("print('hello')\n")
    done = codegen_bot(tmp_path, "run", "hello.py", env={name: value})
    line = one_error_line(done)
    assert line.startswith(f"error: {name}={value!r}") and says in line
    assert done.stdout == ""  # nothing ran


def test_slack_token_without_signing_secret(tmp_path: Path) -> None:
    line = one_error_line(codegen_bot(tmp_path, "serve", env={"SLACK_BOT_TOKEN": "xoxb-1-2-3"}))
    assert "SLACK_SIGNING_SECRET" in line and "xoxb-1-2-3" not in line
    assert not (tmp_path / "home" / "codegen.db").exists()  # refused before anything started


@pytest.mark.parametrize("command", [["serve", "--adapter", "discord"], ["discord-sync"]])
def test_unreachable_discord_api(tmp_path: Path, command: list[str]) -> None:
    base = f"http://127.0.0.1:{closed_port()}/api/v10"
    line = one_error_line(codegen_bot(tmp_path, *command,
                                      env={"DISCORD_TOKEN": "MTIz.abc.secretpart", "DISCORD_API_BASE": base}))
    assert f"cannot reach Discord's API at {base}" in line and "secretpart" not in line


def test_closed_stdout_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """`codegen-bot export | head -1`: the reader went away before the output was written."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # like head exiting: every write now fails with EPIPE
    try:
        done = codegen_bot(tmp_path, "export", stdout=write_end)
    finally:
        os.close(write_end)
    assert "broken pipe" in one_error_line(done)
    assert "Exception ignored" not in done.stderr


def test_manifest_url_without_http_is_refused(tmp_path: Path) -> None:
    line = one_error_line(codegen_bot(tmp_path, "slack-manifest", "--url", "https://arena.example.com"))
    assert "--url is for HTTP mode: add --http" in line


def test_models_reports_a_stopped_local_server_as_unreachable(tmp_path: Path) -> None:
    port = closed_port()
    (tmp_path / "models.toml").write_text(
        f'[[models]]\nid = "ollama"\nname = "Llama (Ollama)"\nbase_url = "http://127.0.0.1:{port}/v1"\nmodel = "llama3"\n')
    done = codegen_bot(tmp_path, "models", "--json", env={"CODEGEN_MODELS": str(tmp_path / "models.toml")})
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert row["available"] is False
    assert row["reason"].startswith(f"unreachable: 127.0.0.1:{port}: ") and "refused" in row["reason"].lower()


def test_debug_shows_the_traceback_before_or_after_the_subcommand(tmp_path: Path) -> None:
    for args in (["--debug", "models"], ["models", "--debug"]):
        done = codegen_bot(tmp_path, *args, env={"CODEGEN_MAX_TASK_CHARS": "abc"})
        assert done.returncode == 2
        assert "Traceback" in done.stderr and done.stderr.rstrip().splitlines()[-1].startswith("error: ")
    done = codegen_bot(tmp_path, "models", "-v", env={"CODEGEN_MAX_TASK_CHARS": "abc"})
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_ask_json_reports_a_bad_roster_as_json(tmp_path: Path) -> None:
    (tmp_path / "models.toml").write_text('[[models]]\nid = "x"\nbase_url = 3\n')
    done = codegen_bot(tmp_path, "ask", "hi", "--json", env={"CODEGEN_MODELS": str(tmp_path / "models.toml")})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "models.toml:3: field 'base_url': expected str" in json.loads(done.stdout)["error"]


def test_version(tmp_path: Path) -> None:
    done = codegen_bot(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("codegen-bot 0.")
