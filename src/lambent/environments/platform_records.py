"""Lambda's platform events as the JSON records of the JSON log format.

With `LoggingConfig.LogFormat = JSON`, Lambda writes its system log as Telemetry API events,
one compact JSON object per CloudWatch event: `{"time", "type", "record"}`, the record
shaped as AWS's Telemetry API schema gives it (`platform.initStart`, `platform.start`,
`platform.report`, ...). Each event has a level (AWS's "system log level event mapping"),
and `SystemLogLevel` keeps only those at or above it:

    initStart                      INFO
    initRuntimeDone, initReport    DEBUG when the status is success, else WARN
    start, report                  INFO
    runtimeDone                    DEBUG when the status is success, else WARN

So the default (INFO) shows initStart, start and report (the JSON counterparts of
INIT_START, START and REPORT); END has no JSON counterpart but runtimeDone; a failure
shows at every level.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambent.clock import iso_ms

DEBUG, INFO, WARN = 10, 20, 30
SYSTEM_LEVELS = {"DEBUG": DEBUG, "INFO": INFO, "WARN": WARN}

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class PlatformRecord:
    type: str
    level: int
    record: dict[str, Any]

    def render(self, now: float) -> str:
        """The CloudWatch message: one line of compact JSON."""
        return _encode({"time": iso_ms(now), "type": self.type, "record": self.record}) + "\n"


def system_level(name: str | None) -> int:
    """SystemLogLevel as a threshold; INFO (AWS's default) when unset or unknown."""
    return SYSTEM_LEVELS.get((name or "INFO").upper(), INFO)


def _ms(value: float) -> float:
    return round(value, 3)


def _status(record: dict[str, Any], status: str, error_type: str | None) -> int:
    """Set status (and errorType for failures); the level success/failure maps to."""
    record["status"] = status
    if error_type and status in ("error", "failure"):
        record["errorType"] = error_type
    return DEBUG if status == "success" else WARN


def init_start(
    *,
    init_type: str,
    phase: str,
    runtime_version: str,
    runtime_version_arn: str,
    function_name: str,
    function_version: str,
) -> PlatformRecord:
    return PlatformRecord(
        "platform.initStart",
        INFO,
        {
            "initializationType": init_type,
            "phase": phase,
            "runtimeVersion": runtime_version,
            "runtimeVersionArn": runtime_version_arn,
            "functionName": function_name,
            "functionVersion": function_version,
        },
    )


def init_runtime_done(*, init_type: str, phase: str, status: str) -> PlatformRecord:
    record: dict[str, Any] = {"initializationType": init_type, "phase": phase}
    level = _status(record, status, None)
    return PlatformRecord("platform.initRuntimeDone", level, record)


def init_report(
    *, init_type: str, phase: str, status: str, duration_ms: float, error_type: str | None
) -> PlatformRecord:
    record: dict[str, Any] = {"initializationType": init_type, "phase": phase}
    level = _status(record, status, error_type)
    record["metrics"] = {"durationMs": _ms(duration_ms)}
    return PlatformRecord("platform.initReport", level, record)


def start(request_id: str, version: str) -> PlatformRecord:
    return PlatformRecord("platform.start", INFO, {"requestId": request_id, "version": version})


def runtime_done(
    request_id: str,
    *,
    status: str,
    error_type: str | None,
    duration_ms: float,
    produced_bytes: int,
) -> PlatformRecord:
    record: dict[str, Any] = {"requestId": request_id}
    level = _status(record, status, error_type)
    record["metrics"] = {"durationMs": _ms(duration_ms), "producedBytes": produced_bytes}
    return PlatformRecord("platform.runtimeDone", level, record)


def report(
    request_id: str,
    *,
    duration_ms: float,
    billed_ms: int,
    memory_mb: int,
    max_used_mb: int,
    init_ms: float | None,
    restore_ms: float | None,
    status: str,
    error_type: str | None,
) -> PlatformRecord:
    metrics: dict[str, Any] = {
        "durationMs": _ms(duration_ms),
        "billedDurationMs": billed_ms,
        "memorySizeMB": memory_mb,
        "maxMemoryUsedMB": max_used_mb,
    }
    if restore_ms is not None:
        metrics["restoreDurationMs"] = _ms(restore_ms)
    elif init_ms is not None:
        metrics["initDurationMs"] = _ms(init_ms)
    record: dict[str, Any] = {"requestId": request_id, "metrics": metrics}
    _status(record, status, error_type)
    return PlatformRecord("platform.report", INFO, record)
