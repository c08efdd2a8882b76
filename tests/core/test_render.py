"""Core message wording that every platform shows."""

from __future__ import annotations

from bot import render
from storage.models import Answer, AnswerStatus, Task


def test_a_cancelled_answer_keeps_its_partial_text_closes_its_code_block_and_offers_no_retry():
    answer = Answer(id=7, task_id=1, contestant_id="m", contestant_name="M", label="B",
                    status=AnswerStatus.CANCELLED, text="Here:\n```python\nprint(", error="cancelled")

    message = render.answer_final(answer, blind=False)

    assert message.text == "Here:\n```python\nprint(\n```\n\n⏹ cancelled"  # the note is outside the code
    assert message.actions == []


def test_the_task_header_carries_its_task_and_the_surfaces_rating_hint():
    task = Task(id=12, platform="console", channel="terminal", requester_id="u", text="reverse a string")

    chat = render.task_header(task, [], [], blind=False)
    console = render.task_header(task, [], [], blind=False, rating_hint="Rate with `rate B +1`.")
    silent = render.task_header(task, [], [], blind=False, rating_hint="")

    assert chat.footer is not None and chat.footer.startswith("React 👍/👎")
    assert console.footer == "Rate with `rate B +1`."
    assert silent.footer is None
    assert chat.task_id == console.task_id == 12
