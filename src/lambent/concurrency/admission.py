"""Concurrency admission, as AWS models it.

Every running invocation holds one lease. An account may run `account_concurrency` at
once. A function with reserved concurrency N runs at most N, and those N are carved out of
the account: functions without a reservation share what is left (the unreserved pool),
which AWS keeps at 100 or more. Reserved 0 throttles everything.

Taking a lease is synchronous and never waits: there is room, or the caller gets AWS's
429 with the right `Reason` now. The lease is an async context manager so that every exit
path gives it back; `in_use` lets tests prove nothing leaked.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from lambent.errors import TooManyRequests
from lambent.functions.model import FunctionVersion, Resolved

RATE_EXCEEDED = "Rate Exceeded."

ReservedLookup = Callable[[str, str], int | None]
ReservedTotal = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Lease:
    account_id: str
    function_name: str
    reserved: bool


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
    ) -> None:
        self._limit = account_limit
        self._reserved_for = reserved_for
        self._reserved_total = reserved_total
        self._accounts: dict[str, _Account] = {}
        self._functions: dict[tuple[str, str], int] = {}

    @property
    def account_limit(self) -> int:
        return self._limit

    def take(self, account_id: str, function_name: str) -> Lease:
        account = self._accounts.setdefault(account_id, _Account())
        reserved = self._reserved_for(account_id, function_name)
        key = (account_id, function_name)
        if reserved is not None:
            if self._functions.get(key, 0) >= reserved:
                raise TooManyRequests(
                    RATE_EXCEEDED, reason="ReservedFunctionConcurrentInvocationLimitExceeded"
                )
        else:
            unreserved_limit = self._limit - self._reserved_total(account_id)
            if account.unreserved_in_use >= unreserved_limit or account.in_use >= self._limit:
                raise TooManyRequests(RATE_EXCEEDED, reason="ConcurrentInvocationLimitExceeded")
            account.unreserved_in_use += 1
        account.in_use += 1
        self._functions[key] = self._functions.get(key, 0) + 1
        return Lease(account_id, function_name, reserved is not None)

    def give(self, lease: Lease) -> None:
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

    @contextlib.asynccontextmanager
    async def lease(self, version: FunctionVersion, resolved: Resolved) -> AsyncIterator[Lease]:
        ticket = self.take(version.account_id, version.function_name)
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
