"""The console's interactive loop: input → commands or tasks → core events, results on screen."""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from adapters.console.input import Interrupted, Reader, ctrl_c_calls, default_reader, thread_reader
from adapters.console.surface import PLATFORM, ConsoleSurface
from bot.arena import HELP_WORDS, Arena, TaskOutcome
from bot.events import (
    ControlRequested,
    DashboardRequested,
    LeaderboardRequested,
    ReactionChanged,
    RunRequested,
    TaskRequested,
    User,
)
from bot.leaderboard import split_leaderboard_words
from bot.messages import Message
from bot.ratings import STARS, RatingChange, apply_reaction, parse_reaction
from storage.models import Answer, AnswerStatus

CHANNEL = "terminal"
PROMPT = "codegen> "
CONTINUATION = "   ...> "
FENCE = '"""'
QUIT_WORDS = ("quit", "exit", ":q")
LABEL = re.compile(r"[A-Za-z]{1,2}")
RATING_VALUES = {"+1": "+1", "-1": "-1", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """A console command. A line whose first word is a command but that has more than
    ``max_args`` further words is a task instead ("rate limiter in Go", "run a web server")."""

    name: str
    args: str
    summary: str
    run: Callable[[ConsoleSession, str], Awaitable[None]]
    max_args: int | None = 0  # None: any number


class ConsoleSession:
    """Reads input until `quit`, Ctrl-D or Ctrl-C at the prompt; each entry is a command or a task.

    ``read`` is a reader (``async (prompt) -> line``) or a plain ``(prompt) -> line`` function;
    by default prompt_toolkit in a terminal, else lines from stdin.
    """

    def __init__(
        self, arena: Arena, surface: ConsoleSurface,
        read: Reader | Callable[[str], str] | None = None,
    ) -> None:
        self.arena = arena
        self.surface = surface
        if read is None:
            self.read: Reader = default_reader()
        elif inspect.iscoroutinefunction(read):
            self.read = read
        else:
            self.read = thread_reader(cast(Callable[[str], str], read))
        self.user = User("console-user", "you")
        self.last: TaskOutcome | None = None
        self.labels: set[str] = set()  # the last conversation's answer labels (its first turn's)

    # ------------------------------------------------------------------------------- the loop

    async def run(self) -> None:
        """Read and handle entries until the user leaves."""
        self.surface.console.print(Panel(Text(help_text()), title="Codegen Arena (console)", border_style="cyan"))
        await self.show_models("")
        while True:
            try:
                entry = await self._next_entry()
            except (EOFError, Interrupted):
                self._say("bye")
                return
            if entry is None:
                continue
            text, block = entry
            if block:
                await self.ask(text)
            elif text.lower() in QUIT_WORDS:
                self._say("bye")
                return
            elif text:
                await self.dispatch(text)

    async def _next_entry(self) -> tuple[str, bool] | None:
        """The next input as (text, is_block); None when a block was abandoned with Ctrl-C.

        A block (several pasted lines, or lines between \"\"\" and \"\"\") is always one task.
        """
        text = (await self.read(PROMPT)).strip()
        if not text.startswith(FENCE):
            return text, "\n" in text
        lines, rest = [], text[len(FENCE):]
        try:
            while not rest.rstrip().endswith(FENCE):
                lines.append(rest)
                rest = await self.read(CONTINUATION)
        except Interrupted:
            self._say("(block discarded)", "dim")
            return None
        lines.append(rest.rstrip()[: -len(FENCE)])
        return "\n".join(lines).strip(), True

    async def dispatch(self, line: str) -> None:
        """Handle one line: a command, a task, or a one-word typo."""
        word, *more = line.split(None, 1)
        rest = more[0].strip() if more else ""
        command = COMMANDS.get(word.lower())
        if command is not None and (command.max_args is None or len(rest.split()) <= command.max_args):
            if command.name in ("ask", "follow"):  # they handle Ctrl-C themselves (it cancels the task)
                await command.run(self, rest)
            else:
                await self._interruptible(command.run(self, rest))
        elif not rest:
            self._unknown(word)
        else:
            await self.ask(line)

    def _unknown(self, word: str) -> None:
        close = difflib.get_close_matches(word.lower(), [*COMMANDS, *QUIT_WORDS], n=1, cutoff=0.6)
        guess = f", did you mean {close[0]}?" if close else "."
        self._say(f"unknown command {word!r}{guess} Type `help` for the commands; "
                  f"to send one word as a task: ask {word}", "red")

    # ------------------------------------------------------------------------------- commands

    async def ask(self, text: str, **follow_up: Any) -> None:
        """Send a task to every available model and draw the answers as they stream
        (``follow_up``: ``follows``/``only`` of a follow-up, see :meth:`follow`).

        Ctrl-C meanwhile cancels the task: its unfinished answers end as cancelled.
        """
        text = text.strip()
        if not text:
            self._say("usage: ask <task>, e.g. ask reverse a string in Python", "red")
            return
        if text.lower() in HELP_WORDS:
            await self.show_help("")
            return
        event = self._event(TaskRequested, channel=CHANNEL, text=text, **follow_up)
        outcome: TaskOutcome | None = None
        failed = False
        self.surface.begin()
        try:
            job = asyncio.ensure_future(self.arena.ask(event, self.surface))
            finished = await self._until_done(job)
            if finished and job.exception() is None:
                outcome = job.result()
            elif finished:
                failed = True
                log.error("console task failed", exc_info=job.exception())
            elif self.surface.task_id is not None:
                with ctrl_c_calls(lambda: None):  # a second Ctrl-C must not leave it half-cancelled
                    outcome = await self.arena.cancel_task(self.surface.task_id, self.surface)
        finally:
            self.surface.end()
        if failed:
            self._say("error: something went wrong on our side; it has been logged.", "red")
        if outcome is None:
            if not finished:
                self._say("⏹ cancelled before any model was asked.", "yellow")
            return
        if not follow_up:
            self.labels = {a.label for a in outcome.answers}
        self.last = outcome
        if not finished:
            stopped = [a.label for a in outcome.answers if a.status == AnswerStatus.CANCELLED]
            self._say(f"⏹ cancelled task #{outcome.task.id}: "
                      f"{', '.join(stopped) or 'no answer'} stopped.", "yellow")
        self._next_steps(outcome.answers)

    async def follow(self, rest: str) -> None:
        """`follow <text>` / `follow B <text>`: continue the last task's conversation with every
        model, or only with answer B's (the label as shown: `follow A …` with a capital A)."""
        if self.last is None:
            self._say("Ask a task first; `follow <text>` continues it.", "red")
            return
        label, _, text = rest.strip().partition(" ")
        only = label if label in self.labels and text.strip() else None
        text = text if only else rest
        if not text.strip():
            self._say("usage: follow [<label>] <text>, e.g. follow now make it async, or follow B add tests", "red")
            return
        await self.ask(text, follows=self.last.task.id, only=only)

    async def run_answer(self, rest: str) -> None:
        """`run B`: run that answer's code in the sandbox."""
        if not LABEL.fullmatch(rest):
            self._say("usage: run <label>, e.g. run B", "red")
            return
        answer = self._answer(rest)
        if answer is not None:
            await self.arena.handle(self._event(RunRequested, answer_id=answer.id, channel=CHANNEL), self.surface)
            await self.arena.join()  # the run is a job: show its result before the next prompt

    async def rate(self, rest: str, added: bool = True) -> None:
        """`rate B +1` / `unrate B +1`: give or take back a rating of the last task's answer."""
        name = "rate" if added else "unrate"
        args = rest.split()
        if len(args) != 2 or not LABEL.fullmatch(args[0]):
            self._say(f"usage: {name} <label> <+1|-1|1-5>, e.g. {name} B +1", "red")
            return
        answer = self._answer(args[0])
        if answer is None:
            return
        emoji = RATING_VALUES.get(args[1])
        if emoji is None:
            self._say(f"unknown rating {args[1]!r}: use +1, -1 or 1-5", "red")
            return
        event = self._event(ReactionChanged, channel=answer.message_channel or CHANNEL,
                            message_id=answer.message_id or "", emoji=emoji, added=added)
        try:
            change = await apply_reaction(self.arena.store, event)
        except Exception:
            log.exception("console rating failed")
            self._say("error: the rating was not saved; the error has been logged.", "red")
            return
        scale, value = parse_reaction(emoji) or ("", None)
        self._say(*self._receipt(answer, change, _shown(scale, value), added))

    async def unrate(self, rest: str) -> None:
        """`unrate B +1`: take back that rating."""
        await self.rate(rest, added=False)

    async def leaderboard(self, rest: str) -> None:
        """`leaderboard [category] [7d|28d|all]`: the standings (its charts saved to files)."""
        window, category = split_leaderboard_words(rest.split())
        event = self._event(LeaderboardRequested, channel=CHANNEL, window=window, category=category)
        await self.arena.handle(event, self.surface)

    async def show_models(self, rest: str) -> None:
        """`models`: the roster and who can answer now."""
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis", max_width=28)
        table.add_column(overflow="fold")
        for item in self.arena.availability():
            state = Text("available", "green") if item.available else Text(f"unavailable ({item.reason})", "red")
            table.add_row(f" {item.contestant.id}", item.contestant.name, state)
        self.surface.console.print(table)

    async def usage(self, rest: str) -> None:
        """`usage [7d|30d]`: tasks, tokens and cost by model, and the budget left."""
        await self.arena.handle(self._event(ControlRequested, channel=CHANNEL, control="usage", args=rest.strip()),
                                self.surface)

    async def budget(self, rest: str) -> None:
        """`budget`: this console's spend against the workspace caps."""
        await self.arena.handle(self._event(ControlRequested, channel=CHANNEL, control="budget"), self.surface)

    async def dashboard(self, rest: str) -> None:
        """`dashboard`: a signed link to the web dashboard (which `codegen-bot web` serves)."""
        await self.arena.handle(self._event(DashboardRequested), self.surface)

    async def show_help(self, rest: str) -> None:
        """`help`: every command."""
        self.surface.console.print(Text(help_text()))

    async def notify(self, message: Message) -> None:
        """The core's private replies (errors, usage) to this user."""
        self.surface.print_message(message)

    # ------------------------------------------------------------------------------- helpers

    async def _interruptible(self, work: Awaitable[None]) -> None:
        """Run one command; Ctrl-C cancels it and returns to the prompt."""
        job = asyncio.ensure_future(work)
        if not await self._until_done(job):
            self._say("⏹ cancelled", "yellow")
        elif job.exception() is not None:
            log.error("console command failed", exc_info=job.exception())
            self._say("error: something went wrong on our side; it has been logged.", "red")

    async def _until_done(self, job: asyncio.Future[Any]) -> bool:
        """Wait for ``job``; Ctrl-C cancels it. False when it was cancelled."""
        with ctrl_c_calls(job.cancel):
            try:
                await asyncio.wait([job])
            except asyncio.CancelledError:
                job.cancel()
                raise
        return not job.cancelled()

    def _answer(self, label: str) -> Answer | None:
        if self.last is None:
            self._say("Ask a task first.", "red")
            return None
        for answer in self.last.answers:
            if answer.label == label.strip().upper():
                return answer
        self._say(f"No answer {label.upper()!r} in the last task "
                  f"(it has {', '.join(a.label for a in self.last.answers) or 'none'}).", "red")
        return None

    def _receipt(self, answer: Answer, change: RatingChange | None, named: str, added: bool) -> tuple[str, str]:
        """What a rating command did (``named``: the rating it named, e.g. 👍), and the style to print it in."""
        if change is None:
            return f"error: answer {answer.label} has no stored message, so it cannot be rated.", "red"
        task = self.last.task if self.last is not None else None
        blind = task is not None and task.blind and not task.revealed
        who = answer.label if blind else f"{answer.label} ({answer.contestant_name or answer.contestant_id})"
        where = f"on task #{change.task_id}"
        if added:
            if change.previous == change.value:
                return f"{who} already had your {named} {where}; unchanged.", "dim"
            was = f" (was {_shown(change.scale, change.previous)})" if change.previous is not None else ""
            return f"rated {who} {named} {where}{was}", "green"
        if change.previous is None:
            return f"you have not rated {who} {named} {where}: nothing to take back.", "red"
        if change.value is not None:
            return f"your rating of {who} {where} is {_shown(change.scale, change.value)}, not {named}: kept it.", "red"
        return f"took back your {named} on {who} {where}", "green"

    def _next_steps(self, answers: list[Answer]) -> None:
        rateable = "|".join(a.label for a in answers if a.status != AnswerStatus.CANCELLED)
        runnable = "|".join(a.label for a in answers if a.status == AnswerStatus.DONE and a.code)
        steps = ([f"rate <{rateable}> +1|-1|1-5"] if rateable else []) + ([f"run <{runnable}>"] if runnable else [])
        self._say("Next: " + " · ".join([*steps, "help"]), "dim")

    def _say(self, text: str, style: str = "") -> None:
        self.surface.console.print(Text(text, style=style))

    def _event(self, kind: type, **fields: Any) -> Any:
        return kind(platform=PLATFORM, user=self.user, notify=self.notify, **fields)


def _shown(scale: str, value: int | None) -> str:
    """A rating as the console shows it: 👍, 👎 or 4/5."""
    if value is None:
        return "rating"
    if scale == STARS:
        return f"{value}/5"
    return "👍" if value else "👎"


COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("ask", "<task>", "send a task, even a one-word one", ConsoleSession.ask, None),
    Command("run", "<label>", "run that answer's code in the sandbox", ConsoleSession.run_answer, 1),
    Command("rate", "<label> <+1|-1|1-5>", "+1 👍, -1 👎, or 1 to 5 stars", ConsoleSession.rate, 2),
    Command("unrate", "<label> <+1|-1|1-5>", "take that rating back", ConsoleSession.unrate, 2),
    Command("leaderboard", "[category] [7d|28d|all]", "the standings (default 28d, all kinds of work) and charts",
            ConsoleSession.leaderboard, 2),
    Command("models", "", "the roster and who is available", ConsoleSession.show_models, 0),
    Command("usage", "[7d|30d]", "tasks, tokens and cost by model", ConsoleSession.usage, 1),
    Command("budget", "", "the spend against the daily/monthly caps", ConsoleSession.budget, 0),
    Command("dashboard", "", "a link to the web dashboard (serve it with `codegen-bot web`)", ConsoleSession.dashboard, 0),
    Command("follow", "[<label>] <text>", "continue the last task (every model, or that one)",
            ConsoleSession.follow, None),
    Command("help", "", "this text", ConsoleSession.show_help, 0),
)}


def help_text() -> str:
    """Every command, for `help` and the banner (lines fit an 80-column terminal's panel)."""
    width = max(len(f"{c.name} {c.args}") for c in COMMANDS.values()) + 2
    lines = [
        "Type a task to send it to every model: two or more words, a pasted block,",
        f"or lines between {FENCE} and {FENCE}. Then, for the last task's answers (A, B, …):",
    ]
    lines += [f"  {f'{c.name} {c.args}'.strip():<{width}}{c.summary}" for c in COMMANDS.values()]
    lines += [f"  {'quit':<{width}}leave (also Ctrl-D, or Ctrl-C at the prompt)",
              "Ctrl-C while answers stream cancels the task."]
    return "\n".join(lines)
