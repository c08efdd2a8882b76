"""A small seccomp filter for snippets (classic BPF, handed to ``bwrap --seccomp FD``).

It refuses, with EPERM, the system calls a snippet has no business making and that widen the
attack surface: ptrace and cross-process memory access, kernel keyrings, bpf, perf, userfaultfd,
namespace and mount changes, module loading, and other admin calls. Everything else is allowed.
Only x86_64 is described; on other architectures :func:`filter_program` returns None and the
sandbox relies on its other layers.
"""

from __future__ import annotations

import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL = 0x80000000  # SECCOMP_RET_KILL_PROCESS
EPERM = 1

# x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl).
BLOCKED_X86_64 = {
    "ptrace": 101,
    "syslog": 103,
    "pivot_root": 155,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "finit_module": 313,
    "bpf": 321,
    "userfaultfd": 323,
    "kexec_file_load": 320,
    "fsopen": 430,
    "fsmount": 432,
    "move_mount": 429,
    "open_tree": 428,
    "mount_setattr": 442,
}


def _ins(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def filter_program() -> bytes | None:
    """The compiled filter for this machine's architecture, or None when not supported."""
    if platform.machine() != "x86_64":
        return None
    numbers = sorted(BLOCKED_X86_64.values())
    deny = _RET_ERRNO | EPERM
    prog = [
        _ins(_LD_W_ABS, 0, 0, 4),                   # A = arch
        _ins(_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),      # x86_64? skip the kill
        _ins(_RET_K, 0, 0, _RET_KILL),
        _ins(_LD_W_ABS, 0, 0, 0),                   # A = syscall number
        _ins(_JGE_K, len(numbers) + 1, 0, X32_SYSCALL_BIT),  # x32 ABI: deny
    ]
    for i, number in enumerate(numbers):
        # match: jump to the deny at the end (after the remaining checks and the allow)
        prog.append(_ins(_JEQ_K, len(numbers) - i, 0, number))
    prog.append(_ins(_RET_K, 0, 0, _RET_ALLOW))
    prog.append(_ins(_RET_K, 0, 0, deny))
    return b"".join(prog)
