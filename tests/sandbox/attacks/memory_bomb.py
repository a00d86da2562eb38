"""Allocate (and touch) more memory than the function has."""

from __future__ import annotations

import json
import os
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    blocks = []
    target = int(event.get("mb", 300))
    for _ in range(target):
        blocks.append(bytearray(1 << 20))  # zero-filled: every page is touched
        print(f"allocated {len(blocks)} MB", flush=True)
    return {"allocated_mb": len(blocks)}


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
