"""PostgreSQL, the store of everything durable in cluster mode (`--database`).

Each backend that lives in PostgreSQL (the document store, the async queue, logs, blobs)
opens its own pool from one URL and brings its own versioned migrations (`migrations.py`).
"""


class DatabaseUnreachable(Exception):
    """PostgreSQL refused or did not answer a first connection: start-up says so in one
    line (here, so that catching it needs no database driver imported)."""
