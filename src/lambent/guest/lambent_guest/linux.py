"""Thin ctypes wrappers for the Linux calls the sandbox needs and Python 3.11 lacks.

Stdlib only: this module runs inside the zygote and the sandboxed child, under the runtime's
own interpreter (3.11, 3.12 or 3.13). Every wrapper raises OSError with errno on failure, so
callers handle these like any other os.* call.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_CHILD_SUBREAPER = 36

OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
MOVE_MOUNT_F_EMPTY_PATH = 0x4
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
FSOPEN_CLOEXEC = 1
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 1
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_IDMAP = 0x00100000

_CAP_LAST = 63
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Syscalls glibc does not wrap. The numbers from 424 on are shared by every architecture.
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "capset": 126},
    "aarch64": {"pivot_root": 41, "capset": 91},
}
_NR_OPEN_TREE = 428
_NR_MOVE_MOUNT = 429
_NR_FSOPEN = 430
_NR_FSCONFIG = 431
_NR_FSMOUNT = 432
_NR_PIDFD_OPEN = 434
_NR_MOUNT_SETATTR = 442


class _Libc:
    """The loaded libc, bound once per process (the zygote loads it before forking)."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(None, use_errno=True)
        self.numbers = _SYSCALLS.get(platform.machine(), _SYSCALLS["x86_64"])
        self.lib.syscall.restype = ctypes.c_long
        self.lib.mount.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_char_p,
        ]
        self.lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        self.lib.unshare.argtypes = [ctypes.c_int]
        self.lib.setns.argtypes = [ctypes.c_int, ctypes.c_int]
        self.lib.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        self.lib.prctl.restype = ctypes.c_int


@functools.cache
def libc() -> _Libc:
    return _Libc()


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _b(path: str | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def unshare(flags: int) -> None:
    _check(libc().lib.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(libc().lib.setns(fd, nstype), "setns")


def mount(
    source: str | None,
    target: str,
    fstype: str | None,
    flags: int = 0,
    data: str | None = None,
) -> None:
    rc = libc().lib.mount(_b(source), _b(target), _b(fstype), flags, _b(data))
    _check(rc, f"mount {target}")


def umount(target: str, flags: int = 0) -> None:
    _check(libc().lib.umount2(_b(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    lc = libc()
    nr = lc.numbers["pivot_root"]
    rc = lc.lib.syscall(ctypes.c_long(nr), _b(new_root), _b(put_old))
    _check(rc, "pivot_root")


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    return _check(libc().lib.prctl(option, arg2, arg3, 0, 0), f"prctl {option}")


def open_tree(path: str, flags: int, dirfd: int = -100) -> int:
    rc = libc().lib.syscall(
        ctypes.c_long(_NR_OPEN_TREE), ctypes.c_int(dirfd), _b(path), ctypes.c_uint(flags)
    )
    return _check(rc, f"open_tree {path}")


def move_mount(from_fd: int, to_path: str, from_path: str = "", flags: int = 0) -> None:
    rc = libc().lib.syscall(
        ctypes.c_long(_NR_MOVE_MOUNT),
        ctypes.c_int(from_fd),
        _b(from_path),
        ctypes.c_int(-100),
        _b(to_path),
        ctypes.c_uint(flags | MOVE_MOUNT_F_EMPTY_PATH),
    )
    _check(rc, f"move_mount {to_path}")


def fsmount_device(fstype: str, source: str, options: dict[str, str], attrs: int = 0) -> int:
    """A detached mount (fsopen/fsconfig/fsmount): in no mount table until someone moves it."""
    lc = libc().lib
    fs = _check(
        lc.syscall(ctypes.c_long(_NR_FSOPEN), _b(fstype), ctypes.c_uint(FSOPEN_CLOEXEC)),
        "fsopen",
    )
    try:
        for key, value in {"source": source, **options}.items():
            rc = lc.syscall(
                ctypes.c_long(_NR_FSCONFIG),
                ctypes.c_int(fs),
                ctypes.c_uint(FSCONFIG_SET_STRING),
                _b(key),
                _b(value),
                ctypes.c_int(0),
            )
            _check(rc, f"fsconfig {key}")
        rc = lc.syscall(
            ctypes.c_long(_NR_FSCONFIG),
            ctypes.c_int(fs),
            ctypes.c_uint(FSCONFIG_CMD_CREATE),
            None,
            None,
            ctypes.c_int(0),
        )
        _check(rc, "fsconfig create")
        rc = lc.syscall(
            ctypes.c_long(_NR_FSMOUNT),
            ctypes.c_int(fs),
            ctypes.c_uint(FSMOUNT_CLOEXEC),
            ctypes.c_uint(attrs),
        )
        return _check(rc, "fsmount")
    finally:
        os.close(fs)


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def mount_setattr(fd: int, attrs: int, userns_fd: int | None = None) -> None:
    """Set mount attributes (MOUNT_ATTR_*) on the mount `fd` refers to, detached or not.
    With `userns_fd` the (detached, not yet idmapped) mount also takes that user
    namespace's id mapping (MOUNT_ATTR_IDMAP)."""
    if userns_fd is not None:
        attrs |= MOUNT_ATTR_IDMAP
    attr = _MountAttr(attrs, 0, 0, 0 if userns_fd is None else userns_fd)
    rc = libc().lib.syscall(
        ctypes.c_long(_NR_MOUNT_SETATTR),
        ctypes.c_int(fd),
        b"",
        ctypes.c_uint(AT_EMPTY_PATH),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    _check(rc, "mount_setattr")


def fsmount_overlay(lowers: list[str], attrs: int) -> int:
    """A detached read-only overlayfs of `lowers` (top first). Each layer is passed on its
    own ("lowerdir+", Linux 6.5+): one fsconfig string holds at most 256 bytes."""
    lc = libc().lib
    fs = _check(
        lc.syscall(ctypes.c_long(_NR_FSOPEN), b"overlay", ctypes.c_uint(FSOPEN_CLOEXEC)),
        "fsopen overlay",
    )
    try:
        for lower in lowers:
            rc = lc.syscall(
                ctypes.c_long(_NR_FSCONFIG),
                ctypes.c_int(fs),
                ctypes.c_uint(FSCONFIG_SET_STRING),
                b"lowerdir+",
                _b(lower),
                ctypes.c_int(0),
            )
            _check(rc, f"fsconfig lowerdir+ {lower}")
        rc = lc.syscall(
            ctypes.c_long(_NR_FSCONFIG),
            ctypes.c_int(fs),
            ctypes.c_uint(FSCONFIG_CMD_CREATE),
            None,
            None,
            ctypes.c_int(0),
        )
        _check(rc, "fsconfig create")
        rc = lc.syscall(
            ctypes.c_long(_NR_FSMOUNT),
            ctypes.c_int(fs),
            ctypes.c_uint(FSMOUNT_CLOEXEC),
            ctypes.c_uint(attrs),
        )
        return _check(rc, "fsmount overlay")
    finally:
        os.close(fs)


def pidfd_open(pid: int) -> int:
    rc = libc().lib.syscall(ctypes.c_long(_NR_PIDFD_OPEN), ctypes.c_int(pid), ctypes.c_uint(0))
    return _check(rc, "pidfd_open")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_known_last_capability: list[int] = []


def last_capability() -> int:
    """The kernel's highest capability number, read once in the zygote before it leaves the
    host's /proc (a re-executed zygote is told it: `assume_last_capability`)."""
    if not _known_last_capability:
        try:
            with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as fh:
                _known_last_capability.append(int(fh.read()))
        except OSError:
            _known_last_capability.append(_CAP_LAST)
    return _known_last_capability[0]


def assume_last_capability(value: int) -> None:
    _known_last_capability[:] = [value]


def drop_all_capabilities() -> None:
    """Empty the bounding, ambient, inheritable, permitted and effective sets, in that order.

    The bounding set goes first because dropping it needs CAP_SETPCAP, which capset removes.
    """
    for cap in range(last_capability() + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as err:
            if err.errno == 22:  # EINVAL: past the kernel's last capability
                break
            raise
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    lc = libc()
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    rc = lc.lib.syscall(
        ctypes.c_long(lc.numbers["capset"]), ctypes.byref(header), ctypes.byref(data)
    )
    _check(rc, "capset")


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def set_parent_death_signal(sig: int) -> None:
    prctl(PR_SET_PDEATHSIG, sig)
