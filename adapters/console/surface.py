"""The console surface: the core's messages as panels, a task's answers streaming side by side."""

from __future__ import annotations

import itertools
import logging
import uuid
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from adapters.console.view import LiveTaskView, final_view, render_message
from bot.config import data_dir
from bot.messages import Message
from bot.surface import Destination, EditRate, MessageRef

PLATFORM = "console"
RATING_HINT = "Rate an answer with `rate <label> +1` (or -1, or 1 to 5 stars)."
log = logging.getLogger(__name__)


class ConsoleSurface:
    """Prints messages as panels; between :meth:`begin` and :meth:`end` one task is drawn live.

    ``interactive`` is False for one-shot output (`codegen-bot ask`): no hint about console
    commands, which cannot follow. Attachments (a leaderboard chart, a run's full output) are
    written to files under ``attachments_dir`` (default: ``$CODEGEN_HOME/console``) and their
    paths printed.
    """

    platform = PLATFORM
    edit_rate: EditRate | None = None  # a terminal takes any number of edits
    workspace = ""

    def __init__(
        self, console: Console | None = None, *, interactive: bool = True, attachments_dir: Path | None = None
    ) -> None:
        self.console = console or Console()
        self.interactive = interactive
        self.rating_hint = RATING_HINT if interactive else ""  # read by the core for the task header
        self.attachments_dir = attachments_dir
        self.messages: dict[MessageRef, Message] = {}
        self.live: Live | None = None
        self.task_id: int | None = None  # the task being drawn live, once its header is posted
        # Unique across runs: a rating names its answer by message id, and the database keeps
        # every earlier run's answers (ids that restarted at 1 made `rate A` hit an old task).
        self._prefix = f"c{uuid.uuid4().hex[:12]}-"
        self._ids = itertools.count(1)
        self._header: MessageRef | None = None
        self._answers: list[MessageRef] = []

    async def post(self, where: Destination, message: Message) -> MessageRef:
        ref = MessageRef(where.channel, f"{self._prefix}{next(self._ids)}", where.thread)
        self.messages[ref] = message
        if self.live is not None and message.task_id is not None and self._header is None:
            self._header, self.task_id = ref, message.task_id
        elif self.live is not None and self._header is not None and where.thread is not None:
            self._answers.append(ref)
        else:
            self.print_message(message)
            return ref
        self._refresh()
        return ref

    async def edit(self, ref: MessageRef, message: Message) -> None:
        if ref not in self.messages:
            log.debug("edit of %s ignored: not a message of this console run", ref.message_id)
            return
        self.messages[ref] = message
        if self.live is not None and (ref == self._header or ref in self._answers):
            self._refresh()
        else:
            self.print_message(message)  # e.g. a Run's result replacing its "running…" line

    async def open_thread(self, parent: MessageRef, name: str) -> Destination:
        return Destination(parent.channel, parent.message_id)

    async def reply_privately(self, reply_to: str, message: Message) -> None:
        """In a terminal everything is private: print it."""
        self.console.print(render_message(message))

    def begin(self) -> None:
        """Start drawing one task live (its header and answers, as the core posts them)."""
        self.end()
        self._header, self._answers, self.task_id = None, [], None
        self.live = Live(self._live_view(), console=self.console, refresh_per_second=4,
                         transient=True, vertical_overflow="crop")
        self.live.start()

    def end(self) -> None:
        """Stop the live view and print the task in full: its header, then every answer."""
        if self.live is None:
            return
        self.live.stop()
        self.live = None
        if self._header is not None:
            header = self.messages[self._header]
            answers = [self.messages[ref] for ref in self._answers]
            self.console.print(final_view(header, answers, self.console.size.width))

    def print_message(self, message: Message) -> None:
        """Print one message as a panel (its attachments saved to files first)."""
        self.console.print(render_message(message, self._save_attachments(message)))

    def _live_view(self) -> LiveTaskView:
        header = self.messages.get(self._header) if self._header is not None else None
        status = "Ctrl-C cancels the task" if self.interactive else ""
        return LiveTaskView(header, [self.messages[ref] for ref in self._answers], status)

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._live_view())

    def _save_attachments(self, message: Message) -> list[Path]:
        saved: list[Path] = []
        if not message.attachments:
            return saved
        folder = self.attachments_dir or data_dir() / "console"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for attachment in message.attachments:
            name = Path(attachment.filename).name or "attachment"
            path = folder / f"{Path(name).stem}-{stamp}{Path(name).suffix}"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                for n in itertools.count(2):
                    if not path.exists():
                        break
                    path = folder / f"{Path(name).stem}-{stamp}-{n}{Path(name).suffix}"
                path.write_bytes(attachment.content)
            except OSError as exc:
                self.console.print(Text(f"could not save {name} in {folder}: {exc.strerror or exc}", style="red"))
                break
            saved.append(path)
        return saved
