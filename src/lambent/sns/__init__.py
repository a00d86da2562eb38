"""SNS: topics, subscriptions and fan-out of published messages (see service.py)."""
