"""Set up the server's logging once, from Settings: level, text or JSON, the access log.

Text:  2026-01-02T03:04:05.678Z WARNING lambent.auth: signature mismatch [auth.failed]
       request_id=... access_key_id=AKIA...
JSON:  {"time":"2026-01-02T03:04:05.678Z","level":"WARNING","logger":"lambent.auth",
        "event":"auth.failed","message":"signature mismatch","request_id":"...",...}
(each one line). Both carry every field an event was logged with.

The access log (`access.py`) writes its own lines in the same formats, whatever
`--log-level` says: `--log-level warning --access-log` keeps the access lines.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

from lambent.clock import iso_ms
from lambent.settings import OperatorLogSettings

# Attributes every LogRecord has; anything else on a record is an event field.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "event"}
)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The event's fields: what the record carries beyond the standard attributes, less
    formatting hints (names starting with `_`)."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k[0] != "_"}


class JsonFormatter(logging.Formatter):
    """One compact JSON object per record."""

    def __init__(self) -> None:
        super().__init__()
        self._encode = json.JSONEncoder(
            separators=(",", ":"), ensure_ascii=False, default=str
        ).encode

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": iso_ms(record.created),
            "level": record.levelname,
            "logger": record.name,
        }
        name = getattr(record, "event", None)
        if name is not None:
            doc["event"] = name
        doc["message"] = record.getMessage()
        doc.update(_fields(record))
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return self._encode(doc)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [event] key=value ...` on one line (a traceback, if
    any, follows on its own lines). An access line is its message alone."""

    def format(self, record: logging.LogRecord) -> str:
        head = f"{iso_ms(record.created)} {record.levelname} {record.name}:"
        parts = [head, record.getMessage()]
        if not getattr(record, "_brief", False):
            name = getattr(record, "event", None)
            if name is not None:
                parts.append(f"[{name}]")
            parts.extend(f"{k}={v}" for k, v in _fields(record).items())
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def formatter_for(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure(settings: OperatorLogSettings, stream: TextIO | None = None) -> None:
    """Route every logger to `stream` (stderr) in the chosen format; call once at start.
    (The access log writes on its own: `access.py`.)"""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter_for(settings.format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level.upper())
