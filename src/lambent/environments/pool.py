"""The environments of one function version: idle ones reused most-recently-used first.

An environment serves one invocation at a time. `lease()` hands out the warmest idle (or
frozen) environment, else waits for a RETURNING one (it has just answered and is about to
call /next again: cheaper than a cold start by four orders of magnitude), else revives a
dormant one, else creates a new one. Environments never cross versions: the pool is keyed
by the version's revision, so a code or configuration update gets a new pool and the old
one is retired.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from lambent.clock import Clock
from lambent.environments.environment import Environment
from lambent.environments.lifecycle import TAKEABLE, EnvState
from lambent.functions.model import FunctionVersion

EnvironmentFactory = Callable[["VersionPool"], Awaitable[Environment]]


@dataclass
class PoolStats:
    idle: int
    busy: int
    dormant: int
    total: int
    created: int


_BUSY = frozenset({EnvState.BUSY, EnvState.RETURNING, EnvState.DRAINING})


class PoolRetired(Exception):
    """The version's pool was retired while an invocation waited on it."""


class VersionPool:
    def __init__(self, version: FunctionVersion, factory: EnvironmentFactory, clock: Clock) -> None:
        self.version = version
        self._factory = factory
        self._clock = clock
        self._idle: list[Environment] = []  # most recently used last
        self._provisioned_idle: list[Environment] = []  # served before on-demand ones
        self._dormant: list[Environment] = []
        self._all: set[Environment] = set()
        # Leases given back while their runtime was still on its way to /next.
        self._returning: set[Environment] = set()
        self._leased: set[Environment] = set()
        self._waiters: collections.deque[asyncio.Future[Environment]] = collections.deque()
        self.created = 0
        self.retired = False
        # Last time the pool was used: an empty pool (and its template) is kept this long.
        self.touched = clock.monotonic()

    # -- leasing ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[tuple[Environment, bool]]:
        """An environment for one invocation, and whether it had to be created for it."""
        env, created = await self._acquire()
        self._leased.add(env)
        try:
            yield env, created
        finally:
            self._leased.discard(env)
            self._after(env)

    async def _acquire(self) -> tuple[Environment, bool]:
        if self.retired:
            raise PoolRetired(self.version.key)
        self.touched = self._clock.monotonic()
        while self._provisioned_idle:
            env = self._provisioned_idle.pop()
            if env.state in TAKEABLE:
                return env, False
        while self._idle:
            env = self._idle.pop()
            if env.state in TAKEABLE:
                return env, False
        if self._returning:
            fut: asyncio.Future[Environment] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            return await fut, False
        while self._dormant:
            env = self._dormant.pop()
            if env.state is EnvState.DORMANT:
                return env, False
        env = await self._factory(self)
        self.created += 1
        self._all.add(env)
        return env, True

    def _after(self, env: Environment) -> None:
        """The invocation is over; the runtime may not be back in /next yet (RETURNING)."""
        if env.state is EnvState.RETURNING:
            self._returning.add(env)
        elif env.state is EnvState.DORMANT or env.state is EnvState.IDLE:
            self._put(env)
        elif env.state is EnvState.DEAD:
            self._all.discard(env)

    def available(self, env: Environment) -> None:
        """Called by an environment that parked in /next (IDLE) or died idle (DORMANT)."""
        if env in self._leased:
            return  # the end of its lease puts it back
        self._returning.discard(env)
        self._put(env)

    def _put(self, env: Environment) -> None:
        if self.retired:
            env.retire()
            return
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(env)
                return
        if env.state in TAKEABLE:
            (self._provisioned_idle if env.provisioned else self._idle).append(env)
        elif env.state is EnvState.DORMANT:
            self._dormant.append(env)
        if not self._returning:
            self._wake_waiters_to_create()

    def _wake_waiters_to_create(self) -> None:
        """Waiters for a returning environment that never came back must create one."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.get_loop().create_task(self._create_for(fut))

    async def _create_for(self, fut: asyncio.Future[Environment]) -> None:
        try:
            env = await self._factory(self)
        except Exception as exc:
            if not fut.done():
                fut.set_exception(exc)
            return
        self.created += 1
        self._all.add(env)
        if not fut.done():
            fut.set_result(env)
        else:
            self._put(env)

    def crashed(self, env: Environment) -> None:
        self.available(env)

    def add_idle(self, env: Environment) -> None:
        """An environment created ahead of time (provisioned concurrency)."""
        self.created += 1
        self._all.add(env)
        self._put(env)

    def provisioned(self) -> list[Environment]:
        return [e for e in self.environments() if e.provisioned]

    def unprovision(self, keep: int) -> None:
        """Fewer provisioned environments wanted: the extra ones become on-demand ones."""
        for env in self.provisioned()[keep:]:
            env.provisioned = False
            if env in self._provisioned_idle:
                self._provisioned_idle.remove(env)
                self._idle.insert(0, env)

    # -- housekeeping ----------------------------------------------------------------------
    def reap(self, keep_alive_s: float, max_lifetime_s: float) -> int:
        """Retire idle environments past keep-alive or maximum lifetime."""
        now = self._clock.monotonic()
        doomed = [
            env
            for env in self._idle + self._dormant
            if not env.provisioned
            and (now - env.last_used > keep_alive_s or now - env.created_at > max_lifetime_s)
        ]
        for env in doomed:
            self._discard(env)
            env.retire()
        self._all = {e for e in self._all if e.state is not EnvState.DEAD}
        return len(doomed)

    def _discard(self, env: Environment) -> None:
        if env in self._provisioned_idle:
            self._provisioned_idle.remove(env)
        if env in self._idle:
            self._idle.remove(env)
        if env in self._dormant:
            self._dormant.remove(env)

    def retire(self) -> None:
        self.retired = True
        for env in list(self._all):
            env.retire()
        self._idle.clear()
        self._provisioned_idle.clear()
        self._dormant.clear()
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(PoolRetired(self.version.key))
        self._waiters.clear()

    async def closed(self) -> None:
        for env in list(self._all):
            await env.closed()

    def environments(self) -> list[Environment]:
        return [e for e in self._all if e.state is not EnvState.DEAD]

    def stats(self) -> PoolStats:
        live = self.environments()
        return PoolStats(
            idle=sum(1 for e in live if e.state in TAKEABLE),
            busy=sum(1 for e in live if e.state in _BUSY),
            dormant=sum(1 for e in live if e.state is EnvState.DORMANT),
            total=len(live),
            created=self.created,
        )

    @property
    def empty(self) -> bool:
        return not self.environments()
