"""The hostile suite: snippets that try to escape, hang, flood or spy, each with its safe outcome.

All cases run once, concurrently (a few at a time), in a session fixture against the real bwrap
backend; each test then checks one case's outcome. The bot's own health is checked at the end.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.sandbox import cgroups
from bot.sandbox.errors import SandboxError
from bot.sandbox.local import LocalBackend
from bot.sandbox.render import render_result
from bot.sandbox.result import RunResult
from bot.sandbox.uids import strays
from tests.sandbox.conftest import TEST_LIMITS

CANARY = "xoxb-canary-0123456789-must-never-leak"
WALL = TEST_LIMITS.wall_s


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    check: Callable[[RunResult], None]
    language: str = "python"


def _timed_out(r: RunResult) -> None:
    assert r.timed_out and r.signal == "SIGKILL" and r.exit_code is None
    assert r.duration_ms < (WALL + 1.5) * 1000, "the wall limit must stop it promptly"


def _stdout_has(*needles: str) -> Callable[[RunResult], None]:
    def check(r: RunResult) -> None:
        for needle in needles:
            assert needle in r.stdout, f"{needle!r} not in {r.stdout!r} / {r.stderr[-300:]!r}"
    return check


def _memory(r: RunResult) -> None:
    assert r.memory_exceeded, (r.exit_code, r.signal, r.stderr[-300:])
    assert not r.ok


def _forked_at_most(limit: int) -> Callable[[RunResult], None]:
    def check(r: RunResult) -> None:
        line = next(line for line in r.stdout.splitlines() if line.startswith("forked"))
        assert int(line.split()[1]) < limit, line
    return check


def _fork_refused(r: RunResult) -> None:
    _timed_out(r)
    assert "Resource temporarily unavailable" in r.stderr, "the process cap refused forks"


def _storm(r: RunResult) -> None:
    line = next(line for line in r.stdout.splitlines() if line.startswith("refused"))
    started, errno = map(int, line.split()[1:3])
    assert started < TEST_LIMITS.processes and errno == 11  # EAGAIN


def _split_memory(r: RunResult) -> None:
    # each child stays under RLIMIT_AS; only the job-wide cgroup cap can catch them together
    assert r.memory_exceeded and not r.ok, r.stdout + r.stderr[-300:]


def _fs_writes(r: RunResult) -> None:
    assert r.stdout.count("refused") == 5, r.stdout
    assert "written" not in r.stdout
    assert not Path("/etc/codegen-pwned").exists() and not Path("/usr/codegen-pwned").exists()


def _tmpfs_full(r: RunResult) -> None:
    errno, total = map(int, r.stdout.split()[1:3])
    assert errno == 28 and total <= TEST_LIMITS.tmpfs_size  # ENOSPC at the tmpfs size


def _file_size(r: RunResult) -> None:
    errno, total = map(int, r.stdout.split()[1:3])
    assert errno == 27 and total <= TEST_LIMITS.file_size  # EFBIG at RLIMIT_FSIZE


def _flood(r: RunResult) -> None:
    assert r.truncated and not r.timed_out
    assert len(r.stdout.encode()) <= TEST_LIMITS.output_kept
    assert len(r.stderr.encode()) <= TEST_LIMITS.output_kept
    assert "too much output" in render_result(r, title="t").text


def _clean_text(r: RunResult) -> None:
    r.stdout.encode("utf-8")  # no lone surrogate survives decoding
    r.stderr.encode("utf-8")
    assert "ok" in r.stdout and "end" in r.stdout and "\ufffd" in r.stdout
    render_result(r, title="t")


def _segfault(r: RunResult) -> None:
    assert r.signal == "SIGSEGV" and r.exit_code is None
    assert "killed by SIGSEGV" in render_result(r, title="t").text


def _environ(r: RunResult) -> None:
    assert CANARY not in r.stdout + r.stderr
    keys = {line.split("=", 1)[0] for line in r.stdout.splitlines() if "=" in line}
    assert keys <= {"PATH", "LANG", "HOME", "TMPDIR", "PWD"}, keys


def _proc(r: RunResult) -> None:
    assert CANARY not in r.stdout + r.stderr
    pids = [int(p) for p in r.stdout.split("|")[0].split()]
    assert max(pids) <= 3, "only the sandbox's own processes are visible"
    assert "pytest" not in r.stdout, "no host process is visible"


def _refused(count: int) -> Callable[[RunResult], None]:
    def check(r: RunResult) -> None:
        assert r.stdout.count("refused") == count, r.stdout + r.stderr[-300:]
        assert "connected" not in r.stdout and "resolved" not in r.stdout
    return check


def _eof(r: RunResult) -> None:
    assert r.exit_code == 1 and "EOFError" in r.stderr
    assert "no input" in render_result(r, title="t").text


def _pings(r: RunResult) -> None:
    text = render_result(r, title="t").text
    for bad in ("@everyone", "<!channel>", "<@U0BOT>"):
        assert bad in r.stdout and bad not in text
    assert text.count("```") == 2


def _daemon(r: RunResult) -> None:
    assert r.exit_code == 0 and "parent done" in r.stdout
    assert r.duration_ms < WALL * 1000, "the job ends with its main process"


def _exit_ok(r: RunResult) -> None:
    assert r.exit_code == 0, r.stderr[-300:]


def _hostile_cases(port: int) -> list[Case]:
    bot_pid = os.getpid()
    probe_net = (
        "import socket\n"
        "for addr in {addrs}:\n"
        "    s = socket.socket(); s.settimeout(1)\n"
        "    try:\n"
        "        s.connect(addr); print('connected', addr)\n"
        "    except OSError as e:\n"
        "        print('refused', addr, e.errno)\n"
    )
    return [
        Case("busy_loop", "while True:\n    pass", _timed_out),
        Case("busy_loop_js", "for (;;) {}", _timed_out, "javascript"),
        Case("sigterm_ignored", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
             "while True:\n    time.sleep(0.1)", _timed_out),
        Case("memory_bomb", "x = bytearray(2 * 1024**3)", _memory),
        Case("memory_bomb_js", "const a = [];\nwhile (true) a.push(Buffer.alloc(8 * 2 ** 20, 1));",
             _memory, "javascript"),
        Case("memory_growth", "a = []\nwhile True:\n    a.append(' ' * 10**6)", _memory),
        Case("fork_bomb", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
             "        pass", _timed_out),
        Case("fork_count", "import os, time\nn = 0\nfor i in range(1000):\n    try:\n"
             "        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n"
             "        time.sleep(30); os._exit(0)\n    n += 1\nprint('forked', n)",
             _forked_at_most(TEST_LIMITS.processes)),
        Case("bash_fork_bomb", ":(){ :|:& };:\nsleep 5", _fork_refused, "bash"),
        Case("subprocess_storm", "import subprocess\nps = []\nfor i in range(500):\n    try:\n"
             "        ps.append(subprocess.Popen(['sleep', '30']))\n    except OSError as e:\n"
             "        print('refused', i, e.errno); break", _storm),
        Case("multiprocessing_split", "import multiprocessing as mp\ndef hog():\n"
             "    b = bytearray(180 * 2**20)\n    for i in range(0, len(b), 4096): b[i] = 1\n"
             "    import time; time.sleep(0.3)\nif __name__ == '__main__':\n"
             "    ps = [mp.Process(target=hog) for _ in range(4)]\n    [p.start() for p in ps]\n"
             "    [p.join() for p in ps]\n    print([p.exitcode for p in ps])", _split_memory),
        Case("fs_writes", "for path in ['/pwned', '/usr/codegen-pwned', '/etc/codegen-pwned',"
             " '/usr/bin/python3', '/proc/sys/kernel/hostname']:\n    try:\n        open(path, 'a').write('x'); print('written', path)\n"
             "    except OSError as e:\n        print('refused', path, e.errno)", _fs_writes),
        Case("fill_tmpfs", "total = 0\ntry:\n    for i in range(100):\n"
             "        with open(f'/tmp/f{i}', 'wb') as fh:\n            for j in range(8):\n"
             "                fh.write(b'x' * 2**20); total += 2**20\n"
             "except OSError as e:\n    print('err', e.errno, total)", _tmpfs_full),
        Case("huge_file", "total = 0\ntry:\n    with open('/tmp/big', 'wb') as fh:\n        while True:\n"
             "            fh.write(b'x' * 2**20); total += 2**20\nexcept OSError as e:\n"
             "    print('err', e.errno, total)", _file_size),
        Case("output_flood", "while True:\n    print('x' * 4096)", _flood),
        Case("stderr_flood", "import sys\nwhile True:\n    sys.stderr.write('e' * 4096)", _flood),
        Case("invalid_utf8", "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe\\xc3( ')\n"
             "sys.stdout.buffer.write('\\ud800'.encode('utf-8', 'surrogatepass'))\n"
             "sys.stdout.buffer.write(b' end\\n'); sys.stdout.flush()\nprint('\\udcff')", _clean_text),
        Case("segfault_ctypes", "import ctypes\nctypes.string_at(0)", _segfault),
        Case("print_environ", "import os\nfor k, v in os.environ.items():\n    print(f'{k}={v}')",
             _environ),
        Case("proc_spying", "import os\npids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
             "print(' '.join(pids), end='|')\nfor p in pids:\n"
             "    print(open(f'/proc/{p}/environ', 'rb').read(), end=' ')\n"
             "    print(open(f'/proc/{p}/cmdline', 'rb').read(), end=' ')", _proc),
        Case("host_secrets", "for path in ['/etc/shadow', '/etc/passwd', '/root/.bashrc',"
             " '/work/main/pyproject.toml']:\n    try:\n"
             "        open(path).read(); print('read', path)\n    except OSError as e:\n"
             "        print('refused', path, e.errno)", _refused(4)),
        Case("network_loopback_and_bot_port", probe_net.format(addrs=f"[('127.0.0.1', {port}),"
             " ('127.0.0.1', 5432), ('127.0.0.1', 6379)]"), _refused(3)),
        Case("network_metadata", probe_net.format(addrs="[('169.254.169.254', 80)]"), _refused(1)),
        Case("network_public_name", "import socket\ntry:\n"
             "    socket.getaddrinfo('example.com', 443); print('resolved')\nexcept OSError as e:\n"
             "    print('refused', e)", _refused(1)),
        Case("tiocsti", "import fcntl, termios\nfor opener in (lambda: 0, lambda: open('/dev/tty', 'w')):\n"
             "    try:\n        fcntl.ioctl(opener(), termios.TIOCSTI, b'x'); print('injected')\n"
             "    except OSError as e:\n        print('refused', e.errno)", _refused(2)),
        Case("ptrace_parent", "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "for pid in (os.getppid(), 1):\n    if libc.ptrace(16, pid, 0, 0) == 0:\n"
             "        print('attached', pid)\n    else:\n        print('refused', ctypes.get_errno())",
             _refused(2)),
        Case("nested_userns", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "for flag in (0x10000000, 0x00020000):\n    if libc.unshare(flag) == 0:\n"
             "        print('unshared')\n    else:\n        print('refused', ctypes.get_errno())",
             _refused(2)),
        Case("kill_the_bot", f"import os\ntry:\n    os.kill({bot_pid}, 9); print('killed')\n"
             "except OSError as e:\n    print('refused', e.errno)", _refused(1)),
        Case("setsid_daemon", "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
             "    if os.fork() == 0:\n        time.sleep(60)\n    os._exit(0)\nprint('parent done')",
             _daemon),
        Case("input_without_stdin", "name = input('name? ')\nprint(name)", _eof),
        Case("pings_and_fences", "print('@everyone look')\nprint('```')\nprint('<!channel> <@U0BOT>')",
             _pings),
        Case("stdlib_only", "import json\ntry:\n    import yaml\n    print('third-party visible')\n"
             "except ImportError:\n    print('refused', json.dumps([1]))", _refused(1)),
        Case("node_runs", "console.log('node ok')", _stdout_has("node ok"), "javascript"),
    ]


class _BotServer:
    """A TCP listener standing for the bot's own port; records any connection."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> _BotServer:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture(scope="module")
async def hostile(backend: LocalBackend) -> AsyncIterator[tuple[dict[str, RunResult], _BotServer]]:
    """Run every hostile case once, four at a time, with a canary secret in the bot's env."""
    os.environ["SLACK_BOT_TOKEN"] = CANARY
    try:
        async with _BotServer() as bot_server:
            cases = _hostile_cases(bot_server.port)
            gate = asyncio.Semaphore(4)

            async def one(case: Case) -> tuple[str, RunResult]:
                async with gate:
                    return case.name, await backend.run(case.code, case.language)

            results = dict(await asyncio.gather(*(one(c) for c in cases)))
            yield results, bot_server
    finally:
        os.environ.pop("SLACK_BOT_TOKEN", None)


CASES = {case.name: case for case in _hostile_cases(0)}


def test_suite_has_at_least_25_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_snippet_is_contained(name: str, hostile: tuple[dict[str, RunResult], _BotServer]) -> None:
    results, _ = hostile
    CASES[name].check(results[name])


def test_bot_port_saw_no_connection(hostile: tuple[dict[str, RunResult], _BotServer]) -> None:
    assert hostile[1].connections == 0


async def test_files_are_gone_for_the_next_run(backend: LocalBackend) -> None:
    first = await backend.run("open('/tmp/leftover', 'w').write('secret from run 1')\nprint('wrote')",
                              "python")
    assert first.stdout.strip() == "wrote"
    second = await backend.run("import os\nprint(sorted(os.listdir('/tmp')))", "python")
    assert second.stdout.strip() == "['main.py']"


async def test_bot_is_healthy_after_the_suite(
    backend: LocalBackend, hostile: tuple[dict[str, RunResult], _BotServer]
) -> None:
    result = await backend.run("print(sum(range(10)))", "python")
    assert result.ok and result.stdout == "45\n"
    await backend.drain()
    assert strays() == [], "no sandboxed process outlives the suite"
    assert cgroups.sweep(seconds=5.0) == [], "job cgroups are removed"
    assert cgroups.live_jobs() == []
    # the bot still has its descriptors and can open sockets
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft > TEST_LIMITS.open_files
    socket.socket().close()


async def test_null_bytes_in_code_are_refused_clearly(backend: LocalBackend) -> None:
    with pytest.raises(SandboxError, match="NUL byte"):
        await backend.run("print('a')\x00print('b')", "python")


@pytest.mark.parametrize("name", ["fork_count", "setsid_daemon", "memory_bomb", "subprocess_storm"])
async def test_contained_without_cgroups_too(
    name: str, backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no cgroup can be made, the private uid, rlimits and the pid namespace still hold."""
    monkeypatch.setenv("SANDBOX_NO_CGROUPS", "1")
    case = CASES[name]
    case.check(await backend.run(case.code, case.language))
    await backend.drain()
    assert strays() == []
