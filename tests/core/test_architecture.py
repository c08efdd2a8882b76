"""The core stays platform-free: importing any bot/ module loads neither Slack nor Discord code."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import bot
for module in pkgutil.walk_packages(bot.__path__, "bot."):
    importlib.import_module(module.name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in {"slack_bolt", "slack_sdk", "discord"})
print(",".join(leaked))
"""


def test_core_modules_import_no_chat_platform_library():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_sql_lives_in_storage():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for folder in ("bot", "adapters")
        for path in (root / folder).rglob("*.py")
        if any(token in path.read_text() for token in ("from sqlmodel import", "from sqlalchemy import", "session.exec("))
    ]
    assert offenders == []


def test_core_imports_neither_adapters_nor_the_composition_root():
    """bot/ is the core: the wiring (app/) and the platforms (adapters/) depend on it, never the reverse."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"^\s*(from|import)\s+(adapters|app)(\.|\s)", re.MULTILINE)
    offenders = [str(p.relative_to(root)) for p in (root / "bot").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
