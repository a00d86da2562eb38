"""The leaf values an event has at a path, arrays flattened, as Event Ruler sees an event.

Event Ruler matches on the event's leaves: an array contributes each of its elements (an
array of objects is walked into), an object at the end of the path is no leaf, and an empty
array has no values. So `{"a": [{"b": 1}, {"b": 2}]}` has the values [1, 2] at ("a", "b").
"""

from __future__ import annotations

from typing import Any

Path = tuple[str, ...]


def values_at(event: Any, path: Path) -> list[Any]:
    current = [event]
    for step in path:
        nxt: list[Any] = []
        for node in current:
            if isinstance(node, dict) and step in node:
                _spread(node[step], nxt)
        if not nxt:
            return nxt
        current = nxt
    return [v for v in current if not isinstance(v, dict)]


def _spread(value: Any, into: list[Any]) -> None:
    if isinstance(value, list):
        for item in value:
            _spread(item, into)
    else:
        into.append(value)
