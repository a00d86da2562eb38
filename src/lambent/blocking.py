"""A bounded thread pool for the control plane's blocking work, owned by the App.

Hashing a 50 MB zip, checking and writing it, extracting code and reading or writing S3
object bytes take tens to hundreds of milliseconds of CPU and disk. On the event loop that
would stall every invoke in flight, so that work runs here. The pool is bounded: a burst of
large uploads queues instead of starting a thread each, and `close()` joins the threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_WORKERS = 4


class BlockingWork:
    def __init__(self, workers: int = DEFAULT_WORKERS, name: str = "lambent-blocking") -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=name
        )

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` on a pool thread and wait for it without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Wait for work already started; drop work not yet started."""
        self._pool.shutdown(wait=True, cancel_futures=True)
