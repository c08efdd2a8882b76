"""Drive the real console (`codegen-bot serve`) in a pseudo-terminal and read its screen.

The child runs in a pty of a given size (pexpect); what it writes is fed to a terminal emulator
(pyte), so tests assert on the screen a person would see, after cursor moves and redraws. The
emulator answers cursor-position requests as a real terminal does.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte

REPO = Path(__file__).resolve().parents[2]
PROMPT = "codegen>"


def roster(base_url: str, *models: str) -> str:
    """A roster TOML naming each model served by the fake at ``base_url``."""
    return "".join(
        f'[[models]]\nid = "{m}"\nname = "{m.upper()}"\nbase_url = "{base_url}"\nmodel = "{m}"\n\n' for m in models
    )


def console_env(home: Path, roster_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a console run: its own CODEGEN_HOME and roster, no real keys."""
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_TOKEN")) and k not in ("COLUMNS", "LINES", "DATABASE_URL")}
    env.update(CODEGEN_HOME=str(home), CODEGEN_MODELS=str(roster_path), TERM="xterm-256color",
               CODEGEN_EDIT_INTERVAL="0.2", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class _Screen(pyte.Screen):
    """A pyte screen whose replies (cursor position reports) go back to the program."""

    def __init__(self, columns: int, lines: int, reply: Callable[[str], None]) -> None:
        super().__init__(columns, lines)
        self._reply = reply

    def write_process_input(self, data: str) -> None:
        self._reply(data)


class Terminal:
    """One console process in a ``columns`` × ``lines`` terminal."""

    def __init__(self, env: dict[str, str], columns: int = 80, lines: int = 24, args: tuple[str, ...] = ("serve",)) -> None:
        self.child = pexpect.spawn(sys.executable, ["-m", "app.cli", *args], env=env, cwd=str(REPO),
                                   dimensions=(lines, columns))
        self.screen = _Screen(columns, lines, lambda data: self.child.send(data.encode()))
        self.stream = pyte.ByteStream(self.screen)
        self.transcript = bytearray()

    # -- reading -------------------------------------------------------------------------------

    def pump(self, wait: float = 0.05) -> bool:
        """Feed what the program wrote to the screen; False once it has exited."""
        try:
            data = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.transcript += data
        self.stream.feed(data)
        return True

    @property
    def text(self) -> str:
        """The screen as lines of text."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def cursor_line(self) -> str:
        return self.screen.display[self.screen.cursor.y]

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        """Pump until ``predicate(screen text)`` holds; fail with the screen if it never does."""
        deadline = time.monotonic() + timeout
        alive = True
        while time.monotonic() < deadline and alive:
            alive = self.pump()
            if predicate(self.text):
                return self.text
        state = "exited" if not alive else "timed out"
        raise AssertionError(f"{state} waiting for {what}; the screen:\n{self.text}")

    def wait_for_text(self, needle: str, timeout: float = 30) -> str:
        return self.wait_for(lambda text: needle in text, repr(needle), timeout)

    def wait_for_prompt(self, timeout: float = 30) -> str:
        """Wait until the cursor rests on an empty `codegen>` prompt."""
        return self.wait_for(lambda _: self.cursor_line().rstrip() == PROMPT, "the prompt", timeout)

    # -- writing -------------------------------------------------------------------------------

    def type(self, line: str) -> None:
        """Type a line and press Enter."""
        self.child.send(line.encode() + b"\r")

    def send(self, data: str) -> None:
        self.child.send(data.encode())

    def paste(self, text: str) -> None:
        """Paste ``text`` as a terminal with bracketed paste does."""
        self.child.send(b"\x1b[200~" + text.encode() + b"\x1b[201~")

    # -- ending --------------------------------------------------------------------------------

    def wait_exit(self, timeout: float = 15) -> int:
        """Wait for the program to exit; its exit status."""
        deadline = time.monotonic() + timeout
        while self.pump():
            if time.monotonic() > deadline:
                raise AssertionError(f"the console did not exit; the screen:\n{self.text}")
        self.child.wait()
        return self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 0)

    def close(self) -> None:
        """Kill the program if it still runs."""
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)
