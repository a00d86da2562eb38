"""JSON filter patterns (`{ $.level = "ERROR" && $.latency > 100 }`) for JSON log events.

Selectors walk objects (`$.a.b`) and arrays (`$.items[0]`). Comparisons: `=` and `!=`
against strings (with `*` wildcards) or numbers, `<`, `<=`, `>`, `>=` against numbers,
`IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`; combined with `&&`, `||` and parentheses.
An event that is not a JSON object or array matches nothing, as in CloudWatch Logs.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from typing import Any

from lambent.logs.errors import invalid_parameter

Matcher = Callable[[str], bool]
Predicate = Callable[[Any], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
      | (?P<selector>\$(?:\.[A-Za-z0-9_\-@]+|\[\d+\])*)
      | "(?P<string>(?:[^"\\]|\\.)*)"
      | (?P<word>[^\s()=!<>&|"]+)
    )""",
    re.VERBOSE,
)
_MISSING = object()


def _tokens(body: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        m = _TOKEN.match(body, pos)
        if m is None or m.end() == pos:
            raise invalid_parameter("Invalid filter pattern")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value)
        out.append((kind, value))
        pos = m.end()
        while pos < len(body) and body[pos].isspace():
            pos += 1
    return out


def _select(doc: Any, selector: str) -> Any:
    for part in re.findall(r"\.([A-Za-z0-9_\-@]+)|\[(\d+)\]", selector):
        key, index = part
        if key:
            if not isinstance(doc, dict) or key not in doc:
                return _MISSING
            doc = doc[key]
        else:
            if not isinstance(doc, list) or int(index) >= len(doc):
                return _MISSING
            doc = doc[int(index)]
    return doc


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equals(value: Any, expected: str, quoted: bool) -> bool:
    number = None if quoted else _number(expected)
    if number is not None and _is_number(value):
        return float(value) == number
    if isinstance(value, str):
        return fnmatch.fnmatchcase(value, expected) if "*" in expected else value == expected
    return False


def _comparison(selector: str, op: str, kind: str, raw: str) -> Predicate:
    quoted = kind == "string"
    if op in ("=", "!="):
        negate = op == "!="

        def eq(doc: Any) -> bool:
            value = _select(doc, selector)
            if value is _MISSING:
                return False
            return _equals(value, raw, quoted) != negate

        return eq
    bound = _number(raw)
    if bound is None or quoted:
        raise invalid_parameter("Invalid filter pattern: numeric comparison needs a number")
    compare: dict[str, Callable[[float, float], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    fn = compare[op]

    def numeric(doc: Any) -> bool:
        value = _select(doc, selector)
        return _is_number(value) and fn(float(value), bound)

    return numeric


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> tuple[str, str] | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise invalid_parameter("Invalid filter pattern: unexpected end")
        self._pos += 1
        return token

    def parse(self) -> Predicate:
        pred = self._or()
        if self._peek() is not None:
            raise invalid_parameter("Invalid filter pattern")
        return pred

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == ("op", "||"):
            self._next()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda d: any(p(d) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._peek() == ("op", "&&"):
            self._next()
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else (lambda d: all(p(d) for p in parts))

    def _unary(self) -> Predicate:
        kind, value = self._next()
        if (kind, value) == ("op", "("):
            inner = self._or()
            if self._next() != ("op", ")"):
                raise invalid_parameter("Invalid filter pattern: missing ')'")
            return inner
        if kind != "selector":
            raise invalid_parameter("Invalid filter pattern: expected a $ selector")
        return self._condition(value)

    def _condition(self, selector: str) -> Predicate:
        kind, value = self._next()
        if kind == "word" and value.upper() in ("IS", "NOT"):
            _, what = self._next()
            return self._keyword(selector, value.upper(), what.upper())
        if kind != "op" or value in ("(", ")", "&&", "||"):
            raise invalid_parameter("Invalid filter pattern: expected a comparison")
        rkind, raw = self._next()
        if rkind not in ("string", "word"):
            raise invalid_parameter("Invalid filter pattern: expected a value")
        return _comparison(selector, value, rkind, raw)

    @staticmethod
    def _keyword(selector: str, verb: str, what: str) -> Predicate:
        if verb == "NOT" and what == "EXISTS":
            return lambda d: _select(d, selector) is _MISSING
        expected = {"NULL": None, "TRUE": True, "FALSE": False}
        if verb == "IS" and what in expected:
            target = expected[what]
            return lambda d: _select(d, selector) is target
        raise invalid_parameter("Invalid filter pattern")


def compile_json(pattern: str) -> Matcher:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise invalid_parameter("Invalid filter pattern")
    predicate = _Parser(_tokens(text[1:-1])).parse()

    def match(message: str) -> bool:
        head = message.lstrip()[:1]
        if head not in ("{", "["):
            return False  # cheap: most plain-text lines never reach the JSON parser
        try:
            doc = json.loads(message)
        except ValueError:
            return False
        if not isinstance(doc, dict | list):
            return False
        return predicate(doc)

    return match
