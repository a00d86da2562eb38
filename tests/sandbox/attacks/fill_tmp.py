"""Fill /tmp until the filesystem refuses; leave (or look for) a marker file."""

from __future__ import annotations

import errno
import json
import os
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    seen = sorted(os.listdir("/tmp"))
    marker = event.get("marker")
    if marker:
        with open(f"/tmp/{marker}", "w", encoding="utf-8") as fh:
            fh.write("secret")
    written = 0
    error = None
    chunk = b"\xa5" * (1 << 20)
    limit = int(event.get("limit_mb", 1 << 20)) << 20
    try:
        with open("/tmp/fill", "wb") as fh:
            while written < limit:
                written += fh.write(chunk)
                fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        error = errno.errorcode.get(err.errno or 0, "?")
    stat = os.statvfs("/tmp")
    if event.get("cleanup", True):
        os.unlink("/tmp/fill")
    return {
        "seen": seen,
        "written_mb": written / (1 << 20),
        "error": error,
        "size_mb": stat.f_blocks * stat.f_frsize / (1 << 20),
    }


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
