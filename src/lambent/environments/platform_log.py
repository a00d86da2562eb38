"""One environment's platform (system) log: Lambda's own lines about init and invocations.

The environment and its invocation runs say what happened (init started, an invocation
started, timed out, ended, its report); this decides how it reads in the function's log:
the tab-separated text lines of the Text format (`platform_lines.py`), or the `platform.*`
JSON records of the JSON format filtered by SystemLogLevel (`platform_records.py`).

The same calls are where the server learns that a function timed out, ran out of memory,
exited or failed its init: each of those is also an operator event on the server's own
log (`lambent.oplog`), with the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lambent.clock import Clock
from lambent.environments import platform_lines as lines
from lambent.environments import platform_records as records
from lambent.functions.model import FunctionVersion
from lambent.oplog import event

log = logging.getLogger("lambent.invocations")

Write = Callable[[list[str]], None]


class PlatformLog:
    def __init__(
        self, version: FunctionVersion, region: str, env_id: str, clock: Clock, write: Write
    ) -> None:
        self._version = version
        self._region = region
        self._env_id = env_id
        self._clock = clock
        self._write = write
        self.json = version.log_format.upper() == "JSON"
        self._threshold = records.system_level(version.system_log_level)

    def _emit(self, record: records.PlatformRecord) -> None:
        if record.level >= self._threshold:
            self._write([record.render(self._clock.time())])

    def _text(self, line: str) -> None:
        self._write([line])

    # -- init ------------------------------------------------------------------------------
    def init_start(self, init_type: str) -> None:
        v = self._version
        if not self.json:
            self._text(lines.init_start(v.runtime, self._region))
            return
        label, arn = lines.runtime_version(v.runtime, self._region)
        self._emit(
            records.init_start(
                init_type=init_type,
                phase="init",
                runtime_version=label,
                runtime_version_arn=arn,
                function_name=v.function_name,
                function_version=v.version,
            )
        )

    def init_done(self, duration_ms: float, *, phase: str, init_type: str) -> None:
        """A successful init: the Text format says nothing; JSON has DEBUG records."""
        if self.json:
            done = records.init_runtime_done(init_type=init_type, phase=phase, status="success")
            self._emit(done)
            self._emit(
                records.init_report(
                    init_type=init_type,
                    phase=phase,
                    status="success",
                    duration_ms=duration_ms,
                    error_type=None,
                )
            )

    def init_failed(
        self,
        duration_ms: float,
        *,
        phase: str,
        status: str,
        error_type: str | None,
        init_type: str,
        request_id: str | None = None,
    ) -> None:
        event(
            log,
            logging.WARNING,
            "function.init_failed",
            "init of %s failed (%s%s, phase %s)",
            self._version.qualified_arn,
            status,
            f": {error_type}" if error_type else "",
            phase,
            request_id=request_id,
            function=self._version.qualified_arn,
            environment=self._env_id,
            error_type=error_type,
            status=status,
        )
        if not self.json:
            self._text(
                lines.init_report(duration_ms, phase=phase, status=status, error_type=error_type)
            )
            return
        self._emit(
            records.init_report(
                init_type=init_type,
                phase=phase,
                status=status,
                duration_ms=duration_ms,
                error_type=error_type,
            )
        )

    # -- invocation ------------------------------------------------------------------------
    def start(self, request_id: str) -> None:
        version = self._version.version
        if self.json:
            self._emit(records.start(request_id, version))
        else:
            self._text(lines.start(request_id, version))

    def timed_out(self, request_id: str, timeout_s: float) -> None:
        event(
            log,
            logging.WARNING,
            "function.timeout",
            "%s timed out after %.2f seconds",
            self._version.qualified_arn,
            timeout_s,
            request_id=request_id,
            function=self._version.qualified_arn,
            environment=self._env_id,
            timeout_s=timeout_s,
        )
        if not self.json:  # JSON: runtimeDone and report carry status "timeout"
            self._text(lines.timed_out(request_id, timeout_s, self._clock.time()))

    def exited(self, request_id: str, detail: str, error_type: str) -> None:
        oom = error_type == "Runtime.OutOfMemory"
        event(
            log,
            logging.WARNING,
            "function.oom" if oom else "function.runtime_exit",
            "%s %s during an invocation (%s)",
            self._version.qualified_arn,
            "ran out of memory" if oom else "exited",
            detail,
            request_id=request_id,
            function=self._version.qualified_arn,
            environment=self._env_id,
            error_type=error_type,
            detail=detail,
            memory_mb=self._version.memory_mb,
        )
        if not self.json:  # JSON: runtimeDone and report carry status and errorType
            self._text(lines.exited(request_id, detail, error_type))

    def end(
        self,
        request_id: str,
        *,
        status: str | None,
        error_type: str | None,
        duration_ms: float,
        produced_bytes: int,
    ) -> None:
        """END, or platform.runtimeDone: a response or a function error is a success for
        the platform; a timeout is "timeout", any other platform error a "failure"."""
        if not self.json:
            self._text(lines.end(request_id))
            return
        done = "success" if status is None else "timeout" if status == "timeout" else "failure"
        self._emit(
            records.runtime_done(
                request_id,
                status=done,
                error_type=error_type,
                duration_ms=duration_ms,
                produced_bytes=produced_bytes,
            )
        )

    def report(
        self,
        request_id: str,
        *,
        duration_ms: float,
        billed_ms: int,
        max_used_mb: int,
        init_ms: float | None,
        restore_ms: float | None,
        status: str | None,
        error_type: str | None,
    ) -> None:
        memory_mb = self._version.memory_mb
        if not self.json:
            self._text(
                lines.report(
                    request_id,
                    duration_ms=duration_ms,
                    billed=billed_ms,
                    memory_mb=memory_mb,
                    max_used_mb=max_used_mb,
                    init_ms=init_ms,
                    restore_ms=restore_ms,
                    status=status,
                    error_type=error_type if status else None,
                )
            )
            return
        self._emit(
            records.report(
                request_id,
                duration_ms=duration_ms,
                billed_ms=billed_ms,
                memory_mb=memory_mb,
                max_used_mb=max_used_mb,
                init_ms=init_ms,
                restore_ms=restore_ms,
                status=status or "success",
                error_type=error_type if status else None,
            )
        )
