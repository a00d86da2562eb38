"""Spin for a while: how much CPU does the function get?"""

from __future__ import annotations

import json
import os
import time
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    wall = float(event.get("seconds", 1.0))
    print("spinning", flush=True)
    started = time.monotonic()
    cpu0 = time.process_time()
    n = 0
    while time.monotonic() - started < wall:
        n += 1
    return {"cpu_s": time.process_time() - cpu0, "wall_s": time.monotonic() - started}


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
