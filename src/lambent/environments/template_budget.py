"""Which templates to keep: least recently used first out, within a memory budget.

Pure bookkeeping (no processes, no clock of its own): the caller says what a template
costs, when it was last used, and asks which ones to let go. A template that stands idle
past the keep-alive goes; while the total is over budget the least recently used go, oldest
first, except the most recently used one (a function just created keeps the template its
first invoke needs, whatever the budget). Never evicted: a template with a spawn in flight
(an environment is being forked from it right now) and a pinned one (a SnapStart snapshot:
it holds the state of the version's init, which a new template would have to run again).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass


@dataclass
class Entry:
    key: str
    cost: int  # bytes
    last_used: float  # monotonic seconds
    pinned: bool = False
    busy: int = 0  # spawns in flight


@dataclass(frozen=True)
class Victim:
    key: str
    reason: str  # "idle" (past the keep-alive) or "budget" (over the budget, LRU)


class TemplateBudget:
    def __init__(self, budget_bytes: int, keep_alive_s: float) -> None:
        self.budget_bytes = budget_bytes
        self.keep_alive_s = keep_alive_s
        self._entries: collections.OrderedDict[str, Entry] = collections.OrderedDict()

    def add(self, key: str, now: float, cost: int, *, pinned: bool = False) -> None:
        self._entries[key] = Entry(key, cost, now, pinned)
        self._entries.move_to_end(key)

    def set_cost(self, key: str, cost: int) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.cost = cost

    def touch(self, key: str, now: float) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.last_used = now
            self._entries.move_to_end(key)

    def acquire(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.busy += 1

    def release(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.busy > 0:
            entry.busy -= 1

    def remove(self, key: str) -> None:
        self._entries.pop(key, None)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        """Least recently used first."""
        return list(self._entries)

    def total(self) -> int:
        return sum(e.cost for e in self._entries.values())

    def victims(self, now: float) -> list[Victim]:
        """What to let go now (the caller removes them)."""
        entries = list(self._entries.values())
        newest = entries[-1].key if entries else None
        out: list[Victim] = []
        gone: set[str] = set()
        for entry in entries:
            if self._evictable(entry, None) and now - entry.last_used > self.keep_alive_s:
                out.append(Victim(entry.key, "idle"))
                gone.add(entry.key)
        total = sum(e.cost for e in entries if e.key not in gone)
        for entry in entries:
            if total <= self.budget_bytes:
                break
            if entry.key in gone or not self._evictable(entry, newest):
                continue
            out.append(Victim(entry.key, "budget"))
            gone.add(entry.key)
            total -= entry.cost
        return out

    @staticmethod
    def _evictable(entry: Entry, newest: str | None) -> bool:
        return not entry.pinned and entry.busy == 0 and entry.key != newest
