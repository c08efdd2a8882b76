"""Core :class:`~bot.messages.Message` → Discord content, embed and files.

Content over Discord's 2,000-character limit is split into several messages, preferring the
boundaries of fenced code blocks (a block cut in two is closed and reopened with its language).
Beyond :data:`MAX_PIECES` pieces a finished message is shortened and the full text attached as
``answer.md``. Nothing here pings: senders pass ``AllowedMentions.none()``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import discord

from bot.messages import Message, Tone

CONTENT_LIMIT = 2000
MAX_PIECES = 4
FIELD_VALUE_LIMIT = 1024
FIELD_NAME_LIMIT = 256
FOOTER_LIMIT = 2048
MAX_FIELDS = 25
EMBED_TOTAL_LIMIT = 6000  # field names and values plus footer, per message

COLOURS: dict[Tone, discord.Colour] = {
    Tone.INFO: discord.Colour.blurple(),
    Tone.PROGRESS: discord.Colour.light_grey(),
    Tone.SUCCESS: discord.Colour.green(),
    Tone.ERROR: discord.Colour.red(),
}


@dataclass
class Rendered:
    """A message ready for Discord: ``pieces[0]`` carries the embed, files and buttons."""

    pieces: list[str]
    embed: discord.Embed | None = None
    files: list[tuple[str, bytes]] = field(default_factory=list)

    def discord_files(self) -> list[discord.File]:
        """Fresh ``discord.File`` objects (they are consumed by each send)."""
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.files]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_fence(line: str) -> bool:
    return line.lstrip().startswith("```")


def split_content(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters.

    Cuts go between code blocks when a boundary lies in the second half of the piece; otherwise
    at a line end, closing an open fence in this piece and reopening it in the next.
    """
    if len(text) <= limit:
        return [text]
    close = "```"
    pieces: list[str] = []
    cur = ""
    fence: str | None = None  # the opening fence line of the block we are in
    boundary = 0  # index in cur where a cut leaves no block open
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        budget = limit - 200  # a line longer than this is cut hard
        while len(line) > budget:
            lines.append(line[:budget])
            line = line[budget:]
        lines.append(line)
    for line in lines:
        reserve = len(close) + 1 if fence or _is_fence(line) else 0
        if cur and len(cur) + len(line) + reserve > limit:
            if boundary >= limit // 2:
                pieces.append(cur[:boundary].rstrip("\n") or cur[:boundary])
                cur = cur[boundary:]
                boundary = 0 if fence else len(cur)
            if cur and len(cur) + len(line) + reserve > limit:
                if fence:
                    pieces.append(cur + ("" if cur.endswith("\n") else "\n") + close)
                    cur = fence
                    boundary = 0
                else:
                    pieces.append(cur.rstrip("\n") or cur)
                    cur, boundary = "", 0
        if _is_fence(line):
            if fence is None:
                boundary = len(cur)
                fence = line if line.endswith("\n") else line + "\n"
                cur += line
            else:
                cur += line
                fence = None
                boundary = len(cur)
            continue
        cur += line
        if fence is None:
            boundary = len(cur)
    if cur.strip():
        pieces.append(cur)
    return pieces


def _embed(message: Message) -> discord.Embed | None:
    # The marker (a weekly post's week, found again by find_recent) ends the footer, never cut off.
    marker = f" · {message.marker}" if message.marker and message.footer else (message.marker or "")
    footer = (_truncate(message.footer, FOOTER_LIMIT - len(marker)) if message.footer else "") + marker
    if not message.fields and not footer:
        return None
    embed = discord.Embed(colour=COLOURS.get(message.tone, discord.Colour.blurple()))
    fields = [(_truncate(f.name, FIELD_NAME_LIMIT) or "\u200b", _truncate(f.value, FIELD_VALUE_LIMIT) or "\u200b")
              for f in message.fields[:MAX_FIELDS]]
    budget = EMBED_TOTAL_LIMIT - len(footer)
    if sum(len(n) + len(v) for n, v in fields) > budget:  # every field gets an equal share
        share = budget // len(fields)
        fields = [(_truncate(n, share // 4), _truncate(v, share - min(len(n), share // 4))) for n, v in fields]
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=True)
    if footer:
        embed.set_footer(text=footer)
    return embed


def render(message: Message) -> Rendered:
    """Render a core message for Discord."""
    text = message.text or ""
    body = f"**{message.title}**\n{text}" if message.title else text
    body = body if body.strip() else "\u200b"
    files = [(a.filename, a.content) for a in message.attachments]
    pieces = split_content(body)
    if len(pieces) > MAX_PIECES:
        if message.tone == Tone.PROGRESS:
            pieces = pieces[: MAX_PIECES - 1] + ["…"]
        else:
            note = "\n\n*(full text attached as answer.md)*"
            pieces = [split_content(body, CONTENT_LIMIT - len(note))[0] + note]
            files.append(("answer.md", body.encode()))
    return Rendered(pieces=pieces, embed=_embed(message), files=files)
