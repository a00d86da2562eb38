"""Wildcard patterns, as EventBridge reads them."""

from __future__ import annotations

import re

from lambent.event_patterns.errors import PatternError


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """`*` is any run of characters; `\\*` and `\\\\` escape; `**` is refused, as AWS does."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
            if nxt not in ("*", "\\"):
                raise PatternError(f"Invalid escape character at pos {i + 1}")
            out.append(re.escape(nxt))
            i += 2
            continue
        if ch == "*":
            if i + 1 < len(pattern) and pattern[i + 1] == "*":
                raise PatternError(f"Consecutive wildcard characters at pos {i + 1}")
            out.append(".*")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)
