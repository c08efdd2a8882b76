"""The console as a person meets it: `codegen-bot serve` in a real pseudo-terminal.

Each test starts the console in a pty of a given size against the fake OpenAI-compatible server,
types or pastes as a person would, and asserts on the emulated screen and the database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Store
from storage.models import Answer, AnswerStatus, Rating, Task, TaskStatus
from tests.console.terminal import Terminal, console_env, roster
from tests.fakes.openai_server import FakeOpenAI, ThreadedFakeOpenAI


@pytest.fixture
def fake() -> Iterator[ThreadedFakeOpenAI]:
    with FakeOpenAI.start_in_thread() as server:
        yield server


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def start(fake: ThreadedFakeOpenAI, home: Path, models: tuple[str, ...], columns: int = 80, lines: int = 24,
          **env: str) -> Terminal:
    roster_path = home.parent / "models.toml"
    roster_path.write_text(roster(fake.base_url, *models))
    terminal = Terminal(console_env(home, roster_path, **env), columns, lines)
    terminal.wait_for_prompt()
    return terminal


def database(home: Path) -> Store:
    return Store(f"sqlite:///{home / 'codegen.db'}")


def words(model: str, count: int) -> list[str]:
    return [f"{model}{i:03d} " for i in range(count)]


@pytest.mark.parametrize(("columns", "lines"), [(80, 24), (200, 30)])
def test_every_answer_stays_on_screen_while_they_stream(fake, home, columns, lines):
    models = ("alpha", "beta", "gamma")
    for model in models:
        fake.script(model, chunks=words(model, 240), chunk_delay=0.025)
    terminal = start(fake, home, models, columns, lines)
    try:
        terminal.type("write a long answer")

        def newest_of_each_visible_mid_stream(text: str) -> bool:
            newest = [max((int(n) for n in re.findall(rf"{m}(\d{{3}})", text)), default=-1) for m in models]
            return text.count("writing…") == len(models) and min(newest) >= 150

        terminal.wait_for(newest_of_each_visible_mid_stream,
                          "every model's 150th word or later on screen while all three still write")
        terminal.wait_for_prompt()
        assert "Next: rate <A|B|C>" in terminal.text
    finally:
        terminal.close()


def test_a_slow_terminal_loses_none_of_the_final_answers(fake, home):
    """The terminal stops reading while the answers stream and print (a slow link, a busy
    emulator); once it reads again, every answer's last words and the prompt must arrive."""
    models = ("alpha", "beta")
    for model in models:
        fake.script(model, chunks=words(model, 400))
    terminal = start(fake, home, models, 200, 30)
    try:
        terminal.type("write a long answer")
        terminal.wait_for(lambda _: len(fake.fake.requests_for("beta")) == 1, "the task to reach the models")
        time.sleep(8)  # read nothing meanwhile: the program's writes fill the terminal's buffer
        terminal.wait_for_prompt()
        assert "Next: rate <A|B>" in terminal.text
        output = terminal.transcript.decode(errors="replace")
        assert "alpha399" in output and "beta399" in output
    finally:
        terminal.close()


def test_ctrl_c_cancels_a_streaming_task_then_exits_at_the_prompt(fake, home):
    fake.script("alpha", text="done quickly")
    fake.script("beta", chunks=["still going "], chunk_delay=0.05, endless=True)
    terminal = start(fake, home, ("alpha", "beta"))
    try:
        terminal.type("a task that will not finish")
        terminal.wait_for(lambda text: "still going" in text and "done quickly" in text
                          and "1/2 answers finished" in text, "alpha finished and beta streaming")
        terminal.send("\x03")
        terminal.wait_for_prompt()
        assert "⏹ cancelled task #1:" in terminal.text
        assert "⏹ cancelled" in terminal.text.split("⏹ cancelled task #1:")[0]  # on the answer itself
        terminal.send("\x03")  # at the prompt: leave at once
        assert terminal.wait_exit(timeout=10) == 0
    finally:
        terminal.close()
    store = database(home)
    with store.session() as db:
        task = db.exec(select(Task)).one()
        answers = {a.contestant_id: a for a in db.exec(select(Answer))}
    store.dispose()
    assert task.status == TaskStatus.CANCELLED
    assert answers["alpha"].status == AnswerStatus.DONE and answers["alpha"].text == "done quickly"
    assert answers["beta"].status == AnswerStatus.CANCELLED


def test_a_long_multi_line_paste_is_one_task_and_arrives_whole(fake, home):
    rows = "\n".join(f"{i},name-{i},{i * 7 % 13}" for i in range(400))
    block = f"Parse this CSV and print the total of the last column:\n{rows}\nUse only the standard library."
    assert len(block) > 4096 + 1000 and block.count("\n") > 400  # past a cooked terminal's line limit
    terminal = start(fake, home, ("alpha",), CODEGEN_MAX_TASK_CHARS="20000")
    try:
        terminal.paste(block)
        terminal.type("")
        terminal.wait_for(lambda _: fake.fake.requests_for("alpha"), "the task to reach the model")
        terminal.wait_for_prompt()
    finally:
        terminal.close()
    requests = fake.fake.requests_for("alpha")
    assert len(requests) == 1
    assert requests[0].json["messages"][-1]["content"] == block


def test_ratings_after_a_restart_land_on_the_new_task(fake, home):
    for run in (1, 2):
        terminal = start(fake, home, ("alpha", "beta"))
        try:
            terminal.type(f"task number {run} please")
            terminal.wait_for_prompt()
            terminal.type("rate A +1")
            receipt = terminal.wait_for(lambda text: re.search(r"rated A \((ALPHA|BETA)\) 👍 on task #\d", text),
                                        "the rating's receipt")
            assert re.search(rf"rated A \((ALPHA|BETA)\) 👍 on task #{run}\b", receipt)
            terminal.type("quit")
            terminal.wait_exit()
        finally:
            terminal.close()
    store = database(home)
    with store.session() as db:
        rated = [(a.task_id, a.label) for r in db.exec(select(Rating)) for a in [db.get(Answer, r.answer_id)]]
    store.dispose()
    assert sorted(rated) == [(1, "A"), (2, "A")]
