"""Who am I inside? uid/gid, capabilities, no_new_privs, seccomp mode, hostname, pid."""

from __future__ import annotations

import json
import os
import socket
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    status: dict[str, str] = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    return {
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "caps": {k: status[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
        "no_new_privs": status.get("NoNewPrivs"),
        "seccomp": status.get("Seccomp"),
        "nofile": open("/proc/self/limits", encoding="ascii").read().count("Max open files"),
        "uid_map": open("/proc/self/uid_map", encoding="ascii").read().split(),
        "env_runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
        "cwd": os.getcwd(),
    }


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
