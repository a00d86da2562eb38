"""Lambent's Python runtime: init once, then serve invocations from the Runtime API.

`PythonRuntime` behaves as AWS's Python runtime does: same context object, same log
format, same error documents and `Runtime.*` error types (see the modules next to it).
The zygote builds one, forks, calls `refresh_environ` with the new environment's variables,
then `init()` and `run()`; `main()` does init and run in one process.

The warm loop is the hot path: one keep-alive connection, the event decoded once and the
result encoded once, nothing imported per invoke. Imports are kept to what the runtime
needs (no typing, dataclasses or inspect at run time): each one costs every cold start.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from .context import FunctionInfo, make_context
from .faults import FaultError, exception_error, fault_error
from .handler import load_handler
from .logs import (
    LAMBDA_WARNING,
    FunctionLogger,
    RequestIdHolder,
    unbuffer_std_streams,
)
from .marshal import Marshaller, unmarshal_event
from .rapid import RuntimeApiClient, RuntimeApiError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import NoReturn

    from .faults import ErrorDoc
    from .handler import Handler

# The directory mounted at /var/runtime (this package's parent).
RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_DIR = os.path.join(RUNTIME_DIR, "lambent_guest")
TRACE_ENV = "_X_AMZN_TRACE_ID"


class InitOutcome:
    """How init went: the handler imported, or the error AWS's runtime would report."""

    __slots__ = ("duration_ms", "error", "ok")

    def __init__(self, ok: bool, duration_ms: float, error: ErrorDoc | None = None) -> None:
        self.ok = ok
        self.duration_ms = duration_ms
        self.error = error

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else str(self.error.get("errorType", ""))

    @property
    def error_message(self) -> str | None:
        return None if self.error is None else str(self.error.get("errorMessage", ""))


class PythonRuntime:
    """One runtime process: init once, then serve invocations until the environment dies."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._holder = RequestIdHolder()
        self._outcome: InitOutcome | None = None
        self._handler: Handler | None = None
        self._logger: FunctionLogger | None = None
        self._client: RuntimeApiClient | None = None
        self._configure()

    def _configure(self) -> None:
        env = self._environ
        self.handler_name = env.get("_HANDLER", "")
        self.task_root = env.get("LAMBDA_TASK_ROOT", "/var/task")
        self._info = FunctionInfo.from_environ(env)
        self._marshaller = Marshaller(env)
        if self._client is not None:
            self._client.close()
            self._client = None

    def refresh_environ(self, environ: Mapping[str, str]) -> None:
        """Take on a new environment's variables (after a fork from a template).

        They are written to os.environ, where the function's code reads them (credentials,
        log stream, AWS_LAMBDA_RUNTIME_API), and the runtime's cached copies are re-read.
        Any Runtime API connection inherited from the template is dropped.
        """
        os.environ.update(environ)
        if self._environ is not os.environ:
            self._environ = {**self._environ, **environ}
        self._configure()
        if self._logger is not None:  # SnapStart: init (and logging) ran in the template
            self._logger.retarget(environ)

    @property
    def outcome(self) -> InitOutcome | None:
        return self._outcome

    def init(self) -> InitOutcome:
        """Import the handler. Never raises an Exception: a failure is recorded and logged.

        A SystemExit raised by the function's module while importing still ends the process,
        as it does on AWS.
        """
        start = time.perf_counter()
        error: ErrorDoc | None = None
        try:
            self._prepare_process()
            self._handler = load_handler(self.handler_name)
        except FaultError as fault:
            error = fault_error(fault)
        except Exception as exc:
            error = exception_error(exc, exc.__traceback__)
        if error is not None:
            logging.warning(LAMBDA_WARNING)
            self._log_error(error)
        duration = (time.perf_counter() - start) * 1000.0
        self._outcome = InitOutcome(error is None, duration, error)
        return self._outcome

    def _prepare_process(self) -> None:
        """sys.path, working directory, unbuffered streams and logging, as AWS sets them."""
        major, minor = sys.version_info[:2]
        front = [
            self.task_root,
            f"/opt/python/lib/python{major}.{minor}/site-packages",
            "/opt/python",
            RUNTIME_DIR,
        ]
        # A forked environment inherits the template's sys.path, so PYTHONPATH (e.g. the
        # runtime's boto3) is applied here as the interpreter would have applied it.
        extra = self._environ.get("PYTHONPATH", "").split(os.pathsep)
        front += [p for p in extra if p and p not in front]
        rest = [p for p in sys.path if p not in front and os.path.abspath(p or ".") != PACKAGE_DIR]
        # The runtime's site-packages (boto3) comes last, as on AWS, even under an
        # interpreter whose `site` does not add it (Debian's looks for dist-packages).
        site = f"{sys.prefix}/lib/python{major}.{minor}/site-packages"
        if site not in front + rest and os.path.isdir(site):
            rest.append(site)
        sys.path[:] = front + rest
        if os.path.isdir(self.task_root):
            os.chdir(self.task_root)
        unbuffer_std_streams()
        if self._logger is None:
            self._logger = FunctionLogger(self._environ, self._holder)
            self._logger.install()

    def _log_error(self, error: ErrorDoc) -> None:
        if self._logger is None:
            self._logger = FunctionLogger(self._environ, self._holder)
        self._logger.log_error(error, self._marshaller.to_json)

    def _connect(self) -> RuntimeApiClient:
        if self._client is None:
            address = self._environ.get("AWS_LAMBDA_RUNTIME_API") or os.environ.get(
                "AWS_LAMBDA_RUNTIME_API", ""
            )
            self._client = RuntimeApiClient(address)
        return self._client

    def run(self) -> NoReturn:
        """Report a failed init and exit 1, or serve invocations forever."""
        outcome = self._outcome if self._outcome is not None else self.init()
        client = self._connect()
        if not outcome.ok or self._handler is None:
            error = outcome.error or {"errorType": "Runtime.Unknown", "errorMessage": ""}
            try:
                client.post_init_error(
                    self._marshaller.to_json(error), str(error.get("errorType", ""))
                )
            finally:
                sys.exit(1)
        self._serve(client, self._handler)

    def _serve(self, client: RuntimeApiClient, handler: Handler) -> NoReturn:
        info = self._info
        holder = self._holder
        marshal = self._marshaller.marshal_response
        environ = os.environ
        last_trace: str | None = environ.get(TRACE_ENV)
        while True:
            inv = client.next_invocation()
            request_id = inv.request_id
            holder.request_id = request_id
            trace = inv.trace_id
            if trace != last_trace:
                if trace is not None:
                    environ[TRACE_ENV] = trace
                else:
                    environ.pop(TRACE_ENV, None)
                last_trace = trace
            try:
                context = make_context(
                    info,
                    request_id,
                    inv.deadline_ms,
                    inv.invoked_function_arn,
                    inv.client_context,
                    inv.cognito_identity,
                )
                event = unmarshal_event(inv.body, inv.content_type)
                body, content_type = marshal(handler(event, context))
            except FaultError as fault:
                self._report(client, fault_error(fault, request_id))
            except Exception as exc:
                self._report(client, exception_error(exc, exc.__traceback__, request_id))
            else:
                status = client.post_response(request_id, body, content_type)
                if status != 202:
                    sys.stdout.write(
                        "LAMBDA_RUNTIME Failed to post handler success response. "
                        f"Http response code: {status}.\n"
                    )

    def _report(self, client: RuntimeApiClient, error: ErrorDoc) -> None:
        self._log_error(error)
        client.post_error(
            str(error["requestId"]),
            self._marshaller.to_json(error),
            str(error["errorType"]),
        )


def main() -> NoReturn:
    runtime = PythonRuntime()
    if len(sys.argv) > 1 and not runtime.handler_name:
        runtime.handler_name = sys.argv[1]
    runtime.init()
    try:
        runtime.run()
    except RuntimeApiError as exc:
        sys.stderr.write(f"LAMBDA_RUNTIME {exc}\n")
        sys.exit(1)
