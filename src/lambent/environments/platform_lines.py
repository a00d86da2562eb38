"""Lambda's platform log lines, in AWS's exact tab-separated format.

INIT_START Runtime Version: python:3.11.v1\tRuntime Version ARN: arn:...
START RequestId: <id> Version: $LATEST
END RequestId: <id>
REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
    Max Memory Used: 40 MB\tInit Duration: 95.12 ms\t
INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout
"""

from __future__ import annotations

import datetime as dt
import math

from lambent.functions.runtimes import runtime_version_arn


def runtime_version(runtime: str, region: str) -> tuple[str, str]:
    """The runtime version label and ARN that INIT_START (and platform.initStart) name:
    the same ARN as GetFunction's RuntimeVersionConfig."""
    return _runtime_label(runtime), runtime_version_arn(region, runtime)


def init_start(runtime: str, region: str) -> str:
    label, arn = runtime_version(runtime, region)
    return f"INIT_START Runtime Version: {label}\tRuntime Version ARN: {arn}\n"


def _runtime_label(runtime: str) -> str:
    if runtime.startswith("python"):
        return f"python:{runtime[len('python') :]}.lambent"
    if runtime.startswith("nodejs"):
        return f"nodejs:{runtime[len('nodejs') :].removesuffix('.x')}.lambent"
    family, _, flavour = runtime.partition(".")
    return f"{family}:{flavour}.lambent"


def start(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def billed_ms(duration_ms: float) -> int:
    """Lambda bills in 1 ms increments, rounding up."""
    return max(1, math.ceil(duration_ms))


def report(
    request_id: str,
    *,
    duration_ms: float,
    billed: int,
    memory_mb: int,
    max_used_mb: int,
    init_ms: float | None = None,
    restore_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_used_mb} MB",
    ]
    if restore_ms is not None:
        parts.append(f"Restore Duration: {restore_ms:.2f} ms")
    elif init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:
        parts.append(f"Status: {status}")
        if error_type:
            parts.append(f"Error Type: {error_type}")
        return "\t".join(parts) + "\n"
    return "\t".join(parts) + "\t\n"


def init_report(
    duration_ms: float, *, phase: str, status: str, error_type: str | None = None
) -> str:
    parts = [
        f"INIT_REPORT Init Duration: {duration_ms:.2f} ms",
        f"Phase: {phase}",
        f"Status: {status}",
    ]
    if error_type:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts) + "\n"


def timed_out(request_id: str, timeout_s: float, now: float) -> str:
    stamp = dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds\n"


def exited(request_id: str, detail: str, error_type: str) -> str:
    return f"RequestId: {request_id} Error: Runtime exited with error: {detail}\n{error_type}\n"
