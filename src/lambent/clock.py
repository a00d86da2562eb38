"""Injected time.

Every timer of the data plane reads this clock: the function timeout, the init timeout, the
freeze delay, the shutdown grace, keep-alive reaping and retry backoff. Unit tests replace
it with `ManualClock` and move time forward instead of sleeping, so a test can show that a
timeout fires exactly at its deadline and not a tick before.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, TypeVarTuple, Unpack

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class Timer(Protocol):
    def cancel(self) -> None:
        """Stop the timer; a no-op once it has fired."""


class Scheduler(Protocol):
    """`call_later` of one clock, bound once: what the warm path calls per invocation."""

    def __call__(
        self, delay: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts
    ) -> Timer: ...


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch (timestamps users see)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations and deadlines)."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""

    def call_later(
        self, delay: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts
    ) -> Timer:
        """Call `callback(*args)` on the event loop once `delay` seconds of this clock pass."""

    def scheduler(self) -> Scheduler:
        """`call_later` for the running loop, resolved once (an environment keeps it), so a
        timer per invocation costs exactly what the loop's own `call_later` costs."""


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(
        self, delay: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts
    ) -> Timer:
        return asyncio.get_running_loop().call_later(delay, callback, *args)

    def scheduler(self) -> Scheduler:
        return asyncio.get_running_loop().call_later


class _ManualTimer:
    __slots__ = ("_args", "_callback", "cancelled")

    def __init__(self, callback: Callable[..., object], args: tuple[object, ...]) -> None:
        self._callback = callback
        self._args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._callback(*self._args)


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class ManualClock:
    """A clock that moves only when told to.

    `advance` fires every timer whose deadline it passes, in deadline order, with the clock
    standing at that deadline while the callback runs (as the event loop would call it);
    sleepers wake at their deadline. Callbacks run synchronously inside `advance`; what they
    schedule on the loop runs once the test yields to it.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._mono = 0.0
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._seq = 0

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def call_later(
        self, delay: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts
    ) -> Timer:
        timer = _ManualTimer(callback, args)
        self._seq += 1
        heapq.heappush(self._timers, (self._mono + max(0.0, delay), self._seq, timer))
        return timer

    def scheduler(self) -> Scheduler:
        return self.call_later

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.call_later(seconds, _wake, fut)
        try:
            await fut
        finally:
            timer.cancel()

    def pending(self) -> list[float]:
        """Deadlines (monotonic) of the timers still to fire, soonest first."""
        return sorted(when for when, _, timer in self._timers if not timer.cancelled)

    def advance(self, seconds: float) -> None:
        target = self._mono + seconds
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._set(max(when, self._mono))
            timer.fire()
        self._set(target)

    def _set(self, mono: float) -> None:
        self._now += mono - self._mono
        self._mono = mono


async def within(clock: Clock, awaitable: Awaitable[T], seconds: float) -> T:
    """`awaitable`'s result, or TimeoutError once `seconds` of `clock` pass (it is then
    cancelled), like `asyncio.wait_for` but on the injected clock."""
    task = asyncio.ensure_future(awaitable)
    if task.done():
        return task.result()
    if seconds <= 0:
        task.cancel()
        raise TimeoutError
    expired = False

    def expire() -> None:
        nonlocal expired
        if not task.done():
            expired = True
            task.cancel()

    timer = clock.call_later(seconds, expire)
    try:
        return await task
    except asyncio.CancelledError:
        if expired:
            raise TimeoutError from None
        raise
    finally:
        timer.cancel()


def iso_ms(epoch: float) -> str:
    """An epoch time as AWS writes it in logs: UTC, milliseconds, `Z`
    (2024-01-02T03:04:05.678Z)."""
    whole = int(epoch)
    millis = int((epoch - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"
