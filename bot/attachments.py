"""Files attached to a request, as context for the models: which are read, which are skipped, why.

An adapter lists a message's files as :class:`~bot.events.AttachedFile` and fetches only those
:func:`to_read` picks (images, known binaries and files over :data:`MAX_FILE_BYTES` are never
downloaded; at most :data:`MAX_FILES` are). :func:`screen` then names every file that is not
used ("skipped diagram.png: images are not sent to models", "could not fetch notes.txt: HTTP
404"), :func:`fit_context` keeps the text files that fit the smallest chosen model's context, and
:func:`user_message` puts them after the task as fenced blocks with their names. The notes go in
the task's header (:func:`header_fields`); the kept files are stored on the task.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bot.events import AttachedFile
from bot.messages import Field

MAX_FILES = 10
MAX_FILE_BYTES = 200 * 1024
CHARS_PER_TOKEN = 4  # the same rough measure as the budget's estimate (bot/budget.py)
INTRO = "Attached files:"
_IMAGE = {"png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "ico", "heic", "svg", "avif"}
_BINARY = {"pdf", "zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "jar", "whl", "exe", "dll", "so",
           "dylib", "bin", "o", "a", "class", "pyc", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
           "mp3", "mp4", "mov", "wav", "ogg", "webm", "avi", "mkv", "ttf", "otf", "woff", "woff2",
           "sqlite", "db", "parquet", "pkl", "npy", "onnx", "gguf"}
_LANGUAGE = {"py": "python", "js": "javascript", "mjs": "javascript", "cjs": "javascript", "ts": "typescript",
             "tsx": "tsx", "jsx": "jsx", "go": "go", "rs": "rust", "java": "java", "kt": "kotlin", "rb": "ruby",
             "php": "php", "c": "c", "h": "c", "cc": "cpp", "cpp": "cpp", "hpp": "cpp", "cs": "csharp",
             "swift": "swift", "sh": "bash", "bash": "bash", "sql": "sql", "json": "json", "yaml": "yaml",
             "yml": "yaml", "toml": "toml", "xml": "xml", "html": "html", "css": "css", "md": "markdown",
             "r": "r", "tf": "hcl", "ini": "ini", "csv": "csv", "dockerfile": "dockerfile"}
_BACKTICKS = re.compile(r"`{3,}")


@dataclass(frozen=True)
class TextFile:
    """A file the models get: its name and its text."""

    name: str
    text: str

    def to_json(self) -> dict[str, str]:
        """The form stored in ``Task.files``."""
        return {"name": self.name, "text": self.text}


@dataclass
class Screened:
    """A request's files after :func:`screen`: those read (UTF-8 text) and a note for each other."""

    readable: list[AttachedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def kilobytes(size: int) -> str:
    """'200 KB', '1.5 KB' (1 KB = 1,024 bytes), '9 bytes'."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    return f"{size / 1024:,.1f}".removesuffix(".0") + " KB"


def skip_reason(name: str, size: int | None, mimetype: str | None) -> str | None:
    """Why a file is not read, from what the platform says of it (None: read it)."""
    ext = _extension(name)
    kind = (mimetype or "").split(";")[0].strip().lower()
    if kind.startswith("image/") or ext in _IMAGE:
        return "images are not sent to models"
    if kind.startswith(("audio/", "video/", "font/")) or ext in _BINARY or kind in (
            "application/pdf", "application/zip", "application/octet-stream"):
        return "not a text file"
    if size is not None and size > MAX_FILE_BYTES:
        return f"{kilobytes(size)}, over the {kilobytes(MAX_FILE_BYTES)} a file may have"
    return None


def to_read(files: Sequence[tuple[str, int | None, str | None]]) -> list[bool]:
    """For each file (name, size, mimetype) of a message, whether to fetch it: the first
    :data:`MAX_FILES` that :func:`skip_reason` lets through."""
    wanted, out = 0, []
    for name, size, mimetype in files:
        take = skip_reason(name, size, mimetype) is None and wanted < MAX_FILES
        wanted += take
        out.append(take)
    return out


def screen(files: Sequence[AttachedFile]) -> Screened:
    """Split a request's files into the readable ones and notes naming every other one and why."""
    result = Screened()
    picked = to_read([(f.name, f.size, f.mimetype) for f in files])
    for attached, read in zip(files, picked, strict=True):
        reason = skip_reason(attached.name, attached.size, attached.mimetype)
        if reason is None and not read:
            reason = f"only the first {MAX_FILES} files of a message are read"
        if reason is None and attached.error:
            result.notes.append(f"could not fetch {attached.name}: {attached.error}")
            continue
        if reason is None:
            reason = skip_reason(attached.name, len(attached.content), None) or _not_text(attached.content)
        if reason is None:
            result.readable.append(attached)
        else:
            result.notes.append(f"skipped {attached.name}: {reason}")
    return result


def fit_context(files: Sequence[AttachedFile], room_tokens: int, model: str) -> tuple[list[TextFile], list[str]]:
    """The files (in order) whose blocks fit in ``room_tokens`` of prompt, and a note for each that
    does not ("skipped big.py: it would not fit SmolLM2's context")."""
    kept: list[TextFile] = []
    notes: list[str] = []
    used = tokens(user_message("", []))
    for attached in files:
        text_file = TextFile(_safe_name(attached.name), attached.content.decode("utf-8-sig"))
        need = tokens(fenced(text_file)) + 1
        if used + need <= room_tokens:
            kept.append(text_file)
            used += need
        else:
            notes.append(f"skipped {text_file.name}: the files would not fit {model}'s context")
    return kept, notes


def tokens(text: str) -> int:
    """Roughly how many tokens ``text`` is (characters / 4, rounded up)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def user_message(text: str, files: Sequence[TextFile] | None) -> str:
    """The task as the models get it: its text, then each attached file as a fenced block."""
    if not files:
        return text
    return f"{text}\n\n{INTRO}\n\n" + "\n\n".join(fenced(f) for f in files)


def stored(files: Sequence[dict[str, str]] | None) -> list[TextFile]:
    """The files stored on a task."""
    return [TextFile(str(f["name"]), str(f["text"])) for f in files or []]


def fenced(text_file: TextFile) -> str:
    """```` `name`: ```` and the file in a fence longer than any backtick run inside it."""
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(text_file.text)), default=2)
    fence = "`" * max(3, longest + 1)
    body = text_file.text.rstrip("\n")
    return f"`{text_file.name}`:\n{fence}{_LANGUAGE.get(_extension(text_file.name), '')}\n{body}\n{fence}"


def header_fields(kept: Sequence[TextFile], notes: Sequence[str]) -> list[Field]:
    """The task header's lines about its files: which the models got, and every one skipped, why."""
    out = []
    if kept:
        out.append(Field("Files sent to the models", ", ".join(
            f"{f.name} ({kilobytes(len(f.text.encode()))})" for f in kept)))
    if notes:
        out.append(Field("Files not sent", "; ".join(notes)))
    return out


def _not_text(content: bytes) -> str | None:
    if b"\x00" in content:
        return "not a text file"
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not a text file (not UTF-8)"
    return None


def _extension(name: str) -> str:
    path = PurePosixPath(name.lower())
    return path.suffix.removeprefix(".") or path.name


def _safe_name(name: str) -> str:
    """The file's base name without characters that would break the block's first line."""
    base = PurePosixPath(name.replace("\\", "/")).name or "file"
    return re.sub(r"[`\r\n]", "_", base)[:120]
