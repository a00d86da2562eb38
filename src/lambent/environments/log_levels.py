"""Application log-level filtering, as Lambda applies it to a function's output.

With the JSON log format, Lambda itself drops application log lines below the function's
`ApplicationLogLevel` (on top of whatever the runtime filters). A line's level is its
JSON object's `"level"` (any case; `WARNING` and `CRITICAL`, Python's names, count as WARN
and FATAL) when the object also has a valid RFC 3339 `"timestamp"` (or `"time"`); any other
line, plain text included, is INFO. So with ApplicationLogLevel WARN a `print()` disappears,
as it does on AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

TRACE, DEBUG, INFO, WARN, ERROR, FATAL = range(6)
APPLICATION_LEVELS = {
    "TRACE": TRACE,
    "DEBUG": DEBUG,
    "INFO": INFO,
    "WARN": WARN,
    "WARNING": WARN,
    "ERROR": ERROR,
    "FATAL": FATAL,
    "CRITICAL": FATAL,
}
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_decode = json.JSONDecoder().decode

LineFilter = Callable[[list[str]], list[str]]


def line_level(line: str) -> int:
    """The level Lambda assigns one line of application output."""
    if not line.startswith("{"):
        return INFO
    try:
        doc = _decode(line)
    except ValueError:
        return INFO
    if not isinstance(doc, dict):
        return INFO
    level = doc.get("level")
    stamp = doc.get("timestamp", doc.get("time"))
    if not isinstance(level, str) or not isinstance(stamp, str) or not _RFC3339.fullmatch(stamp):
        return INFO
    return APPLICATION_LEVELS.get(level.upper(), INFO)


def application_filter(log_format: str, level: str | None) -> LineFilter | None:
    """The filter for a function's output lines; None when nothing is filtered (the Text
    format, which has no levels, or ApplicationLogLevel TRACE, which keeps everything)."""
    if log_format.upper() != "JSON":
        return None
    minimum = APPLICATION_LEVELS.get((level or "INFO").upper(), INFO)
    if minimum == TRACE:
        return None

    def keep(lines: list[str]) -> list[str]:
        return [line for line in lines if line_level(line) >= minimum]

    return keep
