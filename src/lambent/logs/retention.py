"""How long log events are kept, and how many, so the data dir cannot grow without limit.

A group's retention is its PutRetentionPolicy value, or the server's default when it has
none (AWS keeps such groups forever; a self-hosted server must not). Each group also keeps
at most `max_events_per_group` events: the oldest go first.
"""

from __future__ import annotations

from lambent.logs.errors import invalid_parameter

ALLOWED_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
DAY_MS = 86_400_000


def check_days(days: int) -> int:
    if days not in ALLOWED_DAYS:
        allowed = ", ".join(str(d) for d in ALLOWED_DAYS)
        raise invalid_parameter(
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
        )
    return days


def effective_days(explicit: int | None, default_days: int) -> int:
    return explicit if explicit is not None else default_days


def cutoff_ms(now_ms: int, days: int) -> int:
    """Events with a timestamp before this are past retention."""
    return now_ms - days * DAY_MS


def excess(count: int, max_events: int) -> int:
    """How many of a group's oldest events must go to respect the per-group bound."""
    return max(0, count - max_events)
