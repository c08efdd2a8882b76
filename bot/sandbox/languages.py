"""The languages the sandbox runs, and the names (fence tags, CLI flags) that mean each."""

from __future__ import annotations

RUNNABLE = ("python", "javascript", "bash")

_ALIASES = {
    "python": "python", "py": "python", "python3": "python", "py3": "python", "pycon": "python",
    "javascript": "javascript", "js": "javascript", "node": "javascript", "nodejs": "javascript",
    "mjs": "javascript", "cjs": "javascript",
    "bash": "bash", "sh": "bash", "shell": "bash", "zsh": "bash",
}


def normalize_language(tag: str) -> str | None:
    """Map a fence tag or CLI name to a runnable language, or None."""
    return _ALIASES.get(tag.strip().lower())
