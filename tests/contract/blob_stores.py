"""The shared blob stores the blob contract runs against, each able to open more "nodes".

A node is another instance on the same shared store: for files, another FileBlobs on the
same directory (two processes on one host); for PostgreSQL, another connection pool on the
same schema (two hosts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from lambent.blobs.files import FileBlobs
from lambent.blobs.interface import Blobs
from lambent.blobs.postgres import CODE, PgBlobs, migrate_schema, open_blocking_pool

NewNode = Callable[[], Blobs]


@contextmanager
def file_nodes(root: Path) -> Iterator[NewNode]:
    yield lambda: FileBlobs(root / "shared" / "blobs", root / "shared" / "tmp")


@contextmanager
def pg_nodes(url: str) -> Iterator[NewNode]:
    asyncio.run(migrate_schema(url))
    with ExitStack() as stack:

        def node() -> Blobs:
            pool = open_blocking_pool(url, max_size=2)
            stack.callback(pool.close)
            return PgBlobs(pool, CODE)

        yield node
