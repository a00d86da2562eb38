"""Waiting for a function to settle after a create or an update.

Lambda answers CreateFunction and Update* before the work is done: the configuration says
`State: Pending` or `LastUpdateStatus: InProgress` until it is, and a second update in
between is refused with ResourceConflictException. So deploy polls
GetFunctionConfiguration, as boto3's `function_active_v2` and `function_updated_v2`
waiters do, starting fast (most updates settle in milliseconds here) and backing off to 1 s,
with a deadline so a stuck function never hangs the command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambent.cli.errors import CliError
from lambent.cli.progress import StatusLine

FIRST_DELAY_S = 0.05
MAX_DELAY_S = 1.0
DEFAULT_WAIT_S = 300.0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    failure: str | None
    summary: str


def readiness(config: dict[str, Any]) -> Readiness:
    """Where a configuration stands; absent fields count as settled, as on old servers."""
    state = str(config.get("State") or "Active")
    update = str(config.get("LastUpdateStatus") or "Successful")
    summary = f"State {state}, LastUpdateStatus {update}"
    if state == "Failed":
        reason = _reason(config.get("StateReasonCode"), config.get("StateReason"))
        return Readiness(False, f"the function failed to become active ({reason})", summary)
    if update == "Failed":
        reason = _reason(
            config.get("LastUpdateStatusReasonCode"), config.get("LastUpdateStatusReason")
        )
        return Readiness(False, f"the update failed ({reason})", summary)
    settled = state in ("Active", "Inactive") and update == "Successful"
    return Readiness(settled, None, summary)


def _reason(code: object, text: object) -> str:
    parts = [str(p) for p in (code, text) if p]
    return ": ".join(parts) if parts else "no reason given"


def wait_until_ready(
    name: str,
    fetch: Callable[[], dict[str, Any]],
    status: StatusLine,
    *,
    timeout_s: float = DEFAULT_WAIT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    first: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The settled configuration; raises CliError on failure or when the deadline passes."""
    deadline = clock() + timeout_s
    delay = FIRST_DELAY_S
    config = first if first is not None else fetch()
    while True:
        state = readiness(config)
        if state.failure is not None:
            status.clear()
            raise CliError(f"{name}: {state.failure}")
        if state.ready:
            status.clear()
            return config
        if clock() >= deadline:
            status.clear()
            raise CliError(f"{name}: still not ready after {timeout_s:g} s ({state.summary})")
        status.spin(f"waiting for {name}: {state.summary}")
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 2, MAX_DELAY_S)
        config = fetch()
