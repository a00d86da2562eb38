"""The pieces of the cluster simulation (`bench/cluster_sim.py`): workers with their pools,
and the counters that model what a frontend and a worker ask PostgreSQL.

Nothing here decides where an invocation runs or whether it is admitted: that is the real
code (`cluster/placement.py`, `concurrency/admission.py`, `concurrency/burst.py`), which
the simulation calls. What is modelled here is what the real code does not hold: a
worker's environments, and the statements each store would send.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from types import MappingProxyType

from lambent.cluster.placement import WorkerView
from lambent.concurrency.blocks import BlockPolicy


@dataclass
class Worker:
    """One worker's environments: busy ones count, idle ones are kept most recently used
    first per version and least recently used first overall (reaping and reclaiming take
    the oldest)."""

    worker_id: str
    memory_mb: int
    cpus: float
    alive: bool = True
    used_mb: int = 0
    idle_mb: int = 0
    busy: int = 0
    idle_counts: dict[str, int] = field(default_factory=dict)
    # env id -> (version key, memory, idle since), oldest first.
    _idle: OrderedDict[int, tuple[str, int, float]] = field(default_factory=OrderedDict)
    _by_version: dict[str, deque[int]] = field(default_factory=dict)
    code_cached: set[str] = field(default_factory=set)
    # The placement index a frontend keeps (version key -> workers with an idle one of
    # it), shared by every worker of the simulation; None: not kept.
    holders: dict[str, set[int]] | None = None
    number: int = 0
    evicted: int = 0
    reaped: int = 0

    def view(self) -> WorkerView:
        return WorkerView(
            self.worker_id,
            self.alive,
            self.memory_mb,
            self.used_mb,
            self.cpus,
            self.busy,
            MappingProxyType(self.idle_counts),
            True,
            self.idle_mb,
        )

    def take_idle(self, key: str) -> bool:
        """Use the most recently used idle environment of `key`, if there is one."""
        envs = self._by_version.get(key)
        if not envs:
            return False
        env = envs.pop()
        _, memory, _ = self._idle.pop(env)
        self._forget(key, memory)
        self.busy += 1
        return True

    def create(self, memory_mb: int) -> bool:
        """A new busy environment, reclaiming idle ones (oldest first) if it needs room."""
        if self.memory_mb - (self.used_mb - self.idle_mb) < memory_mb:
            return False
        while self.memory_mb - self.used_mb < memory_mb:
            self._drop_oldest()
            self.evicted += 1
        self.used_mb += memory_mb
        self.busy += 1
        return True

    def park(self, env: int, key: str, memory_mb: int, now: float) -> None:
        """A busy environment finished: it is idle now."""
        self.busy -= 1
        self._idle[env] = (key, memory_mb, now)
        self._by_version.setdefault(key, deque()).append(env)
        self.idle_counts[key] = self.idle_counts.get(key, 0) + 1
        self.idle_mb += memory_mb
        if self.holders is not None:
            self.holders.setdefault(key, set()).add(self.number)

    def end_busy(self, memory_mb: int) -> None:
        """A busy environment is gone (its worker died under it, or it failed)."""
        self.busy -= 1
        self.used_mb -= memory_mb

    def reap(self, before: float) -> int:
        """Close every environment idle since before `before` (keep-alive)."""
        closed = 0
        while self._idle:
            _, (_, _, since) = next(iter(self._idle.items()))
            if since > before:
                break
            self._drop_oldest()
            closed += 1
        self.reaped += closed
        return closed

    def die(self) -> None:
        self.alive = False
        for key in self.idle_counts:
            self._unhold(key)
        self._idle.clear()
        self._by_version.clear()
        self.idle_counts.clear()
        self.used_mb = self.idle_mb = self.busy = 0

    def idle_envs(self) -> int:
        return len(self._idle)

    def _drop_oldest(self) -> None:
        _, (key, memory, _) = self._idle.popitem(last=False)
        envs = self._by_version[key]
        envs.popleft()  # the oldest of its version is the oldest overall among them
        if not envs:
            del self._by_version[key]
        self._forget(key, memory)
        self.used_mb -= memory

    def _forget(self, key: str, memory: int) -> None:
        left = self.idle_counts[key] - 1
        if left:
            self.idle_counts[key] = left
        else:
            del self.idle_counts[key]
            self._unhold(key)
        self.idle_mb -= memory

    def _unhold(self, key: str) -> None:
        if self.holders is not None:
            holding = self.holders.get(key)
            if holding is not None:
                holding.discard(self.number)
                if not holding:
                    del self.holders[key]


class Statements:
    """PostgreSQL statements by purpose, and group commit: writes of one kind from one
    node within one commit's time share a statement (as `pg_writer.py` batches them)."""

    def __init__(self, commit_s: float) -> None:
        self.count: Counter[str] = Counter()
        # By what caused them: "sync warm", "async cold", ..., "background" (timers).
        self.by_cause: dict[str, Counter[str]] = {}
        self._commit_s = commit_s
        self._open_until: dict[tuple[str, str], float] = {}
        self._cause: list[tuple[str, int]] | None = None
        self.counting = False

    def begin(self) -> None:
        """Statements from here to `end` are caused by one invocation."""
        self._cause = []

    def end(self, cause: str) -> None:
        if self._cause and self.counting:
            counts = self.by_cause.setdefault(cause, Counter())
            for purpose, n in self._cause:
                counts[purpose] += n
        self._cause = None

    def one(self, purpose: str, n: int = 1) -> None:
        if self.counting:
            self.count[purpose] += n
            if self._cause is not None:
                self._cause.append((purpose, n))
            else:
                self.by_cause.setdefault("background", Counter())[purpose] += n

    def grouped(self, purpose: str, node: str, now: float, window: float | None = None) -> None:
        """One write that joins the open batch of (`purpose`, `node`), or opens one."""
        key = (purpose, node)
        if now < self._open_until.get(key, -1.0):
            return
        self._open_until[key] = now + (self._commit_s if window is None else window)
        self.one(purpose)


@dataclass
class _Pool:
    held: int = 0
    used: int = 0
    peak: int = 0


class TokenBlocks:
    """Admission's traffic to PostgreSQL when each frontend leases blocks of tokens
    (docs/CLUSTER.md, "Admission across the cluster"), sized by the real `BlockPolicy`: a
    frontend with an idle token admits with no statement; one without asks for a block;
    a tick gives back what it did not use; a pool with nothing left makes the asker signal
    its peers, who give back their idle tokens. Only the statements are modelled: whether an
    invoke is admitted is the real `Admission`'s answer (the ledger's guarantee is that the
    two agree)."""

    def __init__(
        self, statements: Statements, policy: BlockPolicy | None = None, batched: bool = False
    ) -> None:
        self._statements = statements
        # batched: a tick gives back every pool's surplus in one statement per frontend
        # (a proposal); otherwise one per pool, as concurrency/tokens.py does today.
        self._batched = batched
        self._policy = policy or BlockPolicy()
        self._pools: dict[tuple[str, str], _Pool] = {}
        self._held: Counter[str] = Counter()
        self.by_pool: Counter[str] = Counter()  # statements per pool (each serializes)

    def take(self, frontend: str, pool: str, capacity: int) -> None:
        mine = self._pools.setdefault((frontend, pool), _Pool())
        if mine.held <= mine.used:
            want = self._policy.ask(capacity, mine.held, mine.used, 1)
            self._statements.one("admission: take a block")
            if self._statements.counting:
                self.by_pool[pool] += 1
            free = capacity - self._held[pool]
            if free < 1:
                self._reclaim(frontend, pool)
                free = capacity - self._held[pool]
                self._statements.one("admission: take a block")
            granted = max(1, min(want, free))
            mine.held += granted
            self._held[pool] += granted
        mine.used += 1
        mine.peak = max(mine.peak, mine.used)

    def give(self, frontend: str, pool: str) -> None:
        self._pools[(frontend, pool)].used -= 1

    def tick(self) -> None:
        """Every 0.5 s: give back what a whole tick left unused."""
        empty = []
        gave: set[str] = set()
        for (frontend, pool), mine in self._pools.items():
            surplus = self._policy.surplus(mine.held, mine.used, mine.peak)
            if surplus > 0:
                if not self._batched or frontend not in gave:
                    self._statements.one("admission: give back")
                    gave.add(frontend)
                mine.held -= surplus
                self._held[pool] -= surplus
            mine.peak = mine.used
            if mine.held == 0:
                empty.append((frontend, pool))
        for key in empty:
            del self._pools[key]

    def _reclaim(self, asker: str, pool: str) -> None:
        self._statements.one("admission: ask peers (NOTIFY)")
        for (frontend, name), mine in self._pools.items():
            idle = self._policy.idle(mine.held, mine.used)
            if name == pool and frontend != asker and idle > 0:
                self._statements.one("admission: give back")
                self._held[pool] -= idle
                mine.held -= idle


class LruSet:
    """A bounded cache of names (a frontend's parsed configurations)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[int, None] = OrderedDict()

    def hit(self, item: int) -> bool:
        """Whether `item` was cached; it is cached (most recent) afterwards."""
        if item in self._items:
            self._items.move_to_end(item)
            return True
        self._items[item] = None
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return False
