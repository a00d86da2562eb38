"""Where an invocation runs: the placement policy, a pure function over worker views.

A frontend that admitted a synchronous invoke asks `place` which worker runs it:

1. **Warm affinity.** A live worker holding an idle environment of the version (its
   `FunctionVersion.key`) runs it warm: no cold start, no new memory. Among several, the
   one with the most idle environments of that version wins (its pool is the one worth
   keeping; the others' lone idle environments are left to be reaped by keep-alive), then
   the least loaded, then the lowest id, so every frontend with the same view agrees.
2. **Otherwise the least-loaded worker that may create one**: live, accepting new
   environments, with the version's memory free. Load is the fraction of memory in use
   (Lambda gives CPU in proportion to memory, so memory is the one dimension that fills);
   ties go to fewer busy environments per CPU, then the lowest id.
3. **None** when no worker can take it: the caller answers with AWS's error.

`spread_provisioned` spreads a version's provisioned concurrency over the live workers as
evenly as their free memory allows (water-filling): a worker's death then costs the fewest
prepared environments, and no worker is asked for more than it can hold.

No I/O, no clock, no randomness: the same views give the same answer, which is what the
unit tests (tables and properties) and the simulation rely on. Feeding the views (workers'
heartbeats, their replies) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Placement", "WorkerView", "place", "spread_provisioned"]


@dataclass(frozen=True, slots=True)
class WorkerView:
    """What a frontend knows of one worker when it places an invocation.

    `memory_used_mb` counts every environment the worker holds, busy or idle;
    `idle_by_version` counts idle (or frozen) environments per version key; `accepts_new`
    is False for a worker that may not create environments (draining, or at its own cap):
    its idle environments still serve warm invokes.
    """

    worker_id: str
    alive: bool
    memory_mb: int
    memory_used_mb: int
    cpus: float
    busy: int
    idle_by_version: Mapping[str, int]
    accepts_new: bool = True

    @property
    def memory_free_mb(self) -> int:
        return max(0, self.memory_mb - self.memory_used_mb)

    def load(self) -> Fraction:
        """The fraction of memory in use, exact (floats would make ties depend on rounding)."""
        if self.memory_mb <= 0:
            return Fraction(1)
        return Fraction(min(self.memory_used_mb, self.memory_mb), self.memory_mb)

    def busy_per_cpu(self) -> float:
        return self.busy / self.cpus if self.cpus > 0 else float(self.busy)

    def can_create(self, memory_mb: int) -> bool:
        """Whether a new environment of `memory_mb` fits on this worker now."""
        return self.alive and self.accepts_new and self.memory_free_mb >= memory_mb


@dataclass(frozen=True, slots=True)
class Placement:
    worker_id: str
    warm: bool  # an idle environment of the version runs it; False: the worker creates one


def place(version_key: str, memory_mb: int, workers: Sequence[WorkerView]) -> Placement | None:
    """The worker that runs one invocation of `version_key` (module docstring's rules)."""
    warm = _warmest(version_key, workers)
    if warm is not None:
        return Placement(warm.worker_id, warm=True)
    cold = _least_loaded(memory_mb, workers)
    if cold is not None:
        return Placement(cold.worker_id, warm=False)
    return None


def _warmest(version_key: str, workers: Sequence[WorkerView]) -> WorkerView | None:
    best: WorkerView | None = None
    best_key: tuple[int, Fraction, float, str] | None = None
    for worker in workers:
        if not worker.alive:
            continue
        idle = worker.idle_by_version.get(version_key, 0)
        if idle <= 0:
            continue
        key = (-idle, worker.load(), worker.busy_per_cpu(), worker.worker_id)
        if best_key is None or key < best_key:
            best, best_key = worker, key
    return best


def _least_loaded(memory_mb: int, workers: Sequence[WorkerView]) -> WorkerView | None:
    best: WorkerView | None = None
    best_key: tuple[Fraction, float, str] | None = None
    for worker in workers:
        if not worker.can_create(memory_mb):
            continue
        key = (worker.load(), worker.busy_per_cpu(), worker.worker_id)
        if best_key is None or key < best_key:
            best, best_key = worker, key
    return best


def spread_provisioned(total: int, memory_mb: int, workers: Sequence[WorkerView]) -> dict[str, int]:
    """How many of `total` new provisioned environments of `memory_mb` each worker prepares.

    The result sums to min(total, what the live workers can hold), never gives a worker
    more than fits in its free memory, and gives workers of equal free room counts that
    differ by at most one (the remainder goes to the roomiest, then the lowest id). Only
    workers given something appear. To re-spread after a worker dies, pass the shortfall.
    """
    if total <= 0 or memory_mb <= 0:
        return {}
    slots = sorted(
        (worker.memory_free_mb // memory_mb, worker.worker_id)
        for worker in workers
        if worker.can_create(memory_mb)
    )
    left = min(total, sum(cap for cap, _ in slots))
    spread: dict[str, int] = {}
    for index, (cap, worker_id) in enumerate(slots):
        rest = len(slots) - index
        if cap * rest <= left:  # this one fills up; so does every smaller one before it
            spread[worker_id] = cap
            left -= cap
            continue
        # Every worker from here holds more than an even share: level them.
        share, extra = divmod(left, rest)
        roomiest = sorted(slots[index:], key=lambda slot: (-slot[0], slot[1]))
        for rank, (_, other_id) in enumerate(roomiest):
            spread[other_id] = share + (1 if rank < extra else 0)
        break
    return {worker_id: count for worker_id, count in spread.items() if count > 0}
