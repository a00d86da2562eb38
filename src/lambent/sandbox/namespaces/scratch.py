"""Each environment's private /tmp: a small ext4 image on a loop device, made ahead of time.

Why disk and not tmpfs: tmpfs pages are charged to the writer's memory cgroup, so a 128 MB
function could not write 300 MB to /tmp as it can on Lambda (its /tmp is disk, 512 MB to
10 GB whatever the memory size). An ext4 image refuses writes past `EphemeralStorage` with
ENOSPC and costs no memory beyond the page cache, which the kernel can reclaim.

Why ahead of time: truncate + mkfs.ext4 + loop + mount costs ~20-40 ms, mostly mkfs. Images
of each size in use are kept ready as *detached* mounts (fsopen/fsmount): they appear in no
mount table until the child moves one onto its /tmp, and when the environment's mount
namespace dies the filesystem is unmounted, the loop device (LO_FLAGS_AUTOCLEAR) detaches
itself, and the image file is deleted. Nothing is left to clean up by path.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import itertools
import os
import stat
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lambent.guest.lambent_guest import linux

LOOP_CTL_GET_FREE = 0x4C82
LOOP_CONFIGURE = 0x4C0A
LO_FLAGS_AUTOCLEAR = 4
REFILL_DELAY_S = 0.1
_LOOP_INFO64 = "=QQQQQIIII64s64s32sQQ"


@dataclass
class Scratch:
    """One /tmp filesystem: a detached ext4 mount the host keeps, and the image behind it.

    The host never gives its own mount away: each environment gets a fresh clone
    (open_tree OPEN_TREE_CLONE), so when the environment dies the filesystem stays alive
    through the host's mount, is wiped, and serves the next environment without mkfs.
    """

    size_mb: int
    image: Path
    mount_fd: int

    def clone_for(self, uid: int, gid: int) -> int:
        """A detached clone for one environment, its root owned by the env's uid and, as
        Lambda's /tmp, drwxrwxrwt (the filesystem is the environment's alone anyway)."""
        rc = linux.libc().lib.fchownat(self.mount_fd, b"", uid, gid, 0x1000)  # AT_EMPTY_PATH
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"fchownat /tmp: {os.strerror(err)}")
        os.chmod(f"/proc/self/fd/{self.mount_fd}", 0o1777)
        return linux.open_tree(
            "",
            linux.OPEN_TREE_CLONE | linux.OPEN_TREE_CLOEXEC | linux.AT_EMPTY_PATH,
            dirfd=self.mount_fd,
        )

    def wipe(self) -> None:
        """Delete everything the previous environment left (it is dead: nothing races us)."""
        root = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=self.mount_fd)
        try:
            for entry in os.listdir(root):
                try:
                    st = os.stat(entry, dir_fd=root, follow_symlinks=False)
                    if stat.S_ISDIR(st.st_mode):
                        _rmtree_at(root, entry)
                    else:
                        os.unlink(entry, dir_fd=root)
                except FileNotFoundError:
                    pass
        finally:
            os.close(root)

    def release(self) -> None:
        """Unmount (the last reference) and delete the image; autoclear frees the loop."""
        if self.mount_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.mount_fd)
            self.mount_fd = -1
        with contextlib.suppress(FileNotFoundError):
            self.image.unlink()


def _rmtree_at(parent: int, name: str) -> None:
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    try:
        for entry in os.listdir(fd):
            st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                _rmtree_at(fd, entry)
            else:
                os.unlink(entry, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)


def attach_loop(backing_fd: int) -> tuple[str, int]:
    """A free loop device bound to `backing_fd`, with autoclear; returns (path, device fd)."""
    control = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
    try:
        for _ in range(64):
            number = fcntl.ioctl(control, LOOP_CTL_GET_FREE)
            path = f"/dev/loop{number}"
            dev = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            info = struct.pack(
                _LOOP_INFO64, 0, 0, 0, 0, 0, 0, 0, 0, LO_FLAGS_AUTOCLEAR, b"", b"", b"", 0, 0
            )
            config = struct.pack("=II", backing_fd, 0) + info + b"\0" * 64
            try:
                fcntl.ioctl(dev, LOOP_CONFIGURE, config)
            except OSError as err:
                os.close(dev)
                if err.errno == errno.EBUSY:  # raced with another user of that device
                    continue
                raise
            return path, dev
    finally:
        os.close(control)
    raise OSError(errno.EBUSY, "no free loop device")


def lower_thread_priority() -> None:
    """Pool refills yield the CPU to the hot path (nice is per thread on Linux)."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def make_scratch(directory: Path, name: str, size_mb: int, background: bool = False) -> Scratch:
    image = directory / f"{name}.img"
    fd = os.open(image, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.ftruncate(fd, size_mb * 1024 * 1024)
        # `nice` rather than a preexec_fn: subprocess may then vfork instead of copying the
        # page tables of a large server process.
        command = ["nice", "-n", "19"] if background else []
        subprocess.run(
            [
                *command,
                "mkfs.ext4",
                "-q",
                "-F",
                "-m",
                "0",
                "-O",
                "^has_journal,^resize_inode",
                "-E",
                "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
                str(image),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        loop_path, dev = attach_loop(fd)
        try:
            attrs = linux.MOUNT_ATTR_NOSUID | linux.MOUNT_ATTR_NODEV
            mount_fd = linux.fsmount_device("ext4", loop_path, {}, attrs)
        finally:
            os.close(dev)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            image.unlink()
        raise
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.rmdir("lost+found", dir_fd=mount_fd)
    return Scratch(size_mb, image, mount_fd)


class ScratchPool:
    """Ready /tmp filesystems per size, refilled on a background thread."""

    def __init__(
        self,
        directory: Path,
        ready_per_size: int,
        default_sizes: tuple[int, ...],
        prefix: str = "tmp",
    ):
        self.directory = directory
        # Images are named for their sandbox: another server on the same data dir keeps
        # its own, and a successor knows which are a dead one's (reaper.py).
        self.prefix = prefix
        self.ready_per_size = ready_per_size
        self._ready: dict[int, list[Scratch]] = {size: [] for size in default_sizes}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._names = itertools.count()
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._refill, name="lambent-scratch", daemon=True)
        self._thread.start()

    def _name(self) -> str:
        return f"{self.prefix}-{next(self._names)}"

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until every size in use has its ready images (start-up), or the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._missing() is not None and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
        return True

    def ready_count(self, size_mb: int) -> int:
        with self._lock:
            return len(self._ready.get(size_mb, []))

    def take_ready(self, size_mb: int) -> Scratch | None:
        """A ready /tmp of `size_mb` without blocking, or None."""
        with self._lock:
            ready = self._ready.setdefault(size_mb, [])
            scratch = ready.pop() if ready else None
            self._wake.notify()
        return scratch

    def take(self, size_mb: int) -> Scratch:
        """A ready /tmp of `size_mb`, or one made now (slow path, blocking) if none is."""
        scratch = self.take_ready(size_mb)
        if scratch is None:
            scratch = make_scratch(self.directory, self._name(), size_mb)
        return scratch

    def give_back(self, scratch: Scratch) -> None:
        """Blocking (a worker thread): wipe a dead environment's /tmp and keep it ready."""
        try:
            scratch.wipe()
        except OSError:
            scratch.release()
            return
        with self._lock:
            ready = len(self._ready.get(scratch.size_mb, []))
            if self._closed or ready >= self.ready_per_size:
                keep = False
            else:
                keep = True
                self._ready.setdefault(scratch.size_mb, []).append(scratch)
        if not keep:
            scratch.release()

    def _refill(self) -> None:
        lower_thread_priority()
        while True:
            with self._lock:
                while not self._closed and not self._missing():
                    self._wake.wait()
                # One short is the steady state of create/destroy: give the used /tmp a
                # moment to come back rather than mkfs one that would be thrown away.
                if self._short_by_one():
                    deadline = time.monotonic() + REFILL_DELAY_S
                    while not self._closed and time.monotonic() < deadline:
                        self._wake.wait(deadline - time.monotonic())
                if self._closed:
                    return
                size = self._missing()
                if size is None:
                    continue
            assert size is not None
            try:
                scratch = make_scratch(self.directory, self._name(), size, background=True)
            except (OSError, subprocess.CalledProcessError):
                with self._lock:
                    self._wake.wait(1.0)
                continue
            with self._lock:
                if self._is_closed():
                    scratch.release()
                    return
                self._ready[size].append(scratch)

    def _short_by_one(self) -> bool:
        return any(len(ready) == self.ready_per_size - 1 for ready in self._ready.values())

    def _missing(self) -> int | None:
        for size, ready in self._ready.items():
            if len(ready) < self.ready_per_size:
                return size
        return None

    def _is_closed(self) -> bool:
        """Read under the lock by the refill thread (a method, so no stale narrowing)."""
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            pending = [s for ready in self._ready.values() for s in ready]
            self._ready.clear()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for scratch in pending:
            scratch.release()
        for leftover in self.directory.glob(f"{self.prefix}-*.img"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
