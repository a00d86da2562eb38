"""Task-owned transactions and the one-writer lock, shared by the store implementations.

A transaction belongs to the task that opened it. It is found through a context variable
but used only by that task: a task started inside it inherits the variable, yet runs
outside the transaction, as it would with PostgreSQL, where each task has its own pooled
connection. Writers take one lock, so transactions run one at a time (serializable), and a
write outside a transaction waits for the running one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Held(Generic[T]):
    task: asyncio.Task[object] | None
    tx: T


class TransactionScope(Generic[T]):
    """Begin, commit and roll back one store's transactions, one writer at a time."""

    def __init__(
        self,
        name: str,
        begin: Callable[[], Awaitable[T]],
        commit: Callable[[T], Awaitable[None]],
        rollback: Callable[[T], Awaitable[None]],
    ) -> None:
        self._var: ContextVar[_Held[T] | None] = ContextVar(name, default=None)
        self._begin = begin
        self._commit = commit
        self._rollback = rollback
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def current(self) -> T | None:
        """The transaction the current task holds, if any."""
        held = self._var.get()
        if held is None or held.task is not asyncio.current_task():
            return None
        return held.tx

    def writer_lock(self) -> asyncio.Lock:
        """The one-writer lock (made per event loop, so a store outlives `asyncio.run`)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self.current() is not None:
            yield  # nested: joins the outer transaction
            return
        async with self.writer_lock():
            tx = await self._begin()
            token = self._var.set(_Held(asyncio.current_task(), tx))
            try:
                try:
                    yield
                except BaseException:
                    await self._rollback(tx)
                    raise
                try:
                    await self._commit(tx)
                except BaseException:
                    with contextlib.suppress(Exception):
                        await self._rollback(tx)
                    raise
            finally:
                self._var.reset(token)
