"""Function errors, named and shaped exactly as AWS's Python runtime reports them.

The error document is `{"errorMessage", "errorType", "requestId", "stackTrace"}`; the stack
trace is `traceback.format_list` of (file, line, function, source) tuples, so it carries no
3.11+ caret lines, and it starts at the first frame outside the runtime's own files.
"""

from __future__ import annotations

import os
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType
    from typing import Any

    ErrorDoc = dict[str, Any]

MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

# Frames from these files are the runtime's, not the function's: a trace starts after them.
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class FaultError(Exception):
    """A failure the runtime reports under a Runtime.* type instead of the exception's."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def make_error(
    message: str | None,
    error_type: str | None,
    stack_trace: list[str] | None,
    request_id: str | None = None,
) -> ErrorDoc:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def fault_error(fault: FaultError, request_id: str | None = None) -> ErrorDoc:
    return make_error(fault.message, fault.error_type, fault.trace, request_id)


def exception_error(
    exc: BaseException, tb: TracebackType | None, request_id: str | None = None
) -> ErrorDoc:
    """The error document for an exception the function raised."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if not frame[0].startswith(_RUNTIME_DIR):
            frames = frames[i:]
            break
    return make_error(
        str(exc),
        type(exc).__name__,
        traceback.format_list(frames),  # type: ignore[arg-type]
        request_id,
    )


def syntax_error_trace(exc: SyntaxError) -> list[str]:
    return [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']


def error_log_lines(error: ErrorDoc, indent: str = "\u00a0") -> list[str]:
    """The lines of AWS's `[ERROR] Type: message` log record for an error document.

    Leading spaces of trace lines become NO-BREAK SPACEs, as AWS writes them, so log
    viewers that trim lines keep the indentation.
    """
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + str(error["errorType"])
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + str(error["errorMessage"])
    lines = [description]
    stack: Iterable[str] | None = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(indent * (len(line) - len(stripped)) + stripped)
    return lines
