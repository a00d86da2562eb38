"""CloudWatch Logs filter patterns for unstructured events, compiled to a predicate.

Supported, as AWS documents them for FilterLogEvents:
- `ERROR Exception`: every term must occur (case-sensitive substring match);
- `"Task timed out"`: a quoted phrase is one term (backslash escapes a quote);
- `?ERROR ?WARN`: at least one of the ?-terms must occur;
- `ERROR -Exiting`: the event must not contain the -term;
- `%[0-9]{3} ms%`: a regular expression term;
- JSON patterns (`{ $.level = "ERROR" }`) are delegated to `json_patterns`.
An empty pattern matches every event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lambent.logs import json_patterns
from lambent.logs.errors import invalid_parameter

Matcher = Callable[[str], bool]


@dataclass
class TextPattern:
    required: list[Matcher] = field(default_factory=list)
    optional: list[Matcher] = field(default_factory=list)
    excluded: list[Matcher] = field(default_factory=list)

    def __call__(self, message: str) -> bool:
        if any(not m(message) for m in self.required):
            return False
        if any(m(message) for m in self.excluded):
            return False
        return not self.optional or any(m(message) for m in self.optional)


def _substring(term: str) -> Matcher:
    return lambda message: term in message


def _regex(source: str) -> Matcher:
    try:
        compiled = re.compile(source)
    except re.error as exc:
        raise invalid_parameter("Invalid filter pattern") from exc
    return lambda message: compiled.search(message) is not None


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The phrase starting after the quote at `start`, and the index past its closing quote."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise invalid_parameter("Invalid filter pattern: unterminated quoted term")


def _term(text: str, i: int) -> tuple[Matcher, int]:
    if text[i] == '"':
        phrase, end = _quoted(text, i)
        return _substring(phrase), end
    if text[i] == "%":
        close = text.find("%", i + 1)
        if close < 0:
            raise invalid_parameter("Invalid filter pattern: unterminated regular expression")
        return _regex(text[i + 1 : close]), close + 1
    end = i
    while end < len(text) and not text[end].isspace():
        end += 1
    return _substring(text[i:end]), end


def compile_pattern(pattern: str | None) -> Matcher:
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        return json_patterns.compile_json(text)
    if text.startswith("["):
        raise invalid_parameter("Space-delimited filter patterns are not supported by Lambent")
    compiled = TextPattern()
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        bucket = compiled.required
        if text[i] in "?-" and i + 1 < len(text) and not text[i + 1].isspace():
            bucket = compiled.optional if text[i] == "?" else compiled.excluded
            i += 1
        matcher, i = _term(text, i)
        bucket.append(matcher)
    return compiled
