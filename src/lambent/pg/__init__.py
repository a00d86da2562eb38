"""PostgreSQL, the store of everything durable in cluster mode (`--database`).

Each backend that lives in PostgreSQL (the document store, the async queue, logs, blobs)
opens its own pool from one URL and brings its own versioned migrations (`migrations.py`).
"""
