"""Fork until the kernel refuses; report how many processes we got, then clean up."""

from __future__ import annotations

import errno
import json
import os
import signal
import time
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    children: list[int] = []
    error = None
    while len(children) < 100_000:
        try:
            pid = os.fork()
        except OSError as err:
            error = errno.errorcode.get(err.errno or 0, "?")
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pid in children:
        os.waitpid(pid, 0)
    return {"forked": len(children), "error": error}


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
