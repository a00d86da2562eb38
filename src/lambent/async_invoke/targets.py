"""Where records and dead letters go: a small Protocol and a registry keyed by ARN service.

Lambda functions are registered here; SQS queues and EventBridge buses by the App
(`events/destinations.py`), SNS topics by the App (`sns/destination.py`); a broker target
is one more class with `service` and `send()`. A target that fails or does not exist drops
the message (counted as AWS's DestinationDeliveryFailures / DeadLetterErrors in the async
stats; the delivery logs it): it must never stop the scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from lambent.async_invoke.records import Message
from lambent.errors import ServiceError

log = logging.getLogger(__name__)


class TargetError(Exception):
    """The message could not be handed over (missing target, too large, ...)."""


class Target(Protocol):
    service: str  # the ARN's service field: "lambda", "sqs", "sns", "events", ...

    async def send(self, arn: str, message: Message) -> None:
        """Hand the message over durably, or raise TargetError (or a ServiceError)."""


def arn_service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) >= 6 and parts[0] == "arn" else ""


class Targets:
    def __init__(self, targets: Iterable[Target] = ()) -> None:
        self._by_service: dict[str, Target] = {}
        for target in targets:
            self.register(target)

    def register(self, target: Target) -> None:
        self._by_service[target.service] = target

    async def send(self, arn: str, message: Message) -> str | None:
        """None when the target took the message, else why it did not (the caller logs
        it, with the event's request id). Never raises."""
        target = self._by_service.get(arn_service(arn))
        if target is None:
            return f"no target for {arn}"
        try:
            await target.send(arn, message)
        except (TargetError, ServiceError) as exc:
            return str(exc)
        except Exception as exc:
            log.exception("async %s for %s to %s failed", message.kind, message.source_arn, arn)
            return repr(exc)
        return None


# (account, function name or ARN, qualifier, payload, trace) -> the accepted event's id
AcceptEvent = Callable[[str, str, str | None, bytes, str | None], Awaitable[str]]


class FunctionTarget:
    """Another Lambent function, invoked asynchronously as AWS invokes a destination
    function: the record becomes a new event in that function's queue, with that
    function's own retry configuration. The chain's trace goes with it, so a loop through
    destinations is counted like any other (invoke/recursion.py)."""

    service = "lambda"

    def __init__(self, accept: AcceptEvent) -> None:
        self._accept = accept

    async def send(self, arn: str, message: Message) -> None:
        parts = arn.split(":")
        if len(parts) < 7 or parts[5] != "function" or not parts[4]:
            raise TargetError(f"not a function ARN: {arn}")
        await self._accept(parts[4], arn, None, message.body, message.trace)
