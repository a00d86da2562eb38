"""One node's blocks of admission tokens, leased from the cluster ledger.

Admission (admission.py) asks here, in cluster mode only, for one token of each pool a lease
counts against. The fast path is local and synchronous: a node holding an idle token of
every pool uses it, no round trip. Otherwise the caller waits, up to `wait_s`, while one
refill per pool asks the ledger for a block (`BlockPolicy.ask`). When the ledger has
nothing left, the refill signals "ask": every peer gives back its idle tokens of that pool
at once and signals "ret", and the refill tries again (on "ret", a token given back here,
or every `retry_s`) until no caller waits any more.

A tick every `tick_s` gives back what a whole tick left unused (`BlockPolicy.surplus`) and
renews the node's lease. A node that cannot renew stops admitting from its blocks when its
last renewal, counted from before it was sent, is `lease_s` old: by then the ledger may
have handed them to another node.

The precise guarantee (docs/CLUSTER.md, "Admission across the cluster"):

- Safety: for every pool, the invocations admitted and still running on all live nodes
  never exceed the pool's capacity at any instant. Each one runs on a token its node holds,
  and the ledger never has more tokens held than the capacity (ledger.py). The one
  exception is a node that loses the ledger for longer than `lease_s` while invocations it
  admitted still run (it died, or was cut off): its tokens are granted again after the
  lease, so for at most the rest of those invocations' timeouts the cluster may run up to
  that node's count above the quota.
- Liveness: a throttle means that for at least `wait_s` (default 100 ms) after the request
  arrived this node had no idle token, and that twice after it arrived the ledger granted
  none although the peers had been asked to give back their idle tokens at least `retry_s`
  before (or that 10 x `wait_s` passed without any answer). Exact for peers that answer an
  ask within `retry_s`; a slower peer holding idle tokens can cause a throttle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from lambent.clock import Clock
from lambent.concurrency.blocks import BlockPolicy
from lambent.concurrency.ledger import Ledger, LedgerUnavailable, SignalKind

log = logging.getLogger(__name__)

# A caller waits at most this many times `wait_s`, however slow the answers.
HARD_BOUND = 10
# (pool key, capacity as this node sees it now)
Want = tuple[str, int]


@dataclass(frozen=True)
class TokenSettings:
    lease_s: float = 10.0  # a silent node's tokens return after this long
    tick_s: float = 0.5  # idle tokens go back after at most two ticks; the lease is renewed
    wait_s: float = 0.1  # how long a request waits for a token before its throttle
    retry_s: float = 0.01  # an empty pool is asked again this often while callers wait


@dataclass
class _Pool:
    capacity: int
    held: int = 0
    used: int = 0
    peak: int = 0  # most in use at once this tick
    waiting: int = 0
    busy: int = 0  # ledger calls in flight for this pool (reconciling waits for them)
    empty: int = 0  # grants of nothing after the peers were asked, ever (claim counts them)
    ops: int = 0  # ledger calls started for this pool, ever (reconciling skips a moved one)
    refill: asyncio.Task[None] | None = None
    failed: bool = False  # the last ledger call failed: waiters get a 5xx, not a throttle
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def poke(self) -> None:
        """Wake everything waiting on this pool (each waits on the event it saw)."""
        event, self.changed = self.changed, asyncio.Event()
        event.set()


class ClusterTokens:
    def __init__(
        self,
        ledger: Ledger,
        node: str,
        clock: Clock,
        policy: BlockPolicy | None = None,
        settings: TokenSettings | None = None,
    ) -> None:
        self._ledger = ledger
        self.node = node
        self._clock = clock
        self._policy = policy or BlockPolicy()
        self._settings = settings or TokenSettings()
        self._pools: dict[str, _Pool] = {}
        self._valid_until = 0.0  # monotonic; no admission from blocks after it
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def wait_s(self) -> float:
        return self._settings.wait_s

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._ledger.subscribe(self._heard)
        await self._renew()
        self._ticker = asyncio.create_task(self._tick_forever(), name="admission-tokens")

    async def close(self, *, give_back: bool = True) -> None:
        """Stop; `give_back=False` leaves the tokens to lapse (what a crash does)."""
        tasks = [t for t in (self._ticker, *self._tasks) if t is not None]
        tasks += [p.refill for p in self._pools.values() if p.refill is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._valid_until = 0.0
        if give_back:
            with contextlib.suppress(LedgerUnavailable):
                await self._ledger.drop(self.node)

    # -- admitting ----------------------------------------------------------------------------
    def try_claim(self, wants: Sequence[Want]) -> bool:
        """One token of each pool from the blocks held, now, or False (nothing taken)."""
        if self._clock.monotonic() >= self._valid_until:
            return False
        pools = self._pools
        for key, capacity in wants:
            pool = pools.get(key)
            if pool is None:
                pool = pools[key] = _Pool(capacity)
            pool.capacity = capacity
            if pool.held - pool.used < 1 or pool.used >= capacity:
                return False
        for key, _ in wants:
            pool = pools[key]
            pool.used += 1
            pool.peak = max(pool.peak, pool.used)
        return True

    async def claim(self, wants: Sequence[Want], wait_s: float | None = None) -> bool:
        """One token of each pool, waiting for the ledger or a peer. False (a throttle)
        only once `wait_s` has passed and, since the caller came, the ledger has twice
        granted nothing after the peers were asked (so a busy event loop, here or at a
        peer, delays a throttle instead of causing one); never later than 10 x `wait_s`.

        Raises LedgerUnavailable when the ledger failed while the caller waited."""
        if self.try_claim(wants):
            return True
        loop = asyncio.get_running_loop()
        bound = self._settings.wait_s if wait_s is None else wait_s
        deadline = loop.time() + bound
        last_chance = loop.time() + HARD_BOUND * bound
        for key, capacity in wants:  # try_claim stops at the first it lacks
            if key not in self._pools:
                self._pools[key] = _Pool(capacity)
        registered: dict[int, tuple[_Pool, int]] = {}  # id -> (pool, its `empty` then)
        try:
            while True:
                lacking = [self._pools[k] for k, _ in wants if self._lacks(self._pools[k])]
                if not lacking:  # tokens are here, or the capacity is used up on this node
                    return self.try_claim(wants)
                for pool in lacking:
                    if id(pool) not in registered:
                        pool.waiting += 1
                        registered[id(pool)] = (pool, pool.empty)
                self._refill_all(wants)
                now = loop.time()
                if now >= last_chance or (now >= deadline and self._confirmed(registered)):
                    return False
                until = deadline if now < deadline else last_chance
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lacking[0].changed.wait(), until - now)
                if any(pool.failed for pool in lacking):
                    raise LedgerUnavailable("the admission ledger is unreachable")
        finally:
            for pool, _ in registered.values():
                pool.waiting -= 1

    @staticmethod
    def _confirmed(registered: dict[int, tuple[_Pool, int]]) -> bool:
        """Some pool this caller lacks came back empty twice since it came."""
        return any(
            pool.empty - empty_then >= 2
            for pool, empty_then in registered.values()
            if pool.held - pool.used < 1
        )

    def _lacks(self, pool: _Pool) -> bool:
        return (
            pool.held - pool.used < 1 or self._clock.monotonic() >= self._valid_until
        ) and pool.used < pool.capacity

    def release(self, keys: Sequence[str]) -> None:
        """An invocation admitted on these pools is over: its tokens are idle here."""
        for key in keys:
            pool = self._pools.get(key)
            if pool is None:
                continue
            pool.used = max(0, pool.used - 1)
            if pool.waiting:
                pool.poke()

    def held(self, key: str) -> tuple[int, int]:
        """(held, in use) of a pool on this node: for tests and stats."""
        pool = self._pools.get(key)
        return (pool.held, pool.used) if pool else (0, 0)

    # -- refilling ----------------------------------------------------------------------------
    def _refill_all(self, wants: Sequence[Want]) -> None:
        for key, _ in wants:
            pool = self._pools[key]
            if pool.refill is None and self._lacks(pool):
                pool.failed = False
                pool.refill = asyncio.create_task(self._refill(key, pool), name=f"refill {key}")

    async def _refill(self, key: str, pool: _Pool) -> None:
        """Ask the ledger, then the peers, while more callers wait than idle tokens are held."""
        asked = False
        try:
            while pool.waiting > max(0, pool.held - pool.used) or (
                pool.waiting and self._clock.monotonic() >= self._valid_until
            ):
                if self._clock.monotonic() >= self._valid_until:
                    await self._renew()
                    continue
                want = self._policy.ask(pool.capacity, pool.held, pool.used, pool.waiting)
                if want <= 0:
                    return
                got = await self._ledger_take(key, pool, want)
                if got:
                    pool.held += got
                    pool.poke()
                    continue
                if asked:
                    pool.empty += 1  # nothing granted after the peers were asked
                    pool.poke()
                seen = pool.changed
                await self._ledger.signal("ask", key, self.node)
                asked = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(seen.wait(), self._settings.retry_s)
        except LedgerUnavailable as exc:
            log.warning("admission: the ledger failed (%s)", exc)
            pool.failed = True
            pool.poke()
        finally:
            pool.refill = None

    async def _ledger_take(self, key: str, pool: _Pool, want: int) -> int:
        pool.busy += 1
        pool.ops += 1
        try:
            lease_s = self._settings.lease_s
            got = await self._ledger.take(self.node, key, want, pool.capacity, lease_s)
        finally:
            pool.busy -= 1
        pool.failed = False
        return got

    # -- peers ----------------------------------------------------------------------------------
    def _heard(self, kind: SignalKind, key: str, node: str) -> None:
        if node == self.node:
            return
        pool = self._pools.get(key)
        if pool is None:
            return
        if kind == "ret":
            if pool.waiting:
                pool.poke()
            return
        idle = self._policy.idle(pool.held, pool.used)
        if idle and not pool.waiting:
            pool.held -= idle  # no longer ours to admit on, before the ledger hears it
            self._spawn(self._give(key, pool, idle, tell=True))

    async def _give(self, key: str, pool: _Pool, count: int, *, tell: bool = False) -> None:
        pool.busy += 1
        pool.ops += 1
        try:
            await self._ledger.give(self.node, key, count)
            if tell:
                await self._ledger.signal("ret", key, self.node)
        except LedgerUnavailable as exc:
            log.warning("admission: could not give back %d of %s (%s)", count, key, exc)
        finally:
            pool.busy -= 1

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the tick ---------------------------------------------------------------------------------
    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.tick_s)
            try:
                await self.tick()
            except LedgerUnavailable as exc:
                log.warning("admission: renewing failed (%s)", exc)

    async def tick(self) -> None:
        """Give back what the last tick left unused, forget empty pools, renew."""
        for key, pool in list(self._pools.items()):
            surplus = self._policy.surplus(pool.held, pool.used, pool.peak)
            pool.peak = pool.used
            if surplus and not pool.waiting:
                pool.held -= surplus
                await self._give(key, pool, surplus)
            if not (pool.held or pool.used or pool.waiting or pool.busy or pool.refill):
                del self._pools[key]
        await self._renew()

    async def _renew(self) -> None:
        """Extend the lease; then, for each pool no ledger call touched meanwhile, believe
        the ledger: a hold that lapsed is gone, tokens a failed give left there go back."""
        sent = self._clock.monotonic()
        quiet = {k: p.ops for k, p in self._pools.items() if not p.busy and p.refill is None}
        known = set(self._pools)
        recorded = await self._ledger.renew(self.node, self._settings.lease_s)
        self._valid_until = sent + self._settings.lease_s
        excess: list[tuple[str, _Pool, int]] = []
        for key, theirs in recorded.items():  # held there, forgotten here: a failed give
            if theirs and key not in known and key not in self._pools:
                excess.append((key, _Pool(0), theirs))
        for key, ops in quiet.items():
            pool = self._pools.get(key)
            if pool is None or pool.ops != ops or pool.busy or pool.refill is not None:
                continue  # the ledger's count moved while we asked: next time
            theirs = recorded.get(key, 0)
            if theirs < pool.held:
                log.warning("admission: %s lapsed (%d held, %d recorded)", key, pool.held, theirs)
                pool.held = theirs
            elif theirs > pool.held:
                excess.append((key, pool, theirs - pool.held))
        for key, pool, count in excess:
            await self._give(key, pool, count)
