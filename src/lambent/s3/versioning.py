"""A bucket's versioning status: one table, one pure `transition()`.

A bucket starts unversioned. PutBucketVersioning enables or suspends versioning; once it
has been enabled or suspended a bucket can never return to unversioned (AWS's rule).
GetBucketVersioning reports no Status at all for a bucket that was never versioned.
"""

from __future__ import annotations

from enum import Enum


class Versioning(Enum):
    UNVERSIONED = "Unversioned"
    ENABLED = "Enabled"
    SUSPENDED = "Suspended"


class Event(Enum):
    ENABLE = "Enabled"
    SUSPEND = "Suspended"


TABLE: dict[tuple[Versioning, Event], Versioning] = {
    (Versioning.UNVERSIONED, Event.ENABLE): Versioning.ENABLED,
    (Versioning.UNVERSIONED, Event.SUSPEND): Versioning.SUSPENDED,
    (Versioning.ENABLED, Event.ENABLE): Versioning.ENABLED,
    (Versioning.ENABLED, Event.SUSPEND): Versioning.SUSPENDED,
    (Versioning.SUSPENDED, Event.ENABLE): Versioning.ENABLED,
    (Versioning.SUSPENDED, Event.SUSPEND): Versioning.SUSPENDED,
}


def transition(status: Versioning, event: Event) -> Versioning:
    return TABLE[(status, event)]


def reported(status: Versioning) -> str | None:
    """The Status GetBucketVersioning shows (none for a never-versioned bucket)."""
    return None if status is Versioning.UNVERSIONED else status.value
