"""EventBridge on Lambent's endpoint: buses, rules, targets and durable delivery.

`catalog.py` keeps buses and rules (with their targets) as store documents; `service.py`
(`EventBridge`) is the domain API the handlers call; `PutEvents` writes the accepted events
into the store's outbox (`outbox.py`) in one transaction before it answers, and the
`Dispatcher` (`dispatcher.py`) matches them against the bus's rules (the shared
event-pattern engine) and hands each to its targets (`targets.py`) with the target's
RetryPolicy and dead-letter queue. Patterns are never matched here: `event_patterns` does.
"""
