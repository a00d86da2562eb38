"""Host uids for environments: each environment (or SnapStart template) gets its own.

uid 993 inside maps to a host uid nobody else uses, so even a process that escaped its pid
namespace could not signal or ptrace another environment's processes (the kernel compares
host uids), and files it might create on a shared filesystem carry its own owner.
"""

from __future__ import annotations

import threading
from collections import deque

DEFAULT_BASE = 1_600_000_000
DEFAULT_COUNT = 65_536


class UidPool:
    def __init__(self, base: int = DEFAULT_BASE, count: int = DEFAULT_COUNT) -> None:
        self._free = deque(range(base, base + count))
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            if not self._free:
                raise OSError("no free sandbox uid")
            return self._free.popleft()

    def give_back(self, uid: int) -> None:
        with self._lock:
            self._free.append(uid)
