"""The roster: which contestants (model + settings) a task is sent to, read from `models.toml`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import ConfigError
from bot.local_model import unavailable_reason

LOCAL_BASE_URL = "local"
DEFAULT_SYSTEM_PROMPT = (
    "You are an expert software engineer. Answer the user's coding task with working code in "
    "fenced code blocks (with the language tag) and a brief explanation."
)
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class RosterError(ConfigError):
    """The roster file is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Contestant:
    """One contestant: an upstream model with its generation settings."""

    id: str
    name: str
    base_url: str
    model: str
    api_key_env: str | None = None
    temperature: float = 0.2
    max_tokens: int = 1024
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    price_in: float | None = None  # USD per 1M prompt tokens
    price_out: float | None = None  # USD per 1M completion tokens
    context_tokens: int = 8192  # bound on the prompt sent (a follow-up drops the oldest turns to fit)

    @property
    def is_local(self) -> bool:
        """True for the embedded SmolLM2 server started on first use."""
        return self.base_url == LOCAL_BASE_URL


@dataclass(frozen=True)
class Availability:
    """Whether a contestant can answer now, and if not, what to do about it."""

    contestant: Contestant
    available: bool
    reason: str = ""


@dataclass
class Roster:
    """The contestants, in file order, and where they came from."""

    contestants: list[Contestant]
    path: Path | None = None
    _by_id: dict[str, Contestant] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {c.id: c for c in self.contestants}

    def get(self, contestant_id: str) -> Contestant | None:
        """The contestant with this id, or None."""
        return self._by_id.get(contestant_id)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.contestants]


_FIELDS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "id": (str, True),
    "name": (str, False),
    "base_url": (str, True),
    "model": (str, True),
    "api_key_env": (str, False),
    "temperature": ((int, float), False),
    "max_tokens": (int, False),
    "system_prompt": (str, False),
    "price_in": ((int, float), False),
    "price_out": ((int, float), False),
    "context_tokens": (int, False),
}


def check_availability(roster: Roster, settings: Settings) -> list[Availability]:
    """Every contestant with whether it can answer now and, if not, what to do about it."""
    local_problem = unavailable_reason() if any(c.is_local for c in roster.contestants) else None
    result = []
    for contestant in roster.contestants:
        if contestant.is_local and local_problem:
            result.append(Availability(contestant, False, local_problem))
        elif contestant.api_key_env and not settings.secret(contestant.api_key_env):
            result.append(Availability(contestant, False, f"set {contestant.api_key_env}"))
        else:
            result.append(Availability(contestant, True))
    return result


def check_reachable(rows: list[Availability], timeout: float = 1.5) -> list[Availability]:
    """``rows`` with every available remote server probed: a server that refuses the connection
    or does not answer within ``timeout`` seconds (Ollama stopped, a typo in the port) is marked
    unreachable. Servers are probed at once, each host and port a single time."""
    import socket
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    def address(contestant: Contestant) -> tuple[str, int]:
        url = urlsplit(contestant.base_url)
        return url.hostname or "", url.port or (443 if url.scheme == "https" else 80)

    def probe(where: tuple[str, int]) -> str | None:
        try:
            socket.create_connection(where, timeout=timeout).close()
        except socket.gaierror:
            return f"cannot resolve {where[0]}"
        except TimeoutError:
            return f"no answer from {where[0]}:{where[1]} within {timeout:g} s"
        except OSError as error:
            return f"{where[0]}:{where[1]}: {error.strerror or error}"
        return None

    targets = sorted({address(r.contestant) for r in rows if r.available and not r.contestant.is_local})
    if not targets:
        return rows
    with ThreadPoolExecutor(max_workers=min(16, len(targets))) as pool:
        problems = dict(zip(targets, pool.map(probe, targets), strict=True))
    return [
        Availability(r.contestant, False, f"unreachable: {problems[address(r.contestant)]}")
        if r.available and not r.contestant.is_local and problems[address(r.contestant)] else r
        for r in rows
    ]


def load_roster(path: str | Path) -> Roster:
    """Read and validate a roster file. Raises :class:`RosterError` naming file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RosterError(f"{path}: cannot read roster file: {exc.strerror or exc}") from None
    return parse_roster(text, path)


def parse_roster(text: str, path: Path | None = None) -> Roster:
    """Parse roster TOML text (see :func:`load_roster`)."""
    where = str(path or "<roster>")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RosterError(f"{where}: invalid TOML: {exc}") from None
    entries = data.get("models")
    if not isinstance(entries, list) or not entries:
        raise RosterError(f"{where}: no [[models]] entries found")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise RosterError(f"{where}: [defaults] must be a table")
    contestants: list[Contestant] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        contestant = _contestant(entry, defaults, index, text, where)
        if contestant.id in seen:
            line = _line_of(text, index, "id")
            raise RosterError(f"{where}:{line}: field 'id': duplicate contestant id {contestant.id!r}")
        seen.add(contestant.id)
        contestants.append(contestant)
    return Roster(contestants, path)


def _contestant(entry: Any, defaults: dict[str, Any], index: int, text: str, where: str) -> Contestant:
    def fail(field_name: str, problem: str) -> RosterError:
        return RosterError(f"{where}:{_line_of(text, index, field_name)}: field '{field_name}': {problem}")

    if not isinstance(entry, dict):
        raise RosterError(f"{where}: models entry #{index + 1} is not a table")
    merged = {**{k: v for k, v in defaults.items() if k in _FIELDS and k != "id"}, **entry}
    for key in entry:
        if key not in _FIELDS:
            raise fail(key, f"unknown field (expected one of: {', '.join(_FIELDS)})")
    for key, (kind, required) in _FIELDS.items():
        if key not in merged:
            if required:
                raise fail(key, "missing (required)")
            continue
        value = merged[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise fail(key, f"expected {names}, got {type(value).__name__} {value!r}")
    if not _ID_PATTERN.match(merged["id"]):
        raise fail("id", f"{merged['id']!r} must be lowercase letters, digits, '.', '_' or '-'")
    if not 0 <= float(merged.get("temperature", 0.2)) <= 2:
        raise fail("temperature", "must be between 0 and 2")
    if not 1 <= int(merged.get("max_tokens", 1024)) <= 200_000:
        raise fail("max_tokens", "must be between 1 and 200000")
    if not 256 <= int(merged.get("context_tokens", 8192)) <= 10_000_000:
        raise fail("context_tokens", "must be between 256 and 10000000")
    base_url = merged["base_url"].rstrip("/")
    if base_url != LOCAL_BASE_URL and not base_url.startswith(("http://", "https://")):
        raise fail("base_url", f"must be an http(s) URL or \"{LOCAL_BASE_URL}\", got {base_url!r}")
    return Contestant(
        id=merged["id"],
        name=merged.get("name") or merged["id"],
        base_url=base_url,
        model=merged["model"],
        api_key_env=merged.get("api_key_env") or None,
        temperature=float(merged.get("temperature", 0.2)),
        max_tokens=int(merged.get("max_tokens", 1024)),
        system_prompt=merged.get("system_prompt", DEFAULT_SYSTEM_PROMPT),
        price_in=_opt_float(merged.get("price_in")),
        price_out=_opt_float(merged.get("price_out")),
        context_tokens=int(merged.get("context_tokens", 8192)),
    )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _line_of(text: str, index: int, field_name: str) -> int:
    """1-based line of `field_name` in the index-th [[models]] entry (or of its header)."""
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines) if re.match(r"^\s*\[\[\s*models\s*\]\]", line)]
    if index >= len(headers):
        return 1
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(lines)
    pattern = re.compile(rf"^\s*[\"']?{re.escape(field_name)}[\"']?\s*=")
    for n in range(start, end):
        if pattern.match(lines[n]):
            return n + 1
    return start + 1
