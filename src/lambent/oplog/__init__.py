"""Operator logs: what the server itself says, on stderr, for whoever runs it.

Function logs (what a function prints, Lambda's platform lines) go to the log store and
the CloudWatch Logs API; these are the server's own: one line per event worth an
operator's attention (a signature failure, a throttle, a timeout, an OOM kill, an async
retry, ...), each with a stable `event` name and the request id where there is one, in
text or JSON (`lambent serve --log-format`). `access.py` adds the optional access log.

Everything goes through the stdlib `logging`, configured once from Settings
(`configure.py`); modules keep their `logging.getLogger(__name__)` and report events
with `event()`.
"""

from __future__ import annotations

import logging
from typing import Any


def event(
    logger: logging.Logger,
    level: int,
    name: str,
    msg: str,
    *args: object,
    exc_info: bool = False,
    **fields: Any,
) -> None:
    """Log one operator event: `name` (e.g. "function.timeout") and its fields become
    attributes of the record, hence keys of the JSON line. Fields that are None are left
    out."""
    if logger.isEnabledFor(level):
        extra = {k: v for k, v in fields.items() if v is not None}
        extra["event"] = name
        logger.log(level, msg, *args, exc_info=exc_info, extra=extra, stacklevel=2)
