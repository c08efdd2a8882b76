"""How the console draws messages: panels, and one task's answers side by side.

While answers stream, each gets a fixed-height panel showing its newest lines, in as many columns
as the terminal's width allows, so every model stays visible even at 80×24. When the task ends
the answers are printed in full (side by side where each still gets a readable width).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from bot.messages import Message, Tone

STYLE = {Tone.INFO: "cyan", Tone.PROGRESS: "yellow", Tone.SUCCESS: "green", Tone.ERROR: "red"}
MIN_COLUMN = 28  # narrowest streaming column; fewer columns (more rows) below that
MIN_FINAL_COLUMN = 60  # narrowest column for finished answers side by side; else they stack
CHROME_ROWS = 3  # the live view's header line, status line and the line the cursor rests on


def message_body(message: Message, saved: Sequence[Path] = ()) -> list[RenderableType]:
    """A message's text (Markdown), fields and attachments (as the files they were saved to).

    Buttons are not drawn: the console has commands instead (`run B`, `rate B +1`).
    """
    body: list[RenderableType] = [Markdown(message.text)] if message.text else []
    for item in message.fields:
        body.append(Text.assemble((f"{item.name}: ", "bold"), item.value))
    for attachment, path in zip(message.attachments, saved, strict=False):
        body.append(Text(f"📎 {attachment.title or attachment.filename} saved to {path}", style="dim"))
    for attachment in message.attachments[len(saved):]:
        body.append(Text(f"📎 {attachment.filename} ({len(attachment.content):,} bytes, not saved)", style="dim"))
    return body


def render_message(message: Message, saved: Sequence[Path] = ()) -> Panel:
    """A core message as a rich panel (text as Markdown, footer as subtitle)."""
    return Panel(
        Group(*message_body(message, saved)),
        title=_plain(message.title),
        subtitle=_plain(message.footer),
        border_style=STYLE.get(message.tone, "cyan"),
    )


class Tail:
    """The last lines of a renderable that fit the height it is given: a streaming answer's newest text."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options.update(height=None), pad=False)
        if options.height is not None:
            lines = lines[max(0, len(lines) - options.height):]
        for line in lines:
            yield from line
            yield Segment.line()


class LiveTaskView:
    """One task as it streams: a header line, every answer's tail in a grid, a status line.

    It is a snapshot (the surface builds a new one on every change) laid out when drawn, so it
    fits the terminal's size at that moment.
    """

    def __init__(self, header: Message | None, answers: Sequence[Message], status: str = "") -> None:
        self.header = header
        self.answers = list(answers)
        self.status = status

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield header_line(self.header)
        if self.answers:
            height = max(3, options.size.height - CHROME_ROWS)
            yield streaming_grid(self.answers, options.max_width, height)
        done = sum(1 for m in self.answers if m.tone != Tone.PROGRESS)
        progress = f"{done}/{len(self.answers)} answers finished" if self.answers else "asking the models…"
        status = progress + (f" · {self.status}" if self.status else "")
        yield Text(status, style="dim", no_wrap=True, overflow="ellipsis")


def header_line(header: Message | None) -> Text:
    """The task's title and the first line of its text, on one line."""
    if header is None:
        return Text("")
    first = next((line.lstrip("> ").strip() for line in header.text.splitlines() if line.strip(">").strip()), "")
    line = Text.assemble((header.title or "", "bold"), " · " if first else "", first)
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


def grid_shape(count: int, width: int, min_column: int = MIN_COLUMN) -> tuple[int, int]:
    """(columns, rows) for ``count`` panels: as many columns as fit ``min_column``, rows balanced."""
    columns = max(1, min(count, width // min_column))
    rows = math.ceil(count / columns)
    return math.ceil(count / rows), rows


def streaming_grid(answers: Sequence[Message], width: int, height: int) -> Table:
    """Every answer's newest lines in fixed-height panels that together fit ``width`` × ``height``."""
    columns, rows = grid_shape(len(answers), width)
    panel_height = max(3, height // rows)
    panels = [
        Panel(
            Tail(Group(*message_body(m))),
            title=_plain(m.title),
            subtitle=_plain(m.footer),
            border_style=STYLE.get(m.tone, "cyan"),
            height=panel_height,
        )
        for m in answers
    ]
    return _grid(panels, columns)


def final_view(header: Message | None, answers: Sequence[Message], width: int) -> Group:
    """The finished task: its header, then every answer in full (side by side if each fits)."""
    parts: list[RenderableType] = [render_message(header)] if header is not None else []
    panels = [render_message(m) for m in answers]
    if len(panels) > 1 and width // len(panels) >= MIN_FINAL_COLUMN:
        parts.append(_grid(panels, len(panels)))
    else:
        parts.extend(panels)
    return Group(*parts)


def _grid(cells: Iterable[RenderableType], columns: int) -> Table:
    grid = Table.grid(expand=True)
    for _ in range(columns):
        grid.add_column(ratio=1)
    row: list[RenderableType] = []
    for cell in cells:
        row.append(cell)
        if len(row) == columns:
            grid.add_row(*row)
            row = []
    if row:
        grid.add_row(*row, *[Text("")] * (columns - len(row)))
    return grid


def _plain(text: str | None) -> Text | None:
    """Titles and footers as literal text (so `[...]` is not read as rich markup)."""
    return Text(text, no_wrap=True, overflow="ellipsis") if text else None
