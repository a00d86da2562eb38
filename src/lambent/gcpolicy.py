"""The cyclic garbage collector, set for a long-running server with a large start-up heap.

A full (generation 2) collection walks every tracked object while holding the event loop.
After start the server holds ~66,000 of them (botocore's service models, compiled routes,
modules), and one full collection took 37-46 ms on a busy 2-core machine: a stall of every
request in flight (issue 8 §1.6). Those objects live as long as the process, so once the
server has started they go to the permanent generation (`gc.freeze()`), which collections
never walk: a later full collection walks only what was allocated since. Reference counting
still frees frozen objects; only a reference cycle among them would outlive its last use.
"""

from __future__ import annotations

import gc

# How many objects start-up froze. Kept here because `gc.get_freeze_count()` walks the
# permanent generation's list: ~4 ms for 44,000 objects, too long for a stats request.
_frozen = 0


def freeze_startup_heap() -> int:
    """Collect once, then freeze what survives. Returns how many objects were frozen."""
    global _frozen
    gc.collect()
    gc.freeze()
    _frozen = gc.get_freeze_count()
    return _frozen


def frozen_at_start() -> int:
    """Objects frozen by `freeze_startup_heap` (0 in a process that never called it)."""
    return _frozen
