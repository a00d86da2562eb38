"""Kinesis-compatible data streams: shards by MD5 hash-key range, records with AWS-shaped
sequence numbers, shard iterators, retention; durable on SQLite or PostgreSQL."""
