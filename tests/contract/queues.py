"""Every `EventQueue` implementation the queue contract suite runs against, and how to open
each: memory, SQLite (a file in the test's directory) and PostgreSQL (the test's own
schema, marked `services`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.memory import MemoryQueue
from lambent.async_invoke.postgres import PostgresQueue
from lambent.async_invoke.queue import EventQueue
from lambent.async_invoke.sqlite import SqliteQueue
from lambent.clock import SystemClock

T0 = 1_700_000_000.0
DEST = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:fn", None)
FN = DEST.function_arn
OTHER = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:other")
LEASE = 960.0
# Longer than any queue call can take on a busy machine: only a hang hits it.
HANG_S = 30.0
# The contract's leases are the claims' own (`lease_s`): a node lease longer than any of
# them leaves those in charge. The cluster suite tests node leases on their own.
CONTRACT_NODE_LEASE_S = 1e6


@dataclass(frozen=True)
class Opener:
    name: str
    open: Callable[[], Awaitable[EventQueue]]  # opening again reopens the same queue
    durable: bool  # what was committed survives close and reopen


async def _memory() -> EventQueue:
    return MemoryQueue()


def open_pg(
    url: str, node_id: str = "node-a", node_lease_s: float = CONTRACT_NODE_LEASE_S
) -> Callable[[], Awaitable[PostgresQueue]]:
    async def opener() -> PostgresQueue:
        return await PostgresQueue.open(
            url, node_id=node_id, clock=SystemClock(), node_lease_s=node_lease_s, renew=False
        )

    return opener


def opener_for(name: str, tmp: Path, request: pytest.FixtureRequest) -> Opener:
    if name == "memory":
        return Opener(name, _memory, durable=False)
    if name == "sqlite":

        async def sqlite() -> EventQueue:
            return SqliteQueue(tmp / "queue.db")

        return Opener(name, sqlite, durable=True)
    url = str(request.getfixturevalue("pg_url"))
    return Opener(name, open_pg(url), durable=True)


QUEUES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.services),
]


def event(
    event_id: str, at: float = T0, payload: bytes = b"{}", dest: Destination = DEST
) -> QueuedEvent:
    return QueuedEvent(event_id, dest, payload, EventState(enqueued_at=at), available_at=at)


def ids(events: list[QueuedEvent]) -> list[str]:
    return [e.event_id for e in events]
