"""Function logs in AWS's Python runtime formats.

Text: `[LEVEL]\\t2024-01-01T00:00:00.123Z\\t<request id>\\tmessage` through the root logger;
JSON (AWS_LAMBDA_LOG_FORMAT=JSON): AWS's JSON record. The root logger's level is left at
Python's default (WARNING) unless AWS_LAMBDA_LOG_LEVEL names one, exactly as on AWS, where
`logging.info` prints nothing until the function lowers the level.

Where records go:
  * `_LAMBDA_TELEMETRY_LOG_FD` set: AWS's framed telemetry protocol on that descriptor
    (type, length, timestamp, message), so a multi-line record stays one event.
  * otherwise stdout, one line per record: newlines inside a record become "\\r", the way
    AWS's runtimes keep a multi-line message in one CloudWatch event on a plain stream.
stdout and stderr are made unbuffered, as AWS does, so `print` output reaches the log in
order with the records and before the invocation ends.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback

from .faults import error_log_lines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Protocol, TextIO

    from .faults import ErrorDoc

    class LogSink(Protocol):
        def log(self, msg: str, frame_type: bytes | None = None) -> None: ...

        def log_error(self, lines: list[str]) -> None: ...


TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
JSON_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Telemetry frame types: a base type OR'ed with the level's mask (AWS's TLV protocol).
_LEVEL_MASKS = {0: 0, 10: 8, 20: 12, 30: 16, 40: 20, 50: 24}
JSON_FRAME_TYPES = {lv: (0xA55A0002 | m).to_bytes(4, "big") for lv, m in _LEVEL_MASKS.items()}
TEXT_FRAME_TYPES = {lv: (0xA55A0003 | m).to_bytes(4, "big") for lv, m in _LEVEL_MASKS.items()}
DEFAULT_FRAME_TYPE = TEXT_FRAME_TYPES[logging.NOTSET]

# LogRecord attributes that are not "extra" fields of a JSON record.
_RECORD_FIELDS = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "aws_request_id",
        "_frame_type",
    }
)
LAMBDA_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error "
    "correlates with a change in the runtime version, you may be able to mitigate this error "
    "by temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class RequestIdHolder:
    """The id of the invocation in progress, which every log record carries."""

    __slots__ = ("request_id",)

    def __init__(self) -> None:
        self.request_id = ""


class StdoutSink:
    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        if msg.endswith("\n"):
            msg = msg[:-1]
        sys.stdout.write(msg.replace("\n", "\r") + "\n")

    def log_error(self, lines: list[str]) -> None:
        sys.stdout.write("\r".join(lines).replace("\n", "\r") + "\n")


class TelemetrySink:
    """AWS's framed log protocol on an inherited descriptor."""

    def __init__(self, fd: int, error_frame_type: bytes) -> None:
        self._fd = fd
        self._error_frame_type = error_frame_type

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        data = msg.encode("utf-8")
        stamp = time.time_ns() // 1000
        frame = memoryview(
            (frame_type or DEFAULT_FRAME_TYPE)
            + len(data).to_bytes(4, "big")
            + stamp.to_bytes(8, "big")
            + data
        )
        while frame:
            frame = frame[os.write(self._fd, frame) :]

    def log_error(self, lines: list[str]) -> None:
        self.log("\n".join(lines), self._error_frame_type)


def level_bucket(record: logging.LogRecord) -> int:
    return min(50, max(0, record.levelno)) // 10 * 10


class JsonFormatter(logging.Formatter):
    """AWS's JSON log record: fixed fields first, then the record's extra attributes."""

    def __init__(self) -> None:
        super().__init__(datefmt=JSON_DATE_FORMAT)
        self._encode = json.JSONEncoder(ensure_ascii=False, default=str).encode

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = level_bucket(record)
        record.levelname = logging.getLevelName(record.levelno)
        record._frame_type = JSON_FRAME_TYPES.get(record.levelno, JSON_FRAME_TYPES[0])
        exc = record.exc_info
        message = (
            record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage()
        )
        doc: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": message,
            "logger": record.name,
            "stackTrace": _format_tb(exc),
            "errorType": exc[0].__name__ if exc and exc[0] else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in doc:
                doc[key] = value
        return self._encode({k: v for k, v in doc.items() if v is not None}) + "\n"


def _format_tb(exc: Any) -> list[str] | None:
    if not exc:
        return None
    return traceback.format_tb(exc[2])


class LambdaLogHandler(logging.Handler):
    def __init__(self, sink: LogSink, holder: RequestIdHolder, typed_frames: bool) -> None:
        super().__init__()
        self.log_sink = sink
        self._holder = holder
        self._typed_frames = typed_frames

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.aws_request_id = self._holder.request_id
            msg = self.format(record)
            frame_type = None
            if self._typed_frames:
                frame_type = getattr(record, "_frame_type", None) or TEXT_FRAME_TYPES.get(
                    level_bucket(record)
                )
            self.log_sink.log(msg, frame_type)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


class _Unbuffered:
    """Flushes after every write, as AWS's runtime wraps stdout and stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.stream, attr)

    def write(self, msg: str) -> int:
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, lines: Any) -> None:
        self.stream.writelines(lines)
        self.stream.flush()


def unbuffer_std_streams() -> None:
    if not isinstance(sys.stdout, _Unbuffered):
        sys.stdout = _Unbuffered(sys.stdout)
    if not isinstance(sys.stderr, _Unbuffered):
        sys.stderr = _Unbuffered(sys.stderr)


class FunctionLogger:
    """Owns the log sink and the root logger's Lambda handler for one runtime process."""

    def __init__(self, environ: Mapping[str, str], holder: RequestIdHolder) -> None:
        self.json = environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
        raw_level = environ.get("AWS_LAMBDA_LOG_LEVEL")
        level = {None: "", "TRACE": "DEBUG"}.get(raw_level, raw_level or "").upper()
        # A level logging knows (getLevelName answers its number); python3.10 has no
        # getLevelNamesMapping.
        self.level = level if isinstance(logging.getLevelName(level), int) else ""
        self.sink: LogSink = self._sink_for(environ) or StdoutSink()
        self._holder = holder
        self._handler: LambdaLogHandler | None = None

    def _sink_for(self, environ: Mapping[str, str]) -> LogSink | None:
        # AWS's runtimes consume the descriptor's variable so child processes don't see it.
        fd = environ.get("_LAMBDA_TELEMETRY_LOG_FD")
        os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD", None)
        if not fd:
            return None
        error_frames = JSON_FRAME_TYPES if self.json else TEXT_FRAME_TYPES
        return TelemetrySink(int(fd), error_frames[logging.ERROR])

    def retarget(self, environ: Mapping[str, str]) -> None:
        """After a fork: write to the new environment's telemetry descriptor, if it has one."""
        sink = self._sink_for(environ)
        if sink is not None:
            self.sink = sink
            if self._handler is not None:
                self._handler.log_sink = sink

    def install(self) -> None:
        """Attach to the root logger (once), with AWS's format and level."""
        if self._handler is not None:
            return
        logging.Formatter.converter = time.gmtime
        handler = LambdaLogHandler(self.sink, self._holder, self.json or bool(self.level))
        handler.setFormatter(
            JsonFormatter() if self.json else logging.Formatter(TEXT_FORMAT, TEXT_DATE_FORMAT)
        )
        root = logging.getLogger()
        if self.level:
            root.setLevel(self.level)
        root.addHandler(handler)
        self._handler = handler

    def log_error(self, error: ErrorDoc, encode: Callable[[Any], bytes]) -> None:
        """AWS's `[ERROR] Type: message` record (or its JSON form) for a function error."""
        if self.json:
            stamp = time.strftime(JSON_DATE_FORMAT, time.gmtime())
            doc = {"timestamp": stamp, "level": "ERROR", **error}
            self.sink.log_error([encode(doc).decode("utf-8")])
        else:
            self.sink.log_error(error_log_lines(error))
