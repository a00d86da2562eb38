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
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from lambent.concurrency.throttle import RATE_EXCEEDED, Throttle, ThrottleReason
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
    ) -> None:
        self._limit = account_limit
        self._reserved_for = reserved_for
        self._reserved_total = reserved_total
        self._provisioned_for = provisioned_for
        self._accounts: dict[str, _Account] = {}
        self._functions: dict[tuple[str, str], int] = {}
        self._on_demand: dict[tuple[str, str], int] = {}
        self._listeners: list[ReleaseListener] = []

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

    def try_take(
        self, account_id: str, function_name: str, qualifiers: tuple[str, ...] = ()
    ) -> Lease | Throttle:
        """`qualifiers`: what the invocation names (alias, version); empty: not checked
        against provisioned concurrency."""
        reserved = self._reserved_for(account_id, function_name)
        key = (account_id, function_name)
        committed = self._committed(account_id, function_name, qualifiers) if reserved else 0
        free = self._free(account_id, function_name, reserved)
        if committed and reserved is not None:
            free = min(free, reserved - committed - self._on_demand.get(key, 0))
        if free <= 0:
            if reserved is not None:
                return Throttle(ThrottleReason.RESERVED_CONCURRENCY, reserved)
            return Throttle(ThrottleReason.ACCOUNT_CONCURRENCY)
        account = self._accounts.setdefault(account_id, _Account())
        if reserved is None:
            account.unreserved_in_use += 1
        account.in_use += 1
        self._functions[key] = self._functions.get(key, 0) + 1
        if committed:
            self._on_demand[key] = self._on_demand.get(key, 0) + 1
        return Lease(account_id, function_name, reserved is not None, on_demand=bool(committed))

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
        ticket = self.take(version.account_id, version.function_name, named)
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
