"""Platform-neutral messages for tasks and answers (adapters turn them into platform messages)."""

from __future__ import annotations

from bot.categories import describe
from bot.messages import Action, ActionKind, Field, Message, Tone
from bot.roster import Availability
from bot.surface import REACTION_RATING_HINT
from bot.testing import render as tests_render
from bot.testing.outcome import Outcome
from bot.testing.suite import task_tests
from storage.models import Answer, AnswerStatus, Task

RATE_HINT = REACTION_RATING_HINT
USAGE = (
    "*Usage:* `/codegen <task>`: e.g. `/codegen write a FastAPI CRUD app with JWT auth`.\n"
    "The task goes to every model at once; each answer arrives as its own reply in the thread.\n"
    "• `/codegen leaderboard [category] [window]`: the standings, e.g. `leaderboard data 7d`\n"
    "• `/codegen tag <task number> <category>`: correct a task's category (the asker or an admin)\n"
    "• `/codegen subscribe` / `unsubscribe`: the weekly leaderboard post in this channel\n"
    "• `/codegen blind on` / `off`: hide model names in this channel until they are revealed\n"
    '• `/codegen --test "assert is_even(4)" <task>` (or a code block tagged `python test`, or an attached '
    "`test_*.py`): every answer is run against your tests; `--show-tests` sends them to the models too\n"
    "• `/codegen autorun on` / `off`: run every answer's code once when it finishes (tasks without tests)\n"
    "• `/codegen settings`: this channel's settings and who changed them (admins change them)\n"
    "• `/codegen models` / `models use a,b,c` / `models reset`: the models this channel asks\n"
    "• `/codegen prompt` / `prompt set <text>` / `prompt clear`: an instruction added to every model's prompt here\n"
    "• `/codegen budget` / `budget 5/day 50/month` / `budget off`: spend and USD caps; `/codegen usage [7d|30d]`: cost\n"
    "• `@Codegen Arena <text>` in a task's thread: a follow-up, every model continues its own conversation "
    "(`@Codegen Arena B: <text>`: only answer B's)\n"
    "• `/codegen forget`: delete your tasks and ratings here (after `/codegen forget confirm`)\n"
    "• `/codegen dashboard`: a private link to the web dashboard (leaderboards, charts, every task; read-only)\n"
    "• `/codegen help`: this message\n"
    f"Press ▶ Run on an answer to execute its code in a sandbox. {RATE_HINT}"
)


def answer_title(answer: Answer, blind: bool) -> str:
    """'Answer B' in blind mode, else 'B · GPT-4o'."""
    if blind:
        return f"Answer {answer.label}"
    return f"{answer.label} · {answer.contestant_name}"


def skipped_fields(skipped: list[Availability]) -> list[Field]:
    """'Skipped (set OPENROUTER_API_KEY)': GPT-4o, Mixtral — one field per reason."""
    by_reason: dict[str, list[str]] = {}
    for item in skipped:
        by_reason.setdefault(item.reason, []).append(item.contestant.name)
    return [Field(f"Skipped ({reason})", ", ".join(names)) for reason, names in by_reason.items()]


def task_header(
    task: Task, answers: list[Answer], skipped: list[Availability], blind: bool,
    rating_hint: str = RATE_HINT, *, extra: list[Field] | None = None,
) -> Message:
    """The parent message: the task, who asked, which models (and which were skipped, why).

    ``rating_hint`` is the surface's wording for how to rate there (empty: none); ``extra`` are
    more header fields decided when the task was asked (stored with it)."""
    models = ", ".join(answer_title(a, blind) for a in answers) if answers else "none"
    fields = [Field("Asked by", task.requester_name or task.requester_id), Field("Models", models),
              Field("Category", describe(task.kind, task.language))]
    fields += skipped_fields(skipped)
    fields += extra or []
    actions = [Action(ActionKind.REVEAL, task.id or 0, "🔓 Reveal models")] if blind else []
    tests = tests_render.header_section(task_tests(task.tests), task.show_tests)
    notes = [rating_hint] + (["Models are hidden until revealed (blind mode)."] if blind else [])
    return Message(
        title=f"🧪 Codegen task #{task.id}",
        text=quote(task.text) + (f"\n\n{tests}" if tests else ""),
        fields=fields,
        footer=" ".join(n for n in notes if n) or None,
        actions=actions,
        task_id=task.id,
    )


def followup_header(
    task: Task, answers: list[Answer], blind: bool, rating_hint: str = RATE_HINT, *, extra: list[Field] | None = None,
) -> Message:
    """A follow-up's header in the task's thread: "↪ Follow-up #2 by ada", the text, who answers."""
    models = ", ".join(answer_title(a, blind) for a in answers) if answers else "none"
    fields = [Field("Models", models), *(extra or [])]
    tests = tests_render.header_section(task_tests(task.tests), task.show_tests)
    return Message(
        title=f"↪ Follow-up #{task.turn} by {task.requester_name or task.requester_id}",
        text=quote(task.text) + (f"\n\n{tests}" if tests else ""),
        fields=fields,
        footer=rating_hint or None,
        actions=[Action(ActionKind.REVEAL, task.id or 0, "🔓 Reveal models")] if blind else [],
        task_id=task.id,
    )


def answer_placeholder(answer: Answer, blind: bool) -> Message:
    """What an answer's reply shows before its first token."""
    return Message(title=answer_title(answer, blind), text="_waiting for the model…_", tone=Tone.PROGRESS)


def answer_progress(answer: Answer, blind: bool, text: str, elapsed_s: float) -> Message:
    """An answer while it streams."""
    return Message(
        title=answer_title(answer, blind),
        text=(text or "_waiting for the model…_") + " ▌",
        footer=f"writing… {elapsed_s:.1f} s",
        tone=Tone.PROGRESS,
    )


def answer_paused(answer: Answer, blind: bool, text: str) -> Message:
    """An answer whose process is stopping; it resumes (in the same message) when one is back."""
    return Message(
        title=answer_title(answer, blind),
        text=text or "_waiting for the model…_",
        footer="⏸ paused: the bot is restarting; this answer resumes when it is back",
        tone=Tone.PROGRESS,
    )


def answer_final(answer: Answer, blind: bool, tests: Outcome | None = None) -> Message:
    """A finished (or failed) answer with its footer (and its test run's line) and buttons."""
    actions: list[Action] = []
    if answer.status == AnswerStatus.DONE and answer.code:
        actions.append(Action(ActionKind.RUN, answer.id or 0, "▶ Run"))
    failed = answer.status in (AnswerStatus.ERROR, AnswerStatus.INTERRUPTED)
    if failed:
        actions.append(Action(ActionKind.RETRY, answer.id or 0, "🔁 Retry"))
    cancelled = answer.status == AnswerStatus.CANCELLED
    text = answer.text or ""
    if answer.error:
        if text.count("```") % 2:  # a partial answer cut inside a code block: close it first
            text += "\n```"
        prefix = f"{text}\n\n" if text else ""
        text = f"{prefix}{'⏹' if cancelled else '⚠️'} {answer.error}"
    return Message(
        title=answer_title(answer, blind),
        text=text or "_no answer_",
        footer=footer(answer) + (f" · {tests_render.footer_line(tests)}" if tests else ""),
        actions=actions,
        tone=Tone.ERROR if failed or cancelled else Tone.SUCCESS,
    )


def footer(answer: Answer) -> str:
    """'⏱ 3.4 s · first token 0.52 s · 38→300 tokens · $0.0012'."""
    parts: list[str] = []
    if answer.latency_ms is not None:
        parts.append(f"⏱ {answer.latency_ms / 1000:.1f} s")
    if answer.ttft_ms is not None:
        parts.append(f"first token {answer.ttft_ms / 1000:.2f} s")
    if answer.prompt_tokens is not None or answer.completion_tokens is not None:
        parts.append(f"{answer.prompt_tokens or 0}→{answer.completion_tokens or 0} tokens")
    if answer.cost_usd is not None:
        parts.append(f"${answer.cost_usd:.4f}" if answer.cost_usd else "$0")
    if answer.truncated:
        parts.append("✂ cut at the length limit")
    if answer.context_dropped:
        turns = "turn" if answer.context_dropped == 1 else "turns"
        parts.append(f"⤒ oldest {answer.context_dropped} {turns} left out to fit the model's context")
    return " · ".join(parts) or "no timing recorded"


def dashboard_link(url: str, hours: float) -> Message:
    """The private reply to `/codegen dashboard`: the signed link and how long it works. The link
    is a field, shown as it is (never parsed as Markdown: its signature may hold ``__``)."""
    return Message(
        title="📈 Codegen Arena dashboard",
        text=("Read-only: leaderboards by window and category, the value chart, each model's head-to-head, "
              f"every task with its answers. The link is yours and works for {hours:g} h; anyone holding it can "
              "look, so don't post it. Ask again for a new one."),
        fields=[Field("Link", url)],
    )


def usage() -> Message:
    """Help text for the chat commands."""
    return Message(title="Codegen Arena", text=USAGE)


def error(text: str) -> Message:
    """A short error for the user who caused it."""
    return Message(text=f"⚠️ {text}", tone=Tone.ERROR)


def info(text: str) -> Message:
    return Message(text=text)


def quote(text: str, limit: int = 1500) -> str:
    """Quote a task for the header (shortened: the full text is stored)."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return "\n".join(f"> {line}" if line else ">" for line in short.splitlines())


_STORAGE_PROBLEMS = {
    "busy": "The bot's database is busy right now (another process is writing to it), so your request "
            "could not be recorded. Try again in a moment.",
    "full": "The bot's database is full (out of disk space), so your request could not be recorded. "
            "Ask an admin to free space, then try again.",
    "unreachable": "The bot can't reach its database right now, so your request could not be recorded. "
                   "Try again in a moment.",
}


def storage_unavailable(kind: str) -> Message:
    """What a user is told when their request could not be written down (never silence)."""
    return error(_STORAGE_PROBLEMS.get(kind, _STORAGE_PROBLEMS["busy"]))
