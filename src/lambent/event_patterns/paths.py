"""The leaf values an event has at a path, arrays flattened, as Event Ruler sees an event.

Event Ruler matches on the event's leaves: an array contributes each of its elements (an
array of objects is walked into), an object at the end of the path is no leaf, and an empty
array has no values. So `{"a": [{"b": 1}, {"b": 2}]}` has the values [1, 2] at ("a", "b").
"""

from __future__ import annotations

from typing import Any

Path = tuple[str, ...]


_MISSING = object()


def values_at(event: Any, path: Path) -> list[Any]:
    # Fast path: objects all the way down (most events, most paths): no lists to build.
    node = event
    for i, step in enumerate(path):
        if type(node) is dict:
            node = node.get(step, _MISSING)
            if node is _MISSING:
                return []
        elif type(node) is list:
            return _walk(node, path[i:])
        else:
            return []
    if type(node) is list:
        flat: list[Any] = []
        _spread(node, flat)
        return [v for v in flat if not isinstance(v, dict)]
    return [] if type(node) is dict else [node]


def _walk(event: Any, path: Path) -> list[Any]:
    current: list[Any] = []
    _spread(event, current)
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
