"""Filter-pattern matching (text and JSON) as CloudWatch Logs defines it: pure logic."""

from __future__ import annotations

import pytest

from lambent.errors import ClientError
from lambent.logs.patterns import compile_pattern


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ("   ", "anything", True),
        (None, "anything", True),
        ("ERROR", "[ERROR] boom", True),
        ("ERROR", "error boom", False),
        ("ERROR boom", "boom ERROR", True),
        ("ERROR boom", "ERROR bang", False),
        ("?ERROR ?WARN", "WARN low disk", True),
        ("?ERROR ?WARN", "INFO fine", False),
        ('"Task timed out"', "2024 Task timed out after 3.00 seconds", True),
        ('"Task timed out"', "Task  timed out", False),
        ('"say \\"hi\\""', 'they say "hi" loudly', True),
        ("ERROR -retrying", "ERROR retrying now", False),
        ("ERROR -retrying", "ERROR giving up", True),
        ('-"health check"', "GET /healthcheck", True),
        ('-"health check"', "a health check ran", False),
        ("?ERROR ?WARN -ignored", "WARN ignored", False),
        ("REPORT ?Init ?Restore", "REPORT Duration: 1 ms Init Duration: 2 ms", True),
        ("REPORT ?Init ?Restore", "REPORT Duration: 1 ms", False),
        ('?"Out of memory" ?OOM', "Runtime exited: Out of memory", True),
        ("%[0-9]{3} ms%", "took 250 ms", True),
        ("%[0-9]{3} ms%", "took 25 ms", False),
        ("%a b%", "xa by", True),
        ("-", "a - b", True),
    ],
)
def test_text_patterns(pattern: str | None, message: str, expected: bool) -> None:
    assert compile_pattern(pattern)(message) is expected


DOC = '{"level":"ERROR","latency":250,"ok":false,"none":null,"user":{"id":"u-17"},"tags":["a","b"]}'


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.level = "ERROR" }', True),
        ("{ $.level = ERROR }", True),
        ('{ $.level != "ERROR" }', False),
        ('{ $.level = "ERR*" }', True),
        ('{ $.level = "WARN" || $.latency >= 250 }', True),
        ('{ $.level = "WARN" || $.latency > 250 }', False),
        ('{ ($.latency < 300) && ($.user.id = "u-1*") }', True),
        ('{ $.tags[1] = "b" }', True),
        ('{ $.tags[5] = "b" }', False),
        ("{ $.latency = 250 }", True),
        ('{ $.latency = "250" }', False),
        ("{ $.ok IS FALSE }", True),
        ("{ $.ok IS TRUE }", False),
        ("{ $.none IS NULL }", True),
        ("{ $.missing NOT EXISTS }", True),
        ("{ $.level NOT EXISTS }", False),
        ('{ $.missing != "x" }', False),
        ('{ $.user = "u-17" }', False),
    ],
)
def test_json_patterns(pattern: str, expected: bool) -> None:
    assert compile_pattern(pattern)(DOC) is expected


def test_json_pattern_ignores_non_json_events() -> None:
    match = compile_pattern('{ $.level = "ERROR" }')
    assert not match("ERROR not json")
    assert not match('"just a string"')


@pytest.mark.parametrize(
    "pattern",
    [
        '"unterminated',
        "%[unclosed%",
        "%open",
        "{ $.a = }",
        "{ $.a > x }",
        "{ a = 1 }",
        "{ $.a = 1 ",
        "{ ($.a = 1 }",
        "{ $.a IS MAYBE }",
        "[ip, user]",
    ],
)
def test_invalid_patterns_are_invalid_parameter(pattern: str) -> None:
    with pytest.raises(ClientError) as err:
        compile_pattern(pattern)
    assert err.value.code == "InvalidParameterException"
