"""Try to read host files, write the code, and escape the root filesystem."""

from __future__ import annotations

import json
import os
from typing import Any


def _try_read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            fh.read(16)
        return "read"
    except OSError as err:
        return type(err).__name__


def _try_write(path: str) -> str:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("pwned")
        return "written"
    except OSError as err:
        return type(err).__name__


def _try_list(path: str) -> list[str] | str:
    try:
        return sorted(os.listdir(path))
    except OSError as err:
        return type(err).__name__


def handler(event: Any, context: Any) -> dict[str, Any]:
    probes = [
        *event.get("read", []),
        "/etc/shadow",
        "/etc/gshadow",
        "/root/.bash_history",
        "/proc/kcore",
        "/proc/1/root/etc/shadow",
    ]
    return {
        "read": {p: _try_read(p) for p in probes},
        "list": {p: _try_list(p) for p in event.get("list", [])},
        "write": {
            p: _try_write(p)
            for p in [
                "/var/task/app.py",
                "/var/task/new",
                "/usr/x",
                "/etc/passwd",
                "/opt/x",
                "/var/runtime/x",
                "/x",
            ]
        },
        "root": sorted(os.listdir("/")),
        "task_readable": _try_read("/var/task/attack.py"),
        "tmp_write": _try_write("/tmp/ok"),
        "passwd": open("/etc/passwd", encoding="utf-8").read(),
    }


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
