"""The sandbox's root: an unprivileged host uid that appears as root inside environments.

On Lambda, /var/task, /opt and /lambda-entrypoint.sh are owned by root. Inside an
environment's user namespace, host uid 0 cannot be mapped without handing whoever becomes
uid 0 there the host root's ownership of every file (and /proc/sys). So uid 0 inside maps
to `root_uid`, a host uid nobody uses (the one below the environments' range), and what
must look root-owned is owned by it: the synthetic files of a runtime's root are chowned
to it, and a version's code and layers are *idmapped* mounts (on-disk uid/gid 0 seen as
`root_uid`), which changes nothing on disk and nothing in the host's view. Permission
checks are unchanged: an environment's own uid is never `root_uid`, so it gets the
"other" bits, as it did before.

`make_userns` makes the user namespace whose mapping the idmapped mounts carry.
"""

from __future__ import annotations

import os
import subprocess

# A child that enters a new user namespace, says so, and waits to be told to exit.
_HOLDER = (
    "import ctypes, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "if libc.unshare(0x10000000) != 0:\n"  # CLONE_NEWUSER
    "    sys.exit(ctypes.get_errno())\n"
    "print('in', flush=True)\n"
    "sys.stdin.read()\n"
)


def root_mapping(root_uid: int) -> str:
    """uid/gid 0 inside, `root_uid` outside."""
    return f"0 {root_uid} 1"


def make_userns(python: str, uid_map: str, gid_map: str) -> int:
    """A user namespace with these maps, held by the returned fd (O_CLOEXEC). A helper
    process creates it (the server is threaded: it may not unshare one itself); we write
    its maps as root and keep the namespace, not the process."""
    holder = subprocess.Popen(
        [python, "-I", "-S", "-c", _HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        cwd="/",
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        if holder.stdout.readline().strip() != b"in":
            raise OSError(f"could not make a user namespace (status {holder.wait(10)})")
        proc = f"/proc/{holder.pid}"
        _write(f"{proc}/uid_map", uid_map)
        _write(f"{proc}/setgroups", "deny")
        _write(f"{proc}/gid_map", gid_map)
        return os.open(f"{proc}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
