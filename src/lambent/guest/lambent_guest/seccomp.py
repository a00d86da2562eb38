"""The seccomp filters of an execution environment, built with libseccomp through ctypes.

The zygote builds a filter once (libseccomp compiles it when loaded) and every forked child
loads it after dropping its capabilities. Denied calls fail with EPERM, as Docker's default
profile does, so programs see an ordinary permission error instead of being killed; clone3
answers ENOSYS so libc falls back to clone, whose flags a BPF filter can inspect (clone3's
struct it cannot). Calls from a foreign ABI (i386 `int 0x80` on x86_64) kill the process:
their numbers differ and would slip past a native-only list.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

from . import linux

SCMP_ACT_ALLOW = 0x7FFF0000
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SCMP_CMP_MASKED_EQ = 7

# Everything an environment may never do (issue 4 §1, plus their close relatives).
ENVIRONMENT_DENY: tuple[str, ...] = (
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "clock_settime",
    "clock_adjtime",
    "settimeofday",
    "adjtimex",
    "syslog",
    "acct",
    "quotactl",
    "lookup_dcookie",
    "name_to_handle_at",
    "open_by_handle_at",
    "userfaultfd",
    "iopl",
    "ioperm",
    "vhangup",
    "sethostname",
    "setdomainname",
    "mknod",
    "mknodat",
)

# The SnapStart template runs user init but must still build namespaces for its children,
# so it keeps unshare/setns/mount and their friends; everything else above stays denied.
TEMPLATE_ALLOW: frozenset[str] = frozenset(
    {
        "mount",
        "umount2",
        "move_mount",
        "unshare",
        "setns",
        "sethostname",
    }
)

NAMESPACE_FLAGS = (
    linux.CLONE_NEWNS
    | linux.CLONE_NEWCGROUP
    | linux.CLONE_NEWUTS
    | linux.CLONE_NEWIPC
    | linux.CLONE_NEWUSER
    | linux.CLONE_NEWPID
    | linux.CLONE_NEWNET
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class Filter:
    """A libseccomp context: built and compiled once in the zygote."""

    def __init__(self, deny: tuple[str, ...], *, allow_namespaces: bool = False) -> None:
        name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
        self._lib = ctypes.CDLL(name, use_errno=True)
        lib = self._lib
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.POINTER(_ArgCmp),
        ]
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
        if not ctx:
            raise OSError(errno.ENOMEM, "seccomp_init failed")
        self._ctx = ctypes.c_void_p(ctx)
        for syscall in deny:
            self._rule(syscall, _act_errno(errno.EPERM))
        self._rule("clone3", _act_errno(errno.ENOSYS))
        if not allow_namespaces:
            # clone(flags, ...) with any CLONE_NEW* bit: the unshare that clone can do.
            for bit in _bits(NAMESPACE_FLAGS):
                cmp = _ArgCmp(0, SCMP_CMP_MASKED_EQ, bit, bit)
                self._rule("clone", _act_errno(errno.EPERM), cmp)

    def _rule(self, syscall: str, action: int, cmp: _ArgCmp | None = None) -> None:
        nr = self._lib.seccomp_syscall_resolve_name(syscall.encode())
        if nr < 0:  # not on this architecture (e.g. umount on aarch64)
            return
        args = (_ArgCmp * 1)(cmp) if cmp is not None else None
        rc = self._lib.seccomp_rule_add_array(self._ctx, action, nr, 1 if cmp else 0, args)
        if rc < 0:
            raise OSError(-rc, f"seccomp_rule_add {syscall}: {errno.errorcode.get(-rc, rc)}")

    def compile(self) -> Program:
        """The classic-BPF program, exported once so each child installs it in microseconds."""
        read_fd, write_fd = os.pipe()
        try:
            rc = self._lib.seccomp_export_bpf(self._ctx, write_fd)
            if rc < 0:
                raise OSError(-rc, f"seccomp_export_bpf: {errno.errorcode.get(-rc, rc)}")
            os.close(write_fd)
            write_fd = -1
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        return Program(b"".join(chunks))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Program:
    """A compiled filter, kept in memory across fork."""

    def __init__(self, code: bytes) -> None:
        if not code or len(code) % 8:
            raise ValueError("seccomp program must be a non-empty array of sock_filter")
        self.code = code
        self._buffer = ctypes.create_string_buffer(code, len(code))
        self._fprog = _SockFprog(len(code) // 8, ctypes.addressof(self._buffer))

    def install(self) -> None:
        """Load into the calling thread; no_new_privs first, so no capability is needed."""
        linux.set_no_new_privs()
        linux.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._fprog))


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(64) if mask & (1 << i)]


def environment_program() -> Program:
    return Filter(ENVIRONMENT_DENY).compile()


def template_program() -> Program:
    deny = tuple(name for name in ENVIRONMENT_DENY if name not in TEMPLATE_ALLOW)
    return Filter(deny, allow_namespaces=True).compile()
