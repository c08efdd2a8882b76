"""Platform-neutral messages: what the core asks an adapter to show.

Text is CommonMark (fenced code blocks allowed). Adapters render it for their platform (Slack
mrkdwn/Block Kit, Discord content/embeds/views, rich console) and are responsible for making
every piece of text incapable of pinging anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActionKind(StrEnum):
    """Buttons the core can attach to a message."""

    RUN = "run"
    RETRY = "retry"
    REVEAL = "reveal"


@dataclass(frozen=True)
class Action:
    """A button: what it does and on which answer (or task, for REVEAL)."""

    kind: ActionKind
    target_id: int
    label: str


@dataclass(frozen=True)
class Field:
    """A short name/value pair shown beside the text (e.g. 'latency' / '1.2 s')."""

    name: str
    value: str


@dataclass(frozen=True)
class Attachment:
    """A file to attach (full run output, a leaderboard chart)."""

    filename: str
    content: bytes
    title: str | None = None


class Tone(StrEnum):
    """How the adapter may colour or mark a message."""

    INFO = "info"
    PROGRESS = "progress"
    SUCCESS = "success"
    ERROR = "error"


@dataclass
class Message:
    """A platform-neutral message."""

    text: str
    title: str | None = None
    fields: list[Field] = field(default_factory=list)
    footer: str | None = None
    actions: list[Action] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    tone: Tone = Tone.INFO
    marker: str | None = None  # a tag the surface stores with the post, to find it again (find_recent)
    task_id: int | None = None  # set on a task's header: lets an adapter act on the task (console: Ctrl-C cancels it)

    def plain(self) -> str:
        """All visible text in one string (for logs, the console and tests)."""
        parts = [p for p in (self.title, self.text) if p]
        parts += [f"{f.name}: {f.value}" for f in self.fields]
        if self.footer:
            parts.append(self.footer)
        return "\n".join(parts)
