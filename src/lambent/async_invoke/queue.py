"""The durable event queue behind asynchronous invocation: one small interface.

Life of an event: `enqueue` (durable when it returns: the 202 waits for it) -> `claim`
(leased to one delivery until `now + lease_s`) -> `complete` (gone) or `reschedule`
(back in the queue with new retry state, available again at a given time). A claim that
is never settled, because the server died mid-invoke, is handed out again: `recover()`
at start-up releases every claim this server holds (on SQLite, every claim: one server
owns the file), and a claim whose lease ran out is claimable again anyway. On PostgreSQL
several nodes share the queue: claims have an owner and a node lease the owner renews, so
a dead node's claims lapse and any node takes them (postgres.py).

Events are claimed per function (the unqualified function ARN the event is for):
`due_functions` says which functions have events to run now and how many, so the
scheduler claims only what each function's free concurrency can run, and serves the
functions in turn.

Times are wall-clock seconds (`Clock.time()`): they outlive the process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lambent.async_invoke.event import EventState, QueuedEvent


@dataclass(frozen=True, slots=True)
class DueFunction:
    """A function with events claimable now."""

    function_arn: str  # unqualified: arn:aws:lambda:<region>:<account>:function:<name>
    count: int  # how many are claimable now, up to the cap asked for
    due_at: float  # when the oldest of them fell due

    @property
    def account_id(self) -> str:
        return self.function_arn.split(":")[4]

    @property
    def function_name(self) -> str:
        return self.function_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True, slots=True)
class QueueStats:
    queued: int  # waiting, due now or later
    claimed: int  # leased to a delivery
    commits: int  # durable transactions so far (group commit shares one among many writes)
    operations: int  # queue operations so far (reads included)


class EventQueue(Protocol):
    async def enqueue(self, event: QueuedEvent) -> None:
        """Store the event. It is durable when this returns. An id already queued is kept
        as it was (a retried acceptance does not duplicate the event)."""

    async def due_functions(self, now: float, cap: int) -> list[DueFunction]:
        """Every function with events claimable at `now` (due, or their lease ran out),
        oldest due first, each with its count of them up to `cap`."""

    async def claim(
        self, function_arn: str, now: float, limit: int, lease_s: float
    ) -> list[QueuedEvent]:
        """Up to `limit` of the function's events claimable at `now` (lapsed leases first,
        then oldest due), each leased until `now + lease_s`."""

    async def complete(self, event_id: str) -> None:
        """The event is finished: delivered, sent on, or dropped."""

    async def reschedule(self, event_id: str, state: EventState, available_at: float) -> None:
        """Release the claim and store the new retry state; due again at `available_at`."""

    async def release(self, event_ids: Sequence[str]) -> None:
        """Give claims back unchanged (a scheduler stopping before it settled them)."""

    async def recover(self) -> int:
        """At start-up: every claim this server holds goes back to the queue (on a shared
        queue, only this node's: the other nodes' are theirs while they live). Returns
        how many."""

    async def next_due(self, after: float) -> float | None:
        """The earliest time later than `after` at which an event becomes claimable (a
        due time or a lease running out); None if there is none."""

    async def claimed_elsewhere(
        self, account_id: str, function_arn: str | None, now: float
    ) -> bool:
        """Whether another node holds a live claim (at `now`) on the function's events (or,
        `function_arn` None, on any of the account's): other nodes' pollers are running
        them. Queues one server owns: never."""

    def on_remote(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever another node may have made events claimable (it accepted
        one, scheduled a retry, handed claims back, or died with claims that lapsed).
        Queues one server owns (memory, SQLite) never call it."""

    async def stats(self) -> QueueStats: ...

    async def close(self) -> None: ...
