"""Lambda's platform log in both formats, SystemLogLevel filtering, and the level Lambda
gives a line of application output (ApplicationLogLevel filtering)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from lambent.clock import ManualClock
from lambent.environments import log_levels
from lambent.environments.platform_log import PlatformLog
from lambent.functions.config import runtime_version
from lambent.functions.model import LATEST, FunctionVersion

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
RID = "8f5e3c1a-0000-4000-8000-000000000001"
# 2023-11-14T22:13:20.250Z
NOW = 1_700_000_000.25


def version(log_format: str = "Text", system: str | None = None) -> FunctionVersion:
    return FunctionVersion(
        account_id="123456789012",
        region="us-east-1",
        function_name="f",
        version=LATEST,
        function_arn=ARN,
        revision_id="r1",
        runtime="python3.12",
        handler="app.handler",
        role="arn:aws:iam::123456789012:role/r",
        memory_mb=256,
        timeout_s=3,
        ephemeral_mb=512,
        environment={},
        layers=(),
        code_sha256_hex="0" * 64,
        code_size=1,
        state="Active",
        last_update_status="Successful",
        snapstart=False,
        log_format=log_format,
        system_log_level=system,
    )


def platform(log_format: str = "Text", system: str | None = None) -> tuple[PlatformLog, list[str]]:
    out: list[str] = []
    plog = PlatformLog(
        version(log_format, system), "us-east-1", "env1", ManualClock(NOW), out.extend
    )
    return plog, out


def invocation(plog: PlatformLog, outcome: str = "ok") -> None:
    """One invocation as run.py reports it: START ... END, REPORT."""
    plog.start(RID)
    status, error_type = None, None
    if outcome == "timeout":
        plog.timed_out(RID, 3.0)
        status, error_type = "timeout", "Sandbox.Timedout"
    elif outcome == "oom":
        plog.exited(RID, "signal: killed", "Runtime.OutOfMemory")
        status, error_type = "error", "Runtime.OutOfMemory"
    elif outcome == "function-error":
        error_type = "ValueError"
    plog.end(RID, status=status, error_type=error_type, duration_ms=12.5, produced_bytes=7)
    plog.report(
        RID,
        duration_ms=12.3456,
        billed_ms=13,
        max_used_mb=40,
        init_ms=95.25,
        restore_ms=None,
        status=status,
        error_type=error_type,
    )


def records(out: list[str]) -> list[dict[str, Any]]:
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in out)
    return [json.loads(line) for line in out]


def test_text_format_writes_the_classic_lines() -> None:
    plog, out = platform()
    plog.init_start("on-demand")
    plog.init_done(80.0, phase="init", init_type="on-demand")  # nothing in Text
    invocation(plog)
    assert out[0].startswith("INIT_START Runtime Version: python:3.12.lambent\t")
    assert out[1:] == [
        f"START RequestId: {RID} Version: $LATEST\n",
        f"END RequestId: {RID}\n",
        f"REPORT RequestId: {RID}\tDuration: 12.35 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 40 MB\tInit Duration: 95.25 ms\t\n",
    ]


def test_json_format_writes_aws_records_at_the_default_info_level() -> None:
    plog, out = platform("JSON")
    plog.init_start("on-demand")
    plog.init_done(80.0, phase="init", init_type="on-demand")  # DEBUG: filtered
    invocation(plog)
    docs = records(out)
    assert [d["type"] for d in docs] == ["platform.initStart", "platform.start", "platform.report"]
    assert {d["time"] for d in docs} == {"2023-11-14T22:13:20.250Z"}
    assert docs[0]["record"] == {
        "initializationType": "on-demand",
        "phase": "init",
        "runtimeVersion": "python:3.12.lambent",
        "runtimeVersionArn": runtime_version("us-east-1", "python3.12")["RuntimeVersionArn"],
        "functionName": "f",
        "functionVersion": "$LATEST",
    }
    assert docs[1]["record"] == {"requestId": RID, "version": "$LATEST"}
    assert docs[2]["record"] == {
        "requestId": RID,
        "metrics": {
            "durationMs": 12.346,
            "billedDurationMs": 13,
            "memorySizeMB": 256,
            "maxMemoryUsedMB": 40,
            "initDurationMs": 95.25,
        },
        "status": "success",
    }


def test_json_debug_level_adds_the_runtime_done_and_init_records() -> None:
    plog, out = platform("JSON", "DEBUG")
    plog.init_start("provisioned-concurrency")
    plog.init_done(80.0, phase="init", init_type="provisioned-concurrency")
    invocation(plog, "function-error")
    docs = records(out)
    assert [d["type"] for d in docs] == [
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
    ]
    assert docs[2]["record"] == {
        "initializationType": "provisioned-concurrency",
        "phase": "init",
        "status": "success",
        "metrics": {"durationMs": 80.0},
    }
    # A function error is a completed invocation for the platform, as in Text's REPORT.
    assert docs[4]["record"] == {
        "requestId": RID,
        "status": "success",
        "metrics": {"durationMs": 12.5, "producedBytes": 7},
    }
    assert docs[5]["record"]["status"] == "success"


@pytest.mark.parametrize(
    ("outcome", "done", "report"),
    [
        ("timeout", {"status": "timeout"}, {"status": "timeout"}),
        (
            "oom",
            {"status": "failure", "errorType": "Runtime.OutOfMemory"},
            {"status": "error", "errorType": "Runtime.OutOfMemory"},
        ),
    ],
)
def test_json_failures_show_even_at_warn(
    outcome: str, done: dict[str, str], report: dict[str, str]
) -> None:
    plog, out = platform("JSON", "WARN")
    invocation(plog, outcome)
    docs = records(out)
    # WARN keeps only the failed runtimeDone; report and start are INFO.
    assert [d["type"] for d in docs] == ["platform.runtimeDone"]
    assert {k: docs[0]["record"][k] for k in done} == done
    plog, out = platform("JSON", "INFO")
    invocation(plog, outcome)
    last = records(out)[-1]
    assert last["type"] == "platform.report"
    assert {k: last["record"][k] for k in report} == report


def test_text_timeout_and_oom_lines_stay_as_aws_writes_them() -> None:
    plog, out = platform()
    invocation(plog, "timeout")
    assert out[1] == f"2023-11-14T22:13:20.250Z {RID} Task timed out after 3.00 seconds\n"
    assert out[-1].endswith("\tStatus: timeout\tError Type: Sandbox.Timedout\n")
    plog, out = platform()
    invocation(plog, "oom")
    assert out[1] == (
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.OutOfMemory\n"
    )


def test_init_failure_in_both_formats() -> None:
    plog, out = platform()
    plog.init_failed(
        10000.0, phase="init", status="timeout", error_type=None, init_type="on-demand"
    )
    assert out == ["INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout\n"]
    plog, out = platform("JSON", "WARN")
    plog.init_failed(
        12.0,
        phase="invoke",
        status="error",
        error_type="Runtime.ImportModuleError",
        init_type="on-demand",
    )
    assert records(out)[0] == {
        "time": "2023-11-14T22:13:20.250Z",
        "type": "platform.initReport",
        "record": {
            "initializationType": "on-demand",
            "phase": "invoke",
            "status": "error",
            "errorType": "Runtime.ImportModuleError",
            "metrics": {"durationMs": 12.0},
        },
    }


def test_failures_are_operator_events_with_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plog, _ = platform("JSON")
    with caplog.at_level(logging.WARNING, logger="lambent.invocations"):
        invocation(plog, "timeout")
        invocation(plog, "oom")
        invocation(plog, "function-error")  # the function's own failure: not the operator's
    events = [(r.__dict__["event"], r.__dict__["request_id"]) for r in caplog.records]
    assert events == [("function.timeout", RID), ("function.oom", RID)]
    assert caplog.records[1].__dict__["function"] == f"{ARN}:$LATEST"


# -- application log levels (Lambda's filter on the function's output) ----------------------
STAMP = "2024-11-02T16:51:31.587199Z"


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("plain text from print\n", log_levels.INFO),
        (f'{{"level": "debug", "msg": "x", "timestamp": "{STAMP}"}}\n', log_levels.DEBUG),
        (f'{{"level":"TRACE","timestamp":"{STAMP}"}}\n', log_levels.TRACE),
        ('{"level":"WARNING","timestamp":"2024-11-02T16:51:31Z"}\n', log_levels.WARN),
        (f'{{"level":"CRITICAL","timestamp":"{STAMP}"}}\n', log_levels.FATAL),
        ('{"level":"ERROR","time":"2024-11-02T16:51:31+02:00"}\n', log_levels.ERROR),
        # No valid timestamp, no level, a level Lambda does not know, or not an object: INFO.
        ('{"level":"DEBUG"}\n', log_levels.INFO),
        ('{"level":"DEBUG","timestamp":"yesterday"}\n', log_levels.INFO),
        (f'{{"log_level":"ERROR","timestamp":"{STAMP}"}}\n', log_levels.INFO),
        (f'{{"level":"VERBOSE","timestamp":"{STAMP}"}}\n', log_levels.INFO),
        ("{not json\n", log_levels.INFO),
        ("[1, 2]\n", log_levels.INFO),
    ],
)
def test_the_level_lambda_gives_a_line(line: str, level: int) -> None:
    assert log_levels.line_level(line) == level


def test_application_filter_only_in_json_and_above_trace() -> None:
    assert log_levels.application_filter("Text", None) is None
    assert log_levels.application_filter("JSON", "TRACE") is None
    debug = f'{{"level":"DEBUG","timestamp":"{STAMP}"}}\n'
    error = f'{{"level":"ERROR","timestamp":"{STAMP}"}}\n'
    keep = log_levels.application_filter("JSON", None)  # INFO, AWS's default
    assert keep is not None
    assert keep(["print\n", debug, error]) == ["print\n", error]
    warn = log_levels.application_filter("JSON", "WARN")
    assert warn is not None
    assert warn(["print\n", debug, error]) == [error]
