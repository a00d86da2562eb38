"""Wake-ups between nodes: LISTEN on the queue's channel, over a connection of its own.

A node that commits an enqueue, a retry or a hand-back NOTIFYs the channel with its node
id (pg_writer.py); every other node listening calls its wake-up, so their schedulers look
at the queue at once instead of polling it. A node ignores its own notifications (its
scheduler was told locally).

The connection is kept by this module alone: lost (PostgreSQL restarted, network cut), it
is made again with a growing pause (up to `MAX_PAUSE_S`), and every (re)connection counts
as a wake-up, since notifications sent while nobody listened are gone. A connection that
stays quiet is checked every `PING_S` (a `SELECT 1`), so a half-open socket is noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from psycopg import AsyncConnection, sql

from lambent.pg.connect import CONNECT_TIMEOUT_S

log = logging.getLogger(__name__)
PING_S = 10.0
FIRST_PAUSE_S = 0.1
MAX_PAUSE_S = 2.0


class Wakeups:
    def __init__(
        self,
        url: str,
        channel: str,
        node_id: str,
        wake: Callable[[], None],
        *,
        on_payload: Callable[[str], None] | None = None,
        name: str = "async-queue-listen",
    ) -> None:
        """`wake()` on every (re)connection, and on each other node's notification unless
        `on_payload` is given: then notifications are `NODE REST` and another node's call
        `on_payload(REST)` (the queue service names the queue that got messages)."""
        self._url = url
        self._channel = channel
        self._node = node_id
        self._wake = wake
        self._on_payload = on_payload
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self.connections = 0  # how many times a LISTEN was set up (1 + reconnections)
        self.backend_pid: int | None = None  # the listening server process, while listening

    async def start(self, timeout_s: float = 10.0) -> None:
        """Start listening; returns once the first LISTEN is in place (or the timeout: the
        listener keeps trying on its own)."""
        self._task = asyncio.create_task(self._run(), name=self._name)
        with contextlib.suppress(TimeoutError):
            await self.wait_connections(1, timeout_s)

    async def wait_connections(self, count: int, timeout_s: float) -> None:
        """Until LISTEN has been set up `count` times in all (1 + reconnections)."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.connections >= count), timeout_s
            )

    async def _run(self) -> None:
        pause = FIRST_PAUSE_S
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("async queue: LISTEN connection lost (%s); reconnecting", exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_S)
            else:
                pause = FIRST_PAUSE_S

    async def _listen(self) -> None:
        conn = await AsyncConnection.connect(
            self._url,
            autocommit=True,
            connect_timeout=int(CONNECT_TIMEOUT_S),
            application_name=f"lambent-{self._name}",
        )
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self.backend_pid = conn.info.backend_pid
            async with self._changed:
                self.connections += 1
                self._changed.notify_all()
            self._wake()  # whatever was notified while nobody listened
            while True:
                async for note in conn.notifies(timeout=PING_S):
                    self._notified(note.payload)
                await conn.execute("SELECT 1")  # quiet: is the connection still there?
        finally:
            self.backend_pid = None
            with contextlib.suppress(Exception):
                await conn.close()

    def _notified(self, payload: str) -> None:
        if self._on_payload is None:
            if payload != self._node:
                self._wake()
            return
        node, _, rest = payload.partition(" ")
        if node != self._node:
            self._on_payload(rest)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
