"""The data dir is private to the server's user: the dir 700, its files 600.

It holds the database (sealed secrets, but also every function's configuration), the
root credentials file, the master key, code, logs and objects. `lambent serve` runs with
umask 077, so whatever it creates later (SQLite's -wal and -shm, blobs, logs, runtime
dirs) is private too; `secure_data_dir` narrows what an older version, another tool or
a restore left wider, at every start.

One tree keeps wider modes on purpose: `code/`, the read-only extractions that
environments mount at /var/task and /opt. The function's user in the sandbox must read
them (0444/0555, as on Lambda); no other host user can reach them through the 700 dir.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
# Processes that run functions keep the usual 022 (files they make in /tmp are 644, as
# before), whatever the server's own umask is.
FUNCTION_UMASK = 0o022
SHARED_TREES = frozenset({"code"})
DIR_MODE = 0o700
FILE_MODE = 0o600


def secure_data_dir(data_dir: Path) -> int:
    """Create `data_dir` 700 if missing and narrow every wider mode under it; how many
    entries changed. Symlinks and sockets are left alone (their modes mean nothing here
    or are guarded by their 700 parent)."""
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    changed = _narrow(data_dir, DIR_MODE)
    for root, dirs, files in os.walk(data_dir):
        if Path(root) == data_dir:
            dirs[:] = [d for d in dirs if d not in SHARED_TREES]
        for name in dirs:
            changed += _narrow(Path(root, name), DIR_MODE)
        for name in files:
            changed += _narrow(Path(root, name), FILE_MODE)
    return changed


def _narrow(path: Path, mode: int) -> int:
    try:
        st = path.lstat()
    except FileNotFoundError:  # removed while we walked
        return 0
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return 0
    if stat.S_IMODE(st.st_mode) == mode:
        return 0
    os.chmod(path, mode)
    return 1
