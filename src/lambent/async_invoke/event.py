"""An accepted asynchronous event and the retry state it carries between attempts.

The payload is stored once, as accepted; only `EventState` changes between attempts, so a
reschedule rewrites a few hundred bytes, never the (up to 1 MB) event.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Response:
    """What the function answered on its last attempt (for the destination record)."""

    payload: bytes
    executed_version: str
    function_error: str | None = None


@dataclass(frozen=True, slots=True)
class EventState:
    """Everything the retry policy reads. `attempts` counts attempts that reached the
    function (AWS's approximateInvokeCount); `backoffs` counts consecutive throttles and
    system errors, the exponent of their backoff. An attempt cut off by a crash or a
    shutdown is not counted: it was not the function's failure, and it runs again."""

    enqueued_at: float
    attempts: int = 0
    backoffs: int = 0
    trace_id: str | None = None
    last_response: Response | None = None

    def to_json(self) -> str:
        doc: dict[str, Any] = {
            "enqueued_at": self.enqueued_at,
            "attempts": self.attempts,
            "backoffs": self.backoffs,
        }
        if self.trace_id is not None:
            doc["trace_id"] = self.trace_id
        if self.last_response is not None:
            r = self.last_response
            doc["last_response"] = {
                "payload": base64.b64encode(r.payload).decode(),
                "executed_version": r.executed_version,
                "function_error": r.function_error,
            }
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EventState:
        doc = json.loads(text)
        last = doc.get("last_response")
        return cls(
            enqueued_at=float(doc["enqueued_at"]),
            attempts=int(doc.get("attempts", 0)),
            backoffs=int(doc.get("backoffs", 0)),
            trace_id=doc.get("trace_id"),
            last_response=None
            if last is None
            else Response(
                payload=base64.b64decode(last["payload"]),
                executed_version=str(last["executed_version"]),
                function_error=last.get("function_error"),
            ),
        )


@dataclass(frozen=True, slots=True)
class Destination:
    """Which function (and qualifier) an event is for, fixed when it is accepted.

    `function_arn` is the unqualified ARN, so the event finds its function again in the
    function's own region whatever the server's default region is."""

    account_id: str
    function_arn: str
    qualifier: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {"account": self.account_id, "arn": self.function_arn, "qualifier": self.qualifier},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Destination:
        doc = json.loads(text)
        return cls(str(doc["account"]), str(doc["arn"]), doc.get("qualifier"))

    @property
    def function_name(self) -> str:
        return self.function_arn.rsplit(":", 1)[-1]

    @property
    def qualified_arn(self) -> str:
        return f"{self.function_arn}:{self.qualifier or '$LATEST'}"


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """One event in the queue. `event_id` is the request id the caller got with its 202,
    and the request id the function sees on every attempt, as on AWS."""

    event_id: str
    destination: Destination
    payload: bytes
    state: EventState
    available_at: float

    def with_state(self, state: EventState, available_at: float) -> QueuedEvent:
        return replace(self, state=state, available_at=available_at)
