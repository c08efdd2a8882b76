"""The console adapter: the embedded default when no Slack or Discord token is set.

Type a task and watch every model's answer stream side by side; then `run B`, `rate B +1`,
`leaderboard`, `models`, `help`, `quit`.
"""

from __future__ import annotations

import asyncio
import itertools
import shlex
from collections.abc import Callable

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from bot.arena import Arena, TaskOutcome
from bot.events import LeaderboardRequested, ReactionChanged, RunRequested, TaskRequested, User
from bot.leaderboard import split_leaderboard_words
from bot.messages import Message, Tone
from bot.surface import Destination, MessageRef

PLATFORM = "console"
CHANNEL = "terminal"
STYLE = {Tone.INFO: "cyan", Tone.PROGRESS: "yellow", Tone.SUCCESS: "green", Tone.ERROR: "red"}
CONSOLE_HELP = """\
Type a coding task to send it to every available model. Then:
  run B            run answer B's code in the sandbox
  rate B +1        rate answer B (+1, -1, or 1-5); `unrate B +1` retracts
  leaderboard      the standings        models   the roster and who is available
  help             this text            quit     leave (Ctrl-D works too)"""


def render_message(message: Message) -> Panel:
    """A core message as a rich panel (text as Markdown, footer as subtitle)."""
    body: list[RenderableType] = [Markdown(message.text)] if message.text else []
    for item in message.fields:
        body.append(Text.assemble((f"{item.name}: ", "bold"), item.value))
    if message.actions:
        body.append(Text("  ".join(f"[{a.label}]" for a in message.actions), style="dim"))
    for attachment in message.attachments:
        body.append(Text(f"📎 {attachment.filename} ({len(attachment.content):,} bytes)", style="dim"))
    return Panel(
        Group(*body),
        title=message.title,
        subtitle=message.footer,
        border_style=STYLE.get(message.tone, "cyan"),
    )


class ConsoleSurface:
    """Shows messages as panels; a task's thread is drawn live, answers side by side."""

    platform = PLATFORM

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.messages: dict[MessageRef, Message] = {}
        self.live: Live | None = None
        self._ids = itertools.count(1)

    async def post(self, where: Destination, message: Message) -> MessageRef:
        ref = MessageRef(where.channel, f"c{next(self._ids)}", where.thread)
        self.messages[ref] = message
        self._refresh(printing=message)
        return ref

    async def edit(self, ref: MessageRef, message: Message) -> None:
        self.messages[ref] = message
        self._refresh(printing=message)  # outside a live view (a Run's result) the new state is printed

    async def open_thread(self, parent: MessageRef, name: str) -> Destination:
        return Destination(parent.channel, parent.message_id)

    def begin(self) -> None:
        """Start a live view for one task's messages."""
        self.messages.clear()
        self.live = Live(self._view(), console=self.console, refresh_per_second=8, transient=False)
        self.live.start()

    def end(self) -> None:
        """Stop the live view, leaving its last frame on screen."""
        if self.live is not None:
            self.live.update(self._view(), refresh=True)
            self.live.stop()
            self.live = None

    def _refresh(self, printing: Message | None = None) -> None:
        if self.live is not None:
            self.live.update(self._view())
        elif printing is not None:
            self.console.print(render_message(printing))

    def _view(self) -> RenderableType:
        panels = [render_message(m) for m in self.messages.values()]
        if not panels:
            return Text("")
        header, answers = panels[0], panels[1:]
        return Group(header, Columns(answers, equal=True, expand=True)) if answers else header


class ConsoleSession:
    """The interactive loop: reads lines, turns them into core events, shows the results."""

    def __init__(self, arena: Arena, surface: ConsoleSurface, read: Callable[[str], str] = input) -> None:
        self.arena = arena
        self.surface = surface
        self.read = read
        self.user = User("console-user", "you")
        self.last: TaskOutcome | None = None

    async def notify(self, message: Message) -> None:
        self.surface.console.print(render_message(message))

    async def run(self) -> None:
        """Read commands until `quit` or end of input."""
        out = self.surface.console
        out.print(Panel(CONSOLE_HELP, title="Codegen Arena (console)", border_style="cyan"))
        self.show_models()
        while True:
            try:
                line = (await asyncio.to_thread(self.read, "\ncodegen> ")).strip()
            except (EOFError, KeyboardInterrupt):
                out.print("bye")
                return
            if not line:
                continue
            if line in ("quit", "exit", ":q"):
                return
            await self.dispatch(line)

    async def dispatch(self, line: str) -> None:
        """Handle one input line."""
        word, _, rest = line.partition(" ")
        if word == "help":
            self.surface.console.print(CONSOLE_HELP)
        elif word == "models":
            self.show_models()
        elif word == "leaderboard":
            window, category = split_leaderboard_words(rest.split())
            await self.arena.handle(self._event(LeaderboardRequested, channel=CHANNEL, window=window,
                                                category=category), self.surface)
        elif word == "run":
            await self.run_answer(rest)
        elif word in ("rate", "unrate"):
            await self.rate(rest, added=word == "rate")
        else:
            await self.ask(line)

    async def ask(self, text: str) -> None:
        self.surface.begin()
        try:
            self.last = await self.arena.request_task(self._event(TaskRequested, channel=CHANNEL, text=text), self.surface)
        finally:
            self.surface.end()
        if self.last and self.last.answers:
            labels = ", ".join(a.label for a in self.last.answers)
            self.surface.console.print(f"[dim]Rate with `rate <{labels}> +1|-1|1-5`; run code with `run <label>`.[/dim]")

    async def run_answer(self, label: str) -> None:
        answer = self._answer(label)
        if answer is not None:
            await self.arena.handle(self._event(RunRequested, answer_id=answer.id, channel=CHANNEL), self.surface)

    async def rate(self, rest: str, added: bool) -> None:
        try:
            label, value = shlex.split(rest)
        except ValueError:
            await self.notify(Message(text="usage: rate <label> <+1|-1|1-5>", tone=Tone.ERROR))
            return
        answer = self._answer(label)
        if answer is None:
            return
        emoji = {"+1": "+1", "-1": "-1", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}.get(value)
        if emoji is None:
            await self.notify(Message(text=f"unknown rating {value!r}: use +1, -1 or 1-5", tone=Tone.ERROR))
            return
        await self.arena.handle(self._event(
            ReactionChanged, channel=answer.message_channel or CHANNEL, message_id=answer.message_id or "",
            emoji=emoji, added=added), self.surface)
        self.surface.console.print(f"{'rated' if added else 'retracted'} {label.upper()} {value}")

    def show_models(self) -> None:
        for item in self.arena.availability():
            state = "[green]available[/green]" if item.available else f"[red]unavailable[/red] ({item.reason})"
            self.surface.console.print(f"  {item.contestant.id:<16} {item.contestant.name:<28} {state}")

    def _answer(self, label: str):  # type: ignore[no-untyped-def]
        if self.last is None:
            self.surface.console.print("[red]Ask a task first.[/red]")
            return None
        for answer in self.last.answers:
            if answer.label == label.strip().upper():
                return answer
        self.surface.console.print(f"[red]No answer {label!r} in the last task.[/red]")
        return None

    def _event(self, kind, **fields):  # type: ignore[no-untyped-def]
        return kind(platform=PLATFORM, user=self.user, notify=self.notify, **fields)
