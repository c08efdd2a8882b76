"""Render core messages as Slack Block Kit + mrkdwn that can never ping anyone.

Every piece of text from a message is escaped (``&``, ``<``, ``>``), so ``<!channel>``,
``<!here>``, ``<@U…>`` and ``<!subteam^…>`` show literally; bare ``@channel``/``@here``/
``@everyone`` get a zero-width space. CommonMark emphasis, headings and links become mrkdwn.
Long text is split into section blocks on code-fence boundaries (a code block too long for one
section is closed and reopened); what still does not fit in one message is reported as
``overflow`` so the surface can attach the full text as a file instead of cutting it silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.messages import Action, Message

SECTION_LIMIT = 3000  # Block Kit section text
HEADER_LIMIT = 150  # header block plain_text
FIELD_LIMIT = 2000  # section field text
BUTTON_LIMIT = 75  # button text
FALLBACK_LIMIT = 300  # top-level `text` (notifications); msg_too_long appears near 4k
MAX_BLOCKS = 50
ACTION_PREFIX = "codegen_"

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*$", re.MULTILINE)
_BARE_PINGS = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_INLINE_CODE = re.compile(r"(`+)([^\n]+?)\1")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s|]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_BOLD_MARK = "\x00B\x00"


def escape(text: str) -> str:
    """Escape text for any mrkdwn field: control characters and mention syntax shown literally."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BARE_PINGS.sub(lambda m: "@\u200b" + m.group(1), text)


def escape_cut(text: str, limit: int) -> str:
    """:func:`escape`, then cut to at most ``limit`` characters (with an ellipsis), never inside
    an entity: Slack counts the escaped text against its limits."""
    out = escape(text)
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def plain(text: str, limit: int) -> str:
    """Text for a plain_text object (never parsed for mentions), cut to ``limit`` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _prose_to_mrkdwn(text: str) -> str:
    """Convert CommonMark prose (no fenced code) to escaped mrkdwn, leaving inline code alone."""
    out: list[str] = []
    pos = 0
    for m in _INLINE_CODE.finditer(text):
        out.append(_inline_to_mrkdwn(text[pos : m.start()]))
        out.append("`" + escape(m.group(2).replace("`", "'")) + "`")
        pos = m.end()
    out.append(_inline_to_mrkdwn(text[pos:]))
    return "".join(out)


def _inline_to_mrkdwn(text: str) -> str:
    text = escape(text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    return text.replace(_BOLD_MARK, "*")


@dataclass(frozen=True)
class _Segment:
    code: bool
    text: str  # prose: CommonMark; code: the code itself (no fences)


def _segments(markdown: str) -> list[_Segment]:
    """Split CommonMark into prose and fenced-code segments (an unclosed fence runs to the end)."""
    segments: list[_Segment] = []
    pos = 0
    while True:
        opening = _FENCE.search(markdown, pos)
        if opening is None:
            break
        fence = opening.group(1)
        closing_re = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        body_start = opening.end() + 1
        closing = closing_re.search(markdown, body_start) if body_start <= len(markdown) else None
        if opening.start() > pos:
            segments.append(_Segment(False, markdown[pos : opening.start()]))
        body_end = closing.start() if closing else len(markdown)
        segments.append(_Segment(True, markdown[body_start:body_end].rstrip("\n")))
        if closing is None:
            pos = len(markdown)
            break
        pos = closing.end() + 1
    if pos < len(markdown):
        segments.append(_Segment(False, markdown[pos:]))
    return [s for s in segments if s.code or s.text.strip()]


def _hard_split(text: str, limit: int) -> list[str]:
    """Split on line boundaries (or anywhere, for a single over-long line) into pieces ≤ limit."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _segment_pieces(segment: _Segment, limit: int) -> list[str]:
    """mrkdwn pieces for one segment, each ≤ limit; code stays fenced in every piece."""
    if segment.code:
        body = escape(segment.text).replace("```", "`\u200b``")  # a fence inside code can't end it
        if not body.strip():
            return []
        wrapped = f"```\n{body}\n```"
        if len(wrapped) <= limit:
            return [wrapped]
        return [f"```\n{p}\n```" for p in _hard_split(body, limit - 8)]
    mrkdwn = _prose_to_mrkdwn(segment.text.strip("\n"))
    if len(mrkdwn) <= limit:
        return [mrkdwn]
    out: list[str] = []
    for paragraph in _hard_split(mrkdwn, limit):
        out.append(paragraph)
    return out


def to_sections(markdown: str, limit: int = SECTION_LIMIT) -> list[str]:
    """CommonMark → mrkdwn chunks of at most ``limit`` chars, split on code-fence boundaries."""
    chunks: list[str] = []
    current = ""
    for segment in _segments(markdown):
        for piece in _segment_pieces(segment, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def action_id(action: Action) -> str:
    """The Block Kit ``action_id`` for a core action, e.g. ``codegen_run``."""
    return f"{ACTION_PREFIX}{action.kind.value}"


@dataclass
class Rendered:
    """A message ready for chat.postMessage/chat.update; ``overflow`` is text that did not fit."""

    text: str
    blocks: list[dict[str, Any]]
    overflow: str | None = None
    attachments: list[Any] = field(default_factory=list)


def fallback_text(message: Message) -> str:
    """Short escaped top-level text: what notifications and screen readers show."""
    source = message.title or message.text or message.footer or "…"
    return escape(plain(source, FALLBACK_LIMIT)) or "…"


def render(message: Message, *, max_blocks: int = MAX_BLOCKS) -> Rendered:
    """Render a core message as Block Kit. Never exceeds Slack's block limits."""
    head: list[dict[str, Any]] = []
    tail: list[dict[str, Any]] = []
    if message.title:
        head.append({"type": "header", "text": {"type": "plain_text", "text": plain(message.title, HEADER_LIMIT),
                                                  "emoji": True}})
    fields = [
        {"type": "mrkdwn", "text": f"*{escape_cut(plain(f.name, 100), 100)}*\n{escape_cut(f.value, FIELD_LIMIT - 110)}"}
        for f in message.fields
    ]
    for start in range(0, min(len(fields), 20), 10):
        tail.append({"type": "section", "fields": fields[start : start + 10]})
    if message.footer:
        footer = to_sections(message.footer, SECTION_LIMIT)
        if footer:
            tail.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer[0]}]})
    if message.actions:
        tail.append({"type": "actions", "elements": _buttons(message.actions)})

    sections = to_sections(message.text) if message.text.strip() else []
    room = max_blocks - len(head) - len(tail)
    overflow: str | None = None
    if len(sections) > room:
        overflow = message.text
        sections = sections[: room - 1] + [
            "_The answer is too long for one Slack message: the full text is attached as a file._"
        ]
    if not sections and not head and not fields:
        sections = ["…"]
    blocks = head + [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections] + tail
    return Rendered(text=fallback_text(message), blocks=blocks, overflow=overflow,
                    attachments=list(message.attachments))


def _buttons(actions: list[Action]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    buttons: list[dict[str, Any]] = []
    for action in actions[:25]:
        aid = action_id(action)
        if aid in seen:
            aid = f"{aid}_{action.target_id}"
        seen.add(aid)
        button: dict[str, Any] = {
            "type": "button",
            "action_id": aid,
            "text": {"type": "plain_text", "text": plain(action.label, BUTTON_LIMIT) or action.kind.value.title(),
                     "emoji": True},
            "value": str(action.target_id),
        }
        if action.kind.value == "run":
            button["style"] = "primary"
        buttons.append(button)
    return buttons


def home_view(message: Message) -> dict[str, Any]:
    """An App Home view (``views.publish``) showing a core message."""
    rendered = render(message, max_blocks=100)
    return {"type": "home", "blocks": rendered.blocks}
