"""Who waits for a queue: long-polling receives and pollers, woken when messages arrive.

A send on this node wakes its queue's waiters at once; a send on another node of a
cluster reaches here through the backend's `on_remote_send` (PostgreSQL NOTIFY). Nothing
polls the database to find new messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class Waiters:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._listeners: dict[str, list[Callable[[], None]]] = {}

    def event(self, queue_id: str) -> asyncio.Event:
        """The event the next wake of this queue sets: take it before looking at the
        queue, so a send between the look and the wait is not missed."""
        event = self._events.get(queue_id)
        if event is None:
            event = self._events[queue_id] = asyncio.Event()
        return event

    def wake(self, queue_id: str) -> None:
        """Wake the queue's waiters ("*": every queue's, after a lost connection)."""
        if queue_id == "*":
            for known in {*self._events, *self._listeners}:
                self.wake(known)
            return
        event = self._events.pop(queue_id, None)
        if event is not None:
            event.set()
        for listener in self._listeners.get(queue_id, ()):
            listener()

    async def wait(self, event: asyncio.Event, timeout_s: float) -> bool:
        """True if woken within `timeout_s`."""
        if timeout_s <= 0:
            return event.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)
        return event.is_set()

    def subscribe(self, queue_id: str, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (synchronously, on the loop) whenever messages arrive in the
        queue; returns the function that unsubscribes it."""
        self._listeners.setdefault(queue_id, []).append(listener)

        def unsubscribe() -> None:
            listeners = self._listeners.get(queue_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(queue_id, None)

        return unsubscribe
