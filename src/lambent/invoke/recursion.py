"""Recursive loop detection: stop a chain of invocations that loops through a function.

Every invocation, sync or async (destinations included), takes one hop in its trace's
lineage (`lineage.py`). A function whose recursion config is Terminate (the default) is
not invoked a 17th time in one chain: a synchronous caller gets
RecursiveInvocationException, an asynchronous event is dropped. Each stop is one operator
log line (`recursion.stopped`, with the request id) and counts in
`RecursiveInvocationsDropped` (`/_lambent/stats`, CloudWatch's metric name). Allow lets
the chain run on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lambent.errors import RecursiveInvocation
from lambent.functions.model import FunctionVersion
from lambent.invoke import lineage
from lambent.oplog import event

log = logging.getLogger(__name__)
MESSAGE = (
    "Lambda has detected your function being invoked in a recursive loop with other Amazon "
    "Web Services resources and stopped your function's invocation."
)


@dataclass
class RecursionStats:
    RecursiveInvocationsDropped: int = 0  # CloudWatch's metric name


class RecursionGuard:
    def __init__(self) -> None:
        self.stats = RecursionStats()

    def enter(self, version: FunctionVersion, trace: str, request_id: str) -> str | None:
        """The trace the invocation carries on, or None when it must not run (logged and
        counted here)."""
        step = lineage.hop(trace, version.function_arn)
        if not step.over_limit or version.recursive_loop == "Allow":
            return step.trace
        self.stats.RecursiveInvocationsDropped += 1
        event(
            log,
            logging.WARNING,
            "recursion.stopped",
            "invocation %s of %s stopped: invoked %d times in one chain (recursive loop)",
            request_id,
            version.function_arn,
            step.count - 1,
            request_id=request_id,
            function=version.qualified_arn,
            count=step.count - 1,
        )
        return None

    def enter_sync(self, version: FunctionVersion, trace: str, request_id: str) -> str:
        """As `enter`, for a synchronous caller: a stop is AWS's RecursiveInvocationException."""
        carried = self.enter(version, trace, request_id)
        if carried is None:
            raise RecursiveInvocation(MESSAGE)
        return carried
