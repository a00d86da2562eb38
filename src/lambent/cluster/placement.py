"""Where an invocation runs: the placement policy, a pure function over worker views.

A frontend that admitted a synchronous invoke asks `place` which worker runs it:

1. **Warm affinity.** A live worker holding an idle environment of the version (its
   `FunctionVersion.key`) runs it warm: no cold start, no new memory. Among several, the
   one with the most idle environments of that version wins (its pool is the one worth
   keeping; the others' lone idle environments are left to be reaped by keep-alive), then
   the least loaded, then the lowest id, so every frontend with the same view agrees.
2. **Otherwise the least-loaded worker that may create one**: live, accepting new
   environments, with the version's memory free or held by idle environments it may
   reclaim (the worker evicts its least recently used idle ones to make room: keeping
   environments warm never refuses a cold start). A worker where it fits without
   reclaiming comes first (evicting a warm environment costs someone a cold start); then
   the least loaded.

Load is the fraction of a worker's memory held by busy environments (Lambda gives CPU in
proportion to memory, so busy memory is the work a worker does; idle environments are a
cache, and counting them as load let one worker fill with busy environments while the
others held idle ones: `bench/cluster_sim.py` showed it), then busy environments per CPU,
then the lowest id.
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

__all__ = ["Placement", "WorkerView", "place", "place_new", "spread_provisioned"]


@dataclass(frozen=True, slots=True)
class WorkerView:
    """What a frontend knows of one worker when it places an invocation.

    `memory_used_mb` counts every environment the worker holds, busy or idle;
    `memory_idle_mb` is the part of it held by idle on-demand environments, which the
    worker reclaims (least recently used first) to make room for a new one (provisioned
    environments are never reclaimed, so they are not in it); `idle_by_version` counts idle
    (or frozen) environments per version key; `accepts_new` is False for a worker that may
    not create environments (draining, or at its own cap): its idle environments still
    serve warm invokes.
    """

    worker_id: str
    alive: bool
    memory_mb: int
    memory_used_mb: int
    cpus: float
    busy: int
    idle_by_version: Mapping[str, int]
    accepts_new: bool = True
    memory_idle_mb: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.memory_idle_mb <= self.memory_used_mb or self.memory_mb < 0:
            raise ValueError(f"inconsistent memory in {self!r}")
        if self.busy < 0:
            raise ValueError(f"negative busy count in {self!r}")

    @property
    def memory_free_mb(self) -> int:
        """Memory a new environment may take: free, or reclaimable from idle ones."""
        return max(0, self.memory_mb - self.memory_used_mb + self.memory_idle_mb)

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
    """The worker that runs one invocation of `version_key` (module docstring's rules).

    One pass over the views per rule, a few hundred nanoseconds per worker (it runs on
    every invoke). A caller with an index of the workers holding idle environments of the
    version may pass just those first: the warm rule looks at no other worker, so the
    answer is the same whenever it is warm."""
    warm = _warmest(version_key, workers)
    if warm is not None:
        return Placement(warm.worker_id, warm=True)
    return place_new(memory_mb, workers)


def place_new(memory_mb: int, workers: Sequence[WorkerView]) -> Placement | None:
    """Where a new environment of `memory_mb` goes (rule 2 alone): what `place` answers
    when no worker holds an idle environment of the version, so a caller that knows this
    from its index skips the warm pass."""
    cold = _least_loaded(max(1, memory_mb), workers)
    return None if cold is None else Placement(cold.worker_id, warm=False)


def _warmest(version_key: str, workers: Sequence[WorkerView]) -> WorkerView | None:
    best: WorkerView | None = None
    best_idle = 0
    for worker in workers:
        if not worker.alive:
            continue
        idle = worker.idle_by_version.get(version_key, 0)
        if idle <= 0 or idle < best_idle:
            continue
        if best is None or idle > best_idle or _lighter(worker, best):
            best, best_idle = worker, idle
    return best


def _least_loaded(memory_mb: int, workers: Sequence[WorkerView]) -> WorkerView | None:
    """Inlined for speed: every candidate has memory_mb > 0 (its room is at least 1 MB and
    idle memory is part of used memory), so loads compare by cross-multiplying."""
    best: WorkerView | None = None
    best_reclaims, best_busy, best_total = True, 0, 1
    for worker in workers:
        used, total, idle = worker.memory_used_mb, worker.memory_mb, worker.memory_idle_mb
        if not (worker.alive and worker.accepts_new) or total - used + idle < memory_mb:
            continue
        reclaims, busy = total - used < memory_mb, used - idle
        if best is not None:
            if reclaims != best_reclaims:
                if reclaims:
                    continue
            else:
                left, right = busy * best_total, best_busy * total
                if left > right or (left == right and not _lighter_on_ties(worker, best)):
                    continue
        best, best_reclaims, best_busy, best_total = worker, reclaims, busy, total
    return best


def _lighter(a: WorkerView, b: WorkerView) -> bool:
    """Whether `a` is less loaded than `b`: a smaller fraction of memory busy (compared
    exactly, in integers: floats would make ties depend on rounding), then fewer busy
    environments per CPU, then the lower id. A total order, so the answer does not depend
    on the order of the views."""
    a_busy, a_total = _busy_fraction(a)
    b_busy, b_total = _busy_fraction(b)
    left, right = a_busy * b_total, b_busy * a_total
    if left != right:
        return left < right
    return _lighter_on_ties(a, b)


def _lighter_on_ties(a: WorkerView, b: WorkerView) -> bool:
    a_busy, b_busy = a.busy_per_cpu(), b.busy_per_cpu()
    if a_busy != b_busy:
        return a_busy < b_busy
    return a.worker_id < b.worker_id


def _busy_fraction(worker: WorkerView) -> tuple[int, int]:
    """Memory held by busy environments over memory (above 1 when overcommitted); a worker
    without memory counts as full."""
    if worker.memory_mb <= 0:
        return 1, 1
    return worker.memory_used_mb - worker.memory_idle_mb, worker.memory_mb


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
