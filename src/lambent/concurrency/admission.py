"""Concurrency admission, as AWS models it.

Every running invocation holds one lease. An account may run `account_concurrency` at
once. A function with reserved concurrency N runs at most N, and those N are carved out of
the account: functions without a reservation share what is left (the unreserved pool),
which AWS keeps at 100 or more. Reserved 0 throttles everything. Provisioned concurrency
of a function with a reservation is committed out of it: a qualifier without provisioned
concurrency runs only on what is left (reserved equal to total provisioned throttles it
at once), while a provisioned qualifier may use all of the reservation.

Taking a lease is synchronous and never waits: there is room, or the caller gets a
`Throttle` (AWS's `Reason`) now; `take` raises it as the 429 the sync path answers. The
lease is an async context manager so that every exit path gives it back; `in_use` lets
tests prove nothing leaked. `free` says how many more leases a function could take now,
and listeners hear every lease given back, so the async scheduler claims only what can
run and wakes when room appears instead of polling.

In cluster mode (`tokens`, concurrency/tokens.py) every limit above holds across all
frontends: a lease also needs one token of each pool it counts against, held by this node
in a block leased from the ledger in PostgreSQL. `acquire` may then wait, for at most the
tokens' `wait_s`, while the ledger or a peer provides one; `try_take` never waits and uses
only the tokens already here. Without `tokens` (one process) nothing of this runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from lambent.concurrency.ledger import LedgerUnavailable, pool_key
from lambent.concurrency.throttle import RATE_EXCEEDED, Throttle, ThrottleReason
from lambent.concurrency.tokens import ClusterTokens, Want
from lambent.errors import InternalFailure
from lambent.functions.model import FunctionVersion, Resolved

__all__ = ["RATE_EXCEEDED", "Admission", "Lease"]

ReservedLookup = Callable[[str, str], int | None]
ReservedTotal = Callable[[str], int]
ProvisionedLookup = Callable[[str, str], Mapping[str, int]]
ReleaseListener = Callable[["Lease"], None]


@dataclass(slots=True, eq=False)
class Lease:
    account_id: str
    function_name: str
    reserved: bool  # counted against the function's reservation, not the unreserved pool
    returned: bool = False
    on_demand: bool = False  # a qualifier without provisioned concurrency, beside some that has
    pools: tuple[str, ...] = ()  # cluster mode: the ledger pools it holds a token of


@dataclass
class _Account:
    in_use: int = 0
    unreserved_in_use: int = 0


class Admission:
    def __init__(
        self,
        account_limit: int,
        reserved_for: ReservedLookup,
        reserved_total: ReservedTotal,
        provisioned_for: ProvisionedLookup | None = None,
        tokens: ClusterTokens | None = None,
    ) -> None:
        self._limit = account_limit
        self._reserved_for = reserved_for
        self._reserved_total = reserved_total
        self._provisioned_for = provisioned_for
        self._accounts: dict[str, _Account] = {}
        self._functions: dict[tuple[str, str], int] = {}
        self._on_demand: dict[tuple[str, str], int] = {}
        self._listeners: list[ReleaseListener] = []
        self._tokens = tokens

    @property
    def account_limit(self) -> int:
        return self._limit

    def reserved(self, account_id: str, function_name: str) -> int | None:
        return self._reserved_for(account_id, function_name)

    def free(self, account_id: str, function_name: str) -> int:
        """How many more leases `function_name` could take right now."""
        return self._free(account_id, function_name, self._reserved_for(account_id, function_name))

    def _free(self, account_id: str, function_name: str, reserved: int | None) -> int:
        if reserved is not None:
            return max(0, reserved - self._functions.get((account_id, function_name), 0))
        account = self._accounts.get(account_id) or _Account()
        unreserved_limit = self._limit - self._reserved_total(account_id)
        return max(
            0,
            min(unreserved_limit - account.unreserved_in_use, self._limit - account.in_use),
        )

    def _committed(self, account_id: str, function_name: str, qualifiers: tuple[str, ...]) -> int:
        """Provisioned concurrency a qualifier without any of its own may not use."""
        if not qualifiers or self._provisioned_for is None:
            return 0
        by_qualifier = self._provisioned_for(account_id, function_name)
        if not by_qualifier or any(q in by_qualifier for q in qualifiers):
            return 0
        return sum(by_qualifier.values())

    def _check(
        self, account_id: str, function_name: str, qualifiers: tuple[str, ...]
    ) -> tuple[int | None, int, Throttle | None]:
        """(reserved, provisioned committed out of it, the throttle if there is no room)."""
        reserved = self._reserved_for(account_id, function_name)
        committed = self._committed(account_id, function_name, qualifiers) if reserved else 0
        free = self._free(account_id, function_name, reserved)
        if committed and reserved is not None:
            on_demand = self._on_demand.get((account_id, function_name), 0)
            free = min(free, reserved - committed - on_demand)
        return reserved, committed, (self._throttle(reserved) if free <= 0 else None)

    @staticmethod
    def _throttle(reserved: int | None) -> Throttle:
        if reserved is not None:
            return Throttle(ThrottleReason.RESERVED_CONCURRENCY, reserved)
        return Throttle(ThrottleReason.ACCOUNT_CONCURRENCY)

    def _wants(
        self, account_id: str, function_name: str, reserved: int | None, committed: int
    ) -> tuple[Want, ...]:
        """The cluster pools a lease counts against, with their capacities as seen here."""
        if reserved is None:
            unreserved = self._limit - self._reserved_total(account_id)
            return ((pool_key("u", account_id), unreserved),)
        whole = (pool_key("r", account_id, function_name), reserved)
        if not committed:
            return (whole,)
        return (whole, (pool_key("o", account_id, function_name), reserved - committed))

    @property
    def clustered(self) -> bool:
        """Limits hold across the cluster (tokens from the ledger): a throttle here may
        mean other nodes' invocations hold the room."""
        return self._tokens is not None

    def try_take(
        self, account_id: str, function_name: str, qualifiers: tuple[str, ...] = ()
    ) -> Lease | Throttle:
        """`qualifiers`: what the invocation names (alias, version); empty: not checked
        against provisioned concurrency. Never waits (in cluster mode: tokens held here).

        One process's path stays inline, as before the cluster existed (every warm invoke
        runs it; `_check` and `_book` are the same steps for the cluster's paths)."""
        reserved = self._reserved_for(account_id, function_name)
        key = (account_id, function_name)
        committed = self._committed(account_id, function_name, qualifiers) if reserved else 0
        free = self._free(account_id, function_name, reserved)
        if committed and reserved is not None:
            free = min(free, reserved - committed - self._on_demand.get(key, 0))
        if free <= 0:
            return self._throttle(reserved)
        if self._tokens is not None:
            wants = self._wants(account_id, function_name, reserved, committed)
            if not self._tokens.try_claim(wants):
                return self._throttle(reserved)
            return self._book(account_id, function_name, reserved, committed, wants)
        account = self._accounts.setdefault(account_id, _Account())
        if reserved is None:
            account.unreserved_in_use += 1
        account.in_use += 1
        self._functions[key] = self._functions.get(key, 0) + 1
        if committed:
            self._on_demand[key] = self._on_demand.get(key, 0) + 1
        return Lease(account_id, function_name, reserved is not None, on_demand=bool(committed))

    async def acquire(
        self, account_id: str, function_name: str, qualifiers: tuple[str, ...] = ()
    ) -> Lease | Throttle:
        """`try_take`, except that in cluster mode it waits (boundedly) for tokens from the
        ledger or a peer. Raises InternalFailure when the ledger cannot be reached."""
        if self._tokens is None:
            return self.try_take(account_id, function_name, qualifiers)
        reserved, committed, throttle = self._check(account_id, function_name, qualifiers)
        if throttle is not None:
            return throttle
        wants = self._wants(account_id, function_name, reserved, committed)
        try:
            claimed = await self._tokens.claim(wants)
        except LedgerUnavailable as exc:
            raise InternalFailure("An internal error occurred.") from exc
        if not claimed:
            return self._throttle(reserved)
        return self._book(account_id, function_name, reserved, committed, wants)

    def _book(
        self,
        account_id: str,
        function_name: str,
        reserved: int | None,
        committed: int,
        wants: tuple[Want, ...],
    ) -> Lease:
        key = (account_id, function_name)
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = _Account()
        if reserved is None:
            account.unreserved_in_use += 1
        account.in_use += 1
        self._functions[key] = self._functions.get(key, 0) + 1
        if committed:
            self._on_demand[key] = self._on_demand.get(key, 0) + 1
        pools = tuple(k for k, _ in wants)
        return Lease(account_id, function_name, reserved is not None, False, bool(committed), pools)

    def take(self, account_id: str, function_name: str, qualifiers: tuple[str, ...] = ()) -> Lease:
        """A lease, or AWS's 429 raised."""
        taken = self.try_take(account_id, function_name, qualifiers)
        if isinstance(taken, Throttle):
            raise taken.error()
        return taken

    def give(self, lease: Lease) -> None:
        """Give a lease back (a second give of the same lease does nothing)."""
        if lease.returned:
            return
        lease.returned = True
        if lease.pools and self._tokens is not None:
            self._tokens.release(lease.pools)
        account = self._accounts[lease.account_id]
        account.in_use -= 1
        if not lease.reserved:
            account.unreserved_in_use -= 1
        key = (lease.account_id, lease.function_name)
        left = self._functions[key] - 1
        if left:
            self._functions[key] = left
        else:
            del self._functions[key]
        if lease.on_demand:
            left = self._on_demand[key] - 1
            if left:
                self._on_demand[key] = left
            else:
                del self._on_demand[key]
        for listener in self._listeners:
            listener(lease)

    def on_release(self, listener: ReleaseListener) -> None:
        """Call `listener` with every lease given back (synchronously: keep it cheap)."""
        self._listeners.append(listener)

    @contextlib.asynccontextmanager
    async def lease(self, version: FunctionVersion, resolved: Resolved) -> AsyncIterator[Lease]:
        named = (resolved.alias, version.version) if resolved.alias else (version.version,)
        if self._tokens is None:
            ticket = self.take(version.account_id, version.function_name, named)
        else:
            taken = await self.acquire(version.account_id, version.function_name, named)
            if isinstance(taken, Throttle):
                raise taken.error()
            ticket = taken
        try:
            yield ticket
        finally:
            self.give(ticket)

    def in_use(self, account_id: str | None = None) -> int:
        if account_id is not None:
            acct = self._accounts.get(account_id)
            return acct.in_use if acct else 0
        return sum(a.in_use for a in self._accounts.values())

    def function_in_use(self, account_id: str, function_name: str) -> int:
        return self._functions.get((account_id, function_name), 0)
