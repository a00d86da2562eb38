"""An SQS-compatible queue service: queues and messages, durable on SQLite or PostgreSQL.

`service.Queues` is the domain API (the SQS handlers and event source pollers call it);
`backend.QueueBackend` is the storage interface, with `sqlite.py` and `postgres.py`.
"""
