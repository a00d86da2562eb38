"""Open file descriptors until the kernel says no."""

from __future__ import annotations

import errno
import json
import os
import resource
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    fds: list[int] = []
    error = None
    try:
        while len(fds) < 100_000:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as err:
        error = errno.errorcode.get(err.errno or 0, "?")
    raised = "ok"
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    except (OSError, ValueError) as err:
        raised = type(err).__name__
    count = len(fds)
    for fd in fds:
        os.close(fd)
    return {
        "opened": count,
        "error": error,
        "limit": resource.getrlimit(resource.RLIMIT_NOFILE),
        "raise_limit": raised,
    }


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
