"""The one error the engine raises: a pattern that is not valid, and why."""

from __future__ import annotations


class PatternError(ValueError):
    """`reason` is Event Ruler's wording (e.g. "prefix match pattern must be a string");
    services put it in their own message, e.g. EventBridge's "Event pattern is not valid.
    Reason: <reason>"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
