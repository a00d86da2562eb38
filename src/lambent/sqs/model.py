"""What a queue and a message are, as the backends keep them.

Times are integer milliseconds since the epoch on the server's clock. A queue's `id` names
one incarnation: a queue deleted and created again under its name is a new queue, so a
message, a receipt handle or a DLQ reference of the old one never reaches the new one."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class QueueRecord:
    id: str
    account: str
    region: str
    name: str
    created_ms: int
    modified_ms: int
    # The settable attributes, as AWS strings, defaults filled in (attributes.py).
    attributes: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    last_purge_ms: int = 0

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message being accepted. `attributes` is the message attributes as JSON text
    (AWS's MessageAttributeValue members, binary values base64), kept verbatim."""

    message_id: str
    body: str
    attributes: str
    md5_body: str
    md5_attributes: str
    system: str  # MessageSystemAttributes (AWSTraceHeader) as JSON text, "" if none
    md5_system: str
    group_id: str | None
    dedup_id: str | None
    sent_ms: int
    visible_at_ms: int
    expires_ms: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as a receive returns it: `receipt` is the token this receive was given
    (`seq` and it make the receipt handle), `receive_count` includes this receive."""

    seq: int
    message_id: str
    body: str
    attributes: str
    md5_body: str
    md5_attributes: str
    system: str
    group_id: str | None
    dedup_id: str | None
    sent_ms: int
    receive_count: int
    first_receive_ms: int
    receipt: str
    visible_at_ms: int


@dataclass(frozen=True, slots=True)
class Sent:
    """An accepted message: its id and sequence number (the original's for a FIFO
    duplicate, which is not stored twice)."""

    message_id: str
    seq: int
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Redrive:
    """Where a receive moves a message it would hand out for more than `max_receives`."""

    max_receives: int
    dlq_id: str
    dlq_retention_ms: int


@dataclass(frozen=True, slots=True)
class Claim:
    """One receive's ask: up to `limit` messages, hidden until `visible_at_ms`."""

    queue_id: str
    now_ms: int
    limit: int
    visible_at_ms: int
    fifo: bool
    redrive: Redrive | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    messages: list[StoredMessage]
    moved_to_dlq: int
    # The earliest time a message not available now becomes so (delay, visibility), if any.
    next_visible_ms: int | None


@dataclass(frozen=True, slots=True)
class Counts:
    visible: int
    in_flight: int
    delayed: int


class VisibilityResult:
    """What a visibility change found: the message held by this receipt (changed), no
    longer in flight, or not the latest receipt / gone."""

    CHANGED = "changed"
    NOT_IN_FLIGHT = "not-in-flight"
    STALE = "stale"
    TOO_LONG = "too-long"
