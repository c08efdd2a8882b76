"""Reading the console's input, and Ctrl-C.

In a terminal the line is read by prompt_toolkit: it reads keys in raw mode, so a paste is not cut
at the terminal's line limit (4 KiB in cooked mode), a bracketed paste of several lines arrives as
one input, and Ctrl-C at the prompt is a key that ends the console at once. Without a terminal
(piped input, tests) lines are read by a plain function in a daemon thread, which an exit never
waits for.

While a command runs the terminal is in cooked mode, where Ctrl-C is SIGINT: :func:`ctrl_c_calls`
routes it to a callback (cancel that command) instead of ending the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator

Reader = Callable[[str], Awaitable[str]]


class Interrupted(Exception):
    """Ctrl-C while waiting for input."""


@contextlib.contextmanager
def ctrl_c_calls(callback: Callable[[], object]) -> Iterator[None]:
    """Inside the block, SIGINT calls ``callback`` on the event loop; the previous handler is restored after.

    Where the loop cannot take signal handlers (not the main thread, Windows) nothing changes.
    """
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def thread_reader(read: Callable[[str], str] = input) -> Reader:
    """A reader calling ``read(prompt)`` in a daemon thread; Ctrl-C meanwhile raises :class:`Interrupted`."""

    async def read_line(prompt: str) -> str:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()

        def settle(value: str | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value or "")

        def work() -> None:
            try:
                value = read(prompt)
            except BaseException as exc:  # EOFError and the like travel to the awaiting side
                loop.call_soon_threadsafe(settle, None, exc)
            else:
                loop.call_soon_threadsafe(settle, value, None)

        threading.Thread(target=work, name="console-input", daemon=True).start()
        interrupted = False

        def interrupt() -> None:
            nonlocal interrupted
            interrupted = True
            future.cancel()

        with ctrl_c_calls(interrupt):
            try:
                return await future
            except asyncio.CancelledError:
                if interrupted:
                    raise Interrupted from None
                raise

    return read_line


def terminal_reader() -> Reader:
    """A prompt_toolkit reader (line editing, history, bracketed paste, Ctrl-C as a key)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.output import create_output

    output = create_output()
    # No cursor-position requests: they only size completion menus, which the console has none
    # of, and a terminal that does not answer them gets a warning printed at every prompt.
    output.enable_cpr = False  # type: ignore[attr-defined]
    session: PromptSession[str] = PromptSession(output=output)

    async def read_line(prompt: str) -> str:
        try:
            return await session.prompt_async(prompt)
        except KeyboardInterrupt:
            raise Interrupted from None
        finally:
            _blocking_again()

    return read_line


def _blocking_again() -> None:
    """Put the terminal back in blocking mode after a prompt.

    Reading the prompt leaves the terminal's file non-blocking, and stdout shares it: a large
    print to a terminal that reads slowly (a task's final answers) would then fail part-way and
    lose output.
    """
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.set_blocking(stream.fileno(), True)


def default_reader() -> Reader:
    """prompt_toolkit when both ends are a terminal, else plain lines from stdin."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return terminal_reader()
    return thread_reader(input)
